"""``sp.inspect(k, stage)``: every stage of the pipeline as text."""

from __future__ import annotations

import numpy as np

from stencilpy.errors import StencilCallError

STAGES = ("ir", "analysis", "llvm", "llvm-opt", "asm", "ptx")


def _example_spec(k, args, kwargs):
    """A kernel spec for example arguments (float64 arrays of a small shape by default)."""
    from stencilpy.runtime.call import kernel_spec

    if not args and not kwargs:
        shape = (16,) * k.ndim
        args = [np.zeros(shape) for _ in k.ir.params]
    values = k._bind_arguments(args, dict(kwargs))
    boundary = values.pop("boundary", None) if "boundary" in values else None
    call = k.bind(values, boundary=boundary)
    outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    return kernel_spec(call, outs)


def inspect_stencil(k, stage: str, *args, **kwargs) -> str:
    from stencilpy.ir import format_stencil

    if stage not in STAGES:
        raise StencilCallError(f"unknown stage {stage!r}; use one of {STAGES}")
    if stage == "ir":
        return format_stencil(k.ir)
    if stage == "analysis":
        from stencilpy.analysis import describe
        return describe(k.plan)
    if stage == "ptx":
        from stencilpy.runtime.gpu.ptx import ptx_for
        return ptx_for(gpu_example_spec(k, args, kwargs))[1]
    from stencilpy.runtime import jit
    from stencilpy.runtime.kernel import llvm_ir

    boundary = kwargs.pop("boundary", None)
    if k.columns:
        text = k.column_ir(args, kwargs, boundary)
        if stage == "llvm":
            return text
        return jit.optimised_ir(text) if stage == "llvm-opt" else jit.assembly(text)
    spec = _example_spec(k, args, kwargs) if boundary is None else \
        _example_spec_boundary(k, args, kwargs, boundary)
    text = llvm_ir(spec)
    if stage == "llvm":
        return text
    return jit.optimised_ir(text) if stage == "llvm-opt" else jit.assembly(text)


def _example_spec_boundary(k, args, kwargs, boundary):
    from stencilpy.runtime.call import kernel_spec

    if not args and not kwargs:
        args = [np.zeros((16,) * k.ndim) for _ in k.ir.params]
    call = k.bind(k._bind_arguments(args, dict(kwargs)), boundary=boundary)
    outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    return kernel_spec(call, outs)


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
        args = [np.zeros((16,) * k.ndim) for _ in k.ir.params]
    values = k._bind_arguments(args, kwargs)
    call = k.bind(values, boundary=boundary, fill_value=fill_value)
    descs = {n: DeviceArray(EmulatedArray(np.ascontiguousarray(a))) for n, a in call.fields.items()}
    outs = [DeviceArray(EmulatedArray(np.empty(call.out_shape, dtype=dt)))
            for dt in call.out_dtypes]
    return gpu_spec(call, descs, outs)


def inspect(k, stage: str, *args, **kwargs) -> str:
    """Text of one compilation stage of stencil ``k``: "ir", "analysis", "llvm",
    "llvm-opt", "asm" or "ptx" (the GPU kernel's PTX; no GPU needed).  For the code stages, example arguments may be given
    (default: float64 arrays of shape 16 x ... x 16); ``boundary=`` selects the modes.

    >>> import stencilpy as sp
    >>> @sp.stencil
    ... def d(u):
    ...     return u[1] - u[0]
    >>> print(sp.inspect(d, "ir"), end="")
    stencil d(u[]) dims=(dim_0)
        return (u[1] - u[0])
    """
    return k.inspect(stage, *args, **kwargs)
