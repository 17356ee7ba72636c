"""Byte orders, exotic dtypes and partial writes (issue 15, rows 1, 6 and 7).

A call either gives the right answer or raises a ``StencilError`` before it writes anything:
every ``out=`` case fills ``out`` with a sentinel first and checks that a refused call left
it untouched.  Each case runs on both backends (``llvm`` and the numpy reference).
"""

import numpy as np
import pytest

from ._harness import assert_error, assert_ok, run_cases

BACKENDS = ("llvm", "numpy")
SENTINEL = 77

CASES = '''
u = np.arange(20.0) ** 2
ui = (np.arange(20) ** 2).astype(np.int64)
uu = ui.astype(np.uint64)
SENTINEL = 77

def sentinel(dt):
    o = np.zeros(20, dt)
    if o.dtype.hasobject:
        o[...] = SENTINEL
    else:
        o.view(np.uint8)[...] = SENTINEL       # any dtype: every byte is the sentinel
    return o

for be in ("llvm", "numpy"):
    lap = make("@sp.stencil(backend=%r)\\ndef f(u):\\n    return u[-1] - 2 * u[0] + u[1]\\n" % be)
    two = make("@sp.stencil(backend=%r)\\ndef f(u):\\n    return u[1] - u[0], u[0] - u[-1]\\n" % be)

    def run_out(st, arg, dtypes, **kw):
        outs = tuple(sentinel(dt) for dt in dtypes)
        try:
            st(arg, out=outs if len(outs) > 1 else outs[0], **kw)
        except Exception as exc:
            same = all(o.tolist() == sentinel(o.dtype).tolist() if o.dtype.hasobject
                       else o.tobytes() == sentinel(o.dtype).tobytes() for o in outs)
            exc.args = (f"{exc} | untouched={same}",)
            raise
        return [o for o in outs]

    # -- row 1: big-endian out= (one or two outputs), and around it
    for dt in (">f8", ">i8", ">f4", ">i4"):
        arg = ui if "i" in dt else u
        case(lambda st=lap, arg=arg, dt=dt: run_out(st, arg, [dt], boundary="edge"),
             f"{be}_bigendian_out_{dt[1:]}")
    case(lambda st=two: run_out(st, u, ["<f8", ">f8"], boundary="wrap"), f"{be}_bigendian_second_of_two_outputs")
    case(lambda st=lap: run_out(st, u, ["=f8"], boundary="edge"), f"{be}_native_order_spelled_out")
    case(lambda st=lap: st(u.astype(">f8"), boundary="edge"), f"{be}_bigendian_input")

    # -- row 7: extended precision and other exotic dtypes
    case(lambda st=lap: st(u.astype(np.longdouble), boundary="edge"), f"{be}_longdouble_input")
    case(lambda st=lap: run_out(st, u, [np.longdouble], boundary="edge"), f"{be}_longdouble_out")
    for name, dt in (("complex", np.complex128), ("float16", np.float16), ("object", object),
                     ("datetime", "M8[s]"), ("structured", [("a", "f8")])):
        case(lambda st=lap, dt=dt: st(np.zeros(20, dt), boundary="edge"), f"{be}_input_{name}")
        case(lambda st=lap, dt=dt: run_out(st, u, [dt], boundary="edge"), f"{be}_out_{name}")
    for name, dt in (("longlong", np.longlong), ("ulonglong", np.ulonglong), ("intc", np.intc),
                     ("byte", np.byte), ("single", np.single)):
        case(lambda st=lap, dt=dt: st((np.arange(20) % 7).astype(dt), boundary="wrap"), f"{be}_alias_{name}")

    # -- row 6: fill_value that does not fit out= (int8, uint8, bool), before any write
    case(lambda st=lap: run_out(st, ui, [np.int8], fill_value=1000), f"{be}_fill_1000_int8_out")
    case(lambda st=lap: run_out(st, uu, [np.uint8], fill_value=-1), f"{be}_fill_minus1_uint8_out")
    case(lambda st=lap: run_out(st, ui, [np.int16], fill_value=2.5), f"{be}_fill_fraction_int16_out")
    case(lambda st=lap: run_out(st, ui, [np.int32], fill_value=float("nan")), f"{be}_fill_nan_int32_out")
    case(lambda st=two: run_out(st, ui, [np.int64, np.int8], fill_value=300), f"{be}_fill_300_second_output_int8")
    cmp = make("@sp.stencil(backend=%r)\\ndef f(u):\\n    return u[1] > u[-1]\\n" % be)
    case(lambda st=cmp: run_out(st, u, [np.bool_], fill_value=2), f"{be}_fill_2_bool_out")
    case(lambda st=lap: run_out(st, ui, [np.int8], fill_value=-128), f"{be}_fill_fits_int8_out")
    case(lambda st=cmp: run_out(st, u, [np.bool_], fill_value=True), f"{be}_fill_true_bool_out")
    # twice: the second call takes the llvm backend's cached call plan
    case_again = lambda st=lap: (run_out(st, ui, [np.int8], fill_value=5),
                                 run_out(st, ui, [np.int8], fill_value=1000))
    case(case_again, f"{be}_fill_overflow_after_a_good_call")
'''


@pytest.fixture(scope="module")
def results():
    return run_cases(CASES)


def _lap(a):
    return np.roll(a, 1) - 2 * a + np.roll(a, -1)


def _lap_edge(a):
    p = np.pad(a, 1, mode="edge")
    return p[:-2] - 2 * p[1:-1] + p[2:]


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("dt", ["f8", "i8", "f4", "i4"])
def test_bigendian_out_is_refused_untouched(results, be, dt):
    msg = assert_error(results, f"{be}_bigendian_out_{dt}", "native byte order")
    assert "untouched=True" in msg


@pytest.mark.parametrize("be", BACKENDS)
def test_bigendian_second_output_is_refused_before_the_first_is_written(results, be):
    msg = assert_error(results, f"{be}_bigendian_second_of_two_outputs", "out[1]")
    assert "untouched=True" in msg


@pytest.mark.parametrize("be", BACKENDS)
def test_native_order_spelled_out_works(results, be):
    (got,) = assert_ok(results, f"{be}_native_order_spelled_out")
    np.testing.assert_array_equal(got, _lap_edge(np.arange(20.0) ** 2))


@pytest.mark.parametrize("be", BACKENDS)
def test_bigendian_input_is_refused(results, be):
    assert_error(results, f"{be}_bigendian_input", "native byte order")


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("where", ["input", "out"])
def test_longdouble_is_refused_clearly(results, be, where):
    msg = assert_error(results, f"{be}_longdouble_{where}", "extended precision")
    if where == "out":
        assert "untouched=True" in msg


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name", ["complex", "float16", "object", "datetime", "structured"])
@pytest.mark.parametrize("where", ["input", "out"])
def test_exotic_dtypes_are_refused(results, be, name, where):
    msg = assert_error(results, f"{be}_{where}_{name}", "dtype")
    if where == "out":
        assert "untouched=True" in msg


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name,dt", [("longlong", np.longlong), ("ulonglong", np.ulonglong),
                                     ("intc", np.intc), ("byte", np.byte),
                                     ("single", np.single)])
def test_dtype_aliases_compute_like_numpy(results, be, name, dt):
    got = np.asarray(assert_ok(results, f"{be}_alias_{name}"))
    a = (np.arange(20) % 7).astype(dt)
    want = np.roll(a, 1) - 2 * a + np.roll(a, -1)        # NumPy's own dtype rules
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("be", BACKENDS)
@pytest.mark.parametrize("name,match", [
    ("fill_1000_int8_out", "fill_value=1000"), ("fill_minus1_uint8_out", "fill_value=-1"),
    ("fill_fraction_int16_out", "fill_value=2.5"), ("fill_nan_int32_out", "fill_value=nan"),
    ("fill_300_second_output_int8", "out[1]"), ("fill_2_bool_out", "fill_value=2"),
    ("fill_overflow_after_a_good_call", "fill_value=1000")])
def test_fill_value_that_does_not_fit_is_refused_before_writing(results, be, name, match):
    msg = assert_error(results, f"{be}_{name}", match)
    assert "untouched=True" in msg, msg


@pytest.mark.parametrize("be", BACKENDS)
def test_fill_value_that_fits_is_written(results, be):
    (got,) = assert_ok(results, f"{be}_fill_fits_int8_out")
    a = (np.arange(20) ** 2).astype(np.int64)
    want = _lap(a).astype(np.int8)
    want[0] = want[-1] = -128
    np.testing.assert_array_equal(got, want)
    (b,) = assert_ok(results, f"{be}_fill_true_bool_out")
    u = np.arange(20.0) ** 2
    want_b = np.roll(u, -1) > np.roll(u, 1)
    want_b[0] = want_b[-1] = True
    np.testing.assert_array_equal(b, want_b)
