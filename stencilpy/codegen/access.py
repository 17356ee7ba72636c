"""Memory access of one row: row pointers, loads at a point, stores.

A row of a stage is one line along the innermost axis at fixed outer indices
``idx = (i_0, .., i_{n-2})``.  Every array the stage touches gets a pointer to its
element ``j = 0`` of that row, computed once per row (hoisted out of the inner loop)::

    field   f[idx + o] : base_f + sum_d remap_d(i_d + o_d) * stride_d + o_inner * stride_inner
    temp    t[idx + o] : buf_t + ((i_0 + o_0 - first) urem keep) * row
                         + sum_{d>=1} (i_d + o_d - origin_d) * stride_d + o_inner - origin_inner
                         (1-D: buf_t + o_0 - (t0 - L), the tile buffer)
    output  k          : base_k + sum_d (i_d - origin_d) * stride_d - origin_inner * stride_inner

A point ``j`` then reads ``row[j * stride_inner]`` ("fast": every read in bounds), or
remaps the index along the padded axes first ("remapped": ``codegen/boundary.py``),
selecting the fill value where a "constant" mode reads outside.  The loaders below are
the ``load(name, offset)`` callables the target-neutral ``ExprLowerer`` calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llvmlite import ir

from stencilpy.codegen.args import Args
from stencilpy.codegen.boundary import combine, ghost, in_bounds, remap
from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.loops import const
from stencilpy.codegen.types import cast, concrete, load, store
from stencilpy.ir import nodes as N


@dataclass(frozen=True)
class Frame:
    """One emitted function's handles on memory at one batch element."""

    ctx: KernelContext
    b: ir.IRBuilder
    block: ir.Value                  # the i64* argument block
    args: Args                       # its slots, loaded in this function
    fields: dict                     # field name -> its element 0 at this batch element
    outputs: list = field(default_factory=list)    # output k -> element 0 (body only)
    scratch: dict = field(default_factory=dict)    # temporary -> its buffer (body only)
    buffers: dict = field(default_factory=dict)    # temporary -> TempBuffer (body only)


@dataclass(frozen=True)
class Rows:
    """Pointers to element j = 0 of the current row of everything a stage touches."""

    reads: dict                      # (name, offset) of every field/temporary read -> row
    target: ir.Value | None          # the temporary's row written (a temporary's stage)
    out: list                        # the output rows written (the outputs' stage)

    @property
    def written(self) -> list:
        return [self.target] if self.target is not None else list(self.out)


def row_pointers(fr: Frame, stage, idx, anchor) -> Rows:
    """The rows of ``stage`` at outer indices ``idx``; ``anchor``: the first row of the
    chunk (rolling buffers) or the tile's first point (1-D tile buffers)."""
    ctx, reads, terms = fr.ctx, {}, {}
    for name, offset in stage_reads(ctx.stage_exprs(stage), ctx.defs, ctx.materialised):
        if name in ctx.materialised:
            reads[(name, offset)] = _temp_row(fr, name, idx, offset, anchor)
        else:
            reads[(name, offset)] = _field_row(fr, name, idx, offset, terms,
                                               stage.target is None)
    if stage.target is not None:
        target = _temp_row(fr, stage.target, idx, (0,) * ctx.ndim, anchor)
        return Rows(reads, target, [])
    return Rows(reads, None, [_out_row(fr, k, idx) for k in range(len(ctx.spec.outputs))])


@dataclass(frozen=True)
class GhostRow:
    """A row read beyond an "extrapolate" outer axis' end: ``inside ? v(parts[0]) :
    w0 v(parts[0]) + w1 v(parts[1]) + w2 v(parts[2])`` where ``v`` of a part is a load
    through that row pointer, or (a part that is itself a GhostRow) the same one axis
    further in.  ``inside`` and the weights are fixed for the row, so the fast loop over
    the row stays a vector loop."""

    inside: ir.Value
    parts: tuple
    weights: tuple

    def first(self) -> ir.Value:
        """The plain row pointer of the entries (clamped into the field)."""
        part = self.parts[0]
        return part.first() if isinstance(part, GhostRow) else part

    def all_inside(self, b: ir.IRBuilder) -> ir.Value:
        """i1: the row is inside the field along every ghost axis (``first()`` is it)."""
        part = self.parts[0]
        return b.and_(self.inside, part.all_inside(b)) if isinstance(part, GhostRow) \
            else self.inside


def _field_row(fr: Frame, name, idx, offset, terms: dict, in_domain: bool = False):
    """Element j = 0 of the row (plus the inner offset); along outer axes with a padding
    mode the row index is remapped ("constant": clamped; such rows run remapped).  Along
    outer axes in "extrapolate" mode a row that may lie beyond the field's end is a
    ``GhostRow`` (``in_domain``: the outputs' stage, whose rows at offset 0 are inside).
    ``terms`` shares each (field, axis, offset) term between the rows of one step."""
    b, f = fr.b, fr.ctx.fields[name]
    ghost_axes = [d for d in range(len(idx)) if _extrapolates(fr.ctx, f, d)
                  and not (in_domain and offset[d] == 0)]
    total = mul(b, const(offset[-1]), fr.args.fields[name].strides[-1])
    for d, (i, o) in enumerate(zip(idx, offset)):
        if d not in ghost_axes:
            total = b.add(total, remapped_term(fr, f, d, i, o, terms)[0])
    return _ghost_row(fr, f, idx, offset, ghost_axes, total, terms)


def _ghost_row(fr: Frame, f, idx, offset, axes: list, total, terms: dict):
    """The row along the remaining ghost ``axes`` (the last one outermost, as the
    reference pads axis 0 first): a pointer when none are left."""
    if not axes:
        return fr.b.gep(fr.fields[f.name], [total])
    d = axes[-1]
    inside, t = extrapolated_terms(fr, f, d, idx[d], offset[d], terms)
    parts = tuple(_ghost_row(fr, f, idx, offset, axes[:-1], fr.b.add(total, k), terms)
                  for k in t[:3])
    return GhostRow(inside, parts, t[3:])


def _temp_row(fr: Frame, name, idx, offset, anchor):
    b, g, n = fr.b, fr.buffers[name], fr.ctx.ndim
    if not fr.ctx.spec.rolling:                # 1-D: the tile buffer starts at t0 - L
        start = b.sub(anchor, const(g.lo))
        return b.gep(fr.scratch[name], [b.sub(const(offset[0]), start)])
    row = b.add(idx[0], const(offset[0]))
    first = b.sub(anchor, const(g.lo))
    total = b.mul(b.urem(b.sub(row, first), const(g.keep)), g.row)
    for d in range(1, n - 1):
        pos = b.sub(b.add(idx[d], const(offset[d])), g.origin[d])
        total = b.add(total, b.mul(pos, g.strides[d]))
    total = b.add(total, b.sub(const(offset[-1]), g.origin[n - 1]))
    return b.gep(fr.scratch[name], [total])


def _out_row(fr: Frame, k, idx):
    b, out = fr.b, fr.args.outputs[k]
    strides, origin = out.strides, out.origin
    total = b.sub(const(0), mul(b, origin[-1], strides[-1]))
    for i, org, s in zip(idx, origin, strides):
        total = b.add(total, mul(b, b.sub(i, org), s))
    return b.gep(fr.outputs[k], [total])


# -- loads at a point j of the row (``load(name, offset)`` for ExprLowerer) -------------
class FastLoads:
    """Point j of a row whose every read is in bounds: ``row[j * stride_inner]``."""

    def __init__(self, fr: Frame, rows: Rows, j):
        self.fr, self.rows, self.j = fr, rows, j

    def __call__(self, name: str, offset: tuple) -> ir.Value:
        b, ctx = self.fr.b, self.fr.ctx
        row = self.rows.reads[(name, offset)]
        if name in ctx.materialised:                                   # rolling/tile buffer
            return load(b, b.gep(row, [self.j]), ctx.types[name])
        s = self.fr.args.fields[name].strides[-1]
        step = mul(b, self.j, s)
        dtype = ctx.fields[name].dtype

        def value(r):
            if not isinstance(r, GhostRow):
                return load(b, b.gep(r, [step]), dtype)
            vs = [value(p) for p in r.parts]
            return b.select(r.inside, vs[0], combine(b, vs, r.weights, dtype))
        return value(row)


class RemappedLoads:
    """Point (idx, j) with every index remapped along the padded axes (``boundary.py``);
    a "constant" mode reads the fill value outside the field."""

    def __init__(self, fr: Frame, rows: Rows, idx: list, j, in_domain: bool = False,
                 rows_hold: bool = False):
        self.fr, self.rows, self.idx, self.j = fr, rows, idx, j
        self.terms: dict = {}          # remapped index terms, shared by the point's reads
        self.in_domain = in_domain     # the points are in the domain (the outputs' stage)
        self.rows_hold = rows_hold     # every field's row pointer is its row (inside)

    def __call__(self, name: str, offset: tuple) -> ir.Value:
        fr, ctx = self.fr, self.fr.ctx
        if name in ctx.materialised:                                   # rolling/tile buffer
            return load(fr.b, fr.b.gep(self.rows.reads[(name, offset)], [self.j]), ctx.types[name])
        if self.rows_hold or ctx.rows_remapped(ctx.fields[name]):
            return self._inner(name, offset)
        return self._full(name, offset)

    def _full(self, name, offset) -> ir.Value:
        """Every index remapped, from the field's base."""
        fr = self.fr
        b, f = fr.b, fr.ctx.fields[name]
        if any(_extrapolates(fr.ctx, f, d) for d in range(fr.ctx.ndim)):
            return self._combined(f, offset)
        total, inside = None, None
        for d, (i, o) in enumerate(zip(self.idx + [self.j], offset)):
            term, ok = remapped_term(fr, f, d, i, o, self.terms)
            total = term if total is None else b.add(total, term)
            if ok is not None:
                inside = ok if inside is None else b.and_(inside, ok)
        value = load(b, b.gep(fr.fields[f.name], [total]), f.dtype)
        if inside is None:
            return value
        fill = cast(b, fr.args.fill_bits, float, f.dtype)
        return b.select(inside, value, fill)

    def _combined(self, f, offset) -> ir.Value:
        """A read with "extrapolate" along some axis, as the reference pads: axis 0 first,
        then axis 1 on the padded array, ... so the last axis' rule is applied outermost::

            value(d, total) = d < 0:         f[total]
                              extrapolate d: inside ? v(i) : w0 v(e) + w1 v(e-+1) + w2 v(e-+2)
                                             (v(x) = value(d - 1, total + x * stride_d))
                              other modes:   value(d - 1, total + remap(i) * stride_d),
                                             "constant": the fill value outside
        """
        fr = self.fr
        b, n = fr.b, fr.ctx.ndim
        pos = self.idx + [self.j]
        fill = cast(b, fr.args.fill_bits, float, f.dtype) \
            if "constant" in fr.ctx.spec.modes else None

        def value(d, total):
            if d < 0:
                return load(b, b.gep(fr.fields[f.name], [total]), f.dtype)
            if self.in_domain and offset[d] == 0:       # inside the field: no ghost
                stride = fr.args.fields[f.name].strides[d]
                return value(d - 1, _add(b, total, mul(b, pos[d], stride)))
            if _extrapolates(fr.ctx, f, d):
                inside, terms = extrapolated_terms(fr, f, d, pos[d], offset[d], self.terms)
                vs = [value(d - 1, _add(b, total, t)) for t in terms[:3]]
                return b.select(inside, vs[0], combine(b, vs, terms[3:], f.dtype))
            term, ok = remapped_term(fr, f, d, pos[d], offset[d], self.terms)
            v = value(d - 1, _add(b, total, term))
            return v if ok is None else b.select(ok, v, fill)

        return value(n - 1, None)

    def _inner(self, name, offset) -> ir.Value:
        """A read through its (remapped) row pointer, the inner index remapped."""
        fr = self.fr
        b, f, d = fr.b, fr.ctx.fields[name], fr.ctx.ndim - 1
        o = offset[-1]
        # the row pointer already includes o x stride: step back by it
        stride = fr.args.fields[name].strides[d]
        row = self.rows.reads[(name, offset)]
        back = mul(b, const(o), stride)
        if _extrapolates(fr.ctx, f, d) and not (self.in_domain and o == 0):
            inside, terms = extrapolated_terms(fr, f, d, self.j, o, self.terms)
            vs = [load(b, b.gep(row, [b.sub(t, back)]), f.dtype) for t in terms[:3]]
            return b.select(inside, vs[0], combine(b, vs, terms[3:], f.dtype))
        term, ok = remapped_term(fr, f, d, self.j, o, self.terms)
        value = load(b, b.gep(row, [b.sub(term, back)]), f.dtype)
        if ok is None:
            return value
        return b.select(ok, value, cast(b, fr.args.fill_bits, float, f.dtype))


def _extrapolates(ctx: KernelContext, f, d: int) -> bool:
    """Reads of field f along axis d combine three entries outside it ("extrapolate";
    a bool field is never read outside there - the call checks it - so it is clamped)."""
    return ctx.spec.modes[d] == "extrapolate" and not f.broadcast[d] \
        and concrete(f.dtype).kind != "b"


def _add(b: ir.IRBuilder, total, term):
    return term if total is None else b.add(total, term)


def extrapolated_terms(fr: Frame, f, d, i, o, memo: dict):
    """(inside, (three index terms x stride, three integer weights)) of an "extrapolate"
    read of field f at ``i + o`` along axis d (``boundary.ghost``), once per ``memo``."""
    key = ("ghost", f.name, d, o)
    if key not in memo:
        b, fa = fr.b, fr.args.fields[f.name]
        inside, idx, weights = ghost(b, b.add(i, const(o)) if o else i, fa.lengths[d])
        memo[key] = inside, tuple(mul(b, k, fa.strides[d]) for k in idx) + tuple(weights)
    return memo[key]


def remapped_term(fr: Frame, f, d, i, o, memo: dict):
    """(remapped index of ``i + o`` along axis d x field f's stride, in-bounds flag or
    None), once per ``memo`` for every (field, axis, offset): less IR to optimise."""
    key = ("remap", f.name, d, o)
    if key in memo:
        return memo[key]
    b, ctx, fa = fr.b, fr.ctx, fr.args.fields[f.name]
    j = b.add(i, const(o)) if o else i
    ok = None
    if ctx.pad_axes[d] and not f.broadcast[d]:
        mode = ctx.spec.modes[d]
        if mode == "constant":
            ok = in_bounds(b, j, fa.lengths[d])
        j = remap(b, mode, j, fa.lengths[d], fr.args.N[d])
    memo[key] = mul(b, j, fa.strides[d]), ok
    return memo[key]


def store_point(fr: Frame, stage, rows: Rows, j, values: list) -> None:
    """The stage's values at point j: its temporary's row, or every output's row."""
    b, ctx = fr.b, fr.ctx
    if stage.target is not None:
        store(b, values[0], b.gep(rows.target, [j]), ctx.types[stage.target])
        return
    for k, (v, out) in enumerate(zip(values, ctx.spec.outputs)):
        step = j if out.unit_inner else b.mul(j, fr.args.outputs[k].strides[-1])
        store(b, v, b.gep(rows.out[k], [step]), out.dtype)


def stage_reads(exprs, defs: dict, materialised) -> list:
    """``(name, offset)`` of every field or materialised temporary that ``exprs`` read
    (through the temporaries they evaluate inline), in first-read order."""
    seen, out, inlined = set(), [], set()

    def visit(expr):    # depth first, with a stack of iterators: chains of temporaries are long
        stack = [N.walk(expr)]
        while stack:
            node = next(stack[-1], None)
            if node is None:
                stack.pop()
            elif not isinstance(node, N.FieldAccess):
                continue
            elif node.name in defs and node.name not in materialised:
                if node.name not in inlined:
                    inlined.add(node.name)
                    stack.append(N.walk(defs[node.name]))
            elif (node.name, node.offset) not in seen:
                seen.add((node.name, node.offset))
                out.append((node.name, node.offset))

    for expr in exprs:
        visit(expr)
    return out


def mul(b: ir.IRBuilder, x, s):
    """``x * s``, without the instruction when s is 1 or x is 0."""
    if isinstance(s, ir.Constant) and s.constant == 1:
        return x
    if isinstance(x, ir.Constant) and x.constant == 0:
        return x
    return b.mul(x, s)
