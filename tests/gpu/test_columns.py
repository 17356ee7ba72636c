"""Column stencils (sweeps) on the GPU path, without a GPU: the column kernels of
``codegen/gpu/columns.py`` compiled for the host and run over their launch grids
(``runtime/gpu/emulate.py``), against hand-written loops over levels and the numpy
reference; their PTX validated by ptxas where installed."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.codegen.gpu.columns import group_blocks, register_temporaries
from stencilpy.decorator import Stencil
from stencilpy.runtime.gpu import ptx as P
from stencilpy.runtime.gpu.emulate import EmulatedArray
from tests.columns import test_semantics as S

rng = np.random.default_rng(21)


def compiled(k):
    return sp.stencil(k.pyfunc, dims=k.dims_argument, backend="llvm")


def _ref(k) -> Stencil:
    return Stencil(k.pyfunc, dims=k.dims_argument, backend="numpy")


THOMAS = compiled(S.thomas)
SMOOTHED = compiled(S.smoothed_running)


@sp.stencil(dims=("lev", "x"))
def column_stats(q):
    s = q
    m = q
    with sp.forward("lev"):
        with sp.levels(1, None):
            s = s + s[lev - 1]
            m = max(m, m[lev - 1])
    with sp.backward("lev"):
        with sp.levels(-1, None):
            total = s
        with sp.levels(0, -1):
            total = total[lev + 1]
            m = m[lev + 1]
    return s, total, m


@sp.stencil(dims=("lev", "x"))
def count_wet(wet):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            n = 1 if wet else 0
        with sp.levels(1, None):
            n = n[lev - 1] + (1 if wet else 0)
    return n, n > 2


@sp.stencil(dims=("y", "lon"))
def along_lon(u, k):                    # a backward sweep along the fastest axis
    t = u[y + 1] - u[y - 1]
    t = t[lon + 1] + t[lon - 1]         # a reassignment read at offsets: its own storage
    with sp.backward("lon"):
        with sp.levels(-1, None):
            acc = t
        with sp.levels(0, -1):
            if t > 0:
                acc = acc[lon + 1] * k + t
            else:
                acc = acc[lon + 1] - t
    return acc


def along_lon_loop(u, k):
    up = np.pad(u, ((1, 1), (1, 1)), mode="edge")
    t0 = up[2:] - up[:-2]
    t = t0[:, 2:] + t0[:, :-2]
    acc = np.empty_like(t)
    acc[:, -1] = t[:, -1]
    for j in range(t.shape[1] - 2, -1, -1):
        acc[:, j] = np.where(t[:, j] > 0, acc[:, j + 1] * k + t[:, j], acc[:, j + 1] - t[:, j])
    return acc


def test_thomas_against_loop_shapes_batch_and_float32():
    for shape in [(9, 4, 5), (1, 3, 2), (2, 3, 17), (12, 1, 33)]:
        a, b, c, d = S._system(shape)
        got = THOMAS(*(EmulatedArray(x) for x in (a, b, c, d)))
        np.testing.assert_allclose(got.get(), S.thomas_loop(a, b, c, d), rtol=1e-13)
    a, b, c, d = S._system((5, 3, 4))
    batch = np.stack([d, 2 * d])
    got = THOMAS(*(EmulatedArray(x) for x in (a, b, c, batch))).get()
    np.testing.assert_allclose(got[1], 2 * S.thomas_loop(a, b, c, d), rtol=1e-13)
    a32, b32, c32, d32 = (x.astype(np.float32) for x in (a, b, c, d))
    got = THOMAS(*(EmulatedArray(x) for x in (a32, b32, c32, d32)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got.get(), S.thomas_loop(a32, b32, c32, d32), rtol=1e-5)


def test_thomas_out_snapshot_and_check():
    a, b, c, d = S._system((6, 3, 4))
    ed = EmulatedArray(d.copy())
    got = THOMAS(EmulatedArray(a), EmulatedArray(b), EmulatedArray(c), ed, out=ed)
    assert got is ed
    np.testing.assert_allclose(ed.get(), S.thomas_loop(a, b, c, d), rtol=1e-13)
    got = THOMAS(*(EmulatedArray(x) for x in (a, b, c, d)), check=True)
    np.testing.assert_allclose(got.get(), S.thomas_loop(a, b, c, d), rtol=1e-13)


@pytest.mark.parametrize("mode", ["wrap", "edge", "reflect", "symmetric"])
def test_modes_on_the_other_axes(mode):
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    got = SMOOTHED(EmulatedArray(u), EmulatedArray(w),
                   boundary={"lev": "edge", "lat": mode, "lon": mode})
    np.testing.assert_allclose(got.get(), S.smoothed_running_loop(u, w, mode, "edge"), rtol=1e-13)


@pytest.mark.parametrize("boundary", ["fill", "valid", {"lev": "extrapolate", "lat": "wrap",
                                                        "lon": "constant"}])
def test_fill_valid_extrapolate_against_reference(boundary):
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    got = SMOOTHED(EmulatedArray(u), EmulatedArray(w), boundary=boundary, fill_value=0.5).get()
    want = _ref(SMOOTHED)(u, w, boundary=boundary, fill_value=0.5)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)
    if boundary == "valid":
        np.testing.assert_allclose(got, S.smoothed_running_loop(u, w, "edge", "edge")[:-1, 2:-2, 1:-1],
                                   rtol=1e-13)


def test_running_sums_totals_and_maxima():
    q = rng.random((6, 4))
    s, total, m = (r.get() for r in column_stats(EmulatedArray(q)))
    np.testing.assert_allclose(s, np.cumsum(q, axis=0), rtol=1e-14)
    np.testing.assert_allclose(total, np.broadcast_to(q.sum(axis=0), q.shape), rtol=1e-14)
    np.testing.assert_allclose(m, np.broadcast_to(q.max(axis=0), q.shape))


def test_integer_and_bool_columns():
    wet = rng.random((7, 5)) > 0.4
    n, many = count_wet(EmulatedArray(wet))
    assert n.dtype == np.int64 and many.dtype == bool
    np.testing.assert_array_equal(n.get(), np.cumsum(wet, axis=0))
    np.testing.assert_array_equal(many.get(), np.cumsum(wet, axis=0) > 2)


def test_backward_sweep_along_the_fastest_axis_and_reassignment():
    u = rng.normal(size=(5, 9))
    got = along_lon(EmulatedArray(u), 0.5, boundary="edge").get()
    np.testing.assert_allclose(got, along_lon_loop(u, 0.5), rtol=1e-13)
    np.testing.assert_allclose(got, _ref(along_lon)(u, 0.5, boundary="edge"), rtol=1e-13)


def test_register_temporaries_and_launch_groups():
    """``m`` (thomas) and the if/else temporaries of ``along_lon`` never touch memory;
    ``cp``, ``dp`` (read by the second sweep) and returned temporaries do."""
    from stencilpy.codegen.sweeps import version_reassignments
    ir = version_reassignments(THOMAS.ir)
    assert register_temporaries(ir, (9, 4, 5)) == {"m"}
    ir = version_reassignments(along_lon.compiler.call_ir(frozenset({"k"})))
    regs = register_temporaries(ir, (5, 9))
    assert "acc" not in regs and regs and all("@" in r for r in regs)
    groups = group_blocks(ir)
    assert [type(g).__name__ for g in groups] == ["tuple", "tuple", "Sweep"]


@pytest.mark.parametrize("k", [THOMAS, SMOOTHED, column_stats, count_wet, along_lon],
                         ids=lambda k: k.ir.name)
def test_column_ptx(k):
    shape = (6, 5, 7)[:k.ndim]
    args = [rng.random(shape) > 0.5 if k is count_wet else rng.random(shape)
            for p in k.ir.params if p.name != "k"]
    options = {}
    if k is along_lon:
        args.append(0.5)
        # under "fill" its backward recurrence starts from a level whose reads reach outside
        # the arrays along lon, so no level has a value (a StencilCallError): pad along lon
        options = {"boundary": {"lon": "edge"}}
    text = sp.inspect(k, "ptx", *args, **options)
    assert text.count(".entry sp_col_") >= 2
    assert "ld.global.nc" in text                      # fields read through the read-only path
    if P.ptxas_path() is not None:
        report = P.ptxas_check(text)
        assert "Compiling entry function 'sp_col_b0'" in report


def test_axis_too_short_for_the_ranges_is_a_call_error():
    @sp.stencil(dims=("lev", "x"))
    def edges(a):
        with sp.forward("lev"):
            with sp.levels(0, 2):
                t = a
            with sp.levels(2, -2):
                t = 3.0 * a
            with sp.levels(-2, None):
                t = 2.0 * a
        return t

    got = edges(EmulatedArray(np.ones((5, 2)))).get()
    np.testing.assert_array_equal(got[:, 0], [1.0, 1.0, 3.0, 2.0, 2.0])
    cpu_error = None
    try:
        edges(np.ones((3, 2)))
    except sp.StencilCallError as exc:
        cpu_error = str(exc)
    if cpu_error is None:
        np.testing.assert_array_equal(edges(EmulatedArray(np.ones((3, 2)))).get(),
                                      edges(np.ones((3, 2))))
    else:
        with pytest.raises(sp.StencilCallError, match="cannot run on this domain"):
            edges(EmulatedArray(np.ones((3, 2))))


# -- staged stencils: no sweeps, temporaries stored once instead of recomputed ----------------

def test_heavy_fused_stencils_run_staged():
    """The fused FCT step would recompute its temporaries ~6x over (2-D) and ~12x (3-D):
    it runs staged; the Laplacians, hdiff and the donor-cell pass stay one fused kernel."""
    from stencilpy.bench.gpu import hdiff, lap2d
    from stencilpy.mpdata.kernels import kernels
    from stencilpy.runtime.gpu import execute as E

    K2, K3 = kernels(2), kernels(3)
    eps = frozenset({"eps"})
    assert E.staged(K2.step_fct.compiler.call_ir(eps))
    assert E.staged(K3.step_fct.compiler.call_ir(eps))
    assert not E.staged(K2.upwind.compiler.call_ir(frozenset()))
    assert not E.staged(hdiff.compiler.call_ir(frozenset({"coeff"})))
    assert not E.staged(lap2d.compiler.call_ir(frozenset()))
    fused, once = E.recompute_costs(K2.step_fct.compiler.call_ir(eps))
    assert fused > 4 * once


@pytest.mark.parametrize("nd,shape", [(1, (40,)), (2, (24, 30)), (3, (8, 9, 10))])
@pytest.mark.parametrize("mode", ["periodic", "fill", "valid"])
def test_staged_mpdata_against_reference(nd, shape, mode):
    from stencilpy.mpdata.kernels import kernels
    K = kernels(nd)
    r = np.random.default_rng(nd)
    psi = 1 + r.random(shape)
    C = [0.3 * (r.random(shape) - 0.5) for _ in range(nd)]
    for k in (K.step, K.step_fct):
        got = k(EmulatedArray(psi), *[EmulatedArray(c) for c in C], 1e-10, boundary=mode).get()
        want = _ref(k)(psi, *C, 1e-10, boundary=mode)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14, equal_nan=True)


def test_staged_mpdata_step_against_the_solver():
    from stencilpy.mpdata.kernels import kernels
    from stencilpy.mpdata.reference import mpdata_step
    r = np.random.default_rng(5)
    psi = 1.0 + r.random((24, 30))
    c0 = 0.3 * (r.random((25, 30)) - 0.5)
    c1 = 0.3 * (r.random((24, 31)) - 0.5)
    c0[-1], c1[:, -1] = c0[0], c1[:, 0]
    K = kernels(2)
    got = K.step_fct(EmulatedArray(psi), EmulatedArray(c0), EmulatedArray(c1), 1e-15,
                     boundary="periodic").get()
    np.testing.assert_allclose(got, _ref(K.step_fct)(psi, c0, c1, 1e-15, boundary="periodic"),
                               rtol=1e-12)
    plain = K.step(EmulatedArray(psi), EmulatedArray(c0), EmulatedArray(c1), 1e-15,
                   boundary="periodic").get()
    np.testing.assert_allclose(plain, mpdata_step(psi, (c0, c1), n_iters=2), rtol=1e-11)


def test_corpus_forced_staged(monkeypatch):
    """Every corpus stencil with temporaries, forced through the staged kernels."""
    from stencilpy.runtime.gpu import execute as E
    from tests.gpu.corpus import example_args, stencils
    monkeypatch.setattr(E, "STAGED", True)
    corpus = stencils()
    names = [n for n in sorted(corpus) if corpus[n].ir.body and not corpus[n].columns
             and not n.startswith("mpdata")][:40]
    assert len(names) >= 10
    modes = ["fill", "valid", "constant", "wrap", "edge", "reflect", "symmetric", "extrapolate"]
    for i, name in enumerate(names):
        k = corpus[name]
        args = example_args(k)
        opts = {"fill_value": 1} if name in ("corpus.int_ops", "corpus.bool_logic") else {}
        mode = modes[i % 8]
        if mode == "extrapolate" and any(isinstance(a, np.ndarray) and a.dtype == bool
                                         for a in args.values()):
            mode = "edge"
        want = _ref(k)(**args, boundary=mode, **opts)
        got = k(**{n: EmulatedArray(v) if isinstance(v, np.ndarray) else v
                   for n, v in args.items()}, boundary=mode, **opts)
        got, want = (got if isinstance(got, tuple) else (got,)), \
            (want if isinstance(want, tuple) else (want,))
        for g, w in zip(got, want):
            g = g.get()
            assert g.shape == w.shape and g.dtype == w.dtype, name
            if w.dtype.kind == "f":
                np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-13, equal_nan=True,
                                           err_msg=f"{name} {mode}")
            else:
                np.testing.assert_array_equal(g, w, err_msg=f"{name} {mode}")
