"""The per-call fast path: a cache of *prepared calls* keyed by the static facts of a call.

    key      = per argument: (dtype, shape, strides) of an ndarray, or the type of a number;
               boundary, fill_value, threads, and (dtype, shape, strides, writeable) of out=
    prepared = kernel, output shape/dtypes, argument blocks with every slot filled but the
               data pointers and scalar values, thread split, tile buffers, fill-strip indices

A call whose key is known does: build the key, look the prepared call up, read the data
addresses, check that ``out=`` does not overlap an input, patch the blocks, run the
kernel, write the fill strips.  Everything else (validation, type inference, regions,
kernel lookup) ran once, when the call was prepared by the full path (the ``bind`` and
``kernel_for`` the stencil gives to ``FastPath``), whose checks depend only on the key.
The few checks that depend on values (scalar ranges, overlap) run every call; a call the
fast path cannot take (other argument types, ``domain=``, ``check=True``, overlap,
empty outputs, a prepared call in use by another thread) returns ``MISS`` and the
caller takes the full path.
"""

from __future__ import annotations

import ctypes
import threading
import weakref

import numpy as np

from stencilpy.options import available_cores, env_threads
from stencilpy.runtime import overlap
from stencilpy.runtime.forksafe import after_fork_in_child
from stencilpy.runtime.launch import (
    call_views, make_jobs, run_jobs, scalar_bits, strip_indices, thread_count)
from stencilpy.runtime.overlap import INPUT, NONE, find
from stencilpy.runtime.strips import strip_calls

MISS = object()
OVERLAP = object()
_UNPREPARABLE = object()
_PREPARED: weakref.WeakSet = weakref.WeakSet()  # every PreparedCall (their locks, after a fork)
#: prepared calls kept per stencil (the cache is emptied when it grows beyond this)
MAX_PREPARED = 128

_NUMBER_TYPES = frozenset({float, int, bool, np.float64, np.float32, np.float16, np.int64,
                           np.int32, np.int16, np.int8, np.uint64, np.uint32, np.uint16,
                           np.uint8, np.bool_})


def _probe_data_offset() -> int | None:
    """Byte offset of the data pointer inside a numpy array object (``PyArrayObject.data``,
    right after the object header), if reading it there gives ``arr.ctypes.data``."""
    probes = [np.arange(7.0)[2:], np.zeros((3, 4), np.float32)[1:, ::2], np.empty(0, np.int8)]
    for offset in (16,):
        try:
            if all(ctypes.c_void_p.from_address(id(a) + offset).value == a.ctypes.data
                   for a in probes):
                return offset
        except (ValueError, OSError):  # pragma: no cover - exotic interpreter
            pass
    return None  # pragma: no cover


_DATA_OFFSET = _probe_data_offset()


def _address_fast(arr: np.ndarray) -> int:
    return ctypes.c_void_p.from_address(id(arr) + _DATA_OFFSET).value or 0


def _address_slow(arr: np.ndarray) -> int:  # pragma: no cover - exotic interpreter
    return arr.ctypes.data


address = _address_fast if _DATA_OFFSET is not None else _address_slow


def _hashable(value):
    try:
        hash(value)
    except TypeError:
        return None
    return value


def call_key(args, boundary, fill_value, out, threads):
    """The static facts of a call, or None when the fast path does not apply."""
    parts = []
    for a in args:
        t = type(a)
        if t is np.ndarray:
            parts.append((a.dtype, a.shape, a.strides))
        elif t in _NUMBER_TYPES:
            parts.append(t)
        else:
            return None
    if out is None:
        okey = None
    elif type(out) is np.ndarray:
        okey = (out.dtype, out.shape, out.strides, out.flags.writeable)
    elif type(out) is tuple and all(type(o) is np.ndarray for o in out):
        okey = tuple((o.dtype, o.shape, o.strides, o.flags.writeable) for o in out)
    else:
        return None
    if type(boundary) is dict:
        boundary = _hashable(tuple(boundary.items()))
        if boundary is None:
            return None
    elif boundary is not None and type(boundary) is not str:
        return None
    if fill_value is not None:
        if type(fill_value) not in _NUMBER_TYPES:
            return None
        fill_value = (type(fill_value), fill_value if fill_value == fill_value else "nan")
    return (tuple(parts), boundary, fill_value, okey, (type(threads), threads))


class PreparedCall:
    """Everything a call with a given key needs, precomputed."""

    def __init__(self, call, outs, kernel, field_args: list, scalar_args: list, kernel_for):
        self.cfunc = kernel.cfunc
        self.kernel = kernel
        self.out_shapes = call.out_shapes
        self.out_dtypes = call.out_dtypes
        self.single = len(call.out_dtypes) == 1
        self.field_args = field_args                  # argument positions, spec order
        self.scalar_args = scalar_args                # (position, name, python type)
        self.fill_value = call.options.fill_value
        self.strips = strip_indices(call, kernel.spec)
        self.requested = call.options.threads
        self.sensitive = thread_count(call, 1 << 30) > 1
        self.field_spans = [overlap.byte_span(call.fields[f.name]) for f in kernel.spec.fields]
        self.out_spans = [overlap.byte_span(o) for o in outs]
        views = call_views(call, kernel.spec, outs)
        self.preparable = not any(v.copied for v in views)
        self.jobs = jobs = make_jobs(call, kernel, views, thread_count(call, call.options.threads))
        self.pointers = list(jobs.pointers)
        self.scalar_patches = [(b, s, k) for b in jobs.blocks for k, s in enumerate(jobs.scalar_slots)]
        self.one_block = jobs.addresses[0][0] if len(jobs.blocks) == 1 else None
        self.counter = jobs.counter
        self.extra = self._strips(kernel_for, call, outs, len(field_args))
        self.int_check = None
        if any(t is int for _, _, t in scalar_args) and \
                any(a.dtype.kind in "iu" for a in call.fields.values()):
            self.int_check = (call.stencil, call.temp_types)
        self.lock = threading.Lock()
        _PREPARED.add(self)

    def _strips(self, kernel_for, call, outs, nf: int) -> list:
        """(kernel, jobs) of each strip of an output with a larger region of its own
        (``runtime/strips.py``), run after the main kernel; their pointers and scalars are
        patched with the main kernel's."""
        extra = []
        for k, strip in strip_calls(call):
            kernel = kernel_for(strip, outs[k:k + 1], writes_fill=False)
            views = call_views(strip, kernel.spec, outs[k:k + 1])
            jobs = make_jobs(strip, kernel, views, thread_count(strip, call.options.threads))
            self.pointers += [(b, slot, a if a < nf else nf + k, offset)
                              for b, slot, a, offset in jobs.pointers]
            self.scalar_patches += [(b, s, j) for b in jobs.blocks
                                    for j, s in enumerate(jobs.scalar_slots)]
            extra.append((kernel, jobs))
        return extra

    def stale(self, threads) -> bool:
        """The default thread count changed since this call was prepared (and it matters).
        Validates ``STENCILPY_NUM_THREADS`` on every call that uses it, as the full path does."""
        if threads is not None:
            return False
        env = env_threads()
        return self.sensitive and (env or available_cores()) != self.requested

    def run(self, args, out, threads):
        """The call's result; ``MISS`` for the full path, ``OVERLAP`` when ``out=`` shares
        memory with an input (the caller computes into fresh arrays and copies)."""
        fields = [address(args[p]) for p in self.field_args]
        if out is None:
            results = tuple([np.empty(shape, dt) for shape, dt in zip(self.out_shapes, self.out_dtypes)])
            fields += [address(o) for o in results]
        else:
            results = (out,) if self.single else out
            target = [address(o) for o in results]
            found = find(target, self.out_spans, fields, self.field_spans)
            if found is not NONE:
                return OVERLAP if found is INPUT else MISS   # MISS: the full path refuses
            fields += target
        scalars = self._scalars(args) if self.scalar_args else ()
        if scalars is MISS or not self.lock.acquire(blocking=False):
            return MISS
        try:
            for block, slot, a, offset in self.pointers:
                block[slot] = fields[a] + offset
            for block, slot, k in self.scalar_patches:
                block[slot] = scalars[k]
            if self.one_block is not None:
                self.counter[0] = 0
                self.cfunc(self.one_block)
            else:
                run_jobs(self.kernel, self.jobs)
            for kernel, jobs in self.extra:
                run_jobs(kernel, jobs)
        finally:
            self.lock.release()
        fv = self.fill_value
        for k, index in self.strips:
            results[k][index] = fv
        if out is not None:
            return out
        return results[0] if self.single else results

    def _scalars(self, args):
        values = []
        for pos, _, t in self.scalar_args:
            v = args[pos]
            if type(v) is not t:
                v = v.item()
            values.append(v)
        if self.int_check is not None:
            from stencilpy.ir.types import check_int_ranges
            try:
                check_int_ranges(*self.int_check, {n: v for (_, n, _), v
                                                   in zip(self.scalar_args, values)})
            except Exception:                       # the full path raises the error
                return MISS
        try:
            return [scalar_bits(v) for v in values]
        except (OverflowError, ValueError, TypeError):
            return MISS


def _unlock_prepared() -> None:
    """In a forked child no other thread runs a prepared call: free the locks they held."""
    for prepared in list(_PREPARED):
        prepared.lock = threading.Lock()


after_fork_in_child(_unlock_prepared)


class FastPath:
    """Per-stencil cache of prepared calls; ``__call__`` returns the result or ``MISS``.

    ``bind(values, boundary, fill_value, threads, out)`` validates a call the full path's
    way and returns ``(BoundCall, output arrays)``; ``kernel_for(call, outs)`` returns its
    kernel (``compile.Compiler.kernel``); ``prepare(call, outs, names)``, when given,
    prepares the call instead (column stencils: ``runtime/columns.py: PreparedColumns``,
    with the same ``run``/``stale``/``single``)."""

    MISS = MISS

    def __init__(self, names: tuple[str, ...], bind, kernel_for, prepare=None):
        self.names = names
        self.bind = bind
        self.kernel_for = kernel_for
        self.prepare = prepare      # (call, outs, names) -> a prepared call of another kind
        self.prepared: dict = {}

    def __call__(self, args, kwargs, boundary, fill_value, out, threads):
        if kwargs:
            args = self._positional(args, kwargs)
            if args is None:
                return MISS
        elif len(args) != len(self.names):
            return MISS
        key = call_key(args, boundary, fill_value, out, threads)
        if key is None:
            return MISS
        prepared = self.prepared.get(key)
        if prepared is None or (prepared is not _UNPREPARABLE and prepared.stale(threads)):
            prepared = self._prepare(args, boundary, fill_value, out, threads)
            if len(self.prepared) >= MAX_PREPARED:
                self.prepared.clear()
            self.prepared[key] = prepared
        if prepared is _UNPREPARABLE:
            return MISS
        result = prepared.run(args, out, threads)
        if result is OVERLAP:                 # snapshot semantics: as if out were fresh
            fresh = self(args, {}, boundary, fill_value, None, threads)
            if fresh is MISS:
                return MISS
            single = prepared.single
            overlap.copy_into((out,) if single else out, (fresh,) if single else fresh)
            return out
        return result

    def _positional(self, args, kwargs):
        names = self.names
        if len(args) + len(kwargs) != len(names) or len(args) > len(names):
            return None
        rest = names[len(args):]
        if any(n not in kwargs for n in rest):
            return None
        return tuple(args) + tuple(kwargs[n] for n in rest)

    def _prepare(self, args, boundary, fill_value, out, threads):
        """Validate with the full path (its errors propagate) and prepare the call."""
        call, outs = self.bind(dict(zip(self.names, args)), boundary, fill_value, threads, out)
        if call.is_empty or any(hi <= lo for lo, hi in call.regions):
            return _UNPREPARABLE
        if self.prepare is not None:            # column stencils: runtime/columns.py
            prepared = self.prepare(call, outs, self.names)
            return prepared if prepared.preparable else _UNPREPARABLE
        kernel = self.kernel_for(call, outs)
        field_args = [self.names.index(f.name) for f in kernel.spec.fields]
        scalar_args = [(self.names.index(n), n, type(v)) for n, v in call.scalars.items()]
        prepared = PreparedCall(call, outs, kernel, field_args, scalar_args, self.kernel_for)
        return prepared if prepared.preparable else _UNPREPARABLE
