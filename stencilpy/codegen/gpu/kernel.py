"""The GPU loop mapping: ``GpuSpec`` -> ``llvmlite.ir.Module`` (target "nvptx" or "host").

Two kernels with one parameter list; the host fills the ``grid`` parameters with the box
each launch covers (``runtime/gpu/execute.py: boxes``).  Lowering, as typed comments::

    # [GpuSpec] -> stencil_gpu(ptr noalias fields.., ptr noalias outputs.., i64 params..)
    #   (interior: every point of the box reads in bounds; its rows a multiple of R)
    # j  = grid_lo[inner] + ctaid.x * ntid.x + tid.x          (threads over the fastest axis)
    # z  = ctaid.z -> (batch, outer axes 0..n-3)               (i32 division)
    # r0 = grid_lo[row] + (ctaid.y * ntid.y + tid.y) * R        (blocks over rows)
    # if j, z, r0 are in the box:
    #   R rows unrolled, plain strided addressing: loads at (field, offset) shared between
    #   rows (a register window: u[r+1] of row r is u[r] of row r+1), temporaries
    #   recomputed once per (temporary, offset) in the window
    #   (spec.loops: grid-stride loops over z and y instead, beyond the grid limits)
    #
    # [GpuSpec] -> stencil_gpu_edge(same parameters)   (a slab the interior leaves out)
    # for z, for y (grid-stride), one point per step:
    #   outside the region ("fill" axes): store the fill value
    #   else: the point with every read remapped (codegen/boundary.py), "extrapolate":
    #         w0 f[e] + w1 f[e+-1] + w2 f[e+-2] beyond an end e (axis 0's rule innermost,
    #         as the numpy reference pads)
    # outputs are addressed by domain index (the host biases each output pointer by its
    # origin), so one-output kernels of the same layout fill per-output regions
    #
    # host target: the same functions with the ids as arguments (``*_thread``), and
    # stencil_gpu_grid / stencil_gpu_edge_grid looping over every block and thread.

Expressions are lowered by the shared ``codegen/expr.py``; on NVPTX, math functions that
the backend cannot select (``llvm.exp``, ``tan``, ``frem`` ...) become libdevice calls
(``__nv_exp`` ...) through ``GpuTarget`` (``codegen/gpu/target.py``) and ``frem`` through
``GpuBuilder``; ``runtime/gpu/ptx.py`` links libdevice in.
"""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from stencilpy.codegen.boundary import combine, ghost, in_bounds, remap
from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.gpu.spec import AXIS_PARAMS, EDGE_GRID_NAME, EDGE_NAME, GRID_NAME, KERNEL_NAME, GpuSpec
from stencilpy.codegen.gpu.target import GPU, declare
from stencilpy.codegen.target import CPU
from stencilpy.codegen.loops import const
from stencilpy.codegen.types import F64, I64, cast, concrete, memory_type, store
from stencilpy.options import PAD_MODES

NVPTX_TRIPLE = "nvptx64-nvidia-cuda"
NVPTX_DATALAYOUT = "e-p6:32:32-i64:64-i128:128-i256:256-v16:16-v32:32-n16:32:64"
I32 = ir.IntType(32)

def libdevice_name(name: str) -> str | None:
    """The libdevice function of an LLVM intrinsic or C math function name (None: NVPTX
    selects it itself)."""
    from stencilpy.codegen.gpu.target import GPU_MATH
    base = {v: v for v in GPU_MATH.values() if not v.startswith("llvm.")}
    if name.startswith("llvm."):
        parts = name.split(".")
        if len(parts) == 3 and parts[1] in base and parts[2] in ("f32", "f64"):
            return f"__nv_{parts[1]}" + ("f" if parts[2] == "f32" else "")
        return None
    if name in base:
        return f"__nv_{name}"
    if name.endswith("f") and name[:-1] in base:
        return f"__nv_{name}"
    return None


class GpuBuilder(ir.IRBuilder):
    """An IRBuilder for NVPTX: ``frem`` (NumPy's ``%``, ``//`` and ``fmod`` use it) is
    libdevice's exact ``fmod`` (NVPTX's own expansion, ``x - y * trunc(x / y)``, is not
    exact for large quotients)."""

    def frem(self, lhs, rhs, name=""):
        target = "__nv_fmodf" if lhs.type == ir.FloatType() else "__nv_fmod"
        fn = declare(self, target, ir.FunctionType(lhs.type, [lhs.type] * 2))
        return self.call(fn, [lhs, rhs], name=name)


@contextmanager
def _loop(b: ir.IRBuilder, start, step, cond, name: str):
    """``for (i = start; cond(i); i += step)``; yields i (an i64 phi)."""
    pre = b.block
    head = b.append_basic_block(f"{name}.head")
    body = b.append_basic_block(f"{name}.body")
    exit_ = b.append_basic_block(f"{name}.exit")
    b.branch(head)
    b.position_at_end(head)
    i = b.phi(I64, name=name)
    i.add_incoming(start, pre)
    b.cbranch(cond(i), body, exit_)
    b.position_at_end(body)
    yield i
    i.add_incoming(b.add(i, step), b.block)
    b.branch(head)
    b.position_at_end(exit_)


class GpuKernelBuilder:
    """Builds the module of one ``GpuSpec`` for ``target`` "nvptx" or "host"."""

    IDS = ("ctaid.x", "ctaid.y", "ctaid.z", "ntid.x", "ntid.y", "tid.x", "tid.y",
           "nctaid.y", "nctaid.z")

    def __init__(self, spec: GpuSpec, target: str = "nvptx"):
        self._start(spec, target, f"stencilpy.gpu.{spec.stencil.name}")
        self.defs = {s.target: s.value for s in spec.stencil.body}
        self.read_modes = spec.modes                # the rule of each axis' edge reads
        self.pad = [m in PAD_MODES for m in spec.modes]

    def _start(self, spec, target: str, name: str) -> None:
        """The empty module for ``target`` ("nvptx" or "host") and the per-spec state."""
        if target not in ("nvptx", "host"):
            raise ValueError(f"unknown GPU lowering target {target!r}")
        self.spec, self.target = spec, target
        self.nvptx = target == "nvptx"
        self.module = ir.Module(name=name)
        if self.nvptx:
            self.module.triple = NVPTX_TRIPLE
            self.module.data_layout = NVPTX_DATALAYOUT
        self.types = spec.types()
        self.type_memo: dict = {}
        self.invariant = self.module.add_metadata([]) if self.nvptx else None
        self.target_math = GPU if self.nvptx else CPU

    # -- signature -------------------------------------------------------------------
    def param_types(self) -> list:
        spec, n = self.spec, self.spec.ndim
        tys = []
        for f in spec.fields:
            tys += [memory_type(f.dtype).as_pointer()] + [I64] * (1 + 2 * n)
        for o in spec.outputs:
            tys += [memory_type(o.dtype).as_pointer()] + [I64] * (1 + n)
        tys += [I64] * (spec.n_params() - len(tys))
        return tys

    def build(self) -> ir.Module:
        tys = self.param_types()
        for kind in ("interior", "edge"):
            name = KERNEL_NAME if kind == "interior" else EDGE_NAME
            if self.nvptx:
                fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), tys), name)
                fn.calling_convention = "ptx_kernel"
                params, ids = list(fn.args), None
            else:
                fnty = ir.FunctionType(ir.VoidType(), tys + [I64] * len(self.IDS))
                fn = ir.Function(self.module, fnty, name + "_thread")
                fn.linkage = "internal"
                params, ids = list(fn.args[:len(tys)]), dict(zip(self.IDS, fn.args[len(tys):]))
            for k in self.spec.pointer_params():
                fn.args[k].add_attribute("noalias")
            self.b = GpuBuilder(fn.append_basic_block("entry")) if self.nvptx \
                else ir.IRBuilder(fn.append_basic_block("entry"))
            self._ids = ids
            self._unpack(params)
            self._emit_body(kind)
            if not self.nvptx:
                self._emit_grid(fn, tys, GRID_NAME if kind == "interior" else EDGE_GRID_NAME)
        return self.module

    def _id(self, name: str):
        if self._ids is not None:
            return self._ids[name]
        reg, axis = name.split(".")
        fnty = ir.FunctionType(I32, [])
        full = f"llvm.nvvm.read.ptx.sreg.{reg}.{axis}"
        fn = self.module.globals.get(full) or ir.Function(self.module, fnty, full)
        return self.b.zext(self.b.call(fn, []), I64)

    def _unpack(self, params) -> None:
        spec, n, b = self.spec, self.spec.ndim, self.b
        it = iter(params)
        take = lambda k: [next(it) for _ in range(k)]          # noqa: E731
        self.fptr, self.fbs, self.fstride, self.flen = {}, {}, {}, {}
        for f in spec.fields:
            self.fptr[f.name], self.fbs[f.name] = next(it), next(it)
            strides = take(n)
            if f.unit_inner and not f.broadcast[-1]:
                strides[-1] = const(1)
            self.fstride[f.name], self.flen[f.name] = strides, take(n)
        self.optr, self.obs, self.ostride = [], [], []
        for o in spec.outputs:
            self.optr.append(next(it))
            self.obs.append(next(it))
            strides = take(n)
            if o.unit_inner:
                strides[-1] = const(1)
            self.ostride.append(strides)
        self.N, self.region, self.fast, self.grid = [], [], [], []
        for _ in range(n):
            N_, rlo, rhi, flo, fhi, glo, ghi = take(AXIS_PARAMS)
            self.N.append(N_)
            self.region.append((rlo, rhi))
            self.fast.append((flo, fhi))
            self.grid.append((glo, ghi))
        self.nbatch = next(it)
        self.scalars = {}
        for name, t in spec.scalars:
            bits = next(it)
            value = b.bitcast(bits, F64) if t is float else bits
            self.scalars[name] = cast(b, value, int, t) if t is bool else value
        self.fill = b.bitcast(next(it), F64)
        self.out_fill = [self._raw(next(it), o.dtype) for o in spec.outputs]

    def _raw(self, bits, t):
        mt = memory_type(t)
        width = 8 * concrete(t).itemsize
        value = bits if width == 64 else self.b.trunc(bits, ir.IntType(width))
        return value if isinstance(mt, ir.IntType) else self.b.bitcast(value, mt)

    # -- the thread's work -------------------------------------------------------------
    def _emit_body(self, kind: str) -> None:
        """The thread's work in the launch's box (the ``grid`` parameters): "interior",
        R rows of fast points per thread (the host guarantees every point of the box is
        fast and its rows a multiple of R), or "edge", one generic point per step."""
        spec, b, n = self.spec, self.b, self.spec.ndim
        inner, row = n - 1, spec.row_axis
        R = spec.rows if kind == "interior" and row is not None else 1
        loops = kind == "edge" or spec.loops
        x = b.add(b.mul(self._id("ctaid.x"), self._id("ntid.x")), self._id("tid.x"))
        j = b.add(self.grid[inner][0], x, name="j")
        outer = list(range(0, n - 2)) if row is not None else []
        lens = [b.trunc(b.sub(self.grid[d][1], self.grid[d][0]), I32) for d in outer]
        nz = b.trunc(self.nbatch, I32)
        for length in lens:
            nz = b.mul(nz, length)
        nz = b.zext(nz, I64)
        z0 = self._id("ctaid.z")
        ok = b.icmp_signed("<", j, self.grid[inner][1])
        if not loops:
            ok = b.and_(ok, b.icmp_signed("<", z0, nz))
        if row is not None:
            y0 = b.add(b.mul(self._id("ctaid.y"), self._id("ntid.y")), self._id("tid.y"))
            lo_r, hi_r = self.grid[row]
            if not loops:
                ok = b.and_(ok, b.icmp_signed("<", b.add(lo_r, b.mul(y0, const(R))), hi_r))
        work = b.append_basic_block("work")
        done = b.append_basic_block("done")
        b.cbranch(ok, work, done)
        b.position_at_end(work)

        def rows_of(z):
            idx, rest = {}, b.trunc(z, I32)
            for d, length in reversed(list(zip(outer, lens))):
                idx[d] = b.add(self.grid[d][0], b.zext(b.urem(rest, length), I64))
                rest = b.udiv(rest, length)
            batch = b.zext(rest, I64)
            if row is None:
                self._step(kind, batch, idx, None, j, R)
            elif not loops:
                self._step(kind, batch, idx, b.add(lo_r, b.mul(y0, const(R))), j, R)
            else:
                ystep = b.mul(self._id("nctaid.y"), self._id("ntid.y"))
                with _loop(b, y0, ystep, lambda y: b.icmp_signed(
                        "<", b.add(lo_r, b.mul(y, const(R))), hi_r), "y") as y:
                    self._step(kind, batch, idx, b.add(lo_r, b.mul(y, const(R))), j, R)

        if loops:
            with _loop(b, z0, self._id("nctaid.z"), lambda z: b.icmp_signed("<", z, nz), "z") as z:
                rows_of(z)
        else:
            rows_of(z0)
        b.branch(done)
        b.position_at_end(done)
        b.ret_void()

    def _step(self, kind, batch, idx: dict, r0, j, R: int) -> None:
        n = self.spec.ndim
        if kind == "interior":
            self._fast_block(batch, idx, r0, j, R)
        else:
            pos = [idx.get(d) for d in range(n - 2)] + ([r0] if r0 is not None else []) + [j]
            self._point(batch, pos)

    def _within(self, bounds, i):
        b = self.b
        return b.and_(b.icmp_signed(">=", i, bounds[0]), b.icmp_signed("<", i, bounds[1]))

    # -- fast rows: every read in bounds, R rows with shared loads -----------------------
    def _fast_block(self, batch, idx: dict, r0, j, R: int) -> None:
        b, spec, n = self.b, self.spec, self.spec.ndim
        row = spec.row_axis
        pos = [idx.get(d) for d in range(n - 2)] + ([r0] if row is not None else []) + [j]
        bases = {}
        for f in spec.fields:
            total = b.mul(batch, self.fbs[f.name])
            for d in range(n):
                total = b.add(total, self._mul(pos[d], self.fstride[f.name][d]))
            bases[f.name] = b.gep(self.fptr[f.name], [total])
        memo: dict = {}

        def load(name, off):
            strides = self.fstride[name]
            total = None
            for o, s in zip(off, strides):
                if o:
                    term = self._mul(const(o), s)
                    total = term if total is None else b.add(total, term)
            ptr = b.gep(bases[name], [total]) if total is not None else bases[name]
            return self._load(ptr, self.types[name])

        obases = []
        for k, o in enumerate(spec.outputs):
            total = b.mul(batch, self.obs[k])
            for d in range(n):
                total = b.add(total, self._mul(pos[d], self.ostride[k][d]))
            obases.append(b.gep(self.optr[k], [total]))
        for k in range(R):
            shift = tuple(k if d == row else 0 for d in range(n))
            values = self._outputs(load, memo, shift)
            for q, (v, o) in enumerate(zip(values, spec.outputs)):
                ptr = obases[q] if k == 0 else b.gep(obases[q], [self._mul(const(k), self.ostride[q][row])])
                store(b, v, ptr, o.dtype)

    # -- one point anywhere: region check, remapped reads ---------------------------------
    def _point(self, batch, pos: list) -> None:
        b, spec, n = self.b, self.spec, self.spec.ndim
        inside = None
        for d in range(n):
            if spec.modes[d] == "fill":
                ok = self._within(self.region[d], pos[d])
                inside = ok if inside is None else b.and_(inside, ok)
        optrs = []
        for k in range(len(spec.outputs)):
            total = b.mul(batch, self.obs[k])
            for d in range(n):
                total = b.add(total, self._mul(pos[d], self.ostride[k][d]))
            optrs.append(b.gep(self.optr[k], [total]))

        def compute():
            cache: dict = {}

            def load(name, off):
                return self._load_remapped(name, batch, pos, off, cache)
            for v, p, o in zip(self._outputs(load, {}, (0,) * n), optrs, spec.outputs):
                store(b, v, p, o.dtype)

        if inside is None:
            compute()
            return
        with b.if_else(inside, likely=True) as (then, otherwise):
            with then:
                compute()
            with otherwise:
                for fill, p in zip(self.out_fill, optrs):
                    b.store(fill, p)

    def _load_remapped(self, name, batch, pos, off, cache: dict):
        """Field ``name`` at ``pos + off`` under the boundary modes, as the numpy reference
        pads it: axis 0 first, then axis 1 on the padded array, ...  (so the last axis' rule
        is applied outermost).  Pad modes remap the index ("constant": the fill value where
        it falls outside); "extrapolate" (``stencilpy/extrapolation.py``) is the parabola
        through the three entries at that end, a combination of three reads."""
        b, spec = self.b, self.spec
        f = next(f for f in spec.fields if f.name == name)

        def axis(d):
            key = ("remap", name, d, off[d])
            if key not in cache:
                k = b.add(pos[d], const(off[d])) if off[d] else pos[d]
                length, mode = self.flen[name][d], self.read_modes[d]
                if mode == "extrapolate":
                    cache[key] = ("x",) + ghost(b, k, length)
                elif self.pad[d]:
                    ok = in_bounds(b, k, length) if mode == "constant" else None
                    cache[key] = ("r", remap(b, mode, k, length, self.N[d]), ok)
                else:
                    cache[key] = ("r", k, None)
            return cache[key]

        def value(d, total):
            if d < 0:
                return self._load(b.gep(self.fptr[name], [total]), f.dtype)
            if f.broadcast[d]:
                return value(d - 1, total)
            entry = axis(d)
            stride = self.fstride[name][d]
            if entry[0] == "r":
                _, k, ok = entry
                v = value(d - 1, b.add(total, self._mul(k, stride)))
                return v if ok is None else b.select(ok, v, cast(b, self.fill, float, f.dtype))
            _, inside, idx, weights = entry
            vs = [value(d - 1, b.add(total, self._mul(i, stride))) for i in idx]
            return b.select(inside, vs[0], combine(b, vs, weights, f.dtype))

        return value(spec.ndim - 1, b.mul(batch, self.fbs[name]))

    # -- values ----------------------------------------------------------------------------
    def _outputs(self, load, memo: dict, shift: tuple) -> list:
        """The outputs' values at ``shift`` from the current point; ``load(name, offset)``
        reads a field; ``memo`` shares (name, offset) values between calls."""
        lower = self._lowerer(load, memo, shift)
        return [lower.lower_as(e, o.dtype) for e, o in zip(self.spec.stencil.returns, self.spec.outputs)]

    def _lowerer(self, load, memo: dict, shift: tuple) -> ExprLowerer:
        """A lowerer of the point at ``shift``: fields through ``load``, temporaries (read
        at any offset) recomputed there, once per (name, offset) in ``memo``."""
        def value(name, offset):
            off = tuple(a + c for a, c in zip(offset, shift))
            key = (name, off)
            if key not in memo:
                if name in self.defs:
                    inner = self._lowerer(load, memo, off)
                    memo[key] = inner.lower_as(self.defs[name], self.types[name])
                else:
                    memo[key] = load(name, off)
            return memo[key]
        return ExprLowerer(self.b, self.target_math, self.types, value, self.scalars,
                           type_memo=self.type_memo)

    def _load(self, ptr, t):
        b = self.b
        instr = b.load(ptr)
        if self.invariant is not None:
            instr.set_metadata("invariant.load", self.invariant)
        if concrete(t).kind == "b":
            return b.icmp_unsigned("!=", instr, ir.Constant(instr.type, 0))
        return instr

    def _mul(self, x, s):
        if isinstance(s, ir.Constant) and s.constant == 1:
            return x
        if isinstance(x, ir.Constant) and x.constant == 0:
            return x
        if isinstance(x, ir.Constant) and x.constant == 1:
            return s
        return self.b.mul(x, s)

    # -- host emulation: the launch grid as loops -----------------------------------------
    def _emit_grid(self, thread: ir.Function, tys: list, name: str) -> None:
        """``stencil_gpu_grid(params.., gx, gy, gz, bx, by)``: every block and thread of the
        launch grid, one after the other, as the GPU would run them (in some order)."""
        fnty = ir.FunctionType(ir.VoidType(), tys + [I64] * 5)
        fn = ir.Function(self.module, fnty, name)
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        params = list(fn.args[:len(tys)])
        gx, gy, gz, bx, by = fn.args[len(tys):]
        less = lambda hi: (lambda i: b.icmp_signed("<", i, hi))    # noqa: E731
        one, zero = const(1), const(0)
        with _loop(b, zero, one, less(gz), "cz") as cz:
            with _loop(b, zero, one, less(gy), "cy") as cy:
                with _loop(b, zero, one, less(gx), "cx") as cx:
                    with _loop(b, zero, one, less(by), "ty") as ty:
                        with _loop(b, zero, one, less(bx), "tx") as tx:
                            ids = {"ctaid.x": cx, "ctaid.y": cy, "ctaid.z": cz, "ntid.x": bx,
                                   "ntid.y": by, "tid.x": tx, "tid.y": ty, "nctaid.y": gy,
                                   "nctaid.z": gz}
                            b.call(thread, params + [ids[k] for k in self.IDS])
        b.ret_void()


def lower(spec: GpuSpec, target: str = "nvptx") -> ir.Module:
    """The llvmlite module of ``spec``'s GPU kernel (``KERNEL_NAME``; host: ``GRID_NAME``)."""
    return GpuKernelBuilder(spec, target).build()
