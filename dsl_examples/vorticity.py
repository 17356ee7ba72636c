"""Relative vorticity and divergence of the wind on a latitude/longitude grid.

On a sphere of radius ``a``, with latitude phi and longitude lambda::

    vorticity  = 1 / (a cos phi) * ( dv/dlambda - d(u cos phi)/dphi )
    divergence = 1 / (a cos phi) * ( du/dlambda + d(v cos phi)/dphi )

Shown here: ``dims=("lat", "lon")`` and offsets that name a dimension (``u[lon + 1]``,
the other axis gets offset 0), a 1-D field ``coslat`` of shape (nlat, 1) broadcast along
longitude, scalar grid spacings, periodic boundaries in longitude only, and a stencil
with two outputs (a tuple return gives a tuple of arrays).

Run it: ``python dsl_examples/vorticity.py``.
"""

import numpy as np

import stencilpy as sp

RADIUS = 6.371e6          # metres


@sp.stencil(dims=("lat", "lon"))
def vorticity_divergence(u, v, coslat, dlat, dlon, radius):
    ddlon_v = (v[lon + 1] - v[lon - 1]) / (2.0 * dlon)                        # noqa: F821
    ddlat_ucos = (u[lat + 1] * coslat[lat + 1] - u[lat - 1] * coslat[lat - 1]) \
        / (2.0 * dlat)                                                       # noqa: F821
    ddlon_u = (u[lon + 1] - u[lon - 1]) / (2.0 * dlon)                        # noqa: F821
    ddlat_vcos = (v[lat + 1] * coslat[lat + 1] - v[lat - 1] * coslat[lat - 1]) \
        / (2.0 * dlat)                                                       # noqa: F821
    scale = 1.0 / (radius * coslat)
    return scale * (ddlon_v - ddlat_ucos), scale * (ddlon_u + ddlat_vcos)


def vorticity_divergence_numpy(u, v, coslat, dlat, dlon, radius):
    """Rows 1 .. nlat-2 (centred differences in latitude), periodic in longitude."""
    c = coslat[:, None]
    ddlon_v = (np.roll(v, -1, 1) - np.roll(v, 1, 1)) / (2.0 * dlon)
    ddlon_u = (np.roll(u, -1, 1) - np.roll(u, 1, 1)) / (2.0 * dlon)
    ucos, vcos = u * c, v * c
    ddlat_ucos = (ucos[2:] - ucos[:-2]) / (2.0 * dlat)
    ddlat_vcos = (vcos[2:] - vcos[:-2]) / (2.0 * dlat)
    scale = 1.0 / (radius * c[1:-1])
    return (scale * (ddlon_v[1:-1] - ddlat_ucos), scale * (ddlon_u[1:-1] + ddlat_vcos))


def main() -> dict:
    """A solid-body rotation plus a divergent wave; return ``{case: (stencilpy, numpy)}``."""
    nlat, nlon = 90, 180
    dlat, dlon = np.pi / nlat, 2 * np.pi / nlon
    lat = -np.pi / 2 + dlat * (np.arange(nlat) + 0.5)         # cell centres, no pole point
    lon = dlon * np.arange(nlon)
    coslat = np.cos(lat)
    u = 20.0 * coslat[:, None] + 5.0 * np.sin(2 * lon)[None, :] * coslat[:, None] ** 2
    v = 3.0 * np.cos(3 * lon)[None, :] * np.sin(2 * lat)[:, None]
    k = vorticity_divergence
    assert k.dims == ("lat", "lon") and k.halo == ((1, 1), (1, 1))

    vort, div = k(u, v, coslat[:, None], dlat, dlon, RADIUS, boundary={"lon": "periodic"})
    # latitude keeps the default "fill": the first and last rows cannot be computed
    assert np.isnan(vort[[0, -1]]).all() and not np.isnan(vort[1:-1]).any()
    want_vort, want_div = vorticity_divergence_numpy(u, v, coslat, dlat, dlon, RADIUS)
    results = {"vorticity": (vort[1:-1], want_vort), "divergence": (div[1:-1], want_div)}

    # solid-body rotation u = U cos(lat) has vorticity 2 U sin(lat) / a
    sb, _ = k(20.0 * coslat[:, None] + 0 * u, 0 * v, coslat[:, None], dlat, dlon, RADIUS,
              boundary={"lon": "periodic", "lat": "valid"})
    exact = 2 * 20.0 * np.sin(lat[1:-1])[:, None] / RADIUS
    print(f"solid-body vorticity: max error {np.max(np.abs(sb - exact)):.2e} "
          f"(of {np.max(np.abs(exact)):.2e}, second order in dlat)")
    for name, (got, want) in results.items():
        err = np.max(np.abs(got - want)) / np.max(np.abs(want))
        print(f"{name:<12s} max relative difference {err:.1e}")
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.max(np.abs(want)))
    return results


if __name__ == "__main__":
    main()
