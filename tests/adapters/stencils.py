"""Stencils shared by the adapter tests (module level: picklable by reference)."""

import stencilpy as sp


@sp.stencil
def laplacian(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@sp.stencil
def lopsided(u, v):
    """Asymmetric halo ((1, 2), (1, 0)) through a materialised temporary read shifted."""
    t = u[2, 0] - v[-1, 1]
    return t[0, -1] * 0.5 + v[0, 0]


@sp.stencil(dims=("lat", "lon"))
def ddlon(u, coslat, dlon):
    return (u[lon + 1] - u[lon - 1]) / (2.0 * dlon * coslat)


@sp.stencil(dims=("x",))
def divergence(f):
    """Face fluxes (N + 1 points) -> cell tendencies (N points)."""
    return f[x + 1] - f[x]


@sp.stencil
def grad(u):
    return u[1, 0] - u[0, 0], u[0, 1] - u[0, 0]


@sp.stencil
def hdiff(u, coeff):
    lap = 4.0 * u - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap
    flx = 0.0 if flx * (u[1, 0] - u) > 0.0 else flx
    fly = lap[0, 1] - lap
    fly = 0.0 if fly * (u[0, 1] - u) > 0.0 else fly
    return u - coeff * (flx - flx[-1, 0] + fly - fly[0, -1])


MODES = ("fill", "valid", "constant", "wrap", "edge", "reflect", "symmetric")


@sp.stencil(dims=("lat", "lon"))
def gradient(u):
    """Two outputs with regions of their own: d/dlon is defined on the pole rows."""
    return u[lon + 1] - u[lon - 1], u[lat + 1] - u[lat - 2]  # noqa: F821


@sp.stencil(dims=("x",))
def faces_and_cells(c, f):
    """A staggered field (N + 1 faces) and a shifted temporary, outputs of different reach."""
    t = f[x + 1] * c[x - 1]  # noqa: F821
    return t[x + 1] - f, t[x - 1] + c  # noqa: F821
