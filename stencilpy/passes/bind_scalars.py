"""Pass: mark the parameters the caller passed as numbers.  Invariant
established: reads of those parameters are ``ScalarRef`` nodes."""

from __future__ import annotations

import dataclasses

from stencilpy.ir import nodes as N


def bind_scalars(stencil: N.Stencil, scalar_names: frozenset[str]) -> N.Stencil:
    """Replace ``FieldAccess(p, 0...)`` by ``ScalarRef(p)`` for every ``p`` in ``scalar_names``."""
    subscripted = {p.name for p in stencil.params if p.subscripted}
    bad = subscripted & scalar_names
    if bad:
        raise ValueError(f"parameters {sorted(bad)} are read at offsets and cannot be scalars")

    def fn(node):
        if isinstance(node, N.FieldAccess) and node.name in scalar_names:
            return N.ScalarRef(node.name, node.loc)
        return node

    body = N.map_statements(stencil.body, lambda e: N.map_expr(e, fn))
    returns = tuple(N.map_expr(r, fn) for r in stencil.returns)
    return dataclasses.replace(stencil, body=body, returns=returns)
