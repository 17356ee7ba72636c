"""What every part of one kernel's lowering reads: the spec and what follows from it.

Fixed for the whole module (no IR values here: those live in the per-function
``Args`` and ``Frame``, so a second function of the module is simply a second frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stencilpy.codegen.spec import ArgLayout, FieldSpec, KernelSpec
from stencilpy.codegen.types import concrete
from stencilpy.options import PAD_MODES


@dataclass(frozen=True)
class KernelContext:
    spec: KernelSpec
    target: object                       # a codegen.target.Target
    layout: ArgLayout
    types: dict                          # field, scalar and temporary name -> type
    defs: dict                           # temporary -> its defining expression
    inline: dict                         # temporaries evaluated in place -> expression
    materialised: frozenset              # temporaries with a row (or tile) buffer
    fields: dict                         # field name -> FieldSpec
    pad_axes: tuple[bool, ...]           # axis d has a padding boundary mode
    stream: bool                         # the outputs' fast segments use streaming stores
    type_memo: dict = field(default_factory=dict, compare=False)   # id(node) -> type

    @classmethod
    def of(cls, spec: KernelSpec, target) -> KernelContext:
        defs = {s.target: s.value for s in spec.stencil.body}
        materialised = frozenset(spec.materialised)
        sizes = {concrete(o.dtype).itemsize for o in spec.outputs}
        return cls(spec=spec, target=target, layout=ArgLayout(spec), types=spec.types(),
                   defs=defs,
                   inline={t: e for t, e in defs.items() if t not in materialised},
                   materialised=materialised, fields={f.name: f for f in spec.fields},
                   pad_axes=tuple(m in PAD_MODES for m in spec.modes),
                   stream=spec.streaming and len(sizes) == 1
                   and all(o.unit_inner for o in spec.outputs))

    @property
    def ndim(self) -> int:
        return self.spec.ndim

    def splits(self, d: int) -> bool:
        """Axis d splits into remapped and fast parts: the inner axis with a padding mode,
        and outer axes in "constant" mode (a read outside is the fill value, not a row) or
        "extrapolate" (a combination of three rows).  Other padding modes along outer axes
        remap the row pointers instead."""
        return self.pad_axes[d] and (d == self.ndim - 1
                                     or self.spec.modes[d] in ("constant", "extrapolate"))

    def row_splits(self, d: int) -> bool:
        """Outer axis d sends the rows outside its interior to the remapped code: only
        "constant" (a read outside is the fill value).  "extrapolate" rows there run the
        fast loop too, their reads combining three rows (``access.GhostRow``)."""
        return self.splits(d) and self.spec.modes[d] == "constant"

    def rows_remapped(self, f: FieldSpec) -> bool:
        """Field f's row pointers hold for every row: no outer axis splits (or f is
        broadcast along it), so a remapped point only remaps the inner index."""
        return not any(self.splits(d) and not f.broadcast[d] for d in range(self.ndim - 1))

    def stage_exprs(self, stage) -> list:
        """The expressions a stage stores: its temporary's definition, or the returns."""
        if stage.target is not None:
            return [self.defs[stage.target]]
        return list(self.spec.stencil.returns)

    def stage_types(self, stage) -> list:
        """The type each of ``stage_exprs`` is stored as."""
        if stage.target is not None:
            return [self.types[stage.target]]
        return [o.dtype for o in self.spec.outputs]
