"""Column integrals and column maxima: reductions along one axis, written with sweeps.

Precipitable water is the column integral ``PW = 1/(g rho_w) * sum_k q[k] * dp[k]`` (in m;
times 1000 in mm).  With a sweep, a running sum is one statement: give ``s`` its value at
every level, then let a forward sweep add the level below from the second level on::

    s = q * dp
    with sp.forward("lev"):
        with sp.levels(1, None):
            s = s + s[lev - 1]          # cumulative sum along lev

The total is the last level of ``s``; a backward sweep copies it down the column so that
every level holds it (``total = total[lev + 1]``).  A column maximum is the same with
``max`` in place of ``+``.  The reference uses ``np.cumsum``, ``np.sum`` and ``np.max``.

Run it: ``python dsl_examples/column_integral.py``.
"""

import numpy as np

import stencilpy as sp

BACKEND = "llvm"       # the compiled backend; "numpy" runs the reference of the same stencil
G = 9.80665
RHO_W = 1000.0


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def precipitable_water(q, dp):
    s = q * dp / (G * RHO_W) * 1000.0          # mm per layer
    with sp.forward("lev"):
        with sp.levels(1, None):
            s = s + s[lev - 1]                  # running sum: mm below the top of the layer
    with sp.backward("lev"):
        with sp.levels(-1, None):
            total = s
        with sp.levels(0, -1):
            total = total[lev + 1]              # the column total at every level
    return s, total


@sp.stencil(dims=("lev", "lat", "lon"), backend=BACKEND)
def column_max(t):
    m = t
    with sp.forward("lev"):
        with sp.levels(1, None):
            m = max(m, m[lev - 1])              # running maximum
    with sp.backward("lev"):
        with sp.levels(0, -1):
            m = m[lev + 1]                      # the column maximum at every level
    return m


def main() -> dict:
    """Column totals of a random humidity field; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(13)
    nz, ny, nx = 37, 20, 30
    q = rng.uniform(0.0, 0.02, (nz, ny, nx)) * np.linspace(1.0, 0.01, nz)[:, None, None]
    dp = np.full((nz, 1, 1), 2500.0)                           # Pa per layer, (lev, 1, 1)
    running, total = precipitable_water(q, dp)
    layer = q * dp / (G * RHO_W) * 1000.0
    t = rng.normal(250.0, 20.0, (nz, ny, nx))
    results = {
        "running sum (np.cumsum)": (running, np.cumsum(layer, axis=0)),
        "column total (np.sum)": (total, np.broadcast_to(layer.sum(axis=0), layer.shape)),
        "column maximum (np.max)": (column_max(t), np.broadcast_to(t.max(axis=0), t.shape)),
    }
    print(f"precipitable water: {total[0].min():.1f} .. {total[0].max():.1f} mm")
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<24s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
