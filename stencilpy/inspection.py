"""``sp.inspect(k, stage)``: a stage of the compile driver (``compile.py``) as text.

The stages after "analysis" belong to one kernel specialisation: ``inspect`` binds example
arguments as a call would and asks the driver for that call's ``KernelSpec``.
"""

from __future__ import annotations

import numpy as np

from stencilpy.compile import DEFINITION_STAGES, STAGES, kernel_spec, stage_text
from stencilpy.errors import StencilCallError, api_boundary
from stencilpy.signature import bind_arguments


def _example_spec(k, args, kwargs):
    """The kernel spec of a call of ``k`` with example arguments (float64 arrays of shape
    16 x ... x 16 by default); ``boundary=`` among ``kwargs`` selects the modes."""
    boundary = kwargs.pop("boundary", None)
    if not args and not kwargs:
        args = [np.zeros((16,) * k.ndim) for _ in k.ir.params]
    call = k.bind(bind_arguments(k.ir, args, kwargs), boundary=boundary)
    outs = tuple(np.empty(call.out_shape, dtype=dt) for dt in call.out_dtypes)
    return kernel_spec(call, outs)


@api_boundary
def inspect(k, stage: str, *args, **kwargs) -> str:
    """Text of one compilation stage of stencil ``k``: "ir" (after the passes), "analysis",
    "ir-call" (the IR a call's kernel runs: scalar arguments bound, cheap temporaries
    inlined), "llvm", "llvm-opt" or "asm".  For the call stages, example arguments may be
    given (default: float64 arrays of shape 16 x ... x 16); ``boundary=`` selects the modes.

    >>> import stencilpy as sp
    >>> @sp.stencil
    ... def d(u):
    ...     return u[1] - u[0]
    >>> print(sp.inspect(d, "ir"), end="")
    stencil d(u[]) dims=(dim_0)
        return (u[1] - u[0])
    """
    if stage not in STAGES:
        raise StencilCallError(f"unknown stage {stage!r}; use one of {STAGES}")
    definition = k.compiler.definition
    if stage in DEFINITION_STAGES:
        return stage_text(stage, definition)
    return stage_text(stage, definition, _example_spec(k, args, dict(kwargs)))
