"""Column kernels side by side: the tridiagonal (Thomas) solve and omega from continuity.

    python -m stencilpy.bench.columns [--shape 80x1024x1024] [--small 80x64x64]
                                      [--threads 1,2] [--repeats 5]
    (python -m benchmarks.columns ... works too)

Implementations (float64, arrays (lev, lat, lon), C-contiguous), each writing into a
preallocated output:

* ``numpy loop`` -- a Python loop over levels, vectorised over (lat, lon) (one thread);
* ``stencilpy``  -- the sweeps compiled (``codegen/columns.py``: blocks of columns, the level
  loop outermost per block, SIMD over the fastest axis, threads over blocks), ``threads=N``;
* ``numba``      -- ``@njit(parallel=True)``: ``prange`` over lat rows, levels, then lon;
* ``C OpenMP``   -- ``c/columns.c`` (``gcc -O3 -march=native -fopenmp``), same order; gcc
  contracts ``b - a * cp`` into fused multiply-adds (GNU C's default), which stencilpy must
  not do (its results round as NumPy's do), so ``C no FMA`` is the same source built with
  ``-ffp-contract=off`` as well: the same arithmetic as stencilpy;
* ``C no divide`` (tridiagonal) -- ``C OpenMP``'s loops with multiplications for its two
  divisions per point: the same loads and stores in the same order without the divider, the
  time the sweep's memory traffic alone takes (it computes no solution and is not checked);
* ``copy bound`` -- the time ``c/copy.c`` (same threads) takes to move the bytes the kernel
  must move: one copy reads an array and writes one, so tridiagonal (4 arrays read, 1
  written) is 2.5 copies, omega (2 read, 1 written) 1.5 copies.

Every implementation computes the same points: all of them, omega with "edge" boundaries
along lat and lon (a neighbour outside the grid is the nearest point inside: C and numba
clamp ``lat +- 1`` and ``lon +- 1``, the numpy loop pads ``u`` and ``v`` once with
``np.pad(mode="edge")``, stencilpy is called with ``boundary={"lat": "edge", "lon": "edge"}``),
and each is checked against the numpy loop on every point (1e-12 relative) before it is
timed.  Times are medians of ``--repeats`` interleaved rounds (``timing.round_robin``) of
batches of back-to-back calls lasting at least ``BATCH_SECONDS`` (a single call at the large
size), each after a ``SETTLE_SECONDS`` pause.  The large shape is
shrunk along lat when the arrays would not fit in the memory available now (printed).
"""
from __future__ import annotations

import argparse
import gc
import os

import numpy as np

import stencilpy as sp

from . import stencils
from .timing import calibrate, median, round_robin, set_omp_wait_policy

#: the divide-free C loops' row (tridiagonal)
NO_DIVIDE = "C no divide"
#: shortest timed batch of back-to-back calls (seconds; one call where a call takes longer)
BATCH_SECONDS = 0.02
#: pause before each batch (seconds): OpenMP's and numba's threads spin for a few ms after
#: a call, competing with the next implementation's threads on a 2-core machine
SETTLE_SECONDS = 0.01
#: arrays alive at once in the tridiagonal case (4 inputs, the reference, the output, numpy's
#: two temporaries)
ARRAYS_AT_ONCE = 8


thomas_sp = sp.stencil(dims=stencils.DIMS)(stencils.thomas)
omega_sp = sp.stencil(dims=stencils.DIMS)(stencils.omega)


def thomas_numpy(a, b, c, d, x):
    n = d.shape[0]
    cp, dp = np.empty_like(d), np.empty_like(d)
    cp[0], dp[0] = c[0] / b[0], d[0] / b[0]
    for k in range(1, n):
        m = b[k] - a[k] * cp[k - 1]
        cp[k], dp[k] = c[k] / m, (d[k] - a[k] * dp[k - 1]) / m
    x[-1] = dp[-1]
    for k in range(n - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]
    return x


def omega_numpy(u, v, p, dx, dy, w):
    """Every lat/lon point, "edge" boundaries (u padded along lon, v along lat once, as a
    NumPy user would; the same points stencilpy, C and numba compute)."""
    up = np.pad(u, ((0, 0), (0, 0), (1, 1)), mode="edge")
    vp = np.pad(v, ((0, 0), (1, 1), (0, 0)), mode="edge")
    prev = None
    for k in range(u.shape[0]):
        div = (up[k, :, 2:] - up[k, :, :-2]) / (2.0 * dx) \
            + (vp[k, 2:, :] - vp[k, :-2, :]) / (2.0 * dy)
        w[k] = 0.0 * div if k == 0 else w[k - 1] - 0.5 * (div + prev) * (p[k] - p[k - 1])
        prev = div
    return w


def _numba_kernels():
    import numba

    @numba.njit(parallel=True, fastmath=False)
    def thomas_nb(a, b, c, d, x):
        nz, ny, nx = d.shape
        for j in numba.prange(ny):
            cp = np.empty((nz, nx))
            dp = np.empty((nz, nx))
            for i in range(nx):
                cp[0, i] = c[0, j, i] / b[0, j, i]
                dp[0, i] = d[0, j, i] / b[0, j, i]
            for k in range(1, nz):
                for i in range(nx):
                    m = b[k, j, i] - a[k, j, i] * cp[k - 1, i]
                    cp[k, i] = c[k, j, i] / m
                    dp[k, i] = (d[k, j, i] - a[k, j, i] * dp[k - 1, i]) / m
            for i in range(nx):
                x[nz - 1, j, i] = dp[nz - 1, i]
            for k in range(nz - 2, -1, -1):
                for i in range(nx):
                    x[k, j, i] = dp[k, i] - cp[k, i] * x[k + 1, j, i]

    @numba.njit(parallel=True, fastmath=False)
    def omega_nb(u, v, p, w, dx, dy):
        nz, ny, nx = u.shape
        for j in numba.prange(ny):
            jm, jp = max(j - 1, 0), min(j + 1, ny - 1)
            divm = np.empty(nx)
            div = np.empty(nx)
            for k in range(nz):
                for i in (0, nx - 1):                       # the edges: lon -/+ 1 clamped
                    div[i] = (u[k, j, min(i + 1, nx - 1)] - u[k, j, max(i - 1, 0)]) / (2.0 * dx) \
                        + (v[k, jp, i] - v[k, jm, i]) / (2.0 * dy)
                for i in range(1, nx - 1):
                    div[i] = (u[k, j, i + 1] - u[k, j, i - 1]) / (2.0 * dx) \
                        + (v[k, jp, i] - v[k, jm, i]) / (2.0 * dy)
                if k == 0:
                    for i in range(nx):
                        w[k, j, i] = 0.0 * div[i]
                else:
                    for i in range(nx):
                        w[k, j, i] = w[k - 1, j, i] - 0.5 * (div[i] + divm[i]) * (p[k] - p[k - 1])
                divm, div = div, divm
    return numba, thomas_nb, omega_nb


def available_bytes() -> int:
    """MemAvailable of /proc/meminfo (a large number where it cannot be read)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def fitting_shape(shape, arrays: int = ARRAYS_AT_ONCE, share: float = 0.5):
    """``shape`` with lat halved until ``arrays`` float64 arrays take at most ``share`` of
    the memory available now."""
    nz, ny, nx = shape
    while ny > 1 and arrays * nz * ny * nx * 8 > share * available_bytes():
        ny //= 2
    return nz, ny, nx


def _ptr(arr):
    return arr.ctypes.data


def _tools():
    """The C library (None without gcc) and ``(numba, (thomas, omega))`` (None without
    numba)."""
    from . import kernels_c
    from .impl import Unavailable
    try:
        lib = kernels_c.library()
        lib.nofma = kernels_c.library(("-ffp-contract=off",))
    except Unavailable as exc:
        print(f"C skipped: {exc}")
        lib = None
    try:
        numba, thomas_nb, omega_nb = _numba_kernels()
    except ImportError:
        return lib, None
    return lib, (numba, (thomas_nb, omega_nb))


def run_case(name, shape, threads, repeats, lib, nb):
    """Rows ``(case, impl, threads, median seconds)`` of one case on ``shape``."""
    rng = np.random.default_rng(0)
    nz, ny, nx = shape
    dx = dy = 5e4
    if name == "tridiagonal":
        a, c = -rng.random(shape), -rng.random(shape)
        b, d = 3.0 + rng.random(shape), rng.random(shape)
        want = thomas_numpy(a, b, c, d, np.empty(shape))
        copies = 2.5
        numpy_run = lambda out: thomas_numpy(a, b, c, d, out)               # noqa: E731
        sp_run = lambda out, t: thomas_sp(a, b, c, d, out=out, threads=t)   # noqa: E731
        nb_run = (lambda out: nb[1][0](a, b, c, d, out)) if nb else None
        c_run = (lambda out, t, lib=lib: lib.thomas_f64(_ptr(a), _ptr(b), _ptr(c), _ptr(d),
                                                        _ptr(out), nz, ny, nx, t)) if lib else None
        # C's loops with multiplications for its divisions: the sweep's memory traffic alone
        bound_run = (lambda out, t: lib.thomas_nodiv_f64(_ptr(a), _ptr(b), _ptr(c), _ptr(d),
                                                         _ptr(out), nz, ny, nx, t)) if lib else None
    else:
        u, v = rng.standard_normal(shape), rng.standard_normal(shape)
        p = np.linspace(1e4, 1e5, nz)
        p3 = np.ascontiguousarray(p[:, None, None])
        want = omega_numpy(u, v, p, dx, dy, np.zeros(shape))
        copies = 1.5
        edge = {"lat": "edge", "lon": "edge"}
        numpy_run = lambda out: omega_numpy(u, v, p, dx, dy, out)           # noqa: E731
        sp_run = lambda out, t: omega_sp(u, v, p3, dx, dy, boundary=edge,   # noqa: E731
                                         out=out, threads=t)
        nb_run = (lambda out: nb[1][1](u, v, p, out, dx, dy)) if nb else None
        c_run = (lambda out, t, lib=lib: lib.omega_f64(_ptr(u), _ptr(v), _ptr(p), _ptr(out),
                                                       nz, ny, nx, dx, dy, t)) if lib else None
        bound_run = None
    out = np.zeros(shape)
    src = a if name == "tridiagonal" else u            # the copy bound: input -> output
    dst = out
    runs = {("numpy loop", 1): lambda: numpy_run(out)}
    for t in threads:
        runs[("stencilpy", t)] = lambda t=t: sp_run(out, t)
        if nb_run:
            def numba_run(t=t):
                nb[0].set_num_threads(t)
                nb_run(out)
            runs[("numba parallel", t)] = numba_run
        if c_run:
            runs[("C OpenMP", t)] = lambda t=t: c_run(out, t)
            runs[("C no FMA", t)] = lambda t=t: c_run(out, t, lib.nofma)
            runs[("copy bound", t)] = lambda t=t: lib.copy_f64(_ptr(src), _ptr(dst),
                                                               src.size, t)
        if bound_run:
            runs[(NO_DIVIDE, t)] = lambda t=t: bound_run(out, t)
    for key, run in runs.items():
        if key[0] in ("copy bound", NO_DIVIDE):            # bounds: they compute no solution
            run()
            continue
        out[...] = 0.0
        run()
        scale = np.max(np.abs(want))
        np.testing.assert_allclose(out, want, rtol=1e-12, atol=1e-12 * scale,
                                   err_msg=f"{name}: {key}")
    del want
    # back-to-back calls of one implementation per timed batch (at least BATCH_SECONDS:
    # one call of the in-cache size, timed alone after a pause, mostly measures how fast
    # the threads and the core wake up), SETTLE_SECONDS of pause between batches
    batches = {k: (r, calibrate(r, BATCH_SECONDS)) for k, r in runs.items()}
    times = round_robin(batches, repeats, settle=SETTLE_SECONDS)
    rows = []
    for (impl, t), samples in times.items():
        m = median(samples) * (copies if impl == "copy bound" else 1.0)
        rows.append((name, impl, t, m))
    return rows


def print_table(shape, rows) -> None:
    nz, ny, nx = shape
    print(f"\nshape {nz}x{ny}x{nx} float64 ({nz * ny * nx * 8 / 2**20:.0f} MiB per array), "
          f"medians")
    print(f"{'case':<12s} {'implementation':<16s} {'thr':>3s} {'ms':>9s} {'x numpy':>8s} "
          f"{'C/this':>7s} {'noFMA/this':>10s} {'numba/this':>10s} {'nodiv/this':>10s} "
          f"{'bound/this':>10s}")
    by = {(c, i, t): m for c, i, t, m in rows}
    for case, impl, t, m in rows:
        base = by[(case, "numpy loop", 1)]
        ratio = lambda other: f"{by[(case, other, t)] / m:.2f}" if (case, other, t) in by \
            else "-"                                                        # noqa: E731
        print(f"{case:<12s} {impl:<16s} {t:>3d} {m * 1e3:9.2f} {base / m:8.1f} "
              f"{ratio('C OpenMP'):>7s} {ratio('C no FMA'):>10s} {ratio('numba parallel'):>10s} "
              f"{ratio(NO_DIVIDE):>10s} {ratio('copy bound'):>10s}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="80x1024x1024", help="lev x lat x lon (float64)")
    ap.add_argument("--small", default="80x64x64", help="an in-cache shape ('' to skip)")
    ap.add_argument("--threads", default="1,2", help="thread counts, comma-separated")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--cases", default="tridiagonal,omega")
    args = ap.parse_args(argv)
    threads = [int(t) for t in args.threads.split(",")]
    shapes = [tuple(int(n) for n in s.split("x")) for s in (args.small, args.shape) if s]
    # idle OpenMP threads (C's, numba's omp layer) sleep instead of spinning, as in
    # ``stencilpy bench``; before libgomp is loaded.  Spinning, they slowed the next
    # implementation's 1-thread calls despite the pause between batches (Thomas
    # 80x1024x1024 on 1 thread, Zen 4: stencilpy 312-317 ms beside C's 239-243 with them
    # spinning, 270 beside 251 without)
    omp_note = set_omp_wait_policy()
    lib, nb = _tools()
    print(f"cpu: {os.cpu_count()} logical cores; MemAvailable {available_bytes() / 2**30:.1f} GiB;"
          f" {omp_note}")
    print("every implementation computes every point (omega: 'edge' boundaries along lat and "
          "lon), checked against the numpy loop; times: batches of back-to-back calls "
          f">= {BATCH_SECONDS * 1e3:.0f} ms")
    for shape in shapes:
        fit = fitting_shape(shape)
        if fit != shape:
            print(f"{'x'.join(map(str, shape))} does not fit in the memory available now "
                  f"({ARRAYS_AT_ONCE} arrays): running {'x'.join(map(str, fit))}")
        rows = []
        for case in args.cases.split(","):
            rows += run_case(case, fit, threads, args.repeats, lib, nb)
            gc.collect()
        print_table(fit, rows)


if __name__ == "__main__":
    main()
