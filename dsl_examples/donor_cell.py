"""1-D donor-cell (first-order upwind) advection in flux form, on a staggered grid.

The advected field ``psi`` lives in ``n`` cells; the Courant number ``c`` lives on the
``n + 1`` cell faces: ``c[i]`` is the face *left* of cell ``i`` (at i - 1/2) and ``c[i + 1]``
the face on its right.  The flux through face i - 1/2 takes ``psi`` from the upwind cell::

    F[i - 1/2] = max(c[i], 0) * psi[i - 1] + min(c[i], 0) * psi[i]
    psi_new[i] = psi[i] - (F[i + 1/2] - F[i - 1/2])

A field longer than the domain (here ``c``, n + 1 points) is *staggered*: stencilpy lets the
stencil read its last entry, so it never shortens the valid region; with
``boundary="periodic"`` its entry ``n`` is the periodic image of entry 0.

Run it: ``python dsl_examples/donor_cell.py``.
"""

import numpy as np

import stencilpy as sp


@sp.function
def upwind_flux(c, left, right):
    """Flux through a face with Courant number ``c`` between the cells ``left``/``right``."""
    return max(c, 0.0) * left + min(c, 0.0) * right


@sp.stencil
def donor_cell(psi, c):
    return psi - (upwind_flux(c[1], psi, psi[1]) - upwind_flux(c, psi[-1], psi))


@sp.stencil
def upwind_positive(psi, c):
    """The same for c >= 0 everywhere: only the cell on the left is read."""
    return psi - (c[1] * psi - c * psi[-1])


def donor_cell_periodic_numpy(psi, c):
    """One periodic step with NumPy: c has n + 1 faces, c[n] == c[0]."""
    left = np.roll(psi, 1)                                  # psi[i - 1]
    flux = np.maximum(c[:-1], 0.0) * left + np.minimum(c[:-1], 0.0) * psi   # F[i - 1/2]
    return psi - (np.roll(flux, -1) - flux)


def upwind_positive_numpy(psi, c):
    """Cells 1 .. n-1 (cell 0 needs psi[-1], which does not exist)."""
    flux = c[1:-1] * psi[:-1]                               # F at faces 1 .. n-1
    out = psi[1:] - (c[2:] * psi[1:] - flux)
    return out


def main() -> dict:
    """Advect a bump around a periodic domain; return ``{case: (stencilpy, numpy)}``."""
    n = 200
    x = (np.arange(n) + 0.5) / n
    psi = np.exp(-((x - 0.3) / 0.05) ** 2)
    faces = np.arange(n + 1) / n
    c = 0.4 + 0.3 * np.sin(2 * np.pi * faces)               # varies, but 0.1 <= c <= 0.7
    c[n] = c[0]                                             # periodic: face n is face 0
    assert donor_cell.halo == ((1, 1),)

    results = {}
    got, want = psi.copy(), psi.copy()
    for _ in range(100):
        got = donor_cell(got, c, boundary="periodic")
        want = donor_cell_periodic_numpy(want, c)
    results["donor cell, periodic, 100 steps"] = (got, want)
    print(f"mass before {psi.sum():.15f}, after {got.sum():.15f}")
    assert abs(got.sum() - psi.sum()) < 1e-12 * psi.sum()

    # "fill": points whose stencil reaches outside the arrays get NaN.  psi is read at i - 1,
    # so cell 0 is NaN; c is read at face i + 1, but c has n + 1 faces, so cell n - 1 is
    # computed.  A Courant field of only n points would lose cell n - 1 as well.
    one = upwind_positive(psi, c)
    assert np.isnan(one[0]) and not np.isnan(one[1:]).any()
    assert np.isnan(upwind_positive(psi, c[:n])[[0, -1]]).all()
    results["upwind, fill, staggered c"] = (one[1:], upwind_positive_numpy(psi, c))

    general = donor_cell(psi, c)                            # reads psi[i + 1] too
    assert np.isnan(general[[0, -1]]).all() and not np.isnan(general[1:-1]).any()
    results["donor cell, fill (interior)"] = (general[1:-1],
                                              donor_cell_periodic_numpy(psi, c)[1:-1])
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<34s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
