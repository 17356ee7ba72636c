"""Geopotential height from temperature and pressure: the hypsometric equation, integrated
upwards in every column.

Between two levels, ``z[k] - z[k-1] = Rd / g * Tmean * ln(p[k-1] / p[k])`` with the layer
mean temperature ``Tmean = (T[k-1] + T[k]) / 2``.  The first level is at the surface height
``zs`` (a ``(lat, lon)`` field, broadcast along ``lev``); the forward sweep adds one layer
per level, reading the height one level below (``z[lev - 1]``) -- the running sum that a
parallel stencil cannot write.  The reference is a NumPy cumulative sum.

Run it: ``python dsl_examples/geopotential.py``.
"""

import numpy as np

import stencilpy as sp

BACKEND = "llvm"       # the compiled backend; "numpy" runs the reference of the same stencil
RD = 287.04            # J kg-1 K-1
G = 9.80665            # m s-2


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def geopotential_height(t, p, zs):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            z = zs
        with sp.levels(1, None):
            tmean = 0.5 * (t[lev - 1] + t)
            z = z[lev - 1] + RD / G * tmean * sp.log(p[lev - 1] / p)
    return z


def geopotential_height_numpy(t, p, zs):
    thickness = RD / G * 0.5 * (t[:-1] + t[1:]) * np.log(p[:-1] / p[1:])
    z = np.empty(np.broadcast_shapes(t.shape, p.shape))
    z[0] = zs
    z[1:] = zs + np.cumsum(thickness, axis=0)
    return z


def main() -> dict:
    """Heights on 30 pressure levels; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(11)
    nz, ny, nx = 30, 18, 24
    ps = rng.uniform(95_000.0, 103_000.0, (ny, nx))
    sigma = np.linspace(1.0, 0.05, nz)[:, None, None]
    p = sigma * ps                                      # (lev, lat, lon), Pa
    t = 288.0 * sigma ** 0.19 + rng.normal(0.0, 1.5, (nz, ny, nx))
    zs = rng.uniform(0.0, 2000.0, (ny, nx))
    # the levels ranges keep every read inside the column: no halo along lev
    assert geopotential_height.halo == ((0, 0), (0, 0), (0, 0))
    results = {
        "sigma levels": (geopotential_height(t, p, zs), geopotential_height_numpy(t, p, zs)),
        "pressure levels (p is (lev, 1, 1))": (
            geopotential_height(t, p[:, :1, :1] / ps.mean() * 1e5, zs),
            geopotential_height_numpy(t, p[:, :1, :1] / ps.mean() * 1e5, zs)),
    }
    top = results["sigma levels"][0][-1]
    print(f"height of the top level: {top.min():.0f} .. {top.max():.0f} m")
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<36s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
