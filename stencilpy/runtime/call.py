"""Running a bound call on a compiled kernel: strides, argument block, threads.

    BoundCall -> KernelSpec (dtypes, broadcasting, layout, modes) -> cached kernel
              -> int64 argument block per thread -> ctypes call (drops the GIL)
              -> "fill" strips written here
"""

from __future__ import annotations

import numpy as np

from stencilpy.codegen.spec import ArgLayout, FieldSpec, KernelSpec, OutputSpec
from stencilpy.codegen.types import concrete
from stencilpy.runtime import threads as pool
from stencilpy.signature import BoundCall

#: below this many output points a call runs on one thread
MIN_POINTS_PER_THREAD = 32768
#: target size of one thread's tile buffers (bytes)
TILE_BYTES = 512 * 1024


def _element_strides(arr: np.ndarray) -> tuple[int, ...] | None:
    size = arr.itemsize
    if any(s % size for s in arr.strides):
        return None
    return tuple(s // size for s in arr.strides)


class ArrayView:
    """An array as the kernel sees it: pointer, batch strides, stencil-axis strides and lengths."""

    def __init__(self, arr: np.ndarray, ndim: int, batch_shape: tuple, broadcast=None):
        if _element_strides(arr) is None:
            arr = np.ascontiguousarray(arr)
        self.array = arr
        strides = _element_strides(arr)
        lead = arr.ndim - ndim
        self.ptr = arr.ctypes.data
        self.strides, self.lens = [], []
        for d in range(ndim):
            k = lead + d
            if k < 0 or (broadcast is not None and broadcast[d]):
                self.strides.append(0)
                self.lens.append(1)
            else:
                self.strides.append(strides[k])
                self.lens.append(arr.shape[k])
        own = list(zip(arr.shape[:max(lead, 0)], strides[:max(lead, 0)]))
        pad = [(1, 0)] * (len(batch_shape) - len(own))
        self.batch = [(n, 0 if n == 1 else s) for n, s in pad + own]


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


def kernel_spec(call: BoundCall, outs) -> KernelSpec:
    fields = tuple(FieldSpec(n, a.dtype, call.broadcast[n], _unit_inner(a, call.broadcast[n]))
                   for n, a in call.fields.items())
    outputs = tuple(OutputSpec(o.dtype, o.strides[-1] == o.itemsize if o.ndim else True)
                    for o in outs)
    scalars = tuple((n, type(v)) for n, v in call.scalars.items())
    temps = tuple((s.target, call.temp_types[s.target]) for s in call.stencil.body)
    return KernelSpec(call.stencil, call.plan, fields, scalars, outputs, call.options.modes, temps)


def _unit_inner(arr: np.ndarray, broadcast) -> bool:
    return not broadcast[-1] and arr.strides[-1] == arr.itemsize


def _tile_rows(call: BoundCall, spec: KernelSpec, rows: int) -> int:
    if not spec.materialised:
        return max(rows, 1)
    per_row = 0
    for stage in call.plan.stages:
        if stage.target is None:
            continue
        width = 1
        for d in range(1, len(call.domain)):
            lo, hi = call.regions[d]
            width *= hi - lo + stage.region[d][0] + stage.region[d][1]
        per_row += width * concrete(call.temp_types[stage.target]).itemsize
    return int(max(1, min(rows, TILE_BYTES // max(per_row, 1))))


def _scratch(call: BoundCall, spec: KernelSpec, tile: int) -> list[np.ndarray]:
    bufs = []
    for stage in call.plan.stages:
        if stage.target is None:
            continue
        size = tile + stage.region[0][0] + stage.region[0][1]
        for d in range(1, len(call.domain)):
            lo, hi = call.regions[d]
            size *= hi - lo + stage.region[d][0] + stage.region[d][1]
        bufs.append(np.empty(max(size, 1), dtype=concrete(call.temp_types[stage.target])
                             if concrete(call.temp_types[stage.target]).kind != "b" else np.uint8))
    return bufs


def _header(block, layout: ArgLayout, call: BoundCall, tile: int) -> None:
    block[layout.tile] = tile
    for d, (lo, hi) in enumerate(call.regions):
        n_slot, lo_slot, hi_slot = layout.axis[d]
        block[n_slot], block[lo_slot], block[hi_slot] = call.domain[d], lo, hi


def _fill_views(block, layout, spec, views, out_views, origins, k) -> None:
    n = spec.ndim
    for f in spec.fields:
        v, s = views[f.name], layout.field[f.name]
        block[s] = v.ptr
        block[s + 1] = v.batch[k][1] if k is not None else 0
        block[s + 2:s + 2 + n] = v.strides
        block[s + 2 + n:s + 2 + 2 * n] = v.lens
    for v, s in zip(out_views, layout.output):
        block[s] = v.ptr
        block[s + 1] = v.batch[k][1] if k is not None else 0
        block[s + 2:s + 2 + n] = v.strides
        block[s + 2 + n:s + 2 + 2 * n] = origins


def _scalars(block, layout, call: BoundCall) -> None:
    for name, value in call.scalars.items():
        if isinstance(value, float):
            block[layout.scalar[name]] = np.float64(value).view(np.int64)
        else:
            block[layout.scalar[name]] = int(value)
    block[layout.fill] = np.float64(call.options.fill_value).view(np.int64)


def run_compiled(call: BoundCall, kernel, outs: tuple[np.ndarray, ...]) -> None:
    """Run ``kernel`` (a ``runtime.kernel.CompiledKernel``) on ``call`` writing into ``outs``."""
    spec = kernel.spec
    layout = kernel.layout
    ndim = len(call.domain)
    views = {n: ArrayView(a, ndim, call.batch_shape, call.broadcast[n]) for n, a in call.fields.items()}
    out_views = [ArrayView(o, ndim, call.batch_shape) for o in outs]
    origins = [lo if m == "valid" else 0 for (lo, _), m in zip(call.regions, call.options.modes)]
    all_views = list(views.values()) + out_views
    loop_dims, kernel_dims = _batch_split(all_views, call.batch_shape)
    k = kernel_dims[-1] if kernel_dims else None
    nbatch = int(np.prod([call.batch_shape[i] for i in kernel_dims], dtype=np.int64))
    base = np.zeros(layout.size, dtype=np.int64)
    _fill_views(base, layout, spec, views, out_views, origins, k)
    _scalars(base, layout, call)
    for index in np.ndindex(*[call.batch_shape[i] for i in loop_dims]):
        block = base.copy()
        _shift_pointers(block, layout, spec, all_views, dict(zip(loop_dims, index)))
        _run_block(call, kernel, spec, layout, block, nbatch)


def _shift_pointers(block, layout, spec, all_views, index: dict) -> None:
    """Point each array at the batch element ``index`` of the Python-looped batch axes."""
    if not index:
        return
    slots = [layout.field[f.name] for f in spec.fields] + layout.output
    for slot, v in zip(slots, all_views):
        shift = sum(i * v.batch[a][1] for a, i in index.items())
        block[slot] = v.ptr + shift * v.array.itemsize


def _run_block(call, kernel, spec, layout, block, nbatch) -> None:
    lo0, hi0 = call.regions[0]
    points = nbatch * int(np.prod([hi - lo for lo, hi in call.regions], dtype=np.int64))
    nthreads = max(1, min(call.options.threads, points // MIN_POINTS_PER_THREAD))
    if nbatch >= nthreads:
        parts = [(b0, b1, lo0, hi0) for b0, b1 in pool.split(0, nbatch, nthreads)]
    else:
        parts = [(0, nbatch, r0, r1) for r0, r1 in pool.split(lo0, hi0, nthreads)]
    jobs = []
    for b0, b1, r0, r1 in parts:
        tile = _tile_rows(call, spec, r1 - r0)
        local = block.copy()
        _header(local, layout, call, tile)
        local[layout.batch_lo], local[layout.batch_hi] = b0, b1
        local[layout.axis[0][1]], local[layout.axis[0][2]] = r0, r1
        scratch = _scratch(call, spec, tile)
        for name, buf in zip(spec.materialised, scratch):
            local[layout.scratch[name]] = buf.ctypes.data
        jobs.append((local, scratch))
    pool.run(kernel.cfunc, [j[0] for j in jobs])


def fill_strips(call: BoundCall, outs) -> None:
    """Write ``fill_value`` where the stencil reaches outside the fields ("fill" axes)."""
    nb = len(call.batch_shape)
    for d, (mode, (lo, hi)) in enumerate(zip(call.options.modes, call.regions)):
        if mode != "fill":
            continue
        for part in (slice(0, lo), slice(hi, None)):
            index = (slice(None),) * (nb + d) + (part,)
            for o in outs:
                if o[index].size:
                    o[index] = call.options.fill_value
