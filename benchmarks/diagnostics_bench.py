"""Atmospheric diagnostics on a global 0.25 degree grid: stencilpy vs MetPy vs numpy.

    python -m benchmarks.diagnostics_bench                      # 721 x 1440 x 37, f32 and f64
    python -m benchmarks.diagnostics_bench --nlat 181 --nlon 360 --nlev 8   # a quick run
    python -m benchmarks.diagnostics_bench --no-metpy           # leave MetPy out

What is timed (one call = all four diagnostics on every level):
vorticity and divergence of (u, v), the advection of t by (u, v), and the Laplacian of t,
on a global grid (periodic in longitude, poles included, MetPy's one-sided rows at the
poles' edges), for float32 and float64 inputs.

* ``stencilpy``: four calls of ``stencilpy.diagnostics`` (numpy-backed DataArrays in and out),
  each one kernel call over every level;
* ``stencilpy-fused``: ``vorticity_divergence`` (one pass over u, v for both) and
  ``advection_laplacian`` (one pass over t, u, v for both);
* ``numpy``: the same formulas written with numpy slicing (``np.roll`` across the seam,
  MetPy's weights along latitude, one-sided end rows, the Laplacian nested), whole arrays;
* ``metpy-dataarray``: ``metpy.calc`` as users call it, on the DataArrays with a
  ``latitude_longitude`` CRS (MetPy derives spacings and map factors itself, every call);
* ``metpy-grid``: ``metpy.calc`` on the same arrays with the grid arguments it would derive
  (spacings, map factors) computed once outside the timing.
* ``copy bound``: the bytes each stencilpy variant must move (every input read once and
  every output written once per call: 12 fields for the four calls, 9 fused) at the
  bandwidth of ``np.copyto`` between two preallocated arrays of one field, measured in the
  same run (``--`` a lower bound for time; fresh outputs also pay their page faults).

Checks first: each implementation equals ``stencilpy.diagnostics`` (numpy: at every point;
MetPy: away from the seam columns, where MetPy is one-sided and stencilpy periodic).
Peak memory: the largest numpy allocation (``tracemalloc``) during one call beyond the inputs,
as a multiple of the inputs' size (u, v, t).  Repeats are interleaved; medians reported
(MetPy on DataArrays: ``--metpy-repeats``, default 1, it takes minutes at full size).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import warnings

import numpy as np

from .timing import median

R = 6371229.0


def make_inputs(nlat, nlon, nlev, dtype, seed=0):
    import xarray as xr
    lat = np.linspace(90.0, -90.0, nlat)                 # ERA5 order: north to south
    lon = np.arange(nlon) * 360.0 / nlon
    la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    rng = np.random.default_rng(seed)
    coords = {"level": np.arange(nlev, dtype=float), "lat": lat, "lon": lon}
    out = []
    for scale, offset, units, name in ((20.0, 5.0, "m s-1", "u"), (10.0, 0.0, "m s-1", "v"),
                                       (30.0, 250.0, "K", "t")):
        base = (np.cos(la) * np.sin(3 * lo + 0.3 * la) + 0.2 * np.cos(5 * la)).astype(dtype)
        data = np.empty((nlev, nlat, nlon), dtype=dtype)
        for k in range(nlev):
            data[k] = offset + scale * (base + 0.05 * k / max(nlev, 1))
        data += (0.01 * scale * rng.standard_normal((nlat, nlon))).astype(dtype)
        out.append(xr.DataArray(data, dims=("level", "lat", "lon"), coords=coords, name=name,
                                attrs={"units": units}))
    return out


# -- implementations: each returns (vorticity, divergence, advection, laplacian) arrays ----
def run_stencilpy(u, v, t):
    from stencilpy import diagnostics as spd
    return (spd.vorticity(u, v).data, spd.divergence(u, v).data,
            spd.advection(t, u, v).data, spd.laplacian(t).data)


def run_stencilpy_fused(u, v, t):
    from stencilpy import diagnostics as spd
    zeta, delta = spd.vorticity_divergence(u, v)
    adv, lap = spd.advection_laplacian(t, u, v)
    return zeta.data, delta.data, adv.data, lap.data


class NumpyDiagnostics:
    """The formulas with numpy only (global grid: periodic longitudes)."""

    def __init__(self, lat, lon, dtype, radius=R):
        from stencilpy.diagnostics.grid import derivative_weights
        y = radius * np.deg2rad(lat)
        self.w = [w.astype(dtype)[:, None] for w in derivative_weights(np.diff(y))]
        self.half = dtype.type(0.5 / (radius * np.deg2rad(360.0 / lon.size)))
        with np.errstate(divide="ignore"):
            p = 1.0 / np.cos(np.deg2rad(lat))
        p[np.abs(lat) == 90.0] = np.nan
        self.p = p.astype(dtype)[:, None]
        self.metric = (self._ddy64(p[:, None]) / p[:, None]).astype(dtype)

    def _ddy64(self, f):
        wm, w0, wp = (w.astype(np.float64) for w in self.w)
        return self._apply(f, wm, w0, wp)

    @staticmethod
    def _apply(f, wm, w0, wp):
        out = np.empty_like(f)
        out[..., 1:-1, :] = wm[1:-1] * f[..., :-2, :] + w0[1:-1] * f[..., 1:-1, :] \
            + wp[1:-1] * f[..., 2:, :]
        first = 3 * f[..., 0, :] - 3 * f[..., 1, :] + f[..., 2, :]            # ghost rows
        last = 3 * f[..., -1, :] - 3 * f[..., -2, :] + f[..., -3, :]
        out[..., 0, :] = wm[0] * first + w0[0] * f[..., 0, :] + wp[0] * f[..., 1, :]
        out[..., -1, :] = wm[-1] * f[..., -2, :] + w0[-1] * f[..., -1, :] + wp[-1] * last
        return out

    def ddy(self, f):
        return self._apply(f, *self.w)

    def ddx(self, f):
        return self.p * self.half * (np.roll(f, -1, -1) - np.roll(f, 1, -1))

    def __call__(self, u, v, t):
        with np.errstate(invalid="ignore"):
            zeta = self.ddx(v) + u * self.metric - self.ddy(u)
            delta = self.ddx(u) - v * self.metric + self.ddy(v)
            gx, gy = self.ddx(t), self.ddy(t)
            adv = -(u * gx + v * gy)
            lap = self.ddx(gx) - gy * self.metric + self.ddy(gy)
        return zeta, delta, adv, lap


def metpy_runner(u, v, t):
    """MetPy on plain arrays with the grid arguments precomputed once."""
    import metpy.calc as mpcalc
    from metpy.units import units
    from tests.diagnostics._data import metpy_grid
    g = metpy_grid(u["lat"].values, u["lon"].values)
    U, V = units.Quantity(u.values, "m/s"), units.Quantity(v.values, "m/s")
    T = units.Quantity(t.values, "K")

    def run(*_):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return tuple(np.asarray(x.magnitude) for x in (
                mpcalc.vorticity(U, V, **g), mpcalc.divergence(U, V, **g),
                mpcalc.advection(T, U, V, **g), mpcalc.geospatial_laplacian(T, **g)))
    return run


def metpy_dataarray_runner(u, v, t):
    """MetPy as users call it: DataArrays with a CRS, grid derived inside every call."""
    import metpy.calc as mpcalc
    from tests.diagnostics._data import metpy_ready
    U, V, T = (metpy_ready(x) for x in (u, v, t))

    def run(*_):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return tuple(np.asarray(getattr(x.data, "magnitude", x.data)) for x in (
                mpcalc.vorticity(U, V), mpcalc.divergence(U, V),
                mpcalc.advection(T, U, V), mpcalc.geospatial_laplacian(T)))
    return run


def copy_bandwidth(field: np.ndarray, repeats: int = 5) -> float:
    """Bytes per second of ``np.copyto`` between two preallocated arrays like ``field``
    (counting the read and the write)."""
    dst = np.empty_like(field)
    np.copyto(dst, field)
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        np.copyto(dst, field)
        best.append(time.perf_counter() - t0)
    return 2 * field.nbytes / median(best)


#: fields each variant reads and writes per call (inputs once, outputs once)
FIELDS_MOVED = {"stencilpy": (2 + 1) + (2 + 1) + (3 + 1) + (1 + 1),
                "stencilpy-fused": (2 + 2) + (3 + 2)}


def check(name, got, want, inner=False):
    """Equal to stencilpy's; ``inner``: only away from the seam columns and the pole rows
    (MetPy is one-sided at the seam and has finite garbage at the poles, stencilpy NaN)."""
    index = (Ellipsis, slice(2, -2), slice(2, -2)) if inner else (Ellipsis,)  # nested: 2
    for label, a, b in zip(("vorticity", "divergence", "advection", "laplacian"), got, want):
        a, b = np.asarray(a)[index], np.asarray(b)[index]
        ok = np.isfinite(b)
        assert (np.isfinite(a) == ok).all(), f"{name} {label}: NaN in different places"
        tol = 2e-5 if np.float32 in (a.dtype, b.dtype) else 1e-10
        err = np.abs(a[ok] - b[ok]).max() / np.abs(b[ok]).max()
        assert err <= tol, f"{name} {label}: max relative difference {err:.2e} > {tol}"


def peak_memory(run, args) -> float:
    """Largest extra numpy allocation during one call (bytes)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = run(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    del result
    return peak


def bench(nlat, nlon, nlev, dtype, repeats, with_metpy, metpy_repeats=1) -> list:
    u, v, t = make_inputs(nlat, nlon, nlev, np.dtype(dtype))
    inputs = sum(x.nbytes for x in (u, v, t))
    numpy_impl = NumpyDiagnostics(u["lat"].values, u["lon"].values, np.dtype(dtype))
    impls = {"stencilpy": (run_stencilpy, (u, v, t)),
             "stencilpy-fused": (run_stencilpy_fused, (u, v, t)),
             "numpy": (numpy_impl, (u.values, v.values, t.values))}
    if with_metpy:
        impls["metpy-grid"] = (metpy_runner(u, v, t), ())
    want = run_stencilpy(u, v, t)                          # also compiles / warms up
    for name, (run, args) in impls.items():
        check(name, run(*args), want, inner=name.startswith("metpy"))
    times = {name: [] for name in impls}
    for r in range(repeats):
        for name in list(impls)[r % len(impls):] + list(impls)[:r % len(impls)]:
            run, args = impls[name]
            t0 = time.perf_counter()
            run(*args)
            times[name].append(time.perf_counter() - t0)
    if with_metpy:
        slow = metpy_dataarray_runner(u, v, t)
        times["metpy-dataarray"] = []
        for r in range(metpy_repeats):
            t0 = time.perf_counter()
            got = slow()
            times["metpy-dataarray"].append(time.perf_counter() - t0)
        check("metpy-dataarray", got, want, inner=True)
        del got
    bandwidth = copy_bandwidth(u.values)
    field = u.nbytes
    rows = []
    for name in times:
        run, args = impls.get(name, (None, None))
        mem = peak_memory(run, args) / inputs if name in ("stencilpy", "stencilpy-fused",
                                                          "numpy") else float("nan")
        rows.append((name, dtype, median(times[name]), mem))
    for name, n in FIELDS_MOVED.items():
        rows.append((f"copy bound ({name[9:] or 'four'})", dtype, n * field / bandwidth,
                     float("nan")))
    return rows


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nlat", type=int, default=721)
    parser.add_argument("--nlon", type=int, default=1440)
    parser.add_argument("--nlev", type=int, default=37)
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metpy-repeats", type=int, default=1)
    parser.add_argument("--no-metpy", action="store_true", help="leave MetPy out")
    args = parser.parse_args(argv)
    print(f"grid {args.nlat} x {args.nlon}, {args.nlev} levels: vorticity, divergence, "
          "advection, Laplacian")
    print(f"{'implementation':<22} {'dtype':<8} {'time (s)':>10} {'numpy / it':>11} "
          f"{'MetPy-grid / it':>16} {'MetPy-DA / it':>14} {'peak mem / inputs':>18}")
    rows = []
    for dtype in args.dtypes.split(","):
        part = bench(args.nlat, args.nlon, args.nlev, dtype, args.repeats, not args.no_metpy,
                     args.metpy_repeats)
        base = {name: t for name, _, t, _ in part}

        def ratio(key, t):
            return f"{base[key] / t:{16 if key == 'metpy-grid' else 14}.1f}" if key in base \
                else f"{'-':>{16 if key == 'metpy-grid' else 14}}"
        for name, dt, t, mem in part:
            mem_text = f"{mem:18.2f}" if mem == mem else f"{'-':>18}"
            print(f"{name:<22} {dt:<8} {t:10.4f} {base['numpy'] / t:11.1f} "
                  f"{ratio('metpy-grid', t)} {ratio('metpy-dataarray', t)} {mem_text}")
        rows += part
    return rows


if __name__ == "__main__":
    main()
