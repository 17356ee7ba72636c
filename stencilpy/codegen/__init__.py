"""ir + frozen analysis -> llvmlite.ir.Module (never llvmlite.binding).

    spec.py      KernelSpec (what a kernel is specialised for), ArgLayout (the argument
                 block's named slots, shared with runtime/launch.py)
    kernel.py    lower(spec, target): the module, its entry and the body's signature
    context.py   KernelContext: what is fixed for one kernel
    args.py      the argument block's slots as SSA values of one function
    geometry.py  per-stage loop bounds, interiors, temporary buffers
    nest.py      the body's loop nest: chunks, batch, rows or tiles, outer axes
    segments.py  the inner axis of a row: remapped | fast | streamed; remapped functions
    access.py    row pointers (ghost rows: "extrapolate" beyond an outer axis' end),
                 loads at a point, stores
    stream.py    streaming (non-temporal) stores
    boundary.py  index remapping; the "extrapolate" ghost (three entries combined)
    expr.py      expressions of one point (target-neutral)
    math.py      NumPy's arithmetic in plain IR (target-neutral)
    target.py    Target protocol; CpuTarget (intrinsics + libm, vector-width hints)
    types.py     NumPy types as LLVM types            loops.py     loop helpers
    worker.py    the helper threads' mailbox loop (sp_sync)
    sweeps.py    column sweeps: reassignments versioned, level runs (CPU and GPU)
    column_plan.py  a column stencil's blocked plan, layout and argument slots (no llvmlite:
                 a warm start finds the kernel in the cache with it alone)
    columns.py   the blocked column kernel lowered from that plan
    gpu/         the GPU kernels: GpuSpec, interior + edge kernels for NVPTX or the host,
                 GpuTarget (libdevice math)
"""
