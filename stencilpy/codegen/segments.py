"""The inner axis of one row of a stage: which points run which code.

::

    row_ok ? ([lo, a) remapped; [a, c) fast; [c, hi) remapped) : [lo, hi) remapped
      (with ghost rows of "extrapolate" outer axes: the row inside the fields ?
       the fast loop on plain row pointers and remapped points that remap only the
       inner index (a second remapped function) : the loop and the points combining
       three rows per ghost read)
      (no padding mode: [lo, hi) fast;  outputs in "fill" mode first store the fill
       value in [0, lo) and [hi, N) of the row)

* fast, outputs: a masked peel up to the first 64-byte-aligned store, then the loop
  LLVM vectorises, or the streamed segment (``codegen/stream.py``);
* fast, temporaries: the loop LLVM vectorises (the row buffer is in L1);
* remapped: a call of the stage's scalar *remapped function* ``stencil_safe_k``
  (``RemappedFunctions``), every read through ``codegen/boundary.py``.

The values of a point come from the target-neutral ``ExprLowerer`` with the loads of
``codegen/access.py`` (``FastLoads`` / ``RemappedLoads``).
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.access import (FastLoads, Frame, GhostRow, RemappedLoads, Rows,
                                      row_pointers, store_point)
from stencilpy.codegen.args import load_args
from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.hoist import invariant_roots, row_invariants
from stencilpy.codegen.loops import const, for_range, smax, smin
from stencilpy.codegen.stream import aligned_start, streamed_segment
from stencilpy.codegen.types import I64, concrete, store
from stencilpy.ir import nodes as N

#: peel each row's fast part up to a 64-byte-aligned output store address (outputs only:
#: a temporary's row buffer is in L1, where the peel's masked loop cost more than the
#: split stores it saves - hdiff 11% faster without it - and a quarter of the compile time)
ALIGN_STORES = True
#: That peel is one masked vector iteration.  Unlike the streamed segment's peel (scalar,
#: ``codegen/stream.py``), the line the masked store reaches into is written next with
#: ordinary stores: float64 1024^2 Laplacian, 1 thread, AMD EPYC Zen 4, masked 0.497 ms,
#: scalar 0.552 ms; 2 threads, float32 and 64^3 the same

#: Stages without temporaries or padding modes whose outputs are streamed: several rows of
#: axis 0 per step (2-D: rows, 3-D: planes, at each row of axis 1), their points computed in
#: one loop (the rows they share are loaded once) and streamed out together
#: (``InnerAxis.row_group``; 1: one row per step), the rows each step reads first prefetched
#: a little over a row ahead (``stream.group_distance``).  One core keeps more memory traffic in flight that
#: way.  AMD EPYC Zen 4 with AVX-512, Laplacians, one process, interleaved medians, 1 thread:
#: 2-D, two rows with 4 KiB prefetch / four rows with 16 KiB: float64 16384^2 164-168 /
#: 149-152 ms, 8192^2 40.6 / 37.8, 4096^2 9.66-9.78 / 10.1-10.2, 2048^2 2.50-2.66 /
#: 2.13-2.35; float32 16384^2 83.6 / 75.3, 8192^2 20.9 / 20.2, 4096^2 4.99 / 4.58, 2048^2
#: (in the L3) 1.17 / 1.23.  Four rows alone or 16 KiB alone gained half of it or none
#: (float64 16384^2: 156 and 156-157 ms; 8192^2: 40.5 and 40.4).  3-D, one plane with 4 KiB
#: / two planes with 16 KiB: 640^3 209-212 / 187-194 ms (four planes 216, three 200; 8 or
#: 12 KiB within 2% of 16), 400^3 49.8 / 44.8, 256^3 12.9-13.5 / 11.5-12.3, 128^3 (its
#: 16 MiB fit the L3) 1.44 / 1.32 in one run, 1.15-1.19 / 1.17-1.19 in two.  2 threads: the
#: same or up to 10% faster (640^3: 112 / 101 ms).  (On an earlier VM, with 4 KiB and a
#: masked peel, 3-D pairs measured 18% slower to 4% faster, and 3-D was left out.)
ROWS_PER_STEP_STREAMED = {2: 4, 3: 2}
#: the 2-D rows per step when the stage reads further than one row along axis 0: its steps
#: already read more rows, and four of them measured slower than two (8192^2 float64, 1 / 2
#: threads, two / four rows: 4th-order Laplacian 49.0 / 51.3 ms and 27.9 / 30.8; 5x5
#: weighted box filter 104 / 110 and 58.2 / 58.3; against the 9-point Laplacian, which
#: reads one row either side, 43.7 / 42.7)
WIDE_ROWS_PER_STEP_STREAMED = 2
#: the same with ordinary stores (2-D only): one row per step.  Grouping depends on where the
#: output lies relative to the input (4 KiB aliasing of the loads with the stores of the
#: other rows): float64 1024^2, 1 thread, output 16 / 80 / 528 / 2064 bytes past the input
#: modulo 4 KiB: one row 530 / 516 / 525 / 508 us, two 558 / 533 / 489 / 471 us, four 792 /
#: 806 / 481 / 370 us (the benchmark's arrays lie at the first offset)
ROWS_PER_STEP = 1


def rows_per_step(ctx: KernelContext) -> int:
    """Rows of axis 0 per step of a ``grouped`` stage of the kernel (1: not grouped; only a
    kernel whose one stage stores the returns is grouped)."""
    if not ctx.stream:
        return ROWS_PER_STEP if ctx.ndim == 2 else 1
    k = ROWS_PER_STEP_STREAMED.get(ctx.ndim, 1)
    if ctx.ndim == 2 and _reach_0(ctx) > 1:
        k = min(k, WIDE_ROWS_PER_STEP_STREAMED)
    return k


def _reach_0(ctx: KernelContext) -> int:
    """The furthest axis-0 offset the returns read (fields and temporaries read inline)."""
    seen, todo, reach = set(), list(ctx.spec.stencil.returns), 0
    while todo:
        for e in N.walk(todo.pop()):
            if isinstance(e, N.FieldAccess):
                reach = max(reach, abs(e.offset[0]) if e.offset else 0)
                if e.name in ctx.inline and e.name not in seen:
                    seen.add(e.name)
                    todo.append(ctx.inline[e.name])
    return reach



def stage_values(fr: Frame, stage, load, known: dict | None = None) -> list:
    """The values ``stage`` stores at the current point; ``load(name, offset)`` reads;
    ``known``: the row's invariant values (``codegen/hoist.py``)."""
    ctx = fr.ctx
    lower = ExprLowerer(fr.b, ctx.target, ctx.types, load, fr.args.scalars, ctx.inline,
                        ctx.type_memo, known)
    return [lower.lower_as(e, t) for e, t in zip(ctx.stage_exprs(stage), ctx.stage_types(stage))]


class InnerAxis:
    """Emits the inner axis of the rows of the body function."""

    def __init__(self, ctx: KernelContext, stream_bufs, remapped: RemappedFunctions):
        self.ctx = ctx
        self.stream_bufs = stream_bufs          # L1 buffers of the streamed segment, or None
        self.remapped = remapped

    def row(self, fr: Frame, stage, bounds, interior, idx: list, row_ok, anchor) -> None:
        """Points [lo, hi) = ``bounds`` of the row at outer indices ``idx``; ``interior``:
        the in-bounds points along the inner axis (None: not split); ``row_ok``: i1, the
        row's reads are in bounds along the outer axes; ``anchor``: see ``row_pointers``."""
        b, ctx = fr.b, self.ctx
        lo, hi = bounds
        rows = row_pointers(fr, stage, idx, anchor)
        if stage.target is None and ctx.spec.fills_inner:
            self._fill_strips(fr, rows.out, lo, hi)
        if not any(ctx.pad_axes):
            self._fast(fr, stage, lo, hi, rows)
            return
        if interior is None:
            a, c = lo, hi
        else:
            a = smin(b, smax(b, interior[0], lo), hi)
            c = smax(b, smin(b, interior[1], hi), a)
        a = b.select(row_ok, a, hi)
        c = b.select(row_ok, c, hi)
        ghosts = [r for r in rows.reads.values() if isinstance(r, GhostRow)]
        if not ghosts:
            self._parts(fr, stage, rows, idx, (lo, a, c, hi))
            return
        # with ghost rows (``access.GhostRow``) two versions of the row: every ghost row
        # inside (and the outer reads in bounds) ? plain row pointers, the remapped points
        # remapping only the inner index : the fast loop and the remapped points combining
        inside = row_ok
        for g in ghosts:
            inside = b.and_(inside, g.all_inside(b))
        plain = Rows({k: _pointer(v) for k, v in rows.reads.items()}, rows.target, rows.out)
        with b.if_else(inside, likely=True) as (then, otherwise):
            with then:
                self._parts(fr, stage, plain, idx, (lo, a, c, hi), rows_hold=True)
            with otherwise:
                self._parts(fr, stage, rows, idx, (lo, a, c, hi))

    def grouped(self, stage) -> bool:
        """Whether rows of ``stage`` go ``rows_per_step`` per step to ``row_group``: the outputs
        of a stage with no temporaries, no padding modes and no row invariants, streamed or
        stored with unit stride and one itemsize."""
        ctx = self.ctx
        return rows_per_step(ctx) > 1 and (ctx.stream or self._aligned_outputs(stage)) \
            and stage.target is None and not ctx.materialised \
            and not any(ctx.pad_axes) and not invariant_roots(ctx, ctx.stage_exprs(stage))

    def row_group(self, fr: Frame, stage, bounds, idxs: list, anchor) -> None:
        """Points [lo, hi) of several rows (outer indices ``idxs``) of a stage that is
        ``grouped``: one loop (or streamed segment) computes every row's point at each j and
        stores them all, when the rows' outputs share their alignment (else one row after
        the other).  Every point is computed as by ``row``: the results are the same bits."""
        b, ctx = fr.b, self.ctx
        lo, hi = bounds
        size = concrete(ctx.spec.outputs[0].dtype).itemsize
        group = [row_pointers(fr, stage, idx, anchor) for idx in idxs]
        if ctx.spec.fills_inner:
            for rows in group:
                self._fill_strips(fr, rows.out, lo, hi)
        first = b.ptrtoint(group[0].out[0], I64)
        same = ir.Constant(ir.IntType(1), 1)
        for rows in group[1:]:
            gap = b.sub(b.ptrtoint(rows.out[0], I64), first)
            same = b.and_(same, b.icmp_signed("==", b.and_(gap, const(63)), const(0)))
        with b.if_else(same, likely=True) as (then, otherwise):
            with then:
                if ctx.stream:
                    self._group_streamed(fr, stage, lo, hi, group, size)
                else:
                    self._group_points(fr, stage, lo, hi, group, size)
            with otherwise:
                for rows in group:
                    self._points(fr, stage, lo, hi, rows, {})

    def _group_streamed(self, fr: Frame, stage, lo, hi, group: list, size) -> None:
        """[lo, hi) of equally aligned rows: one streamed segment for all of them."""
        b, outs = fr.b, self.ctx.spec.outputs
        n = len(outs)
        streamed_segment(b, lo, hi, [p for rows in group for p in rows.out], self.stream_bufs,
                         size,
                         lambda j: [v for rows in group
                                    for v in stage_values(fr, stage, FastLoads(fr, rows, j))],
                         lambda k, v, p: store(b, v, p, outs[k % n].dtype),
                         [lead for rows in group for lead in self._lead_rows(rows)],
                         self.ctx.spec.interleave, grouped=True)

    def _group_points(self, fr: Frame, stage, lo, hi, group: list, size) -> None:
        """[lo, hi) of equally aligned rows with ordinary stores: a masked peel up to the
        first 64-byte-aligned store, then one loop LLVM vectorises."""
        b = fr.b

        def every(j):
            for rows in group:
                store_point(fr, stage, rows, j, stage_values(fr, stage, FastLoads(fr, rows, j)))
        mid = aligned_start(b, [p for rows in group for p in rows.out], lo, hi, size)
        with for_range(b, lo, mid, "jpeel", masked=True) as j:
            every(j)
        with for_range(b, mid, hi, "j", interleave=self.ctx.spec.interleave) as j:
            every(j)

    def _parts(self, fr: Frame, stage, rows: Rows, idx, cuts, rows_hold: bool = False) -> None:
        """[lo, a) remapped, [a, c) fast, [c, hi) remapped (``cuts``)."""
        lo, a, c, hi = cuts
        self.remapped.call(fr, stage, rows, idx, lo, a, rows_hold)
        self._fast(fr, stage, a, c, rows)
        self.remapped.call(fr, stage, rows, idx, c, hi, rows_hold)

    def _fill_strips(self, fr: Frame, out_rows, lo, hi) -> None:
        """out[.., j] = fill for j in [0, lo) and [hi, N): the innermost axis' "fill" strips
        of this row, written while the row is in the cache."""
        b, outs = fr.b, self.ctx.spec.outputs
        for a, c, name in ((const(0), lo, "jfill"), (hi, fr.args.N[-1], "jfill")):
            with for_range(b, a, c, name) as j:
                for k, (row, out) in enumerate(zip(out_rows, outs)):
                    step = j if out.unit_inner else b.mul(j, fr.args.outputs[k].strides[-1])
                    b.store(fr.args.out_fill[k], b.gep(row, [step]))

    def _fast(self, fr: Frame, stage, lo, hi, rows: Rows) -> None:
        """[lo, hi) of a row, every read in bounds: for outputs, a masked peel up to the
        first point whose store is 64-byte aligned (no cache-line-split vector stores),
        then the loop LLVM vectorises (or the streamed segment)."""
        if not invariant_roots(self.ctx, self.ctx.stage_exprs(stage)):
            self._points(fr, stage, lo, hi, rows, {})
            return
        b = fr.b
        with b.if_then(b.icmp_signed("<", lo, hi)):      # the first point's reads are in bounds
            inv = row_invariants(fr, stage, FastLoads(fr, rows, lo))    # once per row
            self._points(fr, stage, lo, hi, rows, inv)

    def _points(self, fr: Frame, stage, lo, hi, rows: Rows, inv: dict) -> None:
        b, outs = fr.b, self.ctx.spec.outputs
        if stage.target is None and self.ctx.stream:
            size = concrete(outs[0].dtype).itemsize
            streamed_segment(b, lo, hi, rows.out, self.stream_bufs[:len(outs)], size,
                             lambda j: stage_values(fr, stage, FastLoads(fr, rows, j), inv),
                             lambda k, v, p: store(b, v, p, outs[k].dtype),
                             self._lead_rows(rows), self.ctx.spec.interleave)
            return
        if ALIGN_STORES and self._aligned_outputs(stage):
            mid = aligned_start(b, rows.out, lo, hi, concrete(outs[0].dtype).itemsize)
            with for_range(b, lo, mid, "jpeel", masked=True) as j:
                store_point(fr, stage, rows, j,
                            stage_values(fr, stage, FastLoads(fr, rows, j), inv))
            lo = mid
        with for_range(b, lo, hi, "j", interleave=self.ctx.spec.interleave) as j:
            store_point(fr, stage, rows, j, stage_values(fr, stage, FastLoads(fr, rows, j), inv))

    def _aligned_outputs(self, stage) -> bool:
        """The stage stores every output with unit stride and one itemsize (so one peel
        aligns them all); False for a temporary's stage."""
        outs = self.ctx.spec.outputs
        return stage.target is None and len({concrete(o.dtype).itemsize for o in outs}) == 1 \
            and all(o.unit_inner for o in outs)

    def _lead_rows(self, rows: Rows) -> list:
        """(row pointer, itemsize) of each unit-stride field's row read furthest along
        axis 0: the data a row step reads for the first time."""
        fields, lead = self.ctx.fields, {}
        for key in rows.reads:
            if key[0] in fields:
                f = fields[key[0]]
                if f.unit_inner and not f.broadcast[0] and key[1] > lead.get(key[0], key)[1] \
                        or key[0] not in lead:
                    lead[key[0]] = key
        return [(_pointer(rows.reads[k]), concrete(fields[k[0]].dtype).itemsize)
                for k in lead.values() if fields[k[0]].unit_inner]


def _pointer(row):
    """A row's pointer (a ghost row's first entries)."""
    return row.first() if isinstance(row, GhostRow) else row


class RemappedFunctions:
    """The remapped points of each stage, as one scalar function per stage::

        define internal void @stencil_safe_k(i64* block, <field>* bases.., i64 idx..,
                                             i64 lo, i64 hi, <elem>* rows..) noinline optsize {
        entry:  <the argument block's slots, loaded again>
                for j in [lo, hi) (jsafe: neither vectorised nor unrolled):
                    <the stage's values at (idx, j), every read remapped>; store
                ret void
        }

    The head, the tail and the rows outside the interior share it, so the stage's
    scalar remapped body is compiled once (not vectorised, not inlined) instead of
    being duplicated into the hot loop nest: a third of the IR of a periodic kernel.
    It receives the rows it can use unchanged (temporaries, the rows written, fields
    whose rows are remapped already) and recomputes the other reads from the bases."""

    def __init__(self, ctx: KernelContext, module: ir.Module):
        self.ctx, self.module = ctx, module
        self.functions: dict = {}               # (id(stage), rows_hold) -> ir.Function

    def call(self, fr: Frame, stage, rows: Rows, idx: list, lo, hi,
             rows_hold: bool = False) -> None:
        """Emit ``call stencil_safe_k(...)`` for points [lo, hi) of the row; ``rows_hold``:
        every row pointer of ``rows`` is the field's row (a second function that remaps
        only the inner index of every read)."""
        ctx = self.ctx
        passed = [k for k in rows.reads if rows_hold or k[0] in ctx.materialised
                  or ctx.rows_remapped(ctx.fields[k[0]])]
        row_args = [rows.reads[k] for k in passed] + rows.written
        key = (id(stage), rows_hold)
        fn = self.functions.get(key)
        if fn is None:
            fn = self.functions[key] = self._emit(fr, stage, rows, passed, len(idx), rows_hold)
        fr.b.call(fn, [fr.block, *fr.fields.values(), *idx, lo, hi, *row_args])

    def _emit(self, body: Frame, stage, rows: Rows, passed: list, n_idx: int,
              rows_hold: bool) -> ir.Function:
        ctx = self.ctx
        row_types = [rows.reads[k].type for k in passed] + [p.type for p in rows.written]
        base_types = [p.type for p in body.fields.values()]
        fnty = ir.FunctionType(ir.VoidType(), [I64.as_pointer()] + base_types
                               + [I64] * (n_idx + 2) + row_types)
        fn = ir.Function(self.module, fnty, f"stencil_safe_{len(self.functions)}")
        fn.linkage = "internal"
        for attr in ("noinline", "nounwind", "optsize"):
            fn.attributes.add(attr)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        block, rest = fn.args[0], list(fn.args[1:])
        bases = dict(zip(body.fields, rest[:len(body.fields)]))
        rest = rest[len(body.fields):]
        idx, (lo, hi), ptrs = rest[:n_idx], rest[n_idx:n_idx + 2], rest[n_idx + 2:]
        fr = Frame(ctx, b, block, load_args(b, ctx, block), bases)
        reads = dict(zip(passed, ptrs))
        written = ptrs[len(passed):]
        if stage.target is not None:
            local = Rows(reads, written[0], [])
        else:
            local = Rows(reads, None, written)
        with for_range(b, lo, hi, "jsafe", scalar=True) as j:
            loads = RemappedLoads(fr, local, list(idx), j, in_domain=stage.target is None,
                                  rows_hold=rows_hold)
            values = stage_values(fr, stage, loads)
            store_point(fr, stage, local, j, values)
        b.ret_void()
        return fn
