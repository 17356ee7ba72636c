"""``sp.inspect(k, stage)``: every stage of the pipeline as text."""

from __future__ import annotations

import numpy as np

from stencilpy.errors import StencilCallError

STAGES = ("ir", "analysis", "llvm", "llvm-opt", "asm")


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
    from stencilpy.runtime import jit
    from stencilpy.runtime.kernel import llvm_ir

    boundary = kwargs.pop("boundary", None)
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


def inspect(k, stage: str, *args, **kwargs) -> str:
    """Text of one compilation stage of stencil ``k``: "ir", "analysis", "llvm",
    "llvm-opt" or "asm".  For the code stages, example arguments may be given
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
