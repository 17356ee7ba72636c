"""Per-stage geometry, computed once in the body's entry block: loop bounds along axes
>= 1, the interior (points whose reads are all in bounds) along split axes, and the
layout of each temporary's buffer.

A stage's region ``(L_d, H_d)`` moves the ends of the call's region ``[lo_d, hi_d)``: the
stage computes ``[lo_d - L_d, hi_d + H_d)`` along axis d (temporaries are needed where
their readers read them).  The sides are signed (exact regions): a temporary read only at
``t[1]`` has ``(-1, 1)``, the region shifted by one; ``L_d + H_d >= 0`` always.
"""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.codegen.args import Args
from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.loops import const, smax, smin
from stencilpy.codegen.spec import row_align
from stencilpy.codegen.types import concrete


@dataclass(frozen=True)
class TempBuffer:
    """A temporary's buffer: rows of axis 0 (a ring of ``keep`` rows when rolling; 1-D:
    a tile) of C-ordered axes 1.., the innermost padded to whole cache lines."""

    strides: list          # element stride per axis (axis 0: unused; inner: 1)
    row: object            # elements per row of axis 0
    origin: list           # index of the buffer's element 0 along axes >= 1 (axis 0: None)
    keep: int | None       # rows kept by the ring (rolling kernels)
    lo: int                # the stage's reach below the region along axis 0


@dataclass(frozen=True)
class StageGeometry:
    bounds: list           # [None, (lo, hi) along axis 1, ..., along axis n-1]
    interior: list         # per axis: (lo, hi) of in-bounds points, or None (axis not split)
    buffer: TempBuffer | None


def stage_geometry(b, ctx: KernelContext, args: Args, stage) -> StageGeometry:
    """Loop bounds along axes >= 1, interiors and the temporary's buffer of one stage."""
    ext = stage.region
    bounds = [None]
    for d in range(1, ctx.ndim):
        lo, hi = args.region[d]
        bounds.append((b.sub(lo, const(ext[d][0])), b.add(hi, const(ext[d][1]))))
    interior = [_interior(b, ctx, args, stage, d) if ctx.splits(d) else None
                for d in range(ctx.ndim)]
    buffer = _temp_buffer(b, ctx, stage, bounds) if stage.target is not None else None
    return StageGeometry(bounds, interior, buffer)


def _interior(b, ctx: KernelContext, args: Args, stage, d):
    """[lo, hi) of points along axis d whose reads of every field are in bounds."""
    lo, hi = const(-(1 << 62)), const(1 << 62)
    for f in ctx.spec.fields:
        ext = stage.read_extent(f.name)
        if ext is None or f.broadcast[d]:
            continue
        lo = smax(b, lo, const(ext[d][0]))
        hi = smin(b, hi, b.sub(args.fields[f.name].lengths[d], const(ext[d][1])))
    return lo, hi


def _temp_buffer(b, ctx: KernelContext, stage, bounds) -> TempBuffer:
    n = ctx.ndim
    lens = [b.sub(hi, lo) for lo, hi in bounds[1:]]
    if lens:                            # rows padded to whole cache lines: aligned stores
        per_line = row_align(concrete(ctx.types[stage.target]).itemsize)
        lens[-1] = b.and_(b.add(lens[-1], const(per_line - 1)), const(-per_line))
    strides = [const(1)] * n
    for d in range(n - 2, 0, -1):
        strides[d] = b.mul(strides[d + 1], lens[d])
    row = b.mul(strides[1], lens[0]) if n >= 2 else const(1)
    origin = [None] + [lo for lo, _ in bounds[1:]]
    keep = ctx.spec.rows_kept(stage.target) if ctx.spec.rolling else None
    return TempBuffer(strides, row, origin, keep, stage.region[0][0])
