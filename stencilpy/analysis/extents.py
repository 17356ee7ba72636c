"""Per-stage access extents, derived with sympy.

A *stage* is one loop nest: every temporary read at a non-zero offset is
materialised in its own stage (computed on its extended region into a
buffer); temporaries read only at offset zero are evaluated inline where they
are used.  The last stage computes the returned expressions.

Each access ``f[o]`` at the current point ``i`` of a stage is the sympy index
``i_d + o_d``; the extent of ``f`` in a stage is ``(lo, hi)`` with
``lo = -Min(index - i_d)`` and ``hi = Max(index - i_d)`` over its accesses.
Extents of stages compose backwards from the output (extent 0):
``region(t) = hull over readers s of (region(s) + signed span of t's offsets in s)``,
exactly (a temporary read only at ``t[1]`` is needed on the output region shifted by one,
not on a box grown to contain it).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from stencilpy.ir import nodes as N

# sympy is imported inside the functions that use it: a warm start (plan loaded from the
# disk cache) never pays for it, and neither does a cold one whose offsets are all integer
# constants (``_span_exact``: the exact integer fast path, which agrees with sympy on them).


@dataclass(frozen=True)
class StageAccesses:
    """What one stage reads: ``{name: set of offsets}`` after inlining zero-offset temporaries."""

    target: str | None          # materialised temporary, or None for the output stage
    expr_names: tuple[str, ...]  # temporaries evaluated inline in this stage (definition order)
    reads: dict


def materialised(stencil: N.Stencil) -> tuple[str, ...]:
    """Temporaries read at a non-zero offset anywhere, in definition order."""
    temps = [s.target for s in stencil.body]
    shifted = set()
    exprs = [s.value for s in stencil.body] + list(stencil.returns)
    for expr in exprs:
        for node in N.walk(expr):
            if isinstance(node, N.FieldAccess) and any(node.offset) and node.name in temps:
                shifted.add(node.name)
    return tuple(t for t in temps if t in shifted)


def _collect(expr: N.Expr, defs: dict, mat: set, reads: dict, inline: dict) -> None:
    pending = [expr]        # a work list, not recursion: chains of temporaries can be long
    while pending:
        for node in N.walk(pending.pop()):
            if not isinstance(node, N.FieldAccess):
                continue
            if node.name in defs and node.name not in mat:
                if node.name not in inline:
                    inline[node.name] = None
                    pending.append(defs[node.name])
                continue
            reads.setdefault(node.name, set()).add(node.offset)


def stage_accesses(stencil: N.Stencil) -> tuple[StageAccesses, ...]:
    """The stages of ``stencil`` in execution order, with what each reads."""
    defs = {s.target: s.value for s in stencil.body}
    order = {t: k for k, t in enumerate(defs)}
    mat = materialised(stencil)
    stages = []
    for target, exprs in [(t, [defs[t]]) for t in mat] + [(None, list(stencil.returns))]:
        reads: dict = {}
        inline: dict = {}
        for expr in exprs:
            _collect(expr, defs, set(mat), reads, inline)
        names = tuple(sorted(inline, key=order.__getitem__))
        stages.append(StageAccesses(target, names, reads))
    return tuple(stages)


def output_accesses(stencil: N.Stencil, k: int) -> dict:
    """What output ``k`` alone reads in the output stage: ``{name: set of offsets}`` of
    fields and materialised temporaries, through the temporaries evaluated inline."""
    defs = {s.target: s.value for s in stencil.body}
    reads: dict = {}
    _collect(stencil.returns[k], defs, set(materialised(stencil)), reads, {})
    return reads


def index_symbols(ndim: int) -> tuple[sympy.Symbol, ...]:  # noqa: F821
    import sympy
    return sympy.symbols(f"i0:{ndim}", integer=True)


def access_extent(offsets, ndim: int) -> tuple[tuple[int, int], ...]:
    """``(lo, hi)`` per axis of a set of offsets, via the sympy index ``i_d + o_d``: how far
    the reads reach below and above the current point (never less than 0).

    >>> access_extent({(1, 0), (-1, 2)}, 2)
    ((1, 1), (0, 2))
    """
    return tuple((max(0, lo), max(0, hi)) for lo, hi in access_span(offsets, ndim))


def access_span(offsets, ndim: int) -> tuple[tuple[int, int], ...]:
    """``(-min offset, max offset)`` per axis: like ``access_extent`` but signed, so that
    reads only above the point (``f[1]``) give a negative ``lo``.  A region grown by a span
    is exactly the box the reads touch (``add_extents(region, span)``).

    >>> access_span({(1, 0), (2, -1)}, 2)
    ((-1, 2), (1, 0))
    """
    return _span(tuple(sorted(offsets)), ndim)


@functools.lru_cache(maxsize=4096)
def _span(offsets: tuple, ndim: int) -> tuple[tuple[int, int], ...]:
    """``access_span`` of a sorted tuple of offsets (stages often read the same sets):
    exact integer arithmetic when every offset is an int (the IR's offsets are), sympy
    otherwise."""
    if _all_int(offsets):
        return _span_exact(offsets, ndim)
    return _span_sympy(offsets, ndim)


def _all_int(offsets) -> bool:
    return all(type(o) is int for off in offsets for o in off)


def _span_exact(offsets: tuple, ndim: int) -> tuple[tuple[int, int], ...]:
    """``(-min, max)`` of the integer offsets along each axis: the sympy index ``i_d + o_d``
    minus ``i_d`` is ``o_d`` exactly when ``o_d`` is an integer constant."""
    if not offsets:
        raise ValueError("access_span of no offsets")
    return tuple((-min(o[d] for o in offsets), max(o[d] for o in offsets))
                 for d in range(ndim))


def _span_sympy(offsets: tuple, ndim: int) -> tuple[tuple[int, int], ...]:
    """The general analyser: offsets as sympy expressions of the index symbols."""
    import sympy

    idx = index_symbols(ndim)
    span = []
    for d in range(ndim):
        rel = [sympy.expand(idx[d] + o[d]) - idx[d] for o in offsets]
        span.append((int(-sympy.Min(*rel)), int(sympy.Max(*rel))))
    return tuple(span)


def add_extents(a, b):
    """Minkowski sum of two extents (a region grown by the reads made from it)."""
    return tuple((x[0] + y[0], x[1] + y[1]) for x, y in zip(a, b))


def union_extents(a, b):
    return tuple((max(x[0], y[0]), max(x[1], y[1])) for x, y in zip(a, b))
