"""The gain of hoisting row-invariant terms (``codegen/hoist.py``), in one run:
``python -m stencilpy.bench.invariant [NLEV NLAT NLON] [--threads N] [--repeats R]``.

The user's stencil of issue 18: ``287 * t * log(p / p[level + 1])`` with a 1-D pressure
``p(level)`` broadcast over ``(lat, lon)``.  Times, interleaved (medians): the kernel compiled
without hoisting, with it, and hand-written numpy with the log precomputed (what the user did
by hand).  Both kernels are checked against numpy first.
"""
import argparse
import statistics
import time

import numpy as np

import stencilpy as sp
from stencilpy.codegen import hoist


def geopotential(t, p):
    return 287.0 * t[0, 0, 0] * sp.log(p[0, 0, 0] / p[1, 0, 0])


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m stencilpy.bench.invariant")
    ap.add_argument("shape", type=int, nargs="*", default=[64, 128, 256])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=11)
    opts = ap.parse_args(argv)
    nl, ny, nx = opts.shape
    t = np.random.default_rng(0).uniform(200.0, 300.0, (nl, ny, nx))
    p = np.linspace(1000.0, 100.0, nl)[:, None, None]
    want = np.full_like(t, np.nan)
    want[:-1] = 287.0 * t[:-1] * np.log(p[:-1] / p[1:])
    kernels, saved = {}, hoist.ENABLED
    try:
        for enabled in (False, True):            # the flag is part of the kernel's fingerprint
            hoist.ENABLED = enabled
            k = sp.stencil(geopotential)
            np.testing.assert_allclose(k(t, p)[:-1], want[:-1], rtol=1e-13)
            kernels["not hoisted" if not enabled else "hoisted"] = k
    finally:
        hoist.ENABLED = saved
    out = np.empty_like(t)
    log_ratio = np.log(p[:-1] / p[1:])

    def by_hand():
        np.multiply(t[:-1], log_ratio, out=out[:-1])
        out[:-1] *= 287.0

    runs = {name: (lambda k=k: k(t, p, out=out, threads=opts.threads))
            for name, k in kernels.items()}
    runs["numpy, log precomputed"] = by_hand
    times = {name: [] for name in runs}
    for _ in range(opts.repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - t0)
    med = {name: statistics.median(v) for name, v in times.items()}
    print(f"287 * t * log(p / p[level + 1]), {nl}x{ny}x{nx} float64, {opts.threads} thread(s), "
          f"median of {opts.repeats}:")
    for name, m in med.items():
        print(f"  {name:24s} {m * 1e3:8.2f} ms")
    print(f"  hoisting gain: {med['not hoisted'] / med['hoisted']:.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
