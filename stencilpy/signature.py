"""Binding a call's arguments to a stencil: validation, shapes, dtypes, regions.

Both backends (the compiled one in ``runtime/`` and the numpy reference in
``reference/``) run a ``BoundCall``; nothing here depends on either of them.

Shapes: the domain is the first field argument's shape (or ``domain=``/``out=``).
Its last ``ndim`` axes are the stencil axes; the leading ones are batch axes,
looped over.  A field may lack leading axes or have length 1 along an axis
(broadcast, as in NumPy) and may have one point more than the domain along a
stencil axis (staggered data: N + 1 faces around N cells); any other length is refused.
"""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass

import numpy as np

from stencilpy.analysis import Plan
from stencilpy.errors import StencilCallError, close_match
from stencilpy.ir import nodes as N
from stencilpy.ir.types import check_int_ranges, infer
from stencilpy.options import PAD_MODES, RESERVED, CallOptions


@dataclass(frozen=True)
class BoundCall:
    """Everything a backend needs to run one call."""

    stencil: N.Stencil                # specialised IR (scalars bound)
    plan: Plan
    fields: dict                      # name -> ndarray (original array, validated)
    broadcast: dict                   # name -> tuple[bool] per stencil axis
    scalars: dict                     # name -> Python number
    batch_shape: tuple[int, ...]
    domain: tuple[int, ...]           # stencil-axis lengths of the domain
    regions: tuple[tuple[int, int], ...]   # region where every output is computed, per axis
    options: CallOptions
    out_dtypes: tuple[np.dtype, ...]
    temp_types: dict
    out_regions: tuple = ()           # per output: its own computed region (contains regions)

    @property
    def output_regions(self) -> tuple:
        """Per output, per stencil axis, the ``[lo, hi)`` it is computed on."""
        return self.out_regions or (self.regions,) * len(self.out_dtypes)

    @property
    def uniform(self) -> bool:
        """Every output is computed on the same region."""
        return all(r == self.regions for r in self.output_regions)

    @property
    def out_shapes(self) -> tuple[tuple[int, ...], ...]:
        """Shape of each output: domain, trimmed along "valid" axes to its region."""
        return tuple(self.batch_shape + tuple(hi - lo if m == "valid" else n for (lo, hi), m, n
                                              in zip(regions, self.options.modes, self.domain))
                     for regions in self.output_regions)

    @property
    def out_shape(self) -> tuple[int, ...]:
        """Shape of the outputs when they all have one (see ``out_shapes``)."""
        shapes = set(self.out_shapes)
        if len(shapes) != 1:
            raise ValueError("the outputs of this call have different shapes: use out_shapes")
        return shapes.pop()

    @property
    def needs_fill(self) -> bool:
        """Whether some output points get ``fill_value`` ("fill" axes the stencil's halo
        reaches out of)."""
        return any(m == "fill" and (lo, hi) != (0, n) for m, (lo, hi), n
                   in zip(self.options.modes, self.regions, self.domain))

    @property
    def is_empty(self) -> bool:
        return 0 in self.batch_shape or any(hi <= lo for regions in self.output_regions
                                             for lo, hi in regions)

    def origins(self, k: int) -> tuple[int, ...]:
        """Domain index of output ``k``'s first point per axis ("valid" axes are trimmed)."""
        return tuple(lo if m == "valid" else 0
                     for (lo, _), m in zip(self.output_regions[k], self.options.modes))


def is_scalar(value) -> bool:
    return isinstance(value, (numbers.Number, np.bool_)) and not isinstance(value, complex) \
        or (isinstance(value, np.ndarray) and value.ndim == 0)


def as_scalar(name: str, value):
    """A scalar argument as a weak Python number."""
    item = value.item() if isinstance(value, (np.generic, np.ndarray)) else value
    if isinstance(item, int) and not isinstance(item, bool) and not -2**63 <= item < 2**63:
        raise StencilCallError(f"argument '{name}' = {item} does not fit in int64; "
                               "pass it as a float or a smaller integer")
    if isinstance(item, bool) or isinstance(item, int) or isinstance(item, float):
        return item
    raise StencilCallError(f"argument '{name}' is {type(value).__name__} {value!r}; "
                           "pass a real number (int, float or bool)")


def as_field(name: str, value, ndim: int) -> np.ndarray:
    """Validate an array argument (dtype, rank)."""
    if "numpy.ma" in sys.modules and isinstance(value, np.ma.MaskedArray):  # np.ma costs ~6 ms
        raise StencilCallError(
            f"argument '{name}' is a masked array; stencilpy would ignore its mask: pass "
            f"'{name}.filled(np.nan)' (or another fill value) instead")
    if isinstance(value, (list, tuple)):
        value = np.asarray(value)
    elif not isinstance(value, np.ndarray):
        if not hasattr(value, "__array__"):
            raise StencilCallError(
                f"argument '{name}' is a {type(value).__name__}; pass a numpy array "
                "(or an xarray.DataArray / dask array) or, for a scalar, a number")
        value = np.asarray(value)
    check_dtype(f"argument '{name}'", value.dtype)
    if value.ndim == 0:
        raise StencilCallError(f"argument '{name}' is a 0-d array; pass a number instead")
    return value


def check_dtype(what: str, dtype: np.dtype) -> None:
    """An array of ``dtype`` can be read or written by a kernel (and the numpy reference):
    bool, integers up to 64 bits, float32/float64, in native byte order."""
    if dtype.kind == "f" and dtype.itemsize > 8:
        raise StencilCallError(
            f"{what} has dtype {dtype} (extended precision); stencilpy computes in float32 "
            "and float64 only: convert it first (.astype(np.float64); the extra precision is "
            "lost)")
    if dtype.kind not in "biuf" or dtype == np.float16:
        raise StencilCallError(
            f"{what} has dtype {dtype}; stencilpy computes on bool, integer, float32 and "
            "float64 arrays: convert it first (e.g. .astype(np.float64))")
    if dtype.byteorder not in "=|":
        raise StencilCallError(f"{what} is not in native byte order; use "
                               f"arr.astype(arr.dtype.newbyteorder('=')) (its dtype is "
                               f"'{dtype.str}')")


def _domain_shape(fields: dict, domain, out, ndim: int) -> tuple[int, ...]:
    if domain is not None:
        try:
            shape = np.shape(domain) if hasattr(domain, "shape") else tuple(domain)
            if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 0
                       for s in shape):
                raise TypeError
            shape = tuple(int(s) for s in shape)
        except TypeError:
            raise StencilCallError(f"domain={domain!r}: pass a shape (a tuple of whole numbers "
                                   ">= 0) or an array") from None
    elif fields:
        shape = next(iter(fields.values())).shape
    elif out is not None:
        shape = (out[0] if isinstance(out, tuple) else out).shape
    else:
        raise StencilCallError("no field argument: pass at least one array, or domain=shape")
    if len(shape) < ndim:
        raise StencilCallError(
            f"the domain has {len(shape)} dimensions but the stencil has {ndim}; "
            "pass an array with at least as many dimensions")
    return tuple(shape)


def _broadcast_flags(name, arr, domain, dims) -> tuple[bool, ...]:
    ndim = len(dims)
    flags = []
    for d in range(ndim):
        k = arr.ndim - ndim + d
        length = arr.shape[k] if k >= 0 else 1
        n = domain[d]
        if length == 1 and n != 1:
            flags.append(True)
            continue
        if length != n and length != n + 1:
            raise StencilCallError(
                f"argument '{name}' has {length} points along '{dims[d]}' but the domain has {n}; "
                f"a field has the domain's length ({n}), one point more ({n + 1}: staggered, the "
                f"faces around {n} cells) or length 1 (broadcast): pass it on the domain's grid")
        flags.append(False)
    return tuple(flags)


def _batch_shape(fields: dict, full_domain, ndim, explicit: bool) -> tuple[int, ...]:
    """The leading (batch) axes: the domain's when given by ``domain=``/``out=``, else the
    broadcast of every field's leading axes (as NumPy broadcasts them)."""
    batch = tuple(full_domain[:len(full_domain) - ndim])
    leads = {name: arr.shape[:max(0, arr.ndim - ndim)] for name, arr in fields.items()}
    if not explicit:
        try:
            batch = tuple(np.broadcast_shapes(batch, *leads.values()))
        except ValueError:
            shapes = ", ".join(f"'{n}' {lead}" for n, lead in leads.items())
            raise StencilCallError(f"the fields' leading (batch) axes do not broadcast together: "
                                   f"{shapes}; give them NumPy-compatible shapes") from None
    for name, lead in leads.items():
        try:
            if np.broadcast_shapes(lead, batch) != batch:
                raise ValueError
        except ValueError:
            raise StencilCallError(
                f"argument '{name}' has leading (batch) axes {lead} that do not broadcast to "
                f"the domain's {batch}") from None
    return batch


def _regions(plan: Plan, fields, broadcast, domain, modes, dims, output=None) -> tuple:
    """Per axis, ``[lo, hi)`` where output ``output`` (None: every output) is computed."""
    regions = []
    for d, mode in enumerate(modes):
        if mode in PAD_MODES:
            if domain[d] == 0 and any(e[d] != (0, 0) for _, e in plan.field_extents):
                raise StencilCallError(f"axis '{dims[d]}' has length 0: boundary mode '{mode}' "
                                       "cannot extend an empty axis")
            if mode == "extrapolate":
                _check_extrapolate(plan, fields, broadcast, d, dims)
            regions.append((0, domain[d]))
            continue
        lens = {n: a.shape[a.ndim - len(dims) + d] for n, a in fields.items()
                if not broadcast[n][d]}
        lo, hi = plan.output_region(d, domain[d], lens, output, mode)
        halo = _halo(plan.footprints(output), d)
        if hi <= lo and domain[d] > 0:
            what = "stencil's halo" if output is None or plan.uniform \
                else f"halo of output {output}"
            raise StencilCallError(
                f"the arrays are too small along '{dims[d]}' ({domain[d]} points) for the "
                f"{what} {halo} with boundary '{mode}': it needs at least "
                f"{halo[0] + halo[1] + 1}; pass larger arrays or a padding mode such as "
                "boundary='edge'")
        regions.append((lo, hi))
    return tuple(regions)


def _check_extrapolate(plan: Plan, fields, broadcast, d: int, dims) -> None:
    """Boundary "extrapolate" along axis d: every field read beyond its ends there has the
    three points its parabola needs, and is not bool."""
    from stencilpy.extrapolation import MIN_POINTS
    for name, ext in plan.field_extents:
        if name not in fields or broadcast[name][d] or ext[d] == (0, 0):
            continue
        a = fields[name]
        if a.dtype.kind == "b":
            raise StencilCallError(
                f"boundary 'extrapolate' along '{dims[d]}' cannot extrapolate the bool field "
                f"'{name}'; convert it to a number type or use another mode there")
        length = a.shape[a.ndim - len(dims) + d]
        if length < MIN_POINTS:
            raise StencilCallError(
                f"boundary 'extrapolate' along '{dims[d]}' needs at least {MIN_POINTS} points "
                f"of field '{name}' there (it has {length}); pass a larger array or use another "
                "mode such as 'edge' along that axis")


def _halo(footprints, d: int) -> tuple[int, int]:
    lo = max([0] + [e[d][0] for _, e in footprints])
    return lo, max([0] + [e[d][1] for _, e in footprints])


def _fill_value(options_fill, out_dtypes, modes, out_regions, domain):
    needs_fill = any(m == "fill" and (lo, hi) != (0, n) for regions in out_regions
                     for m, (lo, hi), n in zip(modes, regions, domain))
    if options_fill is not None:
        if not is_scalar(options_fill):
            raise StencilCallError(f"fill_value={options_fill!r}: pass a number")
        value = as_scalar("fill_value", options_fill)
        if needs_fill:
            check_fill_fits(value, {f"output {k}": dt for k, dt in enumerate(out_dtypes)})
        return value
    if any(dt.kind != "f" for dt in out_dtypes) and needs_fill:
        raise StencilCallError(
            "the stencil has an integer (or bool) output and boundary 'fill' leaves edge points "
            "undefined: pass fill_value=<number>, or boundary='valid' or a padding mode")
    return float("nan")


def check_fill_fits(value, dtypes: dict) -> None:
    """An integer array (``dtypes``: what -> dtype) can hold ``value`` exactly (NaN, inf,
    1.5 or -1 for uint8 cannot be written into one)."""
    for what, dt in dtypes.items():
        if dt.kind not in "biu":
            continue
        lo, hi = (0, 1) if dt.kind == "b" else (np.iinfo(dt).min, np.iinfo(dt).max)
        whole = isinstance(value, (bool, int)) or (np.isfinite(value) and float(value).is_integer())
        if not whole or not lo <= int(value) <= hi:
            raise StencilCallError(
                f"fill_value={value!r} cannot be stored in {what} of dtype {dt}; pass a whole "
                f"number in [{lo}, {hi}]")


def bind(stencil: N.Stencil, plan: Plan, fields: dict, scalars: dict, modes, fill_value,
         threads: int, check: bool, domain=None, out=None, infer_types=infer) -> BoundCall:
    """Validate a call and compute its shapes, regions and output dtypes."""
    dims = stencil.dims
    full = _domain_shape(fields, domain, out, len(dims))
    dom = full[len(full) - len(dims):]
    broadcast = {n: _broadcast_flags(n, a, dom, dims) for n, a in fields.items()}
    batch = _batch_shape(fields, full, len(dims), explicit=domain is not None or not fields)
    env = {n: a.dtype for n, a in fields.items()}
    env.update({n: type(v) for n, v in scalars.items()})
    temp_types, out_dtypes = infer_types(stencil, env)
    if any(a.dtype.kind in "iu" for a in fields.values()):
        check_int_ranges(stencil, temp_types, scalars)
    outs = tuple(_regions(plan, fields, broadcast, dom, modes, dims, k if plan.output_extents
                          else None) for k in range(len(out_dtypes)))
    regions = outs[0] if len(set(outs)) == 1 else tuple(
        (lo, max(lo, min(r[d][1] for r in outs)))
        for d, lo in enumerate(max(r[d][0] for r in outs) for d in range(len(dims))))
    fill = _fill_value(fill_value, out_dtypes, modes, outs, dom)
    if "constant" in modes:
        if fill_value is None and any(a.dtype.kind != "f" for a in fields.values()):
            raise StencilCallError("boundary 'constant' with integer or bool fields needs an "
                                   "explicit fill_value=<number> (the default NaN is not an "
                                   "integer)")
        check_fill_fits(fill, {f"field '{n}'": a.dtype for n, a in fields.items()})
    opts = CallOptions(modes, fill, threads, check)
    return BoundCall(stencil, plan, fields, broadcast, scalars, batch, dom, regions, opts,
                     out_dtypes, temp_types, outs)


def check_out(out, call: BoundCall) -> tuple[np.ndarray, ...]:
    """Validate ``out=`` against the call's output shape and dtypes."""
    n = len(call.out_dtypes)
    outs = out if isinstance(out, tuple) else (out,)
    if len(outs) != n:
        raise StencilCallError(f"out= has {len(outs)} arrays but the stencil returns {n}")
    for k, (arr, dt, shape) in enumerate(zip(outs, call.out_dtypes, call.out_shapes)):
        what = "out" if n == 1 else f"out[{k}]"
        if not isinstance(arr, np.ndarray):
            raise StencilCallError(f"{what} is a {type(arr).__name__}; pass a numpy array")
        if arr.shape != shape:
            raise StencilCallError(f"{what} has shape {arr.shape}; this call's output has "
                                   f"shape {shape}")
        if not arr.flags.writeable:
            raise StencilCallError(f"{what} is read-only; pass a writeable array")
        if not np.can_cast(dt, arr.dtype, "same_kind") or arr.dtype == np.float16 \
                or arr.dtype.kind not in "biuf":
            raise StencilCallError(f"{what} has dtype {arr.dtype} but the result is {dt}; "
                                   f"pass an array of dtype {dt}")
        check_dtype(what, arr.dtype)
    if call.needs_fill:   # before anything is written: the fill value must fit every out=
        check_fill_fits(call.options.fill_value,
                        {("out" if n == 1 else f"out[{k}]"): a.dtype for k, a in enumerate(outs)})
    return outs


# -- the arguments of a call, by parameter ------------------------------------------------------

def bind_arguments(stencil: N.Stencil, args, kwargs) -> dict:
    """Positional and keyword arguments -> ``{parameter: value}`` in parameter order (the
    domain is the first field)."""
    names = stencil.param_names
    signature = "(" + ", ".join(names) + ")"
    if len(args) > len(names):
        raise StencilCallError(f"'{stencil.name}' takes {len(names)} arguments {signature} "
                               f"but {len(args)} were given")
    values = dict(zip(names, args))
    for key, value in kwargs.items():
        if key not in names:
            match = close_match(key, (*names, *RESERVED))
            raise StencilCallError(
                f"'{stencil.name}' got an unknown keyword argument '{key}'"
                + (f" (did you mean '{match}'?)" if match else "")
                + f"; its parameters are {signature} and the call options are "
                f"{', '.join(RESERVED)}")
        if key in values:
            raise StencilCallError(f"'{stencil.name}' got two values for argument '{key}'")
        values[key] = value
    missing = [n for n in names if n not in values]
    if missing:
        raise StencilCallError(f"'{stencil.name}' is missing argument(s) "
                               f"{', '.join(repr(m) for m in missing)}")
    return {n: values[n] for n in names}


def split_arguments(stencil: N.Stencil, values: dict) -> tuple[dict, dict]:
    """``values`` -> (fields: validated arrays, scalars: Python numbers)."""
    fields, scalars = {}, {}
    subscripted = {p.name for p in stencil.params if p.subscripted}
    for name, value in values.items():
        if is_scalar(value) and not isinstance(value, np.ndarray):
            if name in subscripted:
                raise StencilCallError(
                    f"argument '{name}' is read at offsets in '{stencil.name}', so it must be "
                    f"an array, not the number {value!r}")
            scalars[name] = as_scalar(name, value)
        elif isinstance(value, np.ndarray) and value.ndim == 0:
            if name in subscripted:
                raise StencilCallError(f"argument '{name}' is a 0-d array; pass an array "
                                       f"with at least {stencil.ndim} dimension(s)")
            scalars[name] = as_scalar(name, value)
        else:
            fields[name] = as_field(name, value, stencil.ndim)
    return fields, scalars
