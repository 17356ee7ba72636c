"""Pass: evaluate operations whose operands are all constants, with numpy's
semantics for Python scalars.  Invariants established: no ``BinOp``/``UnaryOp``/
``Compare``/``BoolOp`` has only ``Const`` operands (unless folding would raise,
e.g. 1 // 0); no temporary assigned a ``Const`` is read (its reads are replaced
by the constant, at any offset: a constant is the same at every point); and no
``Select`` with a ``Const`` condition reads the unchosen branch at an offset (but
see ``_WITNESS_NODES`` below).

A constant-condition select keeps ``np.where``'s result type, which depends on
*both* branches (``i if True else 0.5`` is float64 for an integer ``i``)::

    select(True, a, b)  ->  a                    when a and b have the same type
                        ->  select(True, a, b')  otherwise

``b'`` is ``b`` with every temporary inlined and every offset set to 0: it has
``b``'s type but reads nothing beyond the point, so the unchosen branch no longer
counts in the halo, and the temporaries only it read become dead (``eliminate_dead``
runs next); LLVM folds the constant select, so the kernel does not compute it.  A
``b'`` of more than ``_WITNESS_NODES`` nodes is not made: such a select is left as it is.

Requires single assignment (run after ``ssa_rename``)."""

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
        if isinstance(node, N.BoolOp) and _consts(*node.values):
            combine = all if node.op == "and" else any
            return N.Const(combine(bool(v.value) for v in node.values), node.loc)
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


#: the largest unchosen branch (in nodes, temporaries inlined) kept as a type witness; a
#: larger one leaves its select unfolded rather than copy a big expression
_WITNESS_NODES = 200


class _Folder:
    """Folds the statements in order, remembering each temporary's folded value."""

    def __init__(self):
        self.defs: dict[str, N.Expr] = {}          # temporary -> its folded value
        self.summaries: dict[str, tuple[int, int]] = {}   # temporary -> (type key, size)
        self.keys: dict[tuple, int] = {}           # interned type keys

    def expr(self, expr: N.Expr) -> N.Expr:
        return N.map_expr(expr, self._node)

    def assign(self, stmt: N.Assign) -> N.Assign:
        value = self.expr(stmt.value)
        self.defs[stmt.target] = value
        return dataclasses.replace(stmt, value=value)

    def _node(self, node: N.Expr) -> N.Expr:
        if isinstance(node, N.FieldAccess) and isinstance(self.defs.get(node.name), N.Const):
            return dataclasses.replace(self.defs[node.name], loc=node.loc)
        if isinstance(node, N.Select) and isinstance(node.cond, N.Const):
            return self._select(node)
        return _fold(node)

    def _select(self, node: N.Select) -> N.Expr:
        take_true = bool(node.cond.value)
        chosen, dropped = (node.if_true, node.if_false) if take_true else \
            (node.if_false, node.if_true)
        (chosen_key, _), (dropped_key, size) = self._summary(chosen), self._summary(dropped)
        if chosen_key == dropped_key:
            return chosen
        if size > _WITNESS_NODES:
            return node
        witness = self._flat(dropped)
        return dataclasses.replace(node, **{"if_false" if take_true else "if_true": witness})

    def _summary(self, expr: N.Expr) -> tuple[int, int]:
        """(type key, node count) of ``expr`` with temporaries inlined: equal keys mean
        equal types (the structure, each constant replaced by its Python type, since
        ``Const`` equality would make ``True == 1 == 1.0``)."""
        if isinstance(expr, N.FieldAccess) and expr.name in self.defs:
            if expr.name not in self.summaries:
                self.summaries[expr.name] = self._summary(self.defs[expr.name])
            return self.summaries[expr.name]
        if isinstance(expr, N.Const):
            key = ("const", type(expr.value))
        elif isinstance(expr, (N.FieldAccess, N.ScalarRef)):
            key = ("param", expr.name)
        else:
            kids = [self._summary(c) for c in N.children(expr)]
            op = getattr(expr, "op", None) or getattr(expr, "func", None)
            key = (type(expr).__name__, op) + tuple(k for k, _ in kids)
            return self.keys.setdefault(key, len(self.keys)), 1 + sum(n for _, n in kids)
        return self.keys.setdefault(key, len(self.keys)), 1

    def _flat(self, expr: N.Expr) -> N.Expr:
        """``expr`` with temporaries inlined and every offset 0: the same type, but reads
        only parameters, at the point."""
        def fn(node):
            if not isinstance(node, N.FieldAccess):
                return node
            if node.name in self.defs:
                return self._flat(self.defs[node.name])
            return dataclasses.replace(node, offset=(0,) * len(node.offset))
        return N.map_expr(expr, fn)


def fold_constants(stencil: N.Stencil) -> N.Stencil:
    """Fold constant sub-expressions (see module docstring)."""
    folder = _Folder()
    body = tuple(folder.assign(s) for s in stencil.body)
    returns = tuple(folder.expr(r) for r in stencil.returns)
    return dataclasses.replace(stencil, body=body, returns=returns)
