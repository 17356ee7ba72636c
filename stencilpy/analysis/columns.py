"""Footprints and halo of a column stencil (one with ``with sp.forward/backward`` sweeps).

The region each name must be computed on is propagated backwards from the outputs, block
by block (the same composition as ``extents.py``, with sweeps in between):

* a parallel statement ``t = e`` computed on region ``R`` needs every read ``f[o]`` of
  ``e`` on ``R + o``;
* a sweep computes its temporaries on the levels of their ranges and, across the other
  axes, on the union ``H`` of what later blocks and its own readers need (a sweep reads its
  own temporaries in the same column only, so ``H`` is a fixpoint over those reads);
  a statement of the range ``levels(s, e)`` needs ``f[o]`` on ``H + o`` across and on
  levels ``[s + o, e + o)`` along the sweep axis.

Regions are intervals on an axis of ``DECORATION_LEVELS`` points, which stands for "any
large axis": a bound near 0 is counted from the start, a bound near the end from the end.
The halo of a field is how far its region reaches outside ``[0, n)``.  Nothing here needs
sympy: every interval is a pair of ints.
"""

from __future__ import annotations

from stencilpy.analysis.bounds import Plan
from stencilpy.ir.levels import DECORATION_LEVELS
from stencilpy.ir import nodes as N

_BIG = DECORATION_LEVELS


def _union(a, b):
    if a is None:
        return b
    return tuple((min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(a, b))


def _shift(region, offset):
    return tuple((lo + o, hi + o) for (lo, hi), o in zip(region, offset))


def _reads(expr):
    return [n for n in N.walk(expr) if isinstance(n, N.FieldAccess)]


def analyse_columns(stencil: N.Stencil) -> Plan:
    """The ``Plan`` of a column stencil: field footprints and halo (no stages: the numpy
    reference interprets the blocks directly, see ``reference/columns.py``)."""
    ndim = stencil.ndim
    params = set(stencil.param_names)
    full = ((0, _BIG),) * ndim
    need: dict[str, tuple | None] = {}

    def add(name, region):
        need[name] = _union(need.get(name), region)

    for ret in stencil.returns:
        for r in _reads(ret):
            add(r.name, _shift(full, r.offset))
    defined_before = _defined_before(stencil)
    for k in range(len(stencil.body) - 1, -1, -1):
        block = stencil.body[k]
        if isinstance(block, N.Assign):
            region = need.pop(block.target, None)
            if region is not None:
                for r in _reads(block.value):
                    add(r.name, _shift(region, r.offset))
        else:
            _sweep_needs(block, need, add, defined_before[k], ndim)
    zero = ((0, 0),) * ndim
    footprint = {}
    for name in stencil.param_names:
        region = need.get(name)
        if region is not None:
            footprint[name] = tuple((max(0, -lo), max(0, hi - _BIG)) for lo, hi in region)
    halo = zero
    for ext in footprint.values():
        halo = tuple((max(a[0], b[0]), max(a[1], b[1])) for a, b in zip(halo, ext))
    return Plan(stencil.dims, (), tuple(footprint.items()), halo)


def _defined_before(stencil: N.Stencil) -> list[set[str]]:
    """The temporaries assigned before each block."""
    seen: set[str] = set()
    out = []
    for block in stencil.body:
        out.append(set(seen))
        seen.update(s.target for s in N.assignments((block,)))
    return out


def _sweep_needs(sweep: N.Sweep, need: dict, add, before: set[str], ndim: int) -> None:
    axis = sweep.axis
    mine = {s.target for s in N.assignments((sweep,))}
    stmts = [(rng.bounds(_BIG), s) for rng in sweep.ranges for s in rng.body]
    across = {t: need.get(t) for t in mine}          # horizontal region of each temporary
    changed = True
    while changed:                                   # readers in the sweep: same column
        changed = False
        for _, stmt in stmts:
            reader = across.get(stmt.target)
            if reader is None:
                continue
            for r in _reads(stmt.value):
                if r.name in mine:
                    grown = _union(across[r.name], reader)
                    if grown != across[r.name]:
                        across[r.name], changed = grown, True
    for t in mine:
        if t not in before:
            need.pop(t, None)
    for (lo, hi), stmt in stmts:
        region = across.get(stmt.target)
        if region is None:
            continue
        for r in _reads(stmt.value):
            if r.name in mine and r.name not in before:
                continue
            o = r.offset
            shifted = list(_shift(region, o))
            shifted[axis] = (lo + o[axis], hi + o[axis])
            add(r.name, tuple(shifted))
