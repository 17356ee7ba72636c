"""Pass: recompute cheap temporaries instead of buffering them.

A temporary read at a non-zero offset is *materialised* by the analysis: it gets
its own loop nest writing a row buffer that its readers load from.  When the
temporary is cheap, recomputing it at each offset it is read at costs less than
that extra loop nest and buffer traffic (hdiff: the limited fluxes, read at two
offsets each, are recomputed; the Laplacian, read at five, stays buffered).

Invariant established: every temporary still read at a non-zero offset would cost
more than ``INLINE_BUDGET`` extra operations per point to recompute
(``cost(t) * (offsets(t) - 1)``); every other read ``t[o]`` (o != 0) is replaced by
``t``'s expression with all its reads shifted by ``o``.  Reads at offset 0 stay
(evaluated inline once per point).  The result computes the same operations on the
same values, so it is bit-identical.  Requires single assignment (after ``ssa_rename``);
run ``eliminate_dead`` after it.
"""

from __future__ import annotations

import dataclasses

from stencilpy.ir import nodes as N

#: extra operations per point accepted to avoid buffering one temporary
INLINE_BUDGET = 16
_BINARY_COST = {"/": 4, "//": 8, "%": 8, "**": 8}
_CHEAP_CALLS = {"min", "max", "abs", "where", "sign", "copysign", "floor", "ceil", "trunc",
                "isnan", "isinf", "isfinite"}


def cost(expr: N.Expr) -> int:
    """Rough operation count of evaluating ``expr`` once (loads count 1)."""
    total = 0
    for node in N.walk(expr):
        if isinstance(node, N.BinOp):
            total += _BINARY_COST.get(node.op, 1)
        elif isinstance(node, N.Call):
            total += 1 if node.func in _CHEAP_CALLS else 20
        elif isinstance(node, (N.UnaryOp, N.Compare, N.BoolOp, N.Select, N.FieldAccess)):
            total += 1
    return total


def shift(expr: N.Expr, by: tuple[int, ...]) -> N.Expr:
    """``expr`` evaluated ``by`` points away: every read's offset moved by ``by``."""
    def fn(node):
        if isinstance(node, N.FieldAccess):
            return dataclasses.replace(node, offset=tuple(a + b for a, b in zip(node.offset, by)))
        return node
    return N.map_expr(expr, fn)


def _offsets(name: str, exprs) -> set:
    return {n.offset for e in exprs for n in N.walk(e)
            if isinstance(n, N.FieldAccess) and n.name == name}


def _substitute(expr: N.Expr, name: str, value: N.Expr) -> N.Expr:
    def fn(node):
        if isinstance(node, N.FieldAccess) and node.name == name and any(node.offset):
            return shift(value, node.offset)
        return node
    return N.map_expr(expr, fn)


def inline_temporaries(stencil: N.Stencil, budget: int = INLINE_BUDGET) -> N.Stencil:
    """Recompute cheap temporaries at their shifted reads (see module docstring)."""
    body = list(stencil.body)
    returns = list(stencil.returns)
    changed = False
    for k in range(len(body) - 1, -1, -1):
        name, value = body[k].target, body[k].value
        readers = [s.value for s in body[k + 1:]] + returns
        offsets = _offsets(name, readers)
        if not any(any(o) for o in offsets) or cost(value) * (len(offsets) - 1) > budget:
            continue
        for j in range(k + 1, len(body)):
            body[j] = dataclasses.replace(body[j], value=_substitute(body[j].value, name, value))
        returns = [_substitute(r, name, value) for r in returns]
        changed = True
    if not changed:
        return stencil
    return dataclasses.replace(stencil, body=tuple(body), returns=tuple(returns))
