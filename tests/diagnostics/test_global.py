"""Global grids (periodic in longitude) against an independent numpy version of the same
formulas (np.roll across the seam, np.gradient(edge_order=2) along latitude), the poles,
dask, names and attributes, and errors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import stencilpy as sp
from stencilpy import diagnostics as spd

from ._data import R, fields, metpy_ready, values

OMEGA = 7.292115e-5


class Numpy:
    """The formulas with numpy only: periodic x (np.roll), y by np.gradient on the metres
    coordinate, map factor 1/cos(lat) and its finite-difference metric term."""

    def __init__(self, lat, lon, radius=R):
        self.y = radius * np.deg2rad(lat)
        self.dx = radius * np.deg2rad(360.0 / lon.size)
        self.p = 1.0 / np.cos(np.deg2rad(lat))[:, None]
        self.metric = np.gradient(self.p, self.y, axis=0, edge_order=2) / self.p

    def ddx(self, f):
        return self.p * (np.roll(f, -1, -1) - np.roll(f, 1, -1)) / (2 * self.dx)

    def ddy(self, f):
        return np.gradient(f, self.y, axis=-2, edge_order=2)

    def vorticity(self, u, v):
        return self.ddx(v) + u * self.metric - self.ddy(u)

    def divergence(self, u, v):
        return self.ddx(u) - v * self.metric + self.ddy(v)

    def advection(self, t, u, v):
        return -(u * self.ddx(t) + v * self.ddy(t))

    def laplacian(self, t):
        return self.divergence(self.ddx(t), self.ddy(t))


GLOBAL = (np.linspace(-87.5, 87.5, 36), np.arange(0.0, 360.0, 7.5))


def _close(a, b, tol=1e-12):
    a, b = values(a), values(b)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * np.nanmax(np.abs(b)))


@pytest.mark.parametrize("lat", [GLOBAL[0], GLOBAL[0][::-1]])
def test_global_grid_is_periodic(lat):
    lon = GLOBAL[1]
    u, v, t, _ = fields(lat, lon)
    ref = Numpy(lat, lon)
    U, V, T = (x.values for x in (u, v, t))
    _close(spd.vorticity(u, v), ref.vorticity(U, V))
    _close(spd.divergence(u, v), ref.divergence(U, V))
    _close(spd.advection(t, u, v), ref.advection(T, U, V))
    _close(spd.laplacian(t), ref.laplacian(T))
    gx, gy = spd.gradient(t)
    _close(gx, ref.ddx(T))
    _close(gy, ref.ddy(T))
    zeta, delta = spd.vorticity_divergence(u, v)
    _close(zeta, ref.vorticity(U, V))
    _close(delta, ref.divergence(U, V))


def test_global_seam_differs_from_metpy_only_at_the_seam():
    mpcalc = pytest.importorskip("metpy.calc")
    lat, lon = GLOBAL
    u, v, t, _ = fields(lat, lon)
    ours = values(spd.vorticity(u, v))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = values(mpcalc.vorticity(metpy_ready(u), metpy_ready(v)))
    scale = np.abs(theirs).max()
    assert np.abs(ours - theirs)[..., 1:-1].max() < 1e-10 * scale     # interior columns
    assert np.abs(ours - theirs)[..., [0, -1]].max() > 1e-4 * scale    # MetPy: one-sided


def test_longitudes_from_minus_180_and_periodic_override():
    lat = np.arange(-60.0, 61.0, 10.0)
    lon = np.arange(-180.0, 180.0, 10.0)
    u, v, t, _ = fields(lat, lon)
    ref = Numpy(lat, lon)
    _close(spd.divergence(u, v), ref.divergence(u.values, v.values))
    regional = spd.divergence(u, v, periodic=False)      # one-sided at the seam instead
    assert not np.allclose(values(regional)[..., 0], values(spd.divergence(u, v))[..., 0])
    with pytest.raises(sp.StencilCallError, match="periodic=True"):
        spd.divergence(u.isel(lon=slice(0, 10)), v.isel(lon=slice(0, 10)), periodic=True)


def test_poles_give_nan_rows_not_garbage():
    """Grid rows at +-90: the parallel map factor is infinite there.  x-derivatives are NaN
    on the pole rows, the metric term also on the rows next to them; d/dy is finite; every
    other row is finite and equals the numpy formulas; no warnings."""
    lat, lon = np.linspace(-90.0, 90.0, 19), np.arange(0.0, 360.0, 20.0)
    u, v, t, _ = fields(lat, lon)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gx, gy = spd.gradient(t)
        zeta = spd.vorticity(u, v)
        lap = spd.laplacian(t)
        adv = spd.advection(t, u, v)
    pole, near = [0, -1], [1, -2]
    assert np.isnan(values(gx)[:, pole]).all() and np.isfinite(values(gx)[:, 1:-1]).all()
    assert np.isfinite(values(gy)).all()
    assert np.isnan(values(adv)[:, pole]).all() and np.isfinite(values(adv)[:, 1:-1]).all()
    for x in (zeta, lap):
        assert np.isnan(values(x)[:, pole + near]).all()
        assert np.isfinite(values(x)[:, 2:-2]).all()
    inner = slice(2, -2)
    ref = Numpy(lat[1:-1], lon)       # away from the poles: the same formulas
    with np.errstate(all="ignore"):
        full = Numpy(lat, lon)
        want = full.vorticity(u.values, v.values)
    _close(values(zeta)[:, inner], want[:, inner])
    assert ref is not None


def test_dask_is_lazy_and_equal():
    dask = pytest.importorskip("dask.array")
    lat, lon = GLOBAL
    u, v, t, _ = fields(lat, lon, nlev=4)
    uc, vc, tc = (x.chunk({"level": 1, "lat": 12, "lon": 16}) for x in (u, v, t))
    for lazy, eager in [(spd.vorticity(uc, vc), spd.vorticity(u, v)),
                        (spd.laplacian(tc), spd.laplacian(t)),
                        (spd.advection(tc, uc, vc), spd.advection(t, u, v))]:
        assert isinstance(lazy.data, dask.Array)
        _close(lazy.compute(), eager, tol=1e-14)
    regional = [x.isel(lon=slice(0, 20)) for x in (uc, vc)]
    lazy = spd.divergence(*regional)
    assert isinstance(lazy.data, dask.Array)
    _close(lazy.compute(), spd.divergence(*(x.compute() for x in regional)), tol=1e-14)


def test_names_units_and_coords():
    lat, lon = GLOBAL
    u, v, t, z = fields(lat, lon)
    zeta = spd.vorticity(u, v)
    assert zeta.name == "vorticity" and zeta.attrs["units"] == "s-1"
    assert zeta.attrs["standard_name"] == "atmosphere_relative_vorticity"
    assert (zeta.level == u.level).all() and (zeta.lat == u.lat).all()
    gx, gy = spd.gradient(t)
    assert (gx.name, gy.name) == ("t_ddx", "t_ddy")
    assert gx.attrs["units"] == "K m-1" and "standard_name" not in gx.attrs
    lap = spd.laplacian(t)
    assert lap.name == "t_laplacian" and lap.attrs["units"] == "K m-2"
    adv = spd.advection(t, u, v)
    assert adv.attrs["units"] == "K s-1"
    ug, vg = spd.geostrophic_wind(z)
    assert ug.attrs["units"] == vg.attrs["units"] == "m s-1"
    assert ug.name == "u_geostrophic"


def test_geopotential_units_choose_the_scale():
    lat, lon = np.arange(20.0, 60.0, 5.0), np.arange(0.0, 40.0, 5.0)
    *_, z = fields(lat, lon)
    phi = (z * 9.80665).assign_attrs(units="m2 s-2")
    _close(spd.geostrophic_wind(phi)[0], spd.geostrophic_wind(z)[0], tol=1e-13)
    _close(spd.geostrophic_wind(z * 9.80665, geopotential=True)[1],
           spd.geostrophic_wind(z)[1], tol=1e-13)


def test_cf_attributes_find_the_axes():
    lat, lon = np.arange(20.0, 60.0, 5.0), np.arange(0.0, 40.0, 5.0)
    u, v, *_ = fields(lat, lon)
    ren = {"lat": "y", "lon": "x"}
    uy, vy = (x.rename(ren) for x in (u, v))
    for x in (uy, vy):
        x["y"].attrs["units"] = "degrees_north"
        x["x"].attrs["standard_name"] = "longitude"
    got = spd.vorticity(uy, vy)
    assert got.dims == ("level", "y", "x")
    _close(got, spd.vorticity(u, v), tol=0)


def test_errors_are_clear():
    lat, lon = np.arange(20.0, 60.0, 5.0), np.arange(0.0, 40.0, 5.0)
    u, v, t, _ = fields(lat, lon)
    with pytest.raises(sp.StencilCallError, match="DataArrays"):
        spd.vorticity(u.values, v.values)
    with pytest.raises(sp.StencilCallError, match="latitude"):
        spd.laplacian(t.rename(lat="a"))
    with pytest.raises(sp.StencilCallError, match="coordinates"):
        spd.vorticity(u, v.assign_coords(lat=v.lat + 1))
    with pytest.raises(sp.StencilCallError, match="monotonic"):
        spd.laplacian(t.isel(lat=[0, 2, 1, 3]))
    with pytest.raises(sp.StencilCallError, match="at least 3"):
        spd.laplacian(t.isel(lat=[0, 1]))
    with pytest.raises(sp.StencilCallError, match="radius"):
        spd.laplacian(t, radius=-1.0)


def test_fused_diagnostics_equal_the_separate_ones():
    lat, lon = np.arange(20.0, 60.0, 2.0), np.arange(0.0, 40.0, 2.5)
    u, v, t, _ = fields(lat, lon, nlev=3)
    adv, lap = spd.advection_laplacian(t, u, v)
    _close(adv, spd.advection(t, u, v), tol=1e-15)
    _close(lap, spd.laplacian(t), tol=1e-15)
    assert (adv.name, lap.name) == ("t_advection", "t_laplacian")
    zeta, delta = spd.vorticity_divergence(u, v)
    _close(zeta, spd.vorticity(u, v), tol=1e-15)
    _close(delta, spd.divergence(u, v), tol=1e-15)


@pytest.mark.parametrize("grid", ["regional", "global", "non-uniform"])
def test_one_pass_laplacian_equals_the_nested_stencils(grid):
    """The one-pass Laplacian (7-point weights per axis) against the nesting it replaces:
    the gradient stencil, then the divergence stencil on its two outputs."""
    from stencilpy.diagnostics import kernels as K
    from stencilpy.diagnostics.grid import grid_of
    lat, lon = {"regional": (np.arange(20.0, 60.0, 2.0), np.arange(0.0, 40.0, 2.5)),
                "global": (np.linspace(90.0, -90.0, 37), np.arange(0.0, 360.0, 10.0)),
                "non-uniform": (np.array([10.0, 12.0, 15.0, 19.0, 24.0, 30.0, 33.0]),
                                np.array([0.0, 1.0, 3.0, 6.0, 10.0, 15.0, 21.0, 22.0]))}[grid]
    u, v, t, _ = fields(lat, lon, nlev=4)
    g = grid_of(lat, lon, R)
    c = {k: (np.full(lon.size, x) if np.ndim(x) == 0 else x)
         for k, x in g.fields(np.float64).items()}
    grid_args = {k: c[k] for k in K.GRID}
    T = t.transpose(..., "lat", "lon").values
    gx, gy = K.gradient(T, **grid_args, boundary=g.boundary)
    nested = K.divergence(gx, gy, **grid_args, boundary=g.boundary)
    one = values(spd.laplacian(t).transpose(..., "lat", "lon"))
    assert (np.isfinite(one) == np.isfinite(nested)).all()
    assert np.isnan(one).any() == (grid == "global")            # the pole rows
    _close(one, nested, tol=1e-12)
    _close(spd.advection_laplacian(t, u, v)[1].transpose(..., "lat", "lon"), one, tol=0)


def test_band_product_is_the_matrix_product():
    from stencilpy.diagnostics.grid import band_product, derivative_band, derivative_weights
    rng = np.random.default_rng(3)
    for n in (3, 4, 9):
        band = derivative_band(derivative_weights(rng.uniform(0.5, 2.0, n - 1)))
        dense = np.zeros((n, n))
        for i in range(n):
            for k in range(-2, 3):
                if 0 <= i + k < n:
                    dense[i, i + k] = band[i, 2 + k]
        square = band_product(band, band)
        want = dense @ dense
        for i in range(n):
            for k in range(-3, 4):
                assert square[i, 3 + k] == pytest.approx(want[i, i + k] if 0 <= i + k < n else 0.0,
                                                         rel=1e-13, abs=1e-13)


def test_results_do_not_inherit_the_inputs_encoding():
    """An input read from netCDF may carry packing (scale_factor, int16): a result written
    back with it would be wrong, so results start with no encoding."""
    lat, lon = GLOBAL
    u, v, t, _ = fields(lat, lon)
    u.encoding = {"dtype": "int16", "scale_factor": 0.01}
    zeta = spd.vorticity(u, v)
    assert zeta.encoding == {} and u.encoding["scale_factor"] == 0.01
    assert zeta.attrs["units"] == "s-1" and u.attrs["units"] == "m/s"
    np.testing.assert_array_equal(zeta["lat"].values, lat)
