"""Row-invariant sub-expressions are computed once per row (codegen/hoist.py), and the result
is unchanged: compiled == numpy reference backend == hand-written numpy, for fields broadcast
along the inner axis, inline temporaries, scalars, padding boundary modes, 2-D and 3-D."""

import re

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.codegen import hoist
from stencilpy.ir import nodes as N

from _support import assert_same, random_field


def thickness(t, p):
    return t[0, 0] * sp.log(p[0, 0] / p[1, 0])


def scaled_gradient(u, coslat, a):
    scale = a / (2.0 * coslat)                       # an inline temporary, invariant
    return (u[0, 0, 1] - u[0, 0, -1]) * scale + sp.sqrt(coslat[0, 1, 0] * coslat)


def _pressure(nl, dtype=np.float64):
    return np.linspace(1000.0, 100.0, nl, dtype=dtype)[:, None]      # (level, 1)


@pytest.fixture(params=[True, False], ids=["hoisted", "not-hoisted"])
def hoisting(request, monkeypatch):
    monkeypatch.setattr(hoist, "ENABLED", request.param)
    return request.param


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_thickness_matches_reference_and_numpy(hoisting, dtype):
    t = random_field((9, 37), dtype, seed=1, low=200.0, high=300.0)
    p = _pressure(9, dtype)
    got = sp.stencil(thickness)(t, p)
    want = np.full_like(t, np.nan)
    want[:-1] = t[:-1] * np.log(p[:-1] / p[1:])
    assert_same(got, want)
    assert_same(got, sp.stencil(thickness, backend="numpy")(t, p))


@pytest.mark.parametrize("mode", ["periodic", "edge", "constant"])
def test_thickness_padding_modes(hoisting, mode):
    t = random_field((7, 21), seed=2, low=200.0, high=300.0)
    p = _pressure(7)
    got = sp.stencil(thickness)(t, p, boundary=mode)
    assert_same(got, sp.stencil(thickness, backend="numpy")(t, p, boundary=mode))
    if mode == "periodic":
        assert_same(got, t * np.log(p / np.roll(p, -1, axis=0)))


def test_3d_inline_temporary_and_scalar(hoisting):
    u = random_field((4, 6, 33), seed=3)
    coslat = np.cos(np.linspace(-1.2, 1.2, 6))[:, None]             # (lat, 1): along lon
    got = sp.stencil(scaled_gradient)(u, coslat, 3.0)
    want = np.full_like(u, np.nan)
    scale = 3.0 / (2.0 * coslat)
    want[:, :-1, 1:-1] = ((u[:, :-1, 2:] - u[:, :-1, :-2]) * scale[:-1]
                          + np.sqrt(coslat[1:] * coslat[:-1]))
    assert_same(got, want)
    assert_same(got, sp.stencil(scaled_gradient, backend="numpy")(u, coslat, 3.0))


def test_hoisted_values_are_bitwise_the_unhoisted_ones(monkeypatch):
    t = random_field((16, 130), seed=4, low=200.0, high=300.0)
    p = _pressure(16) * (1.0 + 0.01 * random_field((16, 1), seed=5))
    monkeypatch.setattr(hoist, "ENABLED", True)
    on = sp.stencil(thickness)(t, p)
    monkeypatch.setattr(hoist, "ENABLED", False)
    off = sp.stencil(thickness)(t, p)
    np.testing.assert_array_equal(on, off)


def test_the_roots_are_the_maximal_invariant_terms():
    from stencilpy.codegen.context import KernelContext
    from stencilpy.codegen.target import CpuTarget
    from stencilpy.inspection import _example_spec

    k = sp.stencil(thickness)
    spec = _example_spec(k, (np.ones((4, 8)), np.ones((4, 1))), {})
    ctx = KernelContext.of(spec, CpuTarget())
    roots = hoist.invariant_roots(ctx, list(spec.stencil.returns))
    assert len(roots) == 1
    assert isinstance(roots[0], N.Call) and roots[0].func == "log"
    spec2 = _example_spec(k, (np.ones((4, 8)), np.ones((4, 8))), {})   # p not broadcast
    assert hoist.invariant_roots(KernelContext.of(spec2, CpuTarget()),
                                 list(spec2.stencil.returns)) == []


def test_the_vectorised_loop_calls_no_log():
    """Unhoisted, LLVM vectorises log over the row (llvm.log.v4f64); hoisted, one scalar
    log per row is all that is left."""
    k = sp.stencil(thickness)
    args = (np.zeros((8, 64)), np.ones((8, 1)))
    opt = sp.inspect(k, "llvm-opt", *args)
    assert re.search(r"call .*@llvm\.log\.f64", opt)
    assert not re.search(r"@llvm\.log\.v\d+f64", opt)
    assert len(re.findall(r"call [^\n]*@\"?llvm\.log", sp.inspect(k, "llvm", *args))) == 1
