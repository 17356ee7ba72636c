"""Staggered fields longer than the domain: "wrap" is modulo the domain length N (entry N
is the periodic image of entry 0; a read one face left of face 0 sees entry N - 1), the
other modes extend each field from its own ends."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import stencilpy as sp

from ._oracle import ALL_MODES, apply, assert_same, random_field
from .stencils import STAG1D_TERMS, STAG2D_TERMS, stag1d_c, stag1d_r, stag2d_c, stag2d_r


def test_wrap_rule_by_hand():
    n = 5
    u = np.zeros(n)
    f = np.arange(n + 1, dtype=float) * 10.0       # faces 0..5; face 5 deliberately != face 0
    got = stag1d_c(u, f, boundary="wrap")
    # out[i] = f[i + 1] - f[i - 1] + f[i + 2]
    # i = 0: f[-1] -> f[n - 1] = 40;  i = n - 1: f[n] = 50 is inside;  f[n + 1] -> f[1] = 10
    want = [10 - 40 + 20, 20 - 0 + 30, 30 - 10 + 40, 40 - 20 + 50, 50 - 30 + 10]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(stag1d_r(u, f, boundary="wrap"), want)


@pytest.mark.parametrize("mode", ALL_MODES + ("periodic",))
@pytest.mark.parametrize("n", [1, 2, 6])
def test_staggered_1d(n, mode):
    u, f = random_field((n,), np.float64), random_field((n + 1,), np.float64, seed=1)
    if mode in ("fill", "valid") and n + 1 < 4:
        return  # too small for the halo: an error (tested elsewhere)
    want = apply(STAG1D_TERMS, [u, f], (mode,))
    assert_same(stag1d_c(u, f, boundary=mode), want, np.float64)
    assert_same(stag1d_r(u, f, boundary=mode), want, np.float64)


@pytest.mark.parametrize("extra", [2, 3])
def test_longer_than_n_plus_1_is_refused(extra):
    """Staggered is exactly N + 1 faces around N cells; any other length is another grid."""
    u, f = random_field((6,), np.float64), random_field((6 + extra,), np.float64, seed=1)
    for stencil in (stag1d_c, stag1d_r):
        with pytest.raises(sp.StencilCallError, match=rf"argument 'f' has {6 + extra} points "
                           r"along 'dim_0' but the domain has 6; a field has the domain's "
                           r"length \(6\), one point more \(7: staggered"):
            stencil(u, f, boundary="wrap")


@pytest.mark.parametrize("m0, m1", list(itertools.product(ALL_MODES, ALL_MODES)))
def test_staggered_2d(m0, m1):
    n, m = 5, 6
    u = random_field((n, m), np.float64)
    fx = random_field((n + 1, m), np.float64, seed=1)
    fy = random_field((n, m + 1), np.float64, seed=2)
    want = apply(STAG2D_TERMS, [u, fx, fy], (m0, m1))
    assert_same(stag2d_c(u, fx, fy, boundary={0: m0, 1: m1}), want, np.float64)
    assert_same(stag2d_r(u, fx, fy, boundary={0: m0, 1: m1}), want, np.float64)


@pytest.mark.parametrize("mode", ["wrap", "edge", "reflect", "symmetric", "constant"])
def test_staggered_int(mode):
    u = random_field((4, 3), np.int64)
    fx = random_field((5, 3), np.int64, seed=1)
    fy = random_field((4, 4), np.int64, seed=2)
    want = apply(STAG2D_TERMS, [u, fx, fy], (mode, mode), fill_value=9, dtype=np.int64)
    assert_same(stag2d_c(u, fx, fy, boundary=mode, fill_value=9), want, np.int64)
    assert_same(stag2d_r(u, fx, fy, boundary=mode, fill_value=9), want, np.int64)
