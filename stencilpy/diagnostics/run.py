"""DataArrays in, stencil calls on their arrays, labelled DataArrays out.

    DataArrays -> (lat, lon) dims (grid.find_dims) and the grid's coefficients (cached)
               -> arrays in the order (other dims..., lat, lon) (views; dask stays lazy)
               -> the stencil (the periodic variant on a global grid), the coefficients it
                  takes, boundary {"lat": "extrapolate", "lon": "wrap" | "extrapolate"}:
                  one kernel call over every level and time (the batch axes)
               -> DataArrays with the input's dims (its order), coords, name and attrs
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.errors import StencilCallError
from stencilpy.diagnostics.grid import find_dims, grid_of

@dataclass(frozen=True)
class Output:
    """Name and attributes of one result."""

    name: str
    units: str
    long_name: str
    standard_name: str | None = None

    def attrs(self) -> dict:
        attrs = {"units": self.units, "long_name": self.long_name}
        if self.standard_name:
            attrs["standard_name"] = self.standard_name
        return attrs


def coordinate(da, dim) -> np.ndarray:
    """The values of a dimension coordinate (through its index: no DataArray is built)."""
    index = da.indexes.get(dim)
    return np.asarray(index) if index is not None else da.coords[dim].values


def _check_inputs(inputs: list):
    import xarray as xr
    for k, x in enumerate(inputs):
        if not isinstance(x, xr.DataArray):
            raise StencilCallError(
                f"argument {k + 1} is a {type(x).__name__}; stencilpy.diagnostics takes "
                "DataArrays with latitude and longitude coordinates")
    first = inputs[0]
    lat, lon = find_dims(first)
    for x in inputs[1:]:
        if set(x.dims) != set(first.dims):
            raise StencilCallError(
                f"the inputs have different dims: {tuple(first.dims)} and {tuple(x.dims)}; "
                "give them the same dims (e.g. with xarray.broadcast)")
        for dim in (lat, lon):
            if x.sizes[dim] != first.sizes[dim] or (
                    dim in x.coords and not np.array_equal(coordinate(x, dim),
                                                           coordinate(first, dim))):
                raise StencilCallError(f"the inputs have different '{dim}' coordinates; "
                                       "interpolate them to one grid first")
    for dim in (lat, lon):
        if dim not in first.coords:
            raise StencilCallError(f"dimension '{dim}' has no coordinate values (degrees)")
    return lat, lon


def run(kernel, inputs: list, outputs: tuple, *, radius: float, periodic=None,
        per_lat=None):
    """Call ``kernel`` (or, for a pair ``(regional, periodic)``, the one for the grid) on
    the inputs."""
    if not (isinstance(radius, (int, float)) and np.isfinite(radius) and radius > 0):
        raise StencilCallError(f"radius={radius!r}: pass the sphere's radius in metres (> 0)")
    lat, lon = _check_inputs(inputs)
    first = inputs[0]
    grid = grid_of(coordinate(first, lat), coordinate(first, lon), radius, periodic)
    if isinstance(kernel, tuple):
        kernel = kernel[1] if grid.periodic else kernel[0]
    order = tuple(d for d in first.dims if d not in (lat, lon)) + (lat, lon)
    arrays = [(x if x.dims == order else x.transpose(*order)).data for x in inputs]
    dtype = np.result_type(*[a.dtype for a in arrays])
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    coefficients = grid.fields(dtype)
    for name, make in (per_lat or {}).items():
        coefficients[name] = np.asarray(make(grid), dtype=dtype)[:, None]
    wanted = kernel.ir.param_names[len(arrays):]
    results = kernel(*arrays, **{k: coefficients[k] for k in wanted}, boundary=grid.boundary)
    results = results if isinstance(results, tuple) else (results,)
    template = first if first.dims == order else first.transpose(*order)
    labelled = tuple(_labelled(template, r, o, first.dims) for r, o in zip(results, outputs))
    return labelled[0] if len(labelled) == 1 else labelled


def _labelled(template, data, output: Output, dims):
    """``data`` with the template's dims and coords (shared, not copied), the output's
    name and attributes and no encoding (an input read from netCDF may carry packing,
    ``scale_factor``, that would be wrong for the result), in the input's dim order."""
    da = template.copy(deep=False, data=data)
    da.name, da.attrs, da.encoding = output.name, output.attrs(), {}   # not the input's packing
    return da if da.dims == tuple(dims) else da.transpose(*dims)
