"""The loop nest of a kernel: ir + frozen plan -> ``llvmlite.ir.Module``.

Lowering, as typed comments::

    # [KernelSpec] -> body(noalias fields..., noalias outputs..., noalias scratch..., args)
    # while (chunk = atomic counter++) < chunks:     (threads claim chunks: batch x rows)
    # for b in the chunk's batch range:              (leading axes, one collapsed axis)
    #   for r in [r0 - P, r1):                       (rows of axis 0; P: the deepest halo)
    #     for stage in plan.stages:                  (materialised temporaries, then outputs)
    #       row = r + H_stage                        (a temporary runs H rows ahead of the
    #       if row is in the stage's rows:            output; its rows roll through a buffer
    #         for i_1 .. i_{n-2} in stage region:     of rows_kept() rows: nothing recomputed)
    #           row pointers of every array read or written (hoisted out of the inner loop)
    #           inner axis: [lo, a) remapped | [a, c) fast, unit stride | [c, hi) remapped
    #                       (fast part of a streamed output: codegen/stream.py)
    # 1-D stencils: tiles of T points instead of rows (a temporary's halo recomputed per tile)
    # stencil_kernel(args) unpacks the pointers and calls body.

The "fast" part reads every field in bounds with plain strided addressing; the
"remapped" parts (only along axes with a padding boundary mode) map each index
with ``codegen/boundary.py``.
"""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from stencilpy.codegen.boundary import in_bounds, remap
from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.loops import ceil_div, claim_loop, const, for_range, smax, smin
from stencilpy.codegen.spec import ArgLayout, KernelSpec, row_align
from stencilpy.codegen.target import CPU, Target
from stencilpy.codegen.stream import aligned_start, sfence, stream_buffers, streamed_segment
from stencilpy.codegen.types import F64, I64, cast, concrete, load, memory_type, store
from stencilpy.ir import nodes as N
from stencilpy.options import PAD_MODES

ENTRY_NAME = "stencil_kernel"
#: peel each row's fast part up to a 64-byte-aligned output store address (outputs only:
#: a temporary's row buffer is in L1, where the peel's masked loop cost more than the
#: split stores it saves - hdiff 11% faster without it - and a quarter of the compile time)
ALIGN_STORES = True


class _Attributes(ir.values.FunctionAttributes):
    """Function attributes plus LLVM string attributes (``"key"="value"``)."""

    def __init__(self, extra):
        super().__init__()
        self.extra = list(extra)

    def __len__(self):
        return super().__len__() + len(self.extra)

    def _to_list(self, ret_type):
        return super()._to_list(ret_type) + self.extra


class KernelBuilder:
    """Builds the module for one ``KernelSpec``."""

    def __init__(self, spec: KernelSpec, target: Target = CPU):
        self.spec = spec
        self.target = target
        self.layout = ArgLayout(spec)
        self.module = ir.Module(name=f"stencilpy.{spec.stencil.name}")
        self.types = spec.types()
        self.defs = {s.target: s.value for s in spec.stencil.body}
        self.inline = {t: e for t, e in self.defs.items() if t not in spec.materialised}
        self.pad_axes = [m in PAD_MODES for m in spec.modes]
        self.fields = {f.name: f for f in spec.fields}
        self.type_memo: dict = {}           # id(IR node) -> type (the spec keeps nodes alive)
        sizes = {concrete(o.dtype).itemsize for o in spec.outputs}
        self.stream = spec.streaming and len(sizes) == 1 and all(o.unit_inner for o in spec.outputs)

    # -- function signatures ---------------------------------------------------
    def _pointer_types(self) -> list:
        spec = self.spec
        tys = [memory_type(f.dtype).as_pointer() for f in spec.fields]
        tys += [memory_type(o.dtype).as_pointer() for o in spec.outputs]
        tys += [memory_type(self.types[t]).as_pointer() for t in spec.materialised]
        return tys

    def build(self) -> ir.Module:
        ptr_types = self._pointer_types()
        body_ty = ir.FunctionType(ir.VoidType(), ptr_types + [I64.as_pointer()])
        body = ir.Function(self.module, body_ty, "stencil_body")
        body.linkage = "internal"
        body.attributes = _Attributes(self._attributes())
        for arg in body.args[:-1]:
            arg.add_attribute("noalias")
        self._emit_entry(body, ptr_types)
        self._emit_body(body)
        return self.module

    def _attributes(self) -> tuple[str, ...]:
        exprs = [st.value for st in self.spec.stencil.body] + list(self.spec.stencil.returns)
        return self.target.function_attributes(exprs)

    def _emit_entry(self, body: ir.Function, ptr_types: list) -> None:
        """stencil_kernel(i64* args): load the pointer slots, call the body."""
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [I64.as_pointer()]), ENTRY_NAME)
        fn.attributes = _Attributes(self._attributes())      # the body is inlined here
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        args = fn.args[0]
        slots = [self.layout.field[f.name] for f in self.spec.fields] + self.layout.output \
            + [self.layout.scratch[t] for t in self.spec.materialised]
        ptrs = [b.inttoptr(b.load(b.gep(args, [const(s)])), ty) for s, ty in zip(slots, ptr_types)]
        b.call(body, ptrs + [args])
        b.ret_void()

    # -- body --------------------------------------------------------------------
    def _emit_body(self, fn: ir.Function) -> None:
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        self.b = b
        nf, no = len(self.spec.fields), len(self.spec.outputs)
        self.field_ptr = {f.name: fn.args[k] for k, f in enumerate(self.spec.fields)}
        self.out_ptr = list(fn.args[nf:nf + no])
        self.scratch_ptr = dict(zip(self.spec.materialised, fn.args[nf + no:-1]))
        if self.stream:
            size = concrete(self.spec.outputs[0].dtype).itemsize
            self.stream_bufs = stream_buffers(b, [memory_type(o.dtype) for o in self.spec.outputs], size)
        self.args, self._safe_fns = fn.args[-1], {}
        self._load_args(self.args)
        self._prepare_stages()
        with self._chunks() as (b0, b1):
            with for_range(b, b0, b1, "batch") as batch:
                self._batch_bases(batch)
                if self.spec.rolling:
                    self._emit_rows()
                else:
                    self._emit_tiles()
        if self.stream:
            sfence(b)
        b.ret_void()

    @contextmanager
    def _chunks(self):
        """Claim chunks (batch range x rows of axis 0) from the shared counter until none
        are left; inside, ``h["region"][0]`` is the chunk's rows; yields its batch range."""
        b, h = self.b, self.h
        (lo0, hi0), cb, cr = h["region"][0], h["chunk_batch"], h["chunk_rows"]
        row_chunks = ceil_div(b, smax(b, b.sub(hi0, lo0), const(0)), cr)
        total = b.mul(ceil_div(b, smax(b, b.sub(h["batch_hi"], h["batch_lo"]), const(0)), cb),
                      row_chunks)
        with claim_loop(b, h["counter"], total) as c:
            b0 = b.add(h["batch_lo"], b.mul(b.sdiv(c, row_chunks), cb))
            r0 = b.add(lo0, b.mul(b.srem(c, row_chunks), cr))
            h["region"][0] = (r0, smin(b, b.add(r0, cr), hi0))
            yield b0, smin(b, b.add(b0, cb), h["batch_hi"])
            h["region"][0] = (lo0, hi0)

    def _slot(self, args, k):
        return self.b.load(self.b.gep(args, [const(k)]))

    def _load_args(self, args) -> None:
        """Every header value as an SSA value (loaded before any store)."""
        L, n, s = self.layout, self.spec.ndim, self._slot
        self.h = {"batch_lo": s(args, L.batch_lo), "batch_hi": s(args, L.batch_hi),
                  "tile": s(args, L.tile),
                  "counter": self.b.inttoptr(s(args, L.counter), I64.as_pointer()),
                  "chunk_batch": s(args, L.chunk_batch), "chunk_rows": s(args, L.chunk_rows),
                  "block_1": s(args, L.block_1),
                  "N": [s(args, L.axis[d][0]) for d in range(n)],
                  "region": [(s(args, L.axis[d][1]), s(args, L.axis[d][2])) for d in range(n)]}
        self.fstride, self.flen, self.fbstride = {}, {}, {}
        for f in self.spec.fields:
            k = L.field[f.name]
            self.fbstride[f.name] = s(args, k + 1)
            strides = [s(args, k + 2 + d) for d in range(n)]
            if f.unit_inner and not f.broadcast[-1]:
                strides[-1] = const(1)
            self.fstride[f.name] = strides
            self.flen[f.name] = [s(args, k + 2 + n + d) for d in range(n)]
        self.ostride, self.oorigin, self.obstride = [], [], []
        for k, o in zip(L.output, self.spec.outputs):
            self.obstride.append(s(args, k + 1))
            strides = [s(args, k + 2 + d) for d in range(n)]
            if o.unit_inner:
                strides[-1] = const(1)
            self.ostride.append(strides)
            self.oorigin.append([s(args, k + 2 + n + d) for d in range(n)])
        self.scalars = {}
        for name, t in self.spec.scalars:
            bits = s(args, L.scalar[name])
            value = self.b.bitcast(bits, F64) if t is float else bits
            self.scalars[name] = cast(self.b, value, float if t is float else int, t) \
                if t is bool else value
        self.fill_bits = self.b.bitcast(s(args, L.fill), F64)
        self.out_fill = [self._raw(s(args, k), o.dtype) for k, o in zip(L.out_fill, self.spec.outputs)]

    def _raw(self, bits, t):
        """The low bytes of an int64 slot as a value of memory type ``t``."""
        mt = memory_type(t)
        width = 8 * concrete(t).itemsize
        value = bits if width == 64 else self.b.trunc(bits, ir.IntType(width))
        return value if isinstance(mt, ir.IntType) else self.b.bitcast(value, mt)

    def _batch_bases(self, batch) -> None:
        b = self.b
        self.fbase = {n: b.gep(p, [b.mul(batch, self.fbstride[n])]) for n, p in self.field_ptr.items()}
        self.obase = [b.gep(p, [b.mul(batch, bs)]) for p, bs in zip(self.out_ptr, self.obstride)]

    # -- per-stage geometry (entry block) -------------------------------------------
    def _prepare_stages(self) -> None:
        """Loop bounds along axes >= 1, interiors and temporary-buffer strides per stage."""
        b, n = self.b, self.spec.ndim
        self.bounds, self.interior, self.tgeom = {}, {}, {}
        for stage in self.spec.plan.stages:
            ext = stage.region
            bounds = [None]
            for d in range(1, n):
                lo, hi = self.h["region"][d]
                bounds.append((b.sub(lo, const(ext[d][0])), b.add(hi, const(ext[d][1]))))
            self.bounds[stage.target] = bounds
            self.interior[stage.target] = [self._interior(stage, d) if self._split(d) else None
                                           for d in range(n)]
            if stage.target is not None:
                self.tgeom[stage.target] = self._temp_geometry(stage, bounds)

    def _split(self, d: int) -> bool:
        """Axis d splits into remapped and fast parts: the inner axis with a padding mode,
        and outer axes in "constant" mode (a read outside is the fill value, not a row).
        Other padding modes along outer axes remap the row pointers instead."""
        return self.pad_axes[d] and (d == self.spec.ndim - 1 or self.spec.modes[d] == "constant")

    def _rows_remapped(self, f) -> bool:
        """Field f's row pointers hold for every row: no outer axis splits (or f is
        broadcast along it), so a remapped point only remaps the inner index."""
        return not any(self._split(d) and not f.broadcast[d] for d in range(self.spec.ndim - 1))

    def _temp_geometry(self, stage, bounds) -> dict:
        """A temporary's buffer: rows of axis 0 (rolling) of C-ordered axes 1.."""
        b, n = self.b, self.spec.ndim
        lens = [b.sub(hi, lo) for lo, hi in bounds[1:]]
        if lens:                            # rows padded to whole cache lines: aligned stores
            per_line = row_align(memory_type_size(self.types[stage.target]))
            lens[-1] = b.and_(b.add(lens[-1], const(per_line - 1)), const(-per_line))
        strides = [const(1)] * n
        for d in range(n - 2, 0, -1):
            strides[d] = b.mul(strides[d + 1], lens[d])
        row = b.mul(strides[1], lens[0]) if n >= 2 else const(1)
        origin = [None] + [lo for lo, _ in bounds[1:]]
        keep = self.spec.rows_kept(stage.target) if self.spec.rolling else None
        return {"strides": strides, "row": row, "origin": origin, "keep": keep,
                "lo": stage.region[0][0]}

    def _interior(self, stage, d):
        """[lo, hi) of points along axis d whose reads of every field are in bounds."""
        b = self.b
        lo, hi = const(-(1 << 62)), const(1 << 62)
        for f in self.spec.fields:
            ext = stage.read_extent(f.name)
            if ext is None or f.broadcast[d]:
                continue
            lo = smax(b, lo, const(ext[d][0]))
            hi = smin(b, hi, b.sub(self.flen[f.name][d], const(ext[d][1])))
        return lo, hi

    # -- rows of axis 0 (ndim >= 2) ----------------------------------------------
    def _emit_rows(self) -> None:
        """Every stage computes one row per step; temporaries run ahead by H rows.  Without
        temporaries (3-D and more) the sweep runs once per block of ``block_1`` rows of
        axis 1, so the planes it reads stay in the cache."""
        if not self.spec.blocked:
            self._emit_sweep()
            return
        b, bounds = self.b, self.bounds[None]
        lo1, hi1 = bounds[1]
        with for_range(b, lo1, hi1, "block", step=self.h["block_1"]) as j0:
            bounds[1] = (j0, smin(b, b.add(j0, self.h["block_1"]), hi1))
            self._emit_sweep()
        bounds[1] = (lo1, hi1)

    def _emit_sweep(self) -> None:
        b = self.b
        lo0, hi0 = self.h["region"][0]
        ahead = max([sum(s.region[0]) for s in self.spec.plan.stages if s.target] + [0])
        self.row_base = lo0
        with for_range(b, b.sub(lo0, const(ahead)), hi0, "row") as r:
            for stage in self.spec.plan.stages:
                low, high = stage.region[0]
                row = b.add(r, const(high)) if high else r
                if not ahead:
                    self._emit_stage(stage, row)
                    continue
                with b.if_then(b.icmp_signed(">=", row, b.sub(lo0, const(low)))):
                    self._emit_stage(stage, row)

    def _emit_stage(self, stage, i0) -> None:
        b = self.b
        interior = self.interior[stage.target]
        ok = ir.Constant(ir.IntType(1), 1)
        if interior[0] is not None:
            lo, hi = interior[0]
            ok = b.and_(b.icmp_signed(">=", i0, lo), b.icmp_signed("<", i0, hi))
        self._loop_outer(stage, 1, [i0], ok)

    def _loop_outer(self, stage, d, idx, row_ok) -> None:
        b, n = self.b, self.spec.ndim
        bounds, interior = self.bounds[stage.target], self.interior[stage.target]
        if d == n - 1:
            self._loop_inner(stage, bounds[d], interior[d], idx, row_ok)
            return
        with for_range(b, bounds[d][0], bounds[d][1], f"i{d}") as i:
            ok = row_ok
            if interior[d] is not None:
                lo, hi = interior[d]
                ok = b.and_(ok, b.and_(b.icmp_signed(">=", i, lo), b.icmp_signed("<", i, hi)))
            self._loop_outer(stage, d + 1, idx + [i], ok)

    # -- tiles of axis 0 (1-D stencils) -------------------------------------------------
    def _emit_tiles(self) -> None:
        b = self.b
        lo0, hi0 = self.h["region"][0]
        with for_range(b, lo0, hi0, "tile", step=self.h["tile"]) as t0:
            t1 = smin(b, b.add(t0, self.h["tile"]), hi0)
            self.tile_origin = t0
            for stage in self.spec.plan.stages:
                low, high = stage.region[0]
                bounds = (b.sub(t0, const(low)), b.add(t1, const(high)))
                ok = ir.Constant(ir.IntType(1), 1)
                self._loop_inner(stage, bounds, self.interior[stage.target][0], [], ok)

    # -- the inner axis ---------------------------------------------------------------
    def _loop_inner(self, stage, bounds, interior, idx, row_ok) -> None:
        """Inner axis: remapped head and tail, fast unit-stride middle.

            row_ok ? ([lo, a) safe; [a, c) fast; [c, hi) safe) : [lo, hi) safe
        """
        b = self.b
        lo, hi = bounds
        rows = self._row_pointers(stage, idx)
        if stage.target is None and self.spec.fills_inner:
            self._fill_strips(rows["out"], lo, hi)
        if not any(self.pad_axes):
            self._fast_segment(stage, lo, hi, rows)
            return
        if interior is None:
            a, c = lo, hi
        else:
            a = smin(b, smax(b, interior[0], lo), hi)
            c = smax(b, smin(b, interior[1], hi), a)
        a = b.select(row_ok, a, hi)
        c = b.select(row_ok, c, hi)
        self._safe_segment(stage, rows, idx, lo, a)
        self._fast_segment(stage, a, c, rows)
        self._safe_segment(stage, rows, idx, c, hi)

    # -- the remapped ("safe") points: one scalar function per stage ---------------------
    def _safe_segment(self, stage, rows, idx, lo, hi) -> None:
        """[lo, hi) of a row with remapped reads: a call of the stage's safe function.

        The head, the tail and the rows outside the interior share it, so the stage's
        scalar remapped body is compiled once (not vectorised, not inlined) instead of
        being duplicated into the hot loop nest: a third of the IR of a periodic kernel."""
        keys = [k for k in rows if k in ("target", "out") or k[0] in self.tgeom
                or self._rows_remapped(self.fields[k[0]])]
        fn = self._safe_fns.get(id(stage))
        if fn is None:
            fn = self._safe_fns[id(stage)] = self._emit_safe_function(stage, rows, keys, len(idx))
        self.b.call(fn, [self.args, *self.fbase.values(), *idx, lo, hi, *_flat_rows(rows, keys)])

    def _emit_safe_function(self, stage, rows, keys, n_idx) -> ir.Function:
        """``void safe_k(i64* args, field bases.., i64 idx.., i64 lo, i64 hi, rows..)``:
        stores the stage's values at points [lo, hi) of one row, every read remapped."""
        ptr_types = [p.type for p in _flat_rows(rows, keys)]
        base_types = [p.type for p in self.fbase.values()]
        fnty = ir.FunctionType(ir.VoidType(), [I64.as_pointer()] + base_types
                               + [I64] * (n_idx + 2) + ptr_types)
        fn = ir.Function(self.module, fnty, f"stencil_safe_{len(self._safe_fns)}")
        fn.linkage = "internal"
        fn.attributes.add("noinline")
        fn.attributes.add("nounwind")
        fn.attributes.add("optsize")
        saved = dict(self.__dict__)
        try:
            self.b = b = ir.IRBuilder(fn.append_basic_block("entry"))
            args, rest = fn.args[0], fn.args[1:]
            nf = len(self.fbase)
            self.fbase = dict(zip(self.fbase, rest[:nf]))
            rest = rest[nf:]
            idx, (lo, hi), ptrs = rest[:n_idx], rest[n_idx:n_idx + 2], list(rest[n_idx + 2:])
            self._load_args(args)
            local = {}
            for k in keys:
                n = len(rows[k]) if k == "out" else 1
                local[k] = ptrs[:n] if k == "out" else ptrs[0]
                del ptrs[:n]
            with for_range(b, lo, hi, "jsafe", scalar=True) as j:
                self._store(stage, local, j, self._values(stage, local, list(idx), j, safe=True))
            b.ret_void()
        finally:
            self.__dict__.clear()
            self.__dict__.update(saved)
        return fn

    def _fill_strips(self, out_rows, lo, hi) -> None:
        """out[.., j] = fill for j in [0, lo) and [hi, N): the innermost axis' "fill" strips
        of this row, written while the row is in the cache."""
        b = self.b
        for a, c, name in ((const(0), lo, "jfill"), (hi, self.h["N"][-1], "jfill")):
            with for_range(b, a, c, name) as j:
                for k, (row, out) in enumerate(zip(out_rows, self.spec.outputs)):
                    ptr = b.gep(row, [j if out.unit_inner else b.mul(j, self.ostride[k][-1])])
                    b.store(self.out_fill[k], ptr)

    def _fast_segment(self, stage, lo, hi, rows) -> None:
        """[lo, hi) of a row, every read in bounds: for outputs, a masked peel up to the first
        point whose store is 64-byte aligned (no cache-line-split vector stores), then the
        loop LLVM vectorises (or the streamed segment)."""
        b = self.b
        if stage.target is None and self.stream:
            size = concrete(self.spec.outputs[0].dtype).itemsize
            streamed_segment(b, lo, hi, rows["out"], self.stream_bufs, size,
                             lambda j: self._values(stage, rows, None, j, safe=False),
                             lambda k, v, p: store(b, v, p, self.spec.outputs[k].dtype),
                             self._lead_rows(rows))
            return
        aligned = self._store_rows(stage)
        if ALIGN_STORES and aligned is not None:
            mid = aligned_start(b, aligned(rows), lo, hi, self._store_size())
            with for_range(b, lo, mid, "jpeel", masked=True) as j:
                self._store(stage, rows, j, self._values(stage, rows, None, j, safe=False))
            lo = mid
        with for_range(b, lo, hi, "j") as j:
            self._store(stage, rows, j, self._values(stage, rows, None, j, safe=False))

    def _lead_rows(self, rows) -> list:
        """(row pointer, itemsize) of each unit-stride field's row read furthest along
        axis 0: the data a row step reads for the first time."""
        lead = {}
        for key in rows:
            if isinstance(key, tuple) and key[0] in self.fields:
                f = self.fields[key[0]]
                if f.unit_inner and not f.broadcast[0] and key[1] > lead.get(key[0], key)[1] \
                        or key[0] not in lead:
                    lead[key[0]] = key
        return [(rows[k], concrete(self.fields[k[0]].dtype).itemsize) for k in lead.values()
                if self.fields[k[0]].unit_inner]

    def _store_rows(self, stage):
        """The output rows the stage stores to with unit stride (a function of the row
        pointers), or None (a temporary's stage, or outputs of mixed itemsize or stride)."""
        if stage.target is not None:
            return None
        outs = self.spec.outputs
        sizes = {concrete(o.dtype).itemsize for o in outs}
        if len(sizes) != 1 or not all(o.unit_inner for o in outs):
            return None
        return lambda rows: rows["out"]

    def _store_size(self) -> int:
        return memory_type_size(self.spec.outputs[0].dtype)

    def _store(self, stage, rows, j, values) -> None:
        b = self.b
        if stage.target is not None:
            store(b, values[0], b.gep(rows["target"], [j]), self.types[stage.target])
            return
        for k, (v, out) in enumerate(zip(values, self.spec.outputs)):
            ptr = b.gep(rows["out"][k], [j if out.unit_inner else b.mul(j, self.ostride[k][-1])])
            store(b, v, ptr, out.dtype)

    # -- row pointers -------------------------------------------------------------------
    def _row_pointers(self, stage, idx) -> dict:
        """Pointers to element j = 0 of the current row of everything the stage touches:
        ``(name, offset)`` of every field/temporary read, the target row or the outputs."""
        b = self.b
        rows, terms = {}, {}
        exprs = [self.defs[stage.target]] if stage.target is not None else self.spec.stencil.returns
        for name, offset in _stage_reads(exprs, self.defs, set(self.spec.materialised)):
            if name in self.tgeom:
                rows[(name, offset)] = self._temp_row(name, idx, offset)
            else:
                rows[(name, offset)] = self._field_row(name, idx, offset, terms)
        if stage.target is not None:
            rows["target"] = self._temp_row(stage.target, idx, (0,) * self.spec.ndim)
        else:
            rows["out"] = [self._out_row(k, idx) for k in range(len(self.spec.outputs))]
        return rows

    def _field_row(self, name, idx, offset, terms: dict):
        """Element j = 0 of the row (plus the inner offset); along outer axes with a padding
        mode the row index is remapped ("constant": clamped; such rows run remapped).
        ``terms`` shares each (field, axis, offset) term between the rows of one step."""
        b, f = self.b, self.fields[name]
        total = _mul(b, const(offset[-1]), self.fstride[name][-1])
        for d, (i, o) in enumerate(zip(idx, offset)):
            total = b.add(total, self._remapped_term(f, d, i, o, terms)[0])
        return b.gep(self.fbase[name], [total])

    def _temp_row(self, name, idx, offset):
        b, g, n = self.b, self.tgeom[name], self.spec.ndim
        if not self.spec.rolling:                  # 1-D: the tile buffer starts at t0 - L
            start = b.sub(self.tile_origin, const(g["lo"]))
            return b.gep(self.scratch_ptr[name], [b.sub(const(offset[0]), start)])
        row = b.add(idx[0], const(offset[0]))
        first = b.sub(self.row_base, const(g["lo"]))
        total = b.mul(b.urem(b.sub(row, first), const(g["keep"])), g["row"])
        for d in range(1, n - 1):
            pos = b.sub(b.add(idx[d], const(offset[d])), g["origin"][d])
            total = b.add(total, b.mul(pos, g["strides"][d]))
        total = b.add(total, b.sub(const(offset[-1]), g["origin"][n - 1]))
        return b.gep(self.scratch_ptr[name], [total])

    def _out_row(self, k, idx):
        b, strides, origin = self.b, self.ostride[k], self.oorigin[k]
        total = b.sub(const(0), _mul(b, origin[-1], strides[-1]))
        for i, org, s in zip(idx, origin, strides):
            total = b.add(total, _mul(b, b.sub(i, org), s))
        return b.gep(self.obase[k], [total])

    # -- one point ---------------------------------------------------------------
    def _values(self, stage, rows, idx, j, safe: bool) -> list:
        """The values the stage stores at point j of the current row."""
        cache: dict = {}
        lower = ExprLowerer(self.b, self.target, self.types,
                            lambda name, offset: self._access(name, offset, rows, idx, j, safe,
                                                              cache),
                            self.scalars, self.inline, self.type_memo)
        if stage.target is not None:
            return [lower.lower_as(self.defs[stage.target], self.types[stage.target])]
        return [lower.lower_as(expr, out.dtype)
                for expr, out in zip(self.spec.stencil.returns, self.spec.outputs)]

    def _access(self, name, offset, rows, idx, j, safe, cache) -> ir.Value:
        """The value of a field or materialised temporary at point j + offset."""
        b, key = self.b, (name, offset)
        if name in self.tgeom:                                           # rolling/tile buffer
            return load(b, b.gep(rows[key], [j]), self.types[name])
        if safe and self._rows_remapped(self.fields[name]):
            return self._load_inner_remapped(name, offset, rows[key], j, cache)
        if safe:
            return self._load_remapped(name, offset, idx + [j], cache)
        s = self.fstride[name][-1]
        return load(b, b.gep(rows[key], [_mul(b, j, s)]), self.fields[name].dtype)

    def _load_remapped(self, name, offset, idx, cache: dict) -> ir.Value:
        b = self.b
        f = self.fields[name]
        total, inside = None, None
        for d, (i, o) in enumerate(zip(idx, offset)):
            term, ok = self._remapped_term(f, d, i, o, cache)
            total = term if total is None else b.add(total, term)
            if ok is not None:
                inside = ok if inside is None else b.and_(inside, ok)
        value = load(b, b.gep(self.fbase[f.name], [total]), f.dtype)
        if inside is None:
            return value
        fill = cast(b, self.fill_bits, float, f.dtype)
        return b.select(inside, value, fill)

    def _load_inner_remapped(self, name, offset, row, j, cache: dict) -> ir.Value:
        """A read through its (remapped) row pointer, the inner index remapped."""
        b, f, d = self.b, self.fields[name], self.spec.ndim - 1
        o = offset[-1]
        term, ok = self._remapped_term(f, d, j, o, cache)
        # the row pointer already includes o x stride: step back by it
        value = load(b, b.gep(row, [b.sub(term, _mul(b, const(o), self.fstride[f.name][d]))]),
                     f.dtype)
        if ok is None:
            return value
        return b.select(ok, value, cast(b, self.fill_bits, float, f.dtype))

    def _remapped_term(self, f, d, i, o, cache: dict):
        """(remapped index of ``i + o`` along axis d x field f's stride, in-bounds flag or
        None), once per point for every (field, axis, offset): less IR to optimise."""
        key = ("remap", f.name, d, o)
        if key in cache:
            return cache[key]
        b = self.b
        j = b.add(i, const(o)) if o else i
        ok = None
        if self.pad_axes[d] and not f.broadcast[d]:
            if self.spec.modes[d] == "constant":
                ok = in_bounds(b, j, self.flen[f.name][d])
            j = remap(b, self.spec.modes[d], j, self.flen[f.name][d], self.h["N"][d])
        cache[key] = _mul(b, j, self.fstride[f.name][d]), ok
        return cache[key]


def _flat_rows(rows: dict, keys: list) -> list:
    """The row pointers of ``keys`` in order, the output rows ("out", a list) spread out."""
    return [p for k in keys for p in (rows[k] if k == "out" else [rows[k]])]


def _stage_reads(exprs, defs: dict, materialised) -> list:
    """``(name, offset)`` of every field or materialised temporary that ``exprs`` read
    (through the temporaries they evaluate inline), in first-read order."""
    seen, out, inlined = set(), [], set()

    def visit(expr):
        for node in N.walk(expr):
            if not isinstance(node, N.FieldAccess):
                continue
            if node.name in defs and node.name not in materialised:
                if node.name not in inlined:
                    inlined.add(node.name)
                    visit(defs[node.name])
            elif (node.name, node.offset) not in seen:
                seen.add((node.name, node.offset))
                out.append((node.name, node.offset))

    for expr in exprs:
        visit(expr)
    return out


def memory_type_size(t) -> int:
    """Bytes of one element in memory (bool: 1)."""
    return concrete(t).itemsize


def _mul(b: ir.IRBuilder, x, s):
    if isinstance(s, ir.Constant) and s.constant == 1:
        return x
    if isinstance(x, ir.Constant) and x.constant == 0:
        return x
    return b.mul(x, s)


def lower(spec: KernelSpec, target: Target = CPU) -> ir.Module:
    """The llvmlite module of one specialised kernel (entry ``stencil_kernel``)."""
    return KernelBuilder(spec, target).build()
