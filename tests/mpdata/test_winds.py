"""Winds from data (stencilpy.mpdata.advect_xarray / courant_from_winds): the faces built by
hand with numpy, the spherical metric, exact solutions, the Courant-limit error, the
progress bar, coords and attrs, and the input errors."""

from __future__ import annotations

import io

import numpy as np
import pytest

xr = pytest.importorskip("xarray")

from stencilpy.mpdata import (  # noqa: E402
    EARTH_RADIUS,
    CourantLimitError,
    Solver,
    WindsError,
    advect_xarray,
    courant_from_winds,
)
from stencilpy.mpdata.reference import mpdata_advance  # noqa: E402


def cartesian(ny=9, nx=12, dx=2000.0, dy=3000.0):
    y = np.arange(ny) * dy + 0.5 * dy
    x = np.arange(nx) * dx + 0.5 * dx
    rng = np.random.default_rng(0)
    coords = {"y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})}
    tracer = xr.DataArray(1.0 + rng.random((ny, nx)), coords=coords, dims=("y", "x"),
                          name="q", attrs={"units": "kg kg-1", "long_name": "tracer"})
    u = xr.DataArray(rng.uniform(-8, 8, (ny, nx)), coords=coords, dims=("y", "x"))
    v = xr.DataArray(rng.uniform(-8, 8, (ny, nx)), coords=coords, dims=("y", "x"))
    return tracer, u, v


def faces_by_hand(a, axis, mode):
    p = np.pad(a, [(1, 1) if ax == axis else (0, 0) for ax in range(a.ndim)], mode=mode)
    n = a.shape[axis]
    return 0.5 * (np.take(p, range(0, n + 1), axis=axis) + np.take(p, range(1, n + 2), axis=axis))


@pytest.mark.parametrize("bname", ["periodic", "open", "rigid"])
def test_cartesian_faces_and_run_match_hand_built(bname):
    tracer, u, v = cartesian()
    dt = 100.0
    courant, g, bcs = courant_from_winds(tracer, u, v, dt=dt, boundaries=bname)
    assert g is None
    mode = "wrap" if bname == "periodic" else "edge"
    cy = faces_by_hand(v.values, 0, mode) * dt / 3000.0
    cx = faces_by_hand(u.values, 1, mode) * dt / 2000.0
    if bname == "rigid":
        cy[0], cy[-1], cx[:, 0], cx[:, -1] = 0.0, 0.0, 0.0, 0.0
    np.testing.assert_allclose(courant[0], cy, rtol=1e-15, atol=0)
    np.testing.assert_allclose(courant[1], cx, rtol=1e-15, atol=0)
    out = advect_xarray(tracer, u, v, dt=dt, n_steps=5, boundaries=bname, nonoscillatory=True)
    want = mpdata_advance(tracer.values, (cy, cx), 5, boundaries=bname, nonoscillatory=True)
    np.testing.assert_allclose(out.values, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert out.dims == tracer.dims and out.name == "q"
    assert out.attrs["units"] == "kg kg-1" and out.attrs["mpdata_steps"] == 5
    xr.testing.assert_equal(out.coords.to_dataset(), tracer.coords.to_dataset())


def test_winds_in_another_dimension_order_and_staggered_and_km():
    tracer, u, v = cartesian()
    dt = 100.0
    a, _, _ = courant_from_winds(tracer, u, v, dt=dt, boundaries="open")
    b, _, _ = courant_from_winds(tracer, u.transpose("x", "y"), winds=None, v=v, dt=dt,
                                 boundaries="open")
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)
    # staggered u on x faces (its own dimension name, N + 1 entries) is used as given
    xf = np.arange(13) * 2000.0
    u_faces = xr.DataArray(np.linspace(-5, 5, 9 * 13).reshape(9, 13), dims=("y", "x_face"),
                           coords={"x_face": xf})
    c, _, _ = courant_from_winds(tracer, winds={"x": u_faces}, dt=dt, boundaries="open")
    np.testing.assert_allclose(c[1], u_faces.values * dt / 2000.0, rtol=1e-15)
    assert not c[0].any()
    # a coordinate in km
    km = tracer.assign_coords(x=("x", tracer.x.values / 1000.0, {"units": "km"}))
    d, _, _ = courant_from_winds(km, u, v, dt=dt, boundaries="open")
    np.testing.assert_allclose(d[1], a[1], rtol=1e-14)


def sphere(nlat=30, nlon=36, lat0=-87.0, dlat=6.0, dlon=10.0):
    lat = lat0 + dlat * np.arange(nlat)
    lon = 0.5 * dlon + dlon * np.arange(nlon)
    coords = {"lat": lat, "lon": lon}
    return lat, lon, coords


def test_spherical_metric_by_hand():
    lat, lon, coords = sphere()
    rng = np.random.default_rng(1)
    u = xr.DataArray(rng.uniform(-30, 30, (30, 36)), coords=coords, dims=("lat", "lon"))
    v = xr.DataArray(rng.uniform(-30, 30, (30, 36)), coords=coords, dims=("lat", "lon"))
    tracer = xr.ones_like(u)
    dt = 600.0
    courant, g, bcs = courant_from_winds(tracer, u, v, dt=dt)
    assert bcs == (("open", "open"), ("periodic", "periodic"))     # lon spans 360 degrees
    np.testing.assert_allclose(g, np.cos(np.deg2rad(lat))[:, None] * np.ones(36), rtol=1e-15)
    lat_faces = np.deg2rad(np.r_[lat - 3.0, lat[-1] + 3.0])     # -90 ... 90
    cos_f = np.cos(lat_faces)
    cos_f[[0, -1]] = 0.0                                         # the poles: no flux
    want_lat = faces_by_hand(v.values, 0, "edge") * cos_f[:, None] * dt \
        / (EARTH_RADIUS * np.deg2rad(6.0))
    want_lon = faces_by_hand(u.values, 1, "wrap") * dt / (EARTH_RADIUS * np.deg2rad(10.0))
    np.testing.assert_allclose(courant[0], want_lat, rtol=1e-14, atol=1e-20)
    np.testing.assert_allclose(courant[1], want_lon, rtol=1e-14)


def test_global_run_conserves_mass_on_the_sphere():
    """Poles on faces carry no flux and longitude is periodic: sum(cos(lat) psi) is kept."""
    lat, lon, coords = sphere()
    la, lo = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    u = xr.DataArray(20 * np.cos(la) + 10 * np.sin(2 * lo), coords=coords, dims=("lat", "lon"))
    v = xr.DataArray(10 * np.cos(lo) * np.cos(la), coords=coords, dims=("lat", "lon"))
    tracer = xr.DataArray(1.0 + np.exp(-((la - 0.5) ** 2 + (lo - 2.0) ** 2) * 4), coords=coords,
                          dims=("lat", "lon"))
    out = advect_xarray(tracer, u, v, dt=1800.0, n_steps=40, nonoscillatory=True)
    w = np.cos(la)
    assert abs(np.sum(w * out.values) - np.sum(w * tracer.values)) < 1e-12 * np.sum(w * tracer)
    assert np.abs(out - tracer).max() > 1e-3


@pytest.mark.parametrize("form", ["literature", "pympdata"])
def test_solid_body_rotation_is_an_exact_shift_with_the_literature_form(form):
    """u = U cos(lat) with U dt = R dlon moves every latitude one cell per step; with G =
    cos(lat) the literature pseudo-velocity (|GC| - (GC)^2 / G) vanishes, PyMPDATA's
    (|GC| - (GC)^2) does not."""
    lat, lon, coords = sphere()
    dt = 3600.0
    big_u = EARTH_RADIUS * np.deg2rad(10.0) / dt
    u = xr.DataArray(big_u * np.cos(np.deg2rad(lat))[:, None] * np.ones(36), coords=coords,
                     dims=("lat", "lon"))
    tracer = xr.DataArray(np.random.default_rng(2).uniform(1, 2, (30, 36)), coords=coords,
                          dims=("lat", "lon"))
    out = advect_xarray(tracer, u, dt=dt, n_steps=7, courant_limit=1 + 1e-9, g_form=form)
    err = np.abs(out.values - np.roll(tracer.values, 7, axis=1)).max()
    assert (err < 1e-12) == (form == "literature")


def test_courant_limit_error_names_a_time_step_that_works():
    tracer, u, v = cartesian()
    with pytest.raises(CourantLimitError, match=r"use dt <= [0-9.]+ s") as info:
        advect_xarray(tracer, u * 100, v, dt=100.0, n_steps=1)
    suggested = float(str(info.value).split("use dt <= ")[1].split(" s")[0])
    advect_xarray(tracer, u * 100, v, dt=0.999 * suggested, n_steps=1)       # runs
    assert isinstance(info.value, ValueError)


def test_progress_bar_and_callable(capsys):
    tracer, u, v = cartesian()
    calls = []
    advect_xarray(tracer, u, v, dt=50.0, n_steps=3, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 3), (2, 3), (3, 3)]
    advect_xarray(tracer, u, v, dt=50.0, n_steps=3, progress=True)
    assert "3/3" in capsys.readouterr().err
    advect_xarray(tracer, u, v, dt=50.0, n_steps=3)              # small: no bar by default
    assert capsys.readouterr().err == ""


def test_three_dimensional_with_vertical_wind():
    tracer2, u2, v2 = cartesian(ny=5, nx=6)
    z = np.arange(4) * 500.0 + 250.0
    tracer = tracer2.expand_dims(z=z).transpose("z", "y", "x").copy()
    u = u2.expand_dims(z=z).transpose("z", "y", "x")
    v = v2.expand_dims(z=z).transpose("z", "y", "x")
    w = xr.full_like(tracer, 0.5)
    courant, g, bcs = courant_from_winds(tracer, u, v, w, dt=60.0, boundaries="open")
    np.testing.assert_allclose(courant[0], 0.5 * 60.0 / 500.0)
    out = advect_xarray(tracer, u, v, w, dt=60.0, n_steps=3,
                        boundaries={"z": "rigid", "y": "open", "x": "periodic"})
    assert out.dims == ("z", "y", "x") and out.shape == tracer.shape
    c, _, b = courant_from_winds(tracer, u, v, w, dt=60.0,
                                 boundaries={"z": "rigid", "y": "open", "x": "periodic"})
    want = Solver(tracer.values, c, boundaries=b).advance(3)
    np.testing.assert_array_equal(out.values, want)


def test_constant_boundaries_by_dimension_name():
    """A Constant inflow on the western side, open elsewhere: the faces are zero gradient
    there (as for open) and the run matches the numpy reference."""
    from stencilpy.mpdata import Constant
    tracer, u, v = cartesian()
    bnd = {"x": (Constant(3.0), "open"), "y": "open"}
    courant, g, bcs = courant_from_winds(tracer, abs(u) + 1.0, v, dt=100.0, boundaries=bnd)
    assert bcs == (("open", "open"), (Constant(3.0), "open"))
    np.testing.assert_allclose(courant[1], faces_by_hand(abs(u.values) + 1.0, 1, "edge") * 0.05,
                               rtol=1e-15, atol=0)
    out = advect_xarray(tracer, abs(u) + 1.0, v, dt=100.0, n_steps=6, boundaries=bnd,
                        nonoscillatory=True)
    want = mpdata_advance(tracer.values, courant, 6, boundaries=bcs, nonoscillatory=True)
    np.testing.assert_allclose(out.values, want, rtol=0, atol=1e-12 * np.abs(want).max())
    assert out.values[:, 0].mean() > tracer.values[:, 0].mean() + 0.5   # 3.0 flows in


def test_input_errors():
    tracer, u, v = cartesian()
    with pytest.raises(WindsError, match="evenly spaced"):
        bad = tracer.assign_coords(x=np.r_[0.0, np.cumsum(np.linspace(1, 2, 11))])
        courant_from_winds(bad, u.assign_coords(x=bad.x), dt=1.0)
    with pytest.raises(WindsError, match="no coordinate"):
        courant_from_winds(tracer.drop_vars("x"), u.drop_vars("x"), dt=1.0)
    with pytest.raises(WindsError, match="entries along its axis"):
        courant_from_winds(tracer, winds={"x": np.zeros((9, 5))}, dt=1.0)
    with pytest.raises(WindsError, match="dimensions"):
        courant_from_winds(tracer, u.expand_dims(time=2), dt=1.0)
    with pytest.raises(WindsError, match="dt must be"):
        courant_from_winds(tracer, u, dt=-1.0)
    with pytest.raises(WindsError, match="NaN"):
        courant_from_winds(tracer, u.where(u > 0), dt=1.0)
    with pytest.raises(WindsError, match="no winds"):
        courant_from_winds(tracer, dt=1.0)
    with pytest.raises(WindsError, match="DataArray"):
        courant_from_winds(tracer.values, u, dt=1.0)
    with pytest.raises(WindsError, match="pole"):
        lat = np.arange(-90.0, 91.0, 10.0)
        t = xr.DataArray(np.ones((19, 4)), coords={"lat": lat, "lon": np.arange(4.0)},
                         dims=("lat", "lon"))
        courant_from_winds(t, xr.zeros_like(t), dt=1.0)


def test_decreasing_latitudes_give_the_mirrored_run():
    """ERA5-style north-to-south latitudes: the same physical run, stored upside down."""
    lat, lon, coords = sphere(nlat=12, lat0=-33.0)
    la, lo = np.meshgrid(np.deg2rad(lat), np.deg2rad(lon), indexing="ij")
    u = xr.DataArray(15 * np.cos(la), coords=coords, dims=("lat", "lon"))
    v = xr.DataArray(8 * np.sin(lo) + 3, coords=coords, dims=("lat", "lon"))
    tracer = xr.DataArray(1 + np.exp(-((la - 0.2) ** 2 + (lo - 1.0) ** 2) * 6), coords=coords,
                          dims=("lat", "lon"))
    up = advect_xarray(tracer, u, v, dt=1800.0, n_steps=10, nonoscillatory=True)
    flip = dict(lat=slice(None, None, -1))
    down = advect_xarray(tracer.isel(flip), u.isel(flip), v.isel(flip), dt=1800.0, n_steps=10,
                         nonoscillatory=True)
    np.testing.assert_allclose(down.isel(flip).values, up.values, rtol=0, atol=1e-12)
    assert np.abs(up - tracer).max() > 1e-3


# --------------------------------------------------------------------------- winds in time


def winds_in_time(n_steps, seed=5, boundaries_periodic=False):
    tracer, u, v = cartesian()
    rng = np.random.default_rng(seed)
    time = np.arange(n_steps) * 60.0
    shape = (n_steps,) + tracer.shape
    coords = dict(tracer.coords, time=("time", time))
    ut = xr.DataArray(rng.uniform(-8, 8, shape), coords=coords, dims=("time", "y", "x"))
    vt = xr.DataArray(rng.uniform(-8, 8, shape), coords=coords, dims=("time", "y", "x"))
    return tracer, ut, vt


@pytest.mark.parametrize("bname, opts", [("periodic", dict(n_iters=2)),
                                         ("periodic", dict(n_iters=2, nonoscillatory=True)),
                                         ("open", dict(n_iters=3, nonoscillatory=True)),
                                         ("rigid", dict(n_iters=2))])
def test_winds_varying_in_time_match_a_loop_of_fixed_wind_steps(bname, opts):
    """One wind per step along "time": the same as a hand-written loop of one-step runs,
    each with that step's wind held fixed (the fused periodic path and the general one)."""
    n = 4
    tracer, ut, vt = winds_in_time(n)
    calls = []
    out = advect_xarray(tracer, ut, vt, dt=60.0, n_steps=n, boundaries=bname,
                        progress=lambda d, t: calls.append((d, t)), **opts)
    want = tracer
    for k in range(n):
        want = advect_xarray(want, ut.isel(time=k), vt.isel(time=k), dt=60.0, n_steps=1,
                             boundaries=bname, **opts)
    np.testing.assert_allclose(out.values, want.values, rtol=0,
                               atol=1e-13 * np.abs(want.values).max())
    assert calls == [(k, n) for k in range(1, n + 1)]
    assert out.dims == tracer.dims and out.attrs["mpdata_steps"] == n
    # and different from holding the first wind for every step
    first = advect_xarray(tracer, ut.isel(time=0), vt.isel(time=0), dt=60.0, n_steps=n,
                          boundaries=bname, **opts)
    assert np.abs(first.values - out.values).max() > 1e-6


def test_winds_in_time_mixed_with_a_constant_wind_and_a_mapping():
    n = 3
    tracer, ut, vt = winds_in_time(n, seed=8)
    v0 = vt.isel(time=0, drop=True)
    out = advect_xarray(tracer, winds={"x": ut, "y": v0}, dt=60.0, n_steps=n)
    want = tracer
    for k in range(n):
        want = advect_xarray(want, ut.isel(time=k), v0, dt=60.0, n_steps=1)
    np.testing.assert_allclose(out.values, want.values, rtol=0,
                               atol=1e-13 * np.abs(want.values).max())


def test_winds_in_time_errors():
    tracer, ut, vt = winds_in_time(3)
    with pytest.raises(WindsError, match="3 entries, but n_steps = 4"):
        advect_xarray(tracer, ut, vt, dt=60.0, n_steps=4)
    fast = ut.copy()
    fast[2] = fast[2] * 50.0                     # only step 2 breaks the limit
    with pytest.raises(CourantLimitError, match="at step 2 .'time' index 2."):
        advect_xarray(tracer, fast, vt, dt=60.0, n_steps=3)
    with pytest.raises(WindsError, match="no time dimension"):
        advect_xarray(tracer, ut, vt, dt=60.0, n_steps=3, time_dim="t")
    out = advect_xarray(tracer, ut.isel(time=slice(0, 0)), vt.isel(time=slice(0, 0)),
                        dt=60.0, n_steps=0)
    np.testing.assert_array_equal(out.values, tracer.values)
