"""The latitude/longitude grid of a DataArray, and the coefficients the stencils read.

Everything here is small 1-D numpy (one value per latitude or per longitude), computed
once per grid and cached.  The coefficients are MetPy's numerics (``metpy.calc.tools``):

* nominal spacings ``dx = R * diff(lon)``, ``dy = R * diff(lat)`` (radians; signed, so a
  descending latitude gives ``dy < 0`` exactly as MetPy's geodesic distances do);
* ``first_derivative``'s three-point formula for non-uniform spacing (Bowen 2005) at every
  interior point, written as weights ``(w_minus, w_centre, w_plus)`` of ``f[i-1], f[i],
  f[i+1]``;
* at the first and last points, MetPy's second-order one-sided formulas.  The stencils
  read ``f[i-1]`` there through boundary ``"extrapolate"`` (``f[-1] = 3 f[0] - 3 f[1] +
  f[2]``), so the edge weights are *folded*: chosen so that the centred expression with the
  extrapolated ghost equals the one-sided formula on ``f[0], f[1], f[2]`` exactly;
* map factors of the spherical ``latitude_longitude`` projection: parallel scale
  ``1 / cos(lat)`` and meridional scale 1, and MetPy's metric term
  ``dx_correction = (m / p) dp/dy`` with ``dp/dy`` a *finite difference* of the map factor
  (the same weights), not ``tan(lat) / R``.

A grid is *global* when its longitudes are uniform and cover 360 degrees: longitude is
then periodic (uniform weights, boundary ``"wrap"``; no one-sided columns at the seam).
At a pole (``|lat| == 90``) the parallel scale is infinite: it is set to NaN, so every
result that uses it there (x-derivatives, and the metric term on the pole row and the
rows next to it) is NaN, never a silently wrong number.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from stencilpy.errors import StencilCallError
from stencilpy.extrapolation import weights, window

#: MetPy's defaults (metpy.constants): Earth's rotation rate and standard gravity
OMEGA = 7.292115e-5                  # rad s-1
GRAVITY = 9.80665                    # m s-2
EARTH_RADIUS = 6371229.0             # m (API default)

_LAT_NAMES, _LON_NAMES = ("lat", "latitude"), ("lon", "longitude")
_LAT_UNITS = ("degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn")
_LON_UNITS = ("degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese")


def find_dims(da) -> tuple[str, str]:
    """(latitude dim, longitude dim) of a DataArray: by name, else by CF attributes of the
    dimension coordinate (``standard_name``, ``units``, ``axis``)."""
    lat = _find(da, _LAT_NAMES, "latitude", _LAT_UNITS, "Y")
    lon = _find(da, _LON_NAMES, "longitude", _LON_UNITS, "X")
    missing = [w for w, d in (("latitude", lat), ("longitude", lon)) if d is None]
    if missing:
        raise StencilCallError(
            f"{da.name or 'the DataArray'!s} has dims {tuple(da.dims)} and no "
            f"{' or '.join(missing)} dimension: name it 'lat'/'lon' ('latitude'/'longitude') "
            "or give its coordinate CF attributes (standard_name, units 'degrees_north'/"
            "'degrees_east')")
    return lat, lon


def _find(da, names, standard, units, axis) -> str | None:
    for dim in da.dims:
        if str(dim).lower() in names:
            return dim
    for dim in da.dims:
        if dim not in da.coords:
            continue
        attrs = da.coords[dim].attrs
        unit = str(attrs.get("units", "")).lower().replace(" ", "")
        if attrs.get("standard_name") == standard or unit in units or \
                (attrs.get("axis") == axis and unit.startswith("degree")):
            return dim
    return None


def derivative_weights(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MetPy's first-derivative weights for spacings ``delta`` (length n - 1), the edge
    rows folded for an ``"extrapolate"`` ghost.

    >>> wm, w0, wp = derivative_weights(np.array([2.0, 2.0, 2.0]))
    >>> wm.tolist(), w0.tolist(), wp.tolist()
    ([-0.25, -0.25, -0.25, -0.25], [0.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25])
    """
    d = np.asarray(delta, dtype=np.float64)
    n = d.size + 1
    wm, w0, wp = np.zeros(n), np.zeros(n), np.zeros(n)
    d0, d1 = d[:-1], d[1:]
    comb = d0 + d1
    wm[1:-1] = -d1 / (comb * d0)
    w0[1:-1] = (d1 - d0) / (d0 * d1)
    wp[1:-1] = d0 / (comb * d1)
    # left edge, MetPy: a f0 + b f1 + c f2; the stencil sees f[-1] = 3 f0 - 3 f1 + f2
    d0, d1 = d[0], d[1]
    comb = d0 + d1
    a, b, c = -(comb + d0) / (comb * d0), comb / (d0 * d1), -d0 / (comb * d1)
    wm[0], w0[0], wp[0] = c, a - 3 * c, b + 3 * c
    # right edge, MetPy: a f[n-3] + b f[n-2] + c f[n-1]; f[n] = 3 f[n-1] - 3 f[n-2] + f[n-3]
    d0, d1 = d[-2], d[-1]
    comb = d0 + d1
    a, b, c = d1 / (comb * d0), -comb / (d0 * d1), (comb + d1) / (comb * d1)
    wm[-1], w0[-1], wp[-1] = b + 3 * a, c - 3 * a, a
    return wm, w0, wp


def apply_weights(w, f: np.ndarray) -> np.ndarray:
    """The weights applied to a 1-D ``f`` (the ghosts extrapolated): the derivative."""
    wm, w0, wp = w
    g = window(f, 0, -1, f.size + 1)
    return wm * g[:-2] + w0 * g[1:-1] + wp * g[2:]


def derivative_band(w) -> np.ndarray:
    """The derivative as a band matrix: ``B[i, 2 + k]`` is the weight of ``f[i + k]``
    (k = -2..2) in the derivative at ``i``, the edge rows' ghosts unfolded into MetPy's
    one-sided weights on the three end entries.

    >>> derivative_band(derivative_weights(np.array([1.0, 1.0, 1.0])))[0].tolist()
    [0.0, 0.0, -1.5, 2.0, -0.5]
    """
    wm, w0, wp = (np.asarray(x, dtype=np.float64) for x in w)
    n = w0.size
    band = np.zeros((n, 5))
    band[:, 1], band[:, 2], band[:, 3] = wm, w0, wp
    g = np.array(weights(1), dtype=np.float64)       # f[-1] = 3 f0 - 3 f1 + f2
    band[0, 1] = 0.0
    band[0, 2:5] += wm[0] * g
    band[-1, 3] = 0.0
    band[-1, 2::-1] += wp[-1] * g
    return band


def band_product(a: np.ndarray, b: np.ndarray, reach: int = 3) -> np.ndarray:
    """``A @ B`` of two (n, 5) band matrices as an (n, 2 reach + 1) band (offsets
    -reach..reach; the product's entries further out must be zero)."""
    n = a.shape[0]
    out = np.zeros((n, 9))
    for ka in range(-2, 3):
        rows = np.arange(max(0, -ka), min(n, n - ka))        # i with 0 <= i + ka < n
        for kb in range(-2, 3):
            out[rows, 4 + ka + kb] += a[rows, 2 + ka] * b[rows + ka, 2 + kb]
    outside = np.delete(out, np.s_[4 - reach:5 + reach], axis=1)
    if np.any(outside[np.isfinite(outside)] != 0.0):
        raise AssertionError("band product reaches beyond the band")
    return out[:, 4 - reach:5 + reach]


def is_global(lon: np.ndarray) -> bool:
    """Uniform longitudes whose spacing times their number is 360 degrees."""
    if lon.size < 3:
        return False
    step = np.diff(lon)
    mean = (lon[-1] - lon[0]) / (lon.size - 1)
    return bool(np.all(np.abs(step - mean) <= 1e-6 * abs(mean))
                and abs(abs(mean) * lon.size - 360.0) <= 1e-6 * 360.0)


@dataclass(frozen=True)
class LatLonGrid:
    """Coefficients for one (lat, lon) grid; 1-D float64 arrays, reshaped by ``fields``."""

    lat: np.ndarray
    lon: np.ndarray
    radius: float
    periodic: bool
    wx: tuple           # d/dx weights per longitude (metres), before the map factor
    wy: tuple           # d/dy weights per latitude (metres)
    parallel: np.ndarray       # 1 / cos(lat); NaN at the poles
    metric: np.ndarray         # (1 / p) dp/dy, MetPy's dx_correction (m = 1)
    coriolis: np.ndarray       # 2 Omega sin(lat)

    @property
    def boundary(self) -> dict:
        return {"lat": "extrapolate", "lon": "wrap" if self.periodic else "extrapolate"}

    def fields(self, dtype) -> dict:
        """The stencil arguments: per-latitude ones as ``dtype`` arrays shaped (nlat, 1)
        (broadcast along each row, read once per row), per-longitude ones as 1-D arrays,
        or, on a periodic grid, as ``dtype`` scalars (one uniform spacing): the x weights
        ``xm, xp`` of the first derivative (its centre weight is ``-(xm + xp)``), and the
        Laplacian's (``laplacian_terms``)."""
        dtype = np.dtype(dtype)
        if dtype not in self._fields_cache:
            self._fields_cache[dtype] = self._fields(dtype)
        return dict(self._fields_cache[dtype])

    @functools.cached_property
    def _fields_cache(self) -> dict:
        return {}

    def _fields(self, dtype: np.dtype) -> dict:
        col = {k: v.astype(dtype)[:, None] for k, v in (
            ("ym", self.wy[0]), ("yp", self.wy[2]),
            ("mx", self.parallel), ("metric", self.metric))}
        col.update({k: v.astype(dtype)[:, None] for k, v in self.laplacian_terms()["lat"].items()})
        if self.periodic:
            row = {"xm": dtype.type(self.wx[0][0]), "xp": dtype.type(self.wx[2][0])}
            row["hx2"] = dtype.type(self.wx[2][0] ** 2)
        else:
            row = {"xm": self.wx[0].astype(dtype), "xp": self.wx[2].astype(dtype)}
            row.update({k: v.astype(dtype) for k, v in self.laplacian_terms()["lon"].items()})
        return {**row, **col}

    @functools.cached_property
    def _laplacian(self) -> dict:
        """MetPy's Laplacian ``mx d/dx(mx df/dx) - metric df/dy + d/dy(df/dy)`` (nested
        first derivatives, their one-sided edges included) as one 7-point formula per axis:
        ``mx2 * sum_k ex_k f[lon + k] + sum_k ey_k f[lat + k]`` (k = -3..3; the end rows
        and columns reach 3 points in, the others 2).  The weights of a row sum to 0 (the
        derivative of a constant), so the stencils take the six off-centre ones and read
        ``f[k] - f``.  Periodic x: ``hx2 * ((f[lon + 2] - f) + (f[lon - 2] - f))``."""
        dy = derivative_band(self.wy)
        first = np.zeros((dy.shape[0], 7))
        first[:, 1:6] = dy
        with np.errstate(invalid="ignore"):
            ey = band_product(dy, dy) - self.metric[:, None] * first
        names = ("m3", "m2", "m1", None, "p1", "p2", "p3")     # the centre: minus the sum
        out = {"lat": {f"ey{k}": ey[:, i] for i, k in enumerate(names) if k}, "lon": {}}
        out["lat"]["mx2"] = self.parallel ** 2
        if not self.periodic:
            dx = derivative_band(self.wx)
            ex = band_product(dx, dx)
            out["lon"] = {f"ex{k}": ex[:, i] for i, k in enumerate(names) if k}
        return out

    def laplacian_terms(self) -> dict:
        """``{"lat": {name: per-latitude array}, "lon": {name: per-longitude array}}``."""
        return self._laplacian


def grid_of(lat, lon, radius: float, periodic=None) -> LatLonGrid:
    """The (cached) grid for these coordinates."""
    lat = np.asarray(lat, dtype=np.float64)
    lon = np.asarray(lon, dtype=np.float64)
    return _grid(lat.tobytes(), lon.tobytes(), float(radius), periodic)


@functools.lru_cache(maxsize=32)
def _grid(lat_bytes, lon_bytes, radius, periodic) -> LatLonGrid:
    lat, lon = np.frombuffer(lat_bytes), np.frombuffer(lon_bytes)
    for name, c in (("latitude", lat), ("longitude", lon)):
        if c.size < 3:
            raise StencilCallError(f"the grid has {c.size} {name}(s); derivatives need at "
                                   "least 3 points along each axis")
        step = np.diff(c)
        if not (np.all(step > 0) or np.all(step < 0)):
            raise StencilCallError(f"the {name} coordinate is not strictly monotonic; sort "
                                   f"the data along it first (e.g. .sortby('{name[:3]}'))")
    if np.any(np.abs(lat) > 90.0):
        raise StencilCallError("latitudes beyond +-90 degrees: the coordinate must be in degrees")
    periodic = is_global(lon) if periodic is None else bool(periodic)
    if periodic and not is_global(lon):
        raise StencilCallError("periodic=True needs uniform longitudes covering 360 degrees")
    dy = radius * np.deg2rad(np.diff(lat))
    if periodic:
        step = radius * np.deg2rad(np.sign(lon[1] - lon[0]) * 360.0 / lon.size)
        half = np.full(lon.size, 0.5 / step)
        wx = (-half, np.zeros(lon.size), half)
    else:
        wx = derivative_weights(radius * np.deg2rad(np.diff(lon)))
    wy = derivative_weights(dy)
    with np.errstate(divide="ignore", invalid="ignore"):
        parallel = 1.0 / np.cos(np.deg2rad(lat))
        parallel[np.abs(lat) == 90.0] = np.nan
        metric = apply_weights(wy, parallel) / parallel
    coriolis = 2.0 * OMEGA * np.sin(np.deg2rad(lat))
    return LatLonGrid(lat, lon, radius, periodic, wx, wy, parallel, metric, coriolis)
