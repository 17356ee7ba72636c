"""Halos, compute regions and loop bounds, frozen into plain dataclasses.

Everything sympy derives is turned into ints and tuples here; codegen,
runtime and the reference interpreter never see a sympy object.

Loop bounds along axis ``d`` (for the output-side modes "fill"/"valid") are,
with ``N_d`` the domain length and ``L_fd`` the length of field ``f``::

    lo_d = Max(0, lo_fd for every field f)
    hi_d = Min(N_d, L_fd - hi_fd for every field f)

so a staggered field with ``N + 1`` points read at ``[0]`` and ``[1]`` allows
every cell, while a field of ``N`` points read at ``[1]`` drops the last one.
"""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.analysis.extents import (
    access_extent, access_span, add_extents, index_symbols, stage_accesses, union_extents)
from stencilpy.ir import nodes as N

Extent = tuple  # tuple[tuple[int, int], ...]: (lo, hi) per axis


@dataclass(frozen=True)
class StagePlan:
    """One loop nest: computes ``target`` (or the outputs when None) on the output
    region grown by ``region``; reads each name in ``reads`` within its extent."""

    target: str | None
    inline: tuple[str, ...]
    region: Extent
    reads: tuple[tuple[str, Extent], ...]

    def read_extent(self, name: str) -> Extent | None:
        return dict(self.reads).get(name)


@dataclass(frozen=True)
class Plan:
    """The frozen analysis of one stencil."""

    dims: tuple[str, ...]
    stages: tuple[StagePlan, ...]
    field_extents: tuple[tuple[str, Extent], ...]   # footprint of each field parameter on the output
    halo: Extent

    @property
    def ndim(self) -> int:
        return len(self.dims)

    def field_extent(self, name: str) -> Extent:
        zero = ((0, 0),) * self.ndim
        return dict(self.field_extents).get(name, zero)

    def output_region(self, axis: int, domain_len: int, field_lens: dict[str, int]) -> tuple[int, int]:
        """Loop bounds ``[lo, hi)`` along ``axis`` when the boundary there is "fill"/"valid".
        ``field_lens`` maps each (non-broadcast) field to its length along the axis."""
        lo, hi = 0, domain_len
        for name, ext in self.field_extents:
            if name in field_lens:
                lo = max(lo, ext[axis][0])
                hi = min(hi, field_lens[name] - ext[axis][1])
        return lo, max(lo, hi)


def analyse(stencil: N.Stencil) -> Plan:
    """Derive stages, regions, footprints and the halo of a straight-line SSA stencil."""
    ndim = stencil.ndim
    zero = ((0, 0),) * ndim
    params = set(stencil.param_names)
    raw = stage_accesses(stencil)
    # regions and footprints grow by the *signed* spans of the reads (a temporary read only
    # at f[1] does not reach below), then are clamped at 0 by the union with ``zero``
    regions = {None: zero}
    for stage in reversed(raw):
        region = regions.setdefault(stage.target, zero)
        for name, offsets in stage.reads.items():
            if name not in params:
                grown = add_extents(region, access_span(offsets, ndim))
                regions[name] = union_extents(regions.get(name, zero), grown)
    stages, footprint = [], {}
    for stage in raw:
        reads = tuple((name, access_extent(offs, ndim)) for name, offs in sorted(stage.reads.items()))
        region = regions[stage.target]
        stages.append(StagePlan(stage.target, stage.expr_names, region, reads))
        for name, offsets in stage.reads.items():
            if name in params:
                total = add_extents(region, access_span(offsets, ndim))
                footprint[name] = union_extents(footprint.get(name, zero), total)
    halo = zero
    for ext in footprint.values():
        halo = union_extents(halo, ext)
    ordered = tuple((p, footprint[p]) for p in stencil.param_names if p in footprint)
    return Plan(stencil.dims, tuple(stages), ordered, halo)


def describe(plan: Plan) -> str:
    """The analysis as text, with the sympy form of the loop bounds."""
    import sympy

    idx = index_symbols(plan.ndim)
    lines = [f"halo: {plan.halo}"]
    for name, ext in plan.field_extents:
        lines.append(f"field {name}: extent {ext}")
    for k, st in enumerate(plan.stages):
        what = f"temporary {st.target}" if st.target else "outputs"
        lines.append(f"stage {k} ({what}): region = output region grown by {st.region}"
                     + (f", inline {', '.join(st.inline)}" if st.inline else ""))
        for name, ext in st.reads:
            lines.append(f"    reads {name} within {ext}")
    for d, dim in enumerate(plan.dims):
        n = sympy.Symbol(f"N_{dim}", integer=True, positive=True)
        lo = sympy.Max(0, *[ext[d][0] for _, ext in plan.field_extents]) if plan.field_extents else 0
        his = [sympy.Symbol(f"L_{name}_{dim}", integer=True, positive=True) - ext[d][1]
               for name, ext in plan.field_extents]
        hi = sympy.Min(n, *his)
        lines.append(f"loop bounds {dim} ('fill'/'valid'): {lo} <= {idx[d]} < {hi}")
        lines.append(f"loop bounds {dim} (padding modes): 0 <= {idx[d]} < {n}")
    return "\n".join(lines) + "\n"
