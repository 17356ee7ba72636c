"""Column stencils (``with sp.forward/backward`` sweeps) -> one blocked llvmlite function.

The body is cut into *phases* (a parallel statement, a sweep, the returns) and the phases
into *groups*: a new group starts where a phase reads, at a horizontal offset (any axis
but the sweep axis), a temporary an earlier phase of the group assigned, or reassigns a
name the group read at a horizontal offset.  Within a group every phase reads the group's
own temporaries in the same column, so the group runs column block by column block::

    for group g (one round of threads each):          (the caller's loop: a barrier between)
      while (c = atomic counter++) < blocks:          (threads claim blocks of columns)
        rows [r0, r1) of the outer axes x [i0, i1) of the fastest axis
        for phase in g:
          for level k (sweep: its runs, in its direction; else every level):
            for row r in [r0, r1):  row pointers (boundary tables of the other axes)
              for i in [i0, i1):    the statements; SIMD over columns
                                    (edges of the fastest axis: scalar, table lookups)

Storage of a temporary (``ColumnPlan.storage``), the cheapest that is correct:

    register   assigned and read in one sweep only, at the current level after its
               assignment: an SSA value of the loop body
    ring:d     assigned in one sweep, read there only at the current and the d - 1 levels
               already computed: a per-block buffer of d levels x block columns
    column     read only in its group, in the same column: a per-block buffer of all
               levels x block columns
    full       read by a later group (at a horizontal offset): an array of the box

The returns are computed inside the last sweep of the last group (at the end of each
level) when they read that sweep's temporaries at the current point only.  Fields are read
in place through per-axis index tables (box position -> the field's own index, or -1 for
the "constant" fill value), built by the reference's own padding rule.  Strides, lengths,
level cuts and block sizes are run-time arguments, so one kernel serves every shape whose
level runs have the same pattern.

    define void @sp_columns(i64* %block)    ; the worker ABI of runtime/threads.py
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.kernel import _Attributes
from stencilpy.codegen.loops import ceil_div, claim_loop, const, for_range, smax, smin
from stencilpy.codegen.stream import sfence, stream_buffers, streamed_segment
from stencilpy.codegen.column_plan import (
    ENTRY, ColumnLayout, ColumnPlan, FieldLayout, Slots, via_output)
from stencilpy.codegen.sweeps import reads
from stencilpy.codegen.target import CPU
from stencilpy.codegen.types import F64, I64, concrete, memory_type
from stencilpy.ir import nodes as N

_I64P = I64.as_pointer()
_TABLES = "tables@"          # the alias scope of the index tables


# -- lowering -----------------------------------------------------------------------------------

class _Kernel:
    def __init__(self, plan: ColumnPlan, types: dict, layout: ColumnLayout):
        self.plan, self.types, self.layout = plan, types, layout
        self.stencil = plan.stencil
        self.slots = Slots(layout, plan)
        self.n = layout.ndim
        self._axes(plan.axis)
        self.layout_inner = self.inner          # the axis FieldLayout.inner describes
        self.module = ir.Module(name=f"sp_columns_{self.stencil.name}")
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [_I64P]), ENTRY)
        exprs = [s.value for s in N.assignments(self.stencil.body)] + list(self.stencil.returns)
        fn.attributes = _Attributes(CPU.function_attributes(exprs))    # the vector width
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.blk = fn.args[0]
        self.fields = {f.name: f for f in layout.fields}
        self.dtypes = {f.name: np.dtype(f.dtype) for f in layout.fields}
        self.dtypes.update({t: np.dtype(dt) for t, dt in layout.temps})
        self.storage = dict(plan.storage)
        self.memo: dict = {}
        self.via_output = via_output(plan, self.dtypes, layout)
        arrays = [f.name for f in layout.fields] + \
            [t for t, k in plan.storage if k != "register"] + \
            [f"out@{j}" for j in range(len(layout.outputs))] + [_TABLES] + \
            sorted(_level_scopes(plan, self.via_output))
        self.scope, self.noalias = _alias_scopes(self.module, arrays)
        self.in_sweep = None             # the sweep (its index) the level lowered belongs to

    # -- block slots ------------------------------------------------------------------------

    def _slot(self, k: int):
        return self.b.load(self.b.gep(self.blk, [const(k)]))

    def _ptr(self, k: int, dtype):
        return self.b.inttoptr(self._slot(k), memory_type(dtype).as_pointer())

    def _load_block(self) -> None:
        b, s, n = self.b, self.slots, self.n
        self.counter = b.inttoptr(self._slot(s.counter), _I64P)
        self.group = self._slot(s.group)
        self.W, self.R = self._slot(s.width), self._slot(s.rows)
        self.T = smax(b, self._slot(s.threads), const(1))
        self.B = b.mul(self.W, self.R)
        self.dom = [self._slot(s.domain + d) for d in range(n)]
        self.box = [b.add(self.dom[d], const(lo + hi))
                    for d, (lo, hi) in enumerate(self.layout.halo)]
        self.fld = {}
        for f in self.layout.fields:
            data, fill, strides, tables = s.field[f.name]
            dt = np.dtype(f.dtype)
            self.fld[f.name] = (self._ptr(data, dt), self._ptr(fill, dt),
                                [self._slot(strides + d) for d in range(n)],
                                [b.inttoptr(self._slot(tables + d), _I64P) for d in range(n)])
        self.full = {t: self._ptr(k, self.dtypes[t]) for t, k in s.full.items()}
        self.buf = {t: self._ptr(k, self.dtypes[t]) for t, k in s.buffer.items()}
        self.outs = [self._ptr(k, np.dtype(dt)) for k, dt in zip(s.outputs, self.layout.outputs)]
        self.scalars = {}
        for name, tname in self.layout.scalars:
            bits = self._slot(s.scalars[name])
            self.scalars[name] = {"float": lambda v: b.bitcast(v, F64),
                                  "int": lambda v: v,
                                  "bool": lambda v: b.trunc(v, ir.IntType(1))}[tname](bits)
        self.cuts = [[(self._slot(first + 2 * j), self._slot(first + 2 * j + 1))
                      for j in range(len(r))] for first, r in zip(s.cuts, self.layout.runs)]
        self.box_strides = self._contiguous(self.box)
        self.dom_strides = self._contiguous(self.dom)

    def _contiguous(self, dims):
        strides, acc = [None] * self.n, const(1)
        for d in reversed(range(self.n)):
            strides[d] = acc
            acc = self.b.mul(acc, dims[d])
        return strides

    # -- the whole kernel -------------------------------------------------------------------

    def lower(self) -> ir.Module:
        self._load_block()
        b = self.b
        if self._streams():
            self.stream_bufs = stream_buffers(b, [memory_type(np.dtype(dt))
                                                  for dt in self.layout.outputs],
                                              self._out_size())
        done = b.append_basic_block("done")
        switch = b.switch(self.group, done)
        for g in range(self.plan.n_groups):
            block = b.append_basic_block(f"group{g}")
            switch.add_case(const(g), block)
            b.position_at_end(block)
            self._group(g)
            b.branch(done)
        b.position_at_end(done)
        if self._streams():
            sfence(b)
        b.ret_void()
        return self.module

    def _streams(self) -> bool:
        """Streaming stores for the outputs: asked for, one itemsize, rows of unit stride."""
        outs = self.layout.outputs
        others = [d for d in range(self.n) if d != self.plan.axis]
        return self.layout.stream and self.plan.blocked and bool(outs) and \
            bool(others) and others[-1] == self.n - 1 and \
            len({np.dtype(dt).itemsize for dt in outs}) == 1

    def _out_size(self) -> int:
        return np.dtype(self.layout.outputs[0]).itemsize

    def _columns_of(self, g: int):
        """``(lo, hi)`` of the columns group ``g`` computes, per axis: the box, except the
        last group (the domain: its temporaries are read in the same column only)."""
        last = g == self.plan.n_groups - 1
        lo = [const(self.layout.halo[d][0]) if last else const(0) for d in range(self.n)]
        hi = [self.b.add(lo[d], self.dom[d]) if last else self.box[d] for d in range(self.n)]
        return lo, hi

    def _axes(self, axis: int) -> None:
        """The level axis, the fastest of the others and the rest, for the code that follows."""
        self.axis = axis
        others = [d for d in range(self.n) if d != axis]
        self.inner = others[-1] if others else None
        self.outer = others[:-1]

    def _group(self, g: int) -> None:
        b = self.b
        lo, hi = self._columns_of(g)
        self.in_domain = g == self.plan.n_groups - 1     # its columns: the domain's only
        if not self.plan.blocked:       # sweeps along several axes: one block, the phase's axis
            phase = next(q for q, gq in zip(self.plan.phases, self.plan.groups) if gq == g)
            self._axes(phase.axis if isinstance(phase, N.Sweep) else self.plan.axis)
        if self.inner is None:
            ilo, ihi, W = const(0), const(1), const(1)
        else:
            ilo, ihi, W = lo[self.inner], hi[self.inner], self.W
        nrows = const(1)
        for d in self.outer:
            nrows = b.mul(nrows, b.sub(hi[d], lo[d]))
        if not self.plan.blocked:       # every column in one block (all temporaries "full")
            W = smax(b, b.sub(ihi, ilo), const(1))
            self.W, self.R = W, smax(b, nrows, const(1))
            self.B = b.mul(self.W, self.R)
        nbi = ceil_div(b, smax(b, b.sub(ihi, ilo), const(0)), W)
        nbr = ceil_div(b, nrows, self.R)
        # claim c -> block (c mod T) * per + c / T (T threads, per = ceil(blocks / T)): the
        # threads start at T distant blocks and each goes on with the next ones, so blocks
        # next to each other in memory (sharing the cache line at their border) rarely run
        # at the same time on two threads; the shared counter still balances the load
        nb = b.mul(nbi, nbr)
        T = self.T if self.plan.blocked else const(1)
        per = ceil_div(b, nb, T)
        with claim_loop(b, self.counter, b.mul(T, per)) as claim:
            c = b.add(b.mul(b.srem(claim, T), per), b.sdiv(claim, T))
            ok = b.icmp_signed("<", c, nb)
            with b.if_then(ok):
                self._block(g, c, nbi, W, ilo, ihi, nrows, lo, hi)

    def _block(self, g, c, nbi, W, ilo, ihi, nrows, lo, hi) -> None:
        """Block ``c`` of group ``g``: its phases."""
        b = self.b
        i0 = b.add(ilo, b.mul(b.srem(c, nbi), W))
        i1 = smin(b, b.add(i0, W), ihi)
        r0 = b.mul(b.sdiv(c, nbi), self.R)
        r1 = smin(b, b.add(r0, self.R), nrows)
        blk = _Block(i0, i1, r0, r1, lo, hi)
        for p, phase in enumerate(self.plan.phases):
            if self.plan.groups[p] != g:
                continue
            if phase is None:
                if not self.plan.fused:
                    self._returns_phase(blk)
            elif isinstance(phase, N.Sweep):
                fused = self.plan.fused and p == len(self.plan.phases) - 2
                self._sweep_phase(blk, phase, sum(isinstance(q, N.Sweep) for q in
                                                  self.plan.phases[:p]), fused)
            else:
                self._parallel_phase(blk, phase)

    # -- phases -------------------------------------------------------------------------------

    def _parallel_phase(self, blk, stmt: N.Assign) -> None:
        a = self.axis
        with for_range(self.b, const(0), self.box[a], name="lev") as k:
            self._level(blk, k, [stmt], False)

    def _returns_phase(self, blk) -> None:
        a, h = self.axis, self.layout.halo[self.axis][0]
        with for_range(self.b, const(h), self.b.add(const(h), self.dom[a]), name="lev") as k:
            self._level(blk, k, [], True)

    def _sweep_phase(self, blk, sweep: N.Sweep, index: int, fused: bool) -> None:
        b, h = self.b, self.layout.halo[sweep.axis][0]
        runs = list(zip(self.layout.runs[index], self.cuts[index]))
        if sweep.direction == "backward":
            runs = runs[::-1]
        self.in_sweep = index
        for active, (lo, hi) in runs:
            stmts = [s for j in active for s in sweep.ranges[j].body]
            with for_range(b, const(0), b.sub(hi, lo), name="lev") as j:
                if sweep.direction == "forward":
                    k = b.add(b.add(lo, j), const(h))
                else:
                    k = b.sub(b.add(hi, const(h - 1)), j)
                self._level(blk, k, stmts, fused)
        self.in_sweep = None

    # -- one level of a block -------------------------------------------------------------------

    def _level(self, blk, k, stmts, returns: bool) -> None:
        """Every column of the block at box level ``k``: ``stmts``, then the returns."""
        b = self.b
        exprs = [s.value for s in stmts] + (list(self.stencil.returns) if returns else [])
        accesses = {(r.name, r.offset) for e in exprs for r in reads(e)}
        ring_slots = self._ring_slots(k, accesses, stmts)
        with for_range(b, blk.r0, blk.r1, name="row") as r:
            coord = {self.axis: k}
            rest = r
            for n, d in enumerate(reversed(self.outer)):
                if n == len(self.outer) - 1:      # the outermost: rest < its length
                    coord[d] = b.add(blk.lo[d], rest)
                    break
                length = b.sub(blk.hi[d], blk.lo[d])
                coord[d] = b.add(blk.lo[d], b.srem(rest, length))
                rest = b.sdiv(rest, length)
            local = b.sub(b.mul(b.sub(r, blk.r0), self.W), blk.i0)   # + i: column in block
            rows = self._row_pointers(coord, k, accesses, ring_slots, local, stmts, returns)
            if self.inner is None:
                self._point(const(0), rows, stmts, returns, True)
            else:
                lo_int, hi_int = self._interior(accesses)
                a_ = smax(b, blk.i0, smin(b, blk.i1, lo_int))
                z_ = smax(b, a_, smin(b, blk.i1, hi_int))
                with for_range(b, blk.i0, a_, name="edge", scalar=True) as i:
                    self._point(i, rows, stmts, returns, True)
                if returns and self._streams():
                    self._streamed(a_, z_, rows, stmts)
                else:
                    with for_range(b, a_, z_, name="i") as i:
                        self._point(i, rows, stmts, returns, False)
                with for_range(b, z_, blk.i1, name="edge", scalar=True) as i:
                    self._point(i, rows, stmts, returns, True)

    def _streamed(self, lo, hi, rows, stmts) -> None:
        """Columns [lo, hi) of a row whose returns are written with streaming stores
        (``codegen/stream.py``: an aligning peel, chunks through an L1 buffer, the rest)."""
        b, h = self.b, self.layout.halo[self.inner][0]
        outs = [b.gep(rows[("out", j)], [const(-h)]) for j in range(len(self.outs))]
        dts = [np.dtype(dt) for dt in self.layout.outputs]

        def store(k, value, ptr):
            if dts[k].kind == "b":
                value = b.zext(value, ir.IntType(8))
            b.store(value, ptr)
        streamed_segment(b, lo, hi, outs, self.stream_bufs, self._out_size(),
                         lambda i: self._point(i, rows, stmts, True, False, store_returns=False),
                         store)

    def _interior(self, accesses):
        """``[lo, hi)`` of the fastest axis where every read lands inside its field's own
        points (no table) and inside the box (temporaries)."""
        b, d = self.b, self.inner
        hlo = self.layout.halo[d][0]
        lo, hi = const(hlo), b.add(const(hlo), self.dom[d])
        for name, off in accesses:
            o = off[d]
            if name in self.fields and self.fields[name].broadcast[d]:
                continue
            if o < 0:
                lo = smax(b, lo, const(hlo - o))
            if o > 0:
                hi = smin(b, hi, b.sub(b.add(const(hlo), self.dom[d]), const(o)))
        return lo, hi

    def _ring_slots(self, k, accesses, stmts):
        """Per ring temporary and level offset: the ring slot ``(k + o) mod depth``."""
        b, slots = self.b, {}
        wanted = {(n, off[self.axis]) for n, off in accesses} | {(s.target, 0) for s in stmts}
        for name, o in wanted:
            kind = self.storage.get(name, "")
            if kind.startswith("ring:"):
                depth = int(kind[5:])
                slots[(name, o)] = b.srem(b.add(k, const(o + depth * (1 + abs(o)))), const(depth))
        return slots

    def _clamped(self, x, n):
        b = self.b
        return smin(b, smax(b, x, const(0)), b.sub(n, const(1)))

    def _row_pointers(self, coord, k, accesses, ring_slots, local, stmts, returns):
        """Pointers to column ``i = 0`` of this row, per (name, offset of the other axes)."""
        b, rows = self.b, {}
        inner = self.inner

        def key(off):
            return tuple(0 if d == inner else o for d, o in enumerate(off))

        for name, off in sorted(accesses | {(s.target, (0,) * self.n) for s in stmts}):
            kk = (name, key(off))
            if kk in rows:
                continue
            if name in self.fields:
                rows[kk] = self._field_row(name, coord, off)
                continue
            kind = self.storage[name]
            if name in self.via_output:
                rows[kk] = self._output_row(self.via_output[name], coord, off[self.axis])
                continue
            if kind == "full":
                total = const(0)
                for d, c in coord.items():
                    p = self._clamped(b.add(c, const(off[d])), self.box[d])
                    total = b.add(total, b.mul(p, self.box_strides[d]))
                rows[kk] = b.gep(self.full[name], [total])
            elif kind == "column":
                lev = self._clamped(b.add(k, const(off[self.axis])), self.box[self.axis])
                rows[kk] = b.gep(self.buf[name], [b.add(b.mul(lev, self.B), local)])
            elif kind.startswith("ring:"):
                slot = ring_slots[(name, off[self.axis])]
                rows[kk] = b.gep(self.buf[name], [b.add(b.mul(slot, self.B), local)])
        if returns:
            total = const(0)
            for d, c in coord.items():
                p = b.sub(c, const(self.layout.halo[d][0]))
                total = b.add(total, b.mul(p, self.dom_strides[d]))
            for j, out in enumerate(self.outs):
                rows[("out", j)] = b.gep(out, [total])
        return rows

    def _output_row(self, j: int, coord: dict, lev: int):
        """Output ``j``'s row at level offset ``lev``, indexed by box column (the storage of
        a temporary kept in the output: see ``column_plan.via_output``)."""
        b, total = self.b, const(0)
        for d, c in coord.items():
            p = b.sub(b.add(c, const(lev)) if d == self.axis else c,
                      const(self.layout.halo[d][0]))
            total = b.add(total, b.mul(p, self.dom_strides[d]))
        if self.inner is not None:
            total = b.sub(total, const(self.layout.halo[self.inner][0]))
        return b.gep(self.outs[j], [total])

    def _field_row(self, name, coord, off):
        """The field's row: its own index per axis from the tables (broadcast axes: none);
        the fill row where a table says -1 ("constant")."""
        b = self.b
        data, fill, strides, tables = self.fld[name]
        f = self.fields[name]
        total, outside = const(0), ir.Constant(ir.IntType(1), 0)
        selects = False
        for d, c in coord.items():
            if f.broadcast[d]:
                continue
            pos = self._clamped(b.add(c, const(off[d])), self.box[d])
            src = self._table(tables[d], pos)
            if self._outside(f, d):
                selects = True
                outside = b.or_(outside, b.icmp_signed("<", src, const(0)))
            total = b.add(total, b.mul(src, strides[d]))
        row = b.gep(data, [total])
        return b.select(outside, fill, row) if selects else row

    @staticmethod
    def _outside(f: FieldLayout, d: int) -> bool:
        """Whether field ``f``'s table along axis ``d`` may say -1 (the fill value)."""
        return not f.outside or f.outside[d]

    # -- one point ----------------------------------------------------------------------------

    def _load(self, ptr, dt, array: str):
        """A load from ``array``, which no store of this kernel to another array touches
        (scoped no-alias metadata: no run-time alias checks before the vector loops)."""
        value = self.b.load(ptr)
        value.set_metadata("alias.scope", self.scope[array])
        value.set_metadata("noalias", self.noalias[array])
        if concrete(dt).kind == "b":
            return self.b.icmp_unsigned("!=", value, ir.Constant(ir.IntType(8), 0))
        return value

    def _table(self, table, pos):
        """An index table entry: read-only memory no store touches (so LLVM may hoist the
        lookups of the level axis out of the row loop)."""
        value = self.b.load(self.b.gep(table, [pos]))
        value.set_metadata("alias.scope", self.scope[_TABLES])
        value.set_metadata("noalias", self.noalias[_TABLES])
        return value

    def _store(self, value, ptr, dt, array: str) -> None:
        if concrete(dt).kind == "b":
            value = self.b.zext(value, ir.IntType(8))
        st = self.b.store(value, ptr)
        st.set_metadata("alias.scope", self.scope[array])
        st.set_metadata("noalias", self.noalias[array])

    def _point(self, i, rows, stmts, returns: bool, edge: bool,
               store_returns: bool = True) -> list:
        """The statements (then the returns) at column ``i`` of the current row; the values
        of the returns (stored in the outputs unless ``store_returns`` is False)."""
        b = self.b
        values: dict = {}
        inner = self.inner

        def key(off):
            return tuple(0 if d == inner else o for d, o in enumerate(off))

        def load_fn(name, off):
            if not any(off) and name in values:
                return values[name]
            row = rows[(name, key(off))]
            o = off[inner] if inner is not None else 0
            if name in self.fields:
                return self._field_load(name, row, i, o, edge)
            kind = self.storage[name]
            dt = self.dtypes[name]
            if kind == "full":
                if inner is None:
                    return self._load(row, dt, name)
                p = b.add(i, const(o))
                if edge:
                    p = self._clamped(p, self.box[inner])
                return self._load(b.gep(row, [b.mul(p, self.box_strides[inner])]), dt, name)
            if name in self.via_output:
                scope = _level_scope(f"out@{self.via_output[name]}", off[self.axis],
                                     self.in_sweep)
                return self._load(b.gep(row, [i]), dt, scope)
            return self._load(b.gep(row, [i]), dt, self._scope_of(name, off[self.axis]))

        for s in stmts:
            lower = ExprLowerer(b, CPU, self.types, load_fn, self.scalars, type_memo=self.memo)
            dt = self.dtypes[s.target]
            v = lower.lower_as(s.value, dt)
            values[s.target] = v
            kind = self.storage[s.target]
            if kind == "register" or s.target in self.via_output:
                continue                  # (kept in the output: stored by the returns)
            row = rows[(s.target, (0,) * self.n)]
            if kind == "full" and inner is not None:
                ptr = b.gep(row, [b.mul(i, self.box_strides[inner])])
                scope = s.target
            else:
                ptr = b.gep(row, [i]) if kind != "full" else row
                scope = self._scope_of(s.target, 0)
            self._store(v, ptr, dt, scope)
        results = []
        if returns:
            for j, (e, dt) in enumerate(zip(self.stencil.returns, self.layout.outputs)):
                lower = ExprLowerer(b, CPU, self.types, load_fn, self.scalars, type_memo=self.memo)
                dt = np.dtype(dt)
                v = lower.lower_as(e, dt)
                results.append(v)
                if not store_returns:
                    continue
                row = rows[("out", j)]
                if inner is not None:
                    h = self.layout.halo[inner][0]
                    row = b.gep(row, [b.mul(b.sub(i, const(h)), self.dom_strides[inner])])
                kept = j in self.via_output.values() and self.in_sweep is not None
                self._store(v, row, dt, _level_scope(f"out@{j}", 0, self.in_sweep) if kept
                            else f"out@{j}")
        return results

    def _scope_of(self, name: str, lev: int) -> str:
        """The alias scope of a per-block buffer's access at level offset ``lev``: one per
        offset inside a sweep (the levels of a ring or column buffer a sweep touches at one
        level are disjoint rows; see ``_level_scopes``), else the buffer's own."""
        kind = self.storage.get(name, "")
        if self.in_sweep is not None and (kind == "column" or kind.startswith("ring:")):
            return _level_scope(name, lev, self.in_sweep)
        return name

    def _field_load(self, name, row, i, o, edge):
        b, f = self.b, self.fields[name]
        dt = self.dtypes[name]
        if self.inner is None or f.broadcast[self.inner] or \
                f.inner == "bcast" and self.inner == self.layout_inner:
            return self._load(row, dt, name)
        _, fill, strides, tables = self.fld[name]
        unit = f.inner == "unit" and self.inner == self.layout_inner
        stride = const(1) if unit else strides[self.inner]
        if not edge or (o == 0 and self.in_domain):      # inside the field: no table
            idx = b.sub(b.add(i, const(o)), const(self.layout.halo[self.inner][0]))
            return self._load(b.gep(row, [b.mul(idx, stride)]), dt, name)
        pos = self._clamped(b.add(i, const(o)), self.box[self.inner])
        src = self._table(tables[self.inner], pos)
        if not self._outside(f, self.inner):
            return self._load(b.gep(row, [b.mul(src, stride)]), dt, name)
        inside = b.icmp_signed(">=", src, const(0))
        value = self._load(b.gep(row, [b.mul(smax(b, src, const(0)), stride)]), dt, name)
        return b.select(inside, value, self._load(fill, dt, name))


def _level_scope(name: str, lev: int, sweep: int) -> str:
    return f"{name}@lev{lev}@sweep{sweep}"


def _family(scope: str) -> str:
    return scope.split("@lev")[0]


def _disjoint(a: str, o: str) -> bool:
    """Whether accesses of scopes ``a`` and ``o`` never touch the same memory: different
    arrays, or two level scopes of one buffer in one sweep at different level offsets."""
    if _family(a) != _family(o):
        return True
    return a != o and "@lev" in a and "@lev" in o and \
        a.rsplit("@sweep", 1)[1] == o.rsplit("@sweep", 1)[1]


def _level_scopes(plan: ColumnPlan, via_output: dict) -> set:
    """``t@lev<o>@sweep<s>`` for every ring or column buffer ``t`` (or output kept as one,
    ``out@j``: ``column_plan.via_output``) and level offset ``o`` at which sweep ``s`` (or the returns
    fused into it) reads or writes it.  Within one level of a sweep those are different
    rows of the buffer wherever the sweep also writes it (at offset 0): a ring's slots
    ``(k + o) mod depth`` differ for offsets closer than its depth, and a sweep reads what
    it writes only at levels it has computed, where no clamp applies.  Telling LLVM so lets
    it vectorise ``cp = c / (b - a * cp[lev - 1])`` without run-time overlap checks."""
    buffered = {t for t, k in plan.storage if k == "column" or k.startswith("ring:")}
    kept = {t: f"out@{j}" for t, j in via_output.items()}
    found, index = set(), -1
    for p, phase in enumerate(plan.phases):
        if not isinstance(phase, N.Sweep):
            continue
        index += 1
        exprs = [(st.target, st.value) for st in N.assignments([phase])]
        if plan.fused and p == len(plan.phases) - 2:
            exprs += [(None, e) for e in plan.stencil.returns]
        for target, value in exprs:
            if target in buffered:
                found.add(_level_scope(kept.get(target, target), 0, index))
            for r in reads(value):
                if r.name in buffered:
                    found.add(_level_scope(kept.get(r.name, r.name), r.offset[phase.axis],
                                           index))
        if plan.fused and p == len(plan.phases) - 2:
            found |= {_level_scope(out, 0, index) for out in kept.values()}
    return found


def _alias_scopes(module: ir.Module, arrays: list) -> tuple[dict, dict]:
    """Per array, its ``!alias.scope`` list and its ``!noalias`` list (the scope of every
    array ``_disjoint`` from it: a buffer's own scope and its level scopes may alias, two
    level scopes of one buffer in one sweep may not), in one domain::

        !d = !{!d}            !s_k = !{!s_k, !d}
        load/store of array k: !alias.scope !{!s_k}, !noalias !{!s_j, j disjoint from k}
    """
    def node(operands, self_ref=False):     # not add_metadata: its cache hashes operands
        md = ir.values.MDValue(module, [], name=str(len(module.metadata)))
        md.operands = ((md,) if self_ref else ()) + tuple(operands)
        return md
    domain = node((), True)
    scopes = {a: node((domain,), True) for a in arrays}
    own = {a: node((scopes[a],)) for a in arrays}
    others = {a: node(tuple(scopes[o] for o in arrays if _disjoint(a, o))) for a in arrays}
    return own, others


@dataclass(frozen=True)
class _Block:
    i0: object
    i1: object
    r0: object
    r1: object
    lo: list
    hi: list


def lower_columns(plan: ColumnPlan, types: dict, layout: ColumnLayout) -> ir.Module:
    """The kernel of a column stencil (see the module docstring)."""
    return _Kernel(plan, types, layout).lower()


__all__ = ["lower_columns"]
