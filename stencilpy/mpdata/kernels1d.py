"""MPDATA stencils in 1-D (see :mod:`stencilpy.mpdata.kernels` for the conventions).

``c0`` / ``v0`` at a cell is the face on its left: the face between ``p[x - 1]`` and ``p``.
"""

from __future__ import annotations

import stencilpy as sp
from stencilpy.mpdata.formulas import X, donor_flux, limit_face, third_order_coefficient


@sp.function
def donor_pass(p, c0):
    """Donor-cell pass (3)-(4) at the current cell."""
    return p - (donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p))


@sp.stencil(dims=X)
def upwind_1d(p, c0):
    """Donor-cell pass (3)-(4)."""
    return donor_pass(p, c0)


@sp.stencil(dims=X)
def limit_1d(v0, bu, bd):
    """(18) on every face, for the next pass's pseudo-velocity."""
    return limit_face(v0, bd[x - 1], bu, bu[x - 1], bd)


UPWIND, LIMIT = upwind_1d, limit_1d


def build(r2, r4, r4x, third_order_terms, flux) -> dict:
    """The option-dependent stencils: ``r2``/``r4`` are the ratios of (8)/(12) (relative or
    infinite gauge), ``flux`` the corrective flux (donor cell, or centred in the gauge)."""

    @sp.function
    def pseudo_basic(p, c0, eps):
        """(11) on the left face of the current cell."""
        return (abs(c0) - c0 * c0) * r2(p - p[x - 1], p + p[x - 1], eps)

    @sp.function
    def pseudo_tot(p, c0, eps):
        """(11) + (12)."""
        return pseudo_basic(p, c0, eps) + r4(
            third_order_coefficient(c0) * (2.0 * (p[x + 1] - p - p[x - 1] + p[x - 2])),
            p[x + 1] + p + p[x - 1] + p[x - 2], eps)

    pseudo = pseudo_tot if third_order_terms else pseudo_basic

    @sp.function
    def corrective_pass(p, v0):
        return p - (flux(v0[x + 1], p, p[x + 1]) - flux(v0, p[x - 1], p))

    @sp.function
    def beta_up(p, pn, v0, eps):
        """(16)-(17): how far the inflow may raise the cell."""
        hi = max(pn, pn[x - 1], pn[x + 1], p, p[x - 1], p[x + 1])
        incoming = max(flux(v0, p[x - 1], p), 0.0) - min(flux(v0[x + 1], p, p[x + 1]), 0.0)
        return (hi - p) / (incoming + eps)

    @sp.function
    def beta_down(p, pn, v0, eps):
        """(16)-(17): how far the outflow may lower the cell."""
        lo = min(pn, pn[x - 1], pn[x + 1], p, p[x - 1], p[x + 1])
        outgoing = max(flux(v0[x + 1], p, p[x + 1]), 0.0) - min(flux(v0, p[x - 1], p), 0.0)
        return (p - lo) / (outgoing + eps)

    @sp.function
    def limited_pass(p, v0, bu, bd):
        """(18) on both faces, then the corrective pass."""
        left = limit_face(v0, bd[x - 1], bu, bu[x - 1], bd)
        right = limit_face(v0[x + 1], bd, bu[x + 1], bu, bd[x + 1])
        return p - (flux(right, p, p[x + 1]) - flux(left, p[x - 1], p))

    @sp.stencil(dims=X)
    def step_1d(p, c0, eps):
        p1 = donor_pass(p, c0)
        v0 = pseudo(p1, c0, eps)
        return corrective_pass(p1, v0)

    @sp.stencil(dims=X)
    def step_fct_1d(p, c0, eps):
        p1 = donor_pass(p, c0)
        v0 = pseudo(p1, c0, eps)
        bu = beta_up(p1, p, v0, eps)
        bd = beta_down(p1, p, v0, eps)
        return limited_pass(p1, v0, bu, bd)

    @sp.stencil(dims=X)
    def antidiff_1d(p, c0, eps):
        return pseudo(p, c0, eps)

    @sp.stencil(dims=X)
    def correct_1d(p, v0):
        return corrective_pass(p, v0)

    @sp.stencil(dims=X)
    def beta_1d(p, pn, v0, eps):
        return beta_up(p, pn, v0, eps), beta_down(p, pn, v0, eps)

    @sp.stencil(dims=X)
    def limited_1d(p, v0, bu, bd):
        return limited_pass(p, v0, bu, bd)

    return dict(step=step_1d, step_fct=step_fct_1d, antidiff=antidiff_1d, correct=correct_1d,
                beta=beta_1d, limited=limited_1d)
