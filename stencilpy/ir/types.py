"""Type inference over the IR with NumPy's own promotion rules.

A type is either a ``numpy.dtype`` (a field: "strong") or one of the Python
types ``bool``, ``int``, ``float`` (a literal or a scalar parameter: "weak",
as Python numbers are under NumPy 2's NEP 50).  The result type of each
operation is found by asking NumPy itself, once per combination.
"""

from __future__ import annotations

import functools

import numpy as np

from stencilpy.errors import StencilCallError, render_location
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_expr

_UFUNCS = {
    "+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
    "//": np.floor_divide, "%": np.remainder, "**": np.power,
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log10": np.log10, "log2": np.log2,
    "expm1": np.expm1, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc,
    "abs": np.absolute, "sign": np.sign, "arctan2": np.arctan2, "hypot": np.hypot,
    "power": np.power, "copysign": np.copysign, "fmod": np.fmod,
    "min": np.minimum, "max": np.maximum,
}
_PREDICATES = ("isnan", "isinf", "isfinite")


def _sample(t):
    if isinstance(t, np.dtype):
        return np.ones(1, dtype=t)
    return t(1)


def _dtype_of(result) -> "np.dtype | type":
    return np.asarray(result).dtype


@functools.lru_cache(maxsize=None)
def result_type(op: str, *types) -> "np.dtype | type":
    """The type NumPy gives ``op`` applied to operands of ``types``."""
    if op in N.COMPARE_OPS or op in N.BOOL_OPS or op == "not" or op in _PREDICATES:
        return np.dtype(bool) if any(isinstance(t, np.dtype) for t in types) else bool
    if all(not isinstance(t, np.dtype) for t in types):
        return _weak_result(op, *types)
    with np.errstate(all="ignore"):
        if op == "where":
            return np.where(np.ones(1, bool), _sample(types[1]), _sample(types[2])).dtype
        if op == "neg":
            return np.negative(_sample(types[0])).dtype
        return _UFUNCS[op](*[_sample(t) for t in types]).dtype


def _weak_result(op, *types):
    """Both operands are Python numbers: the result stays a Python number type."""
    if op == "where":
        types = types[1:]
    if op in ("/", "sqrt", "exp", "log", "log10", "log2", "expm1", "log1p", "sin", "cos",
              "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arctan2", "hypot",
              "copysign"):
        return float
    if float in types:
        return float
    if op in ("floor", "ceil", "trunc"):
        return float
    if int in types or op in ("+", "-", "*", "//", "%", "**", "neg", "abs", "sign"):
        return int
    return bool


def concrete(t) -> np.dtype:
    """A weak type made concrete the way NumPy does for a lone Python number."""
    if isinstance(t, np.dtype):
        return t
    return np.dtype({bool: np.bool_, int: np.int64, float: np.float64}[t])


def infer(stencil: N.Stencil, env: dict) -> tuple[dict, tuple]:
    """Types of every temporary and of each returned expression.

    ``env`` maps parameter names to their types (dtype for arrays, Python type
    for scalars).  Returns ``(temporary types, output dtypes)``."""
    types = dict(env)
    for stmt in N.assignments(stencil.body):
        types[stmt.target] = expr_type(stmt.value, types)
    outs = tuple(concrete(expr_type(r, types)) for r in stencil.returns)
    return types, outs


def expr_type(expr: N.Expr, types: dict, memo: dict | None = None):
    """The type of one expression given the types of the names it reads.  ``memo``
    (``id(node) -> type``, for nodes that stay alive) saves re-typing shared subtrees."""
    if memo is not None:
        found = memo.get(id(expr))
        if found is not None:
            return found
    try:
        t = _expr_type(expr, types, memo)
    except (TypeError, np.exceptions.DTypePromotionError, KeyError) as exc:
        if isinstance(exc, KeyError) and not isinstance(expr, (N.FieldAccess, N.ScalarRef)):
            raise
        raise StencilCallError(
            f"{render_location(expr.loc)}\nthe expression '{format_expr(expr)}' is not defined "
            f"for these argument types ({exc}); cast the inputs (e.g. to float64)") from None
    if isinstance(t, np.dtype) and t.kind not in "biuf" or t == np.float16:
        raise StencilCallError(
            f"{render_location(expr.loc)}\nthe expression '{format_expr(expr)}' has type {t}, "
            "which stencilpy does not compile; use float32/float64 or integer inputs")
    if memo is not None:
        memo[id(expr)] = t
    return t


def _expr_type(expr: N.Expr, types: dict, memo):
    if isinstance(expr, N.Const):
        return type(expr.value)
    if isinstance(expr, N.FieldAccess) and expr.name not in types:
        raise KeyError(expr.name)
    if isinstance(expr, (N.FieldAccess, N.ScalarRef)):
        return types[expr.name]
    if isinstance(expr, N.BinOp):
        t = result_type(expr.op, expr_type(expr.left, types, memo),
                        expr_type(expr.right, types, memo))
        if expr.op == "**" and _negative_int_const(expr.right) and concrete(t).kind in "iu":
            raise StencilCallError(
                f"{render_location(expr.loc)}\nintegers to negative integer powers are not "
                f"allowed ('{format_expr(expr)}' has type {concrete(t)}); write the base as a "
                "float (e.g. 1.0 * x)")
        return t
    if isinstance(expr, N.Compare):
        return result_type(expr.op, expr_type(expr.left, types, memo),
                           expr_type(expr.right, types, memo))
    if isinstance(expr, N.UnaryOp):
        inner = expr_type(expr.operand, types, memo)
        return result_type("not" if expr.op == "not" else "neg" if expr.op == "-" else "+", inner) \
            if expr.op != "+" else inner
    if isinstance(expr, N.BoolOp):
        return result_type("and", *[expr_type(v, types, memo) for v in expr.values])
    if isinstance(expr, N.Select):
        return result_type("where", expr_type(expr.cond, types, memo),
                           expr_type(expr.if_true, types, memo),
                           expr_type(expr.if_false, types, memo))
    if isinstance(expr, N.Call):
        return result_type(expr.func, *[expr_type(a, types, memo) for a in expr.args])
    raise TypeError(f"not an expression: {expr!r}")


_INT_OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b,
            "//": lambda a, b: a // b, "%": lambda a, b: a % b}


def _python_int(expr: N.Expr, scalars: dict):
    """The value of an expression of Python ints only (literals, int scalar arguments, + - *
    // % ** and unary minus), as Python computes it before NumPy converts it; else None."""
    if isinstance(expr, N.Const):
        return expr.value if type(expr.value) is int else None
    if isinstance(expr, N.ScalarRef):
        value = scalars.get(expr.name)
        return value if type(value) is int else None
    if isinstance(expr, N.UnaryOp) and expr.op in "+-":
        value = _python_int(expr.operand, scalars)
        return None if value is None else (-value if expr.op == "-" else value)
    if isinstance(expr, N.BinOp) and expr.op in _INT_OPS:
        a, b = _python_int(expr.left, scalars), _python_int(expr.right, scalars)
        if a is None or b is None or expr.op in ("//", "%") and b == 0:
            return None
        return _INT_OPS[expr.op](a, b)
    if isinstance(expr, N.BinOp) and expr.op == "**":
        a, b = _python_int(expr.left, scalars), _python_int(expr.right, scalars)
        return a ** b if a is not None and b is not None and 0 <= b <= 256 else None
    return None


def _negative_int_const(expr: N.Expr) -> bool:
    return isinstance(expr, N.Const) and type(expr.value) is int and expr.value < 0


def check_int_ranges(stencil: N.Stencil, types: dict, scalars: dict) -> None:
    """Refuse a Python int (literal or scalar argument) that does not fit the integer dtype an
    operation converts it to, as NumPy does (``int8_field + 1000`` is an error, not a wrap).
    Comparisons compare exactly and ``where`` wraps, as in NumPy, so they are not checked."""
    for expr in [s.value for s in N.assignments(stencil.body)] + list(stencil.returns):
        for node in N.walk(expr):
            checked = (isinstance(node, N.BinOp) and node.op != "/") or \
                (isinstance(node, N.Call) and node.func != "where")
            t = expr_type(node, types) if checked else None
            if isinstance(t, np.dtype) and t.kind in "iu":
                for child in N.children(node):
                    _check_fits(child, t, scalars)
                _check_exponent(node, t, scalars)


def _check_exponent(node: N.Expr, dtype: np.dtype, scalars: dict) -> None:
    """An integer power whose exponent is a negative Python int known at the call (a scalar
    argument or an expression of them): NumPy raises, and so do we."""
    if isinstance(node, N.BinOp) and node.op == "**":
        exponent = node.right
    elif isinstance(node, N.Call) and node.func == "power" and len(node.args) == 2:
        exponent = node.args[1]
    else:
        return
    value = _python_int(exponent, scalars)
    if value is not None and value < 0:
        raise StencilCallError(
            f"{render_location(node.loc)}\nintegers to negative integer powers are not allowed "
            f"('{format_expr(node)}' has type {dtype}, and '{format_expr(exponent)}' = {value}); "
            "write the base as a float (e.g. 1.0 * x)")


def _check_fits(expr: N.Expr, dtype: np.dtype, scalars: dict) -> None:
    if isinstance(expr, N.Const):
        value, what = expr.value, f"the number {expr.value!r}"
    elif isinstance(expr, N.ScalarRef):
        value = scalars.get(expr.name)
        what = f"the argument '{expr.name}' = {value!r}"
    else:
        value = _python_int(expr, scalars)
        what = f"'{format_expr(expr)}' = {value!r}"
    if type(value) is not int:
        return
    info = np.iinfo(dtype)
    if not info.min <= value <= info.max:
        raise StencilCallError(
            f"{render_location(expr.loc)}\n{what} does not fit in {dtype}, the type this "
            "operation computes in (NumPy refuses it too); cast the field first "
            "(e.g. .astype(np.int64)) or use a smaller number")
