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

Under "fill"/"valid" along the axis of a sweep, the output region is not the domain less the
halo: a recurrence carries a value that is undefined at one level to the levels after it, so
``SweepPlan.output_region`` walks the blocks on the call's axis instead
(``column_regions.py``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from stencilpy.analysis.bounds import Plan
from stencilpy.analysis.column_regions import interval, output_levels
from stencilpy.errors import StencilCallError
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


@dataclass(frozen=True)
class SweepPlan(Plan):
    """The ``Plan`` of a column stencil; it keeps the stencil, whose sweeps decide the output
    region along their axes under "fill"/"valid" (``column_regions.py``)."""

    stencil: N.Stencil | None = field(default=None, repr=False, compare=False)

    def output_region(self, axis: int, domain_len: int, field_lens: dict[str, int],
                      output: int | None = None, mode: str | None = None) -> tuple[int, int]:
        shrunk = super().output_region(axis, domain_len, field_lens, output)
        if self.stencil is None or not any(isinstance(b, N.Sweep) and b.axis == axis
                                           for b in self.stencil.body):
            return shrunk
        found, loss = _sweep_region(self.stencil, axis, domain_len,
                                    tuple(sorted(field_lens.items())), self.halo[axis])
        if found is not None:
            return found
        if shrunk[1] <= shrunk[0]:
            return shrunk                  # too short even for the halo: bind says so
        raise StencilCallError(_no_region(self.stencil, axis, domain_len, loss, mode))


@functools.lru_cache(maxsize=64)
def _sweep_region(stencil, axis, n, lens, halo):
    has, loss = output_levels(stencil, axis, n, dict(lens), halo)
    return interval(has), (loss, tuple(k for k, h in enumerate(has) if h))


def _no_region(stencil: N.Stencil, axis: int, n: int, found, mode) -> str:
    """Why no region along ``axis`` has a value for every output: the recurrence that lost it."""
    loss, levels = found
    dim = stencil.dims[axis]
    how = f"boundary '{mode}'" if mode else "this boundary mode"
    if levels:
        shown = ", ".join(map(str, levels[:6])) + (", ..." if len(levels) > 6 else "")
        what = f"only at levels {shown} of {n}, not one range"
    else:
        what = "at no level"
    text = f"under {how} along '{dim}', the outputs of '{stencil.name}' have a value {what}"
    if loss is not None:
        a = loss.access
        step = a.offset[axis]
        text += (f": the {loss.direction} sweep carries '{a.name}' to level {loss.level} from "
                 f"level {loss.level + step} ('{a.name}[{dim} {'+' if step > 0 else '-'} "
                 f"{abs(step)}]', {a.loc}), where it has no value because a read there reaches "
                 f"outside the arrays along '{dim}'; each level it reaches inherits that")
    return (text + f". Pass a padding mode along '{dim}' (boundary={{'{dim}': 'edge', ...}}), "
            "or start the recurrence (its sp.levels range) at levels whose reads stay inside "
            "the arrays")


def analyse_columns(stencil: N.Stencil) -> Plan:
    """The ``Plan`` of a column stencil: field footprints and halo (no stages: the numpy
    reference interprets the blocks directly, see ``reference/columns.py``)."""
    footprint, halo = _footprints(stencil, (_BIG,) * stencil.ndim)
    return SweepPlan(stencil.dims, (), footprint, halo, stencil=stencil)


def short_axis_error(stencil: N.Stencil, halo: tuple, sizes: tuple) -> str | None:
    """Why ``stencil`` cannot run on axes of ``sizes`` points with the plan's ``halo``, or
    None: on a short axis a range counted from the end (``levels(-1, None)``) reaches the
    first levels, and its reads may reach further outside than on the long axis the halo was
    derived for (the box would not hold them)."""
    need = _footprints(stencil, tuple(sizes))[1]
    for d, ((lo, hi), (have_lo, have_hi)) in enumerate(zip(need, halo)):
        if lo > have_lo or hi > have_hi:
            side, far, have = ("below", lo, have_lo) if lo > have_lo else ("above", hi, have_hi)
            return (f"on this axis of {sizes[d]} points along '{stencil.dims[d]}', a level "
                    f"range counted from the other end reaches levels it never reaches on a "
                    f"long axis, and a read there reaches {far} points {side} the arrays, more "
                    f"than the {have} of the halo the stencil was analysed with; pass a longer "
                    f"'{stencil.dims[d]}' axis, or write the ranges so that those counted from "
                    "one end do not reach the other end")
    return None


def _footprints(stencil: N.Stencil, sizes: tuple) -> tuple:
    ndim = stencil.ndim
    full = tuple((0, n) for n in sizes)
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
            _sweep_needs(block, need, add, defined_before[k], sizes)
    zero = ((0, 0),) * ndim
    footprint = {}
    for name in stencil.param_names:
        region = need.get(name)
        if region is not None:
            footprint[name] = tuple((max(0, -lo), max(0, hi - n))
                                    for (lo, hi), n in zip(region, sizes))
    halo = zero
    for ext in footprint.values():
        halo = tuple((max(a[0], b[0]), max(a[1], b[1])) for a, b in zip(halo, ext))
    return tuple(footprint.items()), halo


def _defined_before(stencil: N.Stencil) -> list[set[str]]:
    """The temporaries assigned before each block."""
    seen: set[str] = set()
    out = []
    for block in stencil.body:
        out.append(set(seen))
        seen.update(s.target for s in N.assignments((block,)))
    return out


def _sweep_needs(sweep: N.Sweep, need: dict, add, before: set[str], sizes: tuple) -> None:
    axis = sweep.axis
    mine = {s.target for s in N.assignments((sweep,))}
    stmts = [(rng.bounds(sizes[axis]), s) for rng in sweep.ranges for s in rng.body]
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
