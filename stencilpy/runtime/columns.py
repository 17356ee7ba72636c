"""Running a compiled column stencil (``codegen/columns.py``): fields read in place, the
outputs written straight into the result arrays, blocks of columns shared by threads.

    plan     = plan_columns(stencil)       phases, groups, storage (cached per stencil)
    layout   = dtypes, broadcasting, the level-run pattern   -> the kernel (cached)
    blocks   = columns per block from the per-core L2 size (``launch.l2_bytes``)
    for each batch index, for each group: threads claim blocks (one round each)

The caller (``decorator.py``) gives the per-axis index tables of each field
(``reference/columns.py: source_tables``: the reference's own padding rule), and applies
"fill"/"valid" to what this returns with ``finish_columns``.
"""

from __future__ import annotations

import struct
import threading

import numpy as np

from stencilpy.codegen.column_plan import (
    ENTRY, ColumnLayout, FieldLayout, Slots, plan_columns, run_pattern, storage_types,
    via_output)
from stencilpy.ir.printer import format_stencil
from stencilpy.options import available_cores, env_threads
from stencilpy.runtime import jit, overlap
from stencilpy.runtime import threads as pool
from stencilpy.runtime.fastpath import MISS, OVERLAP, address
from stencilpy.runtime.launch import l2_bytes, thread_count, wants_streaming

#: (id(stencil), level-run pattern, covered) -> (stencil, plan): the plan of each specialised IR
_PLANS: dict = {}
#: share of the per-core L2 cache a block's buffers and one level of its rows may use: the
#: rest holds the field rows a sweep streams through (tridiagonal 80 x 64 x 64, 1 thread,
#: kernel alone: 1.0 (12 rows of 64, 1 MiB of buffers) 1.11x C's time, 0.5 (6 rows)
#: 0.92x, 1 to 4 rows 0.95-1.0x)
L2_SHARE = 0.5
#: the fewest points of the fastest axis per block row (when the axis has them): a row's
#: set-up (table lookups, new prefetch streams per level) costs more than the cache saves
#: below this (tridiagonal 80 x 256 x 256, 1 thread: 40-point rows 4x slower than 256-point
#: ones; 80 x 256 x 1024: whole 1024-point rows about 10% faster than 344-point ones)
MIN_ROW = 1024
#: box-sized temporaries a prepared call may keep between calls (bytes); a call that needs
#: more takes the full path, which frees them after the call
MAX_PREPARED_FULL_BYTES = 64 << 20
#: blocks per thread at least (load balance), when the columns allow it; fewer, larger blocks
#: share fewer cache lines between threads (omega 80 x 64 x 64, 2 threads, quiet: 4 blocks of
#: 16 rows 0.19-0.21 ms, 8 of 8 rows 0.28-0.31 ms, C 0.21-0.27 ms)
BLOCKS_PER_THREAD = 2


def _plan(stencil, pattern: tuple, covered: bool):
    key = (id(stencil), pattern, covered)
    hit = _PLANS.get(key)
    if hit is None or hit[0] is not stencil:
        if len(_PLANS) > 256:
            _PLANS.clear()
        hit = _PLANS[key] = (stencil, plan_columns(stencil, pattern, covered))
    return hit[1]


class _Prepared:
    """Plan, layout, kernel IR inputs and field views of one call."""

    def __init__(self, call, tables: dict):
        self.call = call
        stencil = call.stencil
        ndim = len(call.domain)
        self.ndim = ndim
        pattern, cuts = run_pattern(stencil, call.domain)
        last = [b for b in stencil.body if hasattr(b, "direction")][-1]
        n_last = call.domain[last.axis]
        covered = bool(cuts[-1]) and cuts[-1][0][0] == 0 and cuts[-1][-1][1] == n_last and \
            all(a[1] == b[0] for a, b in zip(cuts[-1], cuts[-1][1:]))
        self.plan = plan = _plan(stencil, pattern, covered)
        self.pattern, self.cuts = pattern, cuts
        axis = plan.axis
        others = [d for d in range(ndim) if d != axis]
        self.inner = others[-1] if others else None
        self.outer = others[:-1]
        self.halo = call.plan.halo
        self.box = tuple(lo + n + hi for (lo, hi), n in zip(self.halo, call.domain))
        self.tables = tables
        self.fields, layouts = {}, []
        for name, arr in call.fields.items():
            arr = np.asarray(arr)
            if any(s % arr.itemsize for s in arr.strides):
                arr = np.ascontiguousarray(arr)
            bc = tuple(call.broadcast[name][d] or arr.ndim - ndim + d < 0 or
                       tables[name][d] is None for d in range(ndim))
            if self.inner is None or bc[self.inner]:
                inner = "bcast"
            else:
                inner = "unit" if arr.strides[arr.ndim - ndim + self.inner] == arr.itemsize \
                    else "strided"
            self.fields[name] = (arr, bc)
            outside = tuple(not bc[d] and bool(len(tables[name][d])) and
                            int(np.min(tables[name][d])) < 0 for d in range(ndim))
            layouts.append(FieldLayout(name, arr.dtype.str, bc, inner, outside))
        self._field_layouts = layouts
        env = {name: arr.dtype for name, (arr, _) in self.fields.items()}
        env.update({name: type(v) for name, v in call.scalars.items()})
        self.temps = storage_types(plan.stencil, env)
        self.types = {**env, **self.temps}
        self.scalar_names = tuple(sorted(call.scalars))
        self.layout = ColumnLayout(
            ndim, tuple(self.halo), tuple(layouts),
            tuple((n, type(call.scalars[n]).__name__) for n in self.scalar_names),
            tuple(sorted((t, dt.str) for t, dt in self.temps.items())),
            tuple(np.dtype(dt).str for dt in call.out_dtypes), pattern, self._streaming())
        self.slots = Slots(self.layout, plan)

    def _streaming(self) -> bool:
        """Streaming stores for the outputs: the plain stencils' decision
        (``launch.wants_streaming``: the bytes the call touches against the tuned threshold
        for its row length)."""
        call = self.call
        outs = [np.broadcast_to(np.empty((), dt), call.batch_shape + call.domain)
                for dt in call.out_dtypes]                  # their sizes (no memory)
        row = call.domain[self.inner] if self.inner is not None else 1
        return wants_streaming(outs, [arr for arr, _ in self.fields.values()], row) and \
            not self._keeps_in_output()

    def _keeps_in_output(self) -> bool:
        """Whether the kernel keeps a returned temporary in its output (``column_plan.via_output``):
        then it reads the output back and does not stream it (80 x 512 x 1024, quiet, one
        process: omega streamed 0.85x the speed on 1 thread, 0.76x on 2; Thomas 1.09x and
        0.99x)."""
        dtypes = {f.name: np.dtype(f.dtype) for f in self._field_layouts}
        dtypes.update(self.temps)
        probe = ColumnLayout(len(self.call.domain), (), (), (), (),
                             tuple(np.dtype(dt).str for dt in self.call.out_dtypes), ())
        return bool(via_output(self.plan, dtypes, probe))

    def ir_text(self) -> str:
        from stencilpy.codegen.columns import lower_columns   # a cache miss: llvmlite
        return str(lower_columns(self.plan, self.types, self.layout))

    def key(self) -> str:
        text = (format_stencil(self.plan.stencil) + "\n" + self.layout.text() + "\n"
                + repr((self.plan.storage, self.plan.fused, self.plan.groups)))
        return jit.cache_key("columns-blocked-3\n" + text)

    # -- block sizes ------------------------------------------------------------------------

    def block_shape(self, threads: int) -> tuple[int, int, int]:
        """(columns of the fastest axis per block W, rows per block R, threads)."""
        nrows = int(np.prod([self.box[d] for d in self.outer], dtype=np.int64))
        width = self.box[self.inner] if self.inner is not None else 1
        if not self.plan.blocked:
            return width, max(nrows, 1), 1
        levels = self.box[self.plan.axis]
        per_column = 0
        for t, kind in self.plan.storage:
            size = self.temps[t].itemsize
            if kind == "column":
                per_column += size * levels
            elif kind.startswith("ring:"):
                per_column += size * int(kind[5:])
        per_column += sum(arr.itemsize for arr, bc in self.fields.values())
        per_column += sum(np.dtype(dt).itemsize for dt in self.call.out_dtypes)
        columns = max(8, int(l2_bytes() * L2_SHARE) // max(per_column, 1))
        if self.inner is None:
            W, R = 1, max(1, min(nrows, columns))
        else:
            pieces = -(-width // max(columns, MIN_ROW))
            W = -(-width // pieces)
            W = min(width, -(-W // 8) * 8)
            R = max(1, min(nrows, columns // W))
        blocks = -(-width // W) * -(-nrows // R)
        while blocks < BLOCKS_PER_THREAD * threads and R > 1:
            R = max(1, R // 2)
            blocks = -(-width // W) * -(-nrows // R)
        while blocks < BLOCKS_PER_THREAD * threads and W > 8:
            W = max(8, -(-(W // 2) // 8) * 8)
            blocks = -(-width // W) * -(-nrows // R)
        return W, R, max(1, min(threads, blocks))


_F64, _I64 = struct.Struct("=d"), struct.Struct("=q")


def _scalar_bits(value) -> int:
    """A scalar as the int64 the kernel reads (float64 bits for floats; ``struct``, not a
    numpy view: a prepared call converts its scalars on every call)."""
    if isinstance(value, float):
        return _I64.unpack(_F64.pack(value))[0]
    return int(value)


def column_ir(call, tables: dict) -> str:
    """The LLVM IR text of the kernel ``run_columns_kernel`` would run (for sp.inspect)."""
    return _Prepared(call, tables).ir_text()


class ColumnRun:
    """A column kernel ready to run on arrays of one call's shapes and strides: the
    kernel, the threads' argument blocks with every slot filled but the data pointers,
    their scratch buffers, the index tables and fill rows."""

    def __init__(self, call, tables: dict):
        self.prep = prep = _Prepared(call, tables)
        self.loaded = jit.load(prep.key(), prep.ir_text, ENTRY)
        s, plan = prep.slots, prep.plan
        self.slots, self.plan = s, plan
        W, R, nthreads = prep.block_shape(thread_count(call, max(1, call.options.threads)))
        self.full = {t: np.zeros(prep.box, dtype=prep.temps[t]) for t in s.full}
        levels = prep.box[plan.axis]
        self.counter = np.zeros(8, np.int64)
        self.blocks, self.keep = [], []           # keep: scratch, tables, fill rows alive
        for _ in range(nthreads):
            blk = np.zeros(s.size, np.int64)
            blk[s.counter] = self.counter.ctypes.data
            blk[s.width], blk[s.rows], blk[s.threads] = W, R, nthreads
            blk[s.domain:s.domain + prep.ndim] = call.domain
            for t, slot in s.buffer.items():
                kind = plan.store_of(t)
                depth = levels if kind == "column" else int(kind[5:])
                buf = np.zeros(depth * W * R, dtype=prep.temps[t])
                self.keep.append(buf)
                blk[slot] = buf.ctypes.data
            for t, slot in s.full.items():
                blk[slot] = self.full[t].ctypes.data
            for first, cuts in zip(s.cuts, prep.cuts):
                for j, (lo, hi) in enumerate(cuts):
                    blk[first + 2 * j], blk[first + 2 * j + 1] = lo, hi
            self.blocks.append(blk)
        for name, (arr, bc) in prep.fields.items():
            data, fill, strides, tabs = s.field[name]
            for d in range(prep.ndim):
                if not bc[d]:
                    table = np.ascontiguousarray(tables[name][d], dtype=np.int64)
                    self.keep.append(table)
                    for blk in self.blocks:
                        blk[tabs + d] = table.ctypes.data
            row = fill_row(call, arr, None if prep.inner is None or bc[prep.inner]
                           else arr.ndim - prep.ndim + prep.inner)
            self.keep.append(row)
            for blk in self.blocks:
                blk[fill] = row.ctypes.data
        self.addresses = [blk.ctypes.data for blk in self.blocks]
        self.scalars(call.scalars)

    def scalars(self, values: dict) -> None:
        for name in self.prep.scalar_names:
            bits = _scalar_bits(values[name])
            for blk in self.blocks:
                blk[self.slots.scalars[name]] = bits

    def views(self, index: tuple) -> None:
        """Data pointers and strides of the fields at batch ``index``."""
        prep, s = self.prep, self.slots
        for name, (arr, bc) in prep.fields.items():
            data, _, strides, _ = s.field[name]
            view = arr
            if arr.ndim > prep.ndim:
                view = np.broadcast_to(arr, prep.call.batch_shape
                                       + arr.shape[arr.ndim - prep.ndim:])[index]
            for blk in self.blocks:
                blk[data] = view.ctypes.data
                for d in range(prep.ndim):
                    axis = view.ndim - prep.ndim + d
                    blk[strides + d] = 0 if bc[d] else view.strides[axis] // view.itemsize

    def pointers(self, fields: list, outs: list) -> None:
        """Data addresses: of the fields (``prep.fields`` order) and of the outputs."""
        s = self.slots
        for blk in self.blocks:
            for name, a in zip(self.prep.fields, fields):
                blk[s.field[name][0]] = a
            for slot, a in zip(s.outputs, outs):
                blk[slot] = a

    def run(self) -> None:
        """Every group, one round of threads each (a barrier between them)."""
        cfunc, entry = self.loaded.cfunc, self.loaded.address
        counter, addresses = self.counter, self.addresses
        n_groups = self.plan.n_groups
        if n_groups == 1 and len(addresses) == 1:     # the small call: group slot is 0
            counter[0] = 0
            cfunc(addresses[0])
            return
        group = self.slots.group
        for g in range(n_groups):
            counter[0] = 0
            for blk in self.blocks:
                blk[group] = g
            if len(addresses) == 1:
                cfunc(addresses[0])
            else:
                pool.run(cfunc, addresses, entry)


def run_columns_kernel(call, tables: dict, outs: list | None = None) -> list:
    """The outputs of ``call`` (shape batch + domain, before "fill"/"valid"), one array per
    return; written into ``outs`` when given (C-contiguous, of that shape and the output
    dtypes, overlapping no input: see ``direct_outputs``)."""
    batch = call.batch_shape
    if outs is None:
        outs = [np.empty(batch + call.domain, dtype=dt) for dt in call.out_dtypes]
    runner = ColumnRun(call, tables)
    for index in np.ndindex(*batch):
        runner.views(index)
        for blk in runner.blocks:
            for slot, o in zip(runner.slots.outputs, outs):
                blk[slot] = o[index].ctypes.data
        runner.run()
    return outs


class PreparedColumns:
    """A prepared call of a column stencil for ``runtime/fastpath.py`` (no batch axes, no
    "valid", fields read in place): per call it patches the data pointers and scalars of
    a ``ColumnRun`` and runs it."""

    def __init__(self, call, outs, names: tuple, tables: dict):
        self.runner = ColumnRun(call, tables)
        self.runner.views(())
        prep = self.runner.prep
        self.field_args = [names.index(n) for n in prep.fields]
        self.scalar_args = [(names.index(n), n, type(call.scalars[n])) for n in prep.scalar_names]
        self.out_shapes, self.out_dtypes = call.out_shapes, call.out_dtypes
        self.single = len(call.out_dtypes) == 1
        self.field_spans = [overlap.byte_span(call.fields[n]) for n in prep.fields]
        self.out_spans = [overlap.byte_span(o) for o in outs]
        self.fills = _fill_indices(call)
        self.fill_value = call.options.fill_value
        self.requested = call.options.threads
        full_bytes = sum(a.nbytes for a in self.runner.full.values())
        self.preparable = (full_bytes <= MAX_PREPARED_FULL_BYTES and not call.batch_shape  and "valid" not in call.options.modes
                           and all(prep.fields[n][0] is call.fields[n] for n in prep.fields)
                           and all(o.flags.c_contiguous for o in outs)
                           and not (any(t is int for *_, t in self.scalar_args) and
                                    any(a.dtype.kind in "iu" for a in call.fields.values())))
        self.lock = threading.Lock()

    def stale(self, threads) -> bool:
        if threads is not None:
            return False
        return (env_threads() or available_cores()) != self.requested

    def run(self, args, out, threads):
        fields = [address(args[p]) for p in self.field_args]
        if out is None:
            results = tuple(np.empty(shape, dt) for shape, dt in
                            zip(self.out_shapes, self.out_dtypes))
        else:
            results = (out,) if self.single else out
            found = overlap.find([address(o) for o in results], self.out_spans, fields,
                                 self.field_spans)
            if found is not overlap.NONE:
                return OVERLAP if found is overlap.INPUT else MISS
        values = {}
        for pos, name, t in self.scalar_args:
            v = args[pos]
            values[name] = v if type(v) is t else v.item()
        if not self.lock.acquire(blocking=False):
            return MISS
        try:
            runner = self.runner
            runner.pointers(fields, [address(o) for o in results])
            if values:
                runner.scalars(values)
            runner.run()
        finally:
            self.lock.release()
        for k, index in self.fills:
            if results[k][index].size:
                results[k][index] = self.fill_value
        if out is not None:
            return out
        return results[0] if self.single else results


def _fill_indices(call) -> list:
    """(output, index) of the points "fill" sets (outside each output's region)."""
    found = []
    nb = len(call.batch_shape)
    for k, regions in enumerate(call.output_regions):
        for d, (mode, (lo, hi)) in enumerate(zip(call.options.modes, regions)):
            if mode == "fill":
                for part in (slice(0, lo), slice(hi, None)):
                    index = [slice(None)] * (nb + len(call.domain))
                    index[nb + d] = part
                    found.append((k, tuple(index)))
    return found


def fill_row(call, arr: np.ndarray, inner: int | None) -> np.ndarray:
    """A row of ``fill_value`` in ``arr``'s dtype as long as the field's reach along the
    fastest axis (array axis ``inner``; None: broadcast): the row a read outside the field
    under "constant" lands on (one element when no axis is "constant")."""
    if "constant" not in call.options.modes:
        return np.zeros(1, dtype=arr.dtype)
    fill = call.options.fill_value
    if arr.dtype.kind != "f":
        fill = np.asarray(fill).astype(arr.dtype)
    n = 1 if inner is None else \
        (arr.shape[inner] - 1) * abs(arr.strides[inner]) // arr.itemsize + 1
    return np.full(max(n, 1), fill, dtype=arr.dtype)


def direct_outputs(call, outs) -> list | None:
    """``out=`` arrays the kernel may write straight into: C-contiguous, of the domain's
    shape and the outputs' dtypes, overlapping no input and no other output; else None
    (the kernel writes new arrays, copied into ``out=`` after the call: the snapshot
    semantics of ``out=`` aliasing an input)."""
    if outs is None or "valid" in call.options.modes:
        return None
    shape = call.batch_shape + call.domain
    for k, (o, dt) in enumerate(zip(outs, call.out_dtypes)):
        if not o.flags.c_contiguous or not o.flags.writeable or o.shape != shape \
                or o.dtype != dt:
            return None
        others = list(call.fields.values()) + list(outs[:k])
        if any(np.may_share_memory(o, a) for a in others):
            return None
    return list(outs)


def finish_columns(call, outs: list) -> tuple:
    """The kernel's domain outputs -> the call's results ("fill" set, "valid" trimmed)."""
    for k, index in _fill_indices(call):
        if outs[k][index].size:
            outs[k][index] = call.options.fill_value
    if "valid" not in call.options.modes:
        return tuple(outs)
    nb = len(call.batch_shape)
    return tuple(np.ascontiguousarray(o[(slice(None),) * nb + tuple(
        slice(lo, hi) if mode == "valid" else slice(None)
        for mode, (lo, hi) in zip(call.options.modes, regions))])
        for o, regions in zip(outs, call.output_regions))
