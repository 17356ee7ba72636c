"""Temporaries read at offsets near the edges: the boundary mode applies to the inputs,
and temporaries are computed from the boundary-extended inputs (never padded themselves)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import stencilpy as sp

from ._oracle import ALL_MODES, PAD_MODES, assert_same, extend, random_field


@sp.stencil
def curvature_diff(u):
    lap = u[1] + u[-1] - 2.0 * u
    return lap[1] - lap[-1]


@sp.stencil
def lopsided_temp(u):
    t = u[1, 0] - u[0, -1]
    s = t[0, 1] * 2.0
    return t[0, 1] + t[-2, 0] + s[1, 0]


curvature_diff_r = sp.stencil(curvature_diff.pyfunc, backend="numpy")
lopsided_temp_r = sp.stencil(lopsided_temp.pyfunc, backend="numpy")


def _curvature_diff_oracle(u, mode):
    n = u.shape[0]
    p = extend(u, 0, 2, 2, mode, n, np.nan)       # covers [-2, n + 2)
    lap = p[2:] + p[:-2] - 2.0 * p[1:-1]           # covers [-1, n + 1)
    out = lap[2:] - lap[:-2]                       # covers [0, n)
    if mode == "fill":
        out[:2] = np.nan
        out[n - 2:] = np.nan
    elif mode == "valid":
        out = out[2:n - 2]
    return out


def _lopsided_temp_oracle(u, modes):
    n, m = u.shape
    # output reads t at (0,1), (-2,0) and s at (1,0); s reads t at (0,1):
    # t is needed on rows [-2, n+1) x cols [0, m+1); u on rows [-2, n+2) x cols [-1, m+1)
    # (computed here on one more column than needed, which changes nothing)
    p = extend(u, 0, 2, 2, modes[0], n, np.nan)
    p = extend(p, 1, 1, 2, modes[1], m, np.nan)    # p[r, c] = u[r - 2, c - 1]

    def U(dr, dc, rows, cols):                       # u[i + dr, j + dc] over rows x cols
        return p[rows[0] + dr + 2:rows[1] + dr + 2, cols[0] + dc + 1:cols[1] + dc + 1]

    rows, cols = (-2, n + 1), (0, m + 2)
    t = U(1, 0, rows, cols) - U(0, -1, rows, cols)   # t[r, c] = t(r - 2, c)

    def T(dr, dc, rows, cols):
        return t[rows[0] + dr + 2:rows[1] + dr + 2, cols[0] + dc:cols[1] + dc]

    s = T(0, 1, (0, n + 1), (0, m)) * 2.0            # s[r, c] = s(r, c)
    out = T(0, 1, (0, n), (0, m)) + T(-2, 0, (0, n), (0, m)) + s[1:n + 1, :]
    # the footprint of u on the output: rows (-2, +2), cols (-1, +1)
    lo = (2, 1)
    hi = (n - 2, m - 1)
    keep = []
    for d, mode in enumerate(modes):
        if mode == "fill":
            index = [slice(None), slice(None)]
            for part in (slice(0, lo[d]), slice(hi[d], None)):
                index[d] = part
                out[tuple(index)] = np.nan
            keep.append(slice(None))
        elif mode == "valid":
            keep.append(slice(lo[d], hi[d]))
        else:
            keep.append(slice(None))
    return out[tuple(keep)]


@pytest.mark.parametrize("n", [1, 3, 5, 8])
@pytest.mark.parametrize("mode", ALL_MODES)
def test_temporary_1d(n, mode):
    if mode in ("fill", "valid") and n < 5:
        return
    u = random_field((n,), np.float64)
    want = _curvature_diff_oracle(u, mode)
    assert_same(curvature_diff(u, boundary=mode), want, np.float64)
    assert_same(curvature_diff_r(u, boundary=mode), want, np.float64)


def test_temporary_is_not_padded_itself():
    """With "edge", lap at the edge comes from the extended u, not from copying lap's edge."""
    u = np.array([0.0, 1.0, 4.0, 9.0, 16.0])
    # extended u: [0, 0, 0, 1, 4, 9, 16, 16, 16]; lap on [-1, 6): [0, 1, 2, 2, 2, -7, 0]
    want = np.array([2.0, 1.0, 0.0, -9.0, -2.0])   # lap[i + 1] - lap[i - 1]
    np.testing.assert_array_equal(curvature_diff(u, boundary="edge"), want)
    np.testing.assert_array_equal(curvature_diff_r(u, boundary="edge"), want)


@pytest.mark.parametrize("m0, m1", list(itertools.product(ALL_MODES, ALL_MODES)))
def test_temporaries_2d(m0, m1):
    u = random_field((7, 6), np.float64)
    want = _lopsided_temp_oracle(u, (m0, m1))
    assert_same(lopsided_temp(u, boundary={0: m0, 1: m1}), want, np.float64)
    assert_same(lopsided_temp_r(u, boundary={0: m0, 1: m1}), want, np.float64)


@pytest.mark.parametrize("mode", PAD_MODES)
def test_temporaries_2d_tiny_and_wide(mode):
    """Arrays smaller than the temporaries' reach, split over many tiles and threads."""
    for shape in ((1, 1), (2, 3), (3, 1)):
        u = random_field(shape, np.float64)
        want = _lopsided_temp_oracle(u, (mode, mode))
        assert_same(lopsided_temp(u, boundary=mode), want, np.float64)
        assert_same(lopsided_temp_r(u, boundary=mode), want, np.float64)
    u = random_field((300, 130), np.float64)       # several row tiles; two threads
    want = _lopsided_temp_oracle(u, (mode, mode))
    assert_same(lopsided_temp(u, boundary=mode, threads=2), want, np.float64)


@sp.stencil
def skewed_temp3d(u):
    t = u[1, 0, 0] - u[0, -1, 1]
    return t[-1, 1, 0] + 2.0 * t[0, 0, -1]


skewed_temp3d_r = sp.stencil(skewed_temp3d.pyfunc, backend="numpy")


def _skewed_temp3d_oracle(u, modes, fill):
    """numpy.pad along each axis by 2 (its mode), then the stencil by slicing in padded
    coordinates (index + 2): the temporary is computed from the extended input."""
    p = u
    for axis, mode in enumerate(modes):
        p = extend(p, axis, 2, 2, mode, u.shape[axis], fill)
    t = np.full(p.shape, np.nan)
    t[:-1, 1:, :-1] = p[1:, 1:, :-1] - p[:-1, :-1, 1:]   # t[a,b,c] = p[a+1,b,c] - p[a,b-1,c+1]
    n0, n1, n2 = u.shape
    return t[1:1 + n0, 3:3 + n1, 2:2 + n2] + 2.0 * t[2:2 + n0, 2:2 + n1, 1:1 + n2]


@pytest.mark.parametrize("modes", list(itertools.product(("wrap", "constant", "reflect"), repeat=3))
                         + [("edge", "symmetric", "wrap"), ("symmetric", "edge", "constant")])
def test_temporaries_3d_padded_outer_axes(modes):
    """Rows of axes 0 and 1 beyond the edges: padding modes other than "constant" remap the
    row pointers (the rows then run the vector loop); "constant" rows run remapped point by
    point. Sizes with interior rows and without any (halo wider than the array)."""
    for shape in ((6, 7, 9), (9, 4, 3), (1, 2, 1)):
        u = random_field(shape, np.float64, seed=sum(shape))
        want = _skewed_temp3d_oracle(u, modes, 0.5)
        boundary = dict(enumerate(modes))
        assert_same(skewed_temp3d(u, boundary=boundary, fill_value=0.5), want, np.float64)
        assert_same(skewed_temp3d_r(u, boundary=boundary, fill_value=0.5), want, np.float64)
