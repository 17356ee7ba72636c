"""Vertical velocity (omega) from the continuity equation, with the horizontal divergence
computed inside the sweep.

On pressure levels the continuity equation is ``d(omega)/dp = -(du/dx + dv/dy)``.  Starting
from ``omega = 0`` at the top level (index 0, lowest pressure), the forward sweep computes
the divergence of the wind at the current level from centred differences (horizontal
offsets of the fields, read inside the sweep), and integrates it down with the trapezoidal
rule, reading the divergence and omega one level above (``div[lev - 1]``,
``omega[lev - 1]``).  ``p`` is a ``(lev, 1, 1)`` field: one pressure per level.  The
reference uses ``np.roll`` and a cumulative sum.

Run it: ``python dsl_examples/omega.py``.
"""

import numpy as np

import stencilpy as sp

BACKEND = "llvm"       # the compiled backend; "numpy" runs the reference of the same stencil


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def omega_from_continuity(u, v, p, dx, dy):
    with sp.forward("lev"):
        div = (u[lon + 1] - u[lon - 1]) / (2.0 * dx) + (v[lat + 1] - v[lat - 1]) / (2.0 * dy)
        with sp.levels(0, 1):
            omega = 0.0 * div
        with sp.levels(1, None):
            omega = omega[lev - 1] - 0.5 * (div + div[lev - 1]) * (p - p[lev - 1])
    return omega


def omega_numpy(u, v, p, dx, dy):
    div = (np.roll(u, -1, axis=2) - np.roll(u, 1, axis=2)) / (2.0 * dx) \
        + (np.roll(v, -1, axis=1) - np.roll(v, 1, axis=1)) / (2.0 * dy)
    layer = -0.5 * (div[1:] + div[:-1]) * (p[1:] - p[:-1])
    omega = np.zeros_like(div)
    omega[1:] = np.cumsum(layer, axis=0)
    return omega


def main() -> dict:
    """Omega on a doubly periodic box; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(5)
    nz, ny, nx = 25, 32, 40
    p = np.linspace(10_000.0, 100_000.0, nz)[:, None, None]
    y, x = np.meshgrid(np.arange(ny) * 2 * np.pi / ny, np.arange(nx) * 2 * np.pi / nx,
                       indexing="ij")
    u = 10.0 * np.sin(x) * np.cos(y) + rng.normal(0.0, 0.5, (nz, ny, nx))
    v = -10.0 * np.cos(x) * np.sin(y) + rng.normal(0.0, 0.5, (nz, ny, nx))
    dx = dy = 50_000.0
    periodic = {"lat": "periodic", "lon": "periodic"}     # lev: no reads outside the column
    assert omega_from_continuity.halo == ((0, 0), (1, 1), (1, 1))
    results = {
        "periodic lat/lon": (omega_from_continuity(u, v, p, dx, dy, boundary=periodic),
                             omega_numpy(u, v, p, dx, dy)),
    }
    # the global mean divergence vanishes on a periodic box, so does the mean omega
    got = results["periodic lat/lon"][0]
    assert np.abs(got.mean(axis=(1, 2))).max() < 1e-9 * np.abs(got).max()
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<18s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
