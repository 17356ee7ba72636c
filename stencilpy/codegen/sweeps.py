"""What both column backends (``codegen/columns.py`` on the CPU, ``codegen/gpu/columns.py``)
need to know of a column stencil's IR: the reads of an expression, the runs of levels of a
sweep, and the versioning of reassigned names."""

from __future__ import annotations

import dataclasses

from stencilpy.ir import nodes as N


def reads(expr: N.Expr) -> list[N.FieldAccess]:
    """Every ``name[offset]`` read of ``expr``."""
    return [e for e in N.walk(expr) if isinstance(e, N.FieldAccess)]


def segments(sweep: N.Sweep, n: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """Runs ``[lo, hi)`` of levels with the same active ranges (their indices), in level
    order; empty runs dropped."""
    spans = [r.bounds(n) for r in sweep.ranges]
    cuts = sorted({0, n, *(max(0, min(n, x)) for s in spans for x in s)})
    runs = []
    for lo, hi in zip(cuts, cuts[1:]):
        active = tuple(j for j, (a, b) in enumerate(spans) if a <= lo and hi <= b and a < b)
        if hi > lo and active:
            runs.append((lo, hi, active))
    return runs


def version_reassignments(stencil: N.Stencil) -> N.Stencil:
    """``stencil`` with every parallel statement that reads its own target at a nonzero
    offset writing a new name (``t@v1`` ...), and later reads renamed to it.

    Without it a kernel that stores each name once would overwrite the previous
    definition while the statement still reads it at neighbouring points
    (``t = t[x + 1] + t[x - 1]``)."""
    current: dict[str, str] = {}
    count = 0

    def rename(expr):
        def fn(e):
            if isinstance(e, N.FieldAccess) and e.name in current:
                return dataclasses.replace(e, name=current[e.name])
            return e
        return N.map_expr(expr, fn)

    body = []
    for block in stencil.body:
        if isinstance(block, N.Assign):
            value = rename(block.value)
            target = current.get(block.target, block.target)
            if any(r.name == target and any(r.offset) for r in reads(value)):
                count += 1
                target = f"{block.target}@v{count}"
            current[block.target] = target
            body.append(dataclasses.replace(block, target=target, value=value))
            continue
        ranges = []
        for rng in block.ranges:
            stmts = []
            for s in rng.body:
                value = rename(s.value)
                current.setdefault(s.target, s.target)
                stmts.append(dataclasses.replace(s, target=current[s.target], value=value))
            ranges.append(dataclasses.replace(rng, body=tuple(stmts)))
        body.append(dataclasses.replace(block, ranges=tuple(ranges)))
    returns = tuple(rename(r) for r in stencil.returns)
    return dataclasses.replace(stencil, body=tuple(body), returns=returns)
