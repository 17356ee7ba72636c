"""Calling a stencil (API section 2): arrays and scalars, batch axes, broadcasting, dtypes,
``out=``, ``check=``, threads, strides, staggered fields, ``domain=`` and "valid" shapes.

Every result is compared with the numpy reference backend and, where the meaning is not
obvious, with a hand-written numpy version.
"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import stencilpy as sp
import stencilpy.reference
from stencilpy.options import default_threads

from _support import hdiff, laplacian
from ._util import assert_outputs, assert_same, pair, shift


def scaled_diff(u, c):
    return c * (u[1, 0] - u[-1, 0])


def two_outputs(u, v):
    return u[0, 1] + v, u - v[1, 0]


def lap_numpy(u):
    return shift(u, 1, 0) + shift(u, -1, 0) + shift(u, 0, 1) + shift(u, 0, -1) - 4.0 * u


LAP, LAP_REF = pair(laplacian)
DIFF, DIFF_REF = pair(scaled_diff)
TWO, TWO_REF = pair(two_outputs)
MODES = ["fill", "valid", "constant", "wrap", "edge", "reflect", "symmetric"]


@pytest.fixture
def rng():
    return np.random.default_rng(99)


def both(jit, ref, *args, **kw):
    """Compiled result, checked against the reference backend; returned."""
    got = jit(*args, **kw)
    assert_outputs(got, ref(*args, **kw), what=f"{kw}")
    return got


# -- arrays, scalars, batch axes -------------------------------------------------------------

def test_numpy_in_numpy_out(rng):
    u = rng.random((8, 9))
    out = both(LAP, LAP_REF, u, boundary="wrap")
    assert type(out) is np.ndarray and out.shape == u.shape and out.flags.c_contiguous
    assert_same(out, lap_numpy(u))


@pytest.mark.parametrize("mode", MODES)
def test_leading_axes_are_batched(rng, mode):
    u3 = rng.random((3, 8, 9))
    u4 = rng.random((2, 3, 8, 9))
    kw = {"fill_value": 0.5} if mode == "constant" else {}
    got3 = both(LAP, LAP_REF, u3, boundary=mode, **kw)
    got4 = both(LAP, LAP_REF, u4, boundary=mode, **kw)
    for b in range(3):
        assert_same(got3[b], LAP_REF(u3[b], boundary=mode, **kw))
    assert_same(got4[1, 2], LAP_REF(u4[1, 2], boundary=mode, **kw))


@pytest.mark.parametrize("view", [
    lambda a: a[:, ::2],                      # batch axes that cannot be collapsed
    lambda a: a[::-1, 1:],                    # negative batch stride
    lambda a: np.moveaxis(a, 0, 1),           # batch strides out of order
    lambda a: a[..., ::2, ::-1],              # strided stencil axes
    lambda a: np.asfortranarray(a),
])
def test_batch_views_with_any_strides(rng, view):
    u = view(rng.random((4, 6, 10, 12)))
    for mode in ("fill", "wrap", "reflect"):
        got = both(LAP, LAP_REF, u, boundary=mode)
        assert_same(got, LAP_REF(np.ascontiguousarray(u), boundary=mode))


def test_fields_batch_axes_broadcast_together(rng):
    """The batch shape is the NumPy broadcast of every field's leading axes."""
    u = rng.random((8, 9))
    c3 = rng.random((3, 8, 9))
    c4 = rng.random((2, 1, 8, 9))
    for a, b in [(u, c3), (c3, u), (c4, c3), (c3, c4)]:
        got = both(DIFF, DIFF_REF, a, b, boundary="wrap")
        shape = np.broadcast_shapes(a.shape, b.shape)
        assert got.shape == shape
        wide = np.broadcast_to(a, shape)
        assert_same(got, np.broadcast_to(b, shape) * (shift(wide, 1, 0) - shift(wide, -1, 0)))


@pytest.mark.parametrize("shape", [(8, 1), (1, 9), (9,), (1, 1), (1, 8, 9)])
def test_lower_rank_and_length_one_fields_broadcast(rng, shape):
    u = rng.random((8, 9))
    c = rng.random(shape)
    for mode in ("fill", "wrap", "edge", "valid"):
        got = both(DIFF, DIFF_REF, u, c, boundary=mode)
        if mode == "wrap":
            assert_same(got, (c * (shift(u, 1, 0) - shift(u, -1, 0))).reshape(got.shape))


def coslat_stencil(u, coslat):
    return coslat[lat + 1] * u[lat + 1] - coslat[lat - 1] * u[lat - 1]  # noqa: F821


def test_broadcast_field_read_at_offsets(rng):
    """A (nlat, 1) field read at lat offsets: broadcast along lon only."""
    u = rng.random((6, 7))
    c = rng.random((6, 1))
    jit, ref = pair(coslat_stencil, dims=("lat", "lon"))
    got = both(jit, ref, u, c, boundary="wrap")
    cu = c * u
    assert_same(got, shift(cu, 1, 0) - shift(cu, -1, 0))


@pytest.mark.parametrize("scalar", [2, 2.5, True, np.float32(2.5), np.float64(2.5), np.int8(2),
                                    np.array(2.5), np.uint16(3)])
def test_scalars(rng, scalar):
    u = rng.random((8, 9))
    got = both(DIFF, DIFF_REF, u, scalar, boundary="wrap")
    c = scalar.item() if hasattr(scalar, "item") else scalar
    assert_same(got, c * (shift(u, 1, 0) - shift(u, -1, 0)))


def test_scalar_by_keyword(rng):
    u = rng.random((8, 9))
    assert_same(DIFF(u, c=3.0, boundary="wrap"), DIFF(c=3.0, u=u, boundary="wrap"))


# -- dtypes --------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, scalar, expected", [
    (np.float32, 2.5, np.float32),          # Python float is weak: float32 stays float32
    (np.float32, 2, np.float32),
    (np.float64, 2, np.float64),
    (np.int32, 2, np.int32),
    (np.int32, 2.5, np.float64),
    (np.int16, 3, np.int16),
    (np.uint8, 3, np.uint8),
    (np.uint8, 3.0, np.float64),
])
def test_output_dtype_follows_numpy_promotion(rng, dtype, scalar, expected):
    u = (rng.random((6, 7)) * 10).astype(dtype)
    got = both(DIFF, DIFF_REF, u, scalar, boundary="wrap")
    assert got.dtype == expected
    assert_same(got, scalar * (shift(u, 1, 0) - shift(u, -1, 0)))


def divide(u, v):
    return u / v


def test_integer_fields_divided_give_float64(rng):
    u = rng.integers(-9, 9, (5, 6)).astype(np.int32)
    v = rng.integers(1, 9, (5, 6)).astype(np.int16)
    jit, ref = pair(divide)
    got = both(jit, ref, u, v)
    assert got.dtype == np.float64
    assert_same(got, u / v)


def mixed(u, v):
    return u + v


@pytest.mark.parametrize("a, b", [(np.float32, np.float64), (np.int32, np.float32),
                                  (np.int64, np.float32), (np.uint8, np.int8),
                                  (np.uint32, np.int64), (np.bool_, np.int16)])
def test_mixed_field_dtypes_promote_like_numpy(rng, a, b):
    u = (rng.random((5, 6)) * 10).astype(a)
    v = (rng.random((5, 6)) * 10).astype(b)
    jit, ref = pair(mixed)
    got = both(jit, ref, u, v)
    assert_same(got, u + v)


# -- out= --------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["fill", "wrap", "valid"])
def test_out_is_written_and_returned(rng, mode):
    u = rng.random((8, 9))
    fresh = LAP(u, boundary=mode)
    buf = np.full(fresh.shape, 7.0)
    assert LAP(u, boundary=mode, out=buf) is buf
    assert_same(buf, fresh)
    ref_buf = np.full(fresh.shape, 7.0)
    assert LAP_REF(u, boundary=mode, out=ref_buf) is ref_buf
    assert_same(ref_buf, fresh)


@pytest.mark.parametrize("make_out", [
    lambda s: np.empty(s[::-1]).T,
    lambda s: np.empty((s[0], 2 * s[1]))[:, ::2],
    lambda s: np.empty(s)[::-1, ::-1],
    lambda s: np.empty(s, np.float32),      # same-kind casting, as NumPy's out=
])
def test_out_with_any_layout(rng, make_out):
    u = rng.random((8, 9))
    out = make_out(u.shape)
    LAP(u, boundary="wrap", out=out)
    assert_same(out, lap_numpy(u).astype(out.dtype), rtol=1e-6 if out.dtype == np.float32 else None)


@pytest.mark.parametrize("mode", ["fill", "wrap", "reflect"])
def test_out_may_be_an_input_snapshot_semantics(rng, mode):
    u = rng.random((40, 50))
    want = LAP(u, boundary=mode)
    x = u.copy()
    LAP(x, boundary=mode, out=x)
    assert_same(x, want)
    y = u.copy()
    LAP_REF(y, boundary=mode, out=y)
    assert_same(y, want)


def test_out_overlapping_an_input_view(rng):
    """out= a shifted view of the same memory as the input: still the fresh answer."""
    base = rng.random((12, 10))
    u = base[:10]
    want = LAP(u, boundary="wrap")
    out = base[2:]                      # overlaps u's rows 2..9
    LAP(u, boundary="wrap", out=out)
    assert_same(out, want)


def test_out_being_the_second_input_of_two_outputs(rng):
    u, v = rng.random((2, 7, 8))
    want = TWO(u, v, boundary="wrap")
    uu, vv = u.copy(), v.copy()
    TWO(uu, vv, boundary="wrap", out=(vv, uu))
    assert_same(vv, want[0])
    assert_same(uu, want[1])


def test_several_outputs_with_out_tuple(rng):
    u, v = rng.random((2, 7, 8))
    o1, o2 = np.empty((7, 8)), np.empty((7, 8))
    result = TWO(u, v, boundary="wrap", out=(o1, o2))
    assert result[0] is o1 and result[1] is o2
    assert_same(o1, shift(u, 0, 1) + v)
    assert_same(o2, u - shift(v, 1, 0))
    r1, r2 = np.empty((7, 8)), np.empty((7, 8))
    TWO_REF(u, v, boundary="wrap", out=(r1, r2))
    assert_outputs((r1, r2), (o1, o2))


def test_repeated_calls_with_out_give_identical_results(rng):
    u = rng.random((30, 40))
    out = np.empty_like(u)
    first = LAP(u, out=out).copy()
    for _ in range(3):
        LAP(u, out=out)
        assert_same(out, first)


# -- check=, backend=, threads= --------------------------------------------------------------

def test_check_true_passes(rng):
    u = rng.random((8, 9))
    assert_same(LAP(u, check=True, boundary="reflect"), LAP_REF(u, boundary="reflect"))
    a, b = TWO(u, u, check=True)
    assert_outputs((a, b), TWO_REF(u, u))


def test_check_true_raises_mismatch_naming_index_and_values(rng, monkeypatch):
    u = rng.random((8, 9))
    real = stencilpy.reference.run_reference

    def wrong(call):
        results = real(call)
        results[0][3, 4] += 1.0
        return results

    monkeypatch.setattr(stencilpy.reference, "run_reference", wrong)
    want = LAP(u, boundary="wrap")
    with pytest.raises(sp.MismatchError, match=r"'laplacian' output 0 differs from the numpy "
                       r"reference at index \(3, 4\): compiled np\.float64\(.+\), reference "
                       r"np\.float64\(.+\) \(1 of 72 points differ\)") as info:
        LAP(u, boundary="wrap", check=True)
    assert repr(want[3, 4]) in str(info.value)
    assert isinstance(info.value, sp.StencilError) and isinstance(info.value, AssertionError)


def test_numpy_backend_is_the_reference(rng):
    u = rng.random((8, 9))
    assert LAP_REF.backend == "numpy"
    assert_same(LAP_REF(u, boundary="wrap"), lap_numpy(u))
    assert LAP_REF.halo == LAP.halo


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_threads_give_identical_results(rng, threads):
    u = rng.random((600, 600))
    want = LAP_REF(u, boundary="wrap")
    assert_same(LAP(u, boundary="wrap", threads=threads), want)
    assert_same(LAP(u, threads=threads), LAP_REF(u))


@pytest.mark.parametrize("shape", [(600, 600), (3, 300, 200), (2, 5, 64, 64)])
@pytest.mark.parametrize("mode", ["fill", "symmetric"])
def test_large_arrays_with_temporaries_and_threads(rng, shape, mode):
    u = rng.random(shape)
    jit, ref = pair(hdiff)
    want = ref(u, 0.05, boundary=mode)
    for threads in (1, 2, 4):
        assert_same(jit(u, 0.05, boundary=mode, threads=threads), want)


def test_stencilpy_num_threads_sets_the_default(rng, monkeypatch):
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "3")
    assert default_threads() == 3
    u = rng.random((600, 600))
    assert LAP.bind({"u": u}).options.threads == 3
    assert_same(LAP(u), LAP_REF(u))
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "1")
    assert LAP.bind({"u": u}).options.threads == 1
    assert_same(LAP(u), LAP_REF(u))
    monkeypatch.delenv("STENCILPY_NUM_THREADS")
    assert default_threads() == len(os.sched_getaffinity(0))


# -- strides -------------------------------------------------------------------------------

@pytest.mark.parametrize("view", [
    np.asfortranarray,
    lambda a: a[::-1],
    lambda a: a[:, ::-1],
    lambda a: a[::2, ::3],
    lambda a: a[1:-1:2, ::-2],
    lambda a: a.T,
    lambda a: np.lib.stride_tricks.as_strided(a, (10, 12), (a.strides[0], 0)),   # stride 0
])
@pytest.mark.parametrize("mode", ["fill", "wrap", "symmetric", "constant"])
def test_arbitrary_strides(rng, view, mode):
    u = view(rng.random((24, 36)))
    kw = {"fill_value": -1.0} if mode == "constant" else {}
    got = both(LAP, LAP_REF, u, boundary=mode, **kw)
    assert_same(got, LAP_REF(np.ascontiguousarray(u), boundary=mode, **kw))


def test_byte_strides_not_a_multiple_of_the_itemsize(rng):
    """A field of a packed structured array (strides of 12 bytes for float64)."""
    rec = np.zeros((8, 9), dtype=[("a", np.float64), ("b", np.int32)])
    rec["a"] = rng.random((8, 9))
    u = rec["a"]
    assert u.strides[1] % 8
    assert_same(both(LAP, LAP_REF, u, boundary="wrap"), lap_numpy(np.ascontiguousarray(u)))


def test_out_with_byte_strides_not_a_multiple_of_the_itemsize(rng):
    u = rng.random((8, 9))
    rec = np.zeros((8, 9), dtype=[("a", np.float64), ("b", np.int32)])
    LAP(u, boundary="wrap", out=rec["a"])
    assert_same(np.ascontiguousarray(rec["a"]), lap_numpy(u))


# -- staggered fields, domain=, valid shapes -----------------------------------------------

def face_difference(psi, c):
    return c[1] * psi - c * psi[-1]


def test_staggered_field_widens_the_valid_region(rng):
    n = 10
    psi = rng.random(n)
    jit, ref = pair(face_difference)
    faces = rng.random(n + 1)
    got = both(jit, ref, psi, faces)
    assert np.isnan(got[0]) and not np.isnan(got[1:]).any()
    assert_same(got[1:], faces[2:] * psi[1:] - faces[1:-1] * psi[:-1])
    short = both(jit, ref, psi, faces[:n])               # same length: the last cell is lost
    assert np.isnan(short[[0, -1]]).all()
    assert both(jit, ref, psi, faces, boundary="valid").shape == (n - 1,)
    assert both(jit, ref, psi, faces[:n], boundary="valid").shape == (n - 2,)
    assert jit.plan.output_region(0, n, {"psi": n, "c": n + 1}) == (1, n)
    assert jit.plan.output_region(0, n, {"psi": n, "c": n}) == (1, n - 1)


def test_staggered_field_wraps_modulo_the_domain(rng):
    """Face n is the periodic image of face 0: read one face left of face 0 sees face n-1."""
    n = 8
    psi = rng.random(n)
    c = rng.random(n + 1)
    jit, ref = pair(face_left)
    got = both(jit, ref, psi, c, boundary="wrap")
    assert_same(got, psi + c[np.arange(-1, n - 1) % n] + c[np.arange(1, n + 1)])


def face_left(psi, c):
    return psi + c[-1] + c[1]


def test_staggered_2d_faces(rng):
    """u on (n, m+1) x-faces and v on (n+1, m) y-faces: a divergence on (n, m) cells."""
    n, m = 7, 9
    u, v = rng.random((n, m + 1)), rng.random((n + 1, m))
    jit, ref = pair(divergence)
    got = both(jit, ref, u, v, domain=(n, m))
    assert_same(got, (u[:, 1:] - u[:, :-1]) + (v[1:] - v[:-1]))
    assert not np.isnan(got).any()


def divergence(u, v):
    return (u[0, 1] - u) + (v[1, 0] - v)


def test_domain_option(rng):
    u = rng.random((8, 9))
    got = both(DIFF, DIFF_REF, u, 2.0, domain=(7, 9))         # u is one longer: staggered
    assert got.shape == (7, 9)
    assert_same(got[1:], (2.0 * (u[2:8] - u[0:6])))
    for stencil in (DIFF, DIFF_REF):                          # two longer: another grid
        with pytest.raises(sp.StencilCallError, match=r"argument 'u' has 8 points along "
                           r"'dim_0' but the domain has 6; a field has the domain's length"):
            stencil(u, 2.0, domain=(6, 9))
    got = both(DIFF, DIFF_REF, u, 2.0, domain=np.empty((3, 8, 9)))   # a template array
    assert got.shape == (3, 8, 9)


def constant_stencil(a, b):
    return a * b


def test_domain_without_field_arguments():
    jit, ref = pair(constant_stencil)
    got = both(jit, ref, 2.0, 3, domain=(4, 5))
    assert_same(got, np.full((4, 5), 6.0))


@pytest.mark.parametrize("shape", [(5, 6), (3, 5, 6), (3, 4), (12, 3)])
def test_valid_output_shapes(rng, shape):
    u = rng.random(shape)
    halo = LAP.halo
    got = both(LAP, LAP_REF, u, boundary="valid")
    trimmed = tuple(n - lo - hi for n, (lo, hi) in zip(shape[-2:], halo))
    assert got.shape == shape[:-2] + trimmed
    mixed = both(LAP, LAP_REF, u, boundary={0: "valid", 1: "wrap"})
    assert mixed.shape == shape[:-2] + (shape[-2] - 2, shape[-1])


def asym(u):
    return u[2, 0] - u[0, -1]


def test_valid_with_asymmetric_halo(rng):
    u = rng.random((9, 8))
    jit, ref = pair(asym)
    assert jit.halo == ((0, 2), (1, 0))
    got = both(jit, ref, u, boundary="valid")
    assert_same(got, u[2:, 1:] - u[:-2, :-1])
    filled = both(jit, ref, u)
    assert np.isnan(filled[-2:]).all() and np.isnan(filled[:, 0]).all()
    assert_same(filled[:-2, 1:], got)


@pytest.mark.parametrize("mode", MODES)
def test_fill_value_option(rng, mode):
    u = rng.random((6, 7))
    got = both(LAP, LAP_REF, u, boundary=mode, fill_value=-2.0)
    if mode == "fill":
        assert (got[0] == -2.0).all() and (got[:, -1] == -2.0).all()
    if mode == "constant":
        assert_same(got, lap_numpy_padded(np.pad(u, 1, constant_values=-2.0)))


def lap_numpy_padded(p):
    return p[2:, 1:-1] + p[:-2, 1:-1] + p[1:-1, 2:] + p[1:-1, :-2] - 4.0 * p[1:-1, 1:-1]


def test_boundary_by_dim_name_and_axis_number(rng):
    u = rng.random((6, 7))
    by_name = LAP(u, boundary={"dim_0": "wrap", "dim_1": "edge"})
    by_axis = LAP(u, boundary={0: "periodic", -1: "nearest"})
    assert_same(by_name, by_axis)
    p = np.pad(np.pad(u, ((1, 1), (0, 0)), mode="wrap"), ((0, 0), (1, 1)), mode="edge")
    assert_same(by_name, lap_numpy_padded(p))


def test_integer_output_with_fill_value(rng):
    u = rng.integers(-5, 5, (6, 7))
    jit, ref = pair(int_diff)
    got = both(jit, ref, u, fill_value=-99)
    assert got.dtype == u.dtype and (got[0] == -99).all() and (got[-1] == -99).all()
    assert_same(got[1:-1], u[2:] - u[:-2])


def int_diff(u):
    return u[1, 0] - u[-1, 0]


def test_zero_size_batch_and_axes():
    u = np.empty((0, 6, 7))
    assert both(LAP, LAP_REF, u).shape == (0, 6, 7)
    assert both(LAP, LAP_REF, np.empty((0, 7)), boundary="valid").shape == (0, 5)
    assert both(LAP, LAP_REF, np.empty((5, 0)), boundary="fill").shape == (5, 0)


# -- big arrays ----------------------------------------------------------------------------

def _available_bytes() -> int:
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        return int(info["MemAvailable"].split()[0]) * 1024
    except (OSError, KeyError, ValueError):
        return 0


def diff_1d(u):
    return u[1] - u[-1]


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("STENCILPY_SLOW_TESTS"),
                    reason="takes 5-90 s (page faults of 4 GiB); set STENCILPY_SLOW_TESTS=1")
@pytest.mark.skipif(_available_bytes() < 7 * 2**30, reason="needs ~5 GiB of free memory")
def test_more_than_2_to_the_31_elements():
    """int64 indexing: a 1-D int8 field of 2**31 + 10 points (2 GiB in, 2 GiB out)."""
    n = 2**31 + 10
    u = np.ones(n, np.int8)                 # touched pages (untouched ones fault slowly)
    marks = {0: 7, 1: 8, 2: 9, 2**31 - 2: 10, 2**31 - 1: 20, 2**31: 30, 2**31 + 1: 40,
             n - 2: 4, n - 1: 5}
    for i, value in marks.items():
        u[i] = value
    out = sp.stencil(diff_1d)(u, boundary="wrap")
    for i in [0, 1, 2, 2**31 - 3, 2**31 - 2, 2**31 - 1, 2**31, 2**31 + 1, 2**31 + 2, n - 2, n - 1]:
        assert out[i] == np.int8(u[(i + 1) % n] - u[(i - 1) % n]), i


def lap_int(u):
    return u[1, 0] - u[-1, 0] + 3 * u[0, 1] - u[0, -1]


@pytest.mark.parametrize("mode", ["wrap", "valid", "reflect"])
def test_byte_offsets_beyond_2_to_the_31(mode):
    """A small (3, 5) int8 field whose rows are 2**31 + 8 bytes apart (a view into a lazily
    allocated 6 GiB anonymous mapping, of which only a few pages are touched): the kernel's
    address arithmetic must be 64-bit, with positive and negative strides and a batch axis."""
    import mmap
    size = 3 * (2**31 + 8) + 64
    try:
        mapping = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    except (OSError, ValueError, AttributeError):
        pytest.skip("cannot map 6 GiB of address space")
    try:
        buf = np.frombuffer(mapping, np.int8)
        big = np.lib.stride_tricks.as_strided(buf, (3, 5), (2**31 + 8, 1))
        big[...] = np.arange(15, dtype=np.int8).reshape(3, 5) * 3 - 20
        jit, ref = pair(lap_int)
        for view in (big, big[::-1], big[::-1, ::-1], big[None, :, :].repeat(1, 0)):
            small = np.ascontiguousarray(view)
            got = jit(view, boundary=mode, fill_value=0)
            assert_same(got, ref(small, boundary=mode, fill_value=0))
        batch = np.lib.stride_tricks.as_strided(buf, (3, 1, 5), (2**31 + 8, 0, 1))
        assert_same(jit(batch, boundary="wrap"), ref(np.ascontiguousarray(batch), boundary="wrap"))
        del buf, big, batch, view
    finally:
        import gc
        gc.collect()
        try:
            mapping.close()
        except BufferError:         # a view is still alive somewhere: let the GC unmap it
            pass


def test_array_view_keeps_64_bit_strides_and_lengths():
    """The argument block holds lengths, strides and pointers as int64 (no 32-bit wrap)."""
    from stencilpy.runtime.call import ArrayView
    huge = np.broadcast_to(np.zeros(1, np.int8), (3, 2**33 + 5))
    v = ArrayView(huge, 1, (3,))
    assert v.lens == [2**33 + 5] and v.strides == [0]
    strided = np.lib.stride_tricks.as_strided(np.zeros(4, np.int8), (2, 2**40), (2**35, 1))
    v = ArrayView(strided, 1, (2,))
    assert v.lens == [2**40] and v.strides == [1] and v.batch == [(2, 2**35)]


# -- process-level robustness ----------------------------------------------------------------

def test_dropping_a_stencil_does_not_crash_the_next_compile(tmp_path):
    """Regression (found by these tests, fixed in runtime/jit.py): every MCJIT engine was
    given the one cached TargetMachine, which the engine owns and frees when collected,
    so the next compile after a stencil was dropped aborted the process."""
    script = textwrap.dedent("""
        import gc
        import numpy as np
        import stencilpy as sp

        def f(u):
            return u[1] - u[-1]

        for i in range(3):
            k = sp.stencil(f)
            assert k(np.arange(10.0) + i, boundary="wrap")[1] == 2.0
            del k
            gc.collect()
        print("ok")
    """)
    path = tmp_path / "drop_stencils.py"
    path.write_text(script)
    env = dict(os.environ, STENCILPY_LOADER="mcjit", STENCILPY_CACHE="0")
    proc = subprocess.run([sys.executable, str(path)], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
