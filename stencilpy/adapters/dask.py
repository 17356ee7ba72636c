"""dask: lazy stencil calls, computed chunk by chunk with the halo shared between chunks.

Every call is first bound on zero-stride stand-ins of the global arrays (so it is
validated exactly like an eager call and its loop bounds are the global ones), then::

    field --(lazy gather: the axis's boundary mode at the TRUE domain edges)--> box
          --(rechunk: output chunks, + halo lo on the first, + halo hi on the last)-->
          --(da.overlap, asymmetric depth (lo, hi), boundary "none")--> one block per output chunk
          --(map_blocks: stencil.call_arrays(boundary="valid"))--> output chunk
          --("fill" axes: points outside the global loop bounds get fill_value)

A stencil axis with a single chunk needs none of this: the blocks run it with the
call's own boundary mode, on the field as it is (no copies).  Batch axes are chunked
freely.  The box of a field is the field extended (or cropped) to cover domain positions
``[start - lo, stop + hi)`` exactly as the numpy reference pads it, so each block
computes every point from the same values as the eager call: ``.compute()`` equals
the eager result bit for bit.  An ``"extrapolate"`` axis is chunked like any other: its
ghosts are computed lazily from the field's three end entries (the reference's own formula).
The axis of a sweep (``with sp.forward(axis)``) is merged into one chunk: a column is computed
by one block.  Chunks along a stencil axis smaller than the halo are
merged with their neighbours (``dask.array.overlap.ensure_minimum_chunksize``).
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass

import numpy as np

from stencilpy.errors import StencilCallError
from stencilpy.extrapolation import MIN_POINTS, window
from stencilpy.signature import check_out

_PLACEHOLDER = {"fill": "edge", "valid": "edge"}   # those points are never read by a kept output


def is_dask(value) -> bool:
    return (type(value).__module__ or "").startswith("dask") and hasattr(value, "chunks")


def call_dask(stencil, values: dict, *, boundary=None, fill_value=None, out=None, domain=None,
              threads=None, check=False):
    """``Stencil.__call__`` for dask arrays: a lazy dask array (or a tuple of them).

    With ``out=`` (numpy arrays) the result is computed and stored there; ``out`` is returned.
    """
    results, call = lazy_call(stencil, values, boundary=boundary, fill_value=fill_value,
                              domain=domain, threads=threads, check=check)
    if out is not None:
        store(results, out, call)
        return out
    return results[0] if len(results) == 1 else results


def store(results: tuple, out, call) -> None:
    """Compute lazy ``results`` into the numpy array(s) ``out`` (validated like an eager ``out=``)."""
    import dask.array as da
    outs = out if isinstance(out, tuple) else (out,)
    if any(is_dask(o) for o in outs):
        raise StencilCallError("out= is a dask array; a lazy array cannot be written into: "
                               "omit out= (the result is lazy) or pass numpy arrays")
    check_out(out, call)
    da.store(list(results), list(outs), lock=False)


def _stand_in(value):
    """A zero-stride numpy stand-in with ``value``'s shape and dtype (binding never reads data)."""
    if is_dask(value) or isinstance(value, np.ndarray):
        return np.broadcast_to(np.zeros((), dtype=value.dtype), value.shape)
    return value


def lazy_call(stencil, values: dict, *, boundary=None, fill_value=None, domain=None,
              threads=None, check=False):
    """The lazy outputs (a tuple of dask arrays) and the global ``BoundCall``."""
    import dask.array as da
    call = stencil.bind({n: _stand_in(v) for n, v in values.items()}, boundary, fill_value,
                        domain, threads, check)
    if any(0 in shape for shape in call.out_shapes):
        return tuple(da.empty(shape, dtype=dt) for shape, dt
                     in zip(call.out_shapes, call.out_dtypes)), call
    fields = {n: _full_rank(values[n], len(call.batch_shape) + len(call.domain))
              for n in call.fields}
    if call.plan.uniform:
        return _lazy_outputs(stencil, call, fields, values, threads, None), call
    # outputs with footprints of their own (so, in a block, regions of their own): one lazy
    # array per output, chunked over its own region (the blocks compute every output; each
    # keeps its own)
    return tuple(_lazy_outputs(stencil, call, fields, values, threads, k)[0]
                 for k in range(len(call.out_dtypes))), call


def _lazy_outputs(stencil, call, fields: dict, values: dict, threads, output) -> tuple:
    """The lazy outputs of ``call`` (``output``: that output alone)."""
    import dask.array as da
    layout = _Layout.build(call, fields, values, output)
    boxes = [_box(fields[n], n, call, layout) for n in call.fields]
    n_out = len(call.out_dtypes) if output is None else 1
    spec = _BlockSpec(tuple(call.fields), tuple(call.scalars.items()), len(call.batch_shape),
                      layout.block_axes(call), layout.fill_masks(call, output),
                      call.options.fill_value, 1 if threads is None else call.options.threads,
                      call.options.check, n_out, output, layout.crops(call, output))
    run = functools.partial(_run_block, stencil, spec)
    chunks = layout.out_chunks
    dtypes = call.out_dtypes if output is None else (call.out_dtypes[output],)
    if n_out == 1:
        dt = dtypes[0]
        return (da.map_blocks(run, *boxes, chunks=chunks, dtype=dt,
                              meta=np.empty((0,) * len(chunks), dt),
                              token=stencil.ir.name),)
    tuples = da.map_blocks(run, *boxes, chunks=chunks, dtype=object,
                           meta=np.empty((0,) * len(chunks), object),
                           token=stencil.ir.name)
    return tuple(tuples.map_blocks(operator.itemgetter(k), dtype=dt,
                                   meta=np.empty((0,) * len(chunks), dt))
                 for k, dt in enumerate(dtypes))


def _full_rank(value, ndim: int):
    """``value`` as a dask array with ``ndim`` axes (leading length-1 axes added)."""
    import dask.array as da
    if not is_dask(value):
        value = da.from_array(np.asarray(value), chunks=np.shape(value), name=False)
    missing = ndim - value.ndim
    return value[(None,) * missing] if missing else value


@dataclass(frozen=True)
class _Layout:
    """Global chunking decisions: output ranges and chunks, per-axis halo depth."""

    ranges: tuple          # per stencil axis: output covers domain positions [start, stop)
    depth: tuple           # per stencil axis: (lo, hi) halo of the non-broadcast fields
    batch_chunks: tuple    # per batch axis
    axis_chunks: tuple     # per stencil axis: output chunks

    @property
    def out_chunks(self) -> tuple:
        return self.batch_chunks + self.axis_chunks

    def native(self, d: int) -> bool:
        """One chunk along axis ``d``: blocks run it with its own mode (no box, no copies)."""
        return len(self.axis_chunks[d]) == 1

    def crops(self, call, output) -> tuple:
        """Per stencil axis, where a block's result for ``output`` starts: 0, but for an
        output whose own halo is narrower than the blocks' overlap (its "valid" result in
        the block then begins before the chunk does)."""
        if output is None:
            return (0,) * len(self.depth)
        found = []
        for d, (lo, _) in enumerate(self.depth):
            own = max([0] + [ext[d][0] for name, ext in call.plan.footprints(output)
                             if name in call.fields and not call.broadcast[name][d]])
            found.append(0 if self.native(d) else lo - own)
        return tuple(found)

    def block_axes(self, call) -> tuple:
        """Per stencil axis: (mode, domain length or None, halo) for the block calls."""
        return tuple((mode, n, (0, 0)) if self.native(d) else ("valid", None, self.depth[d])
                     for d, (mode, n) in enumerate(zip(call.options.modes, call.domain)))

    @classmethod
    def build(cls, call, fields: dict, originals: dict, output=None) -> "_Layout":
        from dask.array.overlap import ensure_minimum_chunksize
        nb, full = len(call.batch_shape), call.batch_shape + call.domain
        given = [_native_chunks(fields, originals, axis, n) for axis, n in enumerate(full)]
        ranges, depth, axis_chunks = [], [], []
        sweep_axes = {b.axis for b in call.stencil.body if hasattr(b, "ranges")}
        regions = call.regions if output is None else call.output_regions[output]
        for d, (mode, region) in enumerate(zip(call.options.modes, regions)):
            start, stop = region if mode == "valid" else (0, call.domain[d])
            lo, hi, reach = 0, 0, False
            for name, ext in call.plan.field_extents:
                if name not in call.fields:
                    continue
                if call.broadcast[name][d]:
                    reach = reach or ext[d] != (0, 0)
                else:
                    lo, hi = max(lo, ext[d][0]), max(hi, ext[d][1])
            chunks = _clip(given[nb + d], start, stop)
            # a block must hold the halo its neighbours need (and 2 points when only a
            # broadcast field reaches, so that a length-1 field stays broadcast in every block)
            need = max(lo, hi, 2 if reach else 1)
            if len(chunks) > 1 and min(chunks) < need:
                chunks = ensure_minimum_chunksize(need, chunks) if sum(chunks) >= need \
                    else (sum(chunks),)
            if d in sweep_axes:                # a sweep walks the whole axis: one chunk
                chunks = (sum(chunks),)
            ranges.append((start, stop))
            depth.append((lo, hi))
            axis_chunks.append(chunks)
        return cls(tuple(ranges), tuple(depth), tuple(given[:nb]), tuple(axis_chunks))

    def fill_masks(self, call, output=None) -> tuple:
        regions = call.regions if output is None else call.output_regions[output]
        return tuple(region if mode == "fill" and region != (0, n) and not self.native(d)
                     else None for d, (mode, region, n)
                     in enumerate(zip(call.options.modes, regions, call.domain)))


def _native_chunks(fields: dict, originals: dict, axis: int, n: int) -> tuple:
    """The chunks along ``axis`` of the first field given as a dask array with ``n`` points there."""
    for name, arr in fields.items():
        if is_dask(originals[name]) and arr.shape[axis] == n:
            return arr.chunks[axis]
    return (n,)


def _clip(chunks: tuple, start: int, stop: int) -> tuple:
    out, pos = [], 0
    for c in chunks:
        a, b = max(pos, start), min(pos + c, stop)
        if b > a:
            out.append(b - a)
        pos += c
    return tuple(out) or (0,)


def index_map(length: int, n: int, start: int, stop: int, mode: str) -> np.ndarray:
    """Indices into a field of ``length`` points giving domain positions ``[start, stop)``
    (domain length ``n``) extended with boundary ``mode`` as the numpy reference does it;
    -1 marks "constant" points.

    >>> index_map(4, 4, -2, 6, "wrap").tolist()
    [2, 3, 0, 1, 2, 3, 0, 1]
    >>> index_map(5, 4, -1, 5, "wrap").tolist()       # staggered: wraps modulo the domain
    [3, 0, 1, 2, 3, 4]
    """
    pos = np.arange(start, stop)
    if mode == "wrap" and length > n:
        return np.where((pos >= 0) & (pos < length), pos, pos % n)
    before, after = max(0, -start), max(0, stop - length)
    base = np.arange(length)
    if mode == "constant":
        padded = np.pad(base, (before, after), constant_values=-1)
    else:
        padded = np.pad(base, (before, after), mode=_PLACEHOLDER.get(mode, mode))
    return padded[start + before: stop + before]


def _gather(x, axis: int, idx: np.ndarray, fill):
    """``x`` taken at ``idx`` along ``axis`` (-1: ``fill``), lazily, as slices of ``x``."""
    import dask.array as da
    if len(idx) == x.shape[axis] and (idx == np.arange(len(idx))).all():
        return x
    pieces, k = [], 0
    while k < len(idx):
        j = k + 1
        if idx[k] < 0:
            while j < len(idx) and idx[j] < 0:
                j += 1
            shape = x.shape[:axis] + (j - k,) + x.shape[axis + 1:]
            chunks = x.chunks[:axis] + ((j - k),) + x.chunks[axis + 1:]
            pieces.append(da.full(shape, fill, dtype=x.dtype, chunks=chunks))
        else:
            while j < len(idx) and idx[j] == idx[j - 1] + 1:
                j += 1
            index = (slice(None),) * axis + (slice(int(idx[k]), int(idx[j - 1]) + 1),)
            pieces.append(x[index])
        k = j
    return da.concatenate(pieces, axis=axis) if len(pieces) > 1 else pieces[0]


def _extrapolated(x, axis: int, start: int, stop: int):
    """Entries ``[start, stop)`` of ``x`` along ``axis``, lazily, the ghosts beyond its ends
    computed from its three end entries by the reference's own ``extrapolation.window`` (so
    the blocks see the values the eager call pads with, bit for bit)."""
    import dask.array as da
    length = x.shape[axis]
    pieces = []

    def ghosts(ends, a: int, b: int):               # window over the three end entries
        ends = ends.rechunk({axis: MIN_POINTS})
        chunks = ends.chunks[:axis] + ((b - a),) + ends.chunks[axis + 1:]
        return da.map_blocks(functools.partial(window, axis=axis, start=a, stop=b), ends,
                             chunks=chunks, dtype=x.dtype)

    def take(a: int, b: int):
        return x[(slice(None),) * axis + (slice(a, b),)]

    if start < 0:
        pieces.append(ghosts(take(0, MIN_POINTS), start, min(stop, 0)))
    if min(stop, length) > max(start, 0):
        pieces.append(take(max(start, 0), min(stop, length)))
    if stop > length:
        first = max(start, length) - length + MIN_POINTS
        pieces.append(ghosts(take(length - MIN_POINTS, length), first,
                             stop - length + MIN_POINTS))
    return da.concatenate(pieces, axis=axis) if len(pieces) > 1 else pieces[0]


def _box(x, name: str, call, layout: _Layout):
    """Field ``x`` extended per stencil axis to its box, chunked and overlapped for the blocks."""
    import dask.array as da
    nb = len(call.batch_shape)
    chunks, depth = list(x.chunks), {}
    for axis in range(nb):
        chunks[axis] = layout.batch_chunks[axis] if x.shape[axis] != 1 or \
            call.batch_shape[axis] == 1 else (1,)
    for d, ((start, stop), (lo, hi)) in enumerate(zip(layout.ranges, layout.depth)):
        axis = nb + d
        if call.broadcast[name][d] or layout.native(d):
            chunks[axis] = (x.shape[axis],)
            continue
        mode = call.options.modes[d]
        if mode == "extrapolate":
            x = _extrapolated(x, axis, start - lo, stop + hi)
        else:
            fill = call.options.fill_value
            if mode == "constant" and x.dtype.kind != "f":
                fill = np.asarray(fill).astype(x.dtype)
            idx = index_map(x.shape[axis], call.domain[d], start - lo, stop + hi, mode)
            x = _gather(x, axis, idx, fill)
        own = list(layout.axis_chunks[d])
        own[0] += lo
        own[-1] += hi
        chunks[axis] = tuple(own)
        if len(own) > 1 and (lo or hi):
            depth[axis] = (lo, hi)
    x = x.rechunk(tuple(chunks))
    if depth:
        x = da.overlap.overlap(x, depth=depth, boundary="none", allow_rechunk=False)
    return x


@dataclass(frozen=True)
class _BlockSpec:
    """What one block needs besides its arrays (small and picklable)."""

    fields: tuple
    scalars: tuple
    nbatch: int
    axes: tuple            # per stencil axis: (mode, domain length | None, (lo, hi))
    fill_masks: tuple
    fill_value: object
    threads: int
    check: bool
    n_outputs: int
    output: int | None = None   # the one output kept (outputs with regions of their own)
    crops: tuple = ()           # per stencil axis: where the chunk starts in the block's result


def _run_block(stencil, spec: _BlockSpec, *blocks, block_info=None):
    """Run the stencil on one block ("valid" along overlapped axes, the call's own mode along
    single-chunk axes), then write the "fill" strips of overlapped axes."""
    where = block_info[None]["array-location"]
    shape = block_info[None]["chunk-shape"]
    nb = spec.nbatch
    domain = tuple(shape[:nb]) + tuple(n + lo + hi if length is None else length
                                       for n, (_, length, (lo, hi)) in zip(shape[nb:], spec.axes))
    values = dict(zip(spec.fields, blocks))
    values.update(spec.scalars)
    results = stencil.call_arrays(values, boundary={d: a[0] for d, a in enumerate(spec.axes)},
                                  fill_value=spec.fill_value, domain=domain,
                                  threads=spec.threads, check=spec.check)
    outs = results if isinstance(results, tuple) else (results,)
    if spec.output is not None:
        index = tuple(slice(c, c + n) for c, n in zip(spec.crops, shape[nb:]))
        outs = (outs[spec.output][(Ellipsis,) + index],)
    for d, mask in enumerate(spec.fill_masks):
        if mask is None:
            continue
        a, b = where[nb + d]
        for part in (slice(0, max(0, min(b, mask[0]) - a)), slice(max(0, mask[1] - a), b - a)):
            index = (slice(None),) * (nb + d) + (part,)
            for o in outs:
                if o[index].size:
                    o[index] = spec.fill_value
    return outs if spec.n_outputs > 1 else outs[0]
