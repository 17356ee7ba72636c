"""The numpy reference backend: interprets the IR with array slicing.

This is the living semantics of the language and the test oracle.  It never
imports ``codegen`` or ``runtime``.

How a call is evaluated:

1. every field is extended per axis by the stencil's halo using ``numpy.pad``
   with the axis's boundary mode (the "box"); along "fill"/"valid" axes the
   padding is only a placeholder (those points are never used for a kept output);
2. every stage of the plan is evaluated as whole arrays over its region of the
   box (the output region grown by the stage's extent); ``f[o]`` is the slice of
   ``f`` shifted by ``o``;
3. the outputs are cropped to the domain; along "fill" axes the points whose
   stencil reaches outside the fields get ``fill_value``; "valid" axes are trimmed
   (each output by its own reach: the analysis' ``output_extents``).
"""

from __future__ import annotations

import numpy as np

from stencilpy.extrapolation import window
from stencilpy.ir import nodes as N
from stencilpy.ir.types import result_type
from stencilpy.signature import BoundCall

_NP_PAD = {"constant": "constant", "edge": "edge", "reflect": "reflect",
           "symmetric": "symmetric", "wrap": "wrap", "fill": "edge", "valid": "edge"}


def _pad_axis(arr: np.ndarray, axis: int, before: int, after: int, mode: str, n: int, fill):
    """Extend ``arr`` along ``axis`` to cover domain indices ``[-before, n + after)``."""
    length = arr.shape[axis]
    if mode == "extrapolate":                 # the parabola through each end's three points
        return window(arr, axis, -before, n + after)
    want_after = n + after - length            # may be negative: crop a longer field
    if mode == "wrap" and length > n:         # staggered: wraps modulo the domain length
        idx = np.arange(-before, n + after)
        inside = (idx >= 0) & (idx < length)
        return np.take(arr, np.where(inside, idx, idx % n), axis=axis)
    if before == 0 and want_after == 0:
        return arr                             # nothing to add: no copy
    widths = [(0, 0)] * arr.ndim
    widths[axis] = (before, max(0, want_after))
    kwargs = {"constant_values": fill} if mode == "constant" else {}
    padded = np.pad(arr, widths, mode=_NP_PAD[mode], **kwargs)
    if want_after < 0:
        padded = np.take(padded, np.arange(before + n + after), axis=axis)
    return padded


def _box_field(call: BoundCall, name: str) -> np.ndarray:
    arr = call.fields[name]
    ndim = len(call.domain)
    halo = call.plan.halo
    for d in range(ndim):
        if call.broadcast[name][d]:
            continue
        axis = arr.ndim - ndim + d
        if axis < 0:
            continue
        fill = call.options.fill_value
        if call.options.modes[d] == "constant":
            fill = np.asarray(fill).astype(arr.dtype) if arr.dtype.kind != "f" else fill
        arr = _pad_axis(arr, axis, halo[d][0], halo[d][1], call.options.modes[d],
                        call.domain[d], fill)
    return arr


class _Region:
    """A box region: per axis ``[start, stop)`` in box coordinates."""

    def __init__(self, call: BoundCall, extent):
        self.bounds = tuple((call.plan.halo[d][0] - e[0], call.plan.halo[d][0] + n + e[1])
                            for d, (e, n) in enumerate(zip(extent, call.domain)))

    def slices(self, arr: np.ndarray, origin, offset) -> tuple:
        """Slices of ``arr`` (whose region starts at box index ``origin``) at ``offset``."""
        ndim = len(self.bounds)
        out = [Ellipsis]
        for d, ((lo, hi), o) in enumerate(zip(self.bounds, offset)):
            axis_len = arr.shape[arr.ndim - ndim + d] if arr.ndim - ndim + d >= 0 else 1
            if arr.ndim - ndim + d < 0:
                continue
            if axis_len == 1 and hi - lo != 1:
                out.append(slice(0, 1))
            else:
                out.append(slice(lo + o - origin[d], hi + o - origin[d]))
        return tuple(out)


_WEAK = (bool, int, float)


def _evaluate(expr: N.Expr, env: dict, region: _Region, call: BoundCall):
    """Evaluate ``expr`` over ``region``; ``env`` maps names to (array, origin), or to
    (Python number, None) for a temporary that holds one.

    An operation on Python numbers only gives a Python number (NumPy functions would give
    a NumPy scalar, which is *strong* in NumPy 2's promotion): literals, scalar arguments
    and what is computed from them alone stay weak, as ``ir.types`` says."""
    if isinstance(expr, N.Const):
        return expr.value
    if isinstance(expr, N.ScalarRef):
        return call.scalars[expr.name]
    if isinstance(expr, N.FieldAccess):
        arr, origin = env[expr.name]
        return arr if origin is None else arr[region.slices(arr, origin, expr.offset)]
    kids = [_evaluate(e, env, region, call) for e in N.children(expr)]
    weak = all(type(k) in _WEAK for k in kids)
    value = _apply(expr, _weak_operands(expr, kids) if weak else kids)
    if weak and type(value) not in _WEAK:
        value = value.item()
    return value


def _weak_operands(expr: N.Expr, kids: list) -> list:
    """Operands that are all Python numbers, converted to the Python type of the result
    (``True + True`` is 2 and ``-True`` is -1, as in Python, not NumPy's bool arithmetic)."""
    if isinstance(expr, (N.Compare, N.BoolOp)) or \
            (isinstance(expr, N.UnaryOp) and expr.op == "not") or \
            (isinstance(expr, N.Call) and expr.func in ("isnan", "isinf", "isfinite")):
        return kids
    if isinstance(expr, N.Select) or (isinstance(expr, N.Call) and expr.func == "where"):
        t = result_type("where", *(type(k) for k in kids))
        return [kids[0]] + [t(k) for k in kids[1:]]
    if isinstance(expr, N.UnaryOp):
        t = result_type("neg", type(kids[0])) if expr.op == "-" else type(kids[0])
        return [t(kids[0])]
    t = result_type(expr.op if isinstance(expr, N.BinOp) else expr.func, *map(type, kids))
    return [t(k) for k in kids]


def _apply(expr: N.Expr, kids: list):
    """The operation of ``expr`` on its evaluated operands."""
    if isinstance(expr, N.BinOp):
        return _binop(expr.op, *kids)
    if isinstance(expr, N.Compare):
        return _COMPARE[expr.op](*kids)
    if isinstance(expr, N.UnaryOp):
        return np.logical_not(kids[0]) if expr.op == "not" else \
            (np.negative(kids[0]) if expr.op == "-" else kids[0])
    if isinstance(expr, N.BoolOp):
        fn = np.logical_and if expr.op == "and" else np.logical_or
        result = fn(kids[0], kids[1])
        for v in kids[2:]:
            result = fn(result, v)
        return result
    if isinstance(expr, N.Select):
        return np.where(*kids)
    if isinstance(expr, N.Call):
        return _FUNCTIONS[expr.func](*kids)
    raise TypeError(f"not an expression: {expr!r}")


def _binop(op, a, b):
    return _power(a, b) if op == "**" else _BINARY[op](a, b)


def _power(a, b):
    """``np.power``, except that an integer power with a negative (run-time) exponent, which
    NumPy refuses, gives the true value truncated toward zero: 1 for a == 1, +-1 for
    a == -1, else 0.  (A negative *literal* exponent is refused when the call is bound.)"""
    if np.result_type(a, b).kind not in "iu" or not np.any(np.less(b, 0)):
        return np.power(a, b)
    negative = np.less(b, 0)
    result = np.power(a, 0 if isinstance(b, int) else np.where(negative, np.zeros_like(b), b))
    odd = np.not_equal(np.remainder(b, 2), 0)
    tiny = np.where(np.equal(a, 1), 1, np.where(np.equal(a, -1), np.where(odd, -1, 1), 0))
    return np.where(negative, tiny, result).astype(np.asarray(result).dtype, copy=False)


_BINARY = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide,
           "//": np.floor_divide, "%": np.remainder, "**": np.power}
_COMPARE = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal,
            "==": np.equal, "!=": np.not_equal}
_FUNCTIONS = {
    "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "log10": np.log10, "log2": np.log2,
    "expm1": np.expm1, "log1p": np.log1p, "sin": np.sin, "cos": np.cos, "tan": np.tan,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "sinh": np.sinh,
    "cosh": np.cosh, "tanh": np.tanh, "floor": np.floor, "ceil": np.ceil, "trunc": np.trunc,
    "abs": np.absolute, "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
    "sign": np.sign, "arctan2": np.arctan2, "hypot": np.hypot, "power": _power,
    "copysign": np.copysign, "fmod": np.fmod, "min": np.minimum, "max": np.maximum,
    "where": np.where,
}


def _stage_values(call: BoundCall) -> list:
    """Evaluate every stage; return the output stage's values over the domain region."""
    plan = call.plan
    defs = {s.target: s.value for s in call.stencil.body}
    zero = tuple(h[0] for h in plan.halo)
    env = {name: (_box_field(call, name), (0,) * len(zero)) for name in call.fields}
    for stage in plan.stages:
        region = _Region(call, stage.region)
        origin = tuple(lo for lo, _ in region.bounds)
        local = dict(env)
        for name in stage.inline:
            local[name] = _stored(_evaluate(defs[name], local, region, call), region, origin)
        if stage.target is not None:
            value = _evaluate(defs[stage.target], local, region, call)
            env[stage.target] = _stored(value, region, origin)
        else:
            return [_evaluate(r, local, region, call) for r in call.stencil.returns]
    raise AssertionError("plan without an output stage")


def _stored(value, region: _Region, origin) -> tuple:
    """A temporary's value as kept in the environment (a Python number stays one)."""
    if type(value) in _WEAK:
        return value, None
    return _broadcast(value, region), origin


def _broadcast(value, region: _Region) -> np.ndarray:
    """A stage value as an array with the region's shape on its trailing axes."""
    value = np.asarray(value)
    shape = tuple(hi - lo for lo, hi in region.bounds)
    if value.ndim < len(shape):
        value = value.reshape((1,) * (len(shape) - value.ndim) + value.shape)
    target = value.shape[:value.ndim - len(shape)] + shape
    return np.broadcast_to(value, np.broadcast_shapes(value.shape, target))


def _finish(value, dtype, call: BoundCall, regions) -> np.ndarray:
    """Broadcast to the domain, apply "fill" and trim "valid" (outside the output's own
    ``regions``)."""
    full = call.batch_shape + call.domain
    result = np.empty(full, dtype=dtype)
    result[...] = np.broadcast_to(np.asarray(value), np.broadcast_shapes(np.shape(value), full)) \
        .astype(dtype, copy=False)
    keep = [slice(None)] * len(call.batch_shape)
    for d, (mode, (lo, hi)) in enumerate(zip(call.options.modes, regions)):
        axis = len(call.batch_shape) + d
        if mode == "fill":
            for part in (slice(0, lo), slice(hi, None)):
                index = [slice(None)] * result.ndim
                index[axis] = part
                if result[tuple(index)].size:
                    result[tuple(index)] = call.options.fill_value
            keep.append(slice(None))
        elif mode == "valid":
            keep.append(slice(lo, hi))
        else:
            keep.append(slice(None))
    return np.ascontiguousarray(result[tuple(keep)])


def run_reference(call: BoundCall, evaluate=_stage_values) -> tuple[np.ndarray, ...]:
    """Evaluate a bound call with numpy slicing; one array per output.  ``evaluate(call)``
    gives the outputs' values on the domain (``reference/columns.py`` for sweeps)."""
    if call.is_empty and 0 in call.batch_shape + call.domain:
        return tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    with np.errstate(all="ignore"):
        values = evaluate(call)
        return tuple(_finish(v, dt, call, r) for v, dt, r
                     in zip(values, call.out_dtypes, call.output_regions))
