"""One compiled call end to end, the full (validating) path: outputs (snapshot semantics
when ``out=`` overlaps an input: ``runtime/overlap.py``), the kernel (``kernel_for``, the
stencil's ``compile.Compiler.kernel``), the run, and the "fill" strips.
``runtime/fastpath.py`` prepares all of this once per call signature."""

from __future__ import annotations

import numpy as np

from stencilpy.runtime import overlap
from stencilpy.runtime.launch import fill_strips, run_compiled
from stencilpy.runtime.strips import strip_calls
from stencilpy.signature import BoundCall


def execute(call: BoundCall, outs, kernel_for) -> tuple[np.ndarray, ...]:
    """Run ``call`` on the kernel ``kernel_for(call, outs)``; returns the output arrays
    (outputs with larger regions of their own get their strips from
    ``kernel_for(strip, out, writes_fill=False)``, ``runtime/strips.py``)."""
    if outs is not None and overlap.check(outs, call.fields.values()):
        fresh = execute(call, None, kernel_for)
        overlap.copy_into(outs, fresh)
        return tuple(outs)
    if outs is None:
        outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    if call.is_empty:
        fill_strips(call, outs)
        return tuple(outs)
    kernel = kernel_for(call, outs)
    if all(hi > lo for lo, hi in call.regions):
        run_compiled(call, kernel, outs)
    for k, strip in strip_calls(call):      # outputs with larger regions of their own
        run_compiled(strip, kernel_for(strip, outs[k:k + 1], writes_fill=False), outs[k:k + 1])
    fill_strips(call, outs, kernel.spec)
    return tuple(outs)
