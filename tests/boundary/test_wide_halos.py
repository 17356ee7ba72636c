"""Halos as wide as or wider than the array, and length-1 axes: numpy.pad semantics
(repeated reflection / wrapping) in the compiled loops and the reference."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp

from ._oracle import ALL_MODES, PAD_MODES, apply, assert_same, random_field
from .stencils import COMPILED, REFERENCE, TERMS


@sp.stencil
def reach3(u):
    return u[3] + 10 * u[-3]


@sp.stencil
def reach5(u):
    return u[-5] - u[4] + u[1]


reach3_r = sp.stencil(reach3.pyfunc, backend="numpy")
reach5_r = sp.stencil(reach5.pyfunc, backend="numpy")
REACH3 = [(1, 0, (3,)), (10, 0, (-3,))]
REACH5 = [(1, 0, (-5,)), (-1, 0, (4,)), (1, 0, (1,))]


def test_wrap_of_a_four_point_axis_by_three():
    u = np.array([1.0, 2.0, 3.0, 4.0])
    # u[i + 3] is u[i - 1] on a 4-periodic axis; u[i - 3] is u[i + 1]
    want = np.roll(u, 1) + 10 * np.roll(u, -1)
    np.testing.assert_array_equal(reach3(u, boundary="wrap"), want)
    np.testing.assert_array_equal(reach3_r(u, boundary="wrap"), want)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("mode", PAD_MODES)
@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_pads_wider_than_the_array(n, mode, dtype):
    for k, r, terms in ((reach3, reach3_r, REACH3), (reach5, reach5_r, REACH5)):
        u = random_field((n,), dtype, seed=n)
        kw = {"fill_value": 3} if mode == "constant" else {}
        want = apply(terms, [u], (mode,), dtype=np.dtype(dtype), **kw)
        assert_same(k(u, boundary=mode, **kw), want, np.dtype(dtype))
        assert_same(r(u, boundary=mode, **kw), want, np.dtype(dtype))


@pytest.mark.parametrize("shape", [(4, 2), (3, 3), (1, 7), (2, 1)])
@pytest.mark.parametrize("mode", PAD_MODES)
def test_wide_2d(shape, mode):
    u = random_field(shape, np.float64)
    want = apply(TERMS["wide2d"], [u], (mode, mode))
    assert_same(COMPILED["wide2d"](u, boundary=mode), want, np.float64)
    assert_same(REFERENCE["wide2d"](u, boundary=mode), want, np.float64)


@pytest.mark.parametrize("m0", ["wrap", "reflect", "symmetric", "edge", "constant"])
@pytest.mark.parametrize("m1", ALL_MODES)
def test_length_one_axis(m0, m1):
    """A domain of length 1 along axis 0 (not broadcasting: every field has that length)."""
    u = random_field((1, 9), np.float64)
    want = apply(TERMS["lopsided2d"], [u], (m0, m1))
    assert_same(COMPILED["lopsided2d"](u, boundary={0: m0, 1: m1}), want, np.float64)
    assert_same(REFERENCE["lopsided2d"](u, boundary={0: m0, 1: m1}), want, np.float64)


@pytest.mark.parametrize("mode", ["fill", "valid"])
def test_output_modes_on_too_small_arrays(mode):
    """Fewer points than the halo needs along a "fill"/"valid" axis: a clear error."""
    with pytest.raises(sp.StencilCallError, match="too small"):
        reach3(np.ones(5), boundary=mode)
    with pytest.raises(sp.StencilCallError, match="too small"):
        reach3_r(np.ones(5), boundary=mode)


def test_output_modes_exactly_fitting():
    u = random_field((7,), np.float64)
    want = apply(REACH3, [u], ("valid",))
    assert want.shape == (1,)
    assert_same(reach3(u, boundary="valid"), want, np.float64)
    got = reach3(u)
    assert np.isnan(got[[0, 1, 2, 4, 5, 6]]).all() and got[3] == want[0]
