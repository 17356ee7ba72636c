"""MPDATA stencils in 2-D (see :mod:`stencilpy.mpdata.kernels` for the conventions).

At a cell, ``c0`` is its left x-face (between ``p[x - 1]`` and ``p``) and ``c1`` its lower
y-face (between ``p[y - 1]`` and ``p``).
"""

from __future__ import annotations

import stencilpy as sp
from stencilpy.mpdata.formulas import (
    XY,
    donor_flux,
    limit_face,
    mixed_coefficient,
    third_order_coefficient,
)


@sp.function
def donor_pass(p, c0, c1):
    """Donor-cell pass (3)-(4) at the current cell."""
    return p - ((donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p))
                + (donor_flux(c1[y + 1], p, p[y + 1]) - donor_flux(c1, p[y - 1], p)))


@sp.stencil(dims=XY)
def upwind_2d(p, c0, c1):
    """Donor-cell pass (3)-(4)."""
    return donor_pass(p, c0, c1)


@sp.stencil(dims=XY)
def limit_2d(v0, v1, bu, bd):
    """(18) on every face, for the next pass's pseudo-velocity."""
    return (limit_face(v0, bd[x - 1], bu, bu[x - 1], bd),
            limit_face(v1, bd[y - 1], bu, bu[y - 1], bd))


UPWIND, LIMIT = upwind_2d, limit_2d


def _pseudo_helpers(r2, r4, r4x):
    """(11) and (11)+(12)+(13) on the x- and y-face of the current cell."""

    @sp.function
    def pseudo_x(p, c0, c1, eps):
        # cells p[x - 1] | p; transverse axis y
        cbar = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        return ((abs(c0) - c0 * c0) * r2(p - p[x - 1], p + p[x - 1], eps)
                - 0.5 * c0 * cbar * r4(p[y + 1] + p[x - 1, y + 1] - p[y - 1] - p[x - 1, y - 1],
                                       p[y + 1] + p[x - 1, y + 1] + p[y - 1] + p[x - 1, y - 1],
                                       eps))

    @sp.function
    def pseudo_y(p, c0, c1, eps):
        # cells p[y - 1] | p; transverse axis x
        cbar = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        return ((abs(c1) - c1 * c1) * r2(p - p[y - 1], p + p[y - 1], eps)
                - 0.5 * c1 * cbar * r4(p[x + 1] + p[x + 1, y - 1] - p[x - 1] - p[x - 1, y - 1],
                                       p[x + 1] + p[x + 1, y - 1] + p[x - 1] + p[x - 1, y - 1],
                                       eps))

    @sp.function
    def pseudo_x_tot(p, c0, c1, eps):
        q11, q01, q1m, q0m = p[y + 1], p[x - 1, y + 1], p[y - 1], p[x - 1, y - 1]
        cbar = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        v = pseudo_x(p, c0, c1, eps)
        v += r4(third_order_coefficient(c0) * (2.0 * (p[x + 1] - p - p[x - 1] + p[x - 2])),
                p[x + 1] + p + p[x - 1] + p[x - 2], eps)
        return v + r4x(mixed_coefficient(c0, cbar) * (2.0 * (q11 - q01 - q1m + q0m)),
                       q11 + q01 + q1m + q0m, eps)

    @sp.function
    def pseudo_y_tot(p, c0, c1, eps):
        q11, q01, q1m, q0m = p[x + 1], p[x + 1, y - 1], p[x - 1], p[x - 1, y - 1]
        cbar = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        v = pseudo_y(p, c0, c1, eps)
        v += r4(third_order_coefficient(c1) * (2.0 * (p[y + 1] - p - p[y - 1] + p[y - 2])),
                p[y + 1] + p + p[y - 1] + p[y - 2], eps)
        return v + r4x(mixed_coefficient(c1, cbar) * (2.0 * (q11 - q01 - q1m + q0m)),
                       q11 + q01 + q1m + q0m, eps)

    return (pseudo_x, pseudo_y), (pseudo_x_tot, pseudo_y_tot)


def _limiter_helpers(flux):
    """(16)-(18) and the corrective pass with ``flux`` (donor cell or centred)."""

    @sp.function
    def corrective_pass(p, v0, v1):
        return p - ((flux(v0[x + 1], p, p[x + 1]) - flux(v0, p[x - 1], p))
                    + (flux(v1[y + 1], p, p[y + 1]) - flux(v1, p[y - 1], p)))

    @sp.function
    def beta_up(p, pn, v0, v1, eps):
        hi = max(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1])
        incoming = ((max(flux(v0, p[x - 1], p), 0.0) - min(flux(v0[x + 1], p, p[x + 1]), 0.0))
                    + (max(flux(v1, p[y - 1], p), 0.0) - min(flux(v1[y + 1], p, p[y + 1]), 0.0)))
        return (hi - p) / (incoming + eps)

    @sp.function
    def beta_down(p, pn, v0, v1, eps):
        lo = min(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1])
        outgoing = ((max(flux(v0[x + 1], p, p[x + 1]), 0.0) - min(flux(v0, p[x - 1], p), 0.0))
                    + (max(flux(v1[y + 1], p, p[y + 1]), 0.0) - min(flux(v1, p[y - 1], p), 0.0)))
        return (p - lo) / (outgoing + eps)

    @sp.function
    def limited_pass(p, v0, v1, bu, bd):
        west = limit_face(v0, bd[x - 1], bu, bu[x - 1], bd)
        east = limit_face(v0[x + 1], bd, bu[x + 1], bu, bd[x + 1])
        south = limit_face(v1, bd[y - 1], bu, bu[y - 1], bd)
        north = limit_face(v1[y + 1], bd, bu[y + 1], bu, bd[y + 1])
        return p - ((flux(east, p, p[x + 1]) - flux(west, p[x - 1], p))
                    + (flux(north, p, p[y + 1]) - flux(south, p[y - 1], p)))

    return corrective_pass, beta_up, beta_down, limited_pass


def build(r2, r4, r4x, third_order_terms, flux) -> dict:
    """The option-dependent stencils: ``r2``/``r4``/``r4x`` are the ratios of (8)/(9),(12)/(13)
    (relative or infinite gauge), ``flux`` the corrective flux (donor cell, or centred)."""
    basic, tot = _pseudo_helpers(r2, r4, r4x)
    pseudo_x, pseudo_y = tot if third_order_terms else basic
    corrective_pass, beta_up, beta_down, limited_pass = _limiter_helpers(flux)

    @sp.stencil(dims=XY)
    def step_2d(p, c0, c1, eps):
        p1 = donor_pass(p, c0, c1)
        v0 = pseudo_x(p1, c0, c1, eps)
        v1 = pseudo_y(p1, c0, c1, eps)
        return corrective_pass(p1, v0, v1)

    @sp.stencil(dims=XY)
    def step_fct_2d(p, c0, c1, eps):
        p1 = donor_pass(p, c0, c1)
        v0 = pseudo_x(p1, c0, c1, eps)
        v1 = pseudo_y(p1, c0, c1, eps)
        bu = beta_up(p1, p, v0, v1, eps)
        bd = beta_down(p1, p, v0, v1, eps)
        return limited_pass(p1, v0, v1, bu, bd)

    @sp.stencil(dims=XY)
    def antidiff_2d(p, c0, c1, eps):
        return pseudo_x(p, c0, c1, eps), pseudo_y(p, c0, c1, eps)

    @sp.stencil(dims=XY)
    def correct_2d(p, v0, v1):
        return corrective_pass(p, v0, v1)

    @sp.stencil(dims=XY)
    def beta_2d(p, pn, v0, v1, eps):
        return beta_up(p, pn, v0, v1, eps), beta_down(p, pn, v0, v1, eps)

    @sp.stencil(dims=XY)
    def limited_2d(p, v0, v1, bu, bd):
        return limited_pass(p, v0, v1, bu, bd)

    return dict(step=step_2d, step_fct=step_fct_2d, antidiff=antidiff_2d, correct=correct_2d,
                beta=beta_2d, limited=limited_2d)
