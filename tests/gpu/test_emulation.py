"""The GPU kernels' semantics without a GPU: the per-thread code compiled for the host and
run over the launch grid (``runtime/gpu/emulate.py``), through the whole GPU call path,
against the numpy reference backend and independent numpy oracles."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.decorator import Stencil
from stencilpy.runtime.gpu import execute as E
from stencilpy.runtime.gpu.emulate import EmulatedArray
from tests.boundary import _oracle
from tests.boundary import stencils as B
from tests.gpu.corpus import example_args, stencils

CORPUS = stencils()
MODES = ["fill", "valid", "constant", "wrap", "edge", "reflect", "symmetric", "extrapolate"]


def _emu(args: dict) -> dict:
    return {n: EmulatedArray(v) if isinstance(v, np.ndarray) else v for n, v in args.items()}


def _reference(k: Stencil) -> Stencil:
    return Stencil(k.pyfunc, dims=k.dims_argument, backend="numpy")


def _close(got, want, rtol=1e-10):
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, EmulatedArray)
        g = g.get()
        assert g.shape == w.shape and g.dtype == w.dtype
        if w.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=rtol, atol=rtol * 1e-3, equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)


def _modes_for(name: str, k) -> list:
    if name.startswith("mpdata"):
        return ["periodic"]
    i = sorted(CORPUS).index(name)
    modes = [MODES[i % 8], MODES[(i + 3) % 8]]
    if "extrapolate" in modes and any(a.dtype == bool for a in example_args(k).values()
                                      if isinstance(a, np.ndarray)):
        modes.remove("extrapolate")               # refused for bool fields (as on the CPU)
    return modes


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_against_reference(name):
    k = CORPUS[name]
    args = example_args(k)
    opts = {"fill_value": 1} if name in ("corpus.int_ops", "corpus.bool_logic") else {}
    ref = _reference(k)
    for mode in _modes_for(name, k):
        want = ref(**args, boundary=mode, **opts)
        _close(k(**_emu(args), boundary=mode, **opts), want)


@pytest.mark.parametrize("mode", MODES[:7])
@pytest.mark.parametrize("case", sorted(B.TERMS))
def test_boundary_modes_against_pad_oracle(case, mode):
    """Every mode on the boundary stencils, against numpy.pad + slicing (no stencilpy code)."""
    k = B.COMPILED[case]
    rng = np.random.default_rng(3)
    shape = B.SHAPES[case]
    fields = [rng.random(shape) for _ in k.ir.params]
    want = _oracle.apply(B.TERMS[case], fields, (mode,) * k.ndim, fill_value=0.25)
    got = k(*[EmulatedArray(f) for f in fields], boundary=mode, fill_value=0.25)
    np.testing.assert_allclose(got.get(), want, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("rows,block", [(1, (256, 1)), (8, (4, 2)), (3, (5, 3))],
                         ids=["r1", "r8", "r3"])
@pytest.mark.parametrize("mode", ["fill", "wrap", "constant", "valid"])
def test_loop_mappings(monkeypatch, rows, block, mode):
    """Rows per thread and block shapes (partial row blocks, thread tails) and the
    grid-stride loops over y and z (grid capped at 2 blocks) give the same answer."""
    monkeypatch.setitem(E.TUNING, 2, (rows,) + block)
    monkeypatch.setitem(E.TUNING, 3, (rows,) + block)
    monkeypatch.setattr(E, "MAX_GRID_YZ", 2)
    rng = np.random.default_rng(7)
    lap = CORPUS["corpus.hdiff"]
    u = rng.random((3, 29, 23))
    _close(lap(EmulatedArray(u), 0.1, boundary=mode), _reference(lap)(u, 0.1, boundary=mode))
    lap3 = CORPUS["corpus.lap3d"]
    u3 = rng.random((2, 9, 11, 13))
    _close(lap3(EmulatedArray(u3), boundary=mode), _reference(lap3)(u3, boundary=mode))


def test_hdiff_against_handwritten_numpy():
    k = CORPUS["corpus.hdiff"]
    rng = np.random.default_rng(11)
    u = rng.random((40, 50))
    c = u[1:-1, 1:-1]
    lap = 4 * c - (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2])
    flx = lap[1:, :] - lap[:-1, :]
    flx = np.where(flx * (c[1:, :] - c[:-1, :]) > 0, 0.0, flx)
    fly = lap[:, 1:] - lap[:, :-1]
    fly = np.where(fly * (c[:, 1:] - c[:, :-1]) > 0, 0.0, fly)
    want = c[1:-1, 1:-1] - 0.1 * (flx[1:, 1:-1] - flx[:-1, 1:-1] + fly[1:-1, 1:] - fly[1:-1, :-1])
    got = k(EmulatedArray(u), 0.1, boundary="valid").get()
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_mpdata_step_against_reference_solver():
    from stencilpy.mpdata.kernels import kernels
    from stencilpy.mpdata.reference import mpdata_step
    rng = np.random.default_rng(5)
    psi = 1.0 + rng.random((24, 30))
    c0 = 0.3 * (rng.random((25, 30)) - 0.5)
    c1 = 0.3 * (rng.random((24, 31)) - 0.5)
    c0[-1], c1[:, -1] = c0[0], c1[:, 0]            # the periodic face N is face 0
    K = kernels(2)
    got = K.step(EmulatedArray(psi), EmulatedArray(c0), EmulatedArray(c1), 1e-15,
                 boundary="periodic").get()
    want = mpdata_step(psi, (c0, c1), n_iters=2)
    np.testing.assert_allclose(got, want, rtol=1e-11)


def test_out_snapshot_and_multiple_outputs():
    two = CORPUS["corpus.two_out"]
    rng = np.random.default_rng(2)
    u, w = rng.random((12, 17)), rng.random(17)
    want = _reference(two)(u, w, boundary="wrap")
    eu = EmulatedArray(u.copy())
    other = EmulatedArray(np.empty_like(u))
    res = two(eu, EmulatedArray(w), boundary="wrap", out=(eu, other))
    assert res[0] is eu and res[1] is other
    _close(res, want)
    a = EmulatedArray(np.zeros_like(u))
    with pytest.raises(sp.StencilCallError, match="overlap each other"):
        two(EmulatedArray(u), EmulatedArray(w), boundary="wrap", out=(a, a))


def test_float32_scalars_and_strided_inputs():
    k = CORPUS["corpus.scaled"]
    rng = np.random.default_rng(4)
    u = rng.random((20, 31)).astype(np.float32)
    got = k(EmulatedArray(u), 0.5, 3, boundary="reflect")
    assert got.dtype == np.float32
    _close(got, _reference(k)(u, 0.5, 3, boundary="reflect"), rtol=1e-6)
    t = np.asfortranarray(rng.random((15, 16)))[::-1]      # negative and non-unit strides
    lap = CORPUS["_corpus_laplacian.laplacian_2d"]
    _close(lap(EmulatedArray(t), boundary="symmetric"),
           _reference(lap)(t, boundary="symmetric"))


def test_bad_gpu_calls_are_clear_errors():
    lap = CORPUS["_corpus_laplacian.laplacian_2d"]
    u = EmulatedArray(np.zeros((6, 6)))
    with pytest.raises(sp.StencilCallError, match="shape"):
        lap(u, out=EmulatedArray(np.zeros((5, 6))))
    ro = np.zeros((6, 6))
    ro.setflags(write=False)
    with pytest.raises(sp.StencilCallError, match="read-only"):
        lap(u, out=EmulatedArray(ro))
    with pytest.raises(sp.StencilCallError, match="GPU arrays"):
        lap(u, out=np.zeros((6, 6)))
    with pytest.raises(sp.StencilCallError, match="numpy reference backend"):
        _reference(lap)(u)
    with pytest.raises(sp.StencilCallError, match="too small"):
        lap(EmulatedArray(np.zeros((2, 2))), boundary="valid")


def test_check_option_and_host_fields_join():
    lap = CORPUS["corpus.two_out"]
    rng = np.random.default_rng(8)
    u, w = rng.random((9, 10)), rng.random(10)
    got = lap(EmulatedArray(u), w, boundary="edge", check=True)   # host w copied over
    _close(got, _reference(lap)(u, w, boundary="edge"))


def test_empty_and_batch_broadcast():
    lap = CORPUS["_corpus_laplacian.laplacian_2d"]
    got = lap(EmulatedArray(np.zeros((0, 5))))
    assert got.shape == (0, 5)
    two = CORPUS["corpus.two_out"]
    rng = np.random.default_rng(9)
    u, w = rng.random((2, 3, 7, 8)), rng.random((3, 1, 8))
    _close(two(EmulatedArray(u), EmulatedArray(w), boundary="symmetric"),
           _reference(two)(u, w, boundary="symmetric"))


def test_call_plans_follow_new_data_scalars_and_overlap():
    """A repeated call takes its plan: new arrays, new scalar values, a fresh output each
    time; an out= that overlaps an input (or another output) still goes the full way."""
    k = CORPUS["corpus.scaled"]
    ref = _reference(k)
    rng = np.random.default_rng(12)
    for alpha in (0.5, -2.0, 3.25):
        u = rng.random((14, 19))
        _close(k(EmulatedArray(u), alpha, 1.5, boundary="wrap"), ref(u, alpha, 1.5, boundary="wrap"))
    assert len(k.__dict__["_gpu_plans"]) == 1
    u = rng.random((14, 19))
    eu, other = EmulatedArray(u.copy()), EmulatedArray(np.zeros((14, 19)))
    k(eu, 0.5, 1.5, boundary="wrap", out=other)
    _close(other, ref(u, 0.5, 1.5, boundary="wrap"))
    k(eu, 0.5, 1.5, boundary="wrap", out=eu)                # same key, now in place
    _close(eu, ref(u, 0.5, 1.5, boundary="wrap"))
    two = CORPUS["corpus.two_out"]
    w = rng.random(19)
    a, b = EmulatedArray(np.zeros((14, 19))), EmulatedArray(np.zeros((14, 19)))
    two(EmulatedArray(u), EmulatedArray(w), boundary="wrap", out=(a, b))
    with pytest.raises(sp.StencilCallError, match="overlap each other"):
        two(EmulatedArray(u), EmulatedArray(w), boundary="wrap", out=(a, a))
