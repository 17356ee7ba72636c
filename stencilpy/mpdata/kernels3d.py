"""MPDATA stencils in 3-D (see :mod:`stencilpy.mpdata.kernels` for the conventions).

At a cell, ``c0``, ``c1``, ``c2`` are its lower x-, y- and z-faces.  The pseudo-velocity
has the literature form with **two** transverse terms per face (docs/mpdata-derivation.md Sec. 5.2), in
the order of the axes (x-faces: y then z; y-faces: x then z; z-faces: x then y).  There
are no third-order terms in 3-D (unspecified, Sec. 5.3).
"""

from __future__ import annotations

import stencilpy as sp
from stencilpy.mpdata.formulas import XYZ, donor_flux, limit_face


@sp.function
def donor_pass(p, c0, c1, c2):
    """Donor-cell pass (3)-(4) at the current cell."""
    return p - (((donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p))
                 + (donor_flux(c1[y + 1], p, p[y + 1]) - donor_flux(c1, p[y - 1], p)))
                + (donor_flux(c2[z + 1], p, p[z + 1]) - donor_flux(c2, p[z - 1], p)))


@sp.stencil(dims=XYZ)
def upwind_3d(p, c0, c1, c2):
    """Donor-cell pass (3)-(4)."""
    return donor_pass(p, c0, c1, c2)


@sp.stencil(dims=XYZ)
def limit_3d(v0, v1, v2, bu, bd):
    """(18) on every face, for the next pass's pseudo-velocity."""
    return (limit_face(v0, bd[x - 1], bu, bu[x - 1], bd),
            limit_face(v1, bd[y - 1], bu, bu[y - 1], bd),
            limit_face(v2, bd[z - 1], bu, bu[z - 1], bd))


UPWIND, LIMIT = upwind_3d, limit_3d


def _pseudo_helpers(r2, r4):
    """(11) on the x-, y- and z-face of the current cell."""

    @sp.function
    def pseudo_x(p, c0, c1, c2, eps):
        # cells p[x - 1] | p; transverse y, then z
        cy = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        cz = 0.25 * (c2[z + 1] + c2[x - 1, z + 1] + c2 + c2[x - 1])
        return ((abs(c0) - c0 * c0) * r2(p - p[x - 1], p + p[x - 1], eps)
                - 0.5 * c0 * cy * r4(p[y + 1] + p[x - 1, y + 1] - p[y - 1] - p[x - 1, y - 1],
                                     p[y + 1] + p[x - 1, y + 1] + p[y - 1] + p[x - 1, y - 1], eps)
                - 0.5 * c0 * cz * r4(p[z + 1] + p[x - 1, z + 1] - p[z - 1] - p[x - 1, z - 1],
                                     p[z + 1] + p[x - 1, z + 1] + p[z - 1] + p[x - 1, z - 1], eps))

    @sp.function
    def pseudo_y(p, c0, c1, c2, eps):
        # cells p[y - 1] | p; transverse x, then z
        cx = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        cz = 0.25 * (c2[z + 1] + c2[y - 1, z + 1] + c2 + c2[y - 1])
        return ((abs(c1) - c1 * c1) * r2(p - p[y - 1], p + p[y - 1], eps)
                - 0.5 * c1 * cx * r4(p[x + 1] + p[x + 1, y - 1] - p[x - 1] - p[x - 1, y - 1],
                                     p[x + 1] + p[x + 1, y - 1] + p[x - 1] + p[x - 1, y - 1], eps)
                - 0.5 * c1 * cz * r4(p[z + 1] + p[y - 1, z + 1] - p[z - 1] - p[y - 1, z - 1],
                                     p[z + 1] + p[y - 1, z + 1] + p[z - 1] + p[y - 1, z - 1], eps))

    @sp.function
    def pseudo_z(p, c0, c1, c2, eps):
        # cells p[z - 1] | p; transverse x, then y
        cx = 0.25 * (c0[x + 1] + c0[x + 1, z - 1] + c0 + c0[z - 1])
        cy = 0.25 * (c1[y + 1] + c1[y + 1, z - 1] + c1 + c1[z - 1])
        return ((abs(c2) - c2 * c2) * r2(p - p[z - 1], p + p[z - 1], eps)
                - 0.5 * c2 * cx * r4(p[x + 1] + p[x + 1, z - 1] - p[x - 1] - p[x - 1, z - 1],
                                     p[x + 1] + p[x + 1, z - 1] + p[x - 1] + p[x - 1, z - 1], eps)
                - 0.5 * c2 * cy * r4(p[y + 1] + p[y + 1, z - 1] - p[y - 1] - p[y - 1, z - 1],
                                     p[y + 1] + p[y + 1, z - 1] + p[y - 1] + p[y - 1, z - 1], eps))

    return pseudo_x, pseudo_y, pseudo_z


def _limiter_helpers(flux):
    """(16)-(18) and the corrective pass with ``flux`` (donor cell or centred)."""

    @sp.function
    def corrective_pass(p, v0, v1, v2):
        return p - (((flux(v0[x + 1], p, p[x + 1]) - flux(v0, p[x - 1], p))
                     + (flux(v1[y + 1], p, p[y + 1]) - flux(v1, p[y - 1], p)))
                    + (flux(v2[z + 1], p, p[z + 1]) - flux(v2, p[z - 1], p)))

    @sp.function
    def beta_up(p, pn, v0, v1, v2, eps):
        hi = max(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1], pn[z - 1], pn[z + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1], p[z - 1], p[z + 1])
        incoming = (((max(flux(v0, p[x - 1], p), 0.0) - min(flux(v0[x + 1], p, p[x + 1]), 0.0))
                     + (max(flux(v1, p[y - 1], p), 0.0) - min(flux(v1[y + 1], p, p[y + 1]), 0.0)))
                    + (max(flux(v2, p[z - 1], p), 0.0) - min(flux(v2[z + 1], p, p[z + 1]), 0.0)))
        return (hi - p) / (incoming + eps)

    @sp.function
    def beta_down(p, pn, v0, v1, v2, eps):
        lo = min(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1], pn[z - 1], pn[z + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1], p[z - 1], p[z + 1])
        outgoing = (((max(flux(v0[x + 1], p, p[x + 1]), 0.0) - min(flux(v0, p[x - 1], p), 0.0))
                     + (max(flux(v1[y + 1], p, p[y + 1]), 0.0) - min(flux(v1, p[y - 1], p), 0.0)))
                    + (max(flux(v2[z + 1], p, p[z + 1]), 0.0) - min(flux(v2, p[z - 1], p), 0.0)))
        return (p - lo) / (outgoing + eps)

    @sp.function
    def limited_pass(p, v0, v1, v2, bu, bd):
        west = limit_face(v0, bd[x - 1], bu, bu[x - 1], bd)
        east = limit_face(v0[x + 1], bd, bu[x + 1], bu, bd[x + 1])
        south = limit_face(v1, bd[y - 1], bu, bu[y - 1], bd)
        north = limit_face(v1[y + 1], bd, bu[y + 1], bu, bd[y + 1])
        below = limit_face(v2, bd[z - 1], bu, bu[z - 1], bd)
        above = limit_face(v2[z + 1], bd, bu[z + 1], bu, bd[z + 1])
        return p - (((flux(east, p, p[x + 1]) - flux(west, p[x - 1], p))
                     + (flux(north, p, p[y + 1]) - flux(south, p[y - 1], p)))
                    + (flux(above, p, p[z + 1]) - flux(below, p[z - 1], p)))

    return corrective_pass, beta_up, beta_down, limited_pass


def build(r2, r4, r4x, third_order_terms, flux) -> dict:
    """The option-dependent stencils (see :func:`stencilpy.mpdata.kernels2d.build`)."""
    if third_order_terms:
        raise ValueError("third_order_terms is available in 1-D and 2-D only")
    pseudo_x, pseudo_y, pseudo_z = _pseudo_helpers(r2, r4)
    corrective_pass, beta_up, beta_down, limited_pass = _limiter_helpers(flux)

    @sp.stencil(dims=XYZ)
    def step_3d(p, c0, c1, c2, eps):
        p1 = donor_pass(p, c0, c1, c2)
        v0 = pseudo_x(p1, c0, c1, c2, eps)
        v1 = pseudo_y(p1, c0, c1, c2, eps)
        v2 = pseudo_z(p1, c0, c1, c2, eps)
        return corrective_pass(p1, v0, v1, v2)

    @sp.stencil(dims=XYZ)
    def step_fct_3d(p, c0, c1, c2, eps):
        p1 = donor_pass(p, c0, c1, c2)
        v0 = pseudo_x(p1, c0, c1, c2, eps)
        v1 = pseudo_y(p1, c0, c1, c2, eps)
        v2 = pseudo_z(p1, c0, c1, c2, eps)
        bu = beta_up(p1, p, v0, v1, v2, eps)
        bd = beta_down(p1, p, v0, v1, v2, eps)
        return limited_pass(p1, v0, v1, v2, bu, bd)

    @sp.stencil(dims=XYZ)
    def antidiff_3d(p, c0, c1, c2, eps):
        return (pseudo_x(p, c0, c1, c2, eps), pseudo_y(p, c0, c1, c2, eps),
                pseudo_z(p, c0, c1, c2, eps))

    @sp.stencil(dims=XYZ)
    def correct_3d(p, v0, v1, v2):
        return corrective_pass(p, v0, v1, v2)

    @sp.stencil(dims=XYZ)
    def beta_3d(p, pn, v0, v1, v2, eps):
        return beta_up(p, pn, v0, v1, v2, eps), beta_down(p, pn, v0, v1, v2, eps)

    @sp.stencil(dims=XYZ)
    def limited_3d(p, v0, v1, v2, bu, bd):
        return limited_pass(p, v0, v1, v2, bu, bd)

    return dict(step=step_3d, step_fct=step_fct_3d, antidiff=antidiff_3d, correct=correct_3d,
                beta=beta_3d, limited=limited_3d)
