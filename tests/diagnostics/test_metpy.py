"""stencilpy.diagnostics against MetPy itself, at every point (edges included), to 1e-10
of the result's maximum: several regional grids, latitude ascending and descending,
non-uniform spacings, dims in any order, radius=."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest

from stencilpy import diagnostics as spd

from ._data import R, fields, metpy_grid, metpy_ready, values

mpcalc = pytest.importorskip("metpy.calc")
units = pytest.importorskip("metpy.units").units

GRIDS = {
    "ascending": (np.arange(20.0, 60.1, 2.5), np.arange(-30.0, 10.1, 2.0)),
    "descending": (np.arange(60.0, 19.9, -1.5), np.arange(100.0, 140.0, 0.7)),
    "non-uniform": (np.array([10.0, 12.0, 15.0, 19.0, 24.0, 30.0, 33.0]),
                    np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 22.0])),
    "southern, 3 x 3": (np.array([-40.0, -45.0, -52.0]), np.array([170.0, 171.0, 173.0])),
}


def _metpy(name, u, v, t, z, radius=R):
    """MetPy's answer, given the grid arguments MetPy derives from the DataArrays itself
    (``metpy_grid``; ``test_metpy_from_dataarrays`` checks that path end to end)."""
    lat, lon = u["lat"].values, u["lon"].values
    g = _grid(lat.tobytes(), lon.tobytes(), radius)
    q = {k: units.Quantity(x.transpose(..., "lat", "lon").values, x.attrs["units"])
         for k, x in (("u", u), ("v", v), ("t", t), ("z", z))}
    U, V, T, Z = q["u"], q["v"], q["t"], q["z"]
    latq = units.Quantity(lat[:, None], "degree")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            "vorticity": lambda: mpcalc.vorticity(U, V, **g),
            "absolute_vorticity": lambda: mpcalc.absolute_vorticity(U, V, latitude=latq, **g),
            "divergence": lambda: mpcalc.divergence(U, V, **g),
            "advection": lambda: mpcalc.advection(T, U, V, **g),
            "laplacian": lambda: mpcalc.geospatial_laplacian(T, **g),
            "gradient_x": lambda: mpcalc.geospatial_gradient(T, **g)[0],
            "gradient_y": lambda: mpcalc.geospatial_gradient(T, **g)[1],
            "shearing_deformation": lambda: mpcalc.shearing_deformation(U, V, **g),
            "stretching_deformation": lambda: mpcalc.stretching_deformation(U, V, **g),
            "total_deformation": lambda: mpcalc.total_deformation(U, V, **g),
            "frontogenesis": lambda: mpcalc.frontogenesis(T, U, V, **g),
            "geostrophic_u": lambda: mpcalc.geostrophic_wind(Z, latitude=latq, **g)[0],
            "geostrophic_v": lambda: mpcalc.geostrophic_wind(Z, latitude=latq, **g)[1],
        }[name]()


@functools.lru_cache(maxsize=None)
def _grid(lat_bytes, lon_bytes, radius):
    return metpy_grid(np.frombuffer(lat_bytes), np.frombuffer(lon_bytes), radius)


def _ours(name, u, v, t, z, **kw):
    return {
        "vorticity": lambda: spd.vorticity(u, v, **kw),
        "absolute_vorticity": lambda: spd.absolute_vorticity(u, v, **kw),
        "divergence": lambda: spd.divergence(u, v, **kw),
        "advection": lambda: spd.advection(t, u, v, **kw),
        "laplacian": lambda: spd.laplacian(t, **kw),
        "gradient_x": lambda: spd.gradient(t, **kw)[0],
        "gradient_y": lambda: spd.gradient(t, **kw)[1],
        "shearing_deformation": lambda: spd.shearing_deformation(u, v, **kw),
        "stretching_deformation": lambda: spd.stretching_deformation(u, v, **kw),
        "total_deformation": lambda: spd.total_deformation(u, v, **kw),
        "frontogenesis": lambda: spd.frontogenesis(t, u, v, **kw),
        "geostrophic_u": lambda: spd.geostrophic_wind(z, **kw)[0],
        "geostrophic_v": lambda: spd.geostrophic_wind(z, **kw)[1],
    }[name]()


NAMES = ["vorticity", "absolute_vorticity", "divergence", "advection", "laplacian",
         "gradient_x", "gradient_y", "shearing_deformation", "stretching_deformation",
         "total_deformation", "frontogenesis", "geostrophic_u", "geostrophic_v"]


def assert_metpy_equal(ours, theirs, tol=1e-10):
    a, b = values(ours), values(theirs)
    assert a.shape == b.shape
    scale = np.nanmax(np.abs(b))
    err = np.abs(a - b)
    assert np.isfinite(a).all() and np.isfinite(b).all()
    where = np.unravel_index(np.argmax(err), err.shape)
    assert err.max() <= tol * scale, f"max |diff| {err.max():.3e} at {where}, scale {scale:.3e}"


@pytest.mark.parametrize("grid", list(GRIDS))
@pytest.mark.parametrize("name", NAMES)
def test_equals_metpy_everywhere(name, grid):
    u, v, t, z = fields(*GRIDS[grid])
    ours = _ours(name, u, v, t, z)
    assert ours.dims == u.dims
    assert_metpy_equal(ours, _metpy(name, u, v, t, z))


@pytest.mark.parametrize("name", ["vorticity", "laplacian", "advection", "frontogenesis"])
def test_dims_in_another_order_and_extra_dims(name):
    lat, lon = GRIDS["descending"]
    u, v, t, z = fields(lat, lon, nlev=3, dims=("lon", "level", "lat"))
    ours = _ours(name, u, v, t, z)
    assert ours.dims == ("lon", "level", "lat")
    ref = _metpy(name, *(x.transpose("level", "lat", "lon") for x in (u, v, t, z)))
    assert_metpy_equal(ours.transpose("level", "lat", "lon"), ref)


def test_radius():
    lat, lon = GRIDS["ascending"]
    u, v, t, z = fields(lat, lon)
    mars = 3389500.0
    ours = spd.laplacian(t, radius=mars)
    assert_metpy_equal(ours, _metpy("laplacian", u, v, t, z, radius=mars))
    assert not np.allclose(values(ours), values(spd.laplacian(t)), rtol=0.1, atol=0)


@pytest.mark.parametrize("grid", ["descending", "non-uniform"])
def test_metpy_from_dataarrays(grid):
    """MetPy's own DataArray path (CRS -> spacings and map factors) gives what the
    precomputed grid arguments give."""
    u, v, t, z = fields(*GRIDS[grid])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = mpcalc.vorticity(metpy_ready(u), metpy_ready(v))
        lap = mpcalc.geospatial_laplacian(metpy_ready(t))
    assert_metpy_equal(spd.vorticity(u, v), theirs)
    assert_metpy_equal(spd.laplacian(t), lap)
    assert_metpy_equal(_metpy("vorticity", u, v, t, z), theirs, tol=1e-14)


@pytest.mark.parametrize("name", ["vorticity", "laplacian", "frontogenesis"])
def test_float32_stays_float32(name):
    u, v, t, z = fields(*GRIDS["ascending"], dtype=np.float32)
    ours = _ours(name, u, v, t, z)
    assert ours.dtype == np.float32
    ref = _metpy(name, *(x.astype(np.float64) for x in (u, v, t, z)))
    assert_metpy_equal(ours, ref, tol=2e-5)


def test_reference_backend_gives_the_same(monkeypatch):
    """The same stencils run by the numpy reference (the one-sided edges come from the
    reference's own "extrapolate" padding, not from the compiled kernels' ghosts)."""
    import stencilpy as sp
    from stencilpy.diagnostics import kernels as K
    u, v, t, z = fields(*GRIDS["non-uniform"])
    ref = sp.stencil(K.vorticity.pyfunc, dims=("lat", "lon"), backend="numpy")
    monkeypatch.setattr(K, "vorticity", ref)
    assert_metpy_equal(spd.vorticity(u, v), _metpy("vorticity", u, v, t, z))
