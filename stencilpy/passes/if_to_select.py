"""Pass: turn ``if/elif/else`` blocks into straight-line ``Select`` assignments.

Invariant established: the body contains only ``Assign`` statements (and ``Sweep`` blocks
whose level ranges contain only ``Assign`` statements).

Both branches are evaluated at every point and the result is chosen point by
point (like ``numpy.where``)::

    if c:                      c@1 = c
        x = a          ->      x@then1 = a
    else:                      x@else1 = b
        x = b                  x = select(c@1, x@then1, x@else1)

A name assigned in only one branch keeps its earlier value in the other; if it had
none, no merged value is made (the frontend refuses to read such a name after the block).
"""

from __future__ import annotations

import dataclasses
import itertools

from stencilpy.ir import nodes as N


def _rename_reads(expr: N.Expr, names: dict[str, str]) -> N.Expr:
    def fn(node):
        if isinstance(node, N.FieldAccess) and node.name in names:
            return dataclasses.replace(node, name=names[node.name])
        return node
    return N.map_expr(expr, fn)


def _branch(stmts, ndim: int, tag: str, counter, defined: set[str]
            ) -> tuple[list[N.Assign], dict[str, str]]:
    """Flatten one branch, renaming every target to a branch-local name.

    Returns the branch's statements and {original name: its final local name}."""
    local: dict[str, str] = {}
    out: list[N.Assign] = []
    for stmt in _flatten(stmts, ndim, counter, set(defined)):
        new_name = f"{stmt.target}@{tag}{next(counter)}"
        out.append(N.Assign(new_name, _rename_reads(stmt.value, local), stmt.loc))
        local[stmt.target] = new_name
    return out, local


def _convert_if(stmt: N.If, ndim: int, counter, defined: set[str]) -> list[N.Assign]:
    zeros = (0,) * ndim
    cond_name = f"cond@{next(counter)}"
    out = [N.Assign(cond_name, stmt.cond, stmt.loc)]
    then_stmts, then_names = _branch(stmt.body, ndim, "then", counter, defined)
    else_stmts, else_names = _branch(stmt.orelse, ndim, "else", counter, defined)
    out += then_stmts + else_stmts
    for target in _assigned_in_order(stmt):
        sides = (target in then_names) + (target in else_names)
        if sides == 0 or (sides == 1 and target not in defined):
            continue          # assigned on one side only, no value before: not readable after
        loc = next(s.loc for s in then_stmts + else_stmts
                   if s.target in (then_names.get(target), else_names.get(target)))
        value = N.Select(N.FieldAccess(cond_name, zeros, stmt.loc),
                         N.FieldAccess(then_names.get(target, target), zeros, loc),
                         N.FieldAccess(else_names.get(target, target), zeros, loc), stmt.loc)
        out.append(N.Assign(target, value, loc))
    return out


def _assigned_in_order(stmt: N.If) -> list[str]:
    order: dict[str, None] = {}

    def visit(stmts):
        for s in stmts:
            if isinstance(s, N.Assign):
                order.setdefault(s.target)
            else:
                visit(s.body)
                visit(s.orelse)
    visit(stmt.body)
    visit(stmt.orelse)
    return list(order)


def _flatten(stmts, ndim: int, counter, defined: set[str]) -> list[N.Assign]:
    """Straight-line statements for ``stmts``; ``defined`` (updated) holds the names that
    have a value at this point."""
    out: list[N.Assign] = []
    for stmt in stmts:
        if isinstance(stmt, N.Sweep):        # each level range is flattened on its own
            ranges = tuple(dataclasses.replace(r, body=tuple(
                _flatten(r.body, ndim, counter, set(defined)))) for r in stmt.ranges)
            out.append(dataclasses.replace(stmt, ranges=ranges))
            defined.update(s.target for s in N.assignments((stmt,)))
            continue
        new = [stmt] if isinstance(stmt, N.Assign) else _convert_if(stmt, ndim, counter, defined)
        defined.update(s.target for s in new)
        out.extend(new)
    return out


def if_to_select(stencil: N.Stencil) -> N.Stencil:
    """Remove every ``If`` statement (see module docstring)."""
    counter = itertools.count(1)
    body = _flatten(stencil.body, stencil.ndim, counter, set(stencil.param_names))
    return dataclasses.replace(stencil, body=tuple(body))
