"""Atmospheric diagnostics on latitude/longitude grids, equal to MetPy's (API section 9).

>>> import numpy as np, xarray as xr
>>> from stencilpy import diagnostics as spd
>>> lat, lon = np.arange(30.0, 61.0, 5.0), np.arange(0.0, 40.0, 5.0)
>>> u = xr.DataArray(np.ones((7, 8)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon},
...                  attrs={"units": "m s-1"})
>>> zeta = spd.vorticity(u, 0 * u)
>>> zeta.attrs["units"], zeta.name, zeta.dims
('s-1', 'vorticity', ('lat', 'lon'))

Every function takes DataArrays with latitude and longitude dimension coordinates in degrees
(found by name, ``lat``/``latitude``/``lon``/``longitude``, or by CF attributes), latitude
ascending or descending, any other dims looped over, numpy- or dask-backed (dask: the
result is lazy), and ``radius=`` (metres).  Results keep the input's dims and coords and
carry ``units``, ``long_name`` and a name.  The numerics are MetPy's (``grid.py``); the
computation is the stencils of ``kernels.py``.  Global grids (uniform longitudes covering
360 degrees) are periodic in longitude; see ``docs/diagnostics.md`` for the poles.
"""

from __future__ import annotations

import numpy as np

from stencilpy.diagnostics import kernels as K
from stencilpy.diagnostics.grid import (
    EARTH_RADIUS, GRAVITY, LatLonGrid, derivative_weights, find_dims, grid_of)
from stencilpy.diagnostics.run import Output, run

__all__ = ["gradient", "vorticity", "absolute_vorticity", "divergence", "vorticity_divergence",
           "advection", "laplacian", "advection_laplacian", "shearing_deformation",
           "stretching_deformation",
           "total_deformation", "frontogenesis", "geostrophic_wind", "LatLonGrid", "grid_of",
           "derivative_weights", "find_dims", "EARTH_RADIUS"]


def _units(da, suffix: str) -> str:
    base = str(da.attrs.get("units", "")).strip()
    return f"{base} {suffix}".strip() if base not in ("", "1") else suffix


def _label(da, fallback: str) -> str:
    return str(da.name) if da.name is not None else fallback


def gradient(f, *, radius: float = EARTH_RADIUS, periodic=None):
    """``(df/dx, df/dy)``: eastward and northward derivatives (MetPy ``geospatial_gradient``)."""
    name, long = _label(f, "f"), f.attrs.get("long_name", _label(f, "f"))
    outs = (Output(f"{name}_ddx", _units(f, "m-1"), f"eastward derivative of {long}"),
            Output(f"{name}_ddy", _units(f, "m-1"), f"northward derivative of {long}"))
    return run(K.gradient, [f], outs, radius=radius, periodic=periodic)


_VORTICITY = Output("vorticity", "s-1", "atmosphere relative vorticity",
                    "atmosphere_relative_vorticity")
_DIVERGENCE = Output("divergence", "s-1", "divergence of wind", "divergence_of_wind")


def vorticity(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """Relative vorticity ``dv/dx - du/dy`` (MetPy ``vorticity``)."""
    return run(K.vorticity, [u, v], (_VORTICITY,), radius=radius, periodic=periodic)


def absolute_vorticity(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """Relative vorticity plus the Coriolis parameter ``2 Omega sin(lat)``."""
    out = Output("absolute_vorticity", "s-1", "atmosphere absolute vorticity",
                 "atmosphere_absolute_vorticity")
    return run(K.absolute_vorticity, [u, v], (out,), radius=radius, periodic=periodic,
               per_lat={"coriolis": lambda g: g.coriolis})


def divergence(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """Horizontal divergence ``du/dx + dv/dy`` (MetPy ``divergence``)."""
    return run(K.divergence, [u, v], (_DIVERGENCE,), radius=radius, periodic=periodic)


def vorticity_divergence(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``(vorticity, divergence)`` from one pass over the wind (faster than two calls)."""
    return run(K.vorticity_divergence, [u, v], (_VORTICITY, _DIVERGENCE), radius=radius,
               periodic=periodic)


def shearing_deformation(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``dv/dx + du/dy`` (MetPy ``shearing_deformation``)."""
    out = Output("shearing_deformation", "s-1", "shearing deformation")
    return run(K.shearing_deformation, [u, v], (out,), radius=radius, periodic=periodic)


def stretching_deformation(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``du/dx - dv/dy`` (MetPy ``stretching_deformation``)."""
    out = Output("stretching_deformation", "s-1", "stretching deformation")
    return run(K.stretching_deformation, [u, v], (out,), radius=radius, periodic=periodic)


def total_deformation(u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``sqrt(shearing**2 + stretching**2)`` (MetPy ``total_deformation``)."""
    out = Output("total_deformation", "s-1", "total deformation")
    return run(K.total_deformation, [u, v], (out,), radius=radius, periodic=periodic)


def advection(s, u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``-(u ds/dx + v ds/dy)``: the horizontal advection of ``s`` (MetPy ``advection``)."""
    name, long = _label(s, "scalar"), s.attrs.get("long_name", _label(s, "scalar"))
    out = Output(f"{name}_advection", _units(s, "s-1"), f"horizontal advection of {long}")
    return run(K.advection, [s, u, v], (out,), radius=radius, periodic=periodic)


def laplacian(f, *, radius: float = EARTH_RADIUS, periodic=None):
    """The divergence of the gradient, as MetPy's ``geospatial_laplacian`` nests them (its
    one-sided edges applied to the gradient too), computed in one pass: the nested
    derivatives are one 7-point formula per axis with per-row weights (``grid.py``)."""
    name, long = _label(f, "f"), f.attrs.get("long_name", _label(f, "f"))
    out = Output(f"{name}_laplacian", _units(f, "m-2"), f"horizontal Laplacian of {long}")
    return run((K.laplacian, K.laplacian_periodic), [f], (out,), radius=radius,
               periodic=periodic)


def advection_laplacian(s, u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """``(advection(s, u, v), laplacian(s))`` in one pass over (s, u, v)."""
    name, long = _label(s, "scalar"), s.attrs.get("long_name", _label(s, "scalar"))
    outs = (Output(f"{name}_advection", _units(s, "s-1"), f"horizontal advection of {long}"),
            Output(f"{name}_laplacian", _units(s, "m-2"), f"horizontal Laplacian of {long}"))
    return run((K.advection_laplacian, K.advection_laplacian_periodic), [s, u, v], outs,
               radius=radius, periodic=periodic)


def frontogenesis(theta, u, v, *, radius: float = EARTH_RADIUS, periodic=None):
    """2-D Petterssen frontogenesis of potential temperature (MetPy ``frontogenesis``)."""
    out = Output("frontogenesis", _units(theta, "m-1 s-1"), "2-D frontogenesis function")
    return run(K.frontogenesis, [theta, u, v], (out,), radius=radius, periodic=periodic)


_GEOPOTENTIAL_UNITS = {"m2s-2", "m2/s2", "m**2/s**2", "m**2s**-2", "jkg-1", "j/kg", "m^2/s^2",
                       "m^2s^-2", "meter**2/second**2", "m2.s-2"}


def geostrophic_wind(height, *, radius: float = EARTH_RADIUS, periodic=None, geopotential=None):
    """``(u_g, v_g)`` from geopotential (units m2 s-2: ``1/f``) or geopotential height
    (``g/f``), as MetPy's ``geostrophic_wind``; ``geopotential=`` overrides the units test.
    Infinite on the equator (f = 0), as MetPy's."""
    if geopotential is None:
        unit = str(height.attrs.get("units", "")).lower().replace(" ", "")
        geopotential = unit in _GEOPOTENTIAL_UNITS
    scale = 1.0 if geopotential else GRAVITY
    outs = (Output("u_geostrophic", "m s-1", "geostrophic eastward wind",
                   "geostrophic_eastward_wind"),
            Output("v_geostrophic", "m s-1", "geostrophic northward wind",
                   "geostrophic_northward_wind"))
    with np.errstate(divide="ignore"):
        return run(K.geostrophic_wind, [height], outs, radius=radius, periodic=periodic,
                   per_lat={"norm": lambda g: scale / g.coriolis})
