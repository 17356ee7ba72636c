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
    access_extent, access_span, add_extents, index_symbols, output_accesses, stage_accesses,
    union_extents)
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
    """The frozen analysis of one stencil.

    ``field_extents`` is each field's footprint over all outputs; ``output_extents[k]`` is
    output ``k``'s own (exact: the signed reach of its expression, clamped at 0), so each
    output has its own region under "fill"/"valid".  Stage regions are relative to the
    region where every output is computed (the intersection of the outputs' regions)."""

    dims: tuple[str, ...]
    stages: tuple[StagePlan, ...]
    field_extents: tuple[tuple[str, Extent], ...]   # footprint of each field parameter on the output
    halo: Extent
    output_extents: tuple[tuple[tuple[str, Extent], ...], ...] = ()

    @property
    def ndim(self) -> int:
        return len(self.dims)

    @property
    def n_outputs(self) -> int:
        return max(len(self.output_extents), 1)

    def field_extent(self, name: str) -> Extent:
        zero = ((0, 0),) * self.ndim
        return dict(self.field_extents).get(name, zero)

    def footprints(self, output: int | None = None) -> tuple[tuple[str, Extent], ...]:
        """Field footprints of output ``output`` (None: of every output together)."""
        if output is None or not self.output_extents:
            return self.field_extents
        return self.output_extents[output]

    @property
    def uniform(self) -> bool:
        """Every output has the footprints of all of them (one region for all outputs)."""
        return all(fp == self.field_extents for fp in self.output_extents)

    def output_region(self, axis: int, domain_len: int, field_lens: dict[str, int],
                      output: int | None = None, mode: str | None = None) -> tuple[int, int]:
        """Loop bounds ``[lo, hi)`` along ``axis`` when the boundary there is ``mode``
        ("fill"/"valid"): of output ``output``, or (None) where every output is computable.
        ``field_lens`` maps each (non-broadcast) field to its length along the axis."""
        lo, hi = 0, domain_len
        for name, ext in self.footprints(output):
            if name in field_lens:
                lo = max(lo, ext[axis][0])
                hi = min(hi, field_lens[name] - ext[axis][1])
        return lo, max(lo, hi)


def _reach(stages, out_reads: dict, params: set, ndim: int) -> tuple[dict, dict]:
    """Exact signed reach of an output stage reading ``out_reads``: the region of every
    temporary it needs (relative to the output point) and the span of every field.

    A read ``t[o]`` from a point region ``R`` needs ``t`` on ``R + span(o)`` (a Minkowski
    sum of signed intervals, per axis and side; never widened to contain offset 0), and a
    temporary needed by several readers is needed on the hull of their needs: a point is
    computable iff every read lands inside the fields, and along one axis that depends
    only on the least and the greatest index read."""
    regions, spans = {}, {}

    def grow(reads, region):
        for name, offsets in reads.items():
            grown = add_extents(region, access_span(offsets, ndim))
            into = spans if name in params else regions
            into[name] = grown if name not in into else union_extents(into[name], grown)

    grow(out_reads, ((0, 0),) * ndim)
    for stage in reversed(stages):                 # SSA: a stage reads only earlier ones
        if stage.target is not None and stage.target in regions:
            grow(stage.reads, regions[stage.target])
    return regions, spans


def _footprints(spans: dict, names, ndim: int) -> tuple[tuple[str, Extent], ...]:
    """Signed field spans clamped at 0 (a footprint), in parameter order."""
    zero = ((0, 0),) * ndim
    return tuple((p, union_extents(spans[p], zero)) for p in names if p in spans)


def analyse(stencil: N.Stencil) -> Plan:
    """Derive stages, regions, footprints and the halo of a straight-line SSA stencil."""
    ndim = stencil.ndim
    zero = ((0, 0),) * ndim
    params = set(stencil.param_names)
    raw = stage_accesses(stencil)
    regions, spans = _reach(raw, raw[-1].reads, params, ndim)
    stages = []
    for stage in raw:
        if stage.target is not None and stage.target not in regions:
            continue                               # read by no output: never computed
        reads = tuple((name, access_extent(offs, ndim)) for name, offs in sorted(stage.reads.items()))
        region = regions[stage.target] if stage.target is not None else zero
        stages.append(StagePlan(stage.target, stage.expr_names, region, reads))
    outputs = []
    for k in range(len(stencil.returns)):
        own = output_accesses(stencil, k)
        outputs.append(_footprints(_reach(raw, own, params, ndim)[1], stencil.param_names, ndim))
    footprint = _footprints(spans, stencil.param_names, ndim)
    halo = zero
    for _, ext in footprint:
        halo = union_extents(halo, ext)
    return Plan(stencil.dims, tuple(stages), footprint, halo, tuple(outputs))


def describe(plan: Plan) -> str:
    """The analysis as text, with the sympy form of the loop bounds."""
    import sympy

    idx = index_symbols(plan.ndim)
    lines = [f"halo: {plan.halo}"]
    for name, ext in plan.field_extents:
        lines.append(f"field {name}: extent {ext}")
    if not plan.uniform:                        # outputs with regions of their own
        for k, footprints in enumerate(plan.output_extents):
            own = ", ".join(f"{name} {ext}" for name, ext in footprints) or "no field"
            lines.append(f"output {k}: reads {own}")
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
