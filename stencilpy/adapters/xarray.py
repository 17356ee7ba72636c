"""xarray: labelled fields in, a labelled result out.

    DataArrays (and numpy/dask arrays, numbers)
      -> the label domain: ``domain=`` if it is a DataArray, else the first DataArray field
      -> stencil dims: matched by name (``dims=`` declared) or the domain's last N dims
      -> every field as an array in the canonical order (batch dims..., stencil dims...),
         missing dims as length-1 axes (views, no copies; dask stays lazy)
      -> Stencil.call_arrays (numpy) | adapters.dask.lazy_call (dask)
      -> DataArray with the domain's dims (in its order), coords (trimmed along "valid"
         axes) and attrs less units/standard_name/long_name (``attrs=`` sets them);
         name: ``names=``, else the stencil's (``<name>_<k>`` for output k of several)

A numpy or dask array among DataArrays is aligned with the domain's dims from the
right, as NumPy broadcasting would.  Coordinates are never aligned silently: two fields
with different index coordinates along a dim of the same length are an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.adapters.dask import is_dask, lazy_call, store
from stencilpy.errors import StencilCallError, api_boundary, close_match


def _is_dataarray(value) -> bool:
    import xarray as xr
    return isinstance(value, xr.DataArray)


def _as_value(name: str, value):
    """Reject xarray objects other than DataArray; 0-d DataArrays become numbers."""
    import xarray as xr
    if isinstance(value, xr.Dataset):
        raise StencilCallError(
            f"argument '{name}' is a Dataset; pass one of its variables (ds['t']), or use "
            "stencilpy.adapters.xarray.apply_to_dataset(stencil, ds, ...)")
    if isinstance(value, xr.Variable):
        raise StencilCallError(f"argument '{name}' is an xarray.Variable; pass a DataArray")
    if isinstance(value, xr.DataArray) and value.ndim == 0:
        return value.values
    return value


@dataclass(frozen=True)
class Labels:
    """How this call's arrays map onto the stencil: the label domain and the dim order."""

    domain: object                # the DataArray whose dims/coords/attrs label the result
    domain_name: str
    stencil_dims: tuple           # data dim name per stencil axis
    batch_dims: tuple             # the domain's other dims, in its order

    @property
    def canonical(self) -> tuple:
        return self.batch_dims + self.stencil_dims

    @property
    def shape(self) -> tuple:
        return tuple(self.domain.sizes[d] for d in self.canonical)

    @classmethod
    def of(cls, stencil, values: dict, domain) -> "Labels":
        if _is_dataarray(domain):
            label, label_name = domain, "domain="
        else:
            name = next((n for n, v in values.items() if _is_dataarray(v) and v.ndim), None)
            if name is None:
                raise StencilCallError("no DataArray field: pass at least one DataArray with "
                                       "dimensions, or domain=<DataArray>")
            label, label_name = values[name], f"argument '{name}'"
        if stencil.dims_argument:
            dims = stencil.dims
            missing = [d for d in dims if d not in label.dims]
            if missing:
                raise StencilCallError(_missing_dims(stencil, label, label_name, missing))
        else:
            if label.ndim < stencil.ndim:
                raise StencilCallError(
                    f"{label_name} has dims {label.dims} but the stencil '{stencil.ir.name}' has "
                    f"{stencil.ndim} axes; pass a DataArray with at least {stencil.ndim} dims")
            dims = tuple(label.dims[label.ndim - stencil.ndim:])
        batch = tuple(d for d in label.dims if d not in dims)
        return cls(label, label_name, tuple(dims), batch)

    def field_dims(self, name: str, value) -> tuple:
        """The dims of a field: its own (DataArray) or the domain's trailing ones (arrays)."""
        if _is_dataarray(value):
            unknown = [d for d in value.dims if d not in self.canonical]
            if unknown:
                raise StencilCallError(
                    f"argument '{name}' has dim(s) {', '.join(repr(u) for u in unknown)} that "
                    f"{self.domain_name} (dims {self.domain.dims}) lacks; the result has the "
                    f"domain's dims: select or reduce them first (e.g. .isel({unknown[0]}=0)), "
                    "rename them to the domain's names, or pass domain=<DataArray>")
            return tuple(value.dims)
        ndim = np.ndim(value)
        if ndim > self.domain.ndim:
            raise StencilCallError(
                f"argument '{name}' is an array with {ndim} dimensions but {self.domain_name} "
                f"has dims {self.domain.dims}; pass a DataArray (dims by name) or an array "
                "aligned with the domain's trailing dims")
        return tuple(self.domain.dims[self.domain.ndim - ndim:])

    def check_lengths(self, name: str, dims: tuple, shape: tuple) -> None:
        for dim, n in zip(dims, shape):
            want = self.domain.sizes[dim]
            if n == want or n == 1 or (dim in self.stencil_dims and n == want + 1):
                continue
            staggered = f", one point more ({want + 1}: staggered, the faces around {want} " \
                "cells)" if dim in self.stencil_dims else ""
            raise StencilCallError(
                f"argument '{name}' has {n} points along '{dim}' but {self.domain_name} has "
                f"{want}; a field has the domain's length ({want}){staggered} or length 1 "
                f"(broadcast): select or interpolate it onto the domain's grid first")

    def canonical_array(self, dims: tuple, data):
        """``data`` (with ``dims``) transposed to the canonical order, missing dims as length 1."""
        present = [d for d in self.canonical if d in dims]
        order = [dims.index(d) for d in present]
        if order != list(range(len(order))):
            data = data.transpose(order)
        index = tuple(slice(None) if d in dims else None for d in self.canonical)
        return data[index] if None in index else data

    def axis_key(self, key):
        """A boundary key: data dim names -> stencil axis numbers."""
        if isinstance(key, str) and key in self.stencil_dims:
            return self.stencil_dims.index(key)
        if isinstance(key, str) and key in self.batch_dims:
            raise StencilCallError(f"boundary names dim '{key}', which is not a stencil axis "
                                   f"(the stencil axes are {self.stencil_dims})")
        return key


def _missing_dims(stencil, label, label_name: str, missing: list) -> str:
    """The error for declared stencil dims that the data lacks: a likely typo on either side
    (a declared dim much like a dim of the data) is named, the declaration first."""
    says = (f"the stencil '{stencil.ir.name}' works on dims {stencil.dims} but {label_name} has "
            f"dims {label.dims} (missing {', '.join(repr(m) for m in missing)})")
    spare = [d for d in label.dims if d not in stencil.dims]
    for m in missing:
        typo = close_match(m, spare)
        if typo:
            code = stencil.pyfunc.__code__
            return (f"{says} — did you mean '{typo}'? If '{m}' is a typo, correct "
                    f"@sp.stencil(dims=...) of '{stencil.ir.name}' (File \"{code.co_filename}\", "
                    f"line {code.co_firstlineno}); if the data's '{typo}' is that axis, rename "
                    f"it: .rename({{'{typo}': '{m}'}})")
    return f"{says}; rename them, e.g. .rename({{'{label.dims[-1]}': '{missing[-1]}'}})"


def _check_staggered_coords(fields: dict, labels: Labels) -> None:
    """A staggered DataArray (N + 1 points along a stencil dim of N cells) holds the cell faces:
    where it and the domain both have an index coordinate on that dim, every cell lies strictly
    between its two faces (``face[i] < cell[i] < face[i + 1]``, or ``>`` on a descending axis)."""
    for name, value in fields.items():
        if not _is_dataarray(value):
            continue
        for dim in labels.stencil_dims:
            n = labels.domain.sizes[dim]
            if value.sizes.get(dim) != n + 1 or dim not in value.indexes \
                    or dim not in labels.domain.indexes:
                continue
            cells = np.asarray(labels.domain.indexes[dim])
            faces = np.asarray(value.indexes[dim])
            if cells.dtype.kind not in "iufmM" or faces.dtype.kind not in "iufmM":
                continue
            between = (np.minimum(faces[:-1], faces[1:]) < cells) \
                & (cells < np.maximum(faces[:-1], faces[1:]))
            if between.all():
                continue
            k = int(np.argmin(between))
            raise StencilCallError(
                f"argument '{name}' has {n + 1} points along '{dim}' (staggered: the faces of the "
                f"{n} cells of {labels.domain_name}) but its '{dim}' coordinate is not those "
                f"faces: cell {k} at {cells[k]!r} does not lie between faces {k} and {k + 1} "
                f"({faces[k]!r}, {faces[k + 1]!r}); interpolate it onto the domain's grid "
                f"(.interp_like()) or, if it does hold the faces, fix or drop the coordinate "
                f"(.drop_vars('{dim}'))")


def _check_coords(fields: dict, labels: Labels) -> None:
    """Equal index coordinates wherever two DataArrays have a dim of the same length."""
    seen: dict = {}
    arrays = [(labels.domain_name, labels.domain)] + \
        [(f"argument '{n}'", v) for n, v in fields.items() if _is_dataarray(v)]
    for what, arr in arrays:
        for dim in arr.dims:
            if dim not in arr.indexes:
                continue
            index = arr.indexes[dim]
            first = seen.setdefault((dim, len(index)), (what, index))
            if first[1] is index or first[1].equals(index):
                continue
            a, b = np.asarray(first[1]), np.asarray(index)
            k = int(np.argmax(a != b)) if a.shape == b.shape else 0
            raise StencilCallError(
                f"{what} and {first[0]} have different '{dim}' coordinates (first difference "
                f"at index {k}: {b[k]!r} vs {a[k]!r}); stencilpy does not align fields: align "
                f"them first (xr.align(..., join='exact'), .interp_like(), .reindex_like()) or "
                f"drop the coordinate (.drop_vars('{dim}'))")


def _canonical_out(out, labels: Labels):
    """``out=`` (DataArray or array, or a tuple) as views in the canonical dim order."""
    outs = out if isinstance(out, tuple) else (out,)
    views = []
    for k, o in enumerate(outs):
        what = "out" if len(outs) == 1 else f"out[{k}]"
        if _is_dataarray(o):
            if set(o.dims) != set(labels.domain.dims) or o.ndim != labels.domain.ndim:
                raise StencilCallError(f"{what} has dims {o.dims}; the result has dims "
                                       f"{labels.domain.dims}")
            dims, data = tuple(o.dims), o.data
        else:
            dims, data = tuple(labels.domain.dims), o
            if np.ndim(o) != len(dims):
                raise StencilCallError(f"{what} has {np.ndim(o)} dimensions; the result has "
                                       f"dims {labels.domain.dims}")
        if is_dask(data) or not isinstance(data, np.ndarray):
            raise StencilCallError(f"{what} must hold a numpy array (a lazy or other array "
                                   "cannot be written into); omit out= for a new result")
        views.append(labels.canonical_array(dims, data))
    return tuple(views) if isinstance(out, tuple) else views[0]


#: attributes that describe the domain field's *quantity*: a stencil's result is another
#: quantity (a gradient of temperature is not in K), so they are not inherited
QUANTITY_ATTRS = ("units", "standard_name", "long_name")


def _per_output(value, n: int, what: str, kind) -> list:
    """``names=``/``attrs=``: one value for a single output, or a tuple/list of ``n``."""
    if value is None:
        return [None] * n
    if isinstance(value, kind) and n == 1:
        return [value]
    if isinstance(value, (tuple, list)) and len(value) == n and \
            all(v is None or isinstance(v, kind) for v in value):
        return list(value)
    one = "a str" if kind is str else "a dict"
    raise StencilCallError(f"{what}={value!r}: the stencil has {n} output(s); pass {one} for "
                           f"one output or a tuple of {n}")


def _wrap(stencil, results: tuple, labels: Labels, call, names=None, attrs=None):
    """Results in canonical order -> DataArrays labelled like the domain.

    Name: ``names=`` else the stencil's (``<name>_<k>`` for output k of several).  Attrs:
    the domain's, less ``QUANTITY_ATTRS``, updated with ``attrs=``."""
    import xarray as xr
    order = [labels.canonical.index(d) for d in labels.domain.dims]
    names = _per_output(names, len(results), "names", str)
    extra = _per_output(attrs, len(results), "attrs", dict)
    inherited = {k: v for k, v in labels.domain.attrs.items() if k not in QUANTITY_ATTRS}
    wrapped = []
    for k, data in enumerate(results):
        trim = {dim: slice(lo, hi) for dim, mode, (lo, hi) in       # each output: its region
                zip(labels.stencil_dims, call.options.modes, call.output_regions[k])
                if mode == "valid"}
        template = labels.domain.isel(trim) if trim else labels.domain
        if order != list(range(len(order))):
            data = data.transpose(order)
        name = names[k] or (stencil.ir.name if len(results) == 1 else f"{stencil.ir.name}_{k}")
        wrapped.append(xr.DataArray(data, coords=template.coords, dims=template.dims,
                                    name=name, attrs={**inherited, **(extra[k] or {})}))
    return wrapped[0] if len(wrapped) == 1 else tuple(wrapped)


def call_xarray(stencil, values: dict, *, boundary=None, fill_value=None, out=None,
                domain=None, threads=None, check=False, names=None, attrs=None):
    """``Stencil.__call__`` when an argument is an xarray object: a DataArray result
    (lazy when any field is dask-backed); with ``out=`` the result is written there.
    ``names=``/``attrs=``: the result's name(s) and attributes (see ``_wrap``)."""
    if out is not None and (names is not None or attrs is not None):
        raise StencilCallError("names=/attrs= label a new result; with out= the result is "
                               "written into out (set its name and attrs there)")
    values = {n: _as_value(n, v) for n, v in values.items()}
    labels = Labels.of(stencil, values, domain)
    if domain is not None and not _is_dataarray(domain) and \
            tuple(np.shape(domain) if hasattr(domain, "shape") else domain) != \
            tuple(labels.domain.shape):
        raise StencilCallError("with DataArray arguments pass domain= as a DataArray template "
                               "(its dims and coords label the result)")
    subscripted = {p.name for p in stencil.ir.params if p.subscripted}
    fields, arrays = {}, {}
    for name, value in values.items():
        if np.ndim(value) == 0 and name not in subscripted:
            arrays[name] = value
            continue
        dims = labels.field_dims(name, value)
        data = value.data if _is_dataarray(value) else value
        if not _is_dataarray(value) and not is_dask(data):
            data = np.asarray(data)
        labels.check_lengths(name, dims, np.shape(data))
        fields[name] = value
        arrays[name] = labels.canonical_array(dims, data)
    _check_coords(fields, labels)
    _check_staggered_coords(fields, labels)
    if isinstance(boundary, dict):
        boundary = {labels.axis_key(k): v for k, v in boundary.items()}
    options = dict(boundary=boundary, fill_value=fill_value, domain=labels.shape,
                   threads=threads, check=check)
    if any(is_dask(a) for a in arrays.values()):
        results, call = lazy_call(stencil, arrays, **options)
        if out is not None:
            store(results, _canonical_out(out, labels), call)
            return out
        return _wrap(stencil, results, labels, call, names, attrs)
    call = stencil.bind(arrays, boundary, fill_value, labels.shape, threads, check)
    target = _canonical_out(out, labels) if out is not None else None
    results = stencil.call_arrays(arrays, out=target, **options)
    if out is not None:
        return out
    return _wrap(stencil, results if isinstance(results, tuple) else (results,), labels, call,
                 names, attrs)


@api_boundary
def apply_to_dataset(stencil, ds, variables=None, *, field=None, **arguments):
    """Apply ``stencil`` to data variables of the Dataset ``ds``; returns a new Dataset.

    The stencil's first parameter (or the one named by ``field=``) takes each variable
    in turn.  ``arguments`` holds the other parameters -- numbers, arrays, DataArrays or
    the *name* of a variable of ``ds`` -- and the call options (``boundary=`` ...).
    ``variables`` defaults to every numeric data variable that has the stencil's dims
    (the last ``ndim`` dims when ``dims=`` is not declared) and is not used as an
    argument.  Results keep each variable's name (for several outputs:
    ``<variable>_<k>``) and, as any stencil's DataArray result, its attrs less ``units``,
    ``standard_name`` and ``long_name`` (``attrs=`` sets them); the Dataset keeps its
    attrs; lazy in, lazy out.

    >>> import numpy as np, xarray as xr, stencilpy as sp
    >>> @sp.stencil(dims=("x",))
    ... def smooth(u, w):
    ...     return w * u[x - 1] + (1 - 2 * w) * u + w * u[x + 1]
    >>> ds = xr.Dataset({"a": ("x", np.arange(4.0)), "b": ("x", np.ones(4))})
    >>> apply_to_dataset(smooth, ds, w=0.25, boundary="periodic")["a"].values
    array([1., 1., 2., 2.])
    """
    import xarray as xr
    from stencilpy.options import RESERVED
    params = stencil.ir.param_names
    field = params[0] if field is None else field
    if field not in params:
        raise StencilCallError(f"field={field!r} is not a parameter of '{stencil.ir.name}' "
                               f"{stencil.signature}")
    options = {k: arguments.pop(k) for k in list(arguments) if k in RESERVED}
    if "out" in options:
        raise StencilCallError("apply_to_dataset does not take out=; assign the results instead")
    used = {v for v in arguments.values() if isinstance(v, str)}
    for name, value in list(arguments.items()):
        if isinstance(value, str):
            if value not in ds.variables:
                raise StencilCallError(f"argument {name}={value!r} names no variable of the "
                                       f"Dataset (its variables: {list(ds.data_vars)})")
            arguments[name] = ds[value]
    if variables is None:
        variables = [v for v in ds.data_vars if v not in used and _applicable(stencil, ds[v])]
    elif isinstance(variables, str):
        variables = [variables]
    results = {}
    for var in variables:
        if var not in ds.data_vars:
            raise StencilCallError(f"variables= names {var!r}, which is not a data variable of "
                                   f"the Dataset (its data variables: {list(ds.data_vars)})")
        result = stencil(**{field: ds[var]}, **arguments, **options)
        outputs = result if isinstance(result, tuple) else (result,)
        for k, r in enumerate(outputs):
            key = var if len(outputs) == 1 else f"{var}_{k}"
            results[key] = r.rename(key)        # attrs: the plain stencil's policy (_wrap)
    return xr.Dataset(results, attrs=dict(ds.attrs))


def _applicable(stencil, arr) -> bool:
    if arr.dtype.kind not in "biuf" or arr.dtype == np.float16:
        return False
    if stencil.dims_argument:
        return all(d in arr.dims for d in stencil.dims)
    return arr.ndim >= stencil.ndim
