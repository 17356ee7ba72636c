"""Column kernels side by side: the tridiagonal (Thomas) solve and omega from continuity.

    python -m benchmarks.columns [--shape 80x1024x1024] [--threads N] [--repeat 3]

Implementations (float64, arrays (lev, lat, lon), C-contiguous):

* ``stencilpy``  -- the same sweeps compiled (``codegen/columns.py``: a straightforward,
  single-threaded lowering with box-sized temporaries), and on the numpy reference backend
  (``backend="numpy"``: vectorised over (lat, lon), one level at a time);
* ``numpy loop`` -- a Python loop over levels, vectorised over (lat, lon);
* ``numba``      -- ``@njit(parallel=True)``: ``prange`` over lat rows, levels, then lon;
* ``C OpenMP``   -- ``benchmarks/columns.c`` (``gcc -O3 -march=native -fopenmp``), same order.

Every implementation is checked against the numpy loop (interior lat/lon points for omega)
before it is timed.  Times are the best of ``--repeat`` runs.
"""
from __future__ import annotations

import argparse
import ctypes
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

import stencilpy as sp


@sp.stencil(dims=("lev", "lat", "lon"), backend="numpy")
def thomas_sp(a, b, c, d):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            cp = c / b
            dp = d / b
        with sp.levels(1, None):
            m = b - a * cp[lev - 1]
            cp = c / m
            dp = (d - a * dp[lev - 1]) / m
    with sp.backward("lev"):
        with sp.levels(-1, None):
            x = dp
        with sp.levels(0, -1):
            x = dp - cp * x[lev + 1]
    return x


@sp.stencil(dims=("lev", "lat", "lon"), backend="numpy")
def omega_sp(u, v, p, dx, dy):
    with sp.forward("lev"):
        div = (u[lon + 1] - u[lon - 1]) / (2.0 * dx) + (v[lat + 1] - v[lat - 1]) / (2.0 * dy)
        with sp.levels(0, 1):
            omega = 0.0 * div
        with sp.levels(1, None):
            omega = omega[lev - 1] - 0.5 * (div + div[lev - 1]) * (p - p[lev - 1])
    return omega


def thomas_numpy(a, b, c, d):
    n = d.shape[0]
    cp, dp, x = np.empty_like(d), np.empty_like(d), np.empty_like(d)
    cp[0], dp[0] = c[0] / b[0], d[0] / b[0]
    for k in range(1, n):
        m = b[k] - a[k] * cp[k - 1]
        cp[k], dp[k] = c[k] / m, (d[k] - a[k] * dp[k - 1]) / m
    x[-1] = dp[-1]
    for k in range(n - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]
    return x


def omega_numpy(u, v, p, dx, dy):
    """Interior lat/lon only (the border stays NaN)."""
    w = np.full_like(u, np.nan)
    prev = None
    for k in range(u.shape[0]):
        div = (u[k, 1:-1, 2:] - u[k, 1:-1, :-2]) / (2.0 * dx) \
            + (v[k, 2:, 1:-1] - v[k, :-2, 1:-1]) / (2.0 * dy)
        w[k, 1:-1, 1:-1] = 0.0 * div if k == 0 else \
            w[k - 1, 1:-1, 1:-1] - 0.5 * (div + prev) * (p[k] - p[k - 1])
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
        for j in numba.prange(1, ny - 1):
            divm = np.empty(nx)
            div = np.empty(nx)
            for k in range(nz):
                for i in range(1, nx - 1):
                    div[i] = (u[k, j, i + 1] - u[k, j, i - 1]) / (2.0 * dx) \
                        + (v[k, j + 1, i] - v[k, j - 1, i]) / (2.0 * dy)
                if k == 0:
                    for i in range(1, nx - 1):
                        w[k, j, i] = 0.0 * div[i]
                else:
                    for i in range(1, nx - 1):
                        w[k, j, i] = w[k - 1, j, i] - 0.5 * (div[i] + divm[i]) * (p[k] - p[k - 1])
                divm, div = div, divm
    return thomas_nb, omega_nb


def _c_library():
    gcc = shutil.which("gcc")
    if gcc is None:
        raise RuntimeError("gcc not found")
    tmp = tempfile.mkdtemp(prefix="stencilpy-columns-")
    so = Path(tmp) / "libcolumns.so"
    src = Path(__file__).with_name("columns.c")
    subprocess.run([gcc, "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", str(src),
                    "-o", str(so)], check=True)
    lib = ctypes.CDLL(str(so))
    P, L, I, D = ctypes.c_void_p, ctypes.c_long, ctypes.c_int, ctypes.c_double
    lib.thomas_f64.argtypes = [P, P, P, P, P, L, L, L, I]
    lib.omega_f64.argtypes = [P, P, P, P, L, L, L, D, D, I]
    return lib


def _best(fn, repeat):
    fn()                                                   # warm up (compile, caches)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(shape, threads, repeat) -> list[tuple]:
    rng = np.random.default_rng(0)
    nz, ny, nx = shape
    a, c = -rng.random(shape), -rng.random(shape)
    b, d = 3.0 + rng.random(shape), rng.random(shape)
    u, v = rng.standard_normal(shape), rng.standard_normal(shape)
    p = np.linspace(1e4, 1e5, nz)
    p3 = np.ascontiguousarray(p[:, None, None])
    dx = dy = 5e4
    inner = (slice(None), slice(1, -1), slice(1, -1))
    want_x, want_w = thomas_numpy(a, b, c, d), omega_numpy(u, v, p, dx, dy)
    thomas_jit = sp.stencil(thomas_sp.pyfunc, dims=thomas_sp.dims_argument)
    omega_jit = sp.stencil(omega_sp.pyfunc, dims=omega_sp.dims_argument)
    edge = {"lat": "edge", "lon": "edge"}
    impls = {
        "numpy loop": (lambda: thomas_numpy(a, b, c, d), lambda: omega_numpy(u, v, p, dx, dy)),
        "stencilpy (compiled, 1 thr)": (lambda: thomas_jit(a, b, c, d),
                                        lambda: omega_jit(u, v, p3, dx, dy, boundary=edge)),
        "stencilpy (numpy backend)": (
            lambda: thomas_sp(a, b, c, d),
            lambda: omega_sp(u, v, p3, dx, dy, boundary={"lat": "edge", "lon": "edge"})),
    }
    try:
        import numba
        numba.set_num_threads(threads)
        thomas_nb, omega_nb = _numba_kernels()
        xn, wn = np.empty(shape), np.full(shape, np.nan)
        impls[f"numba parallel ({threads} thr)"] = (lambda: thomas_nb(a, b, c, d, xn) or xn,
                                                    lambda: omega_nb(u, v, p, wn, dx, dy) or wn)
    except ImportError:
        pass
    try:
        lib = _c_library()
        xc, wc = np.empty(shape), np.full(shape, np.nan)
        ptr = lambda arr: arr.ctypes.data                  # noqa: E731
        impls[f"C OpenMP ({threads} thr)"] = (
            lambda: lib.thomas_f64(ptr(a), ptr(b), ptr(c), ptr(d), ptr(xc), nz, ny, nx,
                                   threads) or xc,
            lambda: lib.omega_f64(ptr(u), ptr(v), ptr(p), ptr(wc), nz, ny, nx, dx, dy,
                                  threads) or wc)
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"C skipped: {exc}")
    rows = []
    for name, (tri, om) in impls.items():
        np.testing.assert_allclose(tri(), want_x, rtol=1e-12)
        np.testing.assert_allclose(om()[inner], want_w[inner], rtol=1e-12, atol=1e-12)
        rows.append((name, _best(tri, repeat), _best(om, repeat)))
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", default="80x1024x1024", help="lev x lat x lon (float64)")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    shape = tuple(int(n) for n in args.shape.split("x"))
    rows = run(shape, args.threads, args.repeat)
    base = {name: (t, o) for name, t, o in rows}["numpy loop"]
    mb = np.prod(shape) * 8 / 1e6
    print(f"shape {shape} ({mb:.0f} MB per field), {args.threads} threads, best of {args.repeat}")
    print(f"{'implementation':<28s} {'tridiagonal':>12s} {'x numpy':>8s} {'omega':>12s} "
          f"{'x numpy':>8s}")
    for name, t, o in rows:
        print(f"{name:<28s} {t * 1e3:10.2f} ms {base[0] / t:7.1f}x {o * 1e3:10.2f} ms "
              f"{base[1] / o:7.1f}x")


if __name__ == "__main__":
    main()
