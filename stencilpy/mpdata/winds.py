"""MPDATA with winds from data: face Courant numbers from cell-centred (or staggered) wind
DataArrays with coordinates, then advection of a tracer DataArray.

>>> import numpy as np, xarray as xr
>>> x = xr.DataArray(np.arange(8) * 1000.0 + 500.0, dims="x", attrs={"units": "m"})
>>> tracer = xr.DataArray(np.r_[0, 0, 1, 1, 0, 0, 0, 0.0], coords={"x": x}, dims="x")
>>> u = xr.full_like(tracer, 5.0)                      # 5 m/s, cell-centred
>>> out = advect_xarray(tracer, u, dt=100.0, n_steps=4, boundaries="periodic")
>>> round(float(out.sum()), 12), out.dims             # mass kept; 4 * 100 s * 5 m/s = 2 cells
(2.0, ('x',))

How the faces are built (docs/mpdata.md, "Winds from data"):

* **Which wind goes along which axis**: ``winds={dim: DataArray}`` says it; otherwise ``u``
  goes along the longitude dimension (``lon``/``longitude``/``x``-like: the last dimension
  when no longitude is named), ``v`` along the latitude one (else the second-to-last), ``w``
  along the remaining one (else the third-to-last).
* **Faces**: a wind with ``N`` entries along its axis is cell-centred and is averaged to the
  ``N + 1`` faces: interior face ``i + 1/2`` gets ``(u_i + u_{i+1}) / 2``; along a periodic
  axis both boundary faces get ``(u_{N-1} + u_0) / 2``; an open side gets the edge value
  (zero gradient); a rigid side gets 0.  A wind with ``N + 1`` entries along its axis is
  staggered and used as given (a rigid side is still set to 0).
* **Spacing**: from the tracer's coordinate along the axis, which must be evenly spaced
  (relative tolerance 1e-6).  Cartesian coordinates are in metres (``units`` "km" is
  converted); the Courant number is ``C = u dt / dx`` (a decreasing coordinate gives a
  negative ``dx``, so a positive wind still moves towards larger coordinate values).
* **Sphere**: when the tracer has a latitude and a longitude dimension (in degrees), the
  equation solved is d(G psi)/dt + div(G u psi) = 0 in (lon, lat) with the Jacobian
  ``G = cos(lat)`` of the cells; the faces hold G C: ``u dt / (R dlon)`` on longitude faces
  (the cos(lat) of G cancels that of the metric) and ``v cos(lat_face) dt / (R dlat)`` on
  latitude faces, angles in radians, ``R = radius`` (6371 km).  A vertical wind ``w`` is in
  the vertical coordinate's units per second.
* **Courant limit**: the largest outflow sum ``sum_d ([C_{i+1/2}]^+ - [C_{i-1/2}]^-) / G_i``
  must be <= 1 (``courant_limit``); otherwise a :class:`CourantLimitError` says by how much
  and which time step would do.
* **Winds that vary in time** (``advect_xarray``): a wind with a ``time_dim`` dimension
  (default "time") that the tracer does not have holds one wind per step: step ``k`` uses
  index ``k`` (its length must be ``n_steps``); the Courant numbers are rebuilt before every
  step and every step's are checked against the limit before the run starts.
"""

from __future__ import annotations

import math

import numpy as np

from stencilpy.errors import StencilError
from stencilpy.mpdata.boundaries import parse_boundaries
from stencilpy.mpdata.courant import max_outflow_courant

__all__ = ["CourantLimitError", "WindsError", "advect_xarray", "courant_from_winds",
           "EARTH_RADIUS"]

#: mean Earth radius in metres
EARTH_RADIUS = 6371000.0

_LAT = ("lat", "latitude", "nav_lat", "rlat", "y_lat")
_LON = ("lon", "longitude", "nav_lon", "rlon", "x_lon")


class WindsError(StencilError, ValueError):
    """The tracer, the winds or their coordinates cannot be used as given."""


class CourantLimitError(WindsError):
    """The time step is too long for the winds (largest outflow Courant sum > limit)."""


def _is_dataarray(value) -> bool:
    return type(value).__name__ == "DataArray" and hasattr(value, "dims")


def _find(dims, names):
    for d in dims:
        if str(d).lower() in names:
            return d
    return None


def _assign(tracer, u, v, w, winds) -> dict:
    """``{dim: wind DataArray}`` for the tracer's dimensions."""
    dims = tuple(tracer.dims)
    if winds is not None:
        if u is not None or v is not None or w is not None:
            raise WindsError("give the winds either as u, v, w or as winds={dim: wind}, "
                             "not both")
        unknown = [d for d in winds if d not in dims]
        if unknown:
            raise WindsError(f"winds: {unknown} are not dimensions of the tracer {dims}")
        return dict(winds)
    lat, lon = _find(dims, _LAT), _find(dims, _LON)
    if lat is not None and lon is not None:
        rest = [d for d in dims if d not in (lat, lon)]
        axes = (lon, lat, rest[0] if len(rest) == 1 else None)
    else:
        axes = tuple(dims[-k] if len(dims) >= k else None for k in (1, 2, 3))
    targets = {}
    for name, wind, dim in zip("uvw", (u, v, w), axes):
        if wind is None:
            continue
        if dim is None:
            raise WindsError(f"{name} given, but the tracer {dims} has no axis for it; "
                             f"use winds={{dim: wind}}")
        targets[dim] = wind
    if not targets:
        raise WindsError("no winds given: pass u (and v, w) or winds={dim: wind}")
    return targets


def _coordinate(tracer, dim):
    if dim not in tracer.coords:
        raise WindsError(f"the tracer has no coordinate {dim!r}: the grid spacing along "
                         f"{dim!r} comes from it; assign one (tracer.assign_coords({dim}=...))")
    values = np.asarray(tracer[dim].values, dtype=np.float64)
    if values.ndim != 1 or values.size < 2:
        raise WindsError(f"coordinate {dim!r} must be 1-D with at least 2 values")
    steps = np.diff(values)
    step = float(np.mean(steps))
    if step == 0.0 or not np.allclose(steps, step, rtol=1e-6, atol=0.0):
        raise WindsError(f"coordinate {dim!r} is not evenly spaced (steps from "
                         f"{steps.min():.6g} to {steps.max():.6g}): MPDATA here needs a "
                         f"uniform grid along each axis; interpolate to one first")
    return values, step


def _faces(values, axis, n, sides, name):
    """The N + 1 face values of a wind (cell-centred: averaged; staggered: as given)."""
    length = values.shape[axis]
    low, high = sides
    if length == n + 1:
        faces = np.array(values, dtype=np.float64)
        if low == "periodic":
            first, last = np.take(faces, 0, axis=axis), np.take(faces, n, axis=axis)
            if not np.allclose(first, last, rtol=1e-12, atol=1e-12 * np.abs(faces).max()):
                raise WindsError(f"{name} is staggered (N + 1 = {n + 1} faces) along a "
                                 f"periodic axis, so its first and last faces are the same "
                                 f"face and must be equal")
    elif length == n:
        cells = np.asarray(values, dtype=np.float64)
        pad = [(0, 0)] * cells.ndim
        pad[axis] = (1, 1)
        padded = np.pad(cells, pad, mode="wrap" if low == "periodic" else "edge")
        lo = [slice(None)] * cells.ndim
        hi = [slice(None)] * cells.ndim
        lo[axis], hi[axis] = slice(0, n + 1), slice(1, n + 2)
        faces = 0.5 * (padded[tuple(lo)] + padded[tuple(hi)])
    else:
        raise WindsError(f"{name} has {length} entries along its axis, but the tracer has "
                         f"{n} cells there: give {n} (cell-centred) or {n + 1} (staggered)")
    for side, entry in ((low, 0), (high, n)):
        if side == "rigid":
            index = [slice(None)] * faces.ndim
            index[axis] = entry
            faces[tuple(index)] = 0.0
    return faces


def _wind_values(wind, tracer, dim, name):
    """The wind's values with its axes in the tracer's order (its own axis may carry
    another dimension name when staggered)."""
    if not _is_dataarray(wind):
        arr = np.asarray(wind, dtype=np.float64)
        if arr.ndim != tracer.ndim:
            raise WindsError(f"{name} is {arr.ndim}-D but the tracer is {tracer.ndim}-D")
        return arr
    others = [d for d in tracer.dims if d != dim]
    missing = [d for d in others if d not in wind.dims]
    extra = [d for d in wind.dims if d not in tracer.dims]
    if missing or len(extra) > (0 if dim in wind.dims else 1) or wind.ndim != tracer.ndim:
        raise WindsError(f"{name} has dimensions {wind.dims}, the tracer {tracer.dims}: the "
                         f"wind must have the tracer's dimensions (its own axis {dim!r} may "
                         f"be a staggered dimension of length N + 1); no time dimension")
    own = dim if dim in wind.dims else extra[0]
    order = [own if d == dim else d for d in tracer.dims]
    values = np.asarray(wind.transpose(*order).values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise WindsError(f"{name} contains NaN or infinite values (fill missing winds first)")
    return values


def _units_factor(tracer, dim) -> float:
    units = str(tracer[dim].attrs.get("units", "m")).strip().lower()
    return 1000.0 if units in ("km", "kilometre", "kilometer", "kilometres", "kilometers") \
        else 1.0


def courant_from_winds(tracer, u=None, v=None, w=None, *, dt, winds=None, boundaries=None,
                       radius=EARTH_RADIUS):
    """``(courant, g_factor, boundaries)`` for :class:`~stencilpy.mpdata.Solver`: the face
    Courant numbers (G C on a sphere), the G factor (None, or cos(lat) on a sphere) and the
    canonical boundaries.  See the module docstring for how."""
    if not _is_dataarray(tracer):
        raise WindsError("the tracer must be an xarray.DataArray with coordinates")
    try:
        dt = float(dt)
    except (TypeError, ValueError):
        raise WindsError(f"dt must be a number of seconds, got {dt!r}") from None
    if not (math.isfinite(dt) and dt > 0.0):
        raise WindsError(f"dt must be a positive number of seconds, got {dt!r}")
    dims = tuple(tracer.dims)
    ndim = len(dims)
    targets = _assign(tracer, u, v, w, winds)
    lat, lon = _find(dims, _LAT), _find(dims, _LON)
    spherical = lat is not None and lon is not None
    coords = {d: _coordinate(tracer, d) for d in dims}
    if boundaries is None:
        boundaries = {}
        if spherical:
            span = abs(coords[lon][1]) * tracer.sizes[lon]
            boundaries[lon] = "periodic" if abs(span - 360.0) < 1e-6 * 360.0 else "open"
        boundaries = {d: boundaries.get(d, "open") for d in dims}
    bcs = parse_boundaries(boundaries, ndim, dims)
    shape = tuple(tracer.shape)
    g = None
    if spherical:
        lat_c = np.deg2rad(coords[lat][0])
        if np.abs(coords[lat][0]).max() > 90.0:
            raise WindsError(f"latitude {lat!r} goes beyond +-90 degrees")
        cos_c = np.cos(lat_c)
        if (cos_c <= 1e-12).any():
            raise WindsError(f"a cell of {lat!r} is centred on a pole (cos(lat) = 0): use "
                             "cell-centred latitudes (the poles on cell faces)")
        shape_g = [1] * ndim
        shape_g[dims.index(lat)] = shape[dims.index(lat)]
        g = np.broadcast_to(cos_c.reshape(shape_g), shape).copy()
    courant = []
    for axis, dim in enumerate(dims):
        n = shape[axis]
        face_shape = tuple(m + 1 if ax == axis else m for ax, m in enumerate(shape))
        if dim not in targets:
            courant.append(np.zeros(face_shape))
            continue
        name = f"the wind along {dim!r}"
        faces = _faces(_wind_values(targets[dim], tracer, dim, name), axis, n, bcs[axis], name)
        step = coords[dim][1]
        if spherical and dim in (lat, lon):
            spacing = radius * math.radians(step)
            c = faces * (dt / spacing)
            if dim == lat:
                lat_f = np.deg2rad(coords[lat][0][0] - 0.5 * step + step * np.arange(n + 1))
                cos_f = np.clip(np.cos(lat_f), 0.0, None)
                cos_f[np.abs(np.rad2deg(lat_f)) >= 90.0 - 1e-9] = 0.0
                shape_f = [1] * ndim
                shape_f[axis] = n + 1
                c = c * cos_f.reshape(shape_f)
        else:
            c = faces * (dt / (step * _units_factor(tracer, dim)))
        courant.append(c)
    return tuple(courant), g, bcs


def _time_slices(tracer, u, v, w, winds, time_dim, n_steps):
    """``(at(k), varying)``: ``at(k)`` gives ``(u, v, w, winds)`` of step ``k`` (the winds
    with a ``time_dim`` the tracer lacks taken at index ``k``)."""
    given = dict(winds) if winds is not None else {"u": u, "v": v, "w": w}
    varying = {key for key, wind in given.items()
               if _is_dataarray(wind) and time_dim is not None and time_dim in wind.dims
               and time_dim not in tracer.dims}
    for key in sorted(varying, key=str):
        length = given[key].sizes[time_dim]
        if length != n_steps:
            raise WindsError(f"the wind {key!r} varies along {time_dim!r} with {length} "
                             f"entries, but n_steps = {n_steps}: give one wind per step "
                             f"(select or interpolate to the step times first)")

    def at(k):
        now = {key: (wind.isel({time_dim: k}, drop=True) if key in varying else wind)
               for key, wind in given.items()}
        if winds is not None:
            return None, None, None, now
        return now["u"], now["v"], now["w"], None
    return at, bool(varying)


def _check_limit(courant, g, dt, courant_limit, when=""):
    worst = max_outflow_courant(courant, g)
    if worst > courant_limit:
        raise CourantLimitError(
            f"dt = {float(dt):g} s is too long for these winds{when}: the largest outflow "
            f"Courant sum is {worst:.4g} > {courant_limit:g} (donor-cell passes would be "
            f"unstable); use dt <= {float(dt) * courant_limit / worst:.4g} s (and more steps)")


def advect_xarray(tracer, u=None, v=None, w=None, *, dt, n_steps, winds=None,
                  boundaries=None, radius=EARTH_RADIUS, courant_limit=1.0, progress=None,
                  threads=None, time_dim="time", **options):
    """Advance ``tracer`` (an ``xarray.DataArray``) ``n_steps`` steps of ``dt`` seconds with
    MPDATA in the winds ``u``, ``v``, ``w`` (or ``winds={dim: wind}``), constant or, along
    ``time_dim``, one per step.

    ``boundaries``: as for :class:`~stencilpy.mpdata.Solver`, a mapping may use dimension
    names; default: longitude periodic when it spans 360 degrees, everything else open.
    ``options``: the MPDATA options (``n_iters``, ``nonoscillatory``, ...; ``g_form``).
    ``progress``: True, False, a callable ``(done, total)``, or None (a bar on stderr when
    the run has at least 10^7 cell-steps).  Returns a DataArray with the tracer's dims,
    coords, name and attrs (plus ``mpdata_steps`` and ``mpdata_dt``).
    """
    from stencilpy.mpdata.solver import Solver

    if isinstance(n_steps, (bool, np.bool_)) or not isinstance(n_steps, (int, np.integer)) \
            or n_steps < 0:
        raise WindsError(f"n_steps must be a whole number >= 0, got {n_steps!r}")
    n_steps = int(n_steps)
    at, varying = _time_slices(tracer, u, v, w, winds, time_dim, n_steps)

    def courant_at(k):
        u_k, v_k, w_k, winds_k = at(k)
        return courant_from_winds(tracer, u_k, v_k, w_k, dt=dt, winds=winds_k,
                                  boundaries=boundaries, radius=radius)

    if varying and n_steps == 0:
        out = tracer.copy()
        out.attrs = dict(tracer.attrs, mpdata_steps=0, mpdata_dt=float(dt))
        return out
    courant, g, bcs = courant_at(0)
    if varying:                                   # every step checked before the run
        for k in range(n_steps):
            step_courant = courant if k == 0 else courant_at(k)[0]
            _check_limit(step_courant, g, dt, courant_limit,
                         f" at step {k} ({time_dim!r} index {k})")
    else:
        _check_limit(courant, g, dt, courant_limit)
    solver = Solver(tracer, courant, boundaries=bcs, g_factor=g, threads=threads, **options)
    if progress is None:
        progress = n_steps * int(np.prod(tracer.shape)) >= 10**7
    if not varying:
        out = solver.advance(n_steps, progress=progress)
    else:
        out = _advance_varying(solver, n_steps, lambda k: courant_at(k)[0], progress)
    out.attrs = dict(tracer.attrs, mpdata_steps=n_steps, mpdata_dt=float(dt))
    return out


def _advance_varying(solver, n_steps, courant_at, progress):
    """``n_steps`` steps, the Courant numbers of step ``k`` set before it."""
    import contextlib

    from stencilpy.mpdata.progress import ProgressBar

    bar = contextlib.nullcontext()
    report = None
    if progress is True:
        bar = ProgressBar(n_steps, label=f"MPDATA {'x'.join(map(str, solver.shape))}")
        report = bar.update
    elif callable(progress):
        report = lambda done: progress(done, n_steps)          # noqa: E731
    elif progress is not False:
        raise ValueError(f"progress must be True, False or a callable(done, total), got "
                         f"{progress!r}")
    with bar:
        for k in range(n_steps):
            if k > 0:
                solver.set_courant(courant_at(k))
            solver.run(1)
            if report is not None:
                report(k + 1)
    return solver.state
