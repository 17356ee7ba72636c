"""Adapters for labelled and chunked data (xarray, dask); imported lazily."""

from __future__ import annotations


def _kind(value) -> str | None:
    module = type(value).__module__ or ""
    if module.startswith("xarray"):
        return "xarray"
    if module.startswith("dask"):
        return "dask"
    return None


def dispatch(values, out=None):
    """The adapter call function for these argument values (and ``out=``), or None for numpy."""
    outs = out if isinstance(out, tuple) else (out,)
    kinds = {_kind(v) for v in (*values, *outs)} - {None}
    if not kinds:
        return None
    if "xarray" in kinds:
        from stencilpy.adapters.xarray import call_xarray
        return call_xarray
    from stencilpy.adapters.dask import call_dask
    return call_dask
