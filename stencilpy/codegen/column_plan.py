"""The plan of a column stencil's blocked kernel, without llvmlite: phases, groups, where
each temporary lives (``ColumnPlan``), what a kernel is specialised for (``ColumnLayout``), its
argument block (``Slots``) and the storage dtypes.

``runtime/columns.py`` needs only this to find a compiled kernel in the cache (a warm start
imports no llvmlite and lowers nothing); ``codegen/columns.py`` lowers the plan on a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.codegen.sweeps import reads, segments, version_reassignments
from stencilpy.ir import nodes as N
from stencilpy.ir.types import concrete, expr_type

ENTRY = "sp_columns"
#: the axis length whose level runs ``plan_columns`` assumes when given none
PLAN_LEVELS = 1000


# -- the plan: phases, groups, storage -------------------------------------------------------

@dataclass(frozen=True)
class ColumnPlan:
    """How a column stencil runs blocked (see the module docstring)."""

    stencil: N.Stencil                       # after ``version_reassignments``
    axis: int                                # the sweep axis (the level loop)
    blocked: bool                            # False: one block of every column, one thread
    phases: tuple                            # N.Assign | N.Sweep | None (the returns)
    groups: tuple[int, ...]                  # group of each phase
    storage: tuple[tuple[str, str], ...]     # (temporary, "register"|"ring:d"|"column"|"full")
    fused: bool                              # returns computed inside the last sweep

    def store_of(self, name: str) -> str:
        return dict(self.storage)[name]

    @property
    def n_groups(self) -> int:
        return self.groups[-1] + 1


def _phase_stmts(phase, stencil) -> list:
    if phase is None:
        return []
    return list(N.assignments([phase]))


def _phase_reads(phase, stencil) -> list[N.FieldAccess]:
    exprs = [s.value for s in _phase_stmts(phase, stencil)]
    if phase is None:
        exprs = list(stencil.returns)
    return [r for e in exprs for r in reads(e)]


def plan_columns(stencil: N.Stencil, pattern: tuple | None = None,
                 covered: bool = True) -> ColumnPlan:
    """The blocked plan of ``stencil`` (a column stencil) for the level runs ``pattern``
    (``run_pattern``; default: those of a long axis); ``covered``: the runs of the last
    sweep cover every level (else the returns are not fused into it)."""
    if pattern is None:
        pattern = run_pattern(stencil, (PLAN_LEVELS,) * len(stencil.dims))[0]
    stencil = version_reassignments(stencil)
    sweeps = [b for b in stencil.body if isinstance(b, N.Sweep)]
    axes = {s.axis for s in sweeps}
    blocked = len(axes) == 1
    axis = sweeps[0].axis
    phases = tuple(stencil.body) + (None,)
    temps = {s.target for s in N.assignments(stencil.body)}

    def horizontal(r):
        return any(o for d, o in enumerate(r.offset) if d != axis)

    # groups
    groups, g = [], 0
    assigned: set = set()            # temporaries assigned in the current group
    shifted: set = set()             # names the current group read at a horizontal offset
    for p, phase in enumerate(phases):
        rs = _phase_reads(phase, stencil)
        targets = {s.target for s in _phase_stmts(phase, stencil)}
        if p and (not blocked or any(r.name in assigned and horizontal(r) for r in rs)
                  or targets & shifted):
            g += 1
            assigned, shifted = set(), set()
        groups.append(g)
        assigned |= targets
        shifted |= {r.name for r in rs if horizontal(r)}

    # where each temporary is assigned and read
    assigned_in: dict[str, set] = {}
    read_in: dict[str, set] = {}
    for p, phase in enumerate(phases):
        for s in _phase_stmts(phase, stencil):
            assigned_in.setdefault(s.target, set()).add(p)
        for r in _phase_reads(phase, stencil):
            if r.name in temps:
                read_in.setdefault(r.name, set()).add(p)

    last = len(phases) - 2
    fused = (blocked and covered and last >= 0 and isinstance(phases[last], N.Sweep)
             and groups[last] == groups[-1]
             and all(not any(r.offset) for r in _phase_reads(None, stencil)
                     if last in assigned_in.get(r.name, ())))

    storage = []
    for t in sorted(temps):
        ps = assigned_in[t] | read_in.get(t, set())
        if not blocked or len({groups[p] for p in ps}) > 1:
            storage.append((t, "full"))
            continue
        kind = "column"
        only = assigned_in[t]
        readers = read_in.get(t, set())
        if fused:
            readers = {last if p == len(phases) - 1 else p for p in readers}
        if len(only) == 1 and isinstance(phases[min(only)], N.Sweep) and readers <= only:
            p = min(only)
            runs = pattern[sum(isinstance(q, N.Sweep) for q in phases[:p])]
            depth = _ring_depth(phases[p], runs, t, stencil if fused and p == last else None)
            if depth:
                kind = "register" if depth == 1 else f"ring:{depth}"
        storage.append((t, kind))
    return ColumnPlan(stencil, axis, blocked, phases, tuple(groups), tuple(storage), fused)


def _ring_depth(sweep: N.Sweep, runs: tuple, t: str, returns_of) -> int:
    """1 + the deepest level already computed at which ``sweep`` reads ``t``, over its
    ``runs`` (the active ranges of each); 0 where ``t`` is read (by the sweep, or by the
    fused returns ``returns_of``) at the current level before a run assigns it, or at a
    level not yet computed."""
    back = -1 if sweep.direction == "forward" else 1
    returned = returns_of is not None and \
        any(r.name == t for e in returns_of.returns for r in reads(e))
    depth = 1
    for active in runs:
        seen: set = set()
        for s in (s for j in active for s in sweep.ranges[j].body):
            for r in reads(s.value):
                if r.name != t:
                    continue
                lev = r.offset[sweep.axis]
                if lev == 0 and t not in seen or lev * back < 0:
                    return 0
                depth = max(depth, abs(lev) + 1)
            seen.add(s.target)
        if returned and t not in seen:
            return 0
    return depth


# -- the layout a kernel is specialised for ---------------------------------------------------

@dataclass(frozen=True)
class FieldLayout:
    name: str
    dtype: str
    broadcast: tuple[bool, ...]          # per axis: no index along it (stride 0, no table)
    inner: str                           # the fastest axis: "unit" | "bcast" | "strided"
    #: per axis: its table has -1 entries ("constant": reads land on the fill row); where
    #: False the kernel selects no fill row along that axis
    outside: tuple[bool, ...] = ()


@dataclass(frozen=True)
class ColumnLayout:
    """What one column kernel is specialised for (nothing of the shape but its pattern)."""

    ndim: int
    halo: tuple[tuple[int, int], ...]
    fields: tuple[FieldLayout, ...]
    scalars: tuple[tuple[str, str], ...]        # (name, "bool" | "int" | "float")
    temps: tuple[tuple[str, str], ...]          # (name, dtype str), sorted
    outputs: tuple[str, ...]                    # dtype str per return
    runs: tuple[tuple[tuple[int, ...], ...], ...]   # per sweep: the active ranges of each run
    #: the outputs' interior row segments use streaming (non-temporal) stores: the call
    #: touches more bytes than the caches hold (``launch.wants_streaming``)
    stream: bool = False

    def text(self) -> str:
        return repr(self)


def run_pattern(stencil: N.Stencil, domain: tuple) -> tuple:
    """``ColumnLayout.runs`` and the level cuts ``(lo, hi)`` of each run, for ``domain``."""
    pattern, cuts = [], []
    for s in stencil.body:
        if isinstance(s, N.Sweep):
            runs = segments(s, domain[s.axis])
            pattern.append(tuple(a for _, _, a in runs))
            cuts.append(tuple((lo, hi) for lo, hi, _ in runs))
    return tuple(pattern), tuple(cuts)


# -- the argument block -------------------------------------------------------------------------

class Slots:
    """Slot numbers of the i64 argument block (the runtime fills the same numbers)."""

    def __init__(self, layout: ColumnLayout, plan: ColumnPlan):
        n = layout.ndim
        self.next = 0

        def take(k=1):
            first = self.next
            self.next += k
            return first
        self.counter, self.group, self.width, self.rows = take(), take(), take(), take()
        self.threads = take()
        self.domain = take(n)
        self.field = {}
        for f in layout.fields:          # data, fill row, strides[n], tables[n]
            self.field[f.name] = (take(), take(), take(n), take(n))
        self.full = {t: take() for t, k in plan.storage if k == "full"}
        self.buffer = {t: take() for t, k in plan.storage if k == "column" or k.startswith("ring")}
        self.outputs = [take() for _ in layout.outputs]
        self.scalars = {name: take() for name, _ in layout.scalars}
        self.cuts = [take(2 * len(r)) for r in layout.runs]
        self.size = self.next


def via_output(plan: ColumnPlan, dtypes: dict, layout: ColumnLayout) -> dict:
    """``{temporary: output index}`` of the ring temporaries kept in an output instead of a
    ring buffer: returned as they are (``return x``, same dtype) by returns fused into the
    last sweep, which writes the output at every level it computes; the sweep's reads of
    ``x`` at levels already computed then read the output there (as C would: one store per
    point instead of two; 80 x 64 x 64 Thomas, 1 thread: the ring costs gcc's loop 12%).
    Only where the fastest axis is the last (the output's rows have unit stride)."""
    if not (plan.blocked and plan.fused) or layout.stream:   # streamed: not in the cache
        return {}
    others = [d for d in range(layout.ndim) if d != plan.axis]
    if others and others[-1] != layout.ndim - 1:
        return {}
    storage, found = dict(plan.storage), {}
    for j, e in enumerate(plan.stencil.returns):
        if not isinstance(e, N.FieldAccess) or any(e.offset) or e.name in found:
            continue
        if storage.get(e.name, "").startswith("ring:") and \
                dtypes[e.name] == np.dtype(layout.outputs[j]):
            found[e.name] = j
    return found


def storage_types(stencil: N.Stencil, types: dict) -> dict:
    """The dtype of each temporary's storage: NumPy's promotion of all its assignments."""
    current = dict(types)
    storage: dict[str, np.dtype] = {}
    for stmt in N.assignments(stencil.body):
        t = concrete(expr_type(stmt.value, current))
        storage[stmt.target] = t if stmt.target not in storage else \
            np.result_type(storage[stmt.target], t)
        current[stmt.target] = storage[stmt.target]
    return storage
