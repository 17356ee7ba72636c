"""Synthetic wind and temperature on lat/lon grids, and MetPy's answers for them."""

from __future__ import annotations

import numpy as np

R = 6371229.0


def fields(lat, lon, nlev: int = 2, seed: int = 0, dims=("level", "lat", "lon"), dtype=np.float64):
    """(u, v, t, z) DataArrays: smooth waves plus noise (so edges and interiors differ)."""
    import xarray as xr
    rng = np.random.default_rng(seed)
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    base = np.sin(3 * lo) * np.cos(2 * la) + 0.3 * np.cos(5 * la + lo)
    shape = (nlev, lat.size, lon.size)
    coords = {"level": np.arange(nlev) * 100.0 + 500.0, "lat": lat, "lon": lon}

    def make(scale, offset, units, name):
        data = offset + scale * (base + 0.1 * rng.standard_normal(shape))
        da = xr.DataArray(data.astype(dtype), dims=("level", "lat", "lon"), coords=coords,
                          name=name, attrs={"units": units, "standard_name": name})
        return da.transpose(*dims)

    return (make(20.0, 5.0, "m/s", "u"), make(10.0, -2.0, "m/s", "v"),
            make(5.0, 280.0, "K", "t"), make(300.0, 5500.0, "m", "z"))


def metpy_ready(da, radius=R):
    return da.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=radius)


def values(x) -> np.ndarray:
    x = getattr(x, "data", x)
    return np.asarray(getattr(x, "magnitude", x))


def metpy_grid(lat, lon, radius=R):
    """What MetPy derives from a DataArray with a ``latitude_longitude`` CRS -- its nominal
    spacings (geodesic ``dy``) and PROJ's map factors -- computed once per grid: building
    the CRS costs ~1 s of PROJ database work per MetPy call otherwise."""
    import xarray as xr
    from metpy.calc.tools import nominal_lat_lon_grid_deltas
    from metpy.units import units
    from pyproj import Proj
    probe = metpy_ready(xr.DataArray(np.zeros((len(lat), len(lon))), dims=("lat", "lon"),
                                     coords={"lat": lat, "lon": lon}), radius)
    crs = probe.metpy.pyproj_crs
    dx, dy = nominal_lat_lon_grid_deltas(units.Quantity(np.asarray(lon), "degree"),
                                         units.Quantity(np.asarray(lat), "degree"),
                                         geod=crs.get_geod())
    lon2, lat2 = np.meshgrid(lon, lat)
    factors = Proj(crs).get_factors(lon2, lat2)
    return {"dx": dx, "dy": dy, "parallel_scale": factors.parallel_scale,
            "meridional_scale": factors.meridional_scale, "x_dim": -1, "y_dim": -2}
