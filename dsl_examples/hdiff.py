"""COSMO's horizontal diffusion: a fourth-order filter with a monotonic flux limiter.

This is the classic stencil benchmark of weather codes.  It shows temporaries (``lap``,
``flx``, ``fly``) that are read back at offsets: stencilpy computes each of them on the
region its readers need (a little larger than the output) and works out the total halo,
here two points on every side.

Run it: ``python dsl_examples/hdiff.py``.
"""

import numpy as np

import stencilpy as sp


@sp.stencil
def hdiff(u, coeff):
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx        # limiter: no new extrema
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


def hdiff_numpy(u, coeff):
    """The same with NumPy slices: the result covers ``u[2:-2, 2:-2]``."""
    lap = 4.0 * u[1:-1, 1:-1] - (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2])
    # lap covers u[1:-1, 1:-1]; the x-flux at i + 1/2 needs lap at i and i + 1
    flx = lap[1:, 1:-1] - lap[:-1, 1:-1]                   # i = 1 .. n-3, j = 2 .. m-3
    flx = np.where(flx * (u[2:-1, 2:-2] - u[1:-2, 2:-2]) > 0.0, 0.0, flx)
    fly = lap[1:-1, 1:] - lap[1:-1, :-1]                   # i = 2 .. n-3, j = 1 .. m-3
    fly = np.where(fly * (u[2:-2, 2:-1] - u[2:-2, 1:-2]) > 0.0, 0.0, fly)
    c = coeff[2:-2, 2:-2] if np.ndim(coeff) else coeff
    return u[2:-2, 2:-2] - c * (flx[1:] - flx[:-1] + fly[:, 1:] - fly[:, :-1])


def main() -> dict:
    """Run hdiff on a smooth field with noise; return ``{case: (stencilpy, numpy)}``."""
    rng = np.random.default_rng(1)
    x, y = np.meshgrid(np.linspace(0, 2 * np.pi, 128), np.linspace(0, 2 * np.pi, 96),
                       indexing="ij")
    u = np.sin(x) * np.cos(2 * y) + 0.1 * rng.standard_normal(x.shape)
    coeff = 0.025 * (1.0 + rng.random(u.shape))             # a field, or a scalar
    assert hdiff.halo == ((2, 2), (2, 2))

    results = {
        "scalar coeff, valid": (hdiff(u, 0.025, boundary="valid"), hdiff_numpy(u, 0.025)),
        "field coeff, fill (interior)": (hdiff(u, coeff)[2:-2, 2:-2], hdiff_numpy(u, coeff)),
        # with periodic boundaries, the NumPy version runs on an array padded by two points
        "periodic": (hdiff(u, 0.025, boundary="periodic"),
                     hdiff_numpy(np.pad(u, 2, mode="wrap"), 0.025)),
    }
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<30s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
