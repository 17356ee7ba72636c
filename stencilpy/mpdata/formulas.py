"""The MPDATA formulas shared by the 1-D, 2-D and 3-D kernels, as ``@sp.function`` helpers.

Equation numbers refer to docs/mpdata-derivation.md.  The kernel modules
(:mod:`~stencilpy.mpdata.kernels1d`, ``2d``, ``3d``) import these; :mod:`stencilpy.mpdata.kernels`
imports the kernel modules, so the imports point one way.
"""

from __future__ import annotations

import stencilpy as sp

X, XY, XYZ = ("x",), ("x", "y"), ("x", "y", "z")


@sp.function
def donor_flux(v, left, right):
    """Donor-cell flux (3) through a face with velocity ``v`` between ``left`` and ``right``."""
    return max(v, 0.0) * left + min(v, 0.0) * right


@sp.function
def centred_flux(v, left, right):
    """Infinite-gauge flux of a corrective pass (Sec. 6): the pseudo-velocity itself."""
    return v


@sp.function
def relative2(num, den, eps):
    """(8) and the ratio of (12): ``num / (den + eps)`` (den: a sum of non-negative values)."""
    return num / (den + eps)


@sp.function
def relative4_exact(num, den, eps):
    """The ratio of (13): no epsilon (PyMPDATA), so it needs a strictly positive field."""
    return num / den


@sp.function
def gauge2(num, den, eps):
    """Infinite-gauge limit of (8): ``(psi_{i+1} - psi_i) / 2``."""
    return num / 2.0


@sp.function
def gauge4(num, den, eps):
    """Infinite-gauge limit of (9), (12) and (13): numerator / 4."""
    return num / 4.0


@sp.function
def limit_face(v, down_left, up_right, up_left, down_right):
    """(18): the pseudo-velocity ``v`` of a face, limited by the beta of its two cells."""
    return (max(v, 0.0) * min(min(down_left, up_right), 1.0)
            + min(v, 0.0) * min(min(up_left, down_right), 1.0))


@sp.function
def third_order_coefficient(c):
    """The coefficient of (12): ``(3 c|c| - 2 c^3 - c) / 6``.

    ``c^3`` is ``c * c * c``: ``c ** 3`` calls ``pow`` (a libm call per face, which made the
    third-order kernels 3-4x slower); the two differ by at most an ulp.
    """
    return (3.0 * c * abs(c) - 2.0 * c * c * c - c) / 6.0


@sp.function
def mixed_coefficient(c, cbar):
    """The coefficient of (13): ``cbar / 2 (|c| - 2 c^2)``."""
    return cbar / 2.0 * (abs(c) - 2.0 * c * c)
