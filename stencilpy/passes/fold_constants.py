"""Pass: evaluate operations whose operands are all constants, with numpy's
semantics for Python scalars.  Invariant established: no ``BinOp``/``UnaryOp``/
``Compare`` has only ``Const`` operands (unless folding would raise, e.g. 1 // 0)."""

from __future__ import annotations

import dataclasses
import operator

from stencilpy.ir import nodes as N

_BIN = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
        "//": operator.floordiv, "%": operator.mod, "**": operator.pow}
_CMP = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}


def _fold(node: N.Expr) -> N.Expr:
    try:
        if isinstance(node, N.BinOp) and _consts(node.left, node.right):
            value = _BIN[node.op](node.left.value, node.right.value)
            if isinstance(node.left.value, bool) and isinstance(node.right.value, bool):
                return node
            return N.Const(value, node.loc) if isinstance(value, (int, float)) else node
        if isinstance(node, N.Compare) and _consts(node.left, node.right):
            return N.Const(bool(_CMP[node.op](node.left.value, node.right.value)), node.loc)
        if isinstance(node, N.UnaryOp) and _consts(node.operand):
            if node.op == "not":
                return N.Const(not node.operand.value, node.loc)
            if isinstance(node.operand.value, bool):
                return node
            return N.Const(-node.operand.value if node.op == "-" else node.operand.value, node.loc)
    except (ArithmeticError, ValueError, OverflowError):
        return node
    return node


def _consts(*exprs) -> bool:
    return all(isinstance(e, N.Const) for e in exprs)


def fold_constants(stencil: N.Stencil) -> N.Stencil:
    """Fold constant sub-expressions (see module docstring)."""
    body = tuple(dataclasses.replace(s, value=N.map_expr(s.value, _fold)) for s in stencil.body)
    returns = tuple(N.map_expr(r, _fold) for r in stencil.returns)
    return dataclasses.replace(stencil, body=body, returns=returns)
