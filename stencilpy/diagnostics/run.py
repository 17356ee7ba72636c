"""DataArrays in, stencil calls on their arrays, labelled DataArrays out.

    DataArrays -> (lat, lon) dims (grid.find_dims) and the grid's coefficients (cached)
               -> arrays in the order (other dims..., lat, lon) (views; dask stays lazy)
               -> the stencil, boundary {"lat": "extrapolate", "lon": "wrap" | "extrapolate"}
               -> DataArrays with the input's dims (its order), coords, name and attrs
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stencilpy.adapters.dask import is_dask
from stencilpy.errors import StencilCallError
from stencilpy.diagnostics.grid import find_dims, grid_of

#: points of the gradient a Laplacian keeps at a time (two float64 planes of 721 x 1440
#: are 17 MB; 2**23 points: 8 such levels, 128 MiB of temporaries)
LAPLACIAN_BLOCK_POINTS = 2 ** 23


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
                    dim in x.coords and not np.array_equal(x[dim].values, first[dim].values)):
                raise StencilCallError(f"the inputs have different '{dim}' coordinates; "
                                       "interpolate them to one grid first")
    for dim in (lat, lon):
        if dim not in first.coords:
            raise StencilCallError(f"dimension '{dim}' has no coordinate values (degrees)")
    return lat, lon


def run(kernel, inputs: list, outputs: tuple, *, radius: float, periodic=None,
        per_lat=None):
    """Call ``kernel`` (or the pair (gradient, divergence) of a Laplacian) on the inputs."""
    import xarray as xr
    if not (isinstance(radius, (int, float)) and np.isfinite(radius) and radius > 0):
        raise StencilCallError(f"radius={radius!r}: pass the sphere's radius in metres (> 0)")
    lat, lon = _check_inputs(inputs)
    first = inputs[0]
    grid = grid_of(first[lat].values, first[lon].values, radius, periodic)
    order = tuple(d for d in first.dims if d not in (lat, lon)) + (lat, lon)
    arrays = [(x if x.dims == order else x.transpose(*order)).data for x in inputs]
    dtype = np.result_type(*[a.dtype for a in arrays])
    dtype = dtype if dtype.kind == "f" else np.dtype(np.float64)
    coefficients = grid.fields(dtype)
    for name, make in (per_lat or {}).items():
        coefficients[name] = np.asarray(make(grid), dtype=dtype)[:, None]
    if isinstance(kernel, tuple):
        results = _nested(kernel, arrays, coefficients, grid.boundary)
    else:
        results = kernel(*arrays, **coefficients, boundary=grid.boundary)
        results = results if isinstance(results, tuple) else (results,)
    coords = first.coords if first.dims == order else \
        {k: c for k, c in first.coords.items() if set(c.dims) <= set(order)}
    labelled = tuple(_labelled(xr, r, order, coords, o, first.dims)
                     for r, o in zip(results, outputs))
    return labelled[0] if len(labelled) == 1 else labelled


def _labelled(xr, data, order, coords, output: Output, dims):
    da = xr.DataArray(data, dims=order, coords=coords, name=output.name, attrs=output.attrs())
    return da if order == tuple(dims) else da.transpose(*dims)


def _nested(kernels, arrays, coefficients: dict, boundary: dict) -> tuple:
    """A Laplacian: ``(first, divergence)``; ``first`` returns the gradient (gx, gy) last,
    after any other outputs (the advection of ``advection_gradient``).  The gradient is
    held for a block of levels at a time (numpy), or per chunk (dask)."""
    first, divergence = kernels
    if any(is_dask(a) for a in arrays):
        *other, gx, gy = first(*arrays, **coefficients, boundary=boundary)
        return (*other, divergence(gx, gy, **coefficients, boundary=boundary))
    shape = np.broadcast_shapes(*(a.shape for a in arrays))
    plane = shape[-2] * shape[-1]
    flat = [np.broadcast_to(a, shape).reshape((-1,) + shape[-2:]) for a in arrays]
    dtype = np.result_type(*(a.dtype for a in arrays), coefficients["xm"].dtype)
    n_other = first.n_outputs - 2
    outs = [np.empty(flat[0].shape, dtype=dtype) for _ in range(n_other + 1)]
    step = max(1, LAPLACIAN_BLOCK_POINTS // max(plane, 1))
    for start in range(0, flat[0].shape[0], step):
        block = slice(start, start + step)
        results = first(*(f[block] for f in flat), **coefficients, boundary=boundary)
        *other, gx, gy = results
        for o, r in zip(outs, other):
            o[block] = r
        divergence(gx, gy, **coefficients, boundary=boundary, out=outs[-1][block])
        del gx, gy, results, other
    return tuple(o.reshape(shape) for o in outs)
