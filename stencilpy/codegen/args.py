"""The kernel's side of the argument block: every slot as an SSA value of one function.

``load_args`` reads the slots ``ArgLayout`` names (the same names ``runtime/launch.py``
writes) at the top of a function, before any store::

    entry:
      %v = load i64, i64* (gep %block, slot)        ; one per header/field/output slot
      %counter = inttoptr i64 %v to i64*
      %x = bitcast i64 %v to double                 ; float scalars and the fill value
"""

from __future__ import annotations

from dataclasses import dataclass

from llvmlite import ir

from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.loops import const
from stencilpy.codegen.types import F64, I64, cast, concrete, memory_type


@dataclass(frozen=True)
class FieldArgs:
    batch_stride: ir.Value
    strides: list                 # per axis, elements (the inner one const 1 when known)
    lengths: list                 # per axis


@dataclass(frozen=True)
class OutputArgs:
    batch_stride: ir.Value
    strides: list
    origin: list                  # the output index of domain index 0, per axis


@dataclass(frozen=True)
class Args:
    batch_lo: ir.Value
    batch_hi: ir.Value
    tile: ir.Value                # points of axis 0 per tile (1-D kernels)
    counter: ir.Value             # i64*: the shared chunk counter
    chunk_batch: ir.Value
    chunk_rows: ir.Value
    block_1: ir.Value             # rows of axis 1 per block of a blocked sweep
    N: list                       # domain length per axis
    region: list                  # (lo, hi) computed by this call, per axis
    fields: dict                  # field name -> FieldArgs
    outputs: list                 # OutputArgs per output
    scalars: dict                 # scalar name -> value in its type
    fill_bits: ir.Value           # the fill value as a double
    out_fill: list                # per output: the fill value in its memory type


def load_args(b: ir.IRBuilder, ctx: KernelContext, block) -> Args:
    """Every slot of ``block`` (an ``i64*``) that the kernel reads, as SSA values."""
    L, spec, n = ctx.layout, ctx.spec, ctx.ndim

    def slot(k):
        return b.load(b.gep(block, [const(k)]))

    header = dict(batch_lo=slot(L.batch_lo), batch_hi=slot(L.batch_hi), tile=slot(L.tile),
                  counter=b.inttoptr(slot(L.counter), I64.as_pointer()),
                  chunk_batch=slot(L.chunk_batch), chunk_rows=slot(L.chunk_rows),
                  block_1=slot(L.block_1),
                  N=[slot(L.axis[d].length) for d in range(n)],
                  region=[(slot(L.axis[d].lo), slot(L.axis[d].hi)) for d in range(n)])
    fields = {}
    for f in spec.fields:
        slots = L.fields[f.name]
        batch_stride = slot(slots.batch_stride)
        strides = [slot(k) for k in slots.strides]
        if f.unit_inner and not f.broadcast[-1]:
            strides[-1] = const(1)
        # a broadcast axis has stride 0 (runtime/call.py): said as a constant, LLVM sees a
        # read that does not move along the row (one load per row, a vector splat) instead
        # of a strided gather (a (nlat, 1) coefficient field: 5x slower kernels without it)
        strides = [const(0) if bc else s for s, bc in zip(strides, f.broadcast)]
        fields[f.name] = FieldArgs(batch_stride, strides, [slot(k) for k in slots.lengths])
    outputs = []
    for slots, o in zip(L.outputs, spec.outputs):
        batch_stride = slot(slots.batch_stride)
        strides = [slot(k) for k in slots.strides]
        if o.unit_inner:
            strides[-1] = const(1)
        outputs.append(OutputArgs(batch_stride, strides, [slot(k) for k in slots.origin]))
    scalars = {}
    for name, t in spec.scalars:
        bits = slot(L.scalar[name])
        value = b.bitcast(bits, F64) if t is float else bits
        scalars[name] = cast(b, value, float if t is float else int, t) if t is bool else value
    fill_bits = b.bitcast(slot(L.fill), F64)
    out_fill = [_raw(b, slot(k), o.dtype) for k, o in zip(L.out_fill, spec.outputs)]
    return Args(**header, fields=fields, outputs=outputs, scalars=scalars,
                fill_bits=fill_bits, out_fill=out_fill)


def _raw(b: ir.IRBuilder, bits, t):
    """The low bytes of an int64 slot as a value of memory type ``t``."""
    mt = memory_type(t)
    width = 8 * concrete(t).itemsize
    value = bits if width == 64 else b.trunc(bits, ir.IntType(width))
    return value if isinstance(mt, ir.IntType) else b.bitcast(value, mt)
