"""One call of a column stencil (sweeps) on GPU arrays: the launches of
``codegen/gpu/columns.py`` in order, per Python-looped batch index.

    call -> GpuColumnSpec (box, halo, domain, dtypes; temporaries' storage; register
            temporaries) -> kernel (PTX or host emulation)
         -> box temporaries (zeroed device arrays, reused by every batch index)
         -> per batch index: block 0, block 1, ... (parallel groups, sweeps), then output
            0, 1, ... : 1-D launches, a thread per box point / column / output point
"""

from __future__ import annotations

import numpy as np

from stencilpy.codegen.gpu.columns import GpuColumnSpec, register_temporaries
from stencilpy.codegen.gpu.spec import signature
from stencilpy.codegen.sweeps import version_reassignments
from stencilpy.runtime.launch import fill_bits, scalar_bits

#: threads per block of the column launches
BLOCK = 128
MAX_BLOCKS = 1 << 20


def column_spec(call, descs: dict, outs: list) -> GpuColumnSpec:
    """The spec of ``call``'s column kernels (``descs``: field ``DeviceArray``s, ``outs``:
    output ``DeviceArray``s)."""
    from stencilpy.runtime.gpu.arrays import DeviceView

    fields, outputs, scalars = signature(call.broadcast, call.scalars, descs, outs)
    stencil, temps, regs = _prepared(call.stencil, fields, scalars, call.domain)
    halo = call.plan.halo
    return GpuColumnSpec(
        stencil, fields, scalars, outputs, call.options.modes,
        tuple((n, np.dtype(t)) for n, t in temps.items() if n not in regs),
        tuple((n, np.dtype(t)) for n, t in temps.items() if n in regs),
        tuple(lo + n + hi for (lo, hi), n in zip(halo, call.domain)),
        tuple(lo for lo, _ in halo), call.domain, tuple(call.output_regions),
        tuple(tuple(DeviceView(d, len(call.domain), call.batch_shape, call.broadcast[n]).lens)
              for n, d in descs.items()))


#: (id(call IR), field dtypes, scalar types, domain) -> (call IR, versioned IR, storage
#: dtypes, register temporaries): the per-call analysis, once per signature
_PREPARED: dict = {}


def _prepared(ir, fields, scalars, domain):
    from stencilpy.codegen.column_plan import storage_types

    key = (id(ir), tuple((f.name, f.dtype.str) for f in fields), scalars, domain)
    found = _PREPARED.get(key)
    if found is None or found[0] is not ir:
        stencil = version_reassignments(ir)
        env = {f.name: f.dtype for f in fields}
        env.update(dict(scalars))
        if len(_PREPARED) > 256:
            _PREPARED.clear()
        found = _PREPARED[key] = (ir, stencil, storage_types(stencil, env),
                                  register_temporaries(stencil, domain))
    return found[1:]


def _points(spec: GpuColumnSpec, kind: str) -> int:
    if kind.startswith("o"):
        k = int(kind[1:])
        return int(np.prod([hi - lo if m == "valid" else n for (lo, hi), m, n
                            in zip(spec.out_regions[k], spec.modes, spec.domain)], dtype=np.int64))
    block = spec.groups()[int(kind[1:])]
    shape = spec.box
    if not isinstance(block, tuple):
        shape = tuple(s for d, s in enumerate(shape) if d != block.axis)
    return int(np.prod(shape, dtype=np.int64))


def _check_call_levels(call) -> None:
    """The level ranges on the call's true axis lengths (as ``reference/columns.py:
    check_call_levels``, which the runtime layer does not import)."""
    from stencilpy.errors import StencilCallError
    from stencilpy.ir.levels import LevelError, check_levels
    try:
        check_levels(call.stencil, call.domain)
    except LevelError as exc:
        raise StencilCallError(
            f"'{call.stencil.name}' cannot run on this domain {call.domain}: {exc.message} "
            f"({exc.loc}); {exc.hint}") from None
    from stencilpy.analysis.columns import short_axis_error
    problem = short_axis_error(call.stencil, call.plan.halo, call.domain)
    if problem is not None:
        raise StencilCallError(f"'{call.stencil.name}' cannot run on this domain "
                               f"{call.domain}: {problem}")


def column_launches(device, stencil, call, outs, descs: dict) -> list:
    """[(kernel, kind, grid, block, parameters)] of a column call, in launch order (the box
    temporaries are allocated here and kept alive by the returned list's owner)."""
    from stencilpy.runtime.gpu.arrays import DeviceArray, DeviceView, output_bias

    if stencil.columns:
        _check_call_levels(call)
    ndim = len(call.domain)
    out_descs = [DeviceArray(o) for o in outs]
    spec = column_spec(call, descs, out_descs)
    kernel = device.kernel(stencil, spec)
    # sweeps may leave levels of a temporary unwritten (never read for a kept output): zeroed,
    # as the CPU's column kernel; a staged stencil writes every box point of each temporary
    alloc = device.zeros if stencil.columns else device.empty
    temps = [alloc(spec.box, dt) for _, dt in spec.storage]
    tptrs = [DeviceArray(t).ptr for t in temps]
    views = [DeviceView(d, ndim, call.batch_shape, call.broadcast[n]) for n, d in descs.items()]
    out_views = [DeviceView(d, ndim, call.batch_shape) for d in out_descs]
    tail = [scalar_bits(v) for v in call.scalars.values()]
    tail.append(int(np.float64(call.options.fill_value).view(np.int64)))
    tail += [fill_bits(o.dtype, call.options.fill_value) or 0 for o in spec.outputs]
    kinds = [(kind, _points(spec, kind)) for kind in spec.entries()]
    launches = []
    for index in np.ndindex(*call.batch_shape):
        def shifted(v):
            return v.ptr + sum(i * s for i, (_, s) in zip(index, v.batch)) * v.itemsize
        params: list[int] = []
        for v in views:
            params += [shifted(v), *v.strides, *v.lens]
        params += tptrs
        for k, v in enumerate(out_views):
            params += [shifted(v) - output_bias(call, k, v), *v.strides]
        params += tail
        for kind, points in kinds:
            if points == 0:
                continue
            grid = (max(1, min(-(-points // BLOCK), MAX_BLOCKS)), 1, 1)
            launches.append((kernel, kind, grid, (BLOCK, 1, 1), params))
    launches.append(temps)                  # kept alive until the launches are queued
    return launches


def run_columns_gpu(device, stencil, call, outs, descs: dict) -> tuple:
    """Run a column call on ``outs`` (device arrays of ``call.out_shapes``)."""
    launches = column_launches(device, stencil, call, outs, descs)
    for kernel, kind, grid, block, params in launches[:-1]:
        device.launch(kernel, kind, grid, block, params)
    return tuple(outs)
