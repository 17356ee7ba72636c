"""One compiled call end to end, the full (validating) path: outputs (snapshot semantics
when ``out=`` overlaps an input: ``runtime/overlap.py``), the kernel (``kernel_for``, the
stencil's ``compile.Compiler.kernel``), the run, and the "fill" strips.
``runtime/fastpath.py`` prepares all of this once per call signature."""

from __future__ import annotations

import numpy as np

from stencilpy.runtime import overlap
from stencilpy.runtime.launch import fill_strips, run_compiled
from stencilpy.signature import BoundCall


def execute(call: BoundCall, outs, kernel_for) -> tuple[np.ndarray, ...]:
    """Run ``call`` on the kernel ``kernel_for(call, outs)``; returns the output arrays."""
    if outs is not None and overlap.check(outs, call.fields.values()):
        fresh = execute(call, None, kernel_for)
        overlap.copy_into(outs, fresh)
        return tuple(outs)
    if outs is None:
        outs = tuple(np.empty(call.out_shape, dtype=dt) for dt in call.out_dtypes)
    if call.is_empty:
        fill_strips(call, outs)
        return tuple(outs)
    kernel = kernel_for(call, outs)
    run_compiled(call, kernel, outs)
    fill_strips(call, outs, kernel.spec)
    return tuple(outs)
