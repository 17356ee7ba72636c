"""Streaming (non-temporal) stores for outputs larger than the cache.

``!nontemporal`` on a scalar store stops LLVM's loop vectoriser, so a streamed
row segment is cut in three (every output advances in step)::

    [lo, p)   ordinary stores, until out_0 + p is 64-byte aligned (p = hi when the
              outputs disagree on alignment or are not element-aligned)
    [p, q)    chunks of CHUNK_BYTES: the ordinary (vectorised) loop writes the values
              into 64-byte-aligned buffers in L1, then aligned <V x T> loads from the
              buffer and `store <V x T> ..., align 64, !nontemporal` to the output
    [q, hi)   ordinary stores (q - p is a multiple of V = 64 / itemsize)

The kernel ends with ``sfence`` so the streamed data is visible to every thread.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.loops import const, for_range, smin
from stencilpy.codegen.types import I64

#: bytes per chunk and output (four cache lines; measured: 4 lines up to 12% faster than 16,
#: 32 lines 20-30% slower: the reads and the streaming writes interleave finely)
CHUNK_BYTES = 256
#: software prefetch distance of the input rows read first (0: off; 1-8 KiB measured
#: 5-10% faster than none on 1 thread), for a segment of one row (the rows of stages not
#: grouped: ``segments.ROWS_PER_STEP_STREAMED``).  Further ahead measured slower there (AMD
#: EPYC Zen 4, lap3d 640^3 float64 one plane per step, 1 thread, interleaved: 4 KiB 216 ms,
#: 8 KiB 238, 16 KiB 240)
PREFETCH_BYTES = 4096
#: the same for the rows of a step streamed together (``segments.ROWS_PER_STEP_STREAMED``):
#: a little more than one row ahead (GROUP_PREFETCH_PAST_ROW bytes past the row's length),
#: at most GROUP_PREFETCH_BYTES.  The rows a step reads first continue, in memory, into the
#: rows the next step reads first; a distance up to one row measured slower, just past it
#: the fastest (AMD EPYC Zen 4, lap3d float64, two planes per step, 1 thread, interleaved:
#: 640^3 (5 KiB rows) 4 / 5 / 6 / 7 / 8 / 16 KiB ahead 221 / 211 / 181-192 / 190 / 187 /
#: 187-195 ms; 400^3 (3.1 KiB rows) 3.1 / 4.1 / 6 / 8 / 16 KiB 50.8 / 46.2 / 43.7-48.4 /
#: 44.9 / 44.4; 256^3 3 / 6 / 16 KiB 12.5 / 13.1 / 14.0; 2-D float64 16384^2 16 KiB 149 ms,
#: 4 KiB 156)
GROUP_PREFETCH_BYTES = 16384
GROUP_PREFETCH_PAST_ROW = 1024
LINE = 64


def chunk_points(size: int) -> int:
    return max(CHUNK_BYTES // size, LINE // size)


def stream_buffers(b: ir.IRBuilder, mem_types: list, size: int) -> list:
    """One aligned L1 buffer per output (allocas; emit in the entry block)."""
    bufs = []
    for t in mem_types:
        buf = b.alloca(ir.ArrayType(t, chunk_points(size)), name="stream.buf")
        buf.align = LINE
        bufs.append(b.gep(buf, [const(0), const(0)]))
    return bufs


def _nontemporal(module: ir.Module):
    return module.add_metadata([ir.Constant(ir.IntType(32), 1)])


def sfence(b: ir.IRBuilder) -> None:
    """``sfence``: order the streaming stores before anything after the kernel."""
    module = b.module
    fn = module.globals.get("llvm.x86.sse.sfence")
    if fn is None:
        fn = ir.Function(module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse.sfence")
    b.call(fn, [])


def aligned_start(b: ir.IRBuilder, rows: list, lo, hi, size: int):
    """First j in [lo, hi] where every ``rows[k] + j`` is 64-byte aligned (or hi)."""
    addr0 = b.ptrtoint(b.gep(rows[0], [lo]), I64)
    mis = b.and_(addr0, const(LINE - 1))
    ok = b.icmp_signed("==", b.and_(mis, const(size - 1)), const(0))
    for row in rows[1:]:
        other = b.and_(b.ptrtoint(b.gep(row, [lo]), I64), const(LINE - 1))
        ok = b.and_(ok, b.icmp_signed("==", other, mis))
    peel = b.udiv(b.and_(b.sub(const(LINE), mis), const(LINE - 1)), const(size))
    return b.select(ok, smin(b, b.add(lo, peel), hi), hi)


def _prefetch(b: ir.IRBuilder, ptr) -> None:
    i8p, i32 = ir.IntType(8).as_pointer(), ir.IntType(32)
    fn = b.module.globals.get("llvm.prefetch.p0i8") or ir.Function(
        b.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]), "llvm.prefetch.p0i8")
    b.call(fn, [b.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])


def streamed_segment(b: ir.IRBuilder, lo, hi, rows: list, bufs: list, size: int,
                     compute, store, lead=(), interleave: int = 0,
                     grouped: bool = False) -> None:
    """Points [lo, hi) of one row: ``compute(j)`` -> values, ``store(k, value, ptr)``.

    ``rows[k]`` points at output k's element 0 of the row (unit stride); ``size`` is the
    itemsize shared by every output; ``lead``: (row pointer, itemsize) of the input rows
    read for the first time, prefetched PREFETCH_BYTES ahead of each chunk (``grouped``: the
    rows of a step, ``group_distance`` ahead); ``interleave``: the compute loop's interleave
    count (0: LLVM's)."""
    ahead_of = {isize: (group_distance(b, lo, hi, isize) if grouped
                        else const(PREFETCH_BYTES // isize)) for _, isize in lead}
    width = LINE // size
    p = aligned_start(b, rows, lo, hi, size)
    q = b.add(p, b.and_(b.sub(hi, p), const(-width)))
    # the peel runs scalar, never as one masked vector iteration: a masked store covers a
    # whole vector, so it reaches into the first line the chunks stream, and the streaming
    # stores then wait for that line (held in the cache by the masked store) to leave it.
    # AMD EPYC Zen 4, same process, interleaved: lap3d float64 128^3 (1 KiB rows, a peel per
    # row) masked 1.78 / 0.97 ms on 1 / 2 threads, scalar 1.32 / 0.73 ms; 640^3 223 / 121 ms
    # -> 215 / 115 ms; 2-D 16384^2 167 -> 164 ms.  The same loop in C: 1.26 ms with a scalar
    # peel, 2.07 ms with a masked one
    with for_range(b, lo, p, "jpeel", scalar=True) as j:
        for k, v in enumerate(compute(j)):
            store(k, v, b.gep(rows[k], [j]))
    chunk = chunk_points(size)
    with for_range(b, p, q, "jchunk", step=const(chunk)) as c0:
        c1 = smin(b, b.add(c0, const(chunk)), q)
        if PREFETCH_BYTES:
            for row, isize in lead:
                ahead = b.add(c0, ahead_of[isize])
                for line in range(0, chunk * isize, LINE):
                    _prefetch(b, b.gep(row, [b.add(ahead, const(line // isize))]))
        with for_range(b, c0, c1, "j", interleave=interleave) as j:
            m = b.sub(j, c0)
            for k, v in enumerate(compute(j)):
                store(k, v, b.gep(bufs[k], [m]))
        _copy_out(b, c0, c1, rows, bufs, width)
    with for_range(b, q, hi, "jrest", masked=True) as j:
        for k, v in enumerate(compute(j)):
            store(k, v, b.gep(rows[k], [j]))


def group_distance(b: ir.IRBuilder, lo, hi, isize: int):
    """Elements of ``isize`` bytes to prefetch ahead in the rows of a grouped step:
    min(row + GROUP_PREFETCH_PAST_ROW, GROUP_PREFETCH_BYTES) bytes, the row being [lo, hi)."""
    row = b.add(b.mul(b.sub(hi, lo), const(isize)), const(GROUP_PREFETCH_PAST_ROW))
    return b.sdiv(smin(b, row, const(GROUP_PREFETCH_BYTES)), const(isize))


def _copy_out(b: ir.IRBuilder, c0, c1, rows: list, bufs: list, width: int) -> None:
    """out_k[c0:c1] = buf_k[0:c1-c0] with aligned vector non-temporal stores."""
    nt = _nontemporal(b.module)
    with for_range(b, const(0), b.sub(c1, c0), "jnt", step=const(width)) as m:
        for row, buf in zip(rows, bufs):
            vec_ptr = ir.VectorType(buf.type.pointee, width).as_pointer()
            value = b.load(b.bitcast(b.gep(buf, [m]), vec_ptr), align=LINE)
            dst = b.bitcast(b.gep(row, [b.add(c0, m)]), vec_ptr)
            b.store(value, dst, align=LINE).set_metadata("nontemporal", nt)
