"""Which levels of a column stencil's temporaries have a value: the checks of its sweeps.

``check_levels(stencil, n)`` walks the blocks of a column stencil in order and proves, on an
axis of ``n`` levels, that every read of a temporary finds a value:

* a temporary assigned in the current sweep is read in the same column (no horizontal
  offset), at the current level or at levels already computed (``t[lev - k]`` forward,
  ``t[lev + k]`` backward), and those levels lie in a range of the sweep that assigns it
  (or were assigned before the sweep);
* the level ranges of one sweep do not overlap;
* a temporary assigned only in some level ranges is read (after its sweep) only where it is
  defined.

At decoration ``n`` is a large symbolic stand-in (``DECORATION_LEVELS``), so a range such as
``levels(1, None)`` counts as "all but the first"; at a call the same check runs with the
true length and a failure there (an axis too short for the ranges) is a call error.
"""

from __future__ import annotations

from stencilpy.errors import SourceLoc
from stencilpy.ir import nodes as N

#: the number of levels the decoration-time check assumes (any large number: ranges written
#: from the start and from the end of the axis then never meet)
DECORATION_LEVELS = 1 << 40
#: ``levels(start, stop)`` bounds must be small next to ``DECORATION_LEVELS``
MAX_LEVEL_BOUND = 1 << 30


class LevelError(Exception):
    """A read that ``check_levels`` cannot prove defined: message, where, hint."""

    def __init__(self, message: str, loc: SourceLoc | None, hint: str):
        super().__init__(message)
        self.message, self.loc, self.hint = message, loc, hint


_EVERYWHERE = ((-(1 << 62), 1 << 62),)


def _covers(intervals, lo: int, hi: int) -> bool:
    """Whether the union of ``intervals`` contains ``[lo, hi)`` (empty: always)."""
    if lo >= hi:
        return True
    for a, b in sorted(intervals):
        if a <= lo < b:
            lo = b
            if lo >= hi:
                return True
    return False


def _text(access: N.FieldAccess, dims) -> str:
    terms = [f"{d} {'+' if o > 0 else '-'} {abs(o)}" if o else d
             for d, o in zip(dims, access.offset)]
    return f"{access.name}[{', '.join(terms)}]" if any(access.offset) else access.name


def _reads(expr: N.Expr):
    return [n for n in N.walk(expr) if isinstance(n, N.FieldAccess)]


def _stmt_reads(stmt):
    """(expression reads, assigned target or None) of the statements in ``stmt``, in order."""
    if isinstance(stmt, N.Assign):
        yield _reads(stmt.value), stmt.target
    else:
        yield _reads(stmt.cond), None
        for s in stmt.body + stmt.orelse:
            yield from _stmt_reads(s)


def check_levels(stencil: N.Stencil, sizes) -> None:
    """Raise ``LevelError`` for the first read of a temporary at a level where it has no
    value, on axes of ``sizes[axis]`` levels (see the module docstring)."""
    dims = stencil.dims
    params = set(stencil.param_names)
    #: temporary -> (axis, intervals where it is defined) for sweep temporaries; None: everywhere
    defined: dict[str, tuple[int, list] | None] = {}

    def need(access: N.FieldAccess, axis: int | None, lo: int, hi: int, what: str) -> None:
        """``access`` made at the levels ``[lo, hi)`` of ``axis`` (None: every level)."""
        if access.name in params or defined.get(access.name) is None:
            return
        t_axis, intervals = defined[access.name]
        o = access.offset[t_axis]
        if axis != t_axis:
            lo, hi = 0, sizes[t_axis]
        if not _covers(intervals, lo + o, hi + o):
            dim = dims[t_axis]
            raise LevelError(
                f"temporary '{access.name}' is read at '{_text(access, dims)}' {what}, outside "
                f"the '{dim}' levels where it is defined", access.loc,
                f"assign '{access.name}' at every level its readers reach (add a "
                f"sp.levels range for the missing ones), or restrict the read to a "
                f"sp.levels range of a sweep along '{dim}'")

    for block in stencil.body:
        if not isinstance(block, N.Sweep):
            for reads, target in _stmt_reads(block):
                for access in reads:
                    need(access, None, 0, 0, "by a parallel statement")
                if target is not None:
                    defined[target] = None
            continue
        _check_sweep(block, sizes, dims, params, defined, need)
    for ret in stencil.returns:
        for access in _reads(ret):
            need(access, None, 0, 0, "by 'return'")


def _check_sweep(sweep: N.Sweep, sizes, dims, params, defined, need) -> None:
    axis, n = sweep.axis, sizes[sweep.axis]
    dim = dims[axis]
    mine = {s.target for s in N.assignments((sweep,))}
    spans = [(rng, *rng.bounds(n)) for rng in sweep.ranges]
    ordered = sorted((s for s in spans if s[1] < s[2] and not s[0].every), key=lambda s: s[1])
    for (r1, lo1, hi1), (r2, lo2, hi2) in zip(ordered, ordered[1:]):
        if lo2 < hi1:
            raise LevelError(
                f"level ranges 'sp.levels({r1.start}, {r1.stop})' and 'sp.levels({r2.start}, "
                f"{r2.stop})' of this sweep overlap" + (f" on a '{dim}' axis of {n} levels"
                                                       if n < DECORATION_LEVELS else ""),
                r2.loc, "give each level to one range: a range's stop is the next one's start"
                if n >= DECORATION_LEVELS else f"pass at least as many '{dim}' levels as the "
                "ranges need, or write the ranges so that they cannot overlap")
    assigned_by = {t: [(lo, hi) for rng, lo, hi in spans if lo < hi and
                       t in {s.target for s in N.assignments(rng.body)}] for t in mine}
    ahead = 1 if sweep.direction == "forward" else -1
    before = {t: defined.get(t, ()) for t in mine}
    done: list[tuple[int, int, set]] = []        # earlier blocks of the sweep (same level)
    for rng, lo, hi in spans:
        here: set[str] = set()
        where = "in this sweep" if rng.every else f"in 'sp.levels({rng.start}, {rng.stop})'"
        for stmt in rng.body:
            for reads, target in _stmt_reads(stmt):
                for access in reads:
                    if access.name in mine:
                        now = [(a, b) for a, b, names in done if access.name in names]
                        _check_own(access, rng, lo, hi, axis, ahead, dims, before,
                                   assigned_by, here, now, sweep.direction, where)
                    else:
                        need(access, axis, lo, hi, where)
                if target is not None:
                    here.add(target)
        done.append((lo, hi, here))
    for t in mine:
        if before[t] is None:
            continue                      # defined everywhere before: still defined everywhere
        earlier = before[t][1] if before[t] else []
        defined[t] = (axis, earlier + assigned_by[t])


def _check_own(access, rng, lo, hi, axis, ahead, dims, before, assigned_by, here, now,
               direction, block) -> None:
    """A read of a temporary that this sweep assigns."""
    dim = dims[axis]
    o = access.offset[axis]
    where = _text(access, dims)
    if any(k for d, k in enumerate(access.offset) if d != axis):
        raise LevelError(
            f"'{where}' reads '{access.name}' in another column, but '{access.name}' is being "
            f"computed by this sweep along '{dim}'", access.loc,
            f"a sweep reads its own temporaries in the same column; compute '{access.name}' "
            f"before the sweep (or read it after the sweep) to use it at other '"
            f"{[d for d in dims if d != dim][0] if len(dims) > 1 else dim}' offsets")
    if o * ahead > 0:
        back = f"{dim} - {abs(o)}" if direction == "forward" else f"{dim} + {abs(o)}"
        other = "sp.backward" if direction == "forward" else "sp.forward"
        raise LevelError(
            f"'{where}' reads level {dim} {'+' if o > 0 else '-'} {abs(o)} of '{access.name}', "
            f"which this {direction} sweep has not computed yet", access.loc,
            f"a {direction} sweep reads its temporaries at levels already computed "
            f"('{access.name}[{back}]'); to use later levels, compute '{access.name}' in an "
            f"earlier sweep, or sweep the other way with {other}")
    prior = before[access.name]
    prior_intervals = list(_EVERYWHERE) if prior is None else (prior[1] if prior else [])
    if o == 0:
        ok = access.name in here or _covers(prior_intervals + now, lo, hi)
    else:
        ok = _covers(prior_intervals + assigned_by[access.name], lo + o, hi + o)
    if not ok:
        missing = "at this level yet" if o == 0 else "at all the levels this range reads"
        raise LevelError(
            f"'{where}' {block} reads '{access.name}', which "
            f"is not computed {missing}", access.loc,
            f"assign '{access.name}' in this range before the read, or in a range of the sweep "
            f"that covers the levels read (e.g. start the range one level later and give the "
            f"first level(s) their own 'with sp.levels(...)')")
