"""The frontend: Python functions -> IR, construct by construct."""

import inspect
import math
from math import sqrt as msqrt

import numpy as np
import pytest

import stencilpy.frontend.functions as sp
from stencilpy.frontend import (LANGUAGE_CONSTANTS, LANGUAGE_NAMES, RESERVED_NAMES, SpFunction,
                                function, parse_stencil)
from stencilpy.frontend.resolve import canonical_function
from stencilpy.frontend.source import get_function_source
from stencilpy.ir import format_stencil, verify
from stencilpy.ir.nodes import (MATH_FUNCTIONS, Assign, BinOp, BoolOp, Call, Compare, Const,
                                FieldAccess, If, Param, Select, UnaryOp)

from _support import hdiff, laplacian


def parse(func, dims=None):
    stencil = parse_stencil(func, dims)
    return verify(stencil)


def text(func, dims=None):
    return format_stencil(parse(func, dims))


def ret(func, dims=None):
    """The single returned expression."""
    (expr,) = parse(func, dims).returns
    return expr


def U(*offset):
    return FieldAccess("u", offset)


# -- the three examples of API section 1 (laplacian and hdiff: tests/_support.py) ------------

def ddlon(u, dlon):
    return (u[lon + 1] - u[lon - 1]) / (2.0 * dlon)  # noqa: F821 - a dim name


def test_laplacian():
    s = parse(laplacian)
    assert s.name == "laplacian" and s.dims == ("dim_0", "dim_1")
    assert s.params == (Param("u", True),)
    assert s.body == ()
    expected = BinOp("-", BinOp("+", BinOp("+", BinOp("+", U(1, 0), U(-1, 0)), U(0, 1)),
                                U(0, -1)), BinOp("*", Const(4.0), U(0, 0)))
    assert s.returns == (expected,)


def test_ddlon_with_dims():
    s = parse(ddlon, ("lat", "lon"))
    assert s.dims == ("lat", "lon")
    assert s.params == (Param("u", True), Param("dlon", False))
    assert format_stencil(s) == (
        "stencil ddlon(u[], dlon) dims=(lat, lon)\n"
        "    return ((u[0, 1] - u[0, -1]) / (2.0 * dlon[0, 0]))\n")


def test_hdiff_reassignment():
    assert text(hdiff) == """\
stencil hdiff(u[], coeff) dims=(dim_0, dim_1)
    lap = ((4.0 * u[0, 0]) - (((u[1, 0] + u[-1, 0]) + u[0, 1]) + u[0, -1]))
    flx = (lap[1, 0] - lap[0, 0])
    flx = select(((flx[0, 0] * (u[1, 0] - u[0, 0])) > 0.0), 0.0, flx[0, 0])
    fly = (lap[0, 1] - lap[0, 0])
    fly = select(((fly[0, 0] * (u[0, 1] - u[0, 0])) > 0.0), 0.0, fly[0, 0])
    return (u[0, 0] - (coeff[0, 0] * (((flx[0, 0] - flx[-1, 0]) + fly[0, 0]) - fly[0, -1])))
"""


# -- rank, dims and subscripts ------------------------------------------------------------------

def test_one_dimensional():
    def back(u):
        return u[0] - u[-1]
    s = parse(back)
    assert s.dims == ("dim_0",) and s.returns == (BinOp("-", U(0), U(-1)),)


def test_pointwise_without_subscripts_is_rank_one():
    def axpy(a, x, y):
        return a * x + y
    s = parse(axpy)
    assert s.dims == ("dim_0",)
    assert s.params == (Param("a", False), Param("x", False), Param("y", False))
    assert s.returns == (BinOp("+", BinOp("*", FieldAccess("a", (0,)), FieldAccess("x", (0,))),
                               FieldAccess("y", (0,))),)


def test_pointwise_with_dims_takes_their_rank():
    def scale(a, b):
        return a * b
    s = parse(scale, ("z", "y", "x"))
    assert s.dims == ("z", "y", "x")
    assert s.returns == (BinOp("*", FieldAccess("a", (0, 0, 0)), FieldAccess("b", (0, 0, 0))),)


def test_three_dimensional_positional():
    def f(u):
        return u[1, -2, 3]
    assert ret(f) == U(1, -2, 3) and parse(f).dims == ("dim_0", "dim_1", "dim_2")


def test_named_offsets_any_order_and_unnamed_axes():
    def f(u):
        return u[lon + 2, lat - 1] + u[lon] + u[1 + lat] + u[-1 + lon] + u[lat + 1 - 3]  # noqa
    s = parse(f, ("lat", "lon"))
    values = [n for n in _leaves(s.returns[0])]
    assert values == [U(-1, 2), U(0, 0), U(1, 0), U(0, -1), U(-2, 0)]


def test_positional_offsets_with_dims_declared():
    def f(u):
        return u[1, 0]
    assert ret(f, ("y", "x")) == U(1, 0)


def test_constant_offset_expressions_fold():
    def f(u):
        return u[1 + 1, -(1)] + u[+1, 2 * 1] + u[-2 - -1, 0]
    assert list(_leaves(ret(f))) == [U(2, -1), U(1, 2), U(-1, 0)]


def test_temporaries_read_at_offsets_and_bare():
    def f(u):
        t = u * 2.0
        return t[1, 0] - t
    s = parse(f)
    assert s.body == (Assign("t", BinOp("*", U(0, 0), Const(2.0))),)
    assert s.returns == (BinOp("-", FieldAccess("t", (1, 0)), FieldAccess("t", (0, 0))),)
    assert s.params == (Param("u", False),)        # 'u' itself is never subscripted


def _leaves(expr):
    if isinstance(expr, FieldAccess):
        yield expr
    for child in (getattr(expr, "left", None), getattr(expr, "right", None)):
        if child is not None:
            yield from _leaves(child)


# -- expressions ---------------------------------------------------------------------------

def test_binary_operators():
    def f(u, v):
        return u + v, u - v, u * v, u / v, u // v, u % v, u ** v
    V = FieldAccess("v", (0,))
    ops = ["+", "-", "*", "/", "//", "%", "**"]
    assert parse(f).returns == tuple(BinOp(op, U(0), V) for op in ops)


def test_unary_and_bool_operators():
    def f(u, v):
        return -u + +v
    def g(u, v):
        return not (u > 0 and v > 0 or u < v)
    assert ret(f) == BinOp("+", UnaryOp("-", U(0)), UnaryOp("+", FieldAccess("v", (0,))))
    V = FieldAccess("v", (0,))
    assert ret(g) == UnaryOp("not", BoolOp("or", (
        BoolOp("and", (Compare(">", U(0), Const(0)), Compare(">", V, Const(0)))),
        Compare("<", U(0), V))))


def test_comparisons():
    def f(u):
        return (u < 1, u <= 1, u > 1, u >= 1, u == 1, u != 1)
    ops = ["<", "<=", ">", ">=", "==", "!="]
    assert parse(f).returns == tuple(Compare(op, U(0), Const(1)) for op in ops)


def test_comparison_chain_becomes_and():
    def f(u, v):
        return 0.0 < u <= v
    V = FieldAccess("v", (0,))
    assert ret(f) == BoolOp("and", (Compare("<", Const(0.0), U(0)), Compare("<=", U(0), V)))


def test_conditional_expression_and_where():
    def f(u):
        return 1.0 if u > 0 else 2.0
    def g(u):
        return sp.where(u > 0, 1.0, 2.0) + np.where(u > 0, 1.0, 2.0)
    select = Select(Compare(">", U(0), Const(0)), Const(1.0), Const(2.0))
    assert ret(f) == select
    assert ret(g) == BinOp("+", select, select)


def test_constants():
    def f(u):
        return u * 2 + 1.5 + True - False
    e = ret(f)
    assert e == BinOp("-", BinOp("+", BinOp("+", BinOp("*", U(0), Const(2)), Const(1.5)),
                                 Const(True)), Const(False))
    assert type(e.left.left.left.right.value) is int


def test_builtins_abs_min_max_and_nesting():
    def f(u, v):
        return abs(u) + min(u, v) + max(u, v, 1.0, 2.0)
    V = FieldAccess("v", (0,))
    nested_max = Call("max", (Call("max", (Call("max", (U(0), V)), Const(1.0))), Const(2.0)))
    assert ret(f) == BinOp("+", BinOp("+", Call("abs", (U(0),)), Call("min", (U(0), V))),
                           nested_max)


MATH_CASES = {
    "sqrt": [sp.sqrt, np.sqrt, math.sqrt, msqrt], "exp": [np.exp, math.exp],
    "arctan2": [sp.arctan2, np.arctan2, math.atan2], "arctan": [math.atan, np.arctan],
    "arcsin": [math.asin], "arccos": [math.acos], "abs": [math.fabs, np.fabs, np.absolute, abs,
                                                          np.abs, sp.abs],
    "min": [np.minimum, min, sp.min], "max": [np.maximum, max], "power": [math.pow, np.power],
    "isnan": [math.isnan, np.isnan], "floor": [math.floor, np.floor], "sign": [np.sign],
    "hypot": [math.hypot], "fmod": [math.fmod, np.fmod], "copysign": [math.copysign],
    "log1p": [math.log1p], "trunc": [math.trunc, np.trunc],
}


@pytest.mark.parametrize("canonical", sorted(MATH_CASES))
def test_function_aliases_resolve_by_identity(canonical):
    for obj in MATH_CASES[canonical]:
        assert canonical_function(obj) == canonical, obj
    assert canonical_function(np.sum) is None and canonical_function(print) is None


def test_math_calls_every_spelling():
    def f(u, v):
        return (sp.sqrt(u), np.sqrt(u), math.sqrt(u), msqrt(u), math.atan2(u, v),
                np.fabs(u), np.minimum(u, v), math.pow(u, 2), numpy_alias.isnan(u))
    calls = parse(f).returns
    assert [c.func for c in calls] == ["sqrt", "sqrt", "sqrt", "sqrt", "arctan2", "abs", "min",
                                       "power", "isnan"]
    assert calls[4] == Call("arctan2", (U(0), FieldAccess("v", (0,))))


numpy_alias = np


def test_every_language_function_parses():
    def f(u, v, c):
        return (sp.sqrt(u), sp.exp(u), sp.log(u), sp.log10(u), sp.log2(u), sp.expm1(u),
                sp.log1p(u), sp.sin(u), sp.cos(u), sp.tan(u), sp.arcsin(u), sp.arccos(u),
                sp.arctan(u), sp.sinh(u), sp.cosh(u), sp.tanh(u), sp.floor(u), sp.ceil(u),
                sp.trunc(u), sp.abs(u), sp.isnan(u), sp.isinf(u), sp.isfinite(u), sp.sign(u),
                sp.arctan2(u, v), sp.hypot(u, v), sp.power(u, v), sp.copysign(u, v),
                sp.fmod(u, v), sp.min(u, v), sp.max(u, v), sp.where(c, u, v))
    names = [getattr(r, "func", "where") for r in parse(f).returns]
    assert names == list(MATH_FUNCTIONS)


G = 9.81
N_INT = 3
FLAG = True
F32 = np.float32(0.5)


def test_captured_constants():
    half = 0.5

    def f(u):
        return u * G + N_INT + FLAG + F32 + half + math.pi + np.e + sp.pi + np.inf
    values = []
    e = ret(f)
    while isinstance(e, BinOp):
        values.append(e.right.value)
        e = e.left
    assert values[::-1] == [G, N_INT, FLAG, 0.5, 0.5, math.pi, math.e, math.pi, math.inf]
    assert e == U(0)
    assert all(type(v) in (int, float, bool) for v in values)


# -- statements ----------------------------------------------------------------------------

def test_augmented_assignment_and_annotation():
    def f(u):
        x: float = u
        x += 1.0
        x *= 2
        x **= 2
        return x
    x = FieldAccess("x", (0,))
    assert parse(f).body == (
        Assign("x", U(0)), Assign("x", BinOp("+", x, Const(1.0))),
        Assign("x", BinOp("*", x, Const(2))), Assign("x", BinOp("**", x, Const(2))))


def test_tuple_unpacking_and_swap():
    def f(u, v):
        a, b = u, v[1]
        a, b = b, a
        return a - b
    assert text(f) == """\
stencil f(u, v[]) dims=(dim_0)
    a = u[0]
    b = v[1]
    unpack__1__a = b[0]
    unpack__1__b = a[0]
    a = unpack__1__a[0]
    b = unpack__1__b[0]
    return (a[0] - b[0])
"""


def test_if_elif_else_nested():
    def f(u):
        """Docstrings and pass are ignored."""
        pass
        if u > 1:
            y = 1.0
        elif u < -1:
            y = -1.0
            if u < -2:
                y = -2.0
        else:
            y = u
        return y
    s = parse(f)
    assert s.body == (
        If(Compare(">", U(0), Const(1)), (Assign("y", Const(1.0)),), (
            If(Compare("<", U(0), UnaryOp("-", Const(1))),
               (Assign("y", UnaryOp("-", Const(1.0))),
                If(Compare("<", U(0), UnaryOp("-", Const(2))),
                   (Assign("y", UnaryOp("-", Const(2.0))),), ())),
               (Assign("y", U(0)),)),)),)


def test_if_without_else_after_assignment():
    def f(u):
        y = 0.0
        if u > 0:
            y = u
        return y
    assert parse(f).body == (Assign("y", Const(0.0)),
                             If(Compare(">", U(0), Const(0)), (Assign("y", U(0)),), ()))


def test_several_outputs():
    def f(u):
        return u[1], u[-1]
    assert parse(f).returns == (U(1), U(-1))


# -- helpers -------------------------------------------------------------------------------

@function
def grad(f, h):
    d = f[1, 0] - f[-1, 0]
    return d / (2.0 * h)


@function
def twice_grad(g, h):
    return grad(g, h) + grad(f=g, h=h)


@function
def clip(x, lo, hi):
    if x < lo:
        y = lo
    else:
        y = min(x, hi)
    return y


def test_helper_inlined_with_renamed_temporaries():
    def f(u, dx):
        return grad(u, dx)
    s = parse(f)
    assert s.params == (Param("u", True), Param("dx", False))
    assert format_stencil(s) == """\
stencil f(u[], dx) dims=(dim_0, dim_1)
    grad__1__d = (u[1, 0] - u[-1, 0])
    return (grad__1__d[0, 0] / (2.0 * dx[0, 0]))
"""


def test_helper_calling_helper_keywords_and_temporary_argument():
    def f(u):
        t = u * u
        return twice_grad(t, h=0.5)
    assert text(f) == """\
stencil f(u) dims=(dim_0, dim_1)
    t = (u[0, 0] * u[0, 0])
    grad__2__d = (t[1, 0] - t[-1, 0])
    grad__3__d = (t[1, 0] - t[-1, 0])
    return ((grad__2__d[0, 0] / (2.0 * 0.5)) + (grad__3__d[0, 0] / (2.0 * 0.5)))
"""


def test_helper_with_if_and_expression_arguments():
    def f(u):
        if u > 0:
            r = clip(u[1] * 2.0, 0.0, 1.0)
        else:
            r = 0.0
        return r
    assert text(f) == """\
stencil f(u[]) dims=(dim_0)
    if (u[0] > 0):
        if ((u[1] * 2.0) < 0.0):
            clip__1__y = 0.0
        else:
            clip__1__y = min((u[1] * 2.0), 1.0)
        r = clip__1__y[0]
    else:
        r = 0.0
    return r[0]
"""


def test_helper_prefix_avoids_user_names():
    def f(u):
        grad__1__d = u
        return grad(u, 1.0) + grad__1__d
    assert "grad__2__d = " in text(f)


def test_nested_helper_defined_in_a_closure():
    @function
    def avg(a):
        return 0.5 * (a[1] + a[0])

    def f(u):
        return avg(u)
    assert ret(f) == BinOp("*", Const(0.5), BinOp("+", U(1), U(0)))


def test_helper_locations_point_into_the_helper():
    def f(u, dx):
        return grad(u, dx)
    s = parse(f)
    assign = s.body[0]
    lines, first = inspect.getsourcelines(grad.pyfunc)
    assert assign.loc.line == first + 2 and assign.loc.function == "grad"
    assert s.returns[0].loc.function == "grad"


# -- locations and the source ----------------------------------------------------------------

def test_locations_are_absolute_with_columns():
    def nested(u, v):
        return u[1, 0] * v
    s = parse(nested)
    lines, first = inspect.getsourcelines(nested)
    access = s.returns[0].left
    assert access.loc.filename == __file__ and access.loc.line == first + 1
    line = lines[1]
    assert access.loc.col == line.index("u[1, 0]")
    assert access.loc.end_col == line.index("u[1, 0]") + len("u[1, 0]")
    assert access.loc.function == "nested"
    assert s.params[1].loc.col == lines[0].index("v)")
    assert s.loc.line == first and lines[0][s.loc.col:s.loc.end_col] == "def nested"


def test_module_level_source():
    src = get_function_source(laplacian)
    assert src.node.name == "laplacian" and src.node.lineno == src.first_line
    assert src.node.col_offset == 0


def test_positional_only_and_keyword_only_parameters():
    def f(a, /, b, *, c):
        return a + b[0] + c
    assert parse(f).params == (Param("a", False), Param("b", True), Param("c", False))


def test_reserved_names_listed():
    assert RESERVED_NAMES == ("boundary", "fill_value", "out", "domain", "threads", "check",
                              "names", "attrs")


# -- sp.function and the language names in plain Python --------------------------------------

def test_sp_function_calls_python():
    assert isinstance(grad, SpFunction) and grad.__name__ == "grad"
    assert function(grad) is grad
    assert clip(5.0, 0.0, 1.0) == 1.0


def test_language_names_work_in_python():
    assert set(LANGUAGE_NAMES) == set(MATH_FUNCTIONS)
    assert LANGUAGE_NAMES["sqrt"] is sp.sqrt
    assert sp.sqrt(4.0) == 2.0 and sp.arctan2(1.0, 1.0) == pytest.approx(math.pi / 4)
    assert sp.min(3, 1, 2) == 1 and sp.max(3, 1, 2) == 3
    assert list(sp.where(np.array([True, False]), 1, 2)) == [1, 2]
    assert sp.abs(-2) == 2 and LANGUAGE_CONSTANTS["pi"] == math.pi


def _identity_decorator(func):
    return func


def test_decorated_multiline_signature_and_helper_in_condition():
    @_identity_decorator
    def f(
        u,
        v,
    ):
        if grad(u, 1.0) > 0:
            r = v
        else:
            r = -v
        return r
    s = parse(f)
    assert [type(stmt).__name__ for stmt in s.body] == ["Assign", "If"]
    assert s.body[0].target == "grad__1__d"
    lines, first = inspect.getsourcelines(f)
    assert s.body[1].loc.line == first + 5 and s.body[1].loc.col == lines[5].index("if")
    assert s.params == (Param("u", True), Param("v", False))
