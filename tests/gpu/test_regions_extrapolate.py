"""GPU calls (host emulation of the per-thread code over the launch grid) with outputs that
have regions of their own under "fill"/"valid", and with boundary "extrapolate" (computed in
the edge kernel: the parabola through each end's three points).  Oracles: hand-written numpy
(slicing, ``numpy.gradient(edge_order=2)``, ``numpy.polyfit``) and the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.decorator import Stencil
from stencilpy.runtime.gpu import emulate
from stencilpy.runtime.gpu import execute as E
from stencilpy.runtime.gpu.arrays import DeviceArray
from stencilpy.runtime.gpu.emulate import EmulatedArray
from tests.boundary.test_extrapolate import _polyfit_extend


def _ref(k: Stencil) -> Stencil:
    return Stencil(k.pyfunc, dims=k.dims_argument, backend="numpy")


def _get(r):
    return tuple(x.get() for x in r) if isinstance(r, tuple) else r.get()


@sp.stencil
def pair(u):
    return u[1, 0] - u[-1, 0], u[0, 1] - u[0, -1]


@sp.stencil
def far_apart(u):                  # output regions that do not meet on a 5-point axis
    return u[3], u[-3] * 2.0


@sp.stencil
def shared_temp(u, w):             # a temporary only output 1 reads, and one both read
    s = u[1, 0] + u[-1, 0]
    t = s[0, 2] - u[0, -1]
    return s * w, t


@sp.stencil
def centred(u):
    return (u[1] - u[-1]) / 2.0


@sp.stencil
def grad2(u):
    return (u[1, 0] - u[-1, 0]) / 2.0 + 100.0 * (u[0, 1] - u[0, -1]) / 2.0


@sp.stencil
def nested(u):
    g = (u[1, 0] - u[-1, 0]) / 2.0
    return g[1, 0] - g[-1, 0] + u[0, 1]


@sp.stencil
def reach(u):
    return u[-2] + 10.0 * u[3] - u[1]


# -- outputs with regions of their own ------------------------------------------------------

def _pair_oracle(u, modes, fill=np.nan):
    """``pair`` by hand: output 0 needs rows 1..n-2, output 1 columns 1..m-2."""
    n, m = u.shape[-2:]
    a = np.full(u.shape, fill)
    b = np.full(u.shape, fill)
    a[..., 1:-1, :] = u[..., 2:, :] - u[..., :-2, :]
    b[..., :, 1:-1] = u[..., :, 2:] - u[..., :, :-2]
    for d, mode in enumerate(modes):
        if mode == "valid":
            axis = u.ndim - 2 + d
            keep_a = slice(1, -1) if d == 0 else slice(None)
            keep_b = slice(1, -1) if d == 1 else slice(None)
            a = a[(slice(None),) * axis + (keep_a,)]
            b = b[(slice(None),) * axis + (keep_b,)]
    return a, b


@pytest.mark.parametrize("modes", [("fill", "fill"), ("valid", "valid"), ("valid", "fill"),
                                   ("fill", "valid")])
@pytest.mark.parametrize("shape", [(7, 9), (3, 2, 6, 5)])
def test_pair_against_slicing_and_reference(modes, shape):
    u = np.random.default_rng(1).random(shape)
    boundary = dict(enumerate(modes))
    got = _get(pair(EmulatedArray(u), boundary=boundary, fill_value=-1.5))
    want = _pair_oracle(u, modes, fill=-1.5)
    ref = _ref(pair)(u, boundary=boundary, fill_value=-1.5)
    for g, w, r in zip(got, want, ref):
        assert g.shape == w.shape == r.shape
        np.testing.assert_allclose(g, w, rtol=1e-14)
        np.testing.assert_allclose(g, r, rtol=1e-14)


def test_no_common_region():
    """Output 0 is computed on [0, 2), output 1 on [3, 5): the common region is empty."""
    u = np.random.default_rng(2).random((2, 5))
    for mode in ("fill", "valid"):
        got = _get(far_apart(EmulatedArray(u), boundary=mode))
        want = _ref(far_apart)(u, boundary=mode)
        for g, w in zip(got, want):
            assert g.shape == w.shape
            np.testing.assert_array_equal(g, w)
    a, b = _get(far_apart(EmulatedArray(u), boundary="valid"))
    np.testing.assert_array_equal(a, u[:, 3:])
    np.testing.assert_array_equal(b, u[:, :2] * 2.0)


@pytest.mark.parametrize("mode", ["fill", "valid", {0: "wrap", 1: "valid"},
                                  {0: "valid", 1: "fill"}])
def test_temporaries_only_one_output_reads(mode):
    rng = np.random.default_rng(3)
    u, w = rng.random((11, 13)), rng.random(13)
    got = _get(shared_temp(EmulatedArray(u), EmulatedArray(w), boundary=mode))
    want = _ref(shared_temp)(u, w, boundary=mode)
    for g, r in zip(got, want):
        assert g.shape == r.shape
        np.testing.assert_allclose(g, r, rtol=1e-13, equal_nan=True)


def test_out_shapes_plans_and_snapshot():
    """``out=`` with each output's own shape, repeated calls through the call plan, and
    an output that is also the input (computed fresh, then copied)."""
    rng = np.random.default_rng(4)
    ref = _ref(pair)
    pair.__dict__.pop("_gpu_plans", None)
    for _ in range(3):
        u = rng.random((8, 10))
        a, b = EmulatedArray(np.zeros((6, 10))), EmulatedArray(np.zeros((8, 8)))
        res = pair(EmulatedArray(u), boundary="valid", out=(a, b))
        assert res[0] is a and res[1] is b
        for g, w in zip(_get(res), ref(u, boundary="valid")):
            np.testing.assert_allclose(g, w, rtol=1e-14)
    assert len(pair.__dict__["_gpu_plans"]) == 1
    with pytest.raises(sp.StencilCallError, match=r"out\[1\] has shape \(8, 10\)"):
        pair(EmulatedArray(u), boundary="valid",
             out=(EmulatedArray(np.zeros((6, 10))), EmulatedArray(np.zeros((8, 10)))))
    u = rng.random((8, 10))
    eu = EmulatedArray(u.copy())
    other = EmulatedArray(np.zeros((8, 10)))
    pair(eu, boundary="fill", out=(eu, other))
    for g, w in zip((eu.get(), other.get()), ref(u, boundary="fill")):
        np.testing.assert_allclose(g, w, rtol=1e-14, equal_nan=True)


def test_per_output_launches_use_the_output_origin():
    """Under "valid" each output's pointer is biased by its own origin, so the kernels
    address outputs by domain index; the strips write only inside their output."""
    u = np.random.default_rng(5).random((6, 7))
    call = pair.bind({"u": EmulatedArray(u)}, boundary="valid")
    assert call.out_shapes == ((4, 7), (6, 5))
    outs = [EmulatedArray(np.zeros(s)) for s in call.out_shapes]
    launches = E.plan_launches(emulate.device(), pair, call, outs,
                               {"u": DeviceArray(EmulatedArray(u))})
    kernels = {id(k) for k, *_ in launches}
    assert len(kernels) == 3                          # main, output 0 alone, output 1 alone
    assert {tuple(which) for *_, which in launches} == {(0, 1, 2), (0, 1), (0, 2)}


# -- boundary "extrapolate" --------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3,), (4,), (11,), (2, 9), (3, 2, 17)])
def test_centred_difference_is_numpy_gradient(shape):
    u = np.random.default_rng(1).normal(size=shape) * 5.0 + 3.0
    got = centred(EmulatedArray(u), boundary="extrapolate").get()
    np.testing.assert_allclose(got, np.gradient(u, axis=-1, edge_order=2), rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", [3, 4, 5, 12])
def test_ghosts_several_points_out_are_on_the_parabola(n):
    u = np.random.default_rng(n).normal(size=(2, n))
    p = _polyfit_extend(u, 1, 2, 3)
    want = p[:, 0:n] + 10.0 * p[:, 5:5 + n] - p[:, 3:3 + n]
    got = reach(EmulatedArray(u), boundary="extrapolate").get()
    np.testing.assert_allclose(got, want, atol=1e-10)


@pytest.mark.parametrize("modes", [{0: "extrapolate", 1: "extrapolate"},
                                   {0: "extrapolate", 1: "wrap"},
                                   {0: "reflect", 1: "extrapolate"},
                                   {0: "extrapolate", 1: "constant"},
                                   {0: "extrapolate", 1: "fill"},
                                   {0: "valid", 1: "extrapolate"}])
def test_per_axis_corners_and_temporaries(modes):
    u = np.random.default_rng(2).normal(size=(4, 6, 7))
    got = grad2(EmulatedArray(u), boundary=modes, fill_value=0.5).get()
    want = _ref(grad2)(u, boundary=modes, fill_value=0.5)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-11, equal_nan=True)
    if "constant" not in modes.values() and "fill" not in modes.values() and \
            "valid" not in modes.values():
        a = _polyfit_extend(u, 1, 1, 1) if modes[0] == "extrapolate" else \
            np.pad(u, ((0, 0), (1, 1), (0, 0)), mode=modes[0])
        b = _polyfit_extend(u, 2, 1, 1) if modes[1] == "extrapolate" else \
            np.pad(u, ((0, 0), (0, 0), (1, 1)), mode=modes[1])
        oracle = (a[:, 2:] - a[:, :-2]) / 2.0 + 100.0 * (b[..., 2:] - b[..., :-2]) / 2.0
        np.testing.assert_allclose(got, oracle, rtol=1e-13, atol=1e-11)
    v = np.random.default_rng(3).normal(size=(7, 9))
    got = nested(EmulatedArray(v), boundary="extrapolate").get()
    p = _polyfit_extend(_polyfit_extend(v, 0, 2, 2), 1, 1, 1)
    g = (p[2:] - p[:-2]) / 2.0
    np.testing.assert_allclose(got, g[2:, 1:-1] - g[:-2, 1:-1] + p[2:-2, 2:], rtol=1e-12,
                               atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.int32])
def test_extrapolate_dtypes(dtype):
    u = (np.random.default_rng(5).normal(size=(5, 9)) * 50).astype(dtype)
    got = reach(EmulatedArray(u), boundary="extrapolate")
    want = _ref(reach)(u, boundary="extrapolate")
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got.get(), want, rtol=1e-6)


def test_extrapolate_staggered_and_errors():
    @sp.stencil
    def faces(c, f):
        return c + f[1] - f[-1]

    c, f = np.zeros(5), np.arange(6.0) ** 2
    got = faces(EmulatedArray(c), EmulatedArray(f), boundary="extrapolate").get()
    assert got[0] == f[1] - (3 * f[0] - 3 * f[1] + f[2])
    assert got[4] == f[5] - f[3]
    with pytest.raises(sp.StencilCallError, match="at least 3 points"):
        centred(EmulatedArray(np.ones(2)), boundary="extrapolate")

    @sp.stencil
    def flag(b):
        return b[1] and b[-1]

    with pytest.raises(sp.StencilCallError, match="bool"):
        flag(EmulatedArray(np.ones(5, bool)), boundary="extrapolate")


def test_extrapolate_in_place_and_plan():
    rng = np.random.default_rng(6)
    for _ in range(2):
        u = rng.normal(size=(5, 8))
        want = _ref(grad2)(u, boundary="extrapolate")
        eu = EmulatedArray(u)
        grad2(eu, boundary="extrapolate", out=eu)
        np.testing.assert_allclose(eu.get(), want, rtol=1e-13)
