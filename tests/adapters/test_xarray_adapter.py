"""DataArrays: dims by name, broadcasting, coordinates, attrs, errors, Datasets, netCDF."""

from __future__ import annotations

import faulthandler

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.adapters.xarray import apply_to_dataset

from .stencils import MODES, ddlon, divergence, grad, gradient, hdiff, laplacian, lopsided

xr = pytest.importorskip("xarray")
faulthandler.enable()

RNG = np.random.default_rng(7)


def _t2m(nt=3, nlat=11, nlon=16):
    return xr.DataArray(
        280.0 + RNG.standard_normal((nt, nlat, nlon)), dims=("time", "lat", "lon"),
        coords={"time": np.arange(nt), "lat": np.linspace(-50.0, 50.0, nlat),
                "lon": np.arange(nlon) * 360.0 / nlon, "height": 2.0},
        name="t2m", attrs={"units": "K", "long_name": "2 m temperature"})


T = _t2m()
COSLAT = np.cos(np.deg2rad(T.lat))
DLON = float(np.deg2rad(T.lon[1] - T.lon[0]))


def test_dataarray_in_dataarray_out():
    r = laplacian(T, boundary={"lon": "periodic", "lat": "edge"})
    assert isinstance(r, xr.DataArray) and r.dims == T.dims and r.name == "laplacian"
    assert r.attrs == {} and set(r.coords) == set(T.coords)     # units, long_name: not inherited
    assert r.coords.to_dataset().identical(T.coords.to_dataset())
    want = laplacian(T.values, boundary={1: "wrap", 0: "edge"})
    np.testing.assert_array_equal(r.values, want)


def test_declared_dims_broadcast_by_name_and_transposed_inputs():
    want = ddlon(T.values, COSLAT.values[:, None], DLON, boundary={"lon": "wrap"})
    r = ddlon(T, COSLAT, DLON, boundary={"lon": "wrap"})
    np.testing.assert_array_equal(r.values, want)
    u = T.transpose("lon", "time", "lat")
    r2 = ddlon(u, COSLAT, DLON, boundary={"lon": "wrap"})
    assert r2.dims == ("lon", "time", "lat")             # the domain's order
    np.testing.assert_array_equal(r2.transpose(*T.dims).values, want)
    assert np.shares_memory(u.transpose(*T.dims).data, T.data)   # views, no copies


def test_undeclared_dims_are_the_last_two_and_boundary_keys_are_dim_names():
    u = T.transpose("lat", "lon", "time")                # stencil axes: ("lon", "time")
    r = laplacian(u, boundary={"time": "wrap", "lon": "edge"})
    want = laplacian(u.values, boundary={0: "edge", 1: "wrap"})
    np.testing.assert_array_equal(r.values, want)


def test_valid_trims_coordinates():
    r = lopsided(T, T.isel(time=0), boundary="valid")            # halo ((1, 2), (1, 0))
    assert r.sizes == {"time": 3, "lat": 8, "lon": 15}
    np.testing.assert_array_equal(r.lat.values, T.lat.values[1:-2])
    np.testing.assert_array_equal(r.lon.values, T.lon.values[1:])
    np.testing.assert_array_equal(r.time.values, T.time.values)
    r2 = laplacian(T.chunk({"lat": 4, "lon": 5}), boundary={"lat": "valid", "lon": "wrap"})
    assert r2.chunks is not None
    np.testing.assert_array_equal(r2.lat.values, T.lat.values[1:-1])
    np.testing.assert_array_equal(r2.values, laplacian(T.values, boundary={0: "valid", 1: "wrap"}))


def test_two_dimensional_coordinates_are_trimmed_too():
    lat2d = xr.DataArray(RNG.standard_normal((11, 16)), dims=("lat", "lon"))
    u = T.assign_coords(lat2d=lat2d)
    r = laplacian(u, boundary="valid")
    np.testing.assert_array_equal(r.lat2d.values, lat2d.values[1:-1, 1:-1])


@pytest.mark.parametrize("mode", MODES)
def test_dask_backed_dataarray_equals_eager(mode):
    u = T.chunk({"time": 2, "lat": 5, "lon": 7})
    lazy = hdiff(u, 0.05, boundary=mode, fill_value=0.5)
    assert lazy.chunks is not None and lazy.dims == T.dims
    eager = hdiff(T, 0.05, boundary=mode, fill_value=0.5)
    xr.testing.assert_identical(lazy.compute(), eager)


def test_numpy_arrays_and_scalars_mix_with_dataarrays():
    r = lopsided(T, T.isel(time=0).values, boundary="wrap")
    np.testing.assert_array_equal(r.values, lopsided(T.values, T.values[0], boundary="wrap"))
    r = ddlon(T.values, COSLAT, np.float64(DLON), domain=T, boundary={"lon": "wrap"})
    assert r.dims == T.dims
    r = ddlon(T, COSLAT, xr.DataArray(DLON), boundary={"lon": "wrap"})     # 0-d DataArray
    assert r.dims == T.dims


def test_staggered_field_same_dim_name_longer():
    faces = xr.DataArray(RNG.standard_normal((3, 9)), dims=("t", "x"))
    cells = xr.DataArray(np.zeros((3, 8)), dims=("t", "x"), coords={"x": np.arange(8) + 0.5})
    r = divergence(faces, domain=cells)
    assert r.dims == ("t", "x") and r.sizes["x"] == 8
    np.testing.assert_array_equal(r.x.values, cells.x.values)
    np.testing.assert_array_equal(r.values, np.diff(faces.values, axis=1))
    lazy = divergence(faces.chunk({"x": 4}), domain=cells, boundary="wrap")
    np.testing.assert_array_equal(lazy.values, divergence(faces.values, domain=(3, 8),
                                                           boundary="wrap"))


def test_out_dataarray_and_dtypes():
    out = xr.zeros_like(T)
    assert laplacian(T, boundary="wrap", out=out) is out
    np.testing.assert_array_equal(out.values, laplacian(T.values, boundary="wrap"))
    out_t = xr.zeros_like(T).transpose("lon", "lat", "time")
    laplacian(T, boundary="wrap", out=out_t)
    np.testing.assert_array_equal(out_t.transpose(*T.dims).values, out.values)
    laplacian(T.chunk({"lat": 3}), boundary="wrap", out=out_t)          # computed into it
    np.testing.assert_array_equal(out_t.transpose(*T.dims).values, out.values)
    i = xr.DataArray(RNG.integers(0, 9, (5, 6)).astype(np.int16), dims=("y", "x"))
    assert divergence(i, boundary="wrap").dtype == np.int16
    f = T.astype(np.float32)
    assert laplacian(f, boundary="edge").dtype == np.float32


def test_several_outputs_are_named():
    gx, gy = grad(T, boundary="edge")
    assert (gx.name, gy.name) == ("grad_0", "grad_1")
    np.testing.assert_array_equal(gy.values, grad(T.values, boundary="edge")[1])


def test_names_and_attrs_per_output():
    src = T.assign_attrs(source="model X", standard_name="air_temperature")
    gx, gy = grad(src, boundary="edge", names=("dtdx", "dtdy"),
                  attrs=({"units": "K m-1"}, None))
    assert (gx.name, gy.name) == ("dtdx", "dtdy")
    assert gx.attrs == {"source": "model X", "units": "K m-1"}
    assert gy.attrs == {"source": "model X"}                    # quantity attrs dropped
    r = laplacian(src.chunk({"time": 1}), boundary="wrap", names="lap", attrs={"units": "K"})
    assert r.name == "lap" and r.attrs == {"source": "model X", "units": "K"}
    with pytest.raises(sp.StencilCallError, match="2 output"):
        grad(T, boundary="edge", names="one")
    with pytest.raises(sp.StencilCallError, match="DataArray"):
        laplacian(T.values, boundary="wrap", names="lap")
    with pytest.raises(sp.StencilCallError, match="out="):
        laplacian(T, boundary="wrap", names="lap", out=T.copy())


def test_errors():
    with pytest.raises(sp.StencilCallError, match=r"works on dims \('lat', 'lon'\).*missing 'lon'"):
        ddlon(T.rename(lon="x"), COSLAT, DLON)
    with pytest.raises(sp.StencilCallError, match="dim.*'member'.*lacks"):
        lopsided(T, T.isel(time=0).expand_dims(member=2))
    with pytest.raises(sp.StencilCallError, match="10 points along 'lat'.*has 11"):
        lopsided(T, _t2m(nlat=10).isel(time=0).drop_vars("lat"))
    with pytest.raises(sp.StencilCallError, match="2 points along 'time'.*has 3"):
        lopsided(T, T.isel(time=slice(0, 2)))
    shifted = T.isel(time=0).assign_coords(lon=T.lon + 1.0)
    with pytest.raises(sp.StencilCallError, match="different 'lon' coordinates.*align"):
        lopsided(T, shifted)
    with pytest.raises(sp.StencilCallError, match="Dataset"):
        laplacian(T.to_dataset())
    with pytest.raises(sp.StencilCallError, match="unknown dimension 'longitude'"):
        ddlon(T, COSLAT, DLON, boundary={"longitude": "wrap"})
    with pytest.raises(sp.StencilCallError, match="not a stencil axis"):
        laplacian(T, boundary={"time": "wrap"})
    with pytest.raises(sp.StencilCallError, match="dims"):
        laplacian(T, out=xr.zeros_like(T).isel(time=0))
    with pytest.raises(sp.StencilCallError, match="need|too small"):
        laplacian(T.isel(lat=slice(0, 2)), boundary="valid")


def test_typo_in_declared_dims_points_at_the_declaration():
    @sp.stencil(dims=("lat", "lom"))
    def ddlom(u):
        return u[lom + 1] - u  # noqa: F821
    line = ddlom.pyfunc.__code__.co_firstlineno
    with pytest.raises(sp.StencilCallError) as info:
        ddlom(T)
    assert str(info.value) == (
        "the stencil 'ddlom' works on dims ('lat', 'lom') but argument 'u' has dims ('time', "
        "'lat', 'lon') (missing 'lom') — did you mean 'lon'? If 'lom' is a typo, correct "
        f"@sp.stencil(dims=...) of 'ddlom' (File \"{__file__}\", line {line}); if the data's "
        "'lon' is that axis, rename it: .rename({'lon': 'lom'})")
    # a typo in the data's dim name gets the same pair, the other way round
    with pytest.raises(sp.StencilCallError, match=r"\(missing 'lon'\) — did you mean 'lom'\? If "
                       r"'lon' is a typo, .*rename it: \.rename\(\{'lom': 'lon'\}\)"):
        ddlon(T.rename(lon="lom"), COSLAT, DLON)


@pytest.mark.parametrize("extra", [2, 30])
def test_field_longer_than_staggered_is_refused(extra):
    longer = _t2m(nlat=11 + extra).isel(time=0)
    with pytest.raises(sp.StencilCallError) as info:
        lopsided(T, longer)
    assert str(info.value) == (
        f"argument 'v' has {11 + extra} points along 'lat' but argument 'u' has 11; a field "
        "has the domain's length (11), one point more (12: staggered, the faces around 11 "
        "cells) or length 1 (broadcast): select or interpolate it onto the domain's grid first")
    with pytest.raises(sp.StencilCallError, match="one point more"):
        lopsided(T.values, longer.values)          # numpy arrays: the same rule


def test_staggered_dataarray_on_another_grid_is_refused():
    """N + 1 points, but the latitudes are another grid, not the faces of the cells."""
    other = _t2m(nlat=12).isel(time=0)              # 12 points from -50 to 50, not faces
    with pytest.raises(sp.StencilCallError) as info:
        lopsided(T, other)
    lat, lat_other = T.lat.values, other.lat.values
    assert str(info.value) == (
        "argument 'v' has 12 points along 'lat' (staggered: the faces of the 11 cells of "
        "argument 'u') but its 'lat' coordinate is not those faces: cell 0 at "
        f"{lat[0]!r} does not lie between faces 0 and 1 ({lat_other[0]!r}, {lat_other[1]!r}); "
        "interpolate it onto the domain's grid (.interp_like()) or, if it does hold the faces, "
        "fix or drop the coordinate (.drop_vars('lat'))")
    shifted = T.isel(time=0).assign_coords(lat=T.lat + 30.0)     # faces of cells elsewhere
    faces = np.concatenate([lat - 5.0, [lat[-1] + 5.0]])
    wrong = xr.DataArray(np.ones((12, 16)), dims=("lat", "lon"),
                         coords={"lat": faces + 30.0, "lon": T.lon})
    with pytest.raises(sp.StencilCallError, match="cell 0 at .* does not lie between faces"):
        lopsided(T, wrong)
    assert lopsided(shifted, wrong).sizes == {"lat": 11, "lon": 16}


def test_staggered_dataarray_on_the_faces_is_accepted_either_way_round():
    lat = np.linspace(-50.0, 50.0, 11)
    faces = np.concatenate([lat - 5.0, [lat[-1] + 5.0]])
    v = xr.DataArray(RNG.standard_normal((12, 16)), dims=("lat", "lon"),
                     coords={"lat": faces, "lon": T.lon})
    got = lopsided(T, v, boundary="edge")
    np.testing.assert_array_equal(got.values, lopsided(T.values, v.values, boundary="edge"))
    down = lopsided(T.isel(lat=slice(None, None, -1)), v.isel(lat=slice(None, None, -1)),
                    boundary="edge")
    np.testing.assert_array_equal(down.values, lopsided(T.values[:, ::-1], v.values[::-1],
                                                        boundary="edge"))


def _dataset():
    return xr.Dataset({"t2m": T, "sst": T + 1.0, "coslat": COSLAT,
                       "label": ("time", ["a", "b", "c"])}, attrs={"title": "test"})


HDIFF_BC = {"lon": "wrap", "lat": "symmetric"}


def test_apply_to_dataset():
    ds = _dataset()
    ds["t2m"] = ds.t2m.assign_attrs(source="model")
    res = apply_to_dataset(hdiff, ds, coeff=0.05, boundary=HDIFF_BC)
    assert set(res.data_vars) == {"t2m", "sst"} and res.attrs == ds.attrs
    assert res.t2m.attrs == {"source": "model"}      # the stencils' policy: units, long_name
    assert "units" in ds.t2m.attrs                   # (the quantity's) are not inherited
    kept = apply_to_dataset(hdiff, ds, ["t2m"], coeff=0.05, boundary=HDIFF_BC,
                            attrs={"units": T.attrs["units"]})    # the same quantity: say so
    assert kept.t2m.attrs["units"] == T.attrs["units"]
    np.testing.assert_array_equal(res.t2m.values, hdiff(T, 0.05, boundary=HDIFF_BC).values)
    res2 = apply_to_dataset(ddlon, ds, "sst", coslat="coslat", dlon=DLON, boundary={"lon": "wrap"})
    np.testing.assert_array_equal(res2.sst.values, ddlon(ds.sst, COSLAT, DLON,
                                                         boundary={"lon": "wrap"}).values)
    res3 = apply_to_dataset(grad, ds, ["t2m"], boundary="edge")
    assert set(res3.data_vars) == {"t2m_0", "t2m_1"}
    with pytest.raises(sp.StencilCallError, match="names no variable"):
        apply_to_dataset(ddlon, ds, "sst", coslat="cos", dlon=DLON)
    with pytest.raises(sp.StencilCallError, match="not a data variable"):
        apply_to_dataset(laplacian, ds, ["nope"])


@pytest.mark.parametrize("engine", ["netcdf4", "h5netcdf"])
def test_netcdf_roundtrip_lazy(tmp_path, engine):
    pytest.importorskip("netCDF4" if engine == "netcdf4" else "h5py")
    ds = _dataset().drop_vars("label")
    want = hdiff(T, 0.05, boundary=HDIFF_BC, names="t2m", attrs=dict(T.attrs))  # same quantity
    ds.to_netcdf(tmp_path / "in.nc", engine=engine)
    with xr.open_dataset(tmp_path / "in.nc", engine=engine,
                         chunks={"time": 1, "lat": 5, "lon": 7}) as lazy:
        assert lazy.t2m.chunks is not None
        out = apply_to_dataset(hdiff, lazy, ["t2m"], coeff=0.05, boundary=HDIFF_BC,
                               attrs=dict(T.attrs))
        assert out.t2m.chunks is not None                     # still lazy
        xr.testing.assert_identical(out.t2m.compute(), want)
        out.to_netcdf(tmp_path / "out.nc", engine=engine)      # computed chunk by chunk
    with xr.open_dataset(tmp_path / "out.nc", engine=engine) as back:
        xr.testing.assert_identical(back.t2m.load(), want)


def test_valid_trims_each_output_to_its_own_region():
    """d/dlon keeps the pole rows, d/dlat (reading lat - 2 .. lat + 1) loses three of them."""
    for data in (T, T.chunk({"lat": 4, "lon": 5})):
        dx, dy = gradient(data, boundary={"lat": "valid", "lon": "wrap"})
        assert dx.sizes == {"time": 3, "lat": 11, "lon": 16}
        assert dy.sizes == {"time": 3, "lat": 8, "lon": 16}
        np.testing.assert_array_equal(dx.lat.values, T.lat.values)
        np.testing.assert_array_equal(dy.lat.values, T.lat.values[2:-1])
        u = T.values
        np.testing.assert_array_equal(dx.values, np.roll(u, -1, 2) - np.roll(u, 1, 2))
        np.testing.assert_array_equal(dy.values, u[:, 3:] - u[:, :-3])
