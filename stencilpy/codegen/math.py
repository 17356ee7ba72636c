"""Arithmetic with NumPy's semantics: floor division and remainder (Python
signs, integer division by zero gives 0), NaN-propagating min/max, integer math.

Target-neutral: plain IR plus the intrinsics every LLVM backend lowers (``llvm.fabs``,
``llvm.floor``, ``llvm.copysign``).  Float math functions such as sin or pow come from
the ``Target`` (``codegen/target.py``)."""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.types import concrete, is_unsigned

_FLOAT_OPS = {"+": "fadd", "-": "fsub", "*": "fmul", "/": "fdiv"}
_INT_OPS = {"+": "add", "-": "sub", "*": "mul"}

def binary(b: ir.IRBuilder, op: str, x, y, t) -> ir.Value:
    """``x op y`` for operands already of type ``t``."""
    dt = concrete(t)
    if dt.kind == "f":
        if op in _FLOAT_OPS:
            return getattr(b, _FLOAT_OPS[op])(x, y)
        return _float_floordiv(b, x, y) if op == "//" else _float_mod(b, x, y)
    if dt.kind == "b" and op in ("+", "*"):
        return b.or_(x, y) if op == "+" else b.and_(x, y)
    if op in _INT_OPS:
        return getattr(b, _INT_OPS[op])(x, y)
    return _int_divmod(b, op, x, y, is_unsigned(dt))


def _float_mod(b, x, y):
    """NumPy's remainder: fmod, then moved to the sign of the divisor."""
    zero = ir.Constant(x.type, 0.0)
    mod = b.frem(x, y)
    differ = b.xor(b.fcmp_ordered("<", y, zero), b.fcmp_ordered("<", mod, zero))
    adjust = b.and_(b.fcmp_ordered("!=", mod, zero), differ)
    mod2 = b.select(adjust, b.fadd(mod, y), mod)
    signed_zero = call_intrinsic(b, "llvm.copysign", [zero, y])
    return b.select(b.fcmp_ordered("==", mod, zero), signed_zero, mod2)


def _float_floordiv(b, x, y):
    """NumPy's floor_divide for floats (npy_divmod)."""
    zero = ir.Constant(x.type, 0.0)
    one = ir.Constant(x.type, 1.0)
    half = ir.Constant(x.type, 0.5)
    mod = b.frem(x, y)
    div = b.fdiv(b.fsub(x, mod), y)
    differ = b.xor(b.fcmp_ordered("<", y, zero), b.fcmp_ordered("<", mod, zero))
    div = b.select(b.and_(b.fcmp_ordered("!=", mod, zero), differ), b.fsub(div, one), div)
    floordiv = call_intrinsic(b, "llvm.floor", [div])
    floordiv = b.select(b.fcmp_ordered(">", b.fsub(div, floordiv), half),
                        b.fadd(floordiv, one), floordiv)
    signed_zero = call_intrinsic(b, "llvm.copysign", [zero, b.fdiv(x, y)])
    result = b.select(b.fcmp_unordered("!=", div, zero), floordiv, signed_zero)
    return b.select(b.fcmp_ordered("==", y, zero), b.fdiv(x, y), result)


def _int_divmod(b, op, x, y, unsigned: bool):
    """Integer ``//`` and ``%`` with Python signs; division by zero gives 0 (as NumPy)."""
    zero = ir.Constant(x.type, 0)
    one = ir.Constant(x.type, 1)
    is_zero = b.icmp_unsigned("==", y, zero)
    if unsigned:
        safe = b.select(is_zero, one, y)
        r = b.udiv(x, safe) if op == "//" else b.urem(x, safe)
        return b.select(is_zero, zero, r)
    minus_one = ir.Constant(x.type, -1)
    int_min = ir.Constant(x.type, -(1 << (x.type.width - 1)))
    overflow = b.and_(b.icmp_signed("==", x, int_min), b.icmp_signed("==", y, minus_one))
    safe = b.select(b.or_(is_zero, overflow), one, y)
    q, r = b.sdiv(x, safe), b.srem(x, safe)
    differ = b.xor(b.icmp_signed("<", r, zero), b.icmp_signed("<", safe, zero))
    adjust = b.and_(b.icmp_signed("!=", r, zero), differ)
    if op == "//":
        q = b.select(adjust, b.sub(q, one), q)
        return b.select(is_zero, zero, q)
    r = b.select(adjust, b.add(r, safe), r)
    return b.select(b.or_(is_zero, overflow), zero, r)


def int_power(b: ir.IRBuilder, x, n: int) -> ir.Value:
    """``x ** n`` for a constant ``n >= 0`` by repeated squaring (wrapping like NumPy)."""
    result = ir.Constant(x.type, 1)
    base = x
    while n:
        if n & 1:
            result = b.mul(result, base)
        n >>= 1
        if n:
            base = b.mul(base, base)
    return result


def int_power_var(b: ir.IRBuilder, x, y, unsigned: bool) -> ir.Value:
    """``x ** y`` for integers with a run-time exponent: square-and-multiply over every bit
    of ``y`` (straight-line, so it vectorises), wrapping like NumPy.  NumPy refuses negative
    exponents; here (and in the reference) they give the true power truncated toward zero:
    ``1`` for ``x == 1``, ``+-1`` for ``x == -1``, else ``0``."""
    one, zero = ir.Constant(x.type, 1), ir.Constant(x.type, 0)
    result, base = one, x
    for bit in range(x.type.width):
        mask = ir.Constant(y.type, 1 << bit)
        take = b.icmp_unsigned("!=", b.and_(y, mask), ir.Constant(y.type, 0))
        result = b.select(take, b.mul(result, base), result)
        base = b.mul(base, base)
    if unsigned:
        return result
    negative = b.icmp_signed("<", y, zero)
    minus_one = ir.Constant(x.type, -1)
    odd = b.icmp_unsigned("!=", b.and_(y, one), zero)
    tiny = b.select(b.icmp_signed("==", x, one), one,
                    b.select(b.icmp_signed("==", x, minus_one),
                             b.select(odd, minus_one, one), zero))
    return b.select(negative, tiny, result)


def compare(b: ir.IRBuilder, op: str, x, y, t) -> ir.Value:
    dt = concrete(t)
    if dt.kind == "f":
        if op == "!=":
            return b.fcmp_unordered(op, x, y)
        return b.fcmp_ordered(op, x, y)
    if is_unsigned(dt):
        return b.icmp_unsigned(op, x, y)
    return b.icmp_signed(op, x, y)


def predicate(b: ir.IRBuilder, func: str, x, t) -> ir.Value:
    """isnan / isinf / isfinite."""
    if concrete(t).kind != "f":
        return ir.Constant(ir.IntType(1), 1 if func == "isfinite" else 0)
    inf = ir.Constant(x.type, float("inf"))
    if func == "isnan":
        return b.fcmp_unordered("uno", x, x)
    absx = call_intrinsic(b, "llvm.fabs", [x])
    return b.fcmp_ordered("==", absx, inf) if func == "isinf" else b.fcmp_ordered("<", absx, inf)


def int_function(b: ir.IRBuilder, func: str, args, t) -> ir.Value:
    """Math functions whose NumPy result is an integer (or bool) type."""
    x = args[0]
    unsigned = is_unsigned(t)
    zero = ir.Constant(x.type, 0)
    if func in ("floor", "ceil", "trunc"):
        return x
    if func == "abs":
        return x if unsigned else b.select(b.icmp_signed("<", x, zero), b.neg(x), x)
    if func == "sign":
        if unsigned:
            return b.zext(b.icmp_unsigned("!=", x, zero), x.type) if x.type.width > 1 else x
        pos = b.zext(b.icmp_signed(">", x, zero), x.type)
        neg = b.zext(b.icmp_signed("<", x, zero), x.type)
        return b.sub(pos, neg)
    if func in ("min", "max"):
        op = "<" if func == "min" else ">"
        cmp = b.icmp_unsigned(op, x, args[1]) if unsigned else b.icmp_signed(op, x, args[1])
        return b.select(cmp, x, args[1])
    if func == "fmod":
        return _int_fmod(b, x, args[1], unsigned)
    if func == "power":
        return int_power_var(b, x, args[1], unsigned)
    raise NotImplementedError(f"integer {func}")


def _int_fmod(b, x, y, unsigned: bool):
    """C's ``fmod`` for integers (the sign of the dividend), as ``np.fmod``: ``x % 0`` is 0."""
    zero, one = ir.Constant(x.type, 0), ir.Constant(x.type, 1)
    is_zero = b.icmp_unsigned("==", y, zero)
    if unsigned:
        return b.select(is_zero, zero, b.urem(x, b.select(is_zero, one, y)))
    minus_one = ir.Constant(x.type, -1)
    bad = b.or_(is_zero, b.icmp_signed("==", y, minus_one))
    return b.select(bad, zero, b.srem(x, b.select(bad, one, y)))


def call_intrinsic(b: ir.IRBuilder, name: str, args) -> ir.Value:
    """``name(args...)`` for an overloaded intrinsic whose arguments and result share one type
    (the function type is explicit: llvmlite guesses one argument for e.g. ``llvm.copysign``)."""
    ty = args[0].type
    fn = b.module.declare_intrinsic(name, [ty], ir.FunctionType(ty, [ty] * len(args)))
    return b.call(fn, args)


#: float functions built from plain IR here (the others come from the target)
FLOAT_FUNCTIONS = frozenset({"min", "max", "sign", "fmod"})


def float_function(b: ir.IRBuilder, func: str, args) -> ir.Value:
    """A float function of ``FLOAT_FUNCTIONS`` (operands of one float type)."""
    if func in ("min", "max"):
        return _minmax(b, func, args[0], args[1])
    if func == "sign":
        x = args[0]
        zero, one = ir.Constant(x.type, 0.0), ir.Constant(x.type, 1.0)
        s = b.select(b.fcmp_ordered(">", x, zero), one, b.select(
            b.fcmp_ordered("<", x, zero), ir.Constant(x.type, -1.0), x))
        return s
    if func == "fmod":
        return b.frem(args[0], args[1])
    raise NotImplementedError(f"float {func}")


def _minmax(b, func, x, y):
    """np.minimum / np.maximum: a NaN in either operand gives NaN."""
    op = "<=" if func == "min" else ">="
    chosen = b.select(b.fcmp_ordered(op, x, y), x, y)
    return b.select(b.fcmp_unordered("uno", x, x), x, chosen)
