"""The blocked column kernel's faster paths (codegen/columns.py, runtime/columns.py) and the
column benchmark's fairness: results bit-identical to the numpy reference backend (same
operations, same order, no contraction) on every path, against independent formulas too."""

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.bench import columns as bench
from stencilpy.bench import stencils
from stencilpy.codegen import column_plan
from stencilpy.codegen import columns as codegen
from stencilpy.codegen.column_plan import plan_columns
from stencilpy.reference.columns import source_tables
from stencilpy.runtime import columns as runtime_columns

from .test_blocked import banded, close, omega_numpy, system

DIMS = ("lev", "lat", "lon")
THOMAS = sp.stencil(stencils.thomas, dims=DIMS)
THOMAS_REF = sp.stencil(stencils.thomas, dims=DIMS, backend="numpy")
OMEGA = sp.stencil(stencils.omega, dims=DIMS)
OMEGA_REF = sp.stencil(stencils.omega, dims=DIMS, backend="numpy")
MODES = ["periodic", "edge", "reflect", "symmetric", "constant"]


def winds(shape, seed=3):
    rng = np.random.default_rng(seed)
    u, v = rng.standard_normal(shape), rng.standard_normal(shape)
    return u, v, np.linspace(1e4, 1e5, shape[0])[:, None, None]


def prepared(stencil, **kwargs):
    call = stencil.bind(kwargs)
    return runtime_columns._Prepared(call, source_tables(call))


# -- bit for bit the reference's results -------------------------------------------------------

@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 1, 9), (5, 3, 13), (17, 7, 67), (40, 9, 64)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_thomas_bit_identical(shape, threads):
    a, b, c, d = system(shape, seed=sum(shape))
    want = THOMAS_REF(a, b, c, d)
    np.testing.assert_array_equal(THOMAS(a, b, c, d, threads=threads), want)
    out = np.full(shape, np.nan)
    THOMAS(a, b, c, d, out=out, threads=threads)              # written in place
    np.testing.assert_array_equal(out, want)
    if shape[0] > 1:
        close(want, banded(a, b, c, d))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shape", [(6, 1, 1), (5, 2, 3), (9, 11, 37), (4, 3, 71)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_omega_bit_identical(mode, shape, threads):
    u, v, p = winds(shape)
    if mode == "reflect" and min(shape[1:]) < 2:
        return                                        # numpy cannot reflect one point
    boundary = {"lev": "edge", "lat": mode, "lon": mode}
    want = OMEGA_REF(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5)
    got = OMEGA(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5, threads=threads)
    np.testing.assert_array_equal(got, want)
    close(got, omega_numpy(u, v, p, 5e4, 4e4, mode, 0.5))
    out = np.empty(shape)
    OMEGA(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5, threads=threads, out=out)
    np.testing.assert_array_equal(out, want)


def test_out_aliasing_an_input_keeps_the_snapshot():
    """The output doubles as the storage of the returned sweep temporary: an ``out=`` that
    is also an input must not be written during the call (the runtime writes a new array)."""
    a, b, c, d = system((9, 4, 21), seed=8)
    want = THOMAS_REF(a, b, c, d)
    d2 = d.copy()
    THOMAS(a, b, c, d2, out=d2, threads=2)
    np.testing.assert_array_equal(d2, want)


# -- the output as the storage of a returned ring temporary --------------------------------------

def test_returned_ring_temporaries_live_in_the_output():
    thomas = prepared(THOMAS, **dict(zip("abcd", system((7, 3, 10)))))
    assert column_plan.via_output(thomas.plan, thomas.types, thomas.layout) == {"x": 0}
    u, v, p = winds((6, 4, 9))
    omega = prepared(OMEGA, u=u, v=v, p=p, dx=1.0, dy=2.0)
    assert column_plan.via_output(omega.plan, omega.types, omega.layout) == {"omega": 0}


def scaled_sum(q):
    with sp.forward("lev"):
        with sp.levels(0, 1):
            s = q
        with sp.levels(1, None):
            s = s[lev - 1] + q
    return s * 2.0                     # not the temporary itself: s stays in its ring


def sum_along_lon(q):
    with sp.forward("lon"):
        with sp.levels(0, 1):
            s = q
        with sp.levels(1, None):
            s = s[lon - 1] + q
    return s                           # the fastest other axis is lat: rows not contiguous


@pytest.mark.parametrize("fn, kept, want", [
    (scaled_sum, {}, lambda q: 2.0 * np.cumsum(q, axis=0)),
    (sum_along_lon, {}, lambda q: np.cumsum(q, axis=2)),
])
@pytest.mark.parametrize("threads", [1, 2])
def test_ring_temporaries_the_output_cannot_hold(fn, kept, want, threads):
    compiled = sp.stencil(fn, dims=DIMS)
    q = np.random.default_rng(2).random((6, 5, 11))
    prep = prepared(compiled, q=q)
    assert column_plan.via_output(prep.plan, prep.types, prep.layout) == kept
    got = compiled(q, threads=threads)
    np.testing.assert_array_equal(got, sp.stencil(fn, dims=DIMS, backend="numpy")(q))
    close(got, want(q))


# -- alias scopes and fill-row selects -------------------------------------------------------------

def test_level_scopes_are_disjoint_only_within_one_sweep():
    a = codegen._level_scope("cp", 0, 0)
    assert codegen._disjoint(a, codegen._level_scope("cp", -1, 0))      # other rows
    assert not codegen._disjoint(a, codegen._level_scope("cp", 1, 1))   # another sweep
    assert not codegen._disjoint(a, "cp")                               # unscoped access
    assert not codegen._disjoint(a, a)
    assert codegen._disjoint(a, "dp") and codegen._disjoint(a, codegen._level_scope("dp", 0, 0))
    scopes = codegen._level_scopes(plan_columns(THOMAS.ir), {"x": 0})
    assert {"cp@lev0@sweep0", "cp@lev-1@sweep0", "cp@lev0@sweep1", "out@0@lev1@sweep1",
            "out@0@lev0@sweep1"} <= scopes
    assert not any(s.startswith("x@") for s in scopes)


def test_no_vector_overlap_checks_in_the_thomas_kernel():
    """The level scopes tell LLVM that cp[lev] and cp[lev - 1] are other rows."""
    from stencilpy.runtime import jit
    prep = prepared(THOMAS, **dict(zip("abcd", system((7, 3, 10)))))
    optimised = jit.optimised_ir(prep.ir_text())
    assert "vector.body" in optimised
    assert "diff.check" not in optimised and "vector.memcheck" not in optimised


@pytest.mark.parametrize("mode, selects", [("edge", False), ("periodic", False),
                                           ("constant", True)])
def test_fill_row_selects_only_under_constant(mode, selects):
    u, v, p = winds((5, 4, 9))
    call = OMEGA.bind(dict(u=u, v=v, p=p, dx=1.0, dy=2.0), boundary={"lat": mode, "lon": mode})
    prep = runtime_columns._Prepared(call, source_tables(call))
    by_name = {f.name: f for f in prep.layout.fields}
    assert by_name["u"].outside == (False, selects, selects)
    assert by_name["p"].outside == (False, False, False)               # broadcast


# -- the benchmark computes the same points everywhere ------------------------------------------

@pytest.mark.parametrize("shape", [(5, 1, 1), (6, 2, 3), (7, 5, 12)])
def test_bench_peers_compute_every_point(shape):
    """C (when gcc is there) and the numpy loop compute omega on every lat/lon point with
    "edge" boundaries, as stencilpy does; run_case checks each against the numpy loop."""
    lib, _ = bench._tools()                                              # lib: None without gcc
    u, v, p3 = winds(shape)
    p = p3[:, 0, 0]
    want = OMEGA_REF(u, v, p3, 5e4, 5e4, boundary={"lat": "edge", "lon": "edge"})
    np.testing.assert_allclose(bench.omega_numpy(u, v, p, 5e4, 5e4, np.zeros(shape)), want,
                               rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    rows = bench.run_case("omega", shape, [1, 2], 1, lib, None)
    impls = {impl for _, impl, _, _ in rows}
    assert "stencilpy" in impls and (lib is None or "C OpenMP" in impls)


# -- streaming (non-temporal) output stores ----------------------------------------------------

@pytest.fixture
def always_stream():
    """Every call above 0 bytes streams (the plain stencils' thresholds, set to 0)."""
    from stencilpy.runtime import tuning
    with tuning.using(tuning.active(), stream_long="0*L2", stream_short="0*L2"):
        yield


def thomas_scaled(a, b, c, d):
    """Thomas returning ``1.0 * x``: ``x`` keeps its ring, the output may be streamed."""
    with sp.forward("lev"):
        with sp.levels(0, 1):
            cp = c / b
            dp = d / b
        with sp.levels(1, None):
            m = b - a * cp[lev - 1]
            cp = c / m
            dp = (d - a * dp[lev - 1]) / m
    with sp.backward("lev"):
        with sp.levels(-1, None):
            x = dp
        with sp.levels(0, -1):
            x = dp - cp * x[lev + 1]
    return 1.0 * x


SCALED_REF = sp.stencil(thomas_scaled, dims=DIMS, backend="numpy")


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 2, 7), (9, 5, 67), (6, 3, 300)])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_streamed_outputs_bit_identical(always_stream, shape, threads):
    a, b, c, d = system(shape, seed=7)
    compiled = sp.stencil(thomas_scaled, dims=DIMS)           # prepared under the fixture
    want = SCALED_REF(a, b, c, d)
    close(want, banded(a, b, c, d))
    np.testing.assert_array_equal(compiled(a, b, c, d, threads=threads), want)
    out = np.full(shape, np.nan)
    compiled(a, b, c, d, threads=threads, out=out)
    np.testing.assert_array_equal(out, want)
    view = np.full((shape[0], shape[1], shape[2] + 1), np.nan)[..., 1:]   # not C-contiguous
    compiled(a, b, c, d, threads=threads, out=view)
    np.testing.assert_array_equal(view, want)


def omega_scaled(u, v, p, dx, dy):
    with sp.forward("lev"):
        div = (u[lon + 1] - u[lon - 1]) / (2.0 * dx) + (v[lat + 1] - v[lat - 1]) / (2.0 * dy)
        with sp.levels(0, 1):
            w = 0.0 * div
        with sp.levels(1, None):
            w = w[lev - 1] - 0.5 * (div + div[lev - 1]) * (p - p[lev - 1])
    return 1.0 * w


@pytest.mark.parametrize("mode", MODES)
def test_streamed_omega_every_mode(always_stream, mode):
    u, v, p = winds((7, 6, 45), seed=9)
    compiled = sp.stencil(omega_scaled, dims=DIMS)
    boundary = {"lev": "edge", "lat": mode, "lon": mode}
    want = sp.stencil(omega_scaled, dims=DIMS, backend="numpy")(
        u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5)
    close(want, omega_numpy(u, v, p, 5e4, 4e4, mode, 0.5))
    for threads in (1, 2, 3):
        np.testing.assert_array_equal(
            compiled(u, v, p, 5e4, 4e4, boundary=boundary, fill_value=0.5, threads=threads),
            want)


def test_streaming_follows_the_plain_stencils_threshold(always_stream):
    import platform
    from stencilpy.runtime import jit, tuning
    args = dict(zip("abcd", system((7, 3, 40))))
    prep = prepared(sp.stencil(thomas_scaled, dims=DIMS), **args)
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    assert prep.layout.stream == x86
    if x86:
        asm = jit.assembly(prep.ir_text())
        assert "vmovntpd" in asm or "movntpd" in asm
        assert "sfence" in asm
    with tuning.using(tuning.active(), stream_long="never", stream_short="never"):
        assert not prepared(sp.stencil(thomas_scaled, dims=DIMS), **args).layout.stream
    kept = prepared(THOMAS, **args)              # x kept in the output: read back, not streamed
    assert not kept.layout.stream
    assert column_plan.via_output(kept.plan, kept.types, kept.layout) == {"x": 0}


def test_small_calls_use_the_threads_their_points_are_worth():
    """The plain stencils' rule (``launch.thread_count``): at least ``min_points_per_thread``
    points per thread, so a tiny column call runs on the calling thread alone."""
    from stencilpy.runtime import tuning
    a, b, c, d = system((80, 4, 4))
    with tuning.using(tuning.active(), min_points_per_thread=32768):
        call = THOMAS.bind(dict(a=a, b=b, c=c, d=d), threads=2)
        assert len(runtime_columns.ColumnRun(call, source_tables(call)).blocks) == 1
        np.testing.assert_array_equal(THOMAS(a, b, c, d, threads=2), THOMAS_REF(a, b, c, d))
    call = THOMAS.bind(dict(a=a, b=b, c=c, d=d), threads=2)             # 1 point per thread
    assert len(runtime_columns.ColumnRun(call, source_tables(call)).blocks) == 2


@pytest.mark.parametrize("threads", [2, 3])
@pytest.mark.parametrize("shape", [(9, 64, 64), (5, 7, 33), (4, 2, 100)])
def test_claimed_blocks_cover_every_column_once(threads, shape, monkeypatch):
    """Claims map to blocks (c mod T) * per + c / T: a permutation, whatever the number of
    blocks (many small blocks here)."""
    monkeypatch.setattr(runtime_columns, "L2_SHARE", 1e-4)
    monkeypatch.setattr(runtime_columns, "MIN_ROW", 8)
    a, b, c, d = system(shape, seed=11)
    compiled = sp.stencil(stencils.thomas, dims=DIMS)
    np.testing.assert_array_equal(compiled(a, b, c, d, threads=threads), THOMAS_REF(a, b, c, d))
