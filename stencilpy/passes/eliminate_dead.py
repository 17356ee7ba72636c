"""Pass: drop assignments whose value never reaches a returned expression.
Requires single assignment (run after ``ssa_rename``)."""

from __future__ import annotations

import dataclasses

from stencilpy.ir import nodes as N


def _reads(expr: N.Expr) -> set[str]:
    return {n.name for n in N.walk(expr) if isinstance(n, N.FieldAccess)}


def eliminate_dead(stencil: N.Stencil) -> N.Stencil:
    """Remove dead temporaries (see module docstring)."""
    live: set[str] = set()
    for r in stencil.returns:
        live |= _reads(r)
    kept = []
    for stmt in reversed(stencil.body):
        if stmt.target in live:
            kept.append(stmt)
            live |= _reads(stmt.value)
    return dataclasses.replace(stencil, body=tuple(reversed(kept)))
