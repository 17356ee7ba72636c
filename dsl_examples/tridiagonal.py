"""Implicit vertical diffusion: a tridiagonal solve in every column (the Thomas algorithm).

One backward-Euler step of ``dT/dt = d/dz (K dT/dz)`` with zero flux at the bottom and the
top is the tridiagonal system ``-r T'[k-1] + (1 + 2r) T'[k] - r T'[k+1] = T[k]`` (``1 + r``
on the diagonal of the first and last rows), ``r = K dt / dz**2``.  The stencil solves it
in every column at once: a forward sweep eliminates the sub-diagonal level by level
(``cp``, ``dp`` read one level below with ``cp[lev - 1]``), a backward sweep substitutes
back from the top (``x[lev + 1]``).  The reference solves each column with
``scipy.linalg.solve_banded``.  ``kappa`` is a ``(lat, lon)`` field, broadcast along ``lev``.

Run it: ``python dsl_examples/tridiagonal.py``.
"""

import numpy as np
from scipy.linalg import solve_banded

import stencilpy as sp

BACKEND = "llvm"       # the compiled backend; "numpy" runs the reference of the same stencil


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def implicit_diffusion(t, kappa, dt, dz):
    r = kappa * dt / (dz * dz)
    with sp.forward("lev"):
        with sp.levels(0, 1):
            cp = -r / (1.0 + r)
            dp = t / (1.0 + r)
        with sp.levels(1, -1):
            m = 1.0 + 2.0 * r + r * cp[lev - 1]
            cp = -r / m
            dp = (t + r * dp[lev - 1]) / m
        with sp.levels(-1, None):
            dp = (t + r * dp[lev - 1]) / (1.0 + r + r * cp[lev - 1])
    with sp.backward("lev"):
        with sp.levels(-1, None):
            x = dp
        with sp.levels(0, -1):
            x = dp - cp * x[lev + 1]
    return x


def implicit_diffusion_scipy(t, kappa, dt, dz):
    """Each column's banded system solved by ``scipy.linalg.solve_banded``."""
    nz, ny, nx = t.shape
    kappa = np.broadcast_to(kappa, t.shape)
    out = np.empty_like(t)
    for j in range(ny):
        for i in range(nx):
            r = kappa[:, j, i] * dt / dz**2
            bands = np.zeros((3, nz))
            bands[0, 1:] = -r[:-1]                  # super-diagonal: row k, column k + 1
            bands[1] = 1.0 + 2.0 * r
            bands[1, [0, -1]] = 1.0 + r[[0, -1]]
            bands[2, :-1] = -r[1:]                  # sub-diagonal: row k, column k - 1
            out[:, j, i] = solve_banded((1, 1), bands, t[:, j, i])
    return out


def main() -> dict:
    """Diffuse a noisy temperature profile; return ``{case: (stencilpy, scipy)}``."""
    rng = np.random.default_rng(7)
    nz, ny, nx = 40, 12, 16
    z = np.linspace(0.0, 10_000.0, nz)
    t = (288.0 - 0.0065 * z)[:, None, None] + rng.normal(0.0, 2.0, (nz, ny, nx))
    kappa = rng.uniform(1.0, 50.0, (ny, nx))       # (lat, lon): broadcast along lev
    dz = z[1] - z[0]
    assert implicit_diffusion.halo == ((0, 0), (0, 0), (0, 0))
    results = {f"dt = {dt:g} s": (implicit_diffusion(t, kappa, dt, dz),
                                  implicit_diffusion_scipy(t, kappa, dt, dz))
               for dt in (60.0, 3600.0)}
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<14s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    # zero flux at both ends and K constant in a column: the column mean is conserved
    got = results["dt = 3600 s"][0]
    np.testing.assert_allclose(got.mean(axis=0), t.mean(axis=0), rtol=1e-12)
    return results


if __name__ == "__main__":
    main()
