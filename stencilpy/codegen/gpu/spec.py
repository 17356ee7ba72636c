"""What one GPU kernel is specialised for, and its parameter list.

Every parameter is passed by value (no argument block in device memory)::

    per field:   ptr, batch_stride, stride[ndim], length[ndim]
    per output:  ptr, batch_stride, stride[ndim]
    per axis d:  N_d, region_lo/hi_d, fast_lo/hi_d, grid_lo/hi_d
    nbatch, per scalar: its bits (float64 / int64), fill (float64 bits),
    per output: its fill value's raw bits

Strides are in elements.  ``region`` is where the stencil is computed; ``grid`` the
output indices the launch covers (``region`` plus the "fill" strips, which the kernel
writes itself); ``fast`` the part of the region where every read of every field is in
bounds (no remapping).  The kernel addresses output points by their *domain* index: the host
passes each output's pointer biased by its origin (``ptr - origin . strides``, its first point
on "valid" axes), so outputs with regions of their own (``BoundCall.output_regions``) need no
parameter of their own.  Pointers are ``ptr`` parameters, every other value an ``i64``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil

#: the kernel symbol (PTX ``.entry``) and the host emulation's grid function
KERNEL_NAME = "stencil_gpu"
EDGE_NAME = "stencil_gpu_edge"
GRID_NAME = "stencil_gpu_grid"
EDGE_GRID_NAME = "stencil_gpu_edge_grid"
AXIS_PARAMS = 7          # N, region lo/hi, fast lo/hi, grid lo/hi


@dataclass(frozen=True)
class GpuField:
    name: str
    dtype: np.dtype
    broadcast: tuple[bool, ...]
    unit_inner: bool


@dataclass(frozen=True)
class GpuOutput:
    dtype: np.dtype
    unit_inner: bool


@dataclass(frozen=True)
class GpuSpec:
    """A stencil specialised for the GPU: dtypes, broadcasting, layout, modes and the
    loop mapping (``rows``: points of axis ndim-2 each thread of the interior kernel computes;
    ``loops``: grid-stride loops over y and z, for launches beyond the grid limits)."""

    stencil: N.Stencil
    fields: tuple[GpuField, ...]
    scalars: tuple[tuple[str, type], ...]
    outputs: tuple[GpuOutput, ...]
    modes: tuple[str, ...]
    temp_types: tuple[tuple[str, object], ...]
    rows: int = 1
    loops: bool = False

    @property
    def ndim(self) -> int:
        return self.stencil.ndim

    @property
    def row_axis(self) -> int | None:
        """The axis each thread walks ``rows`` points along (None for 1-D stencils)."""
        return self.ndim - 2 if self.ndim >= 2 else None

    def types(self) -> dict:
        env = {f.name: f.dtype for f in self.fields}
        env.update(dict(self.scalars))
        env.update(dict(self.temp_types))
        return env

    def fingerprint_text(self) -> str:
        parts = [format_stencil(self.stencil), f"modes={self.modes}", f"rows={self.rows}",
                 f"loops={self.loops}", "gpu-abi=3"]
        parts += [f"field {f.name} {f.dtype.str} bcast={f.broadcast} unit={f.unit_inner}"
                  for f in self.fields]
        parts += [f"scalar {n} {t.__name__}" for n, t in self.scalars]
        parts += [f"out {o.dtype.str} unit={o.unit_inner}" for o in self.outputs]
        return "\n".join(parts)

    def entries(self) -> dict[str, str]:
        """Launch kind -> kernel symbol."""
        return {"interior": KERNEL_NAME, "edge": EDGE_NAME}

    def n_params(self) -> int:
        n = self.ndim
        return (len(self.fields) * (2 + 2 * n) + len(self.outputs) * (2 + n)
                + AXIS_PARAMS * n + 1 + len(self.scalars) + 1 + len(self.outputs))

    def axis_params(self) -> int:
        """Position of the first per-axis parameter (``AXIS_PARAMS`` per axis follow)."""
        n = self.ndim
        return len(self.fields) * (2 + 2 * n) + len(self.outputs) * (2 + n)

    def pointer_params(self) -> list[int]:
        """Positions of the pointer parameters (fields, then outputs)."""
        n, pos, out = self.ndim, 0, []
        for _ in self.fields:
            out.append(pos)
            pos += 2 + 2 * n
        for _ in self.outputs:
            out.append(pos)
            pos += 2 + n
        return out


def signature(broadcast: dict, scalars: dict, descs: dict, outs: list) -> tuple:
    """The fields, outputs and scalars of a call as a GPU spec keys them: dtypes, broadcast
    flags and unit inner strides of the arrays ``descs``/``outs``, types of the scalars."""
    fields = tuple(GpuField(n, d.dtype, broadcast[n],
                            not broadcast[n][-1] and d.strides[-1] == d.itemsize)
                   for n, d in descs.items())
    outputs = tuple(GpuOutput(d.dtype, d.strides[-1] == d.itemsize if d.ndim else True)
                    for d in outs)
    return fields, outputs, tuple((n, type(v)) for n, v in scalars.items())
