"""The loop nest of a kernel: ir + frozen plan -> ``llvmlite.ir.Module``.

Lowering, as typed comments::

    # [KernelSpec] -> body(noalias fields..., noalias outputs..., noalias scratch..., args)
    # for b in batch range:                     (leading axes, one collapsed axis)
    #   for tile in rows of axis 0, step T:      (temporaries live in tile buffers)
    #     for stage in plan.stages:              (materialised temporaries, then outputs)
    #       for i_0 .. i_{n-2} in stage region:  (outer axes)
    #         inner axis: [lo, a) remapped | [a, b) fast, unit stride | [b, hi) remapped
    # stencil_kernel(args) unpacks the pointers and calls body.

The "fast" part reads every field in bounds with plain strided addressing; the
"remapped" parts (only along axes with a padding boundary mode) map each index
with ``codegen/boundary.py``.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.boundary import in_bounds, remap
from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.loops import const, for_range, smax, smin
from stencilpy.codegen.spec import ArgLayout, KernelSpec
from stencilpy.codegen.types import F64, I64, cast, load, memory_type, store
from stencilpy.ir import nodes as N
from stencilpy.options import PAD_MODES

ENTRY_NAME = "stencil_kernel"


class KernelBuilder:
    """Builds the module for one ``KernelSpec``."""

    def __init__(self, spec: KernelSpec):
        self.spec = spec
        self.layout = ArgLayout(spec)
        self.module = ir.Module(name=f"stencilpy.{spec.stencil.name}")
        self.types = spec.types()
        self.defs = {s.target: s.value for s in spec.stencil.body}
        self.pad_axes = [m in PAD_MODES for m in spec.modes]

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
        for arg in body.args[:-1]:
            arg.add_attribute("noalias")
        self._emit_entry(body, ptr_types)
        self._emit_body(body)
        return self.module

    def _emit_entry(self, body: ir.Function, ptr_types: list) -> None:
        """stencil_kernel(i64* args): load the pointer slots, call the body."""
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [I64.as_pointer()]), ENTRY_NAME)
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
        self._load_args(fn.args[-1])
        with for_range(b, self.h["batch_lo"], self.h["batch_hi"], "batch") as batch:
            self._batch_bases(batch)
            lo0, hi0 = self.h["region"][0]
            with for_range(b, lo0, hi0, "tile", step=self.h["tile"]) as t0:
                t1 = smin(b, b.add(t0, self.h["tile"]), hi0)
                for stage in self.spec.plan.stages:
                    self._emit_stage(stage, t0, t1)
        b.ret_void()

    def _slot(self, args, k):
        return self.b.load(self.b.gep(args, [const(k)]))

    def _load_args(self, args) -> None:
        """Every header value as an SSA value (loaded before any store)."""
        L, n, s = self.layout, self.spec.ndim, self._slot
        self.h = {"batch_lo": s(args, L.batch_lo), "batch_hi": s(args, L.batch_hi),
                  "tile": s(args, L.tile),
                  "N": [s(args, L.axis[d][0]) for d in range(n)],
                  "region": [(s(args, L.axis[d][1]), s(args, L.axis[d][2])) for d in range(n)]}
        self.fstride, self.flen, self.fbstride = {}, {}, {}
        for f in self.spec.fields:
            k = L.field[f.name]
            self.fbstride[f.name] = s(args, k + 1)
            self.fstride[f.name] = [s(args, k + 2 + d) for d in range(n)]
            self.flen[f.name] = [s(args, k + 2 + n + d) for d in range(n)]
        self.ostride, self.oorigin, self.obstride = [], [], []
        for k in L.output:
            self.obstride.append(s(args, k + 1))
            self.ostride.append([s(args, k + 2 + d) for d in range(n)])
            self.oorigin.append([s(args, k + 2 + n + d) for d in range(n)])
        self.scalars = {}
        for name, t in self.spec.scalars:
            bits = s(args, L.scalar[name])
            value = self.b.bitcast(bits, F64) if t is float else bits
            self.scalars[name] = cast(self.b, value, float if t is float else int, t) \
                if t is bool else value
        self.fill_bits = self.b.bitcast(s(args, L.fill), F64)

    def _batch_bases(self, batch) -> None:
        b = self.b
        self.fbase = {n: b.gep(p, [b.mul(batch, self.fbstride[n])]) for n, p in self.field_ptr.items()}
        self.obase = [b.gep(p, [b.mul(batch, bs)]) for p, bs in zip(self.out_ptr, self.obstride)]

    # -- one stage ---------------------------------------------------------------
    def _stage_region(self, stage, t0, t1) -> list:
        b, ext = self.b, stage.region
        bounds = [(b.sub(t0, const(ext[0][0])), b.add(t1, const(ext[0][1])))]
        for d in range(1, self.spec.ndim):
            lo, hi = self.h["region"][d]
            if d == 0:
                continue
            bounds.append((b.sub(lo, const(ext[d][0])), b.add(hi, const(ext[d][1]))))
        return bounds

    def _scratch_geometry(self, name, t0) -> tuple:
        """Origin and strides of a temporary's tile buffer (C order)."""
        b, ext = self.b, self._stage_of(name).region
        n = self.spec.ndim
        origin = [b.sub(t0, const(ext[0][0]))]
        lens = [b.add(self.h["tile"], const(ext[0][0] + ext[0][1]))]
        for d in range(1, n):
            lo, hi = self.h["region"][d]
            origin.append(b.sub(lo, const(ext[d][0])))
            lens.append(b.add(b.sub(hi, lo), const(ext[d][0] + ext[d][1])))
        strides = [const(1)] * n
        for d in range(n - 2, -1, -1):
            strides[d] = b.mul(strides[d + 1], lens[d + 1])
        return origin, strides

    def _stage_of(self, name):
        return next(s for s in self.spec.plan.stages if s.target == name)

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

    def _emit_stage(self, stage, t0, t1) -> None:
        b = self.b
        self.geom = {t: self._scratch_geometry(t, t0) for t in self.spec.materialised}
        bounds = self._stage_region(stage, t0, t1)
        interior = [self._interior(stage, d) if self.pad_axes[d] else None
                    for d in range(self.spec.ndim)]
        self._loop_outer(stage, bounds, interior, 0, [], ir.Constant(ir.IntType(1), 1))

    def _loop_outer(self, stage, bounds, interior, d, idx, row_ok) -> None:
        b = self.b
        if d == self.spec.ndim - 1:
            self._loop_inner(stage, bounds[d], interior[d], idx, row_ok)
            return
        with for_range(b, bounds[d][0], bounds[d][1], f"i{d}") as i:
            ok = row_ok
            if interior[d] is not None:
                lo, hi = interior[d]
                ok = b.and_(ok, b.and_(b.icmp_signed(">=", i, lo), b.icmp_signed("<", i, hi)))
            self._loop_outer(stage, bounds, interior, d + 1, idx + [i], ok)

    def _loop_inner(self, stage, bounds, interior, idx, row_ok) -> None:
        """Inner axis: remapped head and tail, fast unit-stride middle.

            row_ok ? ([lo, a) safe; [a, c) fast; [c, hi) safe) : [lo, hi) safe
        """
        b = self.b
        lo, hi = bounds
        if not any(self.pad_axes):
            with for_range(b, lo, hi, "j") as j:
                self._point(stage, idx + [j], safe=False)
            return
        if interior is None:
            a, c = lo, hi
        else:
            a = smin(b, smax(b, interior[0], lo), hi)
            c = smax(b, smin(b, interior[1], hi), a)
        a = b.select(row_ok, a, hi)
        c = b.select(row_ok, c, hi)
        with for_range(b, lo, a, "jhead") as j:
            self._point(stage, idx + [j], safe=True)
        with for_range(b, a, c, "j") as j:
            self._point(stage, idx + [j], safe=False)
        with for_range(b, c, hi, "jtail") as j:
            self._point(stage, idx + [j], safe=True)

    # -- one point ---------------------------------------------------------------
    def _point(self, stage, idx, safe: bool) -> None:
        cache: dict = {}
        lower = ExprLowerer(self.b, self.types, lambda node: self._access(node, idx, safe, cache, lower),
                            self.scalars)
        if stage.target is not None:
            t = self.types[stage.target]
            value = lower.lower_as(self.defs[stage.target], t)
            origin, strides = self.geom[stage.target]
            ptr = self._address(self.scratch_ptr[stage.target], idx, [0] * len(idx), origin, strides)
            store(self.b, value, ptr, t)
            return
        for k, (expr, out) in enumerate(zip(self.spec.stencil.returns, self.spec.outputs)):
            value = lower.lower_as(expr, out.dtype)
            ptr = self._address(self.obase[k], idx, [0] * len(idx), self.oorigin[k], self.ostride[k])
            store(self.b, value, ptr, out.dtype)

    def _address(self, base, idx, offset, origin, strides):
        b = self.b
        total = const(0)
        for i, o, org, s in zip(idx, offset, origin, strides):
            pos = b.add(i, const(o)) if o else i
            pos = b.sub(pos, org) if org is not None else pos
            total = b.add(total, pos if _is_one(s) else b.mul(pos, s))
        return b.gep(base, [total])

    def _access(self, node: N.FieldAccess, idx, safe, cache, lower) -> ir.Value:
        key = (node.name, node.offset)
        if key in cache:
            return cache[key]
        if node.name in self.defs and node.name not in self.geom:       # inline temporary
            value = lower.lower_as(self.defs[node.name], self.types[node.name])
        elif node.name in self.geom:                                     # tile buffer
            origin, strides = self.geom[node.name]
            ptr = self._address(self.scratch_ptr[node.name], idx, node.offset, origin, strides)
            value = load(self.b, ptr, self.types[node.name])
        else:
            value = self._load_field(node, idx, safe)
        cache[key] = value
        return value

    def _load_field(self, node: N.FieldAccess, idx, safe) -> ir.Value:
        b = self.b
        f = next(f for f in self.spec.fields if f.name == node.name)
        strides = self.fstride[f.name]
        if f.unit_inner and not f.broadcast[-1]:
            strides = strides[:-1] + [const(1)]
        if not safe:
            ptr = self._address(self.fbase[f.name], idx, node.offset, [None] * len(idx), strides)
            return load(b, ptr, f.dtype)
        pos, inside = [], None
        for d, (i, o) in enumerate(zip(idx, node.offset)):
            j = b.add(i, const(o)) if o else i
            mode = self.spec.modes[d]
            if self.pad_axes[d] and not f.broadcast[d]:
                if mode == "constant":
                    ok = in_bounds(b, j, self.flen[f.name][d])
                    inside = ok if inside is None else b.and_(inside, ok)
                j = remap(b, mode, j, self.flen[f.name][d], self.h["N"][d])
            pos.append(j)
        ptr = self._address(self.fbase[f.name], pos, [0] * len(pos), [None] * len(pos), strides)
        value = load(b, ptr, f.dtype)
        if inside is None:
            return value
        fill = cast(b, self.fill_bits, float, f.dtype)
        return b.select(inside, value, fill)


def _is_one(value) -> bool:
    return isinstance(value, ir.Constant) and value.constant == 1


def lower(spec: KernelSpec) -> ir.Module:
    """The llvmlite module of one specialised kernel (entry ``stencil_kernel``)."""
    return KernelBuilder(spec).build()
