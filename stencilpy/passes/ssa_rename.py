"""Pass: single assignment.  Invariant established: every temporary is assigned
exactly once; a reassigned name gets a versioned name (``flx``, ``flx'1``, ...)
and every read refers to the version live at that point."""

from __future__ import annotations

import dataclasses

from stencilpy.ir import nodes as N


def _rename(expr: N.Expr, live: dict[str, str]) -> N.Expr:
    def fn(node):
        if isinstance(node, N.FieldAccess) and node.name in live:
            return dataclasses.replace(node, name=live[node.name])
        return node
    return N.map_expr(expr, fn)


def ssa_rename(stencil: N.Stencil) -> N.Stencil:
    """Give every assignment its own name (see module docstring)."""
    live: dict[str, str] = {}
    versions: dict[str, int] = {}
    body = []
    for stmt in stencil.body:
        value = _rename(stmt.value, live)
        count = versions.get(stmt.target, 0)
        versions[stmt.target] = count + 1
        name = stmt.target if count == 0 else f"{stmt.target}'{count}"
        live[stmt.target] = name
        body.append(dataclasses.replace(stmt, target=name, value=value))
    returns = tuple(_rename(r, live) for r in stencil.returns)
    return dataclasses.replace(stencil, body=tuple(body), returns=returns)
