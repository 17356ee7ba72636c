"""What one compiled kernel is specialised for, and the layout of its argument block.

The kernel's only argument is a pointer to an ``int64`` block (built by
``runtime/launch.py``)::

    header:   batch_lo, batch_hi, tile, counter, chunk_batch, chunk_rows, block_1,
              per axis d: N_d, region_lo_d, region_hi_d
    fields:   per field:  ptr, batch_stride, stride[ndim], length[ndim]
    outputs:  per output: ptr, batch_stride, stride[ndim], origin[ndim]
    scratch:  per materialised temporary: ptr
    scalars:  per scalar: the value's bits (float64 or int64)
    fill:     the fill value as float64 bits
    out fill: per output: the fill value as that output stores it (raw bits, zero-extended);
              the kernel writes the "fill" strips of the innermost axis (ndim >= 2)

Strides are in elements.  ``region`` is the part of the output this call
computes.  The work is cut into chunks of ``chunk_batch`` batch elements x
``chunk_rows`` rows of axis 0; every thread runs the kernel on its own block (its
own temporary buffers) and the kernels claim chunks from the shared int64 at
``counter`` (an atomic add), so a thread that is descheduled does not hold up the
others.  Kernels of 3 or more axes without temporaries sweep axis 0 in blocks of
``block_1`` rows of axis 1, so the planes a point reads stay in the L2 cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from stencilpy.analysis import Plan
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil


#: bytes of a cache line: temporary-buffer rows start on one
LINE = 64


def row_align(itemsize: int) -> int:
    """Elements per cache line: a temporary buffer's rows are padded to a multiple of it."""
    return max(1, LINE // itemsize)


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
    #: False for a kernel that computes part of an output's region (an output's extra
    #: strips, ``runtime/strips.py``): it must not write ``fill_value`` around its rows
    writes_fill: bool = True
    #: tuned code choices (``runtime/tuning.py``): preferred vector width of a kernel that
    #: does not divide, and inner-loop interleave count (0: the built-in defaults)
    vector_bits: int = 0
    interleave: int = 0
    #: the vector width of a kernel that divides sparsely on this host (0: the dividing
    #: kernels' width; ``codegen/target.py: SPARSE_DIVIDE_SHARE``, ``compile.py``)
    sparse_divide_bits: int = 0

    @property
    def ndim(self) -> int:
        return self.stencil.ndim

    @property
    def materialised(self) -> tuple[str, ...]:
        return tuple(s.target for s in self.plan.stages if s.target is not None)

    @property
    def rolling(self) -> bool:
        """Temporaries roll through buffers of a few rows of axis 0 (else: 1-D tiles)."""
        return self.ndim >= 2

    def stage_of(self, name: str):
        return next(s for s in self.plan.stages if s.target == name)

    def rows_kept(self, name: str) -> int:
        """Rows of axis 0 the rolling buffer of temporary ``name`` holds.

        Stage ``s`` computes row ``r + H_s`` at step ``r`` (``(L_s, H_s)``: its region along
        axis 0); a reader ``q`` reading ``s`` within ``(e_lo, e_hi)`` needs rows down to
        ``r + H_q - e_lo``, so ``H_s - H_q + e_lo + 1`` rows must stay."""
        h_s = self.stage_of(name).region[0][1]
        keep = 1
        for q in self.plan.stages:
            ext = q.read_extent(name)
            if ext is not None:
                keep = max(keep, h_s - q.region[0][1] + ext[0][0] + 1)
        return keep

    @property
    def blocked(self) -> bool:
        """Axis 0 is swept in blocks of axis-1 rows (3-D and more, no temporaries)."""
        return self.ndim >= 3 and not self.materialised

    @property
    def fills_inner(self) -> bool:
        """The kernel writes ``fill_value`` into the innermost axis' "fill" strips."""
        return self.ndim >= 2 and self.modes[-1] == "fill" and self.writes_fill

    def types(self) -> dict:
        env = {f.name: f.dtype for f in self.fields}
        env.update(dict(self.scalars))
        env.update(dict(self.temp_types))
        return env

    def fingerprint_text(self) -> str:
        """Canonical text of everything the generated code depends on."""
        from stencilpy.codegen import hoist           # (hoist imports this module)
        parts = [format_stencil(self.stencil), f"modes={self.modes}", f"streaming={self.streaming}",
                 "abi=4", f"hoist={'row' if hoist.ENABLED else 'off'}"] \
            + ([] if self.writes_fill else ["writes_fill=False"]) \
            + ([f"tuned={self.vector_bits},{self.interleave}"]
               if self.vector_bits or self.interleave else []) \
            + ([f"sparse_divide_bits={self.sparse_divide_bits}"]
               if self.sparse_divide_bits else [])
        parts += [f"field {f.name} {f.dtype.str} bcast={f.broadcast} unit={f.unit_inner}"
                  for f in self.fields]
        parts += [f"scalar {n} {t.__name__}" for n, t in self.scalars]
        parts += [f"out {o.dtype.str} unit={o.unit_inner}" for o in self.outputs]
        return "\n".join(parts)


class AxisSlots(NamedTuple):
    """Slots of one axis in the header: the domain length and the computed region."""

    length: int
    lo: int
    hi: int


@dataclass(frozen=True)
class FieldSlots:
    """Slots of one field: data pointer, batch stride, strides and lengths per axis."""

    ptr: int
    batch_stride: int
    strides: range
    lengths: range


@dataclass(frozen=True)
class OutputSlots:
    """Slots of one output: data pointer, batch stride, strides and origin per axis."""

    ptr: int
    batch_stride: int
    strides: range
    origin: range


class ArgLayout:
    """Slot numbers in the argument block of a kernel (the layout in the module docstring).

    Written by ``runtime/launch.py`` and read by the kernel (``codegen/args.py``) through
    the same names: ``block[layout.fields["u"].strides] = ...`` fills what the kernel
    loads as field u's strides.  ``range`` members index a NumPy block directly."""

    def __init__(self, spec: KernelSpec):
        n = spec.ndim
        self.ndim = n
        self.batch_lo, self.batch_hi, self.tile = 0, 1, 2
        self.counter, self.chunk_batch, self.chunk_rows, self.block_1 = 3, 4, 5, 6
        pos = 7
        self.axis = [AxisSlots(pos + 3 * d, pos + 3 * d + 1, pos + 3 * d + 2) for d in range(n)]
        pos += 3 * n
        self.fields: dict[str, FieldSlots] = {}
        for f in spec.fields:
            self.fields[f.name] = FieldSlots(pos, pos + 1, range(pos + 2, pos + 2 + n),
                                             range(pos + 2 + n, pos + 2 + 2 * n))
            pos += 2 + 2 * n
        self.outputs: list[OutputSlots] = []
        for _ in spec.outputs:
            self.outputs.append(OutputSlots(pos, pos + 1, range(pos + 2, pos + 2 + n),
                                            range(pos + 2 + n, pos + 2 + 2 * n)))
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
        pos += 1
        self.out_fill = [pos + k for k in range(len(spec.outputs))]
        self.size = pos + len(spec.outputs)

    @property
    def array_ptrs(self) -> list[int]:
        """The data-pointer slots of the fields (spec order), then of the outputs."""
        return [s.ptr for s in self.fields.values()] + [s.ptr for s in self.outputs]
