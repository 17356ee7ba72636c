"""The running-sum trap: a warning for ``t = t[lev - 1] + ...`` outside a sweep.

Outside a sweep every statement is computed in parallel: reading a temporary at an offset
while reassigning it reads its *previous* definition at the neighbouring point, so
``phi = phi[lev - 1] + thickness`` gives each level the previous ``phi`` one level down plus
the thickness -- not a running sum.  When a statement reads the name it reassigns at offsets
that all lie on one side along some axis (the shape of a recurrence), ``warn_recurrences``
warns, pointing at the read, with a hint at ``sp.forward``/``sp.backward``.  Symmetric reads
(a smoother ``q = q + 0.25 * (q[1] - 2 * q + q[-1])``) are not warned about.
"""

from __future__ import annotations

import warnings

from stencilpy.errors import StencilWarning, render_location
from stencilpy.ir import nodes as N


def _one_sided_axis(offsets: list[tuple[int, ...]]) -> int | None:
    """An axis along which every non-zero offset has the same sign (None: there is none)."""
    ndim = len(offsets[0])
    for d in range(ndim):
        signs = {o[d] > 0 for o in offsets if o[d] != 0}
        if len(signs) == 1:
            return d
    return None


def _statements(stmts):
    for stmt in stmts:
        if isinstance(stmt, N.Assign):
            yield stmt
        elif isinstance(stmt, N.If):
            yield from _statements(stmt.body)
            yield from _statements(stmt.orelse)


def warn_recurrences(stencil: N.Stencil) -> None:
    """Warn (``sp.StencilWarning``) about each parallel statement that reassigns a temporary
    from its own value at one-sided offsets (see the module docstring)."""
    assigned: set[str] = set()
    for block in stencil.body:
        if isinstance(block, N.Sweep):
            assigned.update(s.target for s in N.assignments((block,)))
            continue
        for stmt in _statements((block,)):
            if stmt.target in assigned:
                reads = [n for n in N.walk(stmt.value)
                         if isinstance(n, N.FieldAccess) and n.name == stmt.target
                         and any(n.offset)]
                axis = _one_sided_axis([r.offset for r in reads]) if reads else None
                if axis is not None:
                    _warn(stmt, next(r for r in reads if r.offset[axis]), stencil.dims, axis)
            assigned.add(stmt.target)


def _warn(stmt: N.Assign, read: N.FieldAccess, dims: tuple[str, ...], axis: int) -> None:
    name, dim = stmt.target, dims[axis]
    terms = ", ".join(f"{d} {'+' if o > 0 else '-'} {abs(o)}" if o else d
                      for d, o in zip(dims, read.offset))
    message = (
        f"'{name}' is reassigned from its own value at '{name}[{terms}]': outside a sweep "
        f"this reads the previous '{name}' at the neighbouring point, so it is not a running "
        f"sum along '{dim}'\n"
        f"hint: to carry a value level by level, write the statement in "
        f"'with sp.forward(\"{dim}\"):' (or sp.backward) -- see 'Columns' in the language "
        f"docs; assign a new name to keep the parallel meaning without this warning")
    loc = read.loc
    text = render_location(loc) + "\n" + message if loc.line else message
    warnings.warn_explicit(text, StencilWarning, loc.filename, loc.line or 1)

