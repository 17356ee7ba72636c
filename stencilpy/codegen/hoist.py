"""Loop-invariant code motion along the inner axis: what does not vary is computed once per row.

A sub-expression whose every read is of a field broadcast along the innermost axis (a 1-D
pressure ``p(level)`` in a ``(level, x)`` stencil, a ``coslat(lat)`` in ``(lat, lon)``),
of scalars and of constants has one value along a whole row.  The kernel used to recompute it
at every point: LLVM cannot hoist it itself, because the loads of the broadcast field may alias
the output stores in the same loop, so ``log(p / p[level + 1])`` (a libm call) ran once per
point.  Here the *maximal* invariant sub-expressions of a stage (not bare reads, constants or
scalars: those cost nothing) are lowered once, before the row's fast segment (its peel, its
vectorised loop or its streamed segment), with the same ``ExprLowerer`` and the row's own loads
at the row's first point, and every point then reuses the value (``ExprLowerer(known=...)``).

Sound: a hoisted expression is evaluated with the same operations and types as at a point, so
the result is bit-identical; a broadcast field's inner stride is 0, so the read at the row's first
point is the read at every point; lowering evaluates both arms of a select anyway, so hoisting out
of one evaluates nothing a point did not.  Inline temporaries are invariant when their definition
is.  The remapped (boundary) points keep their per-point code: they are the row ends.
"""

from __future__ import annotations

from stencilpy.ir import nodes as N

#: set False to compare against the unhoisted code (tests and measurements); part of every
#: kernel's fingerprint (``KernelSpec.fingerprint_text``), so the two never share a cache entry
ENABLED = True

_LEAVES = (N.Const, N.ScalarRef, N.FieldAccess)


def _children(expr: N.Expr) -> tuple:
    if isinstance(expr, (N.BinOp, N.Compare)):
        return (expr.left, expr.right)
    if isinstance(expr, N.UnaryOp):
        return (expr.operand,)
    if isinstance(expr, N.BoolOp):
        return expr.values
    if isinstance(expr, N.Select):
        return (expr.cond, expr.if_true, expr.if_false)
    if isinstance(expr, N.Call):
        return expr.args
    return ()


class _Invariance:
    """Which nodes have one value along the inner axis (memoised by node identity)."""

    def __init__(self, ctx):
        self.ctx, self.memo = ctx, {}

    def __call__(self, expr: N.Expr) -> bool:
        key = id(expr)
        if key not in self.memo:
            self.memo[key] = self._compute(expr)
        return self.memo[key]

    def _compute(self, expr: N.Expr) -> bool:
        ctx = self.ctx
        if isinstance(expr, (N.Const, N.ScalarRef)):
            return True
        if isinstance(expr, N.FieldAccess):
            if expr.name in ctx.fields:
                return bool(ctx.fields[expr.name].broadcast[-1])
            if expr.name in ctx.inline:
                return self(ctx.inline[expr.name])
            return False                   # a materialised temporary varies along the row
        kids = _children(expr)
        return bool(kids) and all(self(k) for k in kids)


def invariant_roots(ctx, exprs) -> list:
    """The maximal invariant sub-expressions of ``exprs`` worth hoisting (not leaves), in
    first-seen order, each once (by identity); inline temporaries' definitions are looked
    into, as the lowerer evaluates them in place."""
    if not ENABLED or ctx.ndim < 2:
        return []
    inv, roots, seen = _Invariance(ctx), [], set()

    def visit(expr):
        if id(expr) in seen:
            return
        seen.add(id(expr))
        if inv(expr):
            if not isinstance(expr, _LEAVES):
                roots.append(expr)
            elif isinstance(expr, N.FieldAccess) and expr.name in ctx.inline:
                visit(ctx.inline[expr.name])
            return
        if isinstance(expr, N.FieldAccess) and expr.name in ctx.inline:
            visit(ctx.inline[expr.name])
            return
        for k in _children(expr):
            visit(k)

    for e in exprs:
        visit(e)
    return roots


def row_invariants(fr, stage, load) -> dict:
    """``{id(node): value}`` of the stage's invariant sub-expressions, lowered once at the
    builder's position with ``load`` (the row's loads at its first point)."""
    from stencilpy.codegen.expr import ExprLowerer   # (the fingerprint imports this module
                                                     # on the warm path: no llvmlite there)
    ctx = fr.ctx
    roots = invariant_roots(ctx, ctx.stage_exprs(stage))
    if not roots:
        return {}
    lower = ExprLowerer(fr.b, ctx.target, ctx.types, load, fr.args.scalars, ctx.inline,
                        ctx.type_memo)
    return {id(r): lower.lower(r) for r in roots}
