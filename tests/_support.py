"""What many test modules share: the canonical stencils and the random-field and comparison
helpers.  ``import _support`` works from every test folder (pytest puts ``tests/`` on the path
for its ``conftest.py``).

The stencils are plain functions: decorate them as a test needs (``sp.stencil(laplacian)``,
``backend="numpy"``, ``pair(...)``).  Their independent numpy versions live with the tests
that compare against them.
"""

from __future__ import annotations

import numpy as np

#: relative tolerance per dtype for compiled-vs-reference comparisons
RTOL = {np.dtype(np.float64): 1e-12, np.dtype(np.float32): 1e-5}


def laplacian(u):
    """The five-point Laplacian: halo ((1, 1), (1, 1))."""
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def hdiff(u, coeff):
    """COSMO horizontal diffusion: a Laplacian temporary, limited fluxes; halo ((2, 2), (2, 2))."""
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


def random_field(shape, dtype=np.float64, seed=0, low=-1.0, high=1.0) -> np.ndarray:
    """Random data of ``dtype``: floats uniform in ``[low, high)``, integers in
    ``[low, high]``, booleans half true.  ``seed`` is a number or a ``numpy`` Generator.

    >>> random_field((2, 3), np.int16, seed=1, low=-5, high=5).dtype
    dtype('int16')
    """
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.5
    if dtype.kind in "iu":
        return rng.integers(int(low), int(high) + 1, size=shape).astype(dtype)
    return rng.uniform(low, high, size=shape).astype(dtype)


def assert_same(got, want, rtol=None, atol=0.0, what="", check_dtype=True) -> None:
    """Same shape and (unless ``check_dtype=False``) dtype; floats equal to ``rtol`` (``RTOL``
    by dtype; NaN == NaN), the rest exactly."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if check_dtype:
        assert got.dtype == want.dtype, f"{what}: dtype {got.dtype} != {want.dtype}"
    if got.dtype.kind in "fc":
        rtol = RTOL[got.dtype] if rtol is None else rtol
        np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)
