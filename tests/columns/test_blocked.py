"""The blocked column kernel (codegen/columns.py, runtime/columns.py): compiled against the
numpy reference backend AND an independent formula (scipy.linalg.solve_banded, numpy
cumsum/roll/pad), on odd shapes (one column, widths that are no multiple of a vector or a
block), several threads, boundary modes on the other axes, out= snapshots and the
prepared fast path; and the plan's storage choices."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import solve_banded

import stencilpy as sp
from stencilpy.bench import stencils
from stencilpy.codegen.column_plan import plan_columns
from stencilpy.runtime import columns as runtime_columns

RTOL = 1e-12


def both(fn, dims=None):
    return (sp.stencil(fn, dims=dims, backend="llvm"),
            sp.stencil(fn, dims=dims, backend="numpy"))


def close(got, want, rtol=RTOL):
    scale = np.max(np.abs(want)) if np.size(want) else 1.0
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * scale)


# -- the tridiagonal solve ------------------------------------------------------------------

THOMAS, THOMAS_REF = both(stencils.thomas, ("lev", "lat", "lon"))


def system(shape, seed=0):
    rng = np.random.default_rng(seed)
    a, c = -rng.random(shape), -rng.random(shape)
    b, d = 3.0 + rng.random(shape), rng.random(shape)
    return a, b, c, d


def banded(a, b, c, d):
    """Each column solved by scipy.linalg.solve_banded (a: sub-, c: super-diagonal)."""
    nz = d.shape[0]
    out = np.empty_like(d)
    for j, i in np.ndindex(*d.shape[1:]):
        bands = np.zeros((3, nz))
        bands[0, 1:] = c[:-1, j, i]
        bands[1] = b[:, j, i]
        bands[2, :-1] = a[1:, j, i]
        out[:, j, i] = solve_banded((1, 1), bands, d[:, j, i])
    return out


@pytest.mark.parametrize("shape", [(5, 1, 1), (2, 1, 9), (7, 3, 13), (13, 2, 263), (33, 5, 70)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thomas_odd_shapes_and_threads(shape, threads):
    a, b, c, d = system(shape)
    got = THOMAS(a, b, c, d, threads=threads)
    close(got, banded(a, b, c, d))
    close(got, THOMAS_REF(a, b, c, d))


def test_thomas_env_threads_and_many_blocks(monkeypatch):
    """STENCILPY_NUM_THREADS picks the threads; a tiny L2 share makes many small blocks."""
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "2")
    monkeypatch.setattr(runtime_columns, "L2_SHARE", 1e-4)
    monkeypatch.setattr(runtime_columns, "MIN_ROW", 8)
    a, b, c, d = system((11, 9, 45), seed=1)
    close(THOMAS(a, b, c, d), banded(a, b, c, d))


def test_block_shape_follows_the_cache(monkeypatch):
    a, b, c, d = system((80, 64, 1000))
    call = THOMAS.bind(dict(a=a, b=b, c=c, d=d), threads=1)
    from stencilpy.reference.columns import source_tables
    prep = runtime_columns._Prepared(call, source_tables(call))
    monkeypatch.setattr(runtime_columns, "l2_bytes", lambda: 1 << 20)
    w1, r1, _ = prep.block_shape(1)
    monkeypatch.setattr(runtime_columns, "l2_bytes", lambda: 16 << 20)
    w16, r16, _ = prep.block_shape(1)
    assert w1 * r1 < w16 * r16          # a larger cache: larger blocks
    assert w1 % 8 == 0 or w1 == 1000


# -- the reassignment bug: a parallel statement reading its old value at an offset -----------

def reassigned(u):
    t = u
    t = t[1, 0, 0] + t[-1, 0, 0]
    with sp.forward(2):
        s = t
        with sp.levels(1, None):
            s = s[0, 0, -1] + t
    return s


REASSIGNED, REASSIGNED_REF = both(reassigned)


@pytest.mark.parametrize("shape", [(4, 3, 5), (6, 1, 9), (3, 7, 1)])
@pytest.mark.parametrize("threads", [1, 2])
def test_reassigned_name_read_at_an_offset(shape, threads):
    u = np.random.default_rng(2).random(shape)
    got = REASSIGNED(u, boundary="periodic", threads=threads)
    want = np.cumsum(np.roll(u, -1, 0) + np.roll(u, 1, 0), axis=2)
    close(got, want)
    close(got, REASSIGNED_REF(u, boundary="periodic"))


# -- omega: horizontal offsets inside the sweep, boundary modes on the other axes -------------

def omega(u, v, p, dx, dy):
    with sp.forward("lev"):
        div = (u[lon + 1] - u[lon - 1]) / (2.0 * dx) + (v[lat + 1] - v[lat - 1]) / (2.0 * dy)
        with sp.levels(0, 1):
            w = 0.0 * div
        with sp.levels(1, None):
            w = w[lev - 1] - 0.5 * (div + div[lev - 1]) * (p - p[lev - 1])
    return w


OMEGA, OMEGA_REF = both(omega, ("lev", "lat", "lon"))


def omega_numpy(u, v, p, dx, dy, mode, fill=0.0):
    """numpy: pad lat/lon by the mode, centred differences, trapezoidal cumsum."""
    pad = ((0, 0), (1, 1), (1, 1))
    kw = {"constant_values": fill} if mode == "constant" else {}
    np_mode = {"periodic": "wrap"}.get(mode, mode)
    up, vp = np.pad(u, pad, mode=np_mode, **kw), np.pad(v, pad, mode=np_mode, **kw)
    div = (up[:, 1:-1, 2:] - up[:, 1:-1, :-2]) / (2 * dx) \
        + (vp[:, 2:, 1:-1] - vp[:, :-2, 1:-1]) / (2 * dy)
    layer = -0.5 * (div[1:] + div[:-1]) * (p[1:] - p[:-1])
    w = np.zeros_like(div)
    w[1:] = np.cumsum(layer, axis=0)
    return w


@pytest.mark.parametrize("mode", ["periodic", "edge", "reflect", "symmetric", "constant"])
@pytest.mark.parametrize("shape", [(6, 1, 1), (5, 4, 3), (9, 11, 37), (4, 3, 300)])
def test_omega_modes(mode, shape):
    rng = np.random.default_rng(4)
    u, v = rng.standard_normal(shape), rng.standard_normal(shape)
    p = np.linspace(1e4, 1e5, shape[0])[:, None, None]
    boundary = {"lev": "edge", "lat": mode, "lon": mode}
    if mode == "reflect" and min(shape[1:]) < 2:
        return                                        # numpy cannot reflect one point
    got = OMEGA(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5, threads=2)
    close(got, omega_numpy(u, v, p, 5e4, 4e4, mode, 0.5))
    close(got, OMEGA_REF(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5))


def test_omega_fill_and_valid():
    rng = np.random.default_rng(5)
    u, v = rng.standard_normal((7, 8, 9)), rng.standard_normal((7, 8, 9))
    p = np.linspace(1e4, 1e5, 7)[:, None, None]
    for boundary in ("fill", "valid", {"lat": "periodic"}):
        want = OMEGA_REF(u, v, p, 1.0, 2.0, boundary=boundary)
        got = OMEGA(u, v, p, 1.0, 2.0, boundary=boundary)
        assert got.shape == want.shape
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        close(np.nan_to_num(got), np.nan_to_num(want))


def test_out_snapshot_and_direct_writes():
    rng = np.random.default_rng(6)
    shape = (6, 5, 19)
    u, v = rng.standard_normal(shape), rng.standard_normal(shape)
    p = np.linspace(1e4, 1e5, 6)[:, None, None]
    want = omega_numpy(u, v, p, 1.0, 1.0, "periodic")
    for _ in range(2):                                    # full path, then the fast path
        uu = u.copy()
        assert OMEGA(uu, v, p, 1.0, 1.0, boundary="periodic", out=uu) is uu   # out is an input
        close(uu, want)
        out = np.full(shape, np.nan)
        assert OMEGA(u, v, p, 1.0, 1.0, boundary="periodic", out=out) is out
        close(out, want)
        strided = np.full((6, 5, 38), np.nan)[:, :, ::2]
        OMEGA(u, v, p, 1.0, 1.0, boundary="periodic", out=strided)
        close(strided, want)


def test_fast_path_prepared_once_and_scalars_patched():
    k = sp.stencil(omega, dims=("lev", "lat", "lon"))
    rng = np.random.default_rng(7)
    u, v = rng.standard_normal((5, 6, 7)), rng.standard_normal((5, 6, 7))
    p = np.linspace(1e4, 1e5, 5)[:, None, None]
    for dx in (1.0, 2.0, 3.5):
        close(k(u, v, p, dx, 2.0, boundary="periodic"),
              omega_numpy(u, v, p, dx, 2.0, "periodic"))
    assert len(k._fast.prepared) == 1


def test_batch_axes_and_broadcast_fields():
    """Leading batch axes, a (lev, 1, 1) field, a (lat, lon) field."""
    def damped(u, k, p):
        with sp.forward("lev"):
            with sp.levels(0, 1):
                s = u * k
            with sp.levels(1, None):
                s = s[lev - 1] * p + u * k
        return s
    jit, ref = both(damped, ("lev", "lat", "lon"))
    rng = np.random.default_rng(8)
    u = rng.random((2, 3, 6, 4, 5))
    kk, p = rng.random((4, 5)), rng.random((6, 1, 1))
    want = np.empty_like(u)
    want[..., 0, :, :] = u[..., 0, :, :] * kk
    for lev in range(1, 6):
        want[..., lev, :, :] = want[..., lev - 1, :, :] * p[lev] + u[..., lev, :, :] * kk
    close(jit(u, kk, p), want)
    close(jit(u, kk, p), ref(u, kk, p))


# -- storage and groups ---------------------------------------------------------------------

def test_storage_of_the_examples():
    plan = plan_columns(THOMAS.ir)
    assert dict(plan.storage) == {"cp": "column", "dp": "column", "m": "register", "x": "ring:2"}
    assert plan.fused and plan.n_groups == 1
    plan = plan_columns(OMEGA.ir)
    assert dict(plan.storage) == {"div": "ring:2", "w": "ring:2"}


def smooth_after(u):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            s = u
        with sp.levels(1, None):
            s = s[lev - 1] + u
    return s[lat + 1] + s[lat - 1] + s


SMOOTH, SMOOTH_REF = both(smooth_after, ("lev", "lat", "lon"))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_later_group_reads_a_sweep_at_horizontal_offsets(threads):
    plan = plan_columns(SMOOTH.ir)
    assert dict(plan.storage) == {"s": "full"} and plan.n_groups == 2
    u = np.random.default_rng(9).random((6, 7, 11))
    s = np.cumsum(u, axis=0)
    sp_ = np.pad(s, ((0, 0), (1, 1), (0, 0)), mode="edge")
    want = sp_[:, 2:] + sp_[:, :-2] + s
    got = SMOOTH(u, boundary="edge", threads=threads)
    close(got, want)
    close(got, SMOOTH_REF(u, boundary="edge"))


def parallel_then_sweep(u, w):
    g = u[lon + 1] - u[lon - 1]
    h = g * w
    with sp.backward("lev"):
        with sp.levels(-1, None):
            acc = h
        with sp.levels(0, -1):
            acc = acc[lev + 1] + h + g[lev + 1]
    return acc * 2.0 + g[lev - 1]


PAR, PAR_REF = both(parallel_then_sweep, ("lev", "lat", "lon"))


def test_parallel_statements_in_the_group():
    plan = plan_columns(PAR.ir)
    assert plan.fused and plan.store_of("g") == "column"     # returns read acc at 0 only
    rng = np.random.default_rng(10)
    u, w = rng.random((7, 3, 10)), rng.random((7, 3, 10))
    g = np.roll(u, -1, 2) - np.roll(u, 1, 2)
    h = g * w
    acc = np.empty_like(u)
    acc[-1] = h[-1]
    for k in range(5, -1, -1):
        acc[k] = acc[k + 1] + h[k] + g[k + 1]
    gm = np.concatenate([g[:1], g[:-1]])                   # lev - 1, "edge" at the bottom
    want = acc * 2.0 + gm
    got = PAR(u, w, boundary={"lev": "edge", "lon": "periodic"}, threads=2)
    close(got, want)
    close(got, PAR_REF(u, w, boundary={"lev": "edge", "lon": "periodic"}))


# -- generated shapes -------------------------------------------------------------------------

def column_sum(q):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            s = q
        with sp.levels(1, None):
            s = s[lev - 1] + q
    return s


COLSUM, COLSUM_REF = both(column_sum, ("lev", "lat", "lon"))


@settings(max_examples=25, deadline=None)
@given(nz=st.integers(1, 12), ny=st.integers(1, 6), nx=st.integers(1, 70),
       threads=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_column_sum_generated(nz, ny, nx, threads, seed):
    q = np.random.default_rng(seed).standard_normal((nz, ny, nx))
    got = COLSUM(q, threads=threads)
    close(got, np.cumsum(q, axis=0))
    close(got, COLSUM_REF(q))


@settings(max_examples=15, deadline=None)
@given(nz=st.integers(2, 10), ny=st.integers(1, 4), nx=st.integers(1, 40),
       threads=st.integers(1, 2), seed=st.integers(0, 2**16))
def test_thomas_generated(nz, ny, nx, threads, seed):
    a, b, c, d = system((nz, ny, nx), seed)
    close(THOMAS(a, b, c, d, threads=threads), banded(a, b, c, d))


def sweep_then_parallel(q, r):
    with sp.backward("lev"):
        with sp.levels(-1, None):
            s = q
        with sp.levels(0, -1):
            s = s[lev + 1] * r + q
    y = s * q[lev - 1] - r[lon + 1]
    return y


SWP, SWP_REF = both(sweep_then_parallel, ("lev", "lat", "lon"))


@pytest.mark.parametrize("threads", [1, 2])
def test_a_parallel_statement_after_the_sweep_returns_unfused(threads):
    plan = plan_columns(SWP.ir)
    assert not plan.fused and plan.store_of("s") == "column" and plan.n_groups == 1
    rng = np.random.default_rng(11)
    q, r = rng.random((6, 4, 21)), rng.random((6, 4, 21))
    s = np.empty_like(q)
    s[-1] = q[-1]
    for k in range(4, -1, -1):
        s[k] = s[k + 1] * r[k] + q[k]
    qm = np.concatenate([q[:1], q[:-1]])                   # lev - 1, "edge" at the bottom
    want = s * qm - np.roll(r, -1, 2)
    boundary = {"lev": "edge", "lat": "edge", "lon": "periodic"}
    got = SWP(q, r, boundary=boundary, threads=threads)
    close(got, want)
    close(got, SWP_REF(q, r, boundary=boundary))


def test_inspect_shows_the_blocked_nest():
    """Blocks claimed from a shared counter, then levels, rows, and the vectorised columns;
    every load and store scoped as no-alias; the vector loop has no run-time alias check."""
    a, b, c, d = system((8, 3, 16))
    text = sp.inspect(THOMAS, "llvm", a, b, c, d)
    chunk, lev, row, col = (text.index(s) for s in ("chunk.body:", "lev.body", "row.body",
                                                       "i.body"))
    assert "atomicrmw add" in text and chunk < lev < row < col
    assert "!alias.scope" in text and "!noalias" in text
    optimised = sp.inspect(THOMAS, "llvm-opt", a, b, c, d)
    assert "vector.body" in optimised and "vector.memcheck" not in optimised


def sweeps_x_then_y(q):
    with sp.forward("x"):
        with sp.levels(0, 1):
            s = q
        with sp.levels(1, None):
            s = s[x - 1] + q
    with sp.backward("y"):
        with sp.levels(-1, None):
            t = s
        with sp.levels(0, -1):
            t = t[y + 1] + s
    return t


def sweeps_y_then_x(q):
    with sp.backward("y"):
        with sp.levels(-1, None):
            s = q
        with sp.levels(0, -1):
            s = s[y + 1] + q
    with sp.forward("x"):
        with sp.levels(0, 1):
            t = s
        with sp.levels(1, None):
            t = t[x - 1] + s
    return t


@pytest.mark.parametrize("fn", [sweeps_x_then_y, sweeps_y_then_x])
@pytest.mark.parametrize("shape", [(5, 9), (1, 7), (6, 1), (3, 40)])
def test_sweeps_along_two_axes(fn, shape):
    """Sweeps along different axes: one block of every column, one thread, each sweep with
    its own level axis (a unit-stride axis in one, strided in the other)."""
    jit, ref = both(fn, ("y", "x"))
    assert not plan_columns(jit.ir).blocked
    q = np.random.default_rng(12).random(shape)
    want = np.cumsum(np.cumsum(q, axis=1)[::-1], axis=0)[::-1]
    close(jit(q, threads=2), want)
    close(jit(q), ref(q))
    close(jit(np.asfortranarray(q)), want)
