"""The numpy reference of column stencils (``with sp.forward/backward`` sweeps).

Every name lives on the whole *box* (the domain grown by the halo) together with a mask
of the points where its value is defined:

* fields are padded as in ``interpret.py``; along "fill"/"valid" axes the padding is only a
  placeholder and is masked out;
* a parallel statement is evaluated on the whole box at once; ``f[o]`` is ``f`` shifted
  by ``o`` (points shifted in from outside the box are masked out), so a read sees the
  previous definition of a reassigned name, as in any stencil;
* a sweep walks the levels of its axis one at a time (forward or backward) and, at each
  level, runs the statements of the blocks that hold it in the order written, each
  vectorised over the other axes; an assignment writes that level of the temporary in
  place, so ``t[lev - 1]`` reads what the sweep computed one level earlier -- exactly the
  straightforward loop;
* the outputs are cropped to the domain; a masked-out point inside the computed region
  would be a bug of the analysis and raises ``InternalCompilerError``.
"""

from __future__ import annotations

import numpy as np

from stencilpy.analysis.columns import short_axis_error
from stencilpy.errors import InternalCompilerError, StencilCallError
from stencilpy.ir import nodes as N
from stencilpy.ir.levels import LevelError, check_levels
from stencilpy.reference.interpret import _WEAK, _apply, _box_field, _weak_operands
from stencilpy.signature import BoundCall


class _Columns:
    """The state of one evaluation: the box and the values (array or number, mask)."""

    def __init__(self, call: BoundCall):
        self.call = call
        self.ndim = len(call.domain)
        self.halo = call.plan.halo
        self.box = tuple(lo + n + hi for (lo, hi), n in zip(self.halo, call.domain))
        self.env: dict[str, tuple] = {}
        for name in call.fields:
            arr = _box_field(call, name)
            if arr.ndim < self.ndim:
                arr = arr.reshape((1,) * (self.ndim - arr.ndim) + arr.shape)
            self.env[name] = (arr, self._field_mask(name, arr))

    def _field_mask(self, name: str, arr: np.ndarray) -> np.ndarray | None:
        """Padding along "fill"/"valid" axes is a placeholder: not defined."""
        mask = None
        field = self.call.fields[name]
        for d, mode in enumerate(self.call.options.modes):
            if mode not in ("fill", "valid") or self.call.broadcast[name][d]:
                continue
            axis = field.ndim - self.ndim + d
            if axis < 0 or field.shape[axis] == 1:
                continue
            lo = self.halo[d][0]
            own = np.zeros(self.box[d], dtype=bool)
            own[lo:lo + field.shape[axis]] = True
            shape = [1] * self.ndim
            shape[d] = self.box[d]
            mask = own.reshape(shape) if mask is None else mask & own.reshape(shape)
        return None if mask is None else np.broadcast_to(mask, self.box)

    # -- evaluation -------------------------------------------------------------------------

    def evaluate(self, expr: N.Expr, leaf):
        """(value, mask) of ``expr``; ``leaf(access)`` gives the (value, mask) of a read."""
        masks = []

        def value(e):
            if isinstance(e, N.Const):
                return e.value
            if isinstance(e, N.ScalarRef):
                return self.call.scalars[e.name]
            if isinstance(e, N.FieldAccess):
                v, m = leaf(e)
                if m is not None:
                    masks.append(m)
                return v
            kids = [value(k) for k in N.children(e)]
            weak = all(type(k) in _WEAK for k in kids)
            result = _apply(e, _weak_operands(e, kids) if weak else kids)
            if weak and type(result) not in _WEAK:
                result = result.item()
            return result

        v = value(expr)
        mask = None
        for m in masks:
            mask = m if mask is None else mask & m
        return v, mask

    def shifted(self, access: N.FieldAccess, skip_axis: int | None = None):
        """(value, mask) of ``access`` on the box: the name shifted by its offset."""
        arr, mask = self.env[access.name]
        if type(arr) in _WEAK:
            return arr, mask
        for d, o in enumerate(access.offset):
            if o == 0 or d == skip_axis:
                continue
            arr, mask = _shift(arr, mask, d, o, self.ndim, self.box)
        return arr, mask

    def parallel(self, stmt: N.Assign) -> None:
        self.env[stmt.target] = self.evaluate(stmt.value, self.shifted)

    # -- sweeps -----------------------------------------------------------------------------

    def sweep(self, sweep: N.Sweep) -> None:
        axis, n = sweep.axis, self.call.domain[sweep.axis]
        lo_halo = self.halo[axis][0]
        spans = [(rng, *rng.bounds(n)) for rng in sweep.ranges]
        order = range(n - 1, -1, -1) if sweep.direction == "backward" else range(n)
        for k in order:
            box_k = lo_halo + k
            for stmt in [s for rng, lo, hi in spans if lo <= k < hi for s in rng.body]:
                value, mask = self.evaluate(stmt.value, lambda a: self._at_level(a, axis, box_k))
                self._store(stmt.target, value, mask, axis, box_k)

    def _at_level(self, access: N.FieldAccess, axis: int, box_k: int):
        """(value, mask) of ``access`` at box level ``box_k`` of ``axis`` (length 1 there)."""
        arr, mask = self.env[access.name]
        if type(arr) in _WEAK:
            return arr, mask
        k = box_k + access.offset[axis]
        pos = arr.ndim - self.ndim + axis
        inside = 0 <= k < self.box[axis]
        if arr.shape[pos] != 1:
            arr = _level(arr, pos, min(max(k, 0), arr.shape[pos] - 1))
        if mask is not None:
            mask = _level(mask, axis, min(max(k, 0), self.box[axis] - 1))
        if not inside:
            mask = np.zeros(_level_shape(self.box, axis), dtype=bool)
        slab_box = _level_shape(self.box, axis)
        for d, o in enumerate(access.offset):
            if o and d != axis:
                arr, mask = _shift(arr, mask, d, o, self.ndim, slab_box)
        return arr, mask

    def _store(self, name, value, mask, axis, box_k) -> None:
        """Write level ``box_k`` of temporary ``name``; its first write in a sweep makes it a
        box array of its own (a copy of its earlier value, if any)."""
        arr, old_mask = self.env.get(name, (None, None))
        dtype = np.result_type(value)
        if name not in self._owned:
            full = self.call.batch_shape + self.box
            if arr is None:
                arr, old_mask = np.zeros(full, dtype=dtype), np.zeros(self.box, dtype=bool)
            else:
                new = np.empty(full, dtype=np.result_type(arr, dtype))
                new[...] = arr
                arr = new
                old_mask = np.ones(self.box, dtype=bool) if old_mask is None else \
                    np.array(np.broadcast_to(old_mask, self.box))
            self._owned.add(name)
        elif np.result_type(arr.dtype, dtype) != arr.dtype:
            arr = arr.astype(np.result_type(arr.dtype, dtype))
        index = [slice(None)] * arr.ndim
        index[arr.ndim - self.ndim + axis] = slice(box_k, box_k + 1)
        arr[tuple(index)] = value
        mindex = [slice(None)] * self.ndim
        mindex[axis] = slice(box_k, box_k + 1)
        old_mask[tuple(mindex)] = True if mask is None else mask
        self.env[name] = (arr, old_mask)

    def run(self) -> list:
        for block in self.call.stencil.body:
            if isinstance(block, N.Sweep):
                self._owned: set[str] = set()
                self.sweep(block)
            else:
                self.parallel(block)
        outputs = []
        for ret in self.call.stencil.returns:
            value, mask = self.evaluate(ret, self.shifted)
            outputs.append(self._crop(value, mask))
        return outputs

    def _crop(self, value, mask):
        """The domain part of an output; its computed region must be defined."""
        if type(value) in _WEAK:
            return value
        inner = tuple(slice(lo, lo + n) for (lo, _), n in zip(self.halo, self.call.domain))
        value = np.asarray(value)
        index = (Ellipsis,) + tuple(s if value.shape[value.ndim - self.ndim + d] != 1
                                    else slice(None) for d, s in enumerate(inner))
        if mask is not None:
            region = tuple(slice(lo + a, lo + b) for (lo, _), (a, b) in
                           zip(self.halo, self.call.regions))
            if not np.all(mask[region]):
                bad = tuple(int(i) for i in np.argwhere(~mask[region])[0])
                raise InternalCompilerError(
                    f"the column reference read an undefined value for output point {bad} "
                    f"of '{self.call.stencil.name}' (halo {self.halo}): an analysis bug")
        return value[index]


def _level(arr: np.ndarray, pos: int, k: int) -> np.ndarray:
    """The view of level ``k`` of ``arr`` along axis ``pos`` (kept, with length 1)."""
    index = [slice(None)] * arr.ndim
    index[pos] = slice(k, k + 1)
    return arr[tuple(index)]


def _level_shape(box, axis):
    shape = list(box)
    shape[axis] = 1
    return tuple(shape)


def _shift(arr, mask, d, o, ndim, box):
    """``arr`` and ``mask`` moved so that point ``i`` holds point ``i + o`` along axis ``d``;
    points from outside the box are masked out."""
    pos = arr.ndim - ndim + d
    if arr.shape[pos] != 1:
        arr = np.roll(arr, -o, axis=pos)
    length = box[d]
    if mask is None:
        mask = np.ones(box, dtype=bool)
    mask = np.roll(np.broadcast_to(mask, box), -o, axis=d)
    index = [slice(None)] * ndim
    index[d] = slice(max(0, length - o), length) if o > 0 else slice(0, min(length, -o))
    mask = np.array(mask)
    mask[tuple(index)] = False
    return arr, mask


def run_columns(call: BoundCall) -> list:
    """The outputs of a column stencil on the domain (before "fill"/"valid" are applied)."""
    check_call_levels(call)
    return _Columns(call).run()


def box_fields(call: BoundCall) -> tuple[dict, tuple, tuple]:
    """The padded fields (as the reference pads them), the box shape and the box index of
    domain point 0, for a compiled column kernel."""
    state = _Columns(call)
    return ({n: state.env[n][0] for n in call.fields}, state.box,
            tuple(lo for lo, _ in state.halo))


def source_tables(call: BoundCall) -> dict:
    """Per field, per stencil axis: the field's own index at each box position (int64,
    -1 where "constant" reads the fill value), or None where the field has no index
    along the axis (broadcast): the padding of ``box_fields`` as an index map, for the
    compiled column kernel, which reads fields in place."""
    from stencilpy.reference.interpret import _pad_axis

    ndim, halo = len(call.domain), call.plan.halo
    tables = {}
    for name, arr in call.fields.items():
        per_axis = []
        for d in range(ndim):
            axis = arr.ndim - ndim + d
            if call.broadcast[name][d] or axis < 0:
                per_axis.append(None)
                continue
            index = np.arange(arr.shape[axis], dtype=np.int64)
            per_axis.append(np.ascontiguousarray(_pad_axis(
                index, 0, halo[d][0], halo[d][1], call.options.modes[d], call.domain[d], -1),
                dtype=np.int64))
        tables[name] = per_axis
    return tables


def finish_outputs(call: BoundCall, outputs: list) -> tuple:
    """Box outputs of a compiled column kernel -> the call's results ("fill"/"valid" applied)."""
    from stencilpy.reference.interpret import _finish

    inner = (Ellipsis,) + tuple(slice(lo, lo + n) for (lo, _), n in
                                zip(call.plan.halo, call.domain))
    return tuple(_finish(o[inner], dt, call, r) for o, dt, r
                 in zip(outputs, call.out_dtypes, call.output_regions))


def check_call_levels(call: BoundCall) -> None:
    """``check_levels`` with the call's true axis lengths (a ``StencilCallError``)."""
    try:
        check_levels(call.stencil, call.domain)
    except LevelError as exc:
        raise StencilCallError(
            f"'{call.stencil.name}' cannot run on this domain {call.domain}: {exc.message} "
            f"({exc.loc}); {exc.hint}") from None
    problem = short_axis_error(call.stencil, call.plan.halo, call.domain)
    if problem is not None:
        raise StencilCallError(f"'{call.stencil.name}' cannot run on this domain "
                               f"{call.domain}: {problem}")
