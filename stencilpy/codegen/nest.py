"""The loop nest of the body function, down to the rows (``codegen/segments.py`` emits
the inner axis of each row)::

    # entry: stream buffers; the argument block's slots; every stage's geometry
    # while (chunk = atomic counter++) < chunks:     (threads claim chunks: batch x rows)
    # for b in the chunk's batch range:              (leading axes, one collapsed axis)
    #   for r in [r0 - P, r1):                       (rows of axis 0; P: the deepest halo)
    #     for stage in plan.stages:                  (materialised temporaries, then outputs)
    #       row = r + H_stage                        (a temporary runs H rows ahead of the
    #       if row is in the stage's rows:            output; its rows roll through a buffer
    #         for i_1 .. i_{n-2} in stage region:     of rows_kept() rows: nothing recomputed)
    #           <inner axis of the row>
    # 1-D stencils: tiles of T points instead of rows (a temporary's halo recomputed per tile)
    # 3-D and more without temporaries: the sweep of axis 0 runs per block of axis-1 rows
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager

from llvmlite import ir

from stencilpy.codegen.access import Frame
from stencilpy.codegen.args import Args, load_args
from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.geometry import stage_geometry
from stencilpy.codegen.loops import ceil_div, claim_loop, const, for_range, smax, smin
from stencilpy.codegen import segments
from stencilpy.codegen.segments import InnerAxis, RemappedFunctions
from stencilpy.codegen.stream import sfence, stream_buffers
from stencilpy.codegen.types import concrete, memory_type

_TRUE = ir.Constant(ir.IntType(1), 1)


def emit_body(ctx: KernelContext, fn: ir.Function) -> None:
    """``stencil_body(fields.., outputs.., scratch.., i64* block)``: the whole nest."""
    spec = ctx.spec
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    nf, no = len(spec.fields), len(spec.outputs)
    field_ptr = {f.name: fn.args[k] for k, f in enumerate(spec.fields)}
    out_ptr = list(fn.args[nf:nf + no])
    scratch = dict(zip(spec.materialised, fn.args[nf + no:-1]))
    stream_bufs = None
    if ctx.stream:
        size = concrete(spec.outputs[0].dtype).itemsize
        types = [memory_type(o.dtype) for o in spec.outputs]
        stream_bufs = stream_buffers(b, types * segments.rows_per_step(ctx), size)  # row_group's
    block = fn.args[-1]
    args = load_args(b, ctx, block)
    geometry = {stage.target: stage_geometry(b, ctx, args, stage) for stage in spec.plan.stages}
    buffers = {t: g.buffer for t, g in geometry.items() if t is not None}
    nest = _Nest(ctx, InnerAxis(ctx, stream_bufs, RemappedFunctions(ctx, fn.module)), geometry)
    with _chunks(b, args) as (b0, b1, rows):
        with for_range(b, b0, b1, "batch") as batch:
            fr = Frame(ctx, b, block, args,
                       {n: b.gep(p, [b.mul(batch, args.fields[n].batch_stride)])
                        for n, p in field_ptr.items()},
                       [b.gep(p, [b.mul(batch, o.batch_stride)])
                        for p, o in zip(out_ptr, args.outputs)],
                       scratch, buffers)
            if spec.rolling:
                nest.rows(fr, rows)
            else:
                nest.tiles(fr, rows)
    if ctx.stream:
        sfence(b)
    b.ret_void()


@contextmanager
def _chunks(b: ir.IRBuilder, args: Args):
    """Claim chunks (batch range x rows of axis 0) from the shared counter until none
    are left; yields the chunk's batch range and its rows ``(r0, r1)``::

        chunks = ceil(batch / chunk_batch) x ceil(rows / chunk_rows)
        while (c = atomic counter++) < chunks:
            b0 = batch_lo + (c / row_chunks) * chunk_batch
            r0 = region_lo_0 + (c % row_chunks) * chunk_rows
    """
    (lo0, hi0), cb, cr = args.region[0], args.chunk_batch, args.chunk_rows
    row_chunks = ceil_div(b, smax(b, b.sub(hi0, lo0), const(0)), cr)
    total = b.mul(ceil_div(b, smax(b, b.sub(args.batch_hi, args.batch_lo), const(0)), cb),
                  row_chunks)
    with claim_loop(b, args.counter, total) as c:
        b0 = b.add(args.batch_lo, b.mul(b.sdiv(c, row_chunks), cb))
        r0 = b.add(lo0, b.mul(b.srem(c, row_chunks), cr))
        rows = (r0, smin(b, b.add(r0, cr), hi0))
        yield b0, smin(b, b.add(b0, cb), args.batch_hi), rows


class _Nest:
    """The loops over rows (or tiles) and outer axes, for one body function."""

    def __init__(self, ctx: KernelContext, inner: InnerAxis, geometry: dict):
        self.ctx, self.inner, self.geometry = ctx, inner, geometry

    # -- rows of axis 0 (ndim >= 2) ----------------------------------------------
    def rows(self, fr: Frame, rows) -> None:
        """Every stage computes one row per step; temporaries run ahead by H rows.  Without
        temporaries (3-D and more) the sweep runs once per block of ``block_1`` rows of
        axis 1, so the planes it reads stay in the cache::

            for j0 in [lo_1, hi_1) step block_1:  sweep with axis 1 in [j0, min(j0 + block_1, hi_1))
        """
        if not self.ctx.spec.blocked:
            self._sweep(fr, rows, self.geometry)
            return
        b, g = fr.b, self.geometry[None]
        lo1, hi1 = g.bounds[1]
        with for_range(b, lo1, hi1, "block", step=fr.args.block_1) as j0:
            bounds = list(g.bounds)
            bounds[1] = (j0, smin(b, b.add(j0, fr.args.block_1), hi1))
            self._sweep(fr, rows, {None: dataclasses.replace(g, bounds=bounds)})

    def _sweep(self, fr: Frame, rows, geometry: dict) -> None:
        """for r in [r0 - ahead, r1): every stage's row r + H_stage, from its first row on."""
        b = fr.b
        lo0, hi0 = rows
        stages = self.ctx.spec.plan.stages
        if len(stages) == 1 and self.inner.grouped(stages[0]):
            self._groups(fr, stages[0], geometry[None], (lo0, hi0), lo0)
            return
        ahead = max([sum(s.region[0]) for s in self.ctx.spec.plan.stages if s.target] + [0])
        with for_range(b, b.sub(lo0, const(ahead)), hi0, "row") as r:
            for stage in self.ctx.spec.plan.stages:
                low, high = stage.region[0]
                row = b.add(r, const(high)) if high else r
                if not ahead:
                    self._stage(fr, stage, row, geometry[stage.target], lo0)
                    continue
                with b.if_then(b.icmp_signed(">=", row, b.sub(lo0, const(low)))):
                    self._stage(fr, stage, row, geometry[stage.target], lo0)

    def _stage(self, fr: Frame, stage, i0, geom, anchor) -> None:
        """Row i0 of a stage: ``row_ok`` = i0 is inside the stage's interior along axis 0."""
        b = fr.b
        ok = _TRUE
        if geom.interior[0] is not None and self.ctx.row_splits(0):
            lo, hi = geom.interior[0]
            ok = b.and_(b.icmp_signed(">=", i0, lo), b.icmp_signed("<", i0, hi))
        self._outer(fr, stage, geom, 1, [i0], ok, anchor)

    def _outer(self, fr: Frame, stage, geom, d, idx, row_ok, anchor) -> None:
        """for i_d in the stage's bounds (d = 1 .. n-2), row_ok &= i_d in the interior."""
        b, n = fr.b, self.ctx.ndim
        if d == n - 1:
            self.inner.row(fr, stage, geom.bounds[d], geom.interior[d], idx, row_ok, anchor)
            return
        with for_range(b, geom.bounds[d][0], geom.bounds[d][1], f"i{d}") as i:
            ok = row_ok
            if geom.interior[d] is not None and self.ctx.row_splits(d):
                lo, hi = geom.interior[d]
                ok = b.and_(ok, b.and_(b.icmp_signed(">=", i, lo), b.icmp_signed("<", i, hi)))
            self._outer(fr, stage, geom, d + 1, idx + [i], ok, anchor)

    def _groups(self, fr: Frame, stage, geom, rows, anchor) -> None:
        """for r in rows step K (``segments.rows_per_step``): rows r .. r + K - 1 of axis 0
        together, at every index of the axes between (``InnerAxis.row_group``); the last rows one by
        one.  The stage is ``grouped`` (no padding modes: every row is in bounds): 2-D rows,
        and 3-D planes when streamed (within each block of axis-1 rows)."""
        b, k = fr.b, segments.rows_per_step(self.ctx)
        lo, hi = rows
        whole = b.sub(hi, b.srem(b.sub(hi, lo), const(k)))      # lo + a multiple of K
        with for_range(b, lo, whole, "group", step=const(k)) as i:
            self._group_outer(fr, stage, geom, 1, [[b.add(i, const(m))] for m in range(k)],
                              anchor)
        with for_range(b, whole, hi, "rest") as i:
            self._outer(fr, stage, geom, 1, [i], _TRUE, anchor)

    def _group_outer(self, fr: Frame, stage, geom, d, idxs, anchor) -> None:
        b, n = fr.b, self.ctx.ndim
        if d == n - 1:
            self.inner.row_group(fr, stage, geom.bounds[d], idxs, anchor)
            return
        with for_range(b, geom.bounds[d][0], geom.bounds[d][1], f"i{d}") as i:
            self._group_outer(fr, stage, geom, d + 1, [idx + [i] for idx in idxs], anchor)

    # -- tiles of axis 0 (1-D stencils) -------------------------------------------------
    def tiles(self, fr: Frame, rows) -> None:
        """for t0 in [r0, r1) step tile: every stage on [t0 - L, min(t0 + tile, r1) + H)."""
        b = fr.b
        lo0, hi0 = rows
        with for_range(b, lo0, hi0, "tile", step=fr.args.tile) as t0:
            t1 = smin(b, b.add(t0, fr.args.tile), hi0)
            for stage in self.ctx.spec.plan.stages:
                low, high = stage.region[0]
                bounds = (b.sub(t0, const(low)), b.add(t1, const(high)))
                self.inner.row(fr, stage, bounds, self.geometry[stage.target].interior[0], [],
                               _TRUE, t0)
