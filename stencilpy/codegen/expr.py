"""Lowering of IR expressions to LLVM values, one ``lower_<Node>`` per node type.

Every value is computed in the type NumPy gives the operation
(``stencilpy.ir.types``); operands are cast to that type first, exactly as
NumPy's ufunc loops do, so the compiled kernel and the numpy reference agree.

Target-neutral: the lowerer knows nothing of rows, chunks, vector loops, boundary
modes or libm.  It lowers the expressions of *one point* and receives

* ``load(name, offset) -> ir.Value``: the value at ``point + offset`` of a field or
  materialised temporary (called once per distinct ``(name, offset)`` of the point;
  the caller decides how the address is formed: row pointers, remapped indices, a
  GPU thread's global index ...);
* ``scalars``: scalar argument name -> LLVM value;
* ``inline``: temporaries evaluated in place (read at offset 0 only, see
  ``passes/inline_temporaries.py``), name -> defining expression;
* ``target``: float math functions and attributes (``codegen/target.py``);
* ``known``: ``id(node) -> value`` of sub-expressions computed already (the row-invariant
  values of ``codegen/hoist.py``), used instead of lowering the node again.

A GPU kernel lowers a point with the same class::

    lower = ExprLowerer(b, NvptxTarget(), types, load=lambda n, o: ld(n, o),
                        scalars=params, inline=inline_defs)
    value = lower.lower_as(stencil.returns[0], out_dtype)
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from llvmlite import ir

from stencilpy.codegen import math as M
from stencilpy.codegen.types import (cast, concrete, constant, is_float, is_unsigned,
                                     llvm_type, to_bool)
from stencilpy.errors import InternalCompilerError
from stencilpy.ir import nodes as N
from stencilpy.ir.types import expr_type, result_type

#: ``load(name, offset)``: the value of field/temporary ``name`` at ``point + offset``
Load = Callable[[str, tuple], ir.Value]


class ExprLowerer:
    """Lowers the expressions of one point (see the module docstring for the contract).

    ``types`` maps every field, scalar and temporary name to its type; ``type_memo`` may
    be shared between points (it caches node types by node identity)."""

    def __init__(self, builder: ir.IRBuilder, target, types: dict, load: Load, scalars: dict,
                 inline: dict | None = None, type_memo: dict | None = None,
                 known: dict | None = None):
        self.b = builder
        self.target = target
        self.types = types
        self.load = load
        self.scalars = scalars
        self.inline = {} if inline is None else inline
        self.type_memo = {} if type_memo is None else type_memo
        self.values: dict = {}              # (name, offset) -> value at this point
        self.known = {} if known is None else known   # id(node) -> value computed already

    def type_of(self, expr: N.Expr):
        return expr_type(expr, self.types, self.type_memo)

    def lower(self, expr: N.Expr) -> ir.Value:
        if self.known and id(expr) in self.known:       # hoisted (codegen/hoist.py)
            return self.known[id(expr)]
        return getattr(self, f"lower_{type(expr).__name__}")(expr)

    def lower_as(self, expr: N.Expr, t) -> ir.Value:
        """``expr`` converted to type ``t``."""
        if isinstance(expr, N.Const) and is_float(t):
            return constant(t, expr.value)      # exact, even for ints beyond int64 (10**20)
        return cast(self.b, self.lower(expr), self.type_of(expr), t)

    def lower_Const(self, expr: N.Const) -> ir.Value:
        return constant(type(expr.value), expr.value)

    def lower_ScalarRef(self, expr: N.ScalarRef) -> ir.Value:
        return self.scalars[expr.name]

    def lower_FieldAccess(self, expr: N.FieldAccess) -> ir.Value:
        key = (expr.name, expr.offset)
        if key in self.values:
            return self.values[key]
        if expr.name in self.inline:
            if any(expr.offset):
                raise InternalCompilerError(f"inline temporary '{expr.name}' read at offset "
                                            f"{expr.offset} (only 0 is evaluated in place)")
            self._inline_dependencies(expr.name, expr.offset)
            value = self.lower_as(self.inline[expr.name], self.types[expr.name])
        else:
            value = self.load(expr.name, expr.offset)
        self.values[key] = value
        return value

    def _inline_dependencies(self, name: str, zero: tuple) -> None:
        """Lower the inline temporaries that ``name`` reads (transitively) first, in
        definition order: each is then one memo lookup away, so that a chain of thousands
        of temporaries needs no deep recursion."""
        needed, pending = set(), [self.inline[name]]
        while pending:
            for node in N.walk(pending.pop()):
                if isinstance(node, N.FieldAccess) and node.name in self.inline \
                        and node.name not in needed and (node.name, zero) not in self.values:
                    needed.add(node.name)
                    pending.append(self.inline[node.name])
        for dep in self.inline:                            # definition order
            if dep in needed and (dep, zero) not in self.values:
                self.values[(dep, zero)] = self.lower_as(self.inline[dep], self.types[dep])

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
            return self.target.math(self.b, "power", [self.lower_as(expr.left, t),
                                                      self.lower_as(exponent, t)], t)
        if isinstance(exponent, N.Const) and int(exponent.value) >= 0:
            return M.int_power(self.b, self.lower_as(expr.left, t), int(exponent.value))
        return M.int_power_var(self.b, self.lower_as(expr.left, t), self.lower_as(exponent, t),
                               is_unsigned(t))

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
        left, right = self.type_of(expr.left), self.type_of(expr.right)
        t = result_type("max", left, right)
        if _integral(left) and _integral(right) and (int in (left, right) or not _integral(t)) \
                and not _const_fits(expr.left, right) and not _const_fits(expr.right, left):
            # NumPy compares integers exactly, even a Python int outside the other operand's
            # dtype (int8 < 1000, uint64 > -1) and uint64 with int64 (no float64 rounding)
            a, b = self._wide(expr.left, left), self._wide(expr.right, right)
            return self.b.icmp_signed(expr.op, a, b)
        a, b = self.lower_as(expr.left, t), self.lower_as(expr.right, t)
        return M.compare(self.b, expr.op, a, b, t)

    def _wide(self, expr: N.Expr, t) -> ir.Value:
        """An integer or bool operand as an i128, which holds every int64 and uint64 exactly."""
        if isinstance(expr, N.Const):
            return ir.Constant(_I128, int(expr.value))
        value = self.lower(expr)
        return self.b.zext(value, _I128) if is_unsigned(t) else self.b.sext(value, _I128)

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
        if expr.func in M.FLOAT_FUNCTIONS:
            return M.float_function(self.b, expr.func, args)
        return self.target.math(self.b, expr.func, args, t)


_I128 = ir.IntType(128)


def _integral(t) -> bool:
    return concrete(t).kind in "iub"


def _const_fits(expr: N.Expr, t) -> bool:
    """``expr`` is an integer literal that dtype ``t`` holds (comparing in ``t`` is exact)."""
    if not isinstance(expr, N.Const) or not isinstance(t, np.dtype) or t.kind not in "iu":
        return False
    info = np.iinfo(t)
    return info.min <= int(expr.value) <= info.max


__all__ = ["ExprLowerer", "llvm_type"]
