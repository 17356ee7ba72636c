"""Boundary modes on batched (leading-axis), broadcast, non-contiguous and
negative-stride inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ._oracle import ALL_MODES, apply, assert_same, random_field
from .stencils import COMPILED, REFERENCE, TERMS


def _check(name, fields, mode, **kw):
    ndim = len(TERMS[name][0][2])
    modes = tuple(mode.values()) if isinstance(mode, dict) else (mode,) * ndim
    want = apply(TERMS[name], [np.ascontiguousarray(f) for f in fields], modes,
                 fill_value=kw.get("fill_value"))
    assert_same(COMPILED[name](*fields, boundary=mode, **kw), want)
    assert_same(REFERENCE[name](*fields, boundary=mode, **kw), want)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_batched_leading_axes(mode):
    _check("lopsided2d", [random_field((3, 7, 5), np.float64)], mode)
    _check("lopsided2d", [random_field((2, 1, 7, 5), np.float64)], mode)
    _check("fwd2_back1", [random_field((2, 3, 9), np.float64)], mode)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_batched_and_unbatched_fields_together(mode):
    a = random_field((4, 7), np.float64)
    b = random_field((7,), np.float64, seed=1)         # broadcast over the batch axis
    _check("two_fields", [a, b], mode)
    _check("two_fields", [b, a], mode)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_field_broadcast_along_a_stencil_axis(mode):
    """A length-1 axis of a longer domain is broadcast, not padded."""
    a = random_field((7,), np.float64)
    b = random_field((1,), np.float64, seed=1)
    _check("two_fields", [a, b], mode)


def _views():
    base = random_field((14, 12), np.float64, seed=3)
    return {
        "reversed": base[::-1, ::-1][:7, :5],
        "strided": base[::2, ::2][:, :5],
        "fortran": np.asfortranarray(base[:7, :5]),
        "transposed": base[:5, :7].T,
        "column": base[3:10, 4:9],
        "negative_inner": base[2:9, 11:6:-1],
    }


@pytest.mark.parametrize("view", list(_views()))
@pytest.mark.parametrize("mode", ALL_MODES)
def test_non_contiguous_inputs(view, mode):
    u = _views()[view]
    assert u.shape == (7, 5)
    _check("lopsided2d", [u], mode)
    _check("skew2d", [u[:6, :]], {0: mode, 1: "wrap"})


@pytest.mark.parametrize("mode", ALL_MODES)
def test_non_contiguous_batched_3d(mode):
    base = random_field((5, 9, 12, 8), np.float64, seed=4)
    u = base[::2, ::-2, 1:6, ::-2]                       # batch 3, then a 5 x 5 x 4 domain
    _check("corner3d", [u], mode)


def test_misaligned_element_strides():
    """Strides that are not a multiple of the itemsize (a view into a record array)."""
    rec = np.zeros(9, dtype=[("a", np.float64), ("b", np.int8)])
    rec["a"] = random_field((9,), np.float64)
    u = rec["a"]
    assert u.strides[0] % u.itemsize != 0
    for mode in ("wrap", "reflect", "fill"):
        _check("fwd2_back1", [u], mode)
