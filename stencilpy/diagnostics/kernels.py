"""The diagnostics as stencils on a (lat, lon) grid.

Every stencil reads the field(s) and the grid coefficients of ``grid.py``:

* ``xm, xp`` (per longitude, or scalars on a periodic grid) and ``ym, yp`` (per latitude):
  MetPy's three-point weights, whose centre weight is ``-(xm + xp)`` (the derivative of a
  constant is 0), so ``d_dx(f) = xm (f[lon-1] - f) + xp (f[lon+1] - f)`` is MetPy's
  ``first_derivative`` along x (uniform or not; one-sided at the edges through boundary
  ``"extrapolate"``), read as differences: float32 keeps the digits that the products of a
  250 K temperature would cancel;
* ``mx``: the parallel map factor ``1 / cos(lat)`` (the meridional one is 1);
* ``metric``: ``(1 / mx) d(mx)/dy``, MetPy's map-factor correction of vector derivatives.

The formulas are MetPy's ``vector_derivative``: ``du/dx = mx d_dx(u) - v metric``,
``dv/dx = mx d_dx(v) + u metric``, ``du/dy = d_dy(u)``, ``dv/dy = d_dy(v)``.
"""

from __future__ import annotations

import stencilpy as sp

GRID = ("xm", "xp", "ym", "yp", "mx", "metric")


@sp.function
def d_dx(f, xm, xp):
    return xm * (f[lon - 1] - f) + xp * (f[lon + 1] - f)                # noqa: F821


@sp.function
def d_dy(f, ym, yp):
    return ym * (f[lat - 1] - f) + yp * (f[lat + 1] - f)                # noqa: F821


@sp.stencil(dims=("lat", "lon"))
def gradient(f, xm, xp, ym, yp, mx, metric):
    return mx * d_dx(f, xm, xp), d_dy(f, ym, yp)


@sp.stencil(dims=("lat", "lon"))
def vorticity(u, v, xm, xp, ym, yp, mx, metric):
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    return dvdx - dudy


@sp.stencil(dims=("lat", "lon"))
def absolute_vorticity(u, v, coriolis, xm, xp, ym, yp, mx, metric):
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    return dvdx - dudy + coriolis


@sp.stencil(dims=("lat", "lon"))
def divergence(u, v, xm, xp, ym, yp, mx, metric):
    dudx = mx * d_dx(u, xm, xp) - v * metric
    dvdy = d_dy(v, ym, yp)
    return dudx + dvdy


@sp.stencil(dims=("lat", "lon"))
def vorticity_divergence(u, v, xm, xp, ym, yp, mx, metric):
    """Both from one pass over u and v (they share every read)."""
    dudx = mx * d_dx(u, xm, xp) - v * metric
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    dvdy = d_dy(v, ym, yp)
    return dvdx - dudy, dudx + dvdy


@sp.stencil(dims=("lat", "lon"))
def shearing_deformation(u, v, xm, xp, ym, yp, mx, metric):
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    return dvdx + dudy


@sp.stencil(dims=("lat", "lon"))
def stretching_deformation(u, v, xm, xp, ym, yp, mx, metric):
    dudx = mx * d_dx(u, xm, xp) - v * metric
    dvdy = d_dy(v, ym, yp)
    return dudx - dvdy


@sp.stencil(dims=("lat", "lon"))
def total_deformation(u, v, xm, xp, ym, yp, mx, metric):
    dudx = mx * d_dx(u, xm, xp) - v * metric
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    dvdy = d_dy(v, ym, yp)
    return sp.sqrt((dvdx + dudy) ** 2 + (dudx - dvdy) ** 2)


@sp.stencil(dims=("lat", "lon"))
def advection(s, u, v, xm, xp, ym, yp, mx, metric):
    return -(u * mx * d_dx(s, xm, xp) + v * d_dy(s, ym, yp))


@sp.function
def lap_y(f, eym3, eym2, eym1, eyp1, eyp2, eyp3):
    """``sum_k ey_k f[lat + k]`` as differences from ``f`` (the weights sum to 0: the
    same rounding as the nested derivatives, not the cancellation of 7 large terms)."""
    return (eym3 * (f[lat - 3] - f) + eym2 * (f[lat - 2] - f)            # noqa: F821
            + eym1 * (f[lat - 1] - f) + eyp1 * (f[lat + 1] - f)          # noqa: F821
            + eyp2 * (f[lat + 2] - f) + eyp3 * (f[lat + 3] - f))         # noqa: F821


@sp.function
def lap_x(f, exm3, exm2, exm1, exp1, exp2, exp3):
    return (exm3 * (f[lon - 3] - f) + exm2 * (f[lon - 2] - f)            # noqa: F821
            + exm1 * (f[lon - 1] - f) + exp1 * (f[lon + 1] - f)          # noqa: F821
            + exp2 * (f[lon + 2] - f) + exp3 * (f[lon + 3] - f))         # noqa: F821


@sp.stencil(dims=("lat", "lon"))
def laplacian(f, mx2, exm3, exm2, exm1, exp1, exp2, exp3,
              eym3, eym2, eym1, eyp1, eyp2, eyp3):
    """MetPy's nested Laplacian as one 7-point formula per axis (``grid.py``)."""
    return mx2 * lap_x(f, exm3, exm2, exm1, exp1, exp2, exp3) \
        + lap_y(f, eym3, eym2, eym1, eyp1, eyp2, eyp3)


@sp.stencil(dims=("lat", "lon"))
def laplacian_periodic(f, mx2, hx2, eym3, eym2, eym1, eyp1, eyp2, eyp3):
    """The same on a periodic grid: ``hx2 = (1 / (2 dx))**2``."""
    return mx2 * hx2 * ((f[lon + 2] - f) + (f[lon - 2] - f)) \
        + lap_y(f, eym3, eym2, eym1, eyp1, eyp2, eyp3)                           # noqa: F821


@sp.stencil(dims=("lat", "lon"))
def advection_laplacian(s, u, v, xm, xp, ym, yp, mx, mx2,
                        exm3, exm2, exm1, exp1, exp2, exp3,
                        eym3, eym2, eym1, eyp1, eyp2, eyp3):
    """The advection of ``s`` and its Laplacian in one pass over (s, u, v)."""
    adv = -(u * mx * d_dx(s, xm, xp) + v * d_dy(s, ym, yp))
    return adv, mx2 * lap_x(s, exm3, exm2, exm1, exp1, exp2, exp3) \
        + lap_y(s, eym3, eym2, eym1, eyp1, eyp2, eyp3)


@sp.stencil(dims=("lat", "lon"))
def advection_laplacian_periodic(s, u, v, xm, xp, ym, yp, mx, mx2, hx2,
                                 eym3, eym2, eym1, eyp1, eyp2, eyp3):
    """The same on a periodic grid."""
    adv = -(u * mx * d_dx(s, xm, xp) + v * d_dy(s, ym, yp))
    return adv, mx2 * hx2 * ((s[lon + 2] - s) + (s[lon - 2] - s)) \
        + lap_y(s, eym3, eym2, eym1, eyp1, eyp2, eyp3)                           # noqa: F821


@sp.stencil(dims=("lat", "lon"))
def frontogenesis(theta, u, v, xm, xp, ym, yp, mx, metric):
    dtdx = mx * d_dx(theta, xm, xp)
    dtdy = d_dy(theta, ym, yp)
    dudx = mx * d_dx(u, xm, xp) - v * metric
    dvdx = mx * d_dx(v, xm, xp) + u * metric
    dudy = d_dy(u, ym, yp)
    dvdy = d_dy(v, ym, yp)
    mag = sp.sqrt(dtdx ** 2 + dtdy ** 2)
    shear = dvdx + dudy
    stretch = dudx - dvdy
    total = sp.sqrt(shear ** 2 + stretch ** 2)
    psi = 0.5 * sp.arctan2(shear, stretch)
    sin_beta = sp.where(mag != 0.0, (dtdx * sp.cos(psi) + dtdy * sp.sin(psi)) / mag, 0.0)
    return 0.5 * mag * (total * (1.0 - 2.0 * sin_beta ** 2) - (dudx + dvdy))


@sp.stencil(dims=("lat", "lon"))
def geostrophic_wind(height, norm, xm, xp, ym, yp, mx, metric):
    """``norm``: 1/f for geopotential, g/f for geopotential height."""
    return -norm * d_dy(height, ym, yp), norm * mx * d_dx(height, xm, xp)
