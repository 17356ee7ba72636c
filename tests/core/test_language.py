"""Every construct of the stencil language (API section 1), run compiled and by the numpy
reference, each compared with a hand-written numpy version.

The hand-written versions use ``shift`` (a periodic ``np.roll``) with ``boundary="wrap"``, or
plain slicing with ``boundary="valid"``; they are written from the stencil's meaning, never
derived from its IR.
"""

import inspect as pyinspect
import math

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.ir.nodes import MATH_FUNCTIONS

from _support import random_field
from ._util import (MATH_ATOL, MATH_RTOL, assert_outputs, check, pair, shift)

FLOATS = [np.float64, np.float32]
INTS = [np.int32, np.int64]
NUMERIC = FLOATS + INTS


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def fields(rng, dtype, n=2, shape=(7, 9), low=-4, high=4):
    return [random_field(shape, dtype, rng, low, high) for _ in range(n)]


def nonzero(a):
    """``a`` with zeros replaced by ones (for integer division tests)."""
    return np.where(a == 0, np.ones_like(a), a)


# -- arithmetic --------------------------------------------------------------------------------

def arith(a, b):
    return a[1, 0] + b, a - b[0, -1], a * b, -a[0, 1], +b


@pytest.mark.parametrize("dtype", NUMERIC)
def test_add_sub_mul_neg(rng, dtype):
    a, b = fields(rng, dtype)
    want = (shift(a, 1, 0) + b, a - shift(b, 0, -1), a * b, -shift(a, 0, 1), b)
    check(arith, (a, b), want, boundary="wrap")


def true_div(a, b):
    return a / b, a[1, 1] / 4, 1.0 / b


@pytest.mark.parametrize("dtype", NUMERIC)
def test_true_division(rng, dtype):
    a, b = fields(rng, dtype)
    b = nonzero(b)
    want = (a / b, shift(a, 1, 1) / 4, 1.0 / b)
    out = check(true_div, (a, b), want, boundary="wrap")
    if np.dtype(dtype).kind == "i":
        assert out[0].dtype == np.float64          # int / int -> float64, as NumPy


def true_div_by_zero(a, b):
    return a / b


@pytest.mark.parametrize("dtype", FLOATS + [np.int64])
def test_true_division_by_zero_gives_inf_and_nan(dtype):
    a = np.array([[1, -1, 0, 3]], dtype)
    b = np.zeros_like(a)
    with np.errstate(all="ignore"):
        want = a / b
    check(true_div_by_zero, (a, b), want)


def floor_div_mod(a, b):
    return a // b, a % b, a[0, 1] // 3, a % -3, -7 // b


@pytest.mark.parametrize("dtype", NUMERIC)
def test_floor_division_and_remainder_have_python_signs(rng, dtype):
    a, b = fields(rng, dtype, low=-9, high=9)
    b = nonzero(b)
    want = (a // b, a % b, shift(a, 0, 1) // 3, a % -3, -7 // b)
    check(floor_div_mod, (a, b), want, boundary="wrap")


@pytest.mark.parametrize("dtype", FLOATS + INTS + [np.uint8, np.int8])
def test_floor_division_and_remainder_edge_cases(dtype):
    """Division by zero (0 for integers, inf/nan for floats), the most negative integer
    divided by -1, negative zero, infinities: every case as NumPy computes it."""
    dt = np.dtype(dtype)
    if dt.kind == "f":
        a = np.array([7, -7, 7, -7, 0, -0.0, np.inf, -np.inf, 5, np.nan, 1e30, 3], dt)
        b = np.array([2, 2, -2, -2, 3, 3, 2, 3, np.inf, 1, 1e-30, 0], dt)
    elif dt.kind == "u":
        a = np.array([7, 0, 255, 9, 1], dt)
        b = np.array([2, 3, 1, 0, 255], dt)
    else:
        lo = np.iinfo(dt).min
        a = np.array([7, -7, 7, -7, 0, lo, lo, 5, 9], dt)
        b = np.array([2, 2, -2, -2, 3, -1, 1, 0, -4], dt)
    a, b = a[None], b[None]
    with np.errstate(all="ignore"):
        want = (a // b, a % b)
    check(lambda_div_mod, (a, b), want)


def lambda_div_mod(a, b):
    return a // b, a % b


def powers(a, b):
    return a ** 2, a ** 3, a[0, 1] ** 0, abs(a) ** 0.5, abs(a) ** b


@pytest.mark.parametrize("dtype", FLOATS)
def test_power_float_constant_and_variable_exponents(rng, dtype):
    a, b = fields(rng, dtype, low=-3, high=3)
    want = (a ** 2, a ** 3, np.ones_like(a), np.abs(a) ** 0.5, np.abs(a) ** b)
    check(powers, (a, b), want, boundary="wrap")


def int_powers(a, b):
    return a ** 2, a ** 3, a ** 0, a ** b, sp.power(a, b)


@pytest.mark.parametrize("dtype", INTS + [np.uint8])
def test_power_integer_constant_and_variable_exponents(rng, dtype):
    a = random_field((5, 6), dtype, rng, 0 if np.dtype(dtype).kind == "u" else -5, 5)
    b = random_field((5, 6), dtype, rng, 0, 7)
    want = (a ** 2, a ** 3, a ** 0, a ** b, np.power(a, b))
    check(int_powers, (a, b), want)


def int_power_wraps(a, b):
    return a ** b


def test_power_integer_wraps_like_numpy():
    a = np.array([[3, -3, 2, 7, -1, 0]], np.int64)
    b = np.array([[40, 41, 63, 64, 2**40 + 1, 0]], np.int64)
    check(int_power_wraps, (a, b), np.power(a, b))


def test_power_integer_negative_runtime_exponent_truncates():
    """NumPy refuses negative integer exponents; both backends give the true value truncated
    toward zero (documented in reference/interpret.py)."""
    a = np.array([[1, -1, -1, 2, -2, 0, 5]], np.int32)
    b = np.array([[-3, -3, -2, -1, -1, 0, -2]], np.int32)
    check(int_power_wraps, (a, b), np.array([[1, -1, 1, 0, 0, 1, 0]], np.int32))


def unary_plus_minus_not(a):
    return -a, +a, not a, -(-a[1, 0])


@pytest.mark.parametrize("dtype", NUMERIC)
def test_unary_operators(rng, dtype):
    (a,) = fields(rng, dtype, 1)
    a[0, 0] = 0
    want = (-a, a, np.logical_not(a), shift(a, 1, 0))
    check(unary_plus_minus_not, (a,), want, boundary="wrap")


def bool_arith(a, b):
    return a + b, a * b, not a, a == b, a != b, a < b


def test_bool_fields(rng):
    a, b = fields(rng, bool)
    want = (a + b, a * b, ~a, a == b, a != b, a < b)
    out = check(bool_arith, (a, b), want)
    assert out[0].dtype == np.bool_                # bool + bool is logical or, as NumPy


def bool_plus_int(a):
    return a + 1, a * 2.5


def test_bool_field_with_numbers_promotes(rng):
    (a,) = fields(rng, bool, 1)
    check(bool_plus_int, (a,), (a + 1, a * 2.5))


# -- comparisons and logic ---------------------------------------------------------------------

def comparisons(a, b):
    return a < b, a <= b, a > b, a >= b, a == b, a != b[1, 0]


@pytest.mark.parametrize("dtype", NUMERIC + [np.bool_])
def test_comparisons(rng, dtype):
    a, b = fields(rng, dtype, low=-2, high=2)
    want = (a < b, a <= b, a > b, a >= b, a == b, a != shift(b, 1, 0))
    check(comparisons, (a, b), want, boundary="wrap")


def test_comparisons_with_nan():
    a = np.array([[np.nan, 1.0, np.nan, 2.0]])
    b = np.array([[np.nan, np.nan, 1.0, 2.0]])
    want = (a < b, a <= b, a > b, a >= b, a == b, a != b)
    check(comparisons, (a, b), want, boundary={0: "wrap", 1: "fill"}, fill_value=0.0)


def chains(a, b, c):
    return a < b < c, a < b > c, 0 <= a <= 2 < c, a == b == c


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_comparison_chains(rng, dtype):
    a, b, c = fields(rng, dtype, 3, low=-2, high=2)
    want = ((a < b) & (b < c), (a < b) & (b > c), (0 <= a) & (a <= 2) & (2 < c),
            (a == b) & (b == c))
    check(chains, (a, b, c), want)


def small_int_vs_big_literal(a):
    return a < 1000, a == -1000, a > -129, 1000 != a


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int16, np.uint64, np.int64])
def test_comparison_with_a_literal_outside_the_dtype_is_exact(dtype):
    """NumPy 2 compares a small integer dtype with an out-of-range Python int exactly."""
    info = np.iinfo(dtype)
    a = np.array([[info.min, 0, info.max]], dtype)
    want = (a < 1000, a == -1000, a > -129, 1000 != a)
    check(small_int_vs_big_literal, (a,), want)


def compare_scalar(a, n):
    return a < n, a == n, n >= a


@pytest.mark.parametrize("dtype, n", [(np.uint64, -1), (np.uint8, 300), (np.int8, -200),
                                      (np.uint64, 2**63 - 1), (np.int64, -(2**63))])
def test_comparison_with_an_integer_scalar_argument_is_exact(dtype, n):
    info = np.iinfo(dtype)
    a = np.array([info.min, 0, 1, info.max], dtype)
    check(compare_scalar, (a, n), (a < n, a == n, n >= a))


def test_comparison_of_uint64_with_int64_is_exact():
    """NumPy compares uint64 with int64 exactly (no rounding through float64)."""
    a = np.array([2**53 + 1, 2**63 + 5, 3, 0, 2**64 - 1], np.uint64)
    b = np.array([2**53, 2**63 - 1, -1, 0, -1], np.int64)
    want = (a < b, a <= b, a > b, a >= b, a == b, a != np.roll(b, -1))
    check(comparisons_1d, (a, b), want, boundary="wrap")
    check(comparisons_1d, (b, a), (b < a, b <= a, b > a, b >= a, b == a, b != np.roll(a, -1)),
          boundary="wrap")


def comparisons_1d(a, b):
    return a < b, a <= b, a > b, a >= b, a == b, a != b[1]


def logic(a, b):
    return (a > 0) and (b > 0), (a > 0) or (b < 0), not (a > b), (a > 0) and (b > 0) and (a > b)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_and_or_not(rng, dtype):
    a, b = fields(rng, dtype, low=-2, high=2)
    want = ((a > 0) & (b > 0), (a > 0) | (b < 0), ~(a > b), (a > 0) & (b > 0) & (a > b))
    check(logic, (a, b), want)


def truthiness(a, b):
    return a and b, a or b, not a


def test_and_or_of_numbers_use_truth_values():
    """``and``/``or`` are element-wise logical operations (NaN counts as true, as in NumPy)."""
    a = np.array([[0.0, 1.0, np.nan, -0.0, 2.0]])
    b = np.array([[1.0, 0.0, 0.0, 1.0, np.nan]])
    check(truthiness, (a, b), (np.logical_and(a, b), np.logical_or(a, b), np.logical_not(a)))


# -- selection ---------------------------------------------------------------------------------

def conditional_expression(a, b):
    return a if a > b else b[0, 1], 0.0 if a > 0 else 1.0, (a if b > 0 else -a) if a > 1 else b


@pytest.mark.parametrize("dtype", NUMERIC)
def test_conditional_expression(rng, dtype):
    a, b = fields(rng, dtype)
    zero_one = np.where(a > 0, 0.0, 1.0)
    want = (np.where(a > b, a, shift(b, 0, 1)), zero_one.astype(np.float64),
            np.where(a > 1, np.where(b > 0, a, -a), b))
    check(conditional_expression, (a, b), want, boundary="wrap")


def where_(a, b):
    return sp.where(a > b, a, b), np.where(a > 0, a, 0), sp.where(a, 1, 2)


@pytest.mark.parametrize("dtype", NUMERIC + [np.bool_])
def test_where(rng, dtype):
    a, b = fields(rng, dtype)
    want = (np.where(a > b, a, b), np.where(a > 0, a, 0), np.where(a, 1, 2))
    check(where_, (a, b), want)


def if_blocks(u, v):
    if u > 0.5:
        t = u
        s = 1.0
    elif u < -0.5:
        t = v[1, 0]
        s = 2.0
    else:
        t = u * v
        s = 3.0
    if v > 0:
        t = t + 10.0                       # reassignment in one branch only
    return t[0, 1] + t[0, -1], s, t


@pytest.mark.parametrize("dtype", FLOATS)
def test_if_elif_else_with_reassignment_and_reads_at_offsets(rng, dtype):
    u, v = fields(rng, dtype, low=-1, high=1)
    t = np.where(u > 0.5, u, np.where(u < -0.5, shift(v, 1, 0), u * v))
    t = np.where(v > 0, t + dtype(10.0), t)
    s = np.where(u > 0.5, 1.0, np.where(u < -0.5, 2.0, 3.0))
    want = (shift(t, 0, 1) + shift(t, 0, -1), s, t)
    check(if_blocks, (u, v), want, boundary="wrap")


def nested_if(u):
    x = u
    if u > 0:
        if u > 2:
            x = 2 * u
        else:
            x = u + 100
    return x


@pytest.mark.parametrize("dtype", NUMERIC)
def test_nested_if_without_else(rng, dtype):
    (u,) = fields(rng, dtype, 1)
    want = np.where(u > 0, np.where(u > 2, 2 * u, u + 100), u)
    check(nested_if, (u,), want)


# -- abs / min / max ---------------------------------------------------------------------------

def abs_min_max(a, b, c):
    return abs(a), min(a, b), max(a, b[1, 0]), min(a, b, c), max(a, 0), np.minimum(a, c), \
        sp.max(b, c)


@pytest.mark.parametrize("dtype", NUMERIC)
def test_abs_min_max(rng, dtype):
    a, b, c = fields(rng, dtype, 3)
    want = (np.abs(a), np.minimum(a, b), np.maximum(a, shift(b, 1, 0)),
            np.minimum(np.minimum(a, b), c), np.maximum(a, 0), np.minimum(a, c), np.maximum(b, c))
    check(abs_min_max, (a, b, c), want, boundary="wrap")


@pytest.mark.parametrize("dtype", FLOATS)
def test_min_max_propagate_nan(dtype):
    a = np.array([[np.nan, 1.0, np.nan, -np.inf, 2.0]], dtype)
    b = np.array([[1.0, np.nan, np.nan, np.nan, -0.0]], dtype)
    c = np.zeros_like(a)
    want = (np.abs(a), np.minimum(a, b), np.maximum(a, b), np.minimum(np.minimum(a, b), c),
            np.maximum(a, 0), np.minimum(a, c), np.maximum(b, c))
    check(abs_min_max_1d, (a, b, c), want)
    got = sp.stencil(abs_min_max_1d)(a, b, c)
    assert np.isnan(got[1][0, :3]).all() and np.isnan(got[2][0, :4]).all()


def abs_min_max_1d(a, b, c):
    return abs(a), min(a, b), max(a, b), min(a, b, c), max(a, 0), np.minimum(a, c), sp.max(b, c)


def test_abs_of_most_negative_integer_wraps_like_numpy():
    a = np.array([[np.iinfo(np.int32).min, -1, 0, 5]], np.int32)
    check(abs_only, (a,), np.abs(a))


def abs_only(a):
    return abs(a)


# -- math functions ----------------------------------------------------------------------------

def math_sp(x, y):
    return (sp.sqrt(x), sp.exp(x), sp.log(x), sp.log10(x), sp.log2(x), sp.expm1(x),
            sp.log1p(x), sp.sin(x), sp.cos(x), sp.tan(x), sp.arcsin(x), sp.arccos(x),
            sp.arctan(x), sp.sinh(x), sp.cosh(x), sp.tanh(x), sp.floor(x), sp.ceil(x),
            sp.trunc(x), sp.abs(x), sp.isnan(x), sp.isinf(x), sp.isfinite(x), sp.sign(x),
            sp.arctan2(x, y), sp.hypot(x, y), sp.power(abs(x), y), sp.copysign(x, y),
            sp.fmod(x, y), sp.min(x, y), sp.max(x, y), sp.where(x > y, x, y))


#: hand-written numpy of ``math_sp``, in the same order
MATH_NUMPY = (np.sqrt, np.exp, np.log, np.log10, np.log2, np.expm1, np.log1p, np.sin, np.cos,
              np.tan, np.arcsin, np.arccos, np.arctan, np.sinh, np.cosh, np.tanh, np.floor,
              np.ceil, np.trunc, np.abs, np.isnan, np.isinf, np.isfinite, np.sign,
              np.arctan2, np.hypot, lambda x, y: np.power(np.abs(x), y), np.copysign, np.fmod,
              np.minimum, np.maximum, lambda x, y: np.where(x > y, x, y))


def test_math_sp_covers_every_language_function():
    source = pyinspect.getsource(math_sp)
    assert {n for n in MATH_FUNCTIONS if f"sp.{n}(" in source} == set(MATH_FUNCTIONS)
    assert len(MATH_NUMPY) == len(MATH_FUNCTIONS) == len(sp.stencil(math_sp).ir.returns)


def math_data(dtype):
    special = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -2.5, 1e-8, 700.0, -700.0, np.inf,
               -np.inf, np.nan, 3.0, 0.999]
    rng = np.random.default_rng(7)
    x = np.concatenate([special, rng.uniform(-3, 3, 48)]).astype(dtype)
    y = np.concatenate([special[::-1], rng.uniform(-3, 3, 48)]).astype(dtype)
    return x.reshape(4, 16), y.reshape(4, 16)


@pytest.mark.parametrize("dtype", FLOATS)
def test_every_math_function(dtype):
    x, y = math_data(dtype)
    dt = np.dtype(dtype)
    check(math_sp, (x, y), _math_expected(x, y), rtol=MATH_RTOL[dt], atol=MATH_ATOL[dt])


def _math_expected(x, y):
    with np.errstate(all="ignore"):
        return tuple(f(x, y) if _arity(f) == 2 else f(x) for f in MATH_NUMPY)


def _arity(f):
    try:
        return f.nin
    except AttributeError:
        return f.__code__.co_argcount


@pytest.mark.parametrize("dtype", INTS)
def test_math_functions_of_integer_fields_follow_numpy_types(dtype):
    """sqrt(int32) is float64, floor(int32) is int32, isnan(int) is False ... as NumPy says."""
    x, y = math_data(np.float64)
    x = np.nan_to_num(x, posinf=9, neginf=-9).astype(dtype)
    y = np.nan_to_num(y, posinf=9, neginf=-9).astype(dtype)
    y = np.where(y == 0, 1, np.abs(y)).astype(dtype)      # integer powers need y >= 0
    want = _math_expected(x, y)
    check(math_sp, (x, y), want, rtol=MATH_RTOL[np.dtype(np.float64)], atol=1e-300)


def math_module_names(x, y):
    return (math.sqrt(x), math.exp(x), math.log(x), math.log10(x), math.log2(x),
            math.expm1(x), math.log1p(x), math.sin(x), math.cos(x), math.tan(x), math.asin(x),
            math.acos(x), math.atan(x), math.sinh(x), math.cosh(x), math.tanh(x),
            math.floor(x), math.ceil(x), math.trunc(x), math.fabs(x), math.isnan(x),
            math.isinf(x), math.isfinite(x), math.atan2(x, y), math.hypot(x, y),
            math.pow(abs(x), y), math.copysign(x, y), math.fmod(x, y))


def numpy_names(x, y):
    return (np.sqrt(x), np.exp(x), np.log(x), np.log10(x), np.log2(x), np.expm1(x),
            np.log1p(x), np.sin(x), np.cos(x), np.tan(x), np.arcsin(x), np.arccos(x),
            np.arctan(x), np.sinh(x), np.cosh(x), np.tanh(x), np.floor(x), np.ceil(x),
            np.trunc(x), np.absolute(x), np.isnan(x), np.isinf(x), np.isfinite(x), np.sign(x),
            np.arctan2(x, y), np.hypot(x, y), np.power(abs(x), y), np.copysign(x, y),
            np.fmod(x, y), np.minimum(x, y), np.maximum(x, y), np.where(x > y, x, y),
            np.fabs(x), np.abs(x))


def test_math_and_numpy_spellings():
    x, y = math_data(np.float64)
    full = _math_expected(x, y)
    tol = dict(rtol=MATH_RTOL[np.dtype(np.float64)], atol=1e-300)
    # math.* has no sign/min/max/where
    by_math = full[:19] + (np.abs(x),) + full[20:23] + full[24:29]
    check(math_module_names, (x, y), by_math, **tol)
    check(numpy_names, (x, y), full + (np.abs(x), np.abs(x)), **tol)


def constants_(x):
    return x * sp.pi + sp.e, x * math.pi, np.inf if x > 0 else -sp.inf, sp.isnan(sp.nan + x)


def test_language_constants():
    x = np.linspace(-1, 1, 8)
    want = (x * np.pi + np.e, x * math.pi, np.where(x > 0, np.inf, -np.inf),
            np.ones_like(x, bool))
    check(constants_, (x,), want)


# -- helpers, tuples, scalars, temporaries, named offsets ---------------------------------------

@sp.function
def centred(f):
    return 0.5 * (f[1, 0] - f[-1, 0])


@sp.function
def grad_sq(f):
    gx = centred(f)
    gy = 0.5 * (f[0, 1] - f[0, -1])
    return gx * gx + gy * gy


def with_helpers(u, w):
    g = grad_sq(u)
    w1 = w[0, 1]
    return g + centred(w), grad_sq(w1)


def test_function_helpers_are_inlined(rng):
    u, w = fields(rng, np.float64)

    def gsq(f):
        gx = 0.5 * (shift(f, 1, 0) - shift(f, -1, 0))
        gy = 0.5 * (shift(f, 0, 1) - shift(f, 0, -1))
        return gx * gx + gy * gy

    want = (gsq(u) + 0.5 * (shift(w, 1, 0) - shift(w, -1, 0)), gsq(shift(w, 0, 1)))
    check(with_helpers, (u, w), want, boundary="wrap")


def two_outputs(u, v):
    return u + v, u - v


def test_tuple_return_gives_a_tuple(rng):
    u, v = fields(rng, np.float64)
    out = check(two_outputs, (u, v), (u + v, u - v))
    assert isinstance(out, tuple) and len(out) == 2


def mixed_output_dtypes(u, v):
    return u > v, u + v, u / v


def test_tuple_outputs_with_different_dtypes(rng):
    u, v = fields(rng, np.int32)
    v = nonzero(v)
    out = check(mixed_output_dtypes, (u, v), (u > v, u + v, u / v))
    assert [o.dtype for o in out] == [np.bool_, np.int32, np.float64]


def scaled(u, a, b):
    return a * u + b


@pytest.mark.parametrize("a, b", [(2, 3), (2.5, -1.0), (True, False),
                                  (np.float32(2.5), np.int64(3)), (np.float64(0.25), np.array(2.0)),
                                  (np.int8(3), np.bool_(True))])
@pytest.mark.parametrize("dtype", NUMERIC)
def test_scalars_are_python_or_numpy_numbers(rng, dtype, a, b):
    """Scalars are weak, like Python numbers (NumPy scalars too): float32 stays float32."""
    (u,) = fields(rng, dtype, 1)
    pa = a.item() if hasattr(a, "item") else a
    pb = b.item() if hasattr(b, "item") else b
    check(scaled, (u, a, b), pa * u + pb)


def temporaries_at_offsets(u):
    t = u * u
    s = t[1, 0] - t[-1, 0]
    r = s[0, 1] + s[0, -1] + t
    return r[1, 1] - r


@pytest.mark.parametrize("dtype", NUMERIC)
def test_temporaries_read_at_offsets(rng, dtype):
    (u,) = fields(rng, dtype, 1, shape=(9, 10))
    t = u * u
    s = shift(t, 1, 0) - shift(t, -1, 0)
    r = shift(s, 0, 1) + shift(s, 0, -1) + t
    check(temporaries_at_offsets, (u,), shift(r, 1, 1) - r, boundary="wrap")
    # valid: the output loses halo ((1, 2), (1, 2)) points
    got = sp.stencil(temporaries_at_offsets)(u, boundary="valid")
    assert got.shape == (9 - 3, 10 - 3)
    np.testing.assert_allclose(got, (shift(r, 1, 1) - r)[1:-2, 1:-2], rtol=1e-12)


def ddlon(u, dlon):
    return (u[lon + 1] - u[lon - 1]) / (2.0 * dlon)  # noqa: F821 - a dim name


def named(u, v):
    return u[lat - 1, lon + 2] + v[lat + 1] - u[lon - 1] + v  # noqa: F821


def test_named_offsets(rng):
    u, v = fields(rng, np.float64, shape=(6, 8))
    check(ddlon, (u, 0.25), (shift(u, 0, 1) - shift(u, 0, -1)) / 0.5,
          stencil_options={"dims": ("lat", "lon")}, boundary={"lon": "periodic", "lat": "edge"})
    want = shift(u, -1, 2) + shift(v, 1, 0) - shift(u, 0, -1) + v
    check(named, (u, v), want, stencil_options={"dims": ("lat", "lon")}, boundary="wrap")
    assert sp.stencil(named, dims=("lat", "lon")).halo == ((1, 1), (1, 2))


def three_d(u):
    return u[1, 0, 0] + u[0, -1, 0] + u[0, 0, 2] - 3 * u


def one_d(u):
    return u[2] - 2 * u + u[-1]


@pytest.mark.parametrize("dtype", NUMERIC)
def test_one_and_three_dimensional_stencils(rng, dtype):
    u3 = random_field((4, 5, 6), dtype, rng, -4.0, 4.0)
    check(three_d, (u3,), shift(u3, 1, 0, 0) + shift(u3, 0, -1, 0) + shift(u3, 0, 0, 2) - 3 * u3,
          boundary="wrap")
    u1 = random_field((11,), dtype, rng, -4.0, 4.0)
    check(one_d, (u1,), u1[3:] - 2 * u1[1:-2] + u1[:-3], boundary="valid")


def augmented(u):
    x = u
    x += u[1, 0]
    x *= 2
    x -= 1
    return x


def test_augmented_assignment(rng):
    (u,) = fields(rng, np.float64, 1)
    check(augmented, (u,), (u + shift(u, 1, 0)) * 2 - 1, boundary="wrap")


def constant_output(u):
    return 1.5


def test_constant_return_fills_the_domain(rng):
    (u,) = fields(rng, np.float64, 1)
    check(constant_output, (u,), np.full_like(u, 1.5))


def unused_parameter(u, v):
    return u[1, 1]


def test_unused_parameter_is_accepted_and_ignored(rng):
    u, v = fields(rng, np.float64)
    check(unused_parameter, (u, v), shift(u, 1, 1), boundary="wrap")
    check(unused_parameter, (u, 3.0), shift(u, 1, 1), boundary="wrap")


def test_reference_and_compiled_agree_on_every_boundary_mode(rng):
    """The same stencil and data under every mode, against numpy.pad directly."""
    u = random_field((6, 7), np.float64, rng, -4.0, 4.0)
    jit, ref = pair(offsets_pad)
    for mode in ("constant", "wrap", "edge", "reflect", "symmetric"):
        kw = {"fill_value": -3.5} if mode == "constant" else {}
        pad_kw = {"constant_values": -3.5} if mode == "constant" else {}
        p = np.pad(u, 2, mode=mode, **pad_kw)
        want = p[4:, 3:-1] - p[:-4, 2:-2] + p[2:-2, 0:-4]
        assert_outputs(jit(u, boundary=mode, **kw), want, what=mode)
        assert_outputs(ref(u, boundary=mode, **kw), want, what=mode)


def offsets_pad(u):
    return u[2, 1] - u[-2, 0] + u[0, -2]


def weak_values(u, k):
    c = 0.5                      # a temporary holding a number stays a (weak) number
    m = min(k, 2.5)              # so does a function of numbers only
    if u > 0:
        d = 0.25
    else:
        d = 0.75
    return u * c + m * u - sp.sqrt(k) * u[1], u * d


def test_numbers_stay_weak_through_temporaries_and_functions(rng):
    """float32 stays float32 when a temporary or a math function holds only numbers; an
    ``if`` choosing between numbers per point makes an array (float64, as ``np.where``)."""
    (u,) = fields(rng, np.float32, 1, shape=(12,))
    k = 0.7
    first = u * np.float32(0.5) + np.float32(k) * u - np.float32(math.sqrt(k)) * np.roll(u, -1)
    second = u * np.where(u > 0, 0.25, 0.75)
    out = check(weak_values, (u, k), (first, second), boundary="wrap")
    assert out[0].dtype == np.float32 and out[1].dtype == np.float64
    zero = np.zeros_like(u)      # -1e300 overflows float32: -inf * 0 is nan, as in NumPy
    with np.errstate(all="ignore"):
        check(weak_values, (zero, -1e300), (np.full_like(u, np.nan), np.zeros(12)),
              boundary="wrap")


def weak_bools(u, flag):
    return u * (True + True), u * (-flag), u * (flag + flag), u * (flag - True)


def test_arithmetic_on_python_bools_is_python_arithmetic(rng):
    """Numbers alone follow Python (True + True == 2, -True == -1); NumPy's bool arithmetic
    (logical or, no negative) only applies to bool arrays (see test_bool_fields)."""
    (u,) = fields(rng, np.float64, 1, shape=(6,))
    want = (u * 2, u * -1, u * 2, u * 0)
    check(weak_bools, (u, True), want)
    check(weak_bools, (u, np.bool_(True)), want)
    check(weak_bools, (u, False), (u * 2, u * 0, u * 0, u * -1))
