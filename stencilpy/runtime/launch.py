"""Launching a compiled kernel on a bound call: array views, argument blocks, threads.

    BoundCall + Kernel (from ``stencilpy/compile.py``)
              -> ArrayViews: each array's strides and lengths in elements
              -> Jobs: int64 argument blocks (one per thread and Python-looped batch index)
                 with every slot filled except the array data pointers; the threads share
                 a chunk counter (dynamic schedule) and own their rolling row buffers
              -> set_pointers(jobs, data addresses) -> run_jobs (ctypes call drops the GIL)
              -> "fill" strips the kernel did not write (all but the innermost axis')

``Jobs`` depends only on the static facts of a call (shapes, strides, dtypes, options), so
``runtime/fastpath.py`` keeps it in a prepared call and patches only pointers and scalars.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

import numpy as np

from stencilpy.codegen.spec import ArgLayout, KernelSpec, row_align
from stencilpy.ir.types import concrete
from stencilpy.runtime import threads as pool
from stencilpy.runtime import tuning
from stencilpy.signature import BoundCall

# The per-machine choices (runtime/tuning.py; defaults in tuning.Choices): fewest output
# points per thread (smaller calls use fewer threads), chunks per thread (claimed dynamically:
# load balance under contention), and the streaming-store thresholds.  Streaming
# (non-temporal) stores trade two things: they skip reading every output line before writing
# it (a third of a Laplacian's memory traffic), and they send the output past the caches, so
# a call whose arrays the last-level cache could have held pays memory speed where it would
# have run at cache speed (and loses the scaling of the second thread: the cores share the
# memory).  They pay when the arrays would not stay in the last-level cache anyway, so the
# default threshold is half the L3 read at run time (the inputs, the outputs and whatever
# else the cache holds share it).  Measured on AMD EPYC Zen 4 (1 MiB L2, 32 MiB L3; 2-D
# Laplacians float64/float32 and 3-D ones with 128-point rows, 1 and 2 threads,
# ``python -m stencilpy.bench.streaming``): not streaming is faster up to 16 MiB touched (up
# to 1.6x), streaming from 32 MiB on (up to 1.7x).  The previous default, 3 L2 sizes, came
# from a Sapphire Rapids VM (2 MiB L2, a 260 MiB L3 shared across the socket), where
# streaming won from 4 MiB on; on such a CPU ``stencilpy tune`` measures a lower threshold.
#: fewest output points per chunk
MIN_POINTS_PER_CHUNK = 16384
#: target size of one thread's tile buffers (bytes): about half the per-core L2
TILE_BYTES = 256 * 1024
#: rows shorter than this use the ``stream_short`` threshold
SHORT_ROW = 256


def _element_strides(arr: np.ndarray) -> tuple[int, ...] | None:
    size = arr.itemsize
    if any(s % size for s in arr.strides):
        return None
    return tuple(s // size for s in arr.strides)


def view_geometry(shape, strides, ndim: int, batch_shape: tuple, broadcast=None):
    """``(strides, lens, batch)`` of an array of ``shape`` and element ``strides`` as a kernel
    sees it: stencil-axis strides and lengths (0 and 1 where missing or broadcast), and
    ``(length, stride)`` per batch axis (padded to ``batch_shape``; stride 0 where length 1)."""
    lead = len(shape) - ndim
    out_strides, lens = [], []
    for d in range(ndim):
        k = lead + d
        if k < 0 or (broadcast is not None and broadcast[d]):
            out_strides.append(0)
            lens.append(1)
        else:
            out_strides.append(strides[k])
            lens.append(shape[k])
    own = list(zip(shape[:max(lead, 0)], strides[:max(lead, 0)]))
    pad = [(1, 0)] * (len(batch_shape) - len(own))
    return out_strides, lens, [(n, 0 if n == 1 else s) for n, s in pad + own]


class ArrayView:
    """An array as the kernel sees it: batch strides, stencil-axis strides and lengths.

    ``array`` is what the kernel reads (a contiguous copy when the strides are not whole
    elements)."""

    def __init__(self, arr: np.ndarray, ndim: int, batch_shape: tuple, broadcast=None):
        self.copied = _element_strides(arr) is None
        if self.copied:
            arr = np.ascontiguousarray(arr)
        self.array = arr
        strides = _element_strides(arr)
        self.itemsize = arr.itemsize
        self.strides, self.lens, self.batch = view_geometry(arr.shape, strides, ndim,
                                                            batch_shape, broadcast)


def _batch_split(views, batch_shape) -> tuple[list[int], list[int]]:
    """Split the batch axes (ignoring length-1 ones) into those looped over in Python
    and a trailing group that every view can walk as one strided axis in the kernel."""
    dims = [i for i, n in enumerate(batch_shape) if n != 1]
    j = len(dims) - 1
    while j > 0:
        a, b = dims[j - 1], dims[j]
        if not all(v.batch[a][1] == v.batch[b][1] * batch_shape[b] for v in views):
            break
        j -= 1
    j = max(j, 0)
    return dims[:j], dims[j:]


def l2_bytes() -> int:
    """Per-core L2 cache size (sysfs; 2 MiB when unknown)."""
    return tuning.cache_sizes()[1]


def wants_streaming(outs, fields=(), row: int = SHORT_ROW) -> bool:
    """Streaming stores pay off when the arrays a call touches do not fit in the cache
    (``row``: points per row of the innermost axis; thresholds: ``tuning.active()``)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return False
    touched = sum(o.nbytes for o in outs) + sum({id(a): a.nbytes for a in fields}.values())
    choices = tuning.active()
    return touched > tuning.bytes_of(choices.stream_long if row >= SHORT_ROW
                                     else choices.stream_short)


def _tile_rows(call: BoundCall, spec: KernelSpec, rows: int) -> int:
    """Points per tile of a 1-D stencil with temporaries (one tile without; unused: 1)."""
    if spec.rolling:
        return 1
    if not spec.materialised:
        return max(rows, 1)
    per_point = sum(concrete(call.temp_types[t]).itemsize for t in spec.materialised)
    return int(max(1, min(rows, TILE_BYTES // max(per_point, 1))))


def _scratch(call: BoundCall, spec: KernelSpec, tile: int) -> list[np.ndarray]:
    """One buffer per materialised temporary: ``rows_kept`` rows of its region along the
    axes >= 1 (rolling), or a tile plus its halo (1-D)."""
    bufs = []
    for name in spec.materialised:
        region = spec.stage_of(name).region
        dt = concrete(call.temp_types[name])
        if spec.rolling:
            size = spec.rows_kept(name)
            for d in range(1, len(call.domain)):
                lo, hi = call.regions[d]
                width = hi - lo + region[d][0] + region[d][1]
                if d == len(call.domain) - 1:             # padded as in codegen/geometry.py
                    per_line = row_align(dt.itemsize)
                    width = -(-width // per_line) * per_line
                size *= width
        else:
            size = tile + region[0][0] + region[0][1]
        bufs.append(_aligned_empty(max(size, 1), np.uint8 if dt.kind == "b" else dt))
    return bufs


def _aligned_empty(n: int, dtype) -> np.ndarray:
    """An uninitialised 1-D array whose data starts on a 64-byte boundary."""
    dtype = np.dtype(dtype)
    raw = np.empty(n * dtype.itemsize + 64, dtype=np.uint8)
    start = (-raw.ctypes.data) % 64
    return raw[start:start + n * dtype.itemsize].view(dtype)


def _block_rows(call: BoundCall, spec: KernelSpec) -> int:
    """Rows of axis 1 per block of a blocked kernel: the planes of every field one step of
    axis 0 reads (its extent along axis 0, plus one) in the L2 cache (measured: half that
    is 20% slower, twice that about the same)."""
    if not spec.blocked:
        return 1
    per_row = 0
    for f in spec.fields:
        ext = call.plan.field_extent(f.name)
        width = int(np.prod([hi - lo + e[0] + e[1] for (lo, hi), e
                             in zip(call.regions[2:], ext[2:])], dtype=np.int64))
        per_row += (ext[0][0] + ext[0][1] + 1) * width * f.dtype.itemsize
    return int(max(8, l2_bytes() // max(per_row, 1)))


def _header(block, layout: ArgLayout, call: BoundCall, tile: int) -> None:
    block[layout.tile] = tile
    for d, (lo, hi) in enumerate(call.regions):
        axis = layout.axis[d]
        block[axis.length], block[axis.lo], block[axis.hi] = call.domain[d], lo, hi


def _fill_views(block, layout, spec, views, out_views, origins: list, k) -> None:
    """Strides, lengths and batch strides of the fields; strides and ``origins[j]`` (domain
    index of its first point per axis) of output j."""
    for f in spec.fields:
        v, s = views[f.name], layout.fields[f.name]
        block[s.batch_stride] = v.batch[k][1] if k is not None else 0
        block[s.strides] = v.strides
        block[s.lengths] = v.lens
    for v, s, origin in zip(out_views, layout.outputs, origins):
        block[s.batch_stride] = v.batch[k][1] if k is not None else 0
        block[s.strides] = v.strides
        block[s.origin] = origin


def fill_bits(dtype, value) -> int | None:
    """``value`` as an element of ``dtype`` stores it (NumPy's assignment), as the int64
    holding those bytes; None when NumPy refuses the assignment."""
    one = np.zeros(1, dtype=dtype)
    try:
        one[0] = value
    except (ValueError, TypeError, OverflowError):
        return None
    return int(np.frombuffer(one.tobytes().ljust(8, b"\0"), np.int64)[0])


def scalar_bits(value) -> int:
    """A scalar argument as the int64 the kernel reads (float64 bits for floats)."""
    if isinstance(value, float):
        return int(np.float64(value).view(np.int64))
    return int(value)


@dataclass
class Jobs:
    """Argument blocks of one call, everything filled in but the data pointers.

    ``rounds`` run one after the other (the Python-looped batch indices); the blocks of one
    round run in parallel (one per thread).  ``pointers`` lists ``(block, slot, array, offset)``:
    the slot receives the data address of array number ``array`` (fields in spec order, then
    outputs) plus ``offset`` bytes.  ``scalar_slots`` are the block slots of each scalar."""

    rounds: list
    pointers: list
    scalar_slots: list
    scratch: list
    counter: np.ndarray

    def __post_init__(self):
        self.blocks = [b for r in self.rounds for b in r]
        self.addresses = [[b.ctypes.data for b in r] for r in self.rounds]


def make_jobs(call: BoundCall, kernel, views: list, nthreads: int) -> Jobs:
    """The argument blocks for ``call`` on ``kernel``; ``views`` are the ArrayViews of the
    fields (spec order) and then the outputs."""
    spec, layout = kernel.spec, kernel.layout
    nf = len(spec.fields)
    field_views = {f.name: v for f, v in zip(spec.fields, views[:nf])}
    origins = [call.origins(j) for j in range(len(call.out_dtypes))]
    loop_dims, kernel_dims = _batch_split(views, call.batch_shape)
    k = kernel_dims[-1] if kernel_dims else None
    nbatch = int(np.prod([call.batch_shape[i] for i in kernel_dims], dtype=np.int64))
    base = np.zeros(layout.size, dtype=np.int64)
    _fill_views(base, layout, spec, field_views, views[nf:], origins, k)
    base[layout.fill] = np.float64(call.options.fill_value).view(np.int64)
    for slot, o in zip(layout.out_fill, views[nf:]):
        base[slot] = fill_bits(o.array.dtype, call.options.fill_value) or 0
    for name, value in call.scalars.items():
        base[layout.scalar[name]] = scalar_bits(value)
    slots = layout.array_ptrs
    rounds, pointers, scratch = [], [], []
    counter = _aligned_empty(8, np.int64)             # chunks claimed (a cache line of its own)
    for index in np.ndindex(*[call.batch_shape[i] for i in loop_dims]):
        shift = [sum(i * v.batch[a][1] for a, i in zip(loop_dims, index)) * v.itemsize
                 for v in views]
        blocks = []
        for local, bufs in _thread_blocks(call, spec, layout, base, nbatch, nthreads, counter):
            blocks.append(local)
            scratch.append(bufs)
            pointers += [(local, s, a, shift[a]) for a, s in enumerate(slots)]
        rounds.append(blocks)
    scalar_slots = [layout.scalar[name] for name in call.scalars]
    return Jobs(rounds, pointers, scalar_slots, scratch, counter)


def _chunking(call: BoundCall, spec: KernelSpec, nbatch: int, nthreads: int) -> tuple[int, int]:
    """(batch elements, rows of axis 0) per chunk: one chunk on one thread, else about
    ``chunks_per_thread`` (tuned) per thread, rows only when the batch is too short, and never so few
    rows that re-filling the rolling buffers (``ahead`` rows per chunk) would matter."""
    lo0, hi0 = call.regions[0]
    rows = max(hi0 - lo0, 1)
    if nthreads <= 1:
        return max(nbatch, 1), rows
    target = nthreads * tuning.active().chunks_per_thread
    if nbatch >= target:
        return -(-nbatch // target), rows
    per_batch = -(-target // max(nbatch, 1))
    ahead = max([sum(spec.stage_of(t).region[0]) for t in spec.materialised] + [0])
    row_points = max(1, int(np.prod([hi - lo for lo, hi in call.regions[1:]], dtype=np.int64)))
    least = max(8 * ahead, -(-MIN_POINTS_PER_CHUNK // row_points), 1)
    return 1, min(rows, max(-(-rows // per_batch), least))


def _thread_blocks(call, spec, layout, base, nbatch, nthreads, counter):
    cb, cr = _chunking(call, spec, nbatch, nthreads)
    base = base.copy()
    base[layout.batch_lo], base[layout.batch_hi] = 0, nbatch
    base[layout.counter] = counter.ctypes.data
    base[layout.chunk_batch], base[layout.chunk_rows] = cb, cr
    base[layout.block_1] = _block_rows(call, spec)
    tile = _tile_rows(call, spec, call.regions[0][1] - call.regions[0][0])
    _header(base, layout, call, tile)
    for _ in range(nthreads):
        local = base.copy()
        bufs = _scratch(call, spec, tile)
        for name, buf in zip(spec.materialised, bufs):
            local[layout.scratch[name]] = buf.ctypes.data
        yield local, bufs


def thread_count(call: BoundCall, requested: int) -> int:
    """Threads worth using: every thread gets at least ``min_points_per_thread`` (tuned)
    points."""
    points = int(np.prod(call.batch_shape, dtype=np.int64)) * \
        int(np.prod([hi - lo for lo, hi in call.regions], dtype=np.int64))
    return max(1, min(requested, points // tuning.active().min_points_per_thread))


def set_pointers(jobs: Jobs, addresses) -> None:
    for block, slot, a, offset in jobs.pointers:
        block[slot] = addresses[a] + offset


def run_jobs(kernel, jobs: Jobs) -> None:
    """Run every round of ``jobs`` on ``kernel`` (a ``compile.Kernel``)."""
    entry = kernel.loaded.address if tuning.active().handoff == "helpers" else None
    for addresses in jobs.addresses:
        jobs.counter[0] = 0
        pool.run(kernel.cfunc, addresses, entry)


def run_compiled(call: BoundCall, kernel, outs: tuple[np.ndarray, ...]) -> None:
    """Run ``kernel`` (a ``compile.Kernel``) on ``call`` writing into ``outs``."""
    views = call_views(call, kernel.spec, outs)
    jobs = make_jobs(call, kernel, views, thread_count(call, call.options.threads))
    set_pointers(jobs, [v.array.ctypes.data for v in views])
    run_jobs(kernel, jobs)
    for o, v in zip(outs, views[len(kernel.spec.fields):]):
        if v.copied:                      # an output whose strides are not whole elements
            o[...] = v.array


def call_views(call: BoundCall, spec: KernelSpec, outs) -> list:
    ndim = len(call.domain)
    views = [ArrayView(call.fields[f.name], ndim, call.batch_shape, call.broadcast[f.name])
             for f in spec.fields]
    return views + [ArrayView(o, ndim, call.batch_shape) for o in outs]


def strip_indices(call: BoundCall, spec: KernelSpec | None = None) -> list[tuple]:
    """``(output, index tuple)`` of the output parts that "fill" axes leave to ``fill_value``
    (outside each output's own region), but for those the kernel of ``spec`` writes itself
    (its innermost axis' strips, when every output has the same region)."""
    nb = len(call.batch_shape)
    inner = spec is not None and spec.fills_inner and call.uniform and \
        all(fill_bits(o.dtype, call.options.fill_value) is not None for o in spec.outputs)
    found = []
    for k, (regions, shape) in enumerate(zip(call.output_regions, call.out_shapes)):
        for d, (mode, (lo, hi)) in enumerate(zip(call.options.modes, regions)):
            if mode != "fill" or (inner and d == len(regions) - 1):
                continue
            for part in (slice(0, lo), slice(hi, None)):
                if len(range(*part.indices(shape[nb + d]))) and 0 not in shape:
                    found.append((k, (slice(None),) * (nb + d) + (part,)))
    return found


def fill_strips(call: BoundCall, outs, spec: KernelSpec | None = None) -> None:
    """Write ``fill_value`` where the stencil reaches outside the fields ("fill" axes) and
    the kernel of ``spec`` (None: no kernel ran) did not."""
    for k, index in strip_indices(call, spec):
        outs[k][index] = call.options.fill_value
