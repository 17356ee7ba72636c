"""MPDATA stencils of the general path: any boundaries and a G factor (``@sp.stencil`` only).

The solver runs these on arrays padded with two explicit halo cells (periodic axes wrapped,
open and rigid axes zero-gradient; see :mod:`stencilpy.mpdata.solver`) and refills the halos
between kernels, the way PyMPDATA and libmpdata++ do.  Every kernel reads its inputs at most
2 cells away (1 without third-order terms) and is called with ``boundary="valid"`` on the
padded arrays, ``out=`` being the part of the padded buffer it computes (everything but the
kernel's own halo, which covers the interior and both boundary faces): no edge code is
compiled, and the halo entries are refilled by the solver.

Every array is cell-shaped on the padded grid; a face field at a cell is the face on its low
side along that axis (as in :mod:`stencilpy.mpdata.kernels`).  ``g`` is the G factor (ones
when there is none: dividing by 1.0 is exact, so the results equal those of G = 1)::

    pass 0            psi1 = K.donor(psi, *C, g)                (3)-(4) with / G_i
    pass k >= 1       v    = K.antidiff(psi_k, *V, g, eps)      (8)-(13) with G_bar (Sec. 9)
      limiter         bu, bd = K.beta(psi_k, psi_n, *v, g, eps) (15)-(17), numerators * G_i
                      v    = K.limit(*v, bu, bd)                (18)
                      psi' = K.donor(psi_k, *v, g)   or K.centred(...) in the infinite gauge

Kernels shared between configurations: ``donor``, ``centred`` and ``limit`` depend on the rank
only; ``antidiff`` on the ratio helpers (gauge), the third-order terms and the G form; ``beta``
on the corrective flux (gauge).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import stencilpy as sp
from stencilpy.mpdata.formulas import (
    X,
    XY,
    XYZ,
    centred_flux,
    donor_flux,
    gauge2,
    gauge4,
    relative2,
    relative4_exact,
    limit_face,
)

#: the multi-output kernels compute every output on the region where all are computable
#: (``regions="common"``): that region already holds every face of the domain (module
#: docstring), and what an output could compute beyond it is halo, refilled anyway; one
#: kernel per stencil instead of one plus a strip kernel per output (3-D: 8 fewer kernels)
GENERAL = dict(regions="common")

# --------------------------------------------------------------------------- G helpers


@sp.function
def square_over_g(c, gb):
    """(GC)^2 / G_bar: the literature form (Smolarkiewicz 2006)."""
    return c * c / gb


@sp.function
def square_plain(c, gb):
    """(GC)^2: PyMPDATA 1.7's basic pseudo-velocity (no 1/G_bar)."""
    return c * c


@sp.function
def half_product_over_g(c, cbar, gb):
    return 0.5 * c * cbar / gb


@sp.function
def half_product_plain(c, cbar, gb):
    return 0.5 * c * cbar


@sp.function
def tot_coefficient_g(c, gb):
    """(12) with G: (3 c|c| / G_bar - 2 c^3 / G_bar^2 - c) / 6."""
    return (3.0 * c * abs(c) / gb - 2.0 * c * c * c / (gb * gb) - c) / 6.0


@sp.function
def mixed_coefficient_g(c, cbar, gb):
    """(13) with G: cbar / (2 G_bar) (|c| - 2 c^2 / G_bar)."""
    return cbar / (2.0 * gb) * (abs(c) - 2.0 * c * c / gb)


# --------------------------------------------------------------------------- 1-D


@sp.stencil(dims=X)
def donor_1d(p, c0, g):
    return p - (donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p)) / g


@sp.stencil(dims=X)
def centred_1d(p, v0, g):
    return p - (v0[x + 1] - v0) / g


def _build_1d(r2, r4, r4x, tot, flux, sq, hp):
    @sp.function
    def pseudo_basic(p, c0, g, eps):
        gb = 0.5 * (g + g[x - 1])
        return (abs(c0) - sq(c0, gb)) * r2(p - p[x - 1], p + p[x - 1], eps)

    @sp.function
    def pseudo_tot(p, c0, g, eps):
        gb = 0.5 * (g + g[x - 1])
        return pseudo_basic(p, c0, g, eps) + r4(
            tot_coefficient_g(c0, gb) * (2.0 * (p[x + 1] - p - p[x - 1] + p[x - 2])),
            p[x + 1] + p + p[x - 1] + p[x - 2], eps)

    pseudo = pseudo_tot if tot else pseudo_basic

    @sp.stencil(dims=X, **GENERAL)
    def antidiff_g_1d(p, c0, g, eps):
        return pseudo(p, c0, g, eps)

    @sp.stencil(dims=X, **GENERAL)
    def beta_g_1d(p, pn, v0, g, eps):
        hi = max(pn, pn[x - 1], pn[x + 1], p, p[x - 1], p[x + 1])
        lo = min(pn, pn[x - 1], pn[x + 1], p, p[x - 1], p[x + 1])
        left = flux(v0, p[x - 1], p)
        right = flux(v0[x + 1], p, p[x + 1])
        return ((hi - p) * g / ((max(left, 0.0) - min(right, 0.0)) + eps),
                (p - lo) * g / ((max(right, 0.0) - min(left, 0.0)) + eps))

    return antidiff_g_1d, beta_g_1d


@sp.stencil(dims=X, **GENERAL)
def limit_1d(v0, bu, bd):
    """(18) on every face (as ``kernels1d.limit_1d``, on the common region)."""
    return limit_face(v0, bd[x - 1], bu, bu[x - 1], bd)


# --------------------------------------------------------------------------- 2-D


@sp.stencil(dims=XY)
def donor_2d(p, c0, c1, g):
    return p - ((donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p))
                + (donor_flux(c1[y + 1], p, p[y + 1]) - donor_flux(c1, p[y - 1], p))) / g


@sp.stencil(dims=XY)
def centred_2d(p, v0, v1, g):
    return p - ((v0[x + 1] - v0) + (v1[y + 1] - v1)) / g


def _build_2d(r2, r4, r4x, tot, flux, sq, hp):
    @sp.function
    def pseudo_x(p, c0, c1, g, eps):
        gb = 0.5 * (g + g[x - 1])
        cbar = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        return ((abs(c0) - sq(c0, gb)) * r2(p - p[x - 1], p + p[x - 1], eps)
                - hp(c0, cbar, gb) * r4(p[y + 1] + p[x - 1, y + 1] - p[y - 1] - p[x - 1, y - 1],
                                        p[y + 1] + p[x - 1, y + 1] + p[y - 1] + p[x - 1, y - 1],
                                        eps))

    @sp.function
    def pseudo_y(p, c0, c1, g, eps):
        gb = 0.5 * (g + g[y - 1])
        cbar = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        return ((abs(c1) - sq(c1, gb)) * r2(p - p[y - 1], p + p[y - 1], eps)
                - hp(c1, cbar, gb) * r4(p[x + 1] + p[x + 1, y - 1] - p[x - 1] - p[x - 1, y - 1],
                                        p[x + 1] + p[x + 1, y - 1] + p[x - 1] + p[x - 1, y - 1],
                                        eps))

    @sp.function
    def pseudo_x_tot(p, c0, c1, g, eps):
        gb = 0.5 * (g + g[x - 1])
        q11, q01, q1m, q0m = p[y + 1], p[x - 1, y + 1], p[y - 1], p[x - 1, y - 1]
        cbar = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        v = pseudo_x(p, c0, c1, g, eps)
        v += r4(tot_coefficient_g(c0, gb) * (2.0 * (p[x + 1] - p - p[x - 1] + p[x - 2])),
                p[x + 1] + p + p[x - 1] + p[x - 2], eps)
        return v + r4x(mixed_coefficient_g(c0, cbar, gb) * (2.0 * (q11 - q01 - q1m + q0m)),
                       q11 + q01 + q1m + q0m, eps)

    @sp.function
    def pseudo_y_tot(p, c0, c1, g, eps):
        gb = 0.5 * (g + g[y - 1])
        q11, q01, q1m, q0m = p[x + 1], p[x + 1, y - 1], p[x - 1], p[x - 1, y - 1]
        cbar = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        v = pseudo_y(p, c0, c1, g, eps)
        v += r4(tot_coefficient_g(c1, gb) * (2.0 * (p[y + 1] - p - p[y - 1] + p[y - 2])),
                p[y + 1] + p + p[y - 1] + p[y - 2], eps)
        return v + r4x(mixed_coefficient_g(c1, cbar, gb) * (2.0 * (q11 - q01 - q1m + q0m)),
                       q11 + q01 + q1m + q0m, eps)

    px, py = (pseudo_x_tot, pseudo_y_tot) if tot else (pseudo_x, pseudo_y)

    @sp.stencil(dims=XY, **GENERAL)
    def antidiff_g_2d(p, c0, c1, g, eps):
        return px(p, c0, c1, g, eps), py(p, c0, c1, g, eps)

    @sp.stencil(dims=XY, **GENERAL)
    def beta_g_2d(p, pn, v0, v1, g, eps):
        hi = max(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1])
        lo = min(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1])
        west, east = flux(v0, p[x - 1], p), flux(v0[x + 1], p, p[x + 1])
        south, north = flux(v1, p[y - 1], p), flux(v1[y + 1], p, p[y + 1])
        incoming = (max(west, 0.0) - min(east, 0.0)) + (max(south, 0.0) - min(north, 0.0))
        outgoing = (max(east, 0.0) - min(west, 0.0)) + (max(north, 0.0) - min(south, 0.0))
        return (hi - p) * g / (incoming + eps), (p - lo) * g / (outgoing + eps)

    return antidiff_g_2d, beta_g_2d


@sp.stencil(dims=XY, **GENERAL)
def limit_2d(v0, v1, bu, bd):
    return (limit_face(v0, bd[x - 1], bu, bu[x - 1], bd),
            limit_face(v1, bd[y - 1], bu, bu[y - 1], bd))


# --------------------------------------------------------------------------- 3-D


@sp.stencil(dims=XYZ)
def donor_3d(p, c0, c1, c2, g):
    return p - (((donor_flux(c0[x + 1], p, p[x + 1]) - donor_flux(c0, p[x - 1], p))
                 + (donor_flux(c1[y + 1], p, p[y + 1]) - donor_flux(c1, p[y - 1], p)))
                + (donor_flux(c2[z + 1], p, p[z + 1]) - donor_flux(c2, p[z - 1], p))) / g


@sp.stencil(dims=XYZ)
def centred_3d(p, v0, v1, v2, g):
    return p - (((v0[x + 1] - v0) + (v1[y + 1] - v1)) + (v2[z + 1] - v2)) / g


def _build_3d(r2, r4, r4x, tot, flux, sq, hp):
    if tot:
        raise ValueError("third_order_terms is available in 1-D and 2-D only")

    @sp.function
    def pseudo_x(p, c0, c1, c2, g, eps):
        gb = 0.5 * (g + g[x - 1])
        cy = 0.25 * (c1[y + 1] + c1[x - 1, y + 1] + c1 + c1[x - 1])
        cz = 0.25 * (c2[z + 1] + c2[x - 1, z + 1] + c2 + c2[x - 1])
        return ((abs(c0) - sq(c0, gb)) * r2(p - p[x - 1], p + p[x - 1], eps)
                - hp(c0, cy, gb) * r4(p[y + 1] + p[x - 1, y + 1] - p[y - 1] - p[x - 1, y - 1],
                                      p[y + 1] + p[x - 1, y + 1] + p[y - 1] + p[x - 1, y - 1],
                                      eps)
                - hp(c0, cz, gb) * r4(p[z + 1] + p[x - 1, z + 1] - p[z - 1] - p[x - 1, z - 1],
                                      p[z + 1] + p[x - 1, z + 1] + p[z - 1] + p[x - 1, z - 1],
                                      eps))

    @sp.function
    def pseudo_y(p, c0, c1, c2, g, eps):
        gb = 0.5 * (g + g[y - 1])
        cx = 0.25 * (c0[x + 1] + c0[x + 1, y - 1] + c0 + c0[y - 1])
        cz = 0.25 * (c2[z + 1] + c2[y - 1, z + 1] + c2 + c2[y - 1])
        return ((abs(c1) - sq(c1, gb)) * r2(p - p[y - 1], p + p[y - 1], eps)
                - hp(c1, cx, gb) * r4(p[x + 1] + p[x + 1, y - 1] - p[x - 1] - p[x - 1, y - 1],
                                      p[x + 1] + p[x + 1, y - 1] + p[x - 1] + p[x - 1, y - 1],
                                      eps)
                - hp(c1, cz, gb) * r4(p[z + 1] + p[y - 1, z + 1] - p[z - 1] - p[y - 1, z - 1],
                                      p[z + 1] + p[y - 1, z + 1] + p[z - 1] + p[y - 1, z - 1],
                                      eps))

    @sp.function
    def pseudo_z(p, c0, c1, c2, g, eps):
        gb = 0.5 * (g + g[z - 1])
        cx = 0.25 * (c0[x + 1] + c0[x + 1, z - 1] + c0 + c0[z - 1])
        cy = 0.25 * (c1[y + 1] + c1[y + 1, z - 1] + c1 + c1[z - 1])
        return ((abs(c2) - sq(c2, gb)) * r2(p - p[z - 1], p + p[z - 1], eps)
                - hp(c2, cx, gb) * r4(p[x + 1] + p[x + 1, z - 1] - p[x - 1] - p[x - 1, z - 1],
                                      p[x + 1] + p[x + 1, z - 1] + p[x - 1] + p[x - 1, z - 1],
                                      eps)
                - hp(c2, cy, gb) * r4(p[y + 1] + p[y + 1, z - 1] - p[y - 1] - p[y - 1, z - 1],
                                      p[y + 1] + p[y + 1, z - 1] + p[y - 1] + p[y - 1, z - 1],
                                      eps))

    @sp.stencil(dims=XYZ, **GENERAL)
    def antidiff_g_3d(p, c0, c1, c2, g, eps):
        return (pseudo_x(p, c0, c1, c2, g, eps), pseudo_y(p, c0, c1, c2, g, eps),
                pseudo_z(p, c0, c1, c2, g, eps))

    @sp.stencil(dims=XYZ, **GENERAL)
    def beta_g_3d(p, pn, v0, v1, v2, g, eps):
        hi = max(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1], pn[z - 1], pn[z + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1], p[z - 1], p[z + 1])
        lo = min(pn, pn[x - 1], pn[x + 1], pn[y - 1], pn[y + 1], pn[z - 1], pn[z + 1],
                 p, p[x - 1], p[x + 1], p[y - 1], p[y + 1], p[z - 1], p[z + 1])
        west, east = flux(v0, p[x - 1], p), flux(v0[x + 1], p, p[x + 1])
        south, north = flux(v1, p[y - 1], p), flux(v1[y + 1], p, p[y + 1])
        below, above = flux(v2, p[z - 1], p), flux(v2[z + 1], p, p[z + 1])
        incoming = ((max(west, 0.0) - min(east, 0.0)) + (max(south, 0.0) - min(north, 0.0))
                    + (max(below, 0.0) - min(above, 0.0)))
        outgoing = ((max(east, 0.0) - min(west, 0.0)) + (max(north, 0.0) - min(south, 0.0))
                    + (max(above, 0.0) - min(below, 0.0)))
        return (hi - p) * g / (incoming + eps), (p - lo) * g / (outgoing + eps)

    return antidiff_g_3d, beta_g_3d


@sp.stencil(dims=XYZ, **GENERAL)
def limit_3d(v0, v1, v2, bu, bd):
    return (limit_face(v0, bd[x - 1], bu, bu[x - 1], bd),
            limit_face(v1, bd[y - 1], bu, bu[y - 1], bd),
            limit_face(v2, bd[z - 1], bu, bu[z - 1], bd))


# --------------------------------------------------------------------------- the sets


@dataclass(frozen=True)
class GeneralKernels:
    """The stencils of the general path for one rank and option set (module docstring)."""

    ndim: int
    donor: sp.Stencil       # (psi, *V, g) -> psi - div(donor fluxes) / g
    centred: sp.Stencil     # (psi, *v, g) -> psi - div(v) / g        (infinite gauge)
    antidiff: sp.Stencil    # (psi, *V, g, eps) -> tuple of pseudo-velocities
    beta: sp.Stencil        # (psi, psi_n, *v, g, eps) -> (beta_up, beta_down)
    limit: sp.Stencil       # (*v, beta_up, beta_down) -> tuple of limited velocities


_RANK = {1: (donor_1d, centred_1d, limit_1d, _build_1d),
         2: (donor_2d, centred_2d, limit_2d, _build_2d),
         3: (donor_3d, centred_3d, limit_3d, _build_3d)}


def general_kernels(ndim: int, infinite_gauge: bool = False, third_order_terms: bool = False,
                    g_form: str = "literature") -> GeneralKernels:
    """The general-path kernel set (built once per option set, cached)."""
    return _general(int(ndim), bool(infinite_gauge), bool(third_order_terms), str(g_form))


@functools.lru_cache(maxsize=None)
def _general(ndim, infinite_gauge, third_order_terms, g_form):
    donor, centred, limit, build = _RANK[ndim]
    if infinite_gauge:
        ratios, flux = (gauge2, gauge4, gauge4), centred_flux
    else:
        ratios, flux = (relative2, relative2, relative4_exact), donor_flux
    sq, hp = ((square_over_g, half_product_over_g) if g_form == "literature"
              else (square_plain, half_product_plain))
    antidiff, beta = build(*ratios, third_order_terms, flux, sq, hp)
    return GeneralKernels(ndim=ndim, donor=donor, centred=centred, antidiff=antidiff,
                          beta=beta, limit=limit)
