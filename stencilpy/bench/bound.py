"""Is a one-thread Laplacian at the copy bound?  Times, in one process and interleaved, the C
Laplacian, the stencilpy Laplacian, ``np.copyto`` of the same array and a stencilpy copy
stencil (``return u[0, 0]``): the Laplacian reads and writes the same bytes as the copies,
so it cannot be faster than them.

    python -m stencilpy.bench.bound 1024x1024 float32
    python -m stencilpy.bench.bound 128x128x128 float64 --repeats 31
"""

from __future__ import annotations

import argparse

import numpy as np

from .timing import calibrate, median, round_robin, set_omp_wait_policy


def lap2d(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def lap3d(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


def copy2d(u):
    return u[0, 0]


def copy3d(u):
    return u[0, 0, 0]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("shape", help="e.g. 1024x1024 or 128x128x128")
    p.add_argument("dtype", nargs="?", default="float64")
    p.add_argument("--repeats", type=int, default=21)
    args = p.parse_args(argv)
    set_omp_wait_policy()
    import stencilpy as sp
    from . import kernels_c

    shape = tuple(int(x) for x in args.shape.split("x"))
    u = np.random.default_rng(0).random(shape).astype(args.dtype)
    outs = [np.zeros_like(u) for _ in range(4)]
    lap, cp = (sp.stencil(lap2d), sp.stencil(copy2d)) if u.ndim == 2 else \
        (sp.stencil(lap3d), sp.stencil(copy3d))
    runs = {"C laplacian": kernels_c.load().binders[f"lap{u.ndim}d"]((u,), outs[0], 1),
            "stencilpy laplacian": lambda: lap(u, out=outs[1], threads=1),
            "numpy copyto": lambda: np.copyto(outs[2], u),
            "stencilpy copy": lambda: cp(u, out=outs[3], threads=1)}
    for run in runs.values():
        run()
    inner = slice(1, -1)
    np.testing.assert_allclose(outs[1][(inner,) * u.ndim], outs[0][(inner,) * u.ndim],
                               atol=1e-5 if u.dtype == np.float32 else 1e-12)
    times = round_robin({k: (r, calibrate(r, 0.05)) for k, r in runs.items()}, args.repeats)
    base = median(times["C laplacian"])
    print(f"{args.shape} {args.dtype}, 1 thread, median of {args.repeats} interleaved repeats")
    for key, samples in times.items():
        m = median(samples)
        print(f"  {key:20s} {1e3 * m:8.3f} ms  {2 * u.nbytes / m / 1e9:5.1f} GB/s  "
              f"{m / base:.2f}x C")


if __name__ == "__main__":
    main()
