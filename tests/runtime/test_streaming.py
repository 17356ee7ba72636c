"""Kernels with streaming (non-temporal) stores give the reference's results.

Streaming is chosen for calls that touch more than a few L2 caches; here every call
streams (both thresholds 0), so the alignment peel, the L1 chunks, the vector
non-temporal copy and the remainder run on small arrays of every awkward shape."""

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime import tuning

from _support import laplacian as lap, random_field


@pytest.fixture(autouse=True)
def always_stream():
    with tuning.using(tuning.DEFAULT, stream_long="0*L2", stream_short="0*L2"):
        yield


def two(u, v):
    return u[0, 1] + v, u - v[1, 0]


def mixed(u):
    return u[0, 1] > u[0, -1], u[1, 0] * 2.0


def lap3(u):
    return u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1] - 6.0 * u


def diff1(u):
    return u[1] - u[-1]


def pair(fn):
    return sp.stencil(fn), sp.stencil(fn, backend="numpy")


def check(fn, *args, **call):
    k, ref = pair(fn)
    got, want = k(*args, **call), ref(*args, **call)
    got = got if isinstance(got, tuple) else (got,)
    want = want if isinstance(want, tuple) else (want,)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        if g.dtype.kind == "f":
            np.testing.assert_allclose(g, w, rtol=1e-6 if g.dtype == np.float32 else 1e-13,
                                       equal_nan=True)
        else:
            np.testing.assert_array_equal(g, w)
    prepared = next(iter(k._fast.prepared.values()))
    assert prepared.kernel.spec.streaming


@pytest.mark.parametrize("shape", [(3, 3), (5, 17), (9, 130), (40, 257), (7, 1000)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_rows_of_every_length(shape, dtype):
    check(lap, random_field(shape, dtype))
    check(lap, random_field(shape, dtype), boundary="periodic")
    check(lap, random_field(shape, dtype), boundary="valid")


@pytest.mark.parametrize("offset", range(8))
def test_misaligned_outputs(offset):
    u = random_field((12, 300))
    raw = np.empty(12 * 300 + 8)
    out = raw[offset:offset + 12 * 300].reshape(12, 300)
    k, ref = pair(lap)
    k(u, out=out)
    np.testing.assert_allclose(out, ref(u), rtol=1e-13, equal_nan=True)


def test_output_not_aligned_to_its_element_size():
    u = random_field((10, 200))
    out = np.empty(10 * 200 * 8 + 8, np.uint8)[3:3 + 10 * 200 * 8].view(np.float64).reshape(10, 200)
    assert not out.flags.aligned
    k, ref = pair(lap)
    k(u, out=out)
    np.testing.assert_allclose(out, ref(u), rtol=1e-13, equal_nan=True)


def test_outputs_of_different_alignment_and_type():
    u, v = random_field((16, 200), seed=1), random_field((16, 200), seed=2)
    a = np.empty(16 * 200 + 3)[1:1 + 16 * 200].reshape(16, 200)
    b = np.empty((16, 200))
    k, ref = pair(two)
    k(u, v, out=(a, b), threads=2)
    for got, want in zip((a, b), ref(u, v)):
        np.testing.assert_allclose(got, want, rtol=1e-13, equal_nan=True)
    check(mixed, random_field((10, 333)), fill_value=0)


def test_three_and_one_dimensional():
    check(lap3, random_field((6, 9, 140)))
    check(lap3, random_field((6, 9, 140)), boundary="reflect", threads=2)
    check(diff1, random_field((1001,)), boundary="wrap")
    check(diff1, random_field((4, 515)))


def test_integer_and_strided_outputs():
    u = (random_field((8, 129)) * 100).astype(np.int32)
    check(lap, u, fill_value=-1)
    k, ref = pair(lap)
    out = np.empty((129, 8)).T                      # inner stride 8 elements: no streaming
    k(random_field((8, 129)), out=out)
    np.testing.assert_allclose(out, ref(random_field((8, 129))), rtol=1e-13, equal_nan=True)


def lap_b(u):                  # the Laplacian again: a second stencil, compiled on its own
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@pytest.mark.parametrize("shape", [(3, 64), (4, 64), (6, 64), (7, 64), (8, 33), (9, 200),
                                   (33, 1000)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("streaming", ["0*L2", "never"])
def test_rows_computed_in_groups_give_the_same_bits(shape, dtype, threads, streaming, monkeypatch):
    """2-D kernels without temporaries or padding modes compute their rows in groups
    (``codegen/segments.py``, ``row_group``: four per step when streamed), streamed or not:
    row counts that are and are not multiples of the rows per step (the last rows one by
    one), row lengths that keep the rows' outputs equally aligned (64, 1000 float64) and
    that do not (33, 200: one row after the other), chunks that start at odd rows (2
    threads), the "fill" strips: the same bits as one row per step and as numpy."""
    from stencilpy.codegen import segments
    monkeypatch.setenv("STENCILPY_CACHE", "0")      # the switch is not part of a cache key
    with tuning.using(tuning.DEFAULT, stream_long=streaming, stream_short=streaming):
        _same_bits_in_groups(random_field(shape, dtype), threads, monkeypatch, segments)


def _same_bits_in_groups(u, threads, monkeypatch, segments):
    ref = sp.stencil(lap, backend="numpy")(u)
    for per_step in ((1, 4), (4, 3)):       # the defaults (ordinary, streamed stores); others
        monkeypatch.setattr(segments, "ROWS_PER_STEP", per_step[0])
        monkeypatch.setattr(segments, "ROWS_PER_STEP_STREAMED", {2: per_step[1]})
        grouped = sp.stencil(lap_c if per_step[0] == 4 else lap)(u, threads=threads)
        two_out = sp.stencil(two if per_step[0] == 4 else two_b)(u, u, threads=threads)
        np.testing.assert_array_equal(grouped, ref)
        for got, want in zip(two_out, sp.stencil(two, backend="numpy")(u, u)):
            np.testing.assert_array_equal(got, want)
    monkeypatch.setattr(segments, "ROWS_PER_STEP", 1)
    monkeypatch.setattr(segments, "ROWS_PER_STEP_STREAMED", {})
    np.testing.assert_array_equal(sp.stencil(lap_b)(u, threads=threads), ref)


def lap4(u):                   # reaches two rows either side: two rows per step when streamed
    return (-u[2, 0] + 16.0 * u[1, 0] + 16.0 * u[-1, 0] - u[-2, 0] - u[0, 2] + 16.0 * u[0, 1]
            + 16.0 * u[0, -1] - u[0, -2] - 60.0 * u) / 12.0


@pytest.mark.parametrize("shape", [(5, 64), (6, 33), (9, 64), (12, 200), (41, 1000)])
@pytest.mark.parametrize("threads", [1, 2])
def test_wide_stencil_rows_in_groups_give_the_same_bits(shape, threads):
    """A 2-D stencil reading two rows either side streams its rows two per step
    (``segments.WIDE_ROWS_PER_STEP_STREAMED``): the same bits as numpy."""
    u = random_field(shape, np.float64)
    k = sp.stencil(lap4)
    np.testing.assert_array_equal(k(u, threads=threads), sp.stencil(lap4, backend="numpy")(u))
    assert next(iter(k._fast.prepared.values())).kernel.spec.streaming


@pytest.mark.parametrize("shape", [(3, 5, 64), (4, 6, 64), (7, 9, 33), (6, 41, 130),
                                   (9, 17, 1000)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
def test_planes_computed_in_groups_give_the_same_bits(shape, dtype, threads, monkeypatch):
    """Streamed 3-D kernels without temporaries or padding modes compute two planes per step
    (``segments.ROWS_PER_STEP_STREAMED[3]``) at each row of a block of axis-1 rows (blocks of
    8 rows here: a small L2): plane counts that are and are not multiples of the planes per
    step, partial last blocks, rows whose outputs are and are not equally aligned, two
    threads: the same bits as one plane per step and as numpy (and, with "fill", the border
    the kernel leaves)."""
    from stencilpy.codegen import segments
    from stencilpy.runtime import launch
    monkeypatch.setenv("STENCILPY_CACHE", "0")      # the switch is not part of a cache key
    monkeypatch.setattr(launch, "l2_bytes", lambda: 1024)
    u = random_field(shape, dtype)
    ref = sp.stencil(lap3, backend="numpy")(u)
    assert ref.shape == u.shape and np.isnan(ref[0, 0, 0])     # the "fill" border (NaN)
    for per_step, fn in ((2, lap3), (3, lap3_b), (1, lap3_c)):
        monkeypatch.setattr(segments, "ROWS_PER_STEP_STREAMED", {3: per_step})
        k = sp.stencil(fn)
        np.testing.assert_array_equal(k(u, threads=threads), ref)
        assert next(iter(k._fast.prepared.values())).kernel.spec.streaming


def lap3_b(u):                 # lap3 again, compiled on its own (another rows-per-step)
    return u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1] - 6.0 * u


def lap3_c(u):                 # and a third
    return u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1] - 6.0 * u


def lap_c(u):                  # and a third
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


def two_b(u, v):
    return u[0, 1] + v, u - v[1, 0]
