"""Relative vorticity and divergence of the wind on a latitude/longitude grid, MetPy's way.

MetPy (``metpy.calc.vorticity``/``divergence``) differentiates in metres with map factors:
``d/dx = mx * d/dx_nominal`` with ``mx = 1/cos(lat)``, ``dx = R dlon``, ``dy = R dlat``,
three-point centred differences inside and second-order **one-sided** differences on the
first and last rows, and a metric term that is a finite difference of the map factor::

    vorticity  = mx dv/dx + u * metric - du/dy,     metric = d(mx)/dy / mx
    divergence = mx du/dx - v * metric + dv/dy

Shown here: ``dims=("lat", "lon")`` and named offsets (``v[lon + 1]``), ``@sp.function``
helpers, 1-D fields broadcast along the other axis (``mx`` and ``metric`` of shape
(nlat, 1)), two outputs, and per-axis boundaries: ``"periodic"`` across the date line and
``"extrapolate"`` in latitude, whose ghost row makes the centred difference one-sided at
the first and last row (no NaN edges, no special case in the stencil).
``stencilpy.diagnostics.vorticity_divergence`` is the same computation, ready made.

Run it: ``python dsl_examples/vorticity.py``.
"""

import numpy as np

import stencilpy as sp

RADIUS = 6371229.0          # metres (MetPy's latitude_longitude default in this project)


@sp.function
def ddx(f, dx):
    return (f[lon + 1] - f[lon - 1]) / (2.0 * dx)                        # noqa: F821


@sp.function
def ddy(f, dy):
    return (f[lat + 1] - f[lat - 1]) / (2.0 * dy)                        # noqa: F821


@sp.stencil(dims=("lat", "lon"))
def vorticity_divergence(u, v, mx, metric, dx, dy):
    dvdx = mx * ddx(v, dx) + u * metric
    dudx = mx * ddx(u, dx) - v * metric
    return dvdx - ddy(u, dy), dudx + ddy(v, dy)


def numpy_version(u, v, lat, dx, dy):
    """The same formulas with numpy: np.roll across the seam, np.gradient(edge_order=2)
    (one-sided at the ends) in latitude."""
    y = dy * np.arange(lat.size)
    mx = 1.0 / np.cos(np.deg2rad(lat))[:, None]
    metric = np.gradient(mx, y, axis=0, edge_order=2) / mx
    d_dx = lambda f: mx * (np.roll(f, -1, 1) - np.roll(f, 1, 1)) / (2 * dx)   # noqa: E731
    d_dy = lambda f: np.gradient(f, y, axis=0, edge_order=2)                   # noqa: E731
    return d_dx(v) + u * metric - d_dy(u), d_dx(u) - v * metric + d_dy(v)


def main() -> dict:
    """A westerly jet plus a wave on a global 2-degree grid; ``{case: (stencilpy, numpy)}``."""
    lat = np.arange(-80.0, 80.1, 2.0)
    lon = np.arange(0.0, 360.0, 2.0)
    la, lo = np.deg2rad(lat)[:, None], np.deg2rad(lon)[None, :]
    u = 30.0 * np.cos(la) ** 2 + 5.0 * np.sin(2 * lo) * np.cos(la) ** 2
    v = 3.0 * np.cos(3 * lo) * np.sin(2 * la)
    dx, dy = RADIUS * np.deg2rad(2.0), RADIUS * np.deg2rad(2.0)
    mx = 1.0 / np.cos(la)
    y = dy * np.arange(lat.size)
    metric = np.gradient(mx, y, axis=0, edge_order=2) / mx     # MetPy's finite difference
    k = vorticity_divergence
    assert k.dims == ("lat", "lon") and k.halo == ((1, 1), (1, 1))

    zeta, delta = k(u, v, mx, metric, dx, dy, boundary={"lon": "periodic", "lat": "extrapolate"})
    assert np.isfinite(zeta).all()                  # first and last rows: one-sided
    want_zeta, want_delta = numpy_version(u, v, lat, dx, dy)
    results = {"vorticity": (zeta, want_zeta), "divergence": (delta, want_delta)}

    try:                                            # the ready-made diagnostics agree
        import xarray as xr

        from stencilpy import diagnostics as spd
        wind = [xr.DataArray(a, dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
                for a in (u, v)]
        ready = spd.vorticity_divergence(*wind, radius=RADIUS)
        results["diagnostics.vorticity"] = (ready[0].values, want_zeta)
        results["diagnostics.divergence"] = (ready[1].values, want_delta)
    except ImportError:                             # pragma: no cover - xarray missing
        pass
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<24s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
