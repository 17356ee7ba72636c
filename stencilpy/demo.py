"""``stencilpy demo``: a diffusion run on built-in data, timed against numpy.

(The EULAG-style MPDATA rotating-cone demo replaces this first version.)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np


def add_arguments(parser) -> None:
    parser.add_argument("--n", type=int, default=256, help="grid points per axis (default 256)")
    parser.add_argument("--steps", type=int, default=200, help="time steps (default 200)")
    parser.add_argument("--output", type=Path, default=Path("stencilpy-output"),
                        help="output directory (default ./stencilpy-output)")


def _initial(n: int) -> np.ndarray:
    x = np.linspace(0.0, 1.0, n, endpoint=False)
    xx, yy = np.meshgrid(x, x, indexing="ij")
    return np.exp(-((xx - 0.3) ** 2 + (yy - 0.6) ** 2) / 0.005) + 0.5 * (xx > 0.6) * (yy < 0.4)


def _numpy_step(u: np.ndarray, nu: float) -> np.ndarray:
    lap = np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4.0 * u
    return u + nu * lap


def run_demo(args) -> int:
    import stencilpy as sp

    @sp.stencil
    def diffuse(u, nu):
        return u + nu * (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u)

    u0 = _initial(args.n)
    nu = 0.2
    u = u0.copy()
    t0 = time.perf_counter()
    diffuse(u, nu, boundary="periodic")
    t_compile = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(args.steps):
        u = diffuse(u, nu, boundary="periodic", out=u)
    t_sp = time.perf_counter() - t0
    v = u0.copy()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        v = _numpy_step(v, nu)
    t_np = time.perf_counter() - t0
    err = float(np.max(np.abs(u - v)))
    print(f"diffusion of a built-in field on a {args.n}x{args.n} periodic grid, {args.steps} steps")
    print(f"max |stencilpy - numpy| = {err:.2e}; mass change {abs(u.sum() - u0.sum()) / u0.sum():.2e}")
    print(f"stencilpy {t_sp:.3f} s (first call incl. compile {t_compile:.3f} s), numpy {t_np:.3f} s, "
          f"speed-up {t_np / t_sp:.1f}x")
    return 0 if err < 1e-10 else 1
