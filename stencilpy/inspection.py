"""``sp.inspect(k, stage)``: a stage of the compile driver (``compile.py``) as text.

The stages after "analysis" belong to one kernel specialisation: ``inspect`` binds example
arguments as a call would and asks the driver for that call's ``KernelSpec``.
"""

from __future__ import annotations

import numpy as np

from stencilpy.compile import DEFINITION_STAGES, kernel_spec, stage_text
from stencilpy.compile import STAGES as DRIVER_STAGES
from stencilpy.errors import StencilCallError, api_boundary
from stencilpy.runtime.launch import wants_streaming
from stencilpy.signature import bind_arguments

#: the driver's stages, and the GPU kernel's PTX
STAGES = DRIVER_STAGES + ("ptx",)


def _example_args(k, args):
    return args or [np.zeros((16,) * k.ndim) for _ in k.ir.params]


def _example_spec(k, args, kwargs):
    """The kernel spec of a call of ``k`` with example arguments (float64 arrays of shape
    16 x ... x 16 by default); ``boundary=`` among ``kwargs`` selects the modes."""
    boundary = kwargs.pop("boundary", None)
    if not args and not kwargs:
        args = _example_args(k, args)
    call = k.bind(bind_arguments(k.ir, args, kwargs), boundary=boundary)
    outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    lo, hi = call.regions[-1]              # streaming stores as the call would choose them
    return kernel_spec(call, outs, wants_streaming(outs, call.fields.values(), hi - lo))


def gpu_example_spec(k, args, kwargs):
    """The GPU kernel spec for example arguments (host arrays standing in for GPU arrays:
    PTX needs no GPU)."""
    from stencilpy.runtime.gpu.arrays import DeviceArray
    from stencilpy.runtime.gpu.emulate import EmulatedArray
    from stencilpy.runtime.gpu.execute import gpu_spec

    kwargs = dict(kwargs)
    boundary = kwargs.pop("boundary", None)
    fill_value = kwargs.pop("fill_value", None)
    if not args and not kwargs:
        args = _example_args(k, args)
    values = bind_arguments(k.ir, args, kwargs)
    call = k.bind(values, boundary=boundary, fill_value=fill_value)
    descs = {n: DeviceArray(EmulatedArray(np.ascontiguousarray(a))) for n, a in call.fields.items()}
    outs = [DeviceArray(EmulatedArray(np.empty(shape, dtype=dt)))
            for shape, dt in zip(call.out_shapes, call.out_dtypes)]
    from stencilpy.runtime.gpu.execute import staged
    if k.columns or staged(call.stencil):     # sweeps or staged: the column kernels
        from stencilpy.runtime.gpu.columns import column_spec
        return column_spec(call, descs, outs)
    return gpu_spec(call, descs, outs)


@api_boundary
def inspect(k, stage: str, *args, **kwargs) -> str:
    """Text of one compilation stage of stencil ``k``: "ir" (after the passes), "analysis",
    "ir-call" (the IR a call's kernel runs: scalar arguments bound, cheap temporaries
    inlined), "llvm", "llvm-opt", "asm" or "ptx" (the GPU kernel's PTX; no GPU needed).
    For the call stages, example arguments may be given (default: float64 arrays of shape
    16 x ... x 16); ``boundary=`` selects the modes.

    >>> import stencilpy as sp
    >>> @sp.stencil
    ... def d(u):
    ...     return u[1] - u[0]
    >>> print(sp.inspect(d, "ir"), end="")
    stencil d(u[]) dims=(dim_0)
        return (u[1] - u[0])
    """
    if not isinstance(stage, str) or stage not in STAGES:
        shown = repr(stage) if isinstance(stage, str) else f"of type {type(stage).__name__}"
        raise StencilCallError(f"unknown stage {shown}; use one of {STAGES}: "
                               f"sp.inspect(k, stage, *args)")
    definition = k.compiler.definition
    if stage in DEFINITION_STAGES:
        return stage_text(stage, definition)
    if stage == "ptx":
        from stencilpy.runtime.gpu.ptx import ptx_for
        return ptx_for(gpu_example_spec(k, args, kwargs))[1]
    if k.columns and stage in ("llvm", "llvm-opt", "asm"):      # sweeps: the column kernel
        from stencilpy.runtime import jit
        kwargs = dict(kwargs)
        text = k.column_ir(args, kwargs, kwargs.pop("boundary", None))
        if stage == "llvm":
            return text
        return jit.optimised_ir(text) if stage == "llvm-opt" else jit.assembly(text)
    return stage_text(stage, definition, _example_spec(k, args, dict(kwargs)))
