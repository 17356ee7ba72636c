"""One stencil call on GPU arrays, end to end.

    values (CuPy / __cuda_array_interface__ arrays, numbers)
      -> Stencil.bind on host placeholders (same validation, regions, dtypes as the CPU)
      -> outputs (fresh device arrays; ``out=`` that overlaps an input: computed into fresh
         arrays, then copied: snapshot semantics)
      -> GpuSpec (dtypes, broadcasting, unit strides, modes, rows per thread) -> kernels
      -> boxes: the interior (every read in bounds; R rows per thread) and the edge slabs
         (remapped reads, "extrapolate" ghosts) of the common region
      -> outputs with regions of their own ("fill"/"valid"): their one-output kernels over
         the rest of each output (``plan_launches``)
      -> parameters per launch and Python-looped batch index -> launches (x: inner axis,
         y: rows, z: batch x outer axes); the edge kernel writes the "fill" strips
      -> a call plan, so that the next call with the same static facts only patches the
         array pointers and scalars into the planned launches

``device_for`` picks the device: the CUDA driver (``runtime/gpu/driver.py``) for real GPU
arrays, or the host emulation (``runtime/gpu/emulate.py``) for its test arrays.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from stencilpy.codegen.gpu.spec import AXIS_PARAMS, GpuSpec, signature
from stencilpy.errors import StencilCallError
from stencilpy.runtime.launch import _batch_split, fill_bits, fill_strips, scalar_bits
from stencilpy.runtime.gpu.arrays import (
    DeviceArray, DeviceView, is_device_array, output_bias, overlap, placeholder)

#: loop mapping per stencil rank: (rows per thread, block x, block y) of the interior kernel.
#: Each thread walks R rows of axis ndim-2 with a register window (H200, float64, first
#: device run: 2-D Laplacian 16384^2 one point per thread 42% of copy, 8 rows 85%; 3-D
#: 640^3 one point per thread 42%, 8 rows in 32 x 4 blocks 77%; see docs/performance.md).
TUNING = {1: (1, 256, 1), 2: (8, 128, 1), 3: (8, 32, 4)}
MAX_GRID_YZ = 65535


def tuning(ndim: int) -> tuple[int, int, int]:
    return TUNING.get(ndim, TUNING[3])


def host_values(values: dict) -> dict:
    """``values`` with device arrays replaced by host placeholders (for binding)."""
    return {n: placeholder(DeviceArray(v, f"argument '{n}'")) if is_device_array(v) else v
            for n, v in values.items()}


def placeholder_out(out):
    """``out=`` with device arrays replaced by host placeholders."""
    if out is None:
        return None
    outs = out if isinstance(out, tuple) else (out,)
    shadow = tuple(placeholder(DeviceArray(o, "out")) if is_device_array(o) else o for o in outs)
    return shadow if isinstance(out, tuple) else shadow[0]


def device_for(values, out):
    from stencilpy.runtime.gpu import emulate
    outs = out if isinstance(out, tuple) else (out,)
    arrays = [v for v in (*values, *outs) if is_device_array(v)]
    kinds = {isinstance(a, emulate.EmulatedArray) for a in arrays}
    if kinds == {True}:
        return emulate.device()
    if True in kinds:
        raise StencilCallError("a call mixes host-emulated test arrays with GPU arrays")
    from stencilpy.runtime.gpu.driver import cuda_device
    return cuda_device()


_View = DeviceView


def execute_gpu(stencil, values: dict, boundary=None, fill_value=None, out=None, domain=None,
                threads=None, check=False, verify=None):
    """``Stencil.call_arrays`` for a call with GPU arrays; returns device array(s).
    ``check``: ``verify(call, results)`` with the fields and results copied to the host
    (the caller runs the numpy reference and compares)."""
    key = _plan_key(values, boundary, fill_value, out) if domain is None and not check else None
    plans = stencil.__dict__.setdefault("_gpu_plans", {})
    if key is not None:
        plan = plans.get(key)
        if plan is not None:
            result = plan.run(values, out)
            if result is not _MISS:
                return result
    device = device_for(values.values(), out)
    arrays = {}
    for name, v in values.items():
        if isinstance(v, np.ndarray) and v.ndim > 0:
            v = device.to_device(v)               # a host field joins the GPU call
        arrays[name] = v
    outs_in = None
    if out is not None:
        outs_in = out if isinstance(out, tuple) else (out,)
        for k, o in enumerate(outs_in):
            if not is_device_array(o):
                raise StencilCallError(f"out{'' if len(outs_in) == 1 else f'[{k}]'} is a "
                                       f"{type(o).__name__}; a GPU call writes into GPU arrays "
                                       "(e.g. cupy.empty)")
    call = stencil.bind(arrays, boundary, fill_value, domain, threads, check, out)
    fields = {n: arrays[n] for n in call.fields}
    descs = {n: _usable(device, DeviceArray(a, f"argument '{n}'"), a) for n, a in fields.items()}
    copied = any(d.obj is not fields[n] for n, d in descs.items())
    fields = {n: d.obj for n, d in descs.items()}
    if outs_in is not None:
        outs = _check_out(outs_in, call)
        if any(overlap(DeviceArray(o), d) for o in outs for d in descs.values()):
            fresh = _run(device, stencil, call, None, descs)
            for o, r in zip(outs, fresh):
                device.copy(o, r)
            results = tuple(outs)
        else:
            results = _run(device, stencil, call, outs, descs, plans if key and not copied else None,
                           key)
    else:
        results = _run(device, stencil, call, None, descs, plans if key and not copied else None,
                       key)
    if check:
        host = {n: device.to_host(a) for n, a in fields.items()}
        verify(dataclasses.replace(call, fields=host), [device.to_host(r) for r in results])
    return results[0] if len(results) == 1 else results


# -- call plans: a repeated call (same shapes, dtypes, strides, options) skips the binding -------

_MISS = object()
#: plans kept per stencil (emptied when it grows beyond this)
MAX_PLANS = 64


def _ptr_and_sig(obj):
    cai = obj.__cuda_array_interface__
    return cai["data"][0], (tuple(cai["shape"]), cai["typestr"], cai.get("strides"),
                            bool(cai["data"][1]))


def _plan_key(values: dict, boundary, fill_value, out):
    """The static facts of a call, or None when it cannot be planned (host arrays, ...)."""
    parts = []
    try:
        for v in values.values():
            if type(v) is float:
                parts.append(float)
            elif is_device_array(v):
                parts.append(_ptr_and_sig(v)[1])
            else:
                return None
        if out is None:
            okey = None
        else:
            outs = out if isinstance(out, tuple) else (out,)
            if not all(is_device_array(o) for o in outs):
                return None
            okey = (isinstance(out, tuple),) + tuple(_ptr_and_sig(o)[1] for o in outs)
        if isinstance(boundary, dict):
            boundary = tuple(boundary.items())
        elif boundary is not None and type(boundary) is not str:
            return None
        if fill_value is not None:
            if type(fill_value) not in (float, int):
                return None
            fill_value = (type(fill_value), fill_value if fill_value == fill_value else "nan")
        key = (tuple(parts), boundary, fill_value, okey)
        hash(key)
    except (AttributeError, KeyError, TypeError):
        return None
    return key


def _span(shape, strides, itemsize) -> tuple[int, int]:
    lo = hi = 0
    for n, s in zip(shape, strides):
        if n == 0:
            return 0, 0
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + itemsize


class CallPlan:
    """A planned call: launches (of one or more kernels) with the array pointers and scalar
    values to patch."""

    def __init__(self, device, launches, names, out_shapes, out_dtypes, spans, out_spans,
                 single):
        self.device, self.single = device, single
        self.names = names                               # field names (argument keys)
        self.out_shapes, self.out_dtypes = out_shapes, out_dtypes
        self.spans, self.out_spans = spans, out_spans
        self.template = launches     # [(kernel, kind, grid, block, params, pointers, scalars)]

    def run(self, values: dict, out):
        ptrs = [_ptr_and_sig(values[n])[0] for n in self.names]
        if out is None:
            outs = tuple(self.device.empty(shape, dt)
                         for shape, dt in zip(self.out_shapes, self.out_dtypes))
        else:
            outs = out if isinstance(out, tuple) else (out,)
        optrs = [_ptr_and_sig(o)[0] for o in outs]
        if out is not None:
            for i, (p, (a, b)) in enumerate(zip(optrs, self.out_spans)):
                for q, (c, d) in list(zip(optrs, self.out_spans))[i + 1:]:
                    if p + a < q + d and q + c < p + b:
                        return _MISS                       # outputs overlap: the full path raises
            for p, (a, b) in zip(optrs, self.out_spans):
                for q, (c, d) in zip(ptrs, self.spans):
                    if p + a < q + d and q + c < p + b:
                        return _MISS                       # overlap: the full path snapshots
        bits = {name: int(np.float64(values[name]).view(np.int64))
                for launch in self.template for _, name in launch[6]}
        addresses = ptrs + optrs
        for kernel, kind, grid, block, template, pointers, scalars in self.template:
            params = list(template)                       # callers may run it concurrently
            for slot, k, delta in pointers:
                params[slot] = addresses[k] + delta
            for slot, name in scalars:
                params[slot] = bits[name]
            self.device.launch(kernel, kind, grid, block, params)
        return outs[0] if self.single else tuple(outs)


def _usable(device, desc: DeviceArray, obj) -> DeviceArray:
    """``desc``, or a contiguous device copy when its strides are not whole elements."""
    if desc.element_strides() is None:
        return DeviceArray(device.contiguous(obj))
    return desc


def _check_out(outs, call) -> tuple:
    n = len(call.out_dtypes)
    if len(outs) != n:
        raise StencilCallError(f"out= has {len(outs)} arrays but the stencil returns {n}")
    descs = []
    for k, (o, dt) in enumerate(zip(outs, call.out_dtypes)):
        what = "out" if n == 1 else f"out[{k}]"
        d = DeviceArray(o, what)
        if d.shape != call.out_shapes[k]:
            raise StencilCallError(f"{what} has shape {d.shape}; this call's output has "
                                   f"shape {call.out_shapes[k]}")
        if d.readonly:
            raise StencilCallError(f"{what} is read-only; pass a writeable array")
        if not np.can_cast(dt, d.dtype, "same_kind") or d.dtype == np.float16 \
                or d.dtype.kind not in "biuf":
            raise StencilCallError(f"{what} has dtype {d.dtype} but the result is {dt}; "
                                   f"pass an array of dtype {dt}")
        if d.element_strides() is None:
            raise StencilCallError(f"{what} has strides {d.strides} that are not whole "
                                   "elements; pass a contiguous array")
        descs.append(d)
    for k, a in enumerate(descs):
        if any(overlap(a, b) for b in descs[k + 1:]):
            raise StencilCallError("the arrays passed as out= overlap each other; pass "
                                   "separate arrays")
    return tuple(outs)


#: calls that stay cheap on a GPU (no libdevice)
_CHEAP_CALLS = frozenset({"min", "max", "abs", "where", "sign", "copysign", "floor", "ceil",
                          "trunc", "isnan", "isinf", "isfinite", "sqrt"})
#: a kernel whose body costs more than this many operations per point (loads count 1,
#: math functions 20: ``passes/inline_temporaries.cost``) computes one row per thread: the
#: register window pays for memory-bound kernels, and unrolling a heavy body R times costs
#: compile time and registers
WINDOW_MAX_COST = 400


def _op_cost(expr) -> int:
    """Operations of ``expr`` itself (reads of names excluded): loads count 0, divisions
    4, math functions 20, other operations 1."""
    from stencilpy.ir import nodes as N

    ops = {"/": 4, "//": 8, "%": 8, "**": 8}
    return sum((1 if n.func in _CHEAP_CALLS else 20) if isinstance(n, N.Call)
               else ops.get(n.op, 1) if isinstance(n, N.BinOp) else 1 for n in N.walk(expr)
               if isinstance(n, (N.BinOp, N.Call, N.UnaryOp, N.Compare, N.BoolOp, N.Select)))


def recompute_costs(stencil) -> tuple[int, int]:
    """(fused, staged) operations per point: the fused kernel computes each temporary once
    per distinct offset it is needed at (one row per thread); the staged kernels compute
    each temporary once."""
    from stencilpy.ir import nodes as N

    defs = {s.target: s.value for s in stencil.body if isinstance(s, N.Assign)}
    staged = sum(_op_cost(v) for v in defs.values()) + sum(_op_cost(r) for r in stencil.returns)
    fused = sum(_op_cost(r) for r in stencil.returns)
    seen: set = set()
    todo = [(e.name, e.offset) for r in stencil.returns for e in N.walk(r)
            if isinstance(e, N.FieldAccess) and e.name in defs]
    while todo:
        name, off = todo.pop()
        if (name, off) in seen:
            continue
        seen.add((name, off))
        fused += _op_cost(defs[name])
        todo += [(e.name, tuple(a + b for a, b in zip(off, e.offset)))
                 for e in N.walk(defs[name]) if isinstance(e, N.FieldAccess) and e.name in defs]
    return fused, staged


#: None: choose per stencil (``staged``); True/False: force (benchmarks, tests)
STAGED: bool | None = None
#: a stencil runs staged when its fused kernel does this many times the staged work, and
#: at least STAGED_MIN_COST operations per point
STAGED_RATIO = 4
STAGED_MIN_COST = 300


def staged(stencil) -> bool:
    """Whether a call of ``stencil`` (call IR) runs as staged kernels (temporaries stored
    once, ``codegen/gpu/columns.py``) rather than one fused kernel recomputing them."""
    if STAGED is not None:
        return STAGED
    found = _STAGED.get(id(stencil))
    if found is None or found[0] is not stencil:
        fused, once = recompute_costs(stencil)
        if len(_STAGED) > 256:
            _STAGED.clear()
        found = _STAGED[id(stencil)] = (stencil, fused >= STAGED_MIN_COST and
                                        fused > STAGED_RATIO * once)
    return found[1]


#: id(call IR) -> (call IR, staged?)
_STAGED: dict = {}


def rows_for(stencil, ndim: int) -> int:
    """Rows per thread of the interior kernel: the rank's tuning, or 1 for a stencil that
    calls libdevice math functions or whose body is heavy."""
    from stencilpy.ir import nodes as N

    rows = tuning(ndim)[0]
    if rows > 1:
        exprs = [s.value for s in stencil.body] + list(stencil.returns)
        nodes = [n for e in exprs for n in N.walk(e)]
        ops = {"/": 4, "//": 8, "%": 8, "**": 8}
        total = sum((1 if n.func in _CHEAP_CALLS else 20) if isinstance(n, N.Call)
                    else ops.get(n.op, 1) if isinstance(n, N.BinOp) else 1 for n in nodes
                    if isinstance(n, (N.BinOp, N.Call, N.UnaryOp, N.Compare, N.BoolOp, N.Select,
                                      N.FieldAccess)))
        heavy = any(isinstance(n, N.Call) and n.func not in _CHEAP_CALLS for n in nodes)
        if heavy or total > WINDOW_MAX_COST:
            return 1
    return rows


def gpu_spec(call, descs: dict, outs: list, rows: int | None = None) -> GpuSpec:
    ndim = len(call.domain)
    rows = rows_for(call.stencil, ndim) if rows is None else rows
    fields, outputs, scalars = signature(call.broadcast, call.scalars, descs, outs)
    temps = tuple((s.target, call.temp_types[s.target]) for s in call.stencil.body)
    return GpuSpec(call.stencil, fields, scalars, outputs, call.options.modes, temps,
                   rows if ndim >= 2 else 1)


def fast_ranges(call, views: dict) -> list[tuple[int, int]]:
    """Per axis, the part of the region where every read of every field is in bounds."""
    out = []
    for d, (lo, hi) in enumerate(call.regions):
        for name, v in views.items():
            if call.broadcast[name][d]:
                continue
            e_lo, e_hi = call.plan.field_extent(name)[d]
            lo, hi = max(lo, e_lo), min(hi, v.lens[d] - e_hi)
        out.append((lo, max(lo, hi)))
    return out


def launch_params(call, spec: GpuSpec, views: dict, out_views: list, k_axis,
                  nbatch: int) -> list[int]:
    """The kernels' parameters (pointers unshifted and unbiased, the launch box in the
    ``grid`` slots filled per launch by ``plan_launches``)."""
    params: list[int] = []
    for f in spec.fields:
        v = views[f.name]
        params += [v.ptr, v.batch[k_axis][1] if k_axis is not None else 0, *v.strides, *v.lens]
    for v in out_views:
        params += [v.ptr, v.batch[k_axis][1] if k_axis is not None else 0, *v.strides]
    for d, ((lo, hi), (flo, fhi)) in enumerate(zip(call.regions, fast_ranges(call, views))):
        params += [call.domain[d], lo, hi, flo, fhi, 0, 0]
    params.append(nbatch)
    params += [scalar_bits(v) for v in call.scalars.values()]
    params.append(int(np.float64(call.options.fill_value).view(np.int64)))
    params += [fill_bits(o.dtype, call.options.fill_value) or 0 for o in spec.outputs]
    return params


def grid_box(call) -> list[tuple[int, int]]:
    """The output indices the launches cover: the region, plus the "fill" strips."""
    return [(0, n) if m == "fill" else r
            for r, m, n in zip(call.regions, call.options.modes, call.domain)]


def boxes(call, spec: GpuSpec, views: dict, grid=None) -> tuple[list | None, list[list]]:
    """(interior box or None, edge boxes) of ``grid`` (default ``grid_box(call)``): the
    interior is every point whose reads are all in bounds (its rows along the row axis a
    multiple of R); the edge boxes cover the rest of the grid box (at most two slabs per
    axis)."""
    grid = grid_box(call) if grid is None else [tuple(g) for g in grid]
    fast = fast_ranges(call, views)
    inner = [(max(flo, glo), min(fhi, ghi)) for (flo, fhi), (glo, ghi) in zip(fast, grid)]
    row = spec.row_axis
    if row is not None:
        lo, hi = inner[row]
        inner[row] = (lo, lo + max(hi - lo, 0) // spec.rows * spec.rows)
    if any(hi <= lo for lo, hi in inner):
        return None, [grid]
    edges = []
    for d in range(len(grid)):
        for part in ((grid[d][0], inner[d][0]), (inner[d][1], grid[d][1])):
            if part[1] > part[0]:
                edges.append(inner[:d] + [part] + grid[d + 1:])
    return inner, edges


def launch_shape(spec: GpuSpec, box, nbatch: int, kind: str) -> tuple[tuple, tuple]:
    """(grid, block) of a launch over ``box``: x over the inner axis, y over the row axis
    (R rows per thread in the interior), z over the batch and the outer axes."""
    n = spec.ndim
    _, bx, by = tuning(n)
    rows = spec.rows if kind == "interior" else 1
    width = box[n - 1][1] - box[n - 1][0]
    if kind == "edge":                       # thin strips: narrow blocks, taller
        bx = min(bx * by, 1 << max(0, (width - 1).bit_length()))
        by = max(1, (256 // bx) if n > 1 else 1)
    if n == 1:
        by = 1
    gx = -(-width // bx)
    gy = 1 if n == 1 else -(-(-(-(box[n - 2][1] - box[n - 2][0]) // rows)) // by)
    nz = nbatch
    for d in range(n - 2):
        nz *= box[d][1] - box[d][0]
    return (max(gx, 1), max(min(gy, MAX_GRID_YZ), 1), max(min(nz, MAX_GRID_YZ), 1)), (bx, by, 1)


def _needs_loops(grid, spec: GpuSpec, nbatch: int) -> bool:
    """Whether the interior launch over ``grid`` exceeds the grid's y or z limit
    (grid-stride loops)."""
    n = spec.ndim
    _, _, by = tuning(n)
    nz = nbatch
    for d in range(n - 2):
        nz *= grid[d][1] - grid[d][0]
    gy = 1 if n == 1 else -(-(-(-(grid[n - 2][1] - grid[n - 2][0]) // spec.rows)) // by)
    if nz >= 2 ** 31:
        raise StencilCallError(f"the GPU kernel walks {nz} planes x batch elements, more than "
                               "2**31; split the call along its leading axes")
    return gy > MAX_GRID_YZ or nz > MAX_GRID_YZ


def _run(device, stencil, call, outs, descs: dict, plans=None, key=None) -> tuple:
    if outs is None:
        outs = tuple(device.empty(shape, dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    if call.is_empty:
        fill_strips(call, outs)
        return tuple(outs)
    if stencil.columns or staged(call.stencil):      # sweeps, staged: codegen/gpu/columns.py
        from stencilpy.runtime.gpu.columns import run_columns_gpu
        return run_columns_gpu(device, stencil, call, outs, descs)
    launches = plan_launches(device, stencil, call, outs, descs)
    for kernel, kind, grid, block, params, _ in launches:
        device.launch(kernel, kind, grid, block, params)
    if plans is not None and all(type(v) is float for v in call.scalars.values()):
        _record_plan(plans, key, device, launches, call, descs, outs)
    return tuple(outs)


def _record_plan(plans, key, device, launches, call, descs, outs) -> None:
    """Remember ``launches`` as a plan: each pointer parameter as (array, byte offset)."""
    bases = [d.ptr for d in descs.values()] + [DeviceArray(o).ptr for o in outs]
    template = []
    for kernel, kind, grid, block, params, which in launches:
        spec = kernel.spec
        pointers = [(slot, k, params[slot] - bases[k])
                    for slot, k in zip(spec.pointer_params(), which)]
        first_scalar = spec.axis_params() + AXIS_PARAMS * spec.ndim + 1
        scalars = [(first_scalar + i, name) for i, (name, _) in enumerate(spec.scalars)]
        template.append((kernel, kind, grid, block, params, pointers, scalars))
    spans = [_span(d.shape, d.strides, d.itemsize) for d in descs.values()]
    out_spans = [_span(*(lambda a: (a.shape, a.strides, a.itemsize))(DeviceArray(o)))
                 for o in outs]
    if len(plans) >= MAX_PLANS:
        plans.clear()
    plans[key] = CallPlan(device, template, list(descs), call.out_shapes, call.out_dtypes,
                          spans, out_spans, len(call.out_dtypes) == 1)


def plan_launches(device, stencil, call, outs, descs: dict) -> list:
    """[(kernel, kind, grid, block, parameters, arrays)] of a call: the main kernel's
    interior and edge launches over its grid box (the common region ``call.regions``, plus
    the "fill" strips); then, for each output whose own region ``R_k`` is larger
    (``BoundCall.output_regions``), its one-output kernel (``runtime/strips.py:
    output_call``) with region ``R_k`` over the rest of that output (boxes tiling it minus
    the common region: computed inside ``R_k``, fill values outside; it rewrites the fill
    values the main kernel put on ``R_k``'s extra strips).  Each per Python-looped batch
    index (batch axes the kernel cannot walk as one strided axis).  ``arrays``: per pointer
    parameter, the index of its array in fields + outputs."""
    from stencilpy.runtime.strips import output_call, strip_boxes

    ndim = len(call.domain)
    out_descs = [DeviceArray(o) for o in outs]
    views = {n: _View(d, ndim, call.batch_shape, call.broadcast[n]) for n, d in descs.items()}
    out_views = [_View(d, ndim, call.batch_shape) for d in out_descs]
    all_views = list(views.values()) + out_views
    loop_dims, kernel_dims = _batch_split(all_views, call.batch_shape)
    k_axis = kernel_dims[-1] if kernel_dims else None
    nbatch = int(np.prod([call.batch_shape[i] for i in kernel_dims], dtype=np.int64))
    nf = len(views)
    jobs = []
    if all(hi > lo for lo, hi in call.regions):
        jobs.append((call, list(range(len(outs))), grid_box(call)))
    modes = call.options.modes
    for k, region in enumerate(call.output_regions):
        if region == call.regions:
            continue
        single = dataclasses.replace(output_call(call, k), regions=region)
        own = tuple((0, n) if m == "fill" else r for r, m, n in zip(region, modes, call.domain))
        jobs += [(single, [k], list(box)) for box in strip_boxes(call.regions, own)]
    shapes = []
    for part, which, grid in jobs:
        spec = gpu_spec(part, descs, [out_descs[k] for k in which])
        spec = dataclasses.replace(spec, loops=_needs_loops(grid, spec, nbatch))
        kernel = device.kernel(stencil, spec)
        while spec.rows > 1 and device.spills(kernel, "interior"):    # fewer rows per thread
            spec = dataclasses.replace(spec, rows=spec.rows // 2)      # until nothing spills
            spec = dataclasses.replace(spec, loops=_needs_loops(grid, spec, nbatch))
            kernel = device.kernel(stencil, spec)
        pviews = [out_views[k] for k in which]
        params = launch_params(part, spec, views, pviews, k_axis, nbatch)
        arrays = list(range(nf)) + [nf + k for k in which]
        bias = [0] * nf + [output_bias(part, q, v) for q, v in enumerate(pviews)]
        box_slot = spec.axis_params()                 # per axis: N, region, fast, grid
        interior, edges = boxes(part, spec, views, grid)
        for kind, box in ([("interior", interior)] if interior else []) + \
                [("edge", e) for e in edges]:
            local = list(params)
            for d, (lo, hi) in enumerate(box):
                slot = box_slot + AXIS_PARAMS * d
                local[slot + 5], local[slot + 6] = lo, hi
            shapes.append((kernel, kind, *launch_shape(spec, box, nbatch, kind), local,
                           arrays, bias))
    launches = []
    for index in np.ndindex(*[call.batch_shape[i] for i in loop_dims]):
        shifts = [v.ptr + sum(i * v.batch[a][1] for a, i in zip(loop_dims, index)) * v.itemsize
                  for v in all_views]
        for kernel, kind, grid, block, base, arrays, bias in shapes:
            local = list(base)
            for slot, k, minus in zip(kernel.spec.pointer_params(), arrays, bias):
                local[slot] = shifts[k] - minus
            launches.append((kernel, kind, grid, block, local, arrays))
    return launches


def prepare(stencil, values: dict, out, **options):
    """A zero-overhead re-run of one GPU call writing into ``out``: returns ``run()``, which
    launches the planned kernel(s) again on the same arrays (for benchmarks and time loops
    whose arrays do not change; ``out`` must not overlap an input)."""
    device = device_for(values.values(), out)
    outs = out if isinstance(out, tuple) else (out,)
    call = stencil.bind(values, options.get("boundary"), options.get("fill_value"),
                        options.get("domain"), None, False, out)
    descs = {n: DeviceArray(values[n], n) for n in call.fields}
    if any(overlap(DeviceArray(o), d) for o in outs for d in descs.values()):
        raise StencilCallError("prepare(): out= overlaps an input")
    if call.is_empty:
        raise StencilCallError("prepare(): the call computes no point")
    launches = plan_launches(device, stencil, call, _check_out(outs, call), descs)

    def run():
        for kernel, kind, grid, block, params, _ in launches:
            device.launch(kernel, kind, grid, block, params)
    run.kernel = launches[0][0]
    run.launches = launches
    return run
