"""Scale benchmark: a stencil over a chunked on-disk dataset of several GiB.

    python -m stencilpy.bench.scale [--gib 3] [--dir /tmp] [--time-chunk 16] [--keep]

Generates ``t(time, lat, lon)`` float64 (about ``--gib`` GiB), writes it to netCDF4
(HDF5 chunks of one time step), then runs the 2-D Laplacian with a periodic ``lon``
and NaN rows at the ``lat`` edges (``boundary={"lon": "wrap", "lat": "fill"}``) four
ways, each in its own subprocess so that peak memory (``ru_maxrss``) is per method:

* ``read``       -- the I/O floor: the lazy sum of the input itself (no stencil);
* ``numpy``      -- eager: ``xr.open_dataset(...).t.values`` (load all), numpy slicing
                    into a preallocated result, one time step at a time (bounded temporaries);
* ``xr-roll``    -- lazy: xarray's own ``.shift(lat=±1)`` + ``.roll(lon=±1)`` on dask chunks;
* ``sp-eager``   -- stencilpy on the loaded DataArray;
* ``sp-dask``    -- stencilpy on the lazily opened, dask-chunked DataArray.

Every method ends in the same reduction (the NaN-skipping sum of the result, printed
to compare; eager methods sum one time step at a time), so the lazy methods never hold the whole result.
Throughput = input bytes / wall time of open + compute + sum; for the eager methods
also of the stencil alone (after loading, before the sum) (the file is usually in the page
cache right after writing: this measures compute and memory traffic, not the disk).
The temporary files are removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

METHODS = ("read", "numpy", "xr-roll", "sp-eager", "sp-dask")
BOUNDARY = {"lon": "wrap", "lat": "fill"}


def shape_for(gib: float) -> tuple[int, int, int]:
    nlat, nlon = 721, 1440                       # a 0.25 degree global grid
    nt = max(1, int(round(gib * 2**30 / (8 * nlat * nlon))))
    return nt, nlat, nlon


def generate(path: str, gib: float) -> tuple[int, int, int]:
    import dask.array as da
    import xarray as xr
    nt, nlat, nlon = shape_for(gib)
    data = da.random.default_rng(0).standard_normal((nt, nlat, nlon), chunks=(8, nlat, nlon))
    ds = xr.Dataset({"t": (("time", "lat", "lon"), data)},
                    coords={"time": np.arange(nt), "lat": np.linspace(-90, 90, nlat),
                            "lon": np.arange(nlon) * 0.25})
    ds.to_netcdf(path, engine="netcdf4",
                 encoding={"t": {"chunksizes": (1, nlat, nlon), "zlib": False}})
    return nt, nlat, nlon


def _laplacian_numpy(u: np.ndarray) -> np.ndarray:
    out = np.empty_like(u)
    out[:, 0, :] = np.nan
    out[:, -1, :] = np.nan
    for k in range(u.shape[0]):                   # per time step: bounded temporaries
        s, o = u[k], out[k, 1:-1]
        o[...] = s[:-2] + s[2:]
        o[:, 1:-1] += s[1:-1, :-2] + s[1:-1, 2:]
        o[:, 0] += s[1:-1, -1] + s[1:-1, 1]
        o[:, -1] += s[1:-1, -2] + s[1:-1, 0]
        o -= 4.0 * s[1:-1]
    return out


def _nansum(a: np.ndarray) -> float:
    """NaN-skipping sum, one time step at a time (np.nansum copies its whole input)."""
    return float(sum(np.nansum(a[k]) for k in range(a.shape[0])))


def _stencilpy_laplacian():
    """The stencil, compiled (or loaded from the cache) by a warm-up call: JIT time is
    reported separately, not in the throughput."""
    import xarray as xr

    import stencilpy as sp

    @sp.stencil(dims=("lat", "lon"))
    def laplacian(u):
        return u[lat + 1] + u[lat - 1] + u[lon + 1] + u[lon - 1] - 4.0 * u

    small = xr.DataArray(np.zeros((2, 5, 6)), dims=("time", "lat", "lon"))
    laplacian(small, boundary=BOUNDARY)
    laplacian(small.chunk({"lat": 3}), boundary=BOUNDARY).compute()
    return laplacian


def run_method(method: str, path: str, time_chunk: int) -> dict:
    import xarray as xr
    jit = time.perf_counter()
    stencil = None
    laplacian = _stencilpy_laplacian() if method.startswith("sp-") else None
    start = time.perf_counter()
    loaded = None
    if method == "read":
        with xr.open_dataset(path, engine="netcdf4", chunks={"time": time_chunk}) as ds:
            total = float(ds.t.sum().compute())
    elif method == "numpy":
        with xr.open_dataset(path, engine="netcdf4") as ds:
            u = ds.t.values
        loaded = time.perf_counter()
        result = _laplacian_numpy(u)
        stencil = time.perf_counter() - loaded
        total = _nansum(result)
    elif method == "xr-roll":
        with xr.open_dataset(path, engine="netcdf4", chunks={"time": time_chunk}) as ds:
            u = ds.t
            lap = (u.shift(lat=1) + u.shift(lat=-1) + u.roll(lon=1, roll_coords=False)
                   + u.roll(lon=-1, roll_coords=False) - 4.0 * u)
            total = float(lap.sum().compute())
    else:
        chunks = {"time": time_chunk} if method == "sp-dask" else None
        with xr.open_dataset(path, engine="netcdf4", chunks=chunks) as ds:
            u = ds.t if chunks else ds.t.load()
            loaded = None if chunks else time.perf_counter()
            result = laplacian(u, boundary=BOUNDARY)
            stencil = None if chunks else time.perf_counter() - loaded
            total = float(result.sum().compute()) if chunks else _nansum(result.data)
    end = time.perf_counter()
    return {"method": method, "seconds": end - start, "sum": total,
            "compute": stencil, "jit": start - jit,
            "maxrss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--gib", type=float, default=3.0, help="dataset size in GiB (default 3)")
    p.add_argument("--dir", default=tempfile.gettempdir(), help="where to write the file")
    p.add_argument("--time-chunk", type=int, default=16, help="dask chunk along time")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--keep", action="store_true", help="keep the generated file")
    p.add_argument("--method", help=argparse.SUPPRESS)        # internal: one method
    p.add_argument("--path", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.method:
        print(json.dumps(run_method(args.method, args.path, args.time_chunk)))
        return 0
    workdir = tempfile.mkdtemp(prefix="stencilpy-scale-", dir=args.dir)
    path = os.path.join(workdir, "t.nc")
    try:
        t0 = time.perf_counter()
        nt, nlat, nlon = generate(path, args.gib)
        nbytes = nt * nlat * nlon * 8
        print(f"dataset t(time={nt}, lat={nlat}, lon={nlon}) float64: {nbytes / 2**30:.2f} GiB, "
              f"written in {time.perf_counter() - t0:.1f} s to {path}")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; time chunk {args.time_chunk} "
              f"({args.time_chunk * nlat * nlon * 8 / 2**20:.0f} MiB)")
        print(f"{'method':10} {'seconds':>8} {'GB/s':>6} {'stencil s':>9} {'GB/s':>6} "
              f"{'peak RSS GiB':>13}  sum")
        for method in args.methods.split(","):
            cmd = [sys.executable, "-m", "stencilpy.bench.scale", "--method", method, "--path", path,
                   "--time-chunk", str(args.time_chunk)]
            done = subprocess.run(cmd, capture_output=True, text=True)
            if done.returncode:
                print(f"{method:10} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            c = r["compute"]
            compute = f"{c:9.2f} {nbytes / c / 1e9:6.2f}" if c else f"{'-':>9} {'-':>6}"
            print(f"{method:10} {r['seconds']:8.2f} {nbytes / r['seconds'] / 1e9:6.2f} {compute} "
                  f"{r['maxrss_gib']:13.2f}  {r['sum']:.6e}"
                  + (f"  (stencil setup + JIT/cache {r['jit']:.1f} s, not timed)"
                     if method.startswith("sp-") else ""), flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
