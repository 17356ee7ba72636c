"""Lowering of IR expressions to LLVM values, one ``lower_<Node>`` per node type.

Every value is computed in the type NumPy gives the operation
(``stencilpy.ir.types``); operands are cast to that type first, exactly as
NumPy's ufunc loops do, so the compiled kernel and the numpy reference agree.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen import math as M
from stencilpy.codegen.types import cast, concrete, constant, is_float, llvm_type, to_bool
from stencilpy.errors import StencilCallError, render_location
from stencilpy.ir import nodes as N
from stencilpy.ir.types import expr_type, result_type


class ExprLowerer:
    """Lowers expressions at the current point.

    ``access(node)`` returns the LLVM value of a ``FieldAccess`` (a load, or an
    inlined temporary); ``scalars`` maps scalar names to LLVM values."""

    def __init__(self, builder: ir.IRBuilder, types: dict, access, scalars: dict):
        self.b = builder
        self.types = types
        self.access = access
        self.scalars = scalars

    def type_of(self, expr: N.Expr):
        return expr_type(expr, self.types)

    def lower(self, expr: N.Expr) -> ir.Value:
        return getattr(self, f"lower_{type(expr).__name__}")(expr)

    def lower_as(self, expr: N.Expr, t) -> ir.Value:
        """``expr`` converted to type ``t``."""
        return cast(self.b, self.lower(expr), self.type_of(expr), t)

    def lower_Const(self, expr: N.Const) -> ir.Value:
        return constant(type(expr.value), expr.value)

    def lower_ScalarRef(self, expr: N.ScalarRef) -> ir.Value:
        return self.scalars[expr.name]

    def lower_FieldAccess(self, expr: N.FieldAccess) -> ir.Value:
        return self.access(expr)

    def lower_BinOp(self, expr: N.BinOp) -> ir.Value:
        t = self.type_of(expr)
        if expr.op == "**":
            return self._power(expr, t)
        if expr.op == "/":
            t = concrete(t)
        a, b = self.lower_as(expr.left, t), self.lower_as(expr.right, t)
        return M.binary(self.b, expr.op, a, b, t)

    def _power(self, expr: N.BinOp, t) -> ir.Value:
        exponent = expr.right
        if isinstance(exponent, N.Const) and not isinstance(exponent.value, bool) \
                and float(exponent.value) == 2.0:
            a = self.lower_as(expr.left, t)
            return self.b.fmul(a, a) if is_float(t) else self.b.mul(a, a)
        if is_float(t):
            return M.call_math(self.b, "power", [self.lower_as(expr.left, t),
                                                 self.lower_as(exponent, t)], t)
        if isinstance(exponent, N.Const) and int(exponent.value) >= 0:
            return M.int_power(self.b, self.lower_as(expr.left, t), int(exponent.value))
        raise StencilCallError(
            f"{render_location(expr.loc)}\ninteger '**' needs a constant non-negative exponent; "
            "write the base as a float (e.g. 1.0 * x) to use a variable exponent")

    def lower_UnaryOp(self, expr: N.UnaryOp) -> ir.Value:
        inner_t = self.type_of(expr.operand)
        value = self.lower(expr.operand)
        if expr.op == "not":
            return self.b.not_(to_bool(self.b, value, inner_t))
        if expr.op == "+":
            return value
        t = self.type_of(expr)
        value = cast(self.b, value, inner_t, t)
        return self.b.fneg(value) if is_float(t) else self.b.neg(value)

    def lower_Compare(self, expr: N.Compare) -> ir.Value:
        t = result_type("max", self.type_of(expr.left), self.type_of(expr.right))
        a, b = self.lower_as(expr.left, t), self.lower_as(expr.right, t)
        return M.compare(self.b, expr.op, a, b, t)

    def lower_BoolOp(self, expr: N.BoolOp) -> ir.Value:
        values = [to_bool(self.b, self.lower(v), self.type_of(v)) for v in expr.values]
        result = values[0]
        for v in values[1:]:
            result = self.b.and_(result, v) if expr.op == "and" else self.b.or_(result, v)
        return result

    def lower_Select(self, expr: N.Select) -> ir.Value:
        t = self.type_of(expr)
        cond = to_bool(self.b, self.lower(expr.cond), self.type_of(expr.cond))
        return self.b.select(cond, self.lower_as(expr.if_true, t), self.lower_as(expr.if_false, t))

    def lower_Call(self, expr: N.Call) -> ir.Value:
        t = self.type_of(expr)
        if expr.func in ("isnan", "isinf", "isfinite"):
            arg_t = self.type_of(expr.args[0])
            return M.predicate(self.b, expr.func, self.lower(expr.args[0]), arg_t)
        if expr.func == "where":
            return self.lower_Select(N.Select(*expr.args, loc=expr.loc))
        args = [self.lower_as(a, t) for a in expr.args]
        if not is_float(t):
            return M.int_function(self.b, expr.func, args, t)
        return M.call_math(self.b, expr.func, args, t)


__all__ = ["ExprLowerer", "llvm_type"]
