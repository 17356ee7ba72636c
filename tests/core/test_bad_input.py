"""Bad input (API section 5): every mistake raises the right error class with a message that
says what is wrong and what to do (pinned by a regex), and nothing crashes the process
(``tests/conftest.py`` enables faulthandler, so a crash would print a traceback).

``sp.StencilCallError`` is also a ``ValueError``; ``sp.StencilSyntaxError`` is raised when
the function is decorated.
"""

import re

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.errors import ReservedNameError

from _support import hdiff, laplacian
from ._util import assert_outputs, pair, stencil_from_source


def scaled(u, c):
    return c * u[1, 0]


def int_diff(u):
    return u[1, 0] - u[-1, 0]


def two(u, v):
    return u + v, u - v


LAP, LAP_REF = pair(laplacian)
SCALED, SCALED_REF = pair(scaled)
IDIFF, IDIFF_REF = pair(int_diff)
TWO, _ = pair(two)
U = np.ones((5, 6))


def call_error(match, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` raises a StencilCallError (a ValueError) matching ``match``."""
    with pytest.raises(sp.StencilCallError, match=match) as info:
        fn(*args, **kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, sp.StencilError)
    return info.value


def both_raise(match, jit, ref, *args, **kwargs):
    """The compiled stencil and the numpy reference refuse the call the same way."""
    a = call_error(match, jit, *args, **kwargs)
    b = call_error(match, ref, *args, **kwargs)
    assert str(a) == str(b)


# -- shapes ----------------------------------------------------------------------------------

def test_too_few_dimensions():
    both_raise(r"the domain has 1 dimensions but the stencil has 2; pass an array with at "
               r"least as many dimensions", LAP, LAP_REF, np.ones(5))


@pytest.mark.parametrize("shape, mode, axis, n", [((2, 6), "fill", "dim_0", 2),
                                                  ((5, 2), "valid", "dim_1", 2),
                                                  ((5, 1), "valid", "dim_1", 1)])
def test_arrays_smaller_than_the_halo(shape, mode, axis, n):
    both_raise(rf"the arrays are too small along '{axis}' \({n} points\) for the stencil's halo "
               rf"\(1, 1\) with boundary '{mode}': it needs at least 3; pass larger arrays or "
               rf"a padding mode such as boundary='edge'", LAP, LAP_REF, np.ones(shape),
               boundary=mode)


def test_small_arrays_are_fine_with_padding_modes():
    u = np.arange(2.0).reshape(1, 2)
    for mode in ("wrap", "edge", "reflect", "symmetric", "constant"):
        assert_outputs(LAP(u, boundary=mode, fill_value=0.0),
                       LAP_REF(u, boundary=mode, fill_value=0.0))


def test_field_shorter_than_the_domain():
    both_raise(r"argument 'c' has 4 points along 'dim_0' but the domain has 5; a field has the "
               r"domain's length \(5\), one point more \(6: staggered, the faces around 5 "
               r"cells\) or length 1 \(broadcast\): pass it on the domain's grid",
               SCALED, SCALED_REF, U, np.ones((4, 6)))


@pytest.mark.parametrize("extra", [2, 30])
def test_field_longer_than_staggered_is_refused(extra):
    """Staggered means exactly N + 1 along an axis; a longer field is another grid."""
    both_raise(rf"argument 'c' has {6 + extra} points along 'dim_1' but the domain has 6; a "
               r"field has the domain's length \(6\), one point more \(7: staggered, the "
               r"faces around 6 cells\) or length 1 \(broadcast\)",
               SCALED, SCALED_REF, U, np.ones((5, 6 + extra)))
    both_raise(r"argument 'c' has 35 points along 'dim_0' but the domain has 5",
               SCALED, SCALED_REF, U, np.ones((35, 6)))


def test_staggered_field_of_n_plus_1_is_accepted():
    c = np.arange(6.0 * 6).reshape(6, 6)
    assert_outputs(SCALED(U, c, boundary="valid"), c[:4] * U[1:])
    assert_outputs(SCALED_REF(U, c, boundary="valid"), c[:4] * U[1:])


def test_batch_axes_that_do_not_broadcast():
    both_raise(r"the fields' leading \(batch\) axes do not broadcast together: 'u' \(2,\), "
               r"'c' \(3,\); give them NumPy-compatible shapes",
               SCALED, SCALED_REF, np.ones((2, 5, 6)), np.ones((3, 5, 6)))
    both_raise(r"argument 'c' has leading \(batch\) axes \(3,\) that do not broadcast to the "
               r"domain's \(2,\)", SCALED, SCALED_REF, U, np.ones((3, 5, 6)),
               domain=(2, 5, 6))


@pytest.mark.parametrize("mode", ["wrap", "edge", "reflect", "symmetric"])
def test_zero_size_axis_with_a_padding_mode(mode):
    both_raise(rf"axis 'dim_0' has length 0: boundary mode '{mode}' cannot extend an empty "
               r"axis", LAP, LAP_REF, np.ones((0, 6)), boundary=mode)


@pytest.mark.parametrize("shape", [(0, 6), (5, 0), (0, 0), (3, 0, 6), (0, 5, 6)])
def test_zero_size_axes_give_empty_results(shape):
    u = np.ones(shape)
    got, want = LAP(u), LAP_REF(u)
    assert got.shape == want.shape == shape
    valid = tuple(0 if n == 0 else n - 2 for n in shape[-2:])
    if 0 not in valid or 0 in shape[-2:]:
        assert LAP(u, boundary="valid").shape == shape[:-2] + valid
        assert LAP_REF(u, boundary="valid").shape == shape[:-2] + valid


@pytest.mark.parametrize("domain", [(-1, 6), (5, 6.5), "abc", (5, None), (True, 6)])
def test_bad_domain(domain):
    both_raise(r"domain=.*: pass a shape \(a tuple of whole numbers >= 0\) or an array",
               SCALED, SCALED_REF, U, 2.0, domain=domain)


def test_domain_with_too_few_dimensions():
    call_error(r"the domain has 1 dimensions but the stencil has 2", SCALED, U, 2.0, domain=(5,))


def only_scalars(a, b):
    return a * b


def test_no_field_and_no_domain():
    jit, ref = pair(only_scalars)
    both_raise(r"no field argument: pass at least one array, or domain=shape", jit, ref, 1.0, 2.0)


# -- arguments -------------------------------------------------------------------------------

def test_too_many_arguments():
    both_raise(r"'laplacian' takes 1 arguments \(u\) but 2 were given", LAP, LAP_REF, U, U)


def test_missing_argument():
    both_raise(r"'scaled' is missing argument\(s\) 'c'", SCALED, SCALED_REF, U)


def test_argument_given_twice():
    both_raise(r"'scaled' got two values for argument 'c'", SCALED, SCALED_REF, U, 2.0, c=3.0)


@pytest.mark.parametrize("option, guess", [("boundry", "boundary"), ("fill", None),
                                           ("threads_", "threads"), ("dims", None),
                                           ("backend", None), ("out_", "out"), ("uu", "u")])
def test_unknown_keyword(option, guess):
    mean = rf" \(did you mean '{guess}'\?\)" if guess else ""
    both_raise(rf"'laplacian' got an unknown keyword argument '{option}'{mean}; its parameters "
               r"are \(u\) and the call options are boundary, fill_value, out, domain, threads, "
               r"check, names, attrs$", LAP, LAP_REF, U, **{option: 1})


def test_scalar_passed_for_a_subscripted_parameter():
    both_raise(r"argument 'u' is read at offsets in 'laplacian', so it must be an array, not "
               r"the number 2.0", LAP, LAP_REF, 2.0)
    both_raise(r"argument 'u' is a 0-d array; pass an array with at least 2 dimension\(s\)",
               LAP, LAP_REF, np.array(2.0))


@pytest.mark.parametrize("value, what", [
    ("abc", r"is a str; pass a numpy array \(or an xarray.DataArray / dask array\) or, for a "
            r"scalar, a number"),
    (None, r"is a NoneType; pass a numpy array"),
    (object(), r"is a object; pass a numpy array"),
    ([["a", "b"], ["c", "d"]], r"has dtype <U1; stencilpy computes on bool, integer, float32 "
                               r"and float64 arrays: convert it first \(e.g. "
                               r"\.astype\(np\.float64\)\)"),
    (np.empty((5, 6), object), r"has dtype object; stencilpy computes on bool"),
    (np.ones((5, 6), complex), r"has dtype complex128; stencilpy computes on bool"),
    (np.ones((5, 6), np.float16), r"has dtype float16; stencilpy computes on bool"),
    (np.ones((5, 6), "M8[s]"), r"has dtype datetime64\[s\]; stencilpy computes on bool"),
    (np.ones((5, 6), ">f8"), r"is not in native byte order; use "
                             r"arr\.astype\(arr\.dtype\.newbyteorder\('='\)\)"),
    (np.ma.masked_array(np.ones((5, 6))), r"is a masked array; stencilpy would ignore its "
                                          r"mask: pass 'u\.filled\(np\.nan\)'"),
])
def test_non_arrays_and_unsupported_dtypes(value, what):
    both_raise(rf"argument 'u' {what}", LAP, LAP_REF, value)


@pytest.mark.parametrize("value, what", [
    (1j, r"is a complex; pass a numpy array"),
    ("2", r"is a str; pass a numpy array"),
    (None, r"is a NoneType; pass a numpy array"),
    (np.complex64(1), r"is complex64 np\.complex64\(1\+0j\); pass a real number \(int, "
                      r"float or bool\)"),
    (2**70, r"= 1180591620717411303424 does not fit in int64; pass it as a float or a "
            r"smaller integer"),
    (np.uint64(2**63 + 5), r"= 9223372036854775813 does not fit in int64"),
])
def test_bad_scalars(value, what):
    both_raise(rf"argument 'c' {what}", SCALED, SCALED_REF, U, value)


@pytest.mark.parametrize("dtype, value", [(np.uint8, -1), (np.int8, 128), (np.int32, 2**40),
                                          (np.int64, 2**63 - 1 + 0)])
def test_python_int_that_does_not_fit_the_field_dtype(dtype, value):
    """As NumPy (NEP 50): int8_field * 128 is an error, not a silent wrap."""
    u = np.ones((5, 6), dtype)
    if dtype == np.int64:
        assert_outputs(SCALED(u, value, fill_value=0), SCALED_REF(u, value, fill_value=0))
        return
    err = call_error(rf"the argument 'c' = {value} does not fit in {np.dtype(dtype)}, the type "
                     r"this operation computes in \(NumPy refuses it too\); cast the field first "
                     r"\(e.g\. \.astype\(np\.int64\)\) or use a smaller number", SCALED, u, value,
                     fill_value=0)
    assert re.search(r"return c \* u\[1, 0\]\n.*\^", str(err))
    call_error(r"does not fit in", SCALED_REF, u, value, fill_value=0)


def int8_literal(u):
    return u + 1000


def test_integer_literal_that_does_not_fit_the_field_dtype():
    jit, ref = pair(int8_literal)
    both_raise(r"the number 1000 does not fit in int8", jit, ref, np.ones((3, 4), np.int8))
    assert jit(np.ones((3, 4), np.int16))[0, 0] == 1001


def shifted_scalar(u, s):
    return u + (0 + s) * 2


def clipped_by_scalar(u, s):
    return min(u, s - 1)


def test_python_int_expression_that_does_not_fit_the_field_dtype():
    """NumPy computes ``(0 + s) * 2`` as a Python int first, then refuses it for uint8: so do
    both backends (found by the hypothesis suite: the kernel used to wrap to 252)."""
    u = np.arange(1, 5, dtype=np.uint8)
    with pytest.raises(OverflowError):
        u + (0 + -2) * 2                                  # what NumPy does
    jit, ref = pair(shifted_scalar)
    both_raise(r"'\(\(0 \+ s\) \* 2\)' = -4 does not fit in uint8", jit, ref, u, -2)
    assert_outputs(jit(u, 3, boundary="wrap"), u + 6)
    jit, ref = pair(clipped_by_scalar)
    both_raise(r"'\(s - 1\)' = -1 does not fit in uint8", jit, ref, u, 0)
    assert_outputs(jit(u, 3), np.minimum(u, 2))


def negative_int_power(u):
    return u ** -2


def test_integer_to_a_negative_literal_power():
    jit, ref = pair(negative_int_power)
    both_raise(r"integers to negative integer powers are not allowed \('\(u\[0\] \*\* -2\)' "
               r"has type int32\); write the base as a float \(e\.g\. 1\.0 \* x\)",
               jit, ref, np.ones(4, np.int32))
    assert jit(np.full(4, 2.0))[0] == 0.25


def scalar_power(u, k):
    return u ** k + sp.power(u, k - 1)


def test_integer_to_a_negative_scalar_power():
    """A negative exponent passed as a scalar argument: NumPy raises, so do both backends
    (it used to give the truncated integer 0)."""
    u = np.arange(1, 5, dtype=np.int32)
    with pytest.raises(ValueError, match="negative integer powers"):
        u ** -1                                            # what NumPy does
    jit, ref = pair(scalar_power)
    both_raise(r"integers to negative integer powers are not allowed \('\(u\[0\] \*\* k\)' "
               r"has type int32, and 'k' = -1\); write the base as a float", jit, ref, u, -1)
    both_raise(r"'\(k - 1\)' = -1", jit, ref, u, 0)
    assert_outputs(jit(u, 2, boundary="wrap"), u ** 2 + u)
    assert_outputs(jit(1.0 * u, -1), 1.0 / u + 1.0 / u ** 2)        # float base: fine


def bool_minus(u, v):
    return u - v


def test_operation_numpy_does_not_define():
    jit, ref = pair(bool_minus)
    both_raise(r"the expression '\(u\[0\] - v\[0\]\)' is not defined for these argument types "
               r"\(numpy boolean subtract.*\); cast the inputs \(e\.g\. to float64\)",
               jit, ref, np.ones(3, bool), np.ones(3, bool))


def root(u):
    return sp.sqrt(u)


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.bool_])
def test_result_type_float16_is_refused(dtype):
    """NumPy gives float16 for sqrt of int8/uint8/bool, which stencilpy does not compile."""
    jit, ref = pair(root)
    both_raise(r"the expression 'sqrt\(u\[0\]\)' has type float16, which stencilpy does not "
               r"compile; use float32/float64 or integer inputs", jit, ref, np.ones(3, dtype))


# -- options ---------------------------------------------------------------------------------

@pytest.mark.parametrize("mode, guess", [("periodical", "periodic"), ("WRAP", "wrap"), (3, None),
                                         ("", None), (("wrap",), None), ("Reflekt", "reflect")])
def test_unknown_boundary_mode(mode, guess):
    mean = rf" \(did you mean '{guess}'\?\)" if guess else ""
    both_raise(rf"unknown boundary mode {re.escape(repr(mode))} for every axis{mean}; use one "
               r"of 'fill', 'valid', 'constant', 'wrap', 'periodic', 'edge', 'nearest', "
               r"'reflect', 'symmetric', 'extrapolate'$", LAP, LAP_REF, U, boundary=mode)


def test_unknown_boundary_mode_for_one_axis():
    both_raise(r"unknown boundary mode 'circular' for axis 'dim_1'", LAP, LAP_REF, U,
               boundary={"dim_1": "circular"})


def test_unknown_dimension_name_in_boundary():
    both_raise(r"boundary names unknown dimension 'lon'; the stencil's dimensions are "
               r"\('dim_0', 'dim_1'\)", LAP, LAP_REF, U, boundary={"lon": "wrap"})
    both_raise(r"boundary names unknown dimension 'dim1' \(did you mean 'dim_1'\?\); the "
               r"stencil's dimensions are \('dim_0', 'dim_1'\)$", LAP, LAP_REF, U,
               boundary={"dim1": "wrap"})


@pytest.mark.parametrize("key", [2, -3, 1.0, True])
def test_bad_axis_number_in_boundary(key):
    both_raise(rf"boundary key {re.escape(repr(key))} is neither a dimension name "
               r"\('dim_0', 'dim_1'\) nor an axis number in range\(2\)", LAP, LAP_REF, U,
               boundary={key: "wrap"})


def test_integer_output_with_fill_and_no_fill_value():
    both_raise(r"the stencil has an integer \(or bool\) output and boundary 'fill' leaves edge "
               r"points undefined: pass fill_value=<number>, or boundary='valid' or a padding "
               r"mode", IDIFF, IDIFF_REF, np.ones((5, 6), int))
    assert IDIFF(np.ones((5, 6), int), boundary="valid").shape == (3, 6)


def test_integer_field_with_constant_and_no_fill_value():
    both_raise(r"boundary 'constant' with integer or bool fields needs an explicit "
               r"fill_value=<number> \(the default NaN is not an integer\)", IDIFF, IDIFF_REF,
               np.ones((5, 6), int), boundary="constant")


@pytest.mark.parametrize("dtype, value", [(np.int64, np.nan), (np.int64, np.inf),
                                          (np.int32, 1.5), (np.uint8, -1), (np.int8, 200),
                                          (np.int64, 1e30)])
@pytest.mark.parametrize("mode", ["fill", "constant"])
def test_fill_value_an_integer_array_cannot_hold(dtype, value, mode):
    where = "output 0" if mode == "fill" else "field 'u'"
    both_raise(rf"fill_value={re.escape(repr(value))} cannot be stored in {where} of dtype "
               rf"{np.dtype(dtype)}; pass a whole number in \[", IDIFF, IDIFF_REF,
               np.ones((5, 6), dtype), boundary=mode, fill_value=value)


@pytest.mark.parametrize("value", ["x", [1.0], np.ones(2), 1j])
def test_fill_value_not_a_number(value):
    both_raise(r"fill_value=.*: pass a number", LAP, LAP_REF, U, fill_value=value)


@pytest.mark.parametrize("threads", [0, -1, "2", 1.5, True])
def test_bad_threads(threads):
    call_error(rf"threads={re.escape(repr(threads))}: pass a whole number >= 1", LAP, U,
               threads=threads)


@pytest.mark.parametrize("value", ["many", "0", "-2", "1.5"])
def test_bad_stencilpy_num_threads(monkeypatch, value):
    monkeypatch.setenv("STENCILPY_NUM_THREADS", value)
    message = rf"STENCILPY_NUM_THREADS={re.escape(repr(value))} is not a whole number >= 1"
    call_error(message, LAP, U)
    call_error(message, LAP_REF, U)


def test_unknown_backend():
    call_error(r"unknown backend 'cuda'; use one of \('llvm', 'numpy'\)", sp.stencil,
               laplacian, backend="cuda")


def test_decorating_a_non_function():
    call_error(r"@sp.stencil decorates a function \(def \.\.\.\)", sp.stencil, 3)


def test_unknown_inspect_stage():
    call_error(r"unknown stage 'machine'; use one of \('ir', 'analysis', 'ir-call', 'llvm', "
               r"'llvm-opt', 'asm', 'ptx'\)", sp.inspect, LAP, "machine")


def test_inspect_stage_left_out():
    """An array where the stage goes (``sp.inspect(k, u)``): the stage error, not NumPy's
    ambiguous-truth-value error of comparing an array with the stage names."""
    call_error(r"unknown stage of type ndarray; use one of .*sp.inspect\(k, stage, \*args\)",
               sp.inspect, LAP, np.zeros((4, 4)))


# -- out= ------------------------------------------------------------------------------------

def test_read_only_out():
    ro = np.empty((5, 6))
    ro.setflags(write=False)
    both_raise(r"out is read-only; pass a writeable array", LAP, LAP_REF, U, out=ro)


@pytest.mark.parametrize("shape", [(5, 5), (6, 5), (1, 5, 6), (30,)])
def test_out_of_the_wrong_shape(shape):
    both_raise(rf"out has shape {re.escape(str(shape))}; this call's output has shape \(5, 6\)",
               LAP, LAP_REF, U, out=np.empty(shape))


def test_out_of_the_wrong_shape_for_valid():
    both_raise(r"out has shape \(5, 6\); this call's output has shape \(3, 4\)", LAP, LAP_REF,
               U, boundary="valid", out=np.empty((5, 6)))


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.float16, complex, object])
def test_out_of_the_wrong_dtype(dtype):
    both_raise(rf"out has dtype {np.dtype(dtype)} but the result is float64; pass an array of "
               r"dtype float64", LAP, LAP_REF, U, out=np.empty((5, 6), dtype))


@pytest.mark.parametrize("out", [[[0.0] * 6] * 5, "out", 3.0])
def test_out_not_an_array(out):
    both_raise(rf"out is a {type(out).__name__}; pass a numpy array", LAP, LAP_REF, U, out=out)


def test_out_tuple_of_the_wrong_length():
    call_error(r"out= has 2 arrays but the stencil returns 1", LAP, U,
               out=(np.empty((5, 6)), np.empty((5, 6))))
    call_error(r"out= has 1 arrays but the stencil returns 2", TWO, U, U, out=(np.empty((5, 6)),))
    call_error(r"out\[1\] has shape \(5, 5\)", TWO, U, U,
               out=(np.empty((5, 6)), np.empty((5, 5))))


def test_outputs_that_overlap_each_other():
    buf = np.empty((5, 6))
    call_error(r"the arrays passed as out= overlap each other; pass separate arrays", TWO, U,
               U, out=(buf, buf))


# -- definition time -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["boundary", "fill_value", "out", "domain", "threads", "check"])
def test_reserved_parameter_names(name, tmp_path):
    source = f"def f(u, {name}):\n    return u[1] * {name}\n"
    with pytest.raises(ReservedNameError) as info:
        stencil_from_source(source, "f", tmp_path)
    assert isinstance(info.value, sp.StencilSyntaxError)
    assert isinstance(info.value, sp.StencilCallError)
    assert re.search(rf"'{name}'", str(info.value))


def reserved_out(u, out):
    return u[1] + out


def test_reserved_parameter_name_points_at_the_parameter():
    with pytest.raises(ReservedNameError) as info:
        sp.stencil(reserved_out)
    err = info.value
    text = str(err)
    assert f'File "{__file__}"' in text and "def reserved_out(u, out):" in text
    assert re.search(r"\n\s+\| {21}\^\^\^\n", text), text       # under 'out'
    assert err.hint


def method_call(u):
    return u.sum()


def test_outside_the_language_is_refused_at_decoration():
    with pytest.raises(sp.StencilSyntaxError) as info:
        sp.stencil(method_call)
    text = str(info.value)
    assert re.search(r"'u\.sum\(\)' is not part of the stencil language", text)
    assert "    return u.sum()" in text and "hint:" in text


# -- data ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["fill", "wrap", "reflect", "constant"])
def test_nan_and_inf_data_match_the_reference(dtype, mode):
    rng = np.random.default_rng(5)
    u = rng.random((20, 24)).astype(dtype)
    u[rng.random(u.shape) < 0.1] = np.nan
    u[rng.random(u.shape) < 0.05] = np.inf
    u[rng.random(u.shape) < 0.05] = -np.inf
    u[0, 0], u[-1, -1] = np.nan, np.inf
    jit, ref = pair(hdiff)
    kw = {"fill_value": np.inf} if mode == "constant" else {}
    with np.errstate(all="ignore"):
        want = ref(u, 0.1, boundary=mode, **kw)
    assert_outputs(jit(u, 0.1, boundary=mode, **kw), want)
    assert_outputs(jit(u, np.nan, boundary=mode, **kw), ref(u, np.nan, boundary=mode, **kw))


def test_non_contiguous_negative_stride_and_read_only_inputs_are_fine():
    u = np.random.default_rng(6).random((12, 14))
    u.setflags(write=False)
    for view in (u, u[::-1, ::-2], u.T, np.asfortranarray(u)):
        assert_outputs(LAP(view, boundary="wrap"), LAP_REF(view, boundary="wrap"))
