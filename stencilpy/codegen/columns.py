"""Column stencils (``with sp.forward/backward`` sweeps) -> one llvmlite function.

A straightforward lowering, correct first: every array (fields, temporaries, outputs) is a
C-contiguous array of the *box* shape (the domain grown by the halo, built by the runtime),
so the kernel knows nothing of boundary modes; reads at ``point + offset`` are clamped to the
box (such points feed no kept output: the reference's masks prove it).  The body, block by
block::

    parallel  t = e      for every box point (all axes, last innermost): t[p] = e(p)
    sweep along a        for each run of levels with the same active ranges, in the sweep's
                         direction:  for k in run:  for every point of the other axes:
                             the active ranges' statements in the order written
    return               for every box point: out_j[p] = e_j(p)

The level loop is outermost within a sweep and the fastest axis innermost (LLVM vectorises
it).  Temporaries are box arrays (no per-block buffers yet); the kernel is single-threaded.

    define void @sp_columns(i8* %block)   ; %block: i8*[arrays..., scalars...]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir

from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.loops import for_range
from stencilpy.codegen.target import CPU
from stencilpy.codegen.types import I64, cast, concrete, load, memory_type, store
from stencilpy.ir import nodes as N

ENTRY = "sp_columns"
_I8P = ir.IntType(8).as_pointer()


@dataclass(frozen=True)
class ColumnLayout:
    """What one column kernel is specialised for."""

    box: tuple[int, ...]                        # box shape (stencil axes)
    halo_lo: tuple[int, ...]                    # box index of domain point 0, per axis
    domain: tuple[int, ...]
    arrays: tuple[tuple[str, str], ...]         # (name, dtype str): fields, temporaries, outputs
    scalars: tuple[tuple[str, str], ...]        # (name, Python type name)
    outputs: tuple[str, ...]                    # the output array names, one per return

    def text(self) -> str:
        return repr(self)


def _segments(sweep: N.Sweep, n: int) -> list[tuple[int, int, tuple[int, ...]]]:
    """Runs ``[lo, hi)`` of levels with the same active ranges (their indices), in level
    order; empty runs dropped."""
    spans = [r.bounds(n) for r in sweep.ranges]
    cuts = sorted({0, n, *(max(0, min(n, x)) for s in spans for x in s)})
    runs = []
    for lo, hi in zip(cuts, cuts[1:]):
        active = tuple(j for j, (a, b) in enumerate(spans) if a <= lo and hi <= b and a < b)
        if hi > lo and active:
            runs.append((lo, hi, active))
    return runs


class _Kernel:
    def __init__(self, stencil: N.Stencil, types: dict, layout: ColumnLayout):
        self.stencil, self.types, self.layout = stencil, types, layout
        self.module = ir.Module(name=f"sp_columns_{stencil.name}")
        fn = ir.Function(self.module, ir.FunctionType(ir.VoidType(), [_I8P]), ENTRY)
        self.b = ir.IRBuilder(fn.append_basic_block("entry"))
        block = self.b.bitcast(fn.args[0], _I8P.as_pointer())
        self.ptrs, self.scalars = {}, {}
        slot = 0
        for name, dt in layout.arrays:
            raw = self.b.load(self.b.gep(block, [ir.Constant(I64, slot)]))
            self.ptrs[name] = self.b.bitcast(raw, memory_type(np.dtype(dt)).as_pointer())
            slot += 1
        for name, tname in layout.scalars:
            t = {"bool": bool, "int": int, "float": float}[tname]
            raw = self.b.load(self.b.gep(block, [ir.Constant(I64, slot)]))
            self.scalars[name] = load(self.b, self.b.bitcast(
                raw, memory_type(t).as_pointer()), t)
            slot += 1
        self.dtypes = {name: np.dtype(dt) for name, dt in layout.arrays}
        self.strides = []
        acc = 1
        for n in reversed(layout.box):
            self.strides.insert(0, acc)
            acc *= n

    # -- addressing -----------------------------------------------------------------------

    def _linear(self, idx, offset=None):
        """Linear index of ``idx + offset``, each coordinate clamped to the box."""
        b = self.b
        total = ir.Constant(I64, 0)
        for d, (i, n) in enumerate(zip(idx, self.layout.box)):
            o = offset[d] if offset else 0
            c = b.add(i, ir.Constant(I64, o)) if o else i
            if o:
                c = b.select(b.icmp_signed("<", c, ir.Constant(I64, 0)), ir.Constant(I64, 0), c)
                top = ir.Constant(I64, n - 1)
                c = b.select(b.icmp_signed(">", c, top), top, c)
            total = b.add(total, b.mul(c, ir.Constant(I64, self.strides[d])))
        return total

    def _load(self, idx):
        def fn(name, offset):
            ptr = self.b.gep(self.ptrs[name], [self._linear(idx, offset)])
            return load(self.b, ptr, self.dtypes[name])
        return fn

    def _assign(self, target: str, value: N.Expr, idx) -> None:
        lower = ExprLowerer(self.b, CPU, self.types, self._load(idx), self.scalars)
        dt = self.dtypes[target]
        v = lower.lower_as(value, dt)
        store(self.b, v, self.b.gep(self.ptrs[target], [self._linear(idx)]), dt)

    # -- loops ----------------------------------------------------------------------------

    def _nest(self, axes, body, idx=None):
        """Loops over the box along ``axes`` (in order, the last innermost)."""
        idx = dict(idx or {})
        if not axes:
            return body([idx[d] for d in range(len(self.layout.box))])
        d = axes[0]
        with for_range(self.b, ir.Constant(I64, 0), ir.Constant(I64, self.layout.box[d]),
                       name=f"i{d}") as i:
            idx[d] = i
            self._nest(axes[1:], body, idx)

    def _sweep(self, sweep: N.Sweep) -> None:
        a = sweep.axis
        n = self.layout.domain[a]
        runs = _segments(sweep, n)
        if sweep.direction == "backward":
            runs = runs[::-1]
        others = [d for d in range(len(self.layout.box)) if d != a]
        for lo, hi, active in runs:
            stmts = [s for j in active for s in sweep.ranges[j].body]
            with for_range(self.b, ir.Constant(I64, 0), ir.Constant(I64, hi - lo),
                           name=f"lev{a}") as j:
                if sweep.direction == "forward":
                    k = self.b.add(j, ir.Constant(I64, self.layout.halo_lo[a] + lo))
                else:
                    k = self.b.sub(ir.Constant(I64, self.layout.halo_lo[a] + hi - 1), j)

                def body(idx, stmts=stmts):
                    for s in stmts:
                        self._assign(s.target, s.value, idx)
                self._nest(others, body, {a: k})

    def lower(self) -> ir.Module:
        axes = list(range(len(self.layout.box)))
        for block in self.stencil.body:
            if isinstance(block, N.Sweep):
                self._sweep(block)
            else:
                self._nest(axes, lambda idx, s=block: self._assign(s.target, s.value, idx))

        def returns(idx):
            for name, expr in zip(self.layout.outputs, self.stencil.returns):
                self._assign(name, expr, idx)
        self._nest(axes, returns)
        self.b.ret_void()
        return self.module


def storage_types(stencil: N.Stencil, types: dict) -> dict:
    """The dtype of each temporary's box array: NumPy's promotion of all its assignments."""
    from stencilpy.ir.types import expr_type

    current = dict(types)
    storage: dict[str, np.dtype] = {}
    for stmt in N.assignments(stencil.body):
        t = concrete(expr_type(stmt.value, current))
        storage[stmt.target] = t if stmt.target not in storage else \
            np.result_type(storage[stmt.target], t)
        current[stmt.target] = storage[stmt.target]
    return storage


def lower_columns(stencil: N.Stencil, types: dict, layout: ColumnLayout) -> ir.Module:
    """The kernel of a column stencil (see the module docstring)."""
    return _Kernel(stencil, types, layout).lower()


__all__ = ["ColumnLayout", "lower_columns", "storage_types", "ENTRY", "cast"]
