"""In-place calls: ``out=`` that is, or overlaps, an input gives exactly the fresh-array
result (snapshot semantics), for every boundary mode and both backends."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp

from ._oracle import ALL_MODES, PAD_MODES, assert_same, random_field
from .stencils import COMPILED, REFERENCE, SHAPES


@sp.stencil
def swap_mix(u, v):
    return u[1] - v[-1], v[1] + 2.0 * u[-1]


swap_mix_r = sp.stencil(swap_mix.pyfunc, backend="numpy")

BACKENDS = {"llvm": COMPILED, "numpy": REFERENCE}


def _fresh_then_inplace(k, fields, out_of, boundary, **kw):
    """The fresh result, and the result of the same call writing into ``out_of(fields)``."""
    fresh = k(*[f.copy() for f in fields], boundary=boundary, **kw)
    out = out_of(fields)
    got = k(*fields, boundary=boundary, out=out, **kw)
    assert got is out or isinstance(got, tuple)
    return fresh, out


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("mode", PAD_MODES + ("fill",))
@pytest.mark.parametrize("name", ["fwd2_back1", "lopsided2d", "skew2d", "corner3d", "wide2d"])
def test_out_is_the_input(name, mode, backend):
    k = BACKENDS[backend][name]
    u = random_field(SHAPES[name], np.float64)
    fresh, out = _fresh_then_inplace(k, [u], lambda f: f[0], mode)
    assert_same(out, fresh)


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("mode", ALL_MODES)
def test_out_overlaps_the_input_shifted(mode, backend):
    """u = big[0:9], out = big[1:1 + len(out)]: every element the kernel writes is one
    that a later point still reads."""
    k = BACKENDS[backend]["fwd2_back1"]
    big = random_field((12,), np.float64)
    u = big[:9]
    n_out = 6 if mode == "valid" else 9
    fresh = k(u.copy(), boundary=mode)
    out = big[1:1 + n_out]
    k(u, boundary=mode, out=out)
    assert_same(out, fresh)
    big = random_field((12,), np.float64)
    u = big[3:12]
    fresh = k(u.copy(), boundary=mode)
    out = big[2:2 + n_out]                           # overlapping from the other side
    k(u, boundary=mode, out=out)
    assert_same(out, fresh)


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("mode", ALL_MODES)
def test_out_overlaps_a_2d_input(mode, backend):
    k = BACKENDS[backend]["lopsided2d"]
    big = random_field((9, 8), np.float64)
    u = big[:7, :5]
    fresh = k(u.copy(), boundary=mode)
    out = big[2:2 + fresh.shape[0], 1:1 + fresh.shape[1]]
    k(u, boundary=mode, out=out)
    assert_same(out, fresh)
    big = random_field((9, 8), np.float64)
    u = big[:7, :5]
    out = big.T[:fresh.shape[1], :fresh.shape[0]].T     # a transposed alias
    fresh = k(u.copy(), boundary=mode)
    k(u, boundary=mode, out=out)
    assert_same(out, fresh)


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("mode", ALL_MODES)
def test_out_is_the_second_input(mode, backend):
    k = BACKENDS[backend]["two_fields"]
    a, b = random_field((7,), np.float64), random_field((7,), np.float64, seed=1)
    if mode == "valid":
        big = random_field((7,), np.float64, seed=1)
        b = big
        out = big[1:6]
    else:
        out = b
    fresh = k(a.copy(), b.copy(), boundary=mode)
    k(a, b, boundary=mode, out=out)
    assert_same(out, fresh)


@pytest.mark.parametrize("backend", ["llvm", "numpy"])
@pytest.mark.parametrize("mode", PAD_MODES + ("fill",))
def test_two_outputs_written_over_both_inputs(mode, backend):
    k = swap_mix if backend == "llvm" else swap_mix_r
    for order in ((0, 1), (1, 0)):
        u, v = random_field((8,), np.float64), random_field((8,), np.float64, seed=1)
        fresh = k(u.copy(), v.copy(), boundary=mode)
        fields = (u, v)
        out = (fields[order[0]], fields[order[1]])
        k(u, v, boundary=mode, out=out)
        assert_same(out[0], fresh[0])
        assert_same(out[1], fresh[1])


@pytest.mark.parametrize("backend", list(BACKENDS))
@pytest.mark.parametrize("mode", PAD_MODES + ("fill",))
def test_batched_in_place(mode, backend):
    k = BACKENDS[backend]["lopsided2d"]
    u = random_field((3, 7, 5), np.float64)
    fresh = k(u.copy(), boundary=mode)
    k(u, boundary=mode, out=u)
    assert_same(u, fresh)
    u = random_field((3, 7, 5), np.float64)
    fresh = k(u[::-1].copy(), boundary=mode)
    k(u[::-1], boundary=mode, out=u)                 # batch elements swapped in place
    assert_same(u, fresh)


@pytest.mark.parametrize("mode", ALL_MODES)
def test_int_in_place(mode):
    k = COMPILED["corner3d"]
    u = random_field((4, 5, 3), np.int64)
    fresh = k(u.copy(), boundary=mode, fill_value=-1)
    if mode == "valid":
        big = u.copy()
        out = big[:fresh.shape[0], :fresh.shape[1], :fresh.shape[2]]
        k(big, boundary=mode, fill_value=-1, out=out)
        assert_same(out, fresh)
    else:
        k(u, boundary=mode, fill_value=-1, out=u)
        assert_same(u, fresh)


def test_out_disjoint_from_inputs_is_written_directly():
    """No overlap: the kernel writes into ``out`` itself (no hidden copy needed)."""
    u = random_field((9,), np.float64)
    out = np.empty(9)
    got = COMPILED["fwd2_back1"](u, boundary="wrap", out=out)
    assert got is out
    assert_same(out, COMPILED["fwd2_back1"](u, boundary="wrap"))
