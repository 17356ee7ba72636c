"""One compiled call end to end: outputs (snapshot semantics when ``out=`` overlaps
an input), kernel lookup (a dict keyed by the call's static properties), the
kernel run, and the "fill" strips.  ``runtime/fastpath.py`` caches all of this
per call signature; this module is the full, validating path."""

from __future__ import annotations

import sys
import threading

import numpy as np

from stencilpy.errors import StencilCallError
from stencilpy.runtime.call import fill_strips, kernel_spec, run_compiled, wants_streaming
from stencilpy.runtime.forksafe import reset_in_child
from stencilpy.runtime.kernel import compile_kernel
from stencilpy.runtime.strips import strip_calls
from stencilpy.signature import BoundCall

_COMPILE_LOCK = threading.Lock()
# fork waits for a compile in another thread (it may be importing llvmlite or codegen: a
# child would inherit those modules half-imported, their import locks held)
reset_in_child(sys.modules[__name__], "_COMPILE_LOCK", hold_rank=10)


def _static_key(call: BoundCall, outs, streaming: bool, writes_fill: bool = True) -> tuple:
    fields = tuple((n, a.dtype.char, call.broadcast[n], a.strides[-1] == a.itemsize)
                   for n, a in call.fields.items())
    scalars = tuple((n, type(v)) for n, v in call.scalars.items())
    outputs = tuple((o.dtype.char, o.strides[-1] == o.itemsize) for o in outs)
    return (id(call.stencil), fields, scalars, outputs, call.options.modes, streaming,
            writes_fill)


def get_kernel(kernels: dict, call: BoundCall, outs, writes_fill: bool = True):
    """The kernel of ``call`` (``writes_fill=False``: one that computes part of an output's
    region, ``runtime/strips.py``, never streaming)."""
    lo, hi = call.regions[-1]
    streaming = writes_fill and wants_streaming(outs, call.fields.values(), hi - lo)
    key = _static_key(call, outs, streaming, writes_fill)
    kernel = kernels.get(key)
    if kernel is None:
        with _COMPILE_LOCK:
            kernel = kernels.get(key)
            if kernel is None:
                kernel = kernels[key] = compile_kernel(kernel_spec(call, outs, streaming,
                                                                   writes_fill))
    return kernel


def overlaps(outs, call: BoundCall) -> bool:
    """Whether an output shares memory with an input (raises if outputs share memory)."""
    arrays = list(call.fields.values())
    for k, o in enumerate(outs):
        if any(np.may_share_memory(o, p) for p in outs[k + 1:]):
            raise StencilCallError("the arrays passed as out= overlap each other; pass separate arrays")
    return any(np.may_share_memory(o, a) for o in outs for a in arrays)


def execute(kernels: dict, call: BoundCall, outs) -> tuple[np.ndarray, ...]:
    """Run ``call`` on its compiled kernel; returns the output arrays."""
    if outs is not None and overlaps(outs, call):
        fresh = execute(kernels, call, None)
        for o, r in zip(outs, fresh):
            o[...] = r
        return tuple(outs)
    if outs is None:
        outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    if call.is_empty:
        fill_strips(call, outs)
        return tuple(outs)
    kernel = get_kernel(kernels, call, outs)
    if all(hi > lo for lo, hi in call.regions):
        run_compiled(call, kernel, outs)
    for k, strip in strip_calls(kernels, call):      # outputs with larger regions of their own
        run_compiled(strip, get_kernel(kernels, strip, outs[k:k + 1], False), outs[k:k + 1])
    fill_strips(call, outs, kernel.spec)
    return tuple(outs)
