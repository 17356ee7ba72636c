"""``stencilpy demo diagnostics``: post-processing a global dataset, the job stencilpy is for.

A synthetic global dataset (0.5 degree, several pressure levels and times: a westerly jet,
Rossby waves and a meridional temperature gradient) is written to netCDF, opened lazily with
dask (one chunk per time and level), and stencilpy.diagnostics computes vorticity,
divergence, temperature advection and the Laplacian of temperature chunk by chunk with a
progress bar, writing them to a second netCDF file and a map.  Then the accuracy against
MetPy (one level, away from the date line where MetPy is one-sided and stencilpy periodic,
and the poles) and against an independent numpy version, and the speed of all three, are
printed.  Built-in data only, no download.
"""

from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

INPUT_NAME, OUTPUT_NAME, PNG_NAME = "era_like_input.nc", "diagnostics.nc", "diagnostics.png"
RADIUS = 6371229.0


def synthetic_dataset(resolution: float = 0.5, levels: int = 4, times: int = 3):
    """u, v (m s-1) and t (K) on a global grid, north to south as in ERA5."""
    import xarray as xr
    lat = np.linspace(90.0, -90.0, int(round(180 / resolution)) + 1)
    lon = np.arange(0.0, 360.0, resolution)
    plev = np.linspace(850.0, 250.0, levels)
    la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    shape = (times, levels, lat.size, lon.size)
    u, v, t = (np.empty(shape, np.float64) for _ in range(3))
    for i in range(times):
        for k, p in enumerate(plev):
            jet = (10 + 30 * (850 - p) / 600) * np.cos(la) ** 2 * np.exp(-((np.abs(la) - 0.8)
                                                                           / 0.3) ** 2)
            phase = 6 * lo - 0.4 * i
            u[i, k] = jet + 8 * np.sin(phase) * np.sin(2 * la) * np.cos(la)
            v[i, k] = 12 * np.cos(phase) * np.cos(la) ** 3 + 2 * np.sin(3 * lo) * np.cos(la)
            t[i, k] = 300 - 0.06 * (1000 - p) - 40 * np.sin(la) ** 2 \
                + 3 * np.sin(phase + 1.0) * np.cos(la) ** 2
    coords = {"time": np.arange(times) * np.timedelta64(6, "h") + np.datetime64("2026-01-01"),
              "plev": ("plev", plev, {"units": "hPa", "axis": "Z"}),
              "lat": ("lat", lat, {"units": "degrees_north", "standard_name": "latitude"}),
              "lon": ("lon", lon, {"units": "degrees_east", "standard_name": "longitude"})}
    dims = ("time", "plev", "lat", "lon")
    return xr.Dataset({
        "u": (dims, u, {"units": "m s-1", "standard_name": "eastward_wind"}),
        "v": (dims, v, {"units": "m s-1", "standard_name": "northward_wind"}),
        "t": (dims, t, {"units": "K", "standard_name": "air_temperature"})}, coords=coords,
        attrs={"title": "synthetic ERA-like fields (stencilpy demo diagnostics)",
               "Conventions": "CF-1.8"})


def numpy_diagnostics(u, v, t, lat, lon):
    """Independent numpy version (global grid: np.roll across the seam, np.gradient with
    one-sided ends in latitude): vorticity, divergence, advection, Laplacian."""
    y = RADIUS * np.deg2rad(lat)
    dx = RADIUS * np.deg2rad(360.0 / lon.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = 1.0 / np.cos(np.deg2rad(lat))
        mx[np.abs(lat) == 90.0] = np.nan
        mx = mx[:, None]
        metric = np.gradient(mx, y, axis=0, edge_order=2) / mx

        def ddx(f):
            return mx * (np.roll(f, -1, -1) - np.roll(f, 1, -1)) / (2 * dx)

        def ddy(f):
            return np.gradient(f, y, axis=-2, edge_order=2)

        gx, gy = ddx(t), ddy(t)
        return (ddx(v) + u * metric - ddy(u), ddx(u) - v * metric + ddy(v),
                -(u * gx + v * gy), ddx(gx) - gy * metric + ddy(gy))


def stencilpy_diagnostics(ds):
    from stencilpy import diagnostics as spd
    zeta, delta = spd.vorticity_divergence(ds.u, ds.v)
    return zeta, delta, spd.advection(ds.t, ds.u, ds.v), spd.laplacian(ds.t)


def metpy_diagnostics(u, v, t):
    import metpy.calc as mpcalc
    ready = [x.metpy.assign_crs(grid_mapping_name="latitude_longitude", earth_radius=RADIUS)
             for x in (u, v, t)]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        U, V, T = ready
        out = (mpcalc.vorticity(U, V), mpcalc.divergence(U, V), mpcalc.advection(T, U, V),
               mpcalc.geospatial_laplacian(T))
    return tuple(np.asarray(x.metpy.dequantify()) for x in out)


class _DaskProgress:
    """A dask callback drawing stencilpy's progress bar over the graph's tasks."""

    def __init__(self, quiet: bool):
        from dask.callbacks import Callback
        outer = self

        class _Bar(Callback):
            def _start_state(self, dsk, state):
                from stencilpy.mpdata.progress import ProgressBar
                total = sum(len(state[k]) for k in ("ready", "waiting", "running", "finished"))
                outer.bar = None if quiet else ProgressBar(total, label="diagnostics",
                                                           unit="tasks")

            def _posttask(self, key, result, dsk, state, worker_id):
                if outer.bar is not None:
                    outer.bar.update(len(state["finished"]))

            def _finish(self, dsk, state, errored):
                if outer.bar is not None:
                    outer.bar.close()

        self.callback = _Bar()
        self.bar = None


def _relative(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = np.isfinite(b) & np.isfinite(a)
    return float(np.abs(a[ok] - b[ok]).max() / np.abs(b[ok]).max())


def _timed(fn, repeats=3):
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def run(output: Path, resolution=0.5, levels=4, times=3, plot=True, quiet=False,
        with_metpy=True) -> dict:
    """The whole demo; returns the numbers it printed."""
    import xarray as xr
    say = (lambda *a: None) if quiet else print
    output.mkdir(parents=True, exist_ok=True)
    source = synthetic_dataset(resolution, levels, times)
    source.to_netcdf(output / INPUT_NAME)
    say(f"wrote {output / INPUT_NAME}: u, v, t on {source.sizes['lat']} x "
        f"{source.sizes['lon']} ({resolution} deg), {levels} levels, {times} times "
        f"({sum(x.nbytes for x in source.data_vars.values()) / 2**20:.0f} MiB)")

    with xr.open_dataset(output / INPUT_NAME, chunks={"time": 1, "plev": 1}) as ds:
        results = stencilpy_diagnostics(ds)                 # lazy
        assert all(r.chunks is not None for r in results)
        out = xr.Dataset({r.name: r for r in results}, attrs={"source": INPUT_NAME})
        progress = _DaskProgress(quiet)
        t0 = time.perf_counter()
        with progress.callback:
            out.to_netcdf(output / OUTPUT_NAME)
        t_lazy = time.perf_counter() - t0
    say(f"wrote {output / OUTPUT_NAME} ({', '.join(out.data_vars)}) in {t_lazy:.2f} s "
        "(lazy: chunk by chunk from the netCDF file)")

    eager = source.load()
    t_sp, ours = _timed(lambda: stencilpy_diagnostics(eager))
    args = [eager[n].values for n in ("u", "v", "t")] + [eager.lat.values, eager.lon.values]
    t_np, theirs = _timed(lambda: numpy_diagnostics(*args), repeats=2)
    names = ("vorticity", "divergence", "advection", "laplacian")
    numbers = {"stencilpy_s": t_sp, "numpy_s": t_np, "numpy_diff": {}, "metpy_diff": {}}
    say(f"\naccuracy (max |difference| / max |value|), {eager.u.size:,} points per field:")
    for name, a, b in zip(names, ours, theirs):
        numbers["numpy_diff"][name] = _relative(a.values, b)
    if with_metpy:
        one = eager.isel(time=0, plev=-1)
        t_mp, mp = _timed(lambda: metpy_diagnostics(one.u, one.v, one.t), repeats=1)
        inner = (slice(2, -2), slice(2, -2))          # not the seam, not the poles
        for name, a, b in zip(names, ours, mp):
            numbers["metpy_diff"][name] = _relative(a.isel(time=0, plev=-1).values[inner],
                                                    b[inner])
        numbers["metpy_s"] = t_mp * times * levels    # MetPy on one level, scaled
    for name in names:
        mp_text = f"   vs MetPy {numbers['metpy_diff'][name]:.1e}" if with_metpy else ""
        say(f"  {name:<11} vs numpy {numbers['numpy_diff'][name]:.1e}{mp_text}")
    say(f"\nspeed, the four diagnostics on all {times * levels} levels (in memory):")
    say(f"  stencilpy {t_sp:8.3f} s")
    say(f"  numpy     {t_np:8.3f} s   stencilpy is {t_np / t_sp:.1f}x faster")
    if with_metpy:
        say(f"  MetPy     {numbers['metpy_s']:8.3f} s   stencilpy is "
            f"{numbers['metpy_s'] / t_sp:.0f}x faster   (one level timed, x {times * levels})")
    if plot:
        _plot(output / PNG_NAME, ours, eager)
        say(f"\nwrote {output / PNG_NAME}")
    return numbers


def _plot(path: Path, results, ds) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    zeta, _, adv, _ = results
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), constrained_layout=True)
    (zeta.isel(time=0, plev=-1) * 1e5).plot(
        ax=axes[0], cmap="RdBu_r", center=0, cbar_kwargs={"label": "1e-5 s-1"})
    (adv.isel(time=0, plev=0) * 3600).plot(
        ax=axes[1], cmap="PuOr_r", center=0, cbar_kwargs={"label": "K h-1"})
    axes[0].set_title(f"relative vorticity, {float(ds.plev[-1]):.0f} hPa")
    axes[1].set_title(f"temperature advection, {float(ds.plev[0]):.0f} hPa")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_from_args(args) -> int:
    missing = [m for m in ("xarray", "dask", "netCDF4") if not _importable(m)]
    if missing:
        print(f"stencilpy demo diagnostics: error: needs {', '.join(missing)} "
              "(pip install 'stencilpy[xarray,dask]')")
        return 2
    with_metpy = _importable("metpy") and not args.no_metpy
    plot = not args.no_plot and _importable("matplotlib")
    run(args.output, args.resolution, args.levels, args.times, plot=plot, quiet=args.quiet,
        with_metpy=with_metpy)
    return 0


def _importable(name: str) -> bool:
    import importlib.util
    return importlib.util.find_spec(name) is not None
