"""Column stencils (``with sp.forward/backward`` sweeps) on the GPU: one kernel per block.

The body runs as a sequence of launches on one stream (each launch sees everything the
previous ones wrote), over the *box* (the domain grown by the halo, as the numpy reference
and ``codegen/columns.py`` lay it out)::

    parallel statements  consecutive ones that read no earlier one of the group at an
                         offset: one launch, a thread per box point (grid-stride loop over
                         the flattened box, the fastest axis fastest: coalesced)
    sweep along a        one launch, a thread per *column* (a point of the other axes),
                         walking the levels in the sweep's direction, run by run (levels
                         with the same active ranges); the statements of a level in order
    return k             one launch per output over its points: the value at the box point,
                         or the fill value outside its region ("fill" axes)

Storage: fields are read in place through the boundary rule of each axis (the edge
kernel's remapped reads, ``kernel.py: _load_remapped``; "fill"/"valid" axes clamp, as the
reference's placeholder padding); temporaries live in box arrays in device memory (reads
clamped to the box, as ``codegen/columns.py``), except *register temporaries*: assigned
in one sweep and read only there, in the same column, at the current level after their
assignment or at the previous level (or in one parallel group, read only there at the same
point) -- they never touch memory.

The same kernels run *staged* stencils (no sweeps): a stencil whose temporaries the fused
kernel (``kernel.py``) would recompute many times over (``runtime/gpu/execute.py:
staged``) computes each temporary once per box point instead, at the price of storing the
ones read at offsets.  Any temporary of a sweep
read at the previous level (``t[lev - 1]`` forward, ``t[lev + 1]`` backward, no other
offset) is carried in a register from one level to the next (a phi), not reloaded.

A parallel statement that reads its own target at an offset (``t = t[x + 1] + t[x - 1]``)
gets a storage of its own (``version_reassignments``), so that its launch reads the
previous definition while writing the new one.

    entries: sp_col_b<i> (block i of the body), sp_col_o<k> (output k)
    parameters (all launches): per field ptr, stride[ndim], length[ndim]; per box
    temporary ptr; per output ptr (biased by its origin), stride[ndim]; per scalar its
    bits; fill (float64 bits); per output its fill value's raw bits
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.gpu.kernel import (
    GpuBuilder, GpuKernelBuilder, I32, _loop)
from stencilpy.codegen.gpu.spec import GpuField, GpuOutput
from stencilpy.codegen.loops import const, smax, smin
from stencilpy.codegen.sweeps import reads as _reads
from stencilpy.codegen.sweeps import segments as _segments
from stencilpy.codegen.types import F64, I64, cast, concrete, llvm_type, memory_type, store
from stencilpy.errors import InternalCompilerError
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil
from stencilpy.options import PAD_MODES

BLOCK_PREFIX = "sp_col_b"
OUTPUT_PREFIX = "sp_col_o"
HOST_IDS = ("ctaid.x", "ntid.x", "tid.x", "nctaid.x")


# -- the IR as the GPU runs it ------------------------------------------------------------

def group_blocks(stencil: N.Stencil) -> list:
    """The launches of the body: a ``Sweep``, or a tuple of consecutive parallel
    statements none of which reads an earlier one of its group at a nonzero offset, or
    writes a name an earlier one reads at a nonzero offset (threads of one launch run in
    no order)."""
    groups: list = []
    for block in stencil.body:
        if isinstance(block, N.Sweep):
            groups.append(block)
            continue
        last = groups[-1] if groups and isinstance(groups[-1], tuple) else None
        if last is not None:
            targets = {s.target for s in last}
            shifted = {r.name for s in last for r in _reads(s.value) if any(r.offset)}
            if block.target not in shifted and \
                    not any(r.name in targets and any(r.offset) for r in _reads(block.value)):
                groups[-1] = last + (block,)
                continue
        groups.append((block,))
    return groups


def sweep_runs(sweep: N.Sweep, n: int) -> list[tuple[int, int, tuple]]:
    """Runs ``(lo, hi, statements)`` of levels with the same active ranges, in the sweep's
    order (``codegen/sweeps.py: segments``)."""
    runs = [(lo, hi, tuple(s for j in active for s in sweep.ranges[j].body))
            for lo, hi, active in _segments(sweep, n)]
    return runs[::-1] if sweep.direction == "backward" else runs


def register_temporaries(stencil: N.Stencil, domain: tuple) -> frozenset:
    """Temporaries that never need memory: assigned in one sweep only, read only in that
    sweep, in the same column, at the previous level or at the current level after being
    assigned there; or assigned in one parallel group and read only there, at the same
    point, after being assigned."""
    found = set()
    groups = group_blocks(stencil)
    elsewhere_reads: dict[int, set] = {}
    assigned_in: dict[str, set] = {}
    for g, block in enumerate(groups):
        stmts = list(N.assignments([block])) if isinstance(block, N.Sweep) else list(block)
        for s in stmts:
            assigned_in.setdefault(s.target, set()).add(g)
        elsewhere_reads[g] = {r.name for s in stmts for r in _reads(s.value)}
    returned = {r.name for e in stencil.returns for r in _reads(e)}
    for g, block in enumerate(groups):
        if not isinstance(block, N.Sweep):        # a parallel group: read at 0 after assignment
            mine = {t for t, gs in assigned_in.items() if gs == {g}} - returned
            mine -= {n for h, names in elsewhere_reads.items() if h != g for n in names}
            seen = set()
            for s in block:
                for r in _reads(s.value):
                    if r.name in mine and (any(r.offset) or r.name not in seen):
                        mine.discard(r.name)
                seen.add(s.target)
            found |= mine
            continue
        a = block.axis
        back = 1 if block.direction == "forward" else -1
        mine = {t for t, gs in assigned_in.items() if gs == {g}} - returned
        mine -= {n for h, names in elsewhere_reads.items() if h != g for n in names}
        for _, _, stmts in sweep_runs(block, domain[a]):
            seen: set = set()
            for s in stmts:
                for r in _reads(s.value):
                    if r.name not in mine:
                        continue
                    other = any(o for d, o in enumerate(r.offset) if d != a)
                    lev = r.offset[a]
                    if other or lev not in (0, -back) or (lev == 0 and r.name not in seen):
                        mine.discard(r.name)
                seen.add(s.target)
        found |= mine
    return frozenset(found)


#: id(stencil) -> (stencil, group_blocks(stencil))
_GROUPS: dict = {}


# -- the spec -------------------------------------------------------------------------------

@dataclass(frozen=True)
class GpuColumnSpec:
    """A column stencil specialised for the GPU: dtypes, broadcasting, modes, the box (shape,
    index of domain point 0), the domain and each output's region (level ranges are
    resolved for this domain, so the kernels are specialised on its shape)."""

    stencil: N.Stencil                   # after ``version_reassignments``
    fields: tuple[GpuField, ...]
    scalars: tuple[tuple[str, type], ...]
    outputs: tuple[GpuOutput, ...]
    modes: tuple[str, ...]
    storage: tuple[tuple[str, np.dtype], ...]      # box temporaries
    registers: tuple[tuple[str, np.dtype], ...]    # register temporaries
    box: tuple[int, ...]
    halo_lo: tuple[int, ...]
    domain: tuple[int, ...]
    out_regions: tuple
    field_lens: tuple[tuple[int, ...], ...] = ()   # per field, its length per axis (1: broadcast)

    @property
    def ndim(self) -> int:
        return self.stencil.ndim

    def types(self) -> dict:
        env = {f.name: f.dtype for f in self.fields}
        env.update(dict(self.scalars))
        env.update(dict(self.storage))
        env.update(dict(self.registers))
        return env

    def groups(self) -> list:
        found = _GROUPS.get(id(self.stencil))
        if found is None or found[0] is not self.stencil:
            if len(_GROUPS) > 256:
                _GROUPS.clear()
            found = _GROUPS[id(self.stencil)] = (self.stencil, group_blocks(self.stencil))
        return found[1]

    def entries(self) -> dict[str, str]:
        """Launch kind -> kernel symbol, in launch order."""
        names = {f"b{i}": f"{BLOCK_PREFIX}{i}" for i in range(len(self.groups()))}
        names.update({f"o{k}": f"{OUTPUT_PREFIX}{k}" for k in range(len(self.outputs))})
        return names

    def fingerprint_text(self) -> str:
        parts = [format_stencil(self.stencil), f"modes={self.modes}", f"box={self.box}",
                 f"halo_lo={self.halo_lo}", f"domain={self.domain}",
                 f"regions={self.out_regions}", f"lens={self.field_lens}", "gpu-columns-abi=1"]
        parts += [f"field {f.name} {f.dtype.str} bcast={f.broadcast} unit={f.unit_inner}"
                  for f in self.fields]
        parts += [f"scalar {n} {t.__name__}" for n, t in self.scalars]
        parts += [f"out {o.dtype.str} unit={o.unit_inner}" for o in self.outputs]
        parts += [f"temp {n} {t.str}" for n, t in self.storage]
        parts += [f"register {n} {t.str}" for n, t in self.registers]
        return "\n".join(parts)

    def n_params(self) -> int:
        n = self.ndim
        return (len(self.fields) * (1 + 2 * n) + len(self.storage) + len(self.outputs) * (1 + n)
                + len(self.scalars) + 1 + len(self.outputs))

    def pointer_params(self) -> list[int]:
        """Positions of the pointer parameters: fields, box temporaries, outputs."""
        n, pos, out = self.ndim, 0, []
        for _ in self.fields:
            out.append(pos)
            pos += 1 + 2 * n
        for _ in self.storage:
            out.append(pos)
            pos += 1
        for _ in self.outputs:
            out.append(pos)
            pos += 1 + n
        return out

    def scalar_params(self) -> int:
        """Position of the first scalar parameter."""
        n = self.ndim
        return len(self.fields) * (1 + 2 * n) + len(self.storage) + len(self.outputs) * (1 + n)


# -- lowering --------------------------------------------------------------------------------

class GpuColumnBuilder(GpuKernelBuilder):
    """The module of one ``GpuColumnSpec`` for "nvptx" or "host" (``kernel.py``'s reads)."""

    def __init__(self, spec: GpuColumnSpec, target: str = "nvptx"):
        self._start(spec, target, f"stencilpy.gpu.columns.{spec.stencil.name}")
        # placeholder padding on "fill"/"valid" axes: clamped reads (never feed a kept output)
        self.read_modes = tuple(m if m in PAD_MODES else "edge" for m in spec.modes)
        self.pad = [True] * spec.ndim
        self.registers = dict(spec.registers)
        self.bstrides = []
        acc = 1
        for n in reversed(spec.box):
            self.bstrides.insert(0, acc)
            acc *= n

    def param_types(self) -> list:
        spec, n = self.spec, self.spec.ndim
        tys = []
        for f in spec.fields:
            tys += [memory_type(f.dtype).as_pointer()] + [I64] * (2 * n)
        for _, dt in spec.storage:
            tys.append(memory_type(dt).as_pointer())
        for o in spec.outputs:
            tys += [memory_type(o.dtype).as_pointer()] + [I64] * n
        return tys + [I64] * (spec.n_params() - len(tys))

    def build(self) -> ir.Module:
        tys = self.param_types()
        groups = self.spec.groups()
        jobs = [(f"{BLOCK_PREFIX}{i}", g) for i, g in enumerate(groups)]
        jobs += [(f"{OUTPUT_PREFIX}{k}", k) for k in range(len(self.spec.outputs))]
        for name, job in jobs:
            if self.nvptx:
                fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), tys), name)
                fn.calling_convention = "ptx_kernel"
                params, ids = list(fn.args), None
            else:
                fnty = ir.FunctionType(ir.VoidType(), tys + [I64] * len(HOST_IDS))
                fn = ir.Function(self.module, fnty, name + "_thread")
                fn.linkage = "internal"
                params, ids = list(fn.args[:len(tys)]), dict(zip(HOST_IDS, fn.args[len(tys):]))
            for k in self.spec.pointer_params():
                fn.args[k].add_attribute("noalias")
            self.b = GpuBuilder(fn.append_basic_block("entry")) if self.nvptx \
                else ir.IRBuilder(fn.append_basic_block("entry"))
            self._ids = ids
            self._unpack_columns(params)
            if isinstance(job, int):
                self._emit_output(job)
            elif isinstance(job, N.Sweep):
                self._emit_sweep(job)
            else:
                self._emit_parallel(job)
            self.b.ret_void()
            if not self.nvptx:
                self._emit_host_grid(fn, tys, name)
        return self.module

    def _unpack_columns(self, params) -> None:
        spec, n, b = self.spec, self.spec.ndim, self.b
        it = iter(params)
        take = lambda k: [next(it) for _ in range(k)]          # noqa: E731
        self.fptr, self.fbs, self.fstride, self.flen = {}, {}, {}, {}
        for q, f in enumerate(spec.fields):
            self.fptr[f.name], self.fbs[f.name] = next(it), const(0)
            strides = take(n)
            if f.unit_inner and not f.broadcast[-1]:
                strides[-1] = const(1)
            lens = take(n)
            if spec.field_lens:          # the kernels are specialised on the shapes: constants
                lens = [const(x) for x in spec.field_lens[q]]     # (remapping by mul-shift)
            self.fstride[f.name], self.flen[f.name] = strides, lens
        self.tptr = {name: next(it) for name, _ in spec.storage}
        self.optr, self.ostride = [], []
        for o in spec.outputs:
            self.optr.append(next(it))
            strides = take(n)
            if o.unit_inner:
                strides[-1] = const(1)
            self.ostride.append(strides)
        self.N = [const(d) for d in spec.domain]
        self.scalars = {}
        for name, t in spec.scalars:
            bits = next(it)
            value = b.bitcast(bits, F64) if t is float else bits
            self.scalars[name] = cast(b, value, int, t) if t is bool else value
        self.fill = b.bitcast(next(it), F64)
        self.out_fill = [self._raw(next(it), o.dtype) for o in spec.outputs]

    # -- threads ------------------------------------------------------------------------
    def _id(self, name: str):
        if self._ids is not None:
            return self._ids[name]
        return super()._id(name)

    def _threads(self, shape: tuple, body) -> None:
        """A grid-stride loop over the points of ``shape`` (flattened, last axis fastest);
        ``body(index list)`` with i64 indices (i32 arithmetic when the count fits)."""
        b = self.b
        total = int(np.prod(shape, dtype=np.int64)) if shape else 1
        start = b.add(b.mul(self._id("ctaid.x"), self._id("ntid.x")), self._id("tid.x"))
        step = b.mul(self._id("nctaid.x"), self._id("ntid.x"))
        small = total < 2 ** 31
        with _loop(b, start, step, lambda t: b.icmp_signed("<", t, const(total)), "t") as t:
            rest = b.trunc(t, I32) if small else t
            ity = I32 if small else I64
            idx = [None] * len(shape)
            for d in reversed(range(len(shape))):
                if d == 0:
                    idx[d] = rest
                else:
                    n = ir.Constant(ity, shape[d])
                    idx[d] = b.urem(rest, n)
                    rest = b.udiv(rest, n)
            body([b.zext(i, I64) if small else i for i in idx])

    # -- reads ------------------------------------------------------------------------------
    def _temp_ptr(self, name, point, offset):
        b = self.b
        total = None
        for d, (p, o, n) in enumerate(zip(point, offset, self.spec.box)):
            c = b.add(p, const(o)) if o else p
            if o:
                c = smin(b, smax(b, c, const(0)), const(n - 1))
            term = self._mul(c, const(self.bstrides[d]))
            total = term if total is None else b.add(total, term)
        return b.gep(self.tptr[name], [total])

    def _temp_load(self, name, point, offset):
        dt = self.types[name]
        value = self.b.load(self._temp_ptr(name, point, offset))
        if concrete(dt).kind == "b":
            return self.b.icmp_unsigned("!=", value, ir.Constant(value.type, 0))
        return value

    def _reader(self, point, memo: dict):
        """``load(name, offset)`` at box point ``point``: fields remapped, temporaries from
        their box arrays; ``memo`` holds values already known ((name, offset) -> value)."""
        pos = [self.b.sub(p, const(h)) if h else p for p, h in zip(point, self.spec.halo_lo)]
        cache: dict = {}

        def load(name, offset):
            key = (name, tuple(offset))
            if key not in memo:
                if name in self.fptr:
                    memo[key] = self._load_remapped(name, const(0), pos, offset, cache)
                elif name in self.registers:
                    raise InternalCompilerError(f"register temporary '{name}' read at {offset} "
                                                "before it was assigned (an analysis bug)")
                else:
                    memo[key] = self._temp_load(name, point, offset)
            return memo[key]
        return load

    def _lower(self, expr, t, load):
        lower = ExprLowerer(self.b, self.target_math, self.types, load, self.scalars,
                            type_memo=self.type_memo)
        return lower.lower_as(expr, t)

    def _assign(self, stmt, point, load, memo) -> None:
        t = self.types[stmt.target]
        value = self._lower(stmt.value, t, load)
        if stmt.target not in self.registers:
            store(self.b, value, self._temp_ptr(stmt.target, point, (0,) * len(point)), t)
        memo[(stmt.target, (0,) * len(point))] = value

    # -- the launches ----------------------------------------------------------------------
    def _emit_parallel(self, stmts) -> None:
        def body(point):
            memo: dict = {}
            load = self._reader(point, memo)
            for s in stmts:
                self._assign(s, point, load, memo)
        self._threads(self.spec.box, body)

    def _emit_sweep(self, sweep: N.Sweep) -> None:
        spec, b, a = self.spec, self.b, sweep.axis
        n = spec.ndim
        others = tuple(s for d, s in enumerate(spec.box) if d != a)
        back = -1 if sweep.direction == "forward" else 1          # the previous level's offset
        prev = tuple(back if d == a else 0 for d in range(n))
        zero = (0,) * n
        runs = sweep_runs(sweep, spec.domain[a])
        carried_names = sorted({r.name for _, _, stmts in runs for s in stmts
                                for r in _reads(s.value) if r.offset == prev
                                and r.name not in self.fptr})

        def column(idx):
            carried: dict = {}              # register temporaries' value at the previous level
            for lo, hi, stmts in runs:
                assigned = {s.target for s in stmts}
                window = [t for t in carried_names if t in assigned]
                first = lo if sweep.direction == "forward" else hi - 1
                point0 = self._point(idx, a, const(spec.halo_lo[a] + first))
                init = []
                for t in window:
                    if t in self.registers:
                        v = carried.get(t)
                        init.append(v if v is not None else
                                    ir.Constant(llvm_type(self.types[t]), None))
                    else:
                        init.append(self._temp_load(t, point0, prev))
                pre = b.block
                head = b.append_basic_block("lev.head")
                body_bb = b.append_basic_block("lev.body")
                exit_ = b.append_basic_block("lev.exit")
                b.branch(head)
                b.position_at_end(head)
                j = b.phi(I64, name="lev")
                j.add_incoming(const(0), pre)
                phis = []
                for t, v in zip(window, init):
                    phi = b.phi(v.type, name=f"{t}.prev")
                    phi.add_incoming(v, pre)
                    phis.append(phi)
                b.cbranch(b.icmp_signed("<", j, const(hi - lo)), body_bb, exit_)
                b.position_at_end(body_bb)
                if sweep.direction == "forward":
                    k = b.add(j, const(spec.halo_lo[a] + lo))
                else:
                    k = b.sub(const(spec.halo_lo[a] + hi - 1), j)
                point = self._point(idx, a, k)
                memo: dict = {}
                for t, phi in zip(window, phis):
                    memo[(t, prev)] = phi
                for t, v in carried.items():
                    if t not in window:
                        memo[(t, prev)] = v
                load = self._reader(point, memo)
                for s in stmts:
                    self._assign(s, point, load, memo)
                for t, phi in zip(window, phis):
                    phi.add_incoming(memo[(t, zero)], b.block)
                j.add_incoming(b.add(j, const(1)), b.block)
                b.branch(head)
                b.position_at_end(exit_)
                for t, phi in zip(window, phis):
                    if t in self.registers:
                        carried[t] = phi
        self._threads(others, column)

    def _point(self, idx, a, k):
        idx = list(idx)
        return idx[:a] + [k] + idx[a:]

    def _emit_output(self, k: int) -> None:
        spec, b = self.spec, self.b
        region = spec.out_regions[k]
        grid = [r if m == "valid" else (0, n) for r, m, n in zip(region, spec.modes, spec.domain)]
        shape = tuple(hi - lo for lo, hi in grid)
        out_t = spec.outputs[k].dtype

        def body(idx):
            pos = [b.add(i, const(lo)) if lo else i for i, (lo, _) in zip(idx, grid)]
            total = None
            for p, s in zip(pos, self.ostride[k]):
                term = self._mul(p, s)
                total = term if total is None else b.add(total, term)
            ptr = b.gep(self.optr[k], [total])
            inside = None
            for d, (p, (lo, hi), m) in enumerate(zip(pos, region, spec.modes)):
                if m == "fill" and (lo, hi) != (0, spec.domain[d]):
                    ok = b.and_(b.icmp_signed(">=", p, const(lo)), b.icmp_signed("<", p, const(hi)))
                    inside = ok if inside is None else b.and_(inside, ok)

            def compute():
                point = [b.add(p, const(h)) if h else p for p, h in zip(pos, spec.halo_lo)]
                value = self._lower(spec.stencil.returns[k], out_t, self._reader(point, {}))
                store(b, value, ptr, out_t)
            if inside is None:
                compute()
                return
            with b.if_else(inside, likely=True) as (then, otherwise):
                with then:
                    compute()
                with otherwise:
                    b.store(self.out_fill[k], ptr)
        self._threads(shape, body)

    # -- host emulation ------------------------------------------------------------------------
    def _emit_host_grid(self, thread: ir.Function, tys: list, name: str) -> None:
        """``<name>_grid(params.., gx, bx)``: every block and thread of a 1-D launch."""
        fnty = ir.FunctionType(ir.VoidType(), tys + [I64] * 2)
        fn = ir.Function(self.module, fnty, name + "_grid")
        b = ir.IRBuilder(fn.append_basic_block("entry"))
        params = list(fn.args[:len(tys)])
        gx, bx = fn.args[len(tys):]
        with _loop(b, const(0), const(1), lambda i: b.icmp_signed("<", i, gx), "cx") as cx:
            with _loop(b, const(0), const(1), lambda i: b.icmp_signed("<", i, bx), "tx") as tx:
                ids = {"ctaid.x": cx, "ntid.x": bx, "tid.x": tx, "nctaid.x": gx}
                b.call(thread, params + [ids[k] for k in HOST_IDS])
        b.ret_void()


def lower_columns(spec: GpuColumnSpec, target: str = "nvptx") -> ir.Module:
    return GpuColumnBuilder(spec, target).build()
