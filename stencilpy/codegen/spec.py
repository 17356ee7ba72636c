"""What one compiled kernel is specialised for, and the layout of its argument block.

The kernel's only argument is a pointer to an ``int64`` block (built by
``runtime/call.py``)::

    header:   batch_lo, batch_hi, tile,  per axis d: N_d, region_lo_d, region_hi_d
    fields:   per field:  ptr, batch_stride, stride[ndim], length[ndim]
    outputs:  per output: ptr, batch_stride, stride[ndim], origin[ndim]
    scratch:  per materialised temporary: ptr
    scalars:  per scalar: the value's bits (float64 or int64)
    fill:     the fill value as float64 bits

Strides are in elements.  ``region`` is the part of the output this call
computes (along axis 0 only this thread's share).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.analysis import Plan
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil


@dataclass(frozen=True)
class FieldSpec:
    name: str
    dtype: np.dtype
    broadcast: tuple[bool, ...]
    unit_inner: bool           # stride 1 along the innermost stencil axis


@dataclass(frozen=True)
class OutputSpec:
    dtype: np.dtype
    unit_inner: bool


@dataclass(frozen=True)
class KernelSpec:
    """A stencil specialised for argument dtypes, broadcasting, layout and boundary modes."""

    stencil: N.Stencil
    plan: Plan
    fields: tuple[FieldSpec, ...]
    scalars: tuple[tuple[str, type], ...]
    outputs: tuple[OutputSpec, ...]
    modes: tuple[str, ...]
    temp_types: tuple[tuple[str, object], ...]
    streaming: bool = False

    @property
    def ndim(self) -> int:
        return self.stencil.ndim

    @property
    def materialised(self) -> tuple[str, ...]:
        return tuple(s.target for s in self.plan.stages if s.target is not None)

    def types(self) -> dict:
        env = {f.name: f.dtype for f in self.fields}
        env.update(dict(self.scalars))
        env.update(dict(self.temp_types))
        return env

    def fingerprint_text(self) -> str:
        """Canonical text of everything the generated code depends on."""
        parts = [format_stencil(self.stencil), f"modes={self.modes}", f"streaming={self.streaming}"]
        parts += [f"field {f.name} {f.dtype.str} bcast={f.broadcast} unit={f.unit_inner}"
                  for f in self.fields]
        parts += [f"scalar {n} {t.__name__}" for n, t in self.scalars]
        parts += [f"out {o.dtype.str} unit={o.unit_inner}" for o in self.outputs]
        return "\n".join(parts)


class ArgLayout:
    """Slot numbers in the argument block of a kernel."""

    def __init__(self, spec: KernelSpec):
        n = spec.ndim
        self.ndim = n
        self.batch_lo, self.batch_hi, self.tile = 0, 1, 2
        pos = 3
        self.axis = [(pos + 3 * d, pos + 3 * d + 1, pos + 3 * d + 2) for d in range(n)]
        pos += 3 * n
        self.field = {}
        for f in spec.fields:
            self.field[f.name] = pos
            pos += 2 + 2 * n
        self.output = []
        for _ in spec.outputs:
            self.output.append(pos)
            pos += 2 + 2 * n
        self.scratch = {}
        for t in spec.materialised:
            self.scratch[t] = pos
            pos += 1
        self.scalar = {}
        for name, _ in spec.scalars:
            self.scalar[name] = pos
            pos += 1
        self.fill = pos
        self.size = pos + 1
