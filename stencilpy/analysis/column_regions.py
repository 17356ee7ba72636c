"""Where the outputs of a column stencil have a value along a sweep axis under "fill"/"valid".

A sweep carries values along its axis: ``s = s[lev - 1] + g`` has a value at level ``k`` only
if ``s`` has one at level ``k - 1``, so one level where a read reaches outside the arrays (``g =
u[lev + 1] - u[lev - 1]`` at level 0) leaves every later level of the recurrence without a
value. The halo (how far reads reach from one point) cannot see that: the footprint of a
recurrence grows with the level. So along the axis of a sweep, the output region is found by
walking the blocks on the call's true axis, mirroring the numpy reference
(``reference/columns.py``) projected on that axis: every name has, per box position of the
axis, whether it has a value there.

* A field has a value on its own ``[0, L)`` (a broadcast field everywhere); a read ``f[o]`` at
  box position ``i`` has one iff ``f`` has one at ``i + o`` inside the box.
* A parallel statement has a value where all its reads do; a sweep along the axis walks the
  levels in its order, exactly as the reference does (so a recurrence is exact, any depth).
* A sweep along *another* axis reads its temporaries in the same column, so along this axis a
  temporary of it has a value where every statement assigning it does (intersected until
  nothing changes): all its levels together, a subset of the truth at each level.

The region is where every output has a value; as everywhere, it must be one interval (a box
with the other axes, whose regions come from the halo: every point of the product has a value,
because each read's condition is a product of one interval per axis).
"""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.ir import nodes as N


@dataclass(frozen=True)
class CarryLoss:
    """The first read of a sweep's own temporary at another level that finds no value: what
    made a recurrence lose its value (for the error message)."""

    access: N.FieldAccess
    level: int              # the level being computed (domain index)
    direction: str


def _reads(expr):
    return [n for n in N.walk(expr) if isinstance(n, N.FieldAccess)]


def output_levels(stencil: N.Stencil, axis: int, n: int, lens: dict, halo: tuple[int, int]):
    """``(has, loss)``: per domain level ``k`` of ``axis`` (length ``n``), whether every output
    has a value there, and the first ``CarryLoss`` of the walk (None: no recurrence lost its
    value).  ``lens``: each non-broadcast field's length along ``axis``; ``halo``: the box's
    extension along it (``plan.halo[axis]``)."""
    before, after = halo
    size = before + n + after
    env: dict[str, list[bool]] = {}
    for p in stencil.param_names:
        if p in lens:
            env[p] = [0 <= i - before < lens[p] for i in range(size)]
        else:
            env[p] = [True] * size
    state = _Walk(env, axis, size, before)
    for block in stencil.body:
        if isinstance(block, N.Assign):
            env[block.target] = state.parallel(block.value)
        elif block.axis == axis:
            state.sweep_along(block, n)
        else:
            state.sweep_across(block)
    has = [True] * size
    for ret in stencil.returns:
        has = [a and b for a, b in zip(has, state.parallel(ret))]
    return has[before:before + n], state.loss


class _Walk:
    def __init__(self, env, axis, size, before):
        self.env, self.axis, self.size, self.before = env, axis, size, before
        self.loss: CarryLoss | None = None

    def _at(self, access: N.FieldAccess, i: int) -> bool:
        j = i + access.offset[self.axis]
        values = self.env.get(access.name)
        return values is not None and 0 <= j < self.size and values[j]

    def parallel(self, expr) -> list[bool]:
        reads = _reads(expr)
        return [all(self._at(r, i) for r in reads) for i in range(self.size)]

    def sweep_along(self, sweep: N.Sweep, n: int) -> None:
        spans = [(rng, *rng.bounds(n)) for rng in sweep.ranges]
        mine = {s.target for s in N.assignments((sweep,))}
        owned: set[str] = set()
        order = range(n - 1, -1, -1) if sweep.direction == "backward" else range(n)
        for k in order:
            i = self.before + k
            for stmt in [s for rng, lo, hi in spans if lo <= k < hi for s in rng.body]:
                value = True
                for r in _reads(stmt.value):
                    if not self._at(r, i):
                        value = False
                        if (self.loss is None and r.name in mine and r.offset[self.axis]
                                and r.name in owned):
                            self.loss = CarryLoss(r, k, sweep.direction)
                if stmt.target not in owned:
                    old = self.env.get(stmt.target)
                    self.env[stmt.target] = [False] * self.size if old is None else list(old)
                    owned.add(stmt.target)
                self.env[stmt.target][i] = value

    def sweep_across(self, sweep: N.Sweep) -> None:
        stmts = [s for rng in sweep.ranges for s in rng.body]
        for s in stmts:
            if s.target not in self.env:
                self.env[s.target] = [True] * self.size
        changed = True
        while changed:
            changed = False
            for s in stmts:
                value = self.parallel(s.value)
                old = self.env[s.target]
                new = [a and b for a, b in zip(old, value)]
                if new != old:
                    self.env[s.target], changed = new, True


def interval(has: list[bool]) -> tuple[int, int] | None:
    """``[lo, hi)`` if the True entries of ``has`` are one non-empty interval, else None."""
    idx = [k for k, h in enumerate(has) if h]
    if not idx or idx[-1] - idx[0] + 1 != len(idx):
        return None
    return idx[0], idx[-1] + 1
