"""Frontend errors: the message, the hint, and a rendering that points at the user's code."""

import inspect
import linecache
import math

import numpy as np
import pytest

from stencilpy.errors import (ReservedNameError, StencilCallError, StencilError,
                              StencilSyntaxError)
from stencilpy.frontend import function, parse_stencil

COEFFS = np.ones(3)


class Config:
    g = 9.81


CONFIG = Config()


def check(func, message, snippet, hint=None, dims=None, occurrence=0, where=None, after=""):
    """Parsing ``func`` fails with ``message``; the caret sits under ``snippet``.

    ``snippet`` is searched in the source of ``where`` (default: ``func``); ``occurrence``
    picks among several lines containing it, ``after`` skips to the first match after it.
    """
    with pytest.raises(StencilSyntaxError) as info:
        parse_stencil(func, dims)
    err = info.value
    assert err.message == message
    if hint is not None:
        assert hint in err.hint
    assert err.hint, "every error carries a hint"
    lines, first = inspect.getsourcelines(where or func)
    hits = [i for i, line in enumerate(lines) if snippet in line]
    line = lines[hits[occurrence]].rstrip("\n")
    lineno = first + hits[occurrence]
    col = line.index(snippet, line.index(after))
    assert (err.loc.line, err.loc.col) == (lineno, col), (err.loc, lineno, col)
    rendered = str(err).splitlines()
    assert rendered[0].startswith(f'File "{__file__}", line {lineno}, in ')
    assert rendered[2] == f"{lineno} | {line}"
    assert rendered[3].endswith("| " + " " * col + "^" * len(snippet))
    assert rendered[4] == message and rendered[5].startswith("hint: ")
    assert linecache.getline(__file__, lineno).rstrip("\n") == line
    return err


# -- statements ----------------------------------------------------------------------------

def test_for_loop_with_bounds_known_only_at_call():
    def f(u, n):
        s = 0.0
        for i in range(n):
            s = s + u[i]
        return s
    check(f, "loop bound 'n' is not known when the stencil is decorated: 'n' is a parameter "
          "or temporary, known only when the stencil is called", "n", hint="loops are unrolled",
          occurrence=1, after="(n")


def test_for_loop_over_something_else():
    def f(u):
        s = 0.0
        for i in [1, 2]:
            s = s + u[i]
        return s
    check(f, "'[1, 2]' is not part of the stencil language: only loops over 'range(...)' with "
          "bounds known when the stencil is decorated are supported (they are unrolled)",
          "[1, 2]", hint="constant bounds is unrolled")


def test_while_loop():
    def f(u):
        while u > 0:
            pass
        return u
    check(f, "'while u > 0:' is not part of the stencil language: loops are not supported",
          "while u > 0:")


def test_return_inside_if():
    def f(u):
        if u > 0:
            return u
        return -u
    check(f, "'return' must be the last statement of stencil 'f'", "return u",
          hint="return it once at the end")


def test_no_return():
    def f(u):
        x = u
    check(f, "stencil 'f' does not end with a 'return' statement", "def f")


def test_assign_to_parameter():
    def f(u):
        u = u * 2
        return u
    check(f, "'u' is a parameter, and parameters are read-only", "u",
          hint="assign to a new temporary name", occurrence=1)


def test_augmented_assign_to_parameter():
    def f(u):
        u += 1
        return u
    check(f, "'u' is a parameter, and parameters are read-only", "u", occurrence=1)


def test_read_before_assignment():
    def f(u):
        y = x + u
        x = 1.0
        return y
    check(f, "temporary 'x' is read before it is assigned", "x",
          hint="assign 'x' above this line")


def test_only_assigned_in_some_branches():
    def f(u):
        if u > 0:
            y = u
        return y
    check(f, "'y' is only assigned in some branches of an 'if' above", "y",
          hint="in every branch", occurrence=1)


def test_chained_and_subscript_assignment():
    def f(u):
        a = b = u
        return a
    check(f, "chained assignment 'a = b = ...' is not supported", "a = b = u")

    def g(u):
        u[0, 0] = 1.0
        return u
    check(g, "cannot assign to 'u[0, 0]'", "u[0, 0]", hint="through 'return'")


def test_unpacking_length_mismatch():
    def f(u):
        a, b = u, u, u
        return a
    check(f, "'a, b = u, u, u' does not unpack a tuple of 2 expressions", "a, b = u, u, u")


def test_temporary_named_like_a_dim():
    def f(u):
        lon = u[lon + 1]  # noqa: F821
        return lon
    check(f, "temporary 'lon' has the name of a dimension", "lon", dims=("lat", "lon"))


def test_unsupported_statements():
    def f(u):
        with open("x"):
            pass
        return u
    check(f, """'with open("x"):' is not part of the stencil language: 'with' blocks are not """
          "supported", 'with open("x"):', hint="outside the stencil")

    def g(u):
        global COEFFS
        return u
    check(g, "'global COEFFS' is not part of the stencil language: 'global' is not supported",
          "global COEFFS")

    def h(u):
        def inner(x):
            return x
        return inner(u)
    err = pytest.raises(StencilSyntaxError, parse_stencil, h).value
    assert err.message.endswith("nested function definitions are not supported")
    assert "@sp.function" in err.hint

    def k(u):
        try:
            y = u
        except ValueError:
            y = 0
        return y
    assert "'try' blocks" in pytest.raises(StencilSyntaxError, parse_stencil, k).value.message


def test_expression_statement():
    def f(u):
        print(u)
        return u
    check(f, "'print' is not a function of the stencil language", "print")

    def g(u):
        u + 1
        return u
    check(g, "the value of 'u + 1' is not used", "u + 1")


# -- subscripts ----------------------------------------------------------------------------

def test_slice():
    def f(u):
        return u[1:3, 0]
    check(f, "slice '1:3' cannot be used as an offset", "1:3", hint="loops over the array")


def test_non_integer_offset():
    def f(u):
        return u[0.5, 0]
    check(f, "offset '0.5' is not an integer constant", "0.5", hint="e.g. u[1, 0]")


def test_variable_offset():
    def f(u, i):
        return u[i + 1, 0]
    check(f, "offset 'i + 1' is not an integer constant", "i + 1", hint="dims=(...)")


def test_typo_of_a_dim_in_an_offset_suggests_the_dim():
    def f(u):
        return u[lom + 1]  # noqa: F821
    check(f, "unknown name 'lom' — did you mean 'lon'?", "lom", dims=("lat", "lon"),
          hint="the stencil's dims are (lat, lon); an offset is a dimension plus or minus an "
               "integer constant, e.g. u[lon + 1]")

    def g(u):
        return u[lat - 1, lno]  # noqa: F821
    check(g, "unknown name 'lno' — did you mean 'lon'?", "lno", dims=("lat", "lon"))


def test_unknown_name_in_an_offset_is_called_unknown():
    def f(u):
        return u[lon + step]  # noqa: F821
    check(f, "unknown name 'step' in offset 'lon + step'", "step", dims=("lat", "lon"),
          hint="a dimension (lat, lon) plus or minus an integer constant")

    def g(u):
        return u[x + 1]  # noqa: F821
    check(g, "unknown name 'x' in offset 'x + 1'", "x", hint="declare @sp.stencil(dims=(...))")


def test_rank_mismatch():
    def f(u):
        return u[1, 0] + u[1]
    check(f, "'u[1]' has 1 offset but the first subscript 'u[1, 0]' has 2", "u[1]")

    def g(u):
        return u[1, 0, 0]
    check(g, "'u[1, 0, 0]' has 3 offsets but the stencil has 2 dimensions (lat, lon)",
          "u[1, 0, 0]", dims=("lat", "lon"))


def test_mixed_named_and_positional():
    def f(u):
        return u[lat + 1, 0]  # noqa: F821
    check(f, "'u[lat + 1, 0]' mixes named and positional offsets", "u[lat + 1, 0]",
          dims=("lat", "lon"))


def test_dim_twice_and_two_dims_in_one_offset():
    def f(u):
        return u[lon + 1, lon]  # noqa: F821
    check(f, "dimension 'lon' appears twice in 'u[lon + 1, lon]'", "lon", after=", ", dims=("lat", "lon"))

    def g(u):
        return u[lon + lat]  # noqa: F821
    check(g, "offset 'lon + lat' is not an integer constant", "lon + lat", dims=("lat", "lon"))


def test_dim_outside_subscript():
    def f(u):
        return u * lon  # noqa: F821
    check(f, "dimension 'lon' can only be used inside a subscript", "lon",
          dims=("lat", "lon"))


def test_subscript_of_global_or_expression():
    def f(u):
        return u * COEFFS[1]
    check(f, "'COEFFS' is not a parameter or a temporary, so it cannot be read at offsets",
          "COEFFS", hint="as parameters")

    def g(u):
        return (u + 1)[1]
    check(g, "'u + 1' is not a parameter or a temporary, so it cannot be read at offsets",
          "u + 1")


# -- expressions ---------------------------------------------------------------------------

def test_method_call():
    def f(u):
        return u.sum()
    check(f, "'u.sum()' is not part of the stencil language: method calls are not supported",
          "u.sum()", hint="sp.where")


def test_attribute_of_non_module():
    def f(u):
        return u * CONFIG.g
    check(f, "'CONFIG.g' reads an attribute of a value of type 'Config', which is not "
          "supported", "CONFIG.g", hint="pass other values as parameters")


def test_unknown_function():
    def plain(x):
        return x

    def f(u):
        return plain(u)
    check(f, "'plain' is not a function of the stencil language", "plain(u)"[:5],
          hint="decorate 'plain' with @sp.function", occurrence=0)

    def g(u):
        return np.sum(u)
    check(g, "'np.sum' is not a function of the stencil language", "np.sum",
          hint="math functions")


def test_wrong_number_of_arguments():
    def f(u):
        return math.sqrt(u, 2)
    check(f, "'math.sqrt' takes 1 argument but 2 were given", "math.sqrt(u, 2)",
          hint="math.sqrt(x)")

    def g(u):
        return min(u)
    check(g, "'min' takes at least 2 arguments but 1 was given", "min(u)")


def test_keyword_arguments_to_math_function():
    def f(u):
        return np.sqrt(u, out=u)
    check(f, "'np.sqrt' takes no keyword arguments", "out=u")


def test_global_array_and_undefined_name():
    def f(u):
        return u * COEFFS
    check(f, "'COEFFS' is a NumPy array of shape (3,), not a number", "COEFFS",
          hint="as parameters")

    def g(u):
        return u * undefined_thing  # noqa: F821
    check(g, "name 'undefined_thing' is not defined", "undefined_thing")


def test_undefined_names_suggest_the_closest_known_name():
    def f(u, coef):
        lap = u[1] - u
        return lapp * coeff  # noqa: F821
    check(f, "name 'lapp' is not defined — did you mean 'lap'?", "lapp")

    def g(u, coef):
        return u * coeff  # noqa: F821
    check(g, "name 'coeff' is not defined — did you mean 'coef'?", "coeff",
          hint="define it before the stencil is decorated, or pass it as a parameter")

    def h(u):
        return sqr(u)  # noqa: F821
    check(h, "name 'sqr' is not defined — did you mean 'sp.sqrt'?", "sqr")

    def k(u):
        return np.sqrtt(u)
    check(k, "module 'numpy' has no attribute 'sqrtt' — did you mean 'np.sqrt'?", "np.sqrtt")


def test_function_used_as_value():
    def f(u):
        return u * np.sqrt
    check(f, "function 'np.sqrt' is used without calling it", "np.sqrt", hint="np.sqrt(x)")


def test_strings_lists_lambdas_comprehensions():
    def f(u):
        return u * "two"
    check(f, "'\"two\"' is not part of the stencil language: strings are not supported",
          '"two"')

    def g(u):
        return [u, u]
    check(g, "'[u, u]' is not part of the stencil language: lists are not supported", "[u, u]")

    def h(u):
        return sum(u[i] for i in (0, 1))
    check(h, "'sum' is not a function of the stencil language", "sum")

    def k(u):
        return (lambda x: x)(u)
    check(k, "'lambda x: x' is not part of the stencil language: lambdas are not supported",
          "lambda x: x")


def test_bad_operators():
    def f(u, v):
        return (u > 0) & (v > 0)
    check(f, "'(u > 0) & (v > 0)' is not part of the stencil language: operator 'BitAnd' is "
          "not supported", "(u > 0) & (v > 0)", hint="use 'and'")

    def g(u):
        return u is None
    check(g, "'u is None' is not part of the stencil language: operator 'Is' is not supported",
          "u is None")


def test_none_and_complex_constants():
    def f(u):
        return u * 1j
    check(f, "'1j' is not part of the stencil language: complex numbers are not supported",
          "1j")


# -- parameters ------------------------------------------------------------------------------

def test_reserved_parameter_name():
    def f(u, out):
        return u
    err = check(f, "parameter 'out' uses a name reserved for call options", "out")
    assert isinstance(err, ReservedNameError)
    assert isinstance(err, StencilCallError) and isinstance(err, ValueError)
    assert isinstance(err, StencilError)


def test_star_args_and_defaults():
    def f(u, *rest):
        return u
    check(f, "stencil 'f' has a '*rest' parameter", "rest", hint="named parameter")

    def g(u, **options):
        return u
    check(g, "stencil 'g' has a '**options' parameter", "options")

    def h(u, c=1.0):
        return u * c
    check(h, "parameters of stencil 'h' may not have default values", "1.0",
          hint="remove the default")


def test_parameter_named_like_a_dim():
    def f(u, lon):
        return u
    check(f, "parameter 'lon' has the name of a dimension", "lon", dims=("lat", "lon"))


# -- helpers -------------------------------------------------------------------------------

@function
def grad(f):
    return f[1, 0] - f[-1, 0]


@function
def looping(f):
    return looping(f)


@function
def bad_helper(f):
    return f.mean()


@function
def pair(f):
    return f, f


def test_helper_argument_read_at_offsets():
    def s(u):
        return grad(u * 2.0)
    check(s, "argument 'f' of 'grad' is read at offsets, so pass a field or temporary name",
          "u * 2.0", hint="assign the argument to a temporary")

    def t(u):
        return grad(u[1, 0])
    check(t, "argument 'f' of 'grad' is read at offsets, so pass a field or temporary name",
          "u[1, 0]")


def test_helper_recursion():
    def s(u):
        return looping(u)
    check(s, "helper 'looping' calls itself", "looping(f)", where=looping.pyfunc,
          occurrence=1)


def test_error_inside_helper_points_into_the_helper():
    def s(u):
        return bad_helper(u)
    err = check(s, "'f.mean()' is not part of the stencil language: method calls are not "
                "supported", "f.mean()", where=bad_helper.pyfunc)
    assert err.loc.function == "bad_helper"


def test_helper_arguments():
    def s(u):
        return grad(u, u)
    check(s, "helper 'grad' takes 1 positional argument but 2 were given", "grad(u, u)")

    def t(u):
        return grad(g=u)
    check(t, "helper 'grad' has no keyword parameter 'g'", "g=u")

    def v(u):
        return grad()
    check(v, "helper 'grad' is missing argument 'f'", "grad()")

    def w(u):
        return pair(u)
    check(w, "helper 'pair' returns 2 values", "f, f", where=pair.pyfunc)


# -- source availability and dims --------------------------------------------------------------

def test_lambda_and_exec_have_no_source():
    with pytest.raises(StencilSyntaxError) as info:
        parse_stencil(lambda u: u)
    assert "it is a lambda" in info.value.message and "lambda" in info.value.hint

    namespace = {}
    exec("def made(u):\n    return u\n", namespace)
    with pytest.raises(StencilSyntaxError) as info:
        parse_stencil(namespace["made"])
    assert info.value.message.startswith("the source code of 'made' is not available")
    assert "exec" in info.value.hint
    with pytest.raises(StencilSyntaxError):
        function(namespace["made"])


def test_not_a_function():
    with pytest.raises(StencilSyntaxError, match="is not a Python function"):
        parse_stencil(print)
    with pytest.raises(StencilSyntaxError, match="is an @sp.function helper"):
        parse_stencil(grad)


@pytest.mark.parametrize("dims", [(), ("x", "x"), ("x", "1y"), ("x", None), ("def",)])
def test_bad_dims(dims):
    def f(u):
        return u
    with pytest.raises(StencilSyntaxError, match="is not a tuple of dimension names"):
        parse_stencil(f, dims)


def test_numpy_minimum_takes_two_arguments():
    def f(u, v):
        return np.minimum(u, v, u)
    check(f, "'np.minimum' takes 2 arguments but 3 were given", "np.minimum(u, v, u)")


def test_closure_variable_assigned_after_parsing():
    def f(u):
        return u * later
    check(f, "name 'later' is not defined", "later", hint="before the stencil is decorated")
    later = 1.0
    assert later
