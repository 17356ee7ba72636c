"""Every boundary mode, per axis and as dicts, against numpy.pad + hand-written stencils
(``_oracle``) and against the numpy reference backend."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import stencilpy as sp

from ._oracle import ALL_MODES, PAD_MODES, apply, assert_same, random_field
from .stencils import (COMPILED, NAMED_TERMS, REFERENCE, SHAPES, TERMS, named_c, named_r)


def _fields(name, dtype, shape=None):
    n = 1 + max(f for _, f, _ in TERMS[name])
    return [random_field(shape or SHAPES[name], dtype, seed=k) for k in range(n)]


def _check(name, fields, boundary, modes, dtype, **kw):
    want = apply(TERMS[name], fields, modes, fill_value=kw.get("fill_value"), dtype=dtype)
    assert_same(COMPILED[name](*fields, boundary=boundary, **kw), want, dtype)
    assert_same(REFERENCE[name](*fields, boundary=boundary, **kw), want, dtype)


@pytest.mark.parametrize("mode", ALL_MODES + ("periodic", "nearest"))
@pytest.mark.parametrize("name", list(TERMS))
def test_every_mode_float64(name, mode):
    ndim = len(SHAPES[name])
    _check(name, _fields(name, np.float64), mode, (mode,) * ndim, np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32])
@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("name", ["fwd2_back1", "lopsided2d", "corner3d"])
def test_every_mode_other_dtypes(name, mode, dtype):
    ndim = len(SHAPES[name])
    kw = {} if np.dtype(dtype).kind == "f" else {"fill_value": -7}
    _check(name, _fields(name, dtype), mode, (mode,) * ndim, np.dtype(dtype), **kw)


@pytest.mark.parametrize("name", ["skew2d", "two_fields"])
@pytest.mark.parametrize("fill", [2.5, -1])
def test_constant_and_fill_with_explicit_value(name, fill):
    ndim = len(SHAPES[name])
    for mode in ("constant", "fill"):
        _check(name, _fields(name, np.float64), mode, (mode,) * ndim, np.float64, fill_value=fill)


def test_integer_fill_needs_a_value():
    u = random_field((9,), np.int64)
    with pytest.raises(sp.StencilCallError, match="fill_value"):
        COMPILED["fwd2_back1"](u)
    with pytest.raises(sp.StencilCallError, match="fill_value"):
        COMPILED["fwd2_back1"](u, boundary="constant")
    # modes that never need a value work without one
    for mode in ("wrap", "edge", "reflect", "symmetric", "valid"):
        want = apply(TERMS["fwd2_back1"], [u], (mode,), dtype=np.int64)
        assert_same(COMPILED["fwd2_back1"](u, boundary=mode), want, np.int64)


@pytest.mark.parametrize("m0, m1", list(itertools.product(ALL_MODES, ALL_MODES)))
def test_per_axis_dict_by_number(m0, m1):
    _check("lopsided2d", _fields("lopsided2d", np.float64), {0: m0, 1: m1}, (m0, m1), np.float64)


@pytest.mark.parametrize("boundary, modes", [
    ({1: "wrap"}, ("fill", "wrap")),
    ({-1: "reflect"}, ("fill", "reflect")),
    ({0: "periodic", -1: "nearest"}, ("wrap", "edge")),
    ({}, ("fill", "fill")),
])
def test_partial_dicts_default_to_fill(boundary, modes):
    _check("skew2d", _fields("skew2d", np.float64), boundary, modes, np.float64)


@pytest.mark.parametrize("boundary, modes", [
    ({"lon": "periodic", "lat": "edge"}, ("edge", "wrap")),
    ({"lon": "wrap"}, ("fill", "wrap")),
    ({"lat": "symmetric", 1: "valid"}, ("symmetric", "valid")),
    ({"lat": "valid", "lon": "constant"}, ("valid", "constant")),
    ({"lon": "reflect", "lat": "fill"}, ("fill", "reflect")),
    ("nearest", ("edge", "edge")),
])
def test_dict_by_dim_name(boundary, modes):
    u = random_field((6, 8), np.float64)
    want = apply(NAMED_TERMS, [u], modes)
    assert_same(named_c(u, boundary=boundary), want, np.float64)
    assert_same(named_r(u, boundary=boundary), want, np.float64)


@pytest.mark.parametrize("modes", [("wrap", "valid", "reflect"), ("fill", "symmetric", "wrap"),
                                   ("constant", "edge", "valid"), ("valid", "fill", "fill")])
def test_per_axis_3d(modes):
    _check("corner3d", _fields("corner3d", np.float64), dict(enumerate(modes)), modes, np.float64)


@pytest.mark.parametrize("bad, match", [
    ({"height": "wrap"}, "unknown dimension 'height'"),
    ({2: "wrap"}, "neither a dimension name"),
    ("circular", "unknown boundary mode 'circular'"),
    ({"lon": "mirror"}, "unknown boundary mode 'mirror'"),
])
def test_bad_boundary_is_a_clear_error(bad, match):
    with pytest.raises(sp.StencilCallError, match=match):
        named_c(np.zeros((6, 8)), boundary=bad)


def test_every_pad_mode_reads_only_inside_the_array():
    """A field embedded in NaN: a padding mode must never read a neighbouring element."""
    base = np.full(15, np.nan)
    u = base[3:12]
    u[:] = random_field((9,), np.float64)
    for mode in PAD_MODES[1:]:
        got = COMPILED["fwd2_back1"](u, boundary=mode)
        assert not np.isnan(got).any(), mode
