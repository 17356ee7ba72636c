"""Stencils for the boundary tests, each with its terms for the oracle (``_oracle.apply``).

Each entry of ``CASES`` is ``(name, compiled stencil, numpy-backend stencil, terms, shape)``;
the terms are ``(coefficient, field index, offset)`` and restate the body by hand.
Integer coefficients keep integer stencils integer.
"""

from __future__ import annotations

import stencilpy as sp


def _both(f, **kw):
    return sp.stencil(f, **kw), sp.stencil(f, backend="numpy", **kw)


def fwd2_back1(u):
    return u[2] - u[-1]


def back1(u):
    return u[0] - u[-1]


def wide3(u):
    return u[3] + 2 * u[-3] - u[0]


def lopsided2d(u):
    return u[0, 1] + u[-3, 0]


def skew2d(u):
    return 2 * u[1, -1] - u[0, 2] + u[-2, 0]


def corner3d(u):
    return u[1, 0, 0] - u[0, -2, 0] + u[0, 0, 1] - u[-1, -1, -1]


def two_fields(a, b):
    return a[1] - 3 * b[-1]


def wide2d(u):
    return u[3, -3] - u[-3, 3] + u[0, 0]


TERMS = {
    "fwd2_back1": [(1, 0, (2,)), (-1, 0, (-1,))],
    "back1": [(1, 0, (0,)), (-1, 0, (-1,))],
    "wide3": [(1, 0, (3,)), (2, 0, (-3,)), (-1, 0, (0,))],
    "lopsided2d": [(1, 0, (0, 1)), (1, 0, (-3, 0))],
    "skew2d": [(2, 0, (1, -1)), (-1, 0, (0, 2)), (1, 0, (-2, 0))],
    "corner3d": [(1, 0, (1, 0, 0)), (-1, 0, (0, -2, 0)), (1, 0, (0, 0, 1)), (-1, 0, (-1, -1, -1))],
    "two_fields": [(1, 0, (1,)), (-3, 1, (-1,))],
    "wide2d": [(1, 0, (3, -3)), (-1, 0, (-3, 3)), (1, 0, (0, 0))],
}

SHAPES = {"fwd2_back1": (9,), "back1": (6,), "wide3": (8,), "lopsided2d": (7, 5),
          "skew2d": (6, 7), "corner3d": (4, 5, 3), "two_fields": (7,), "wide2d": (7, 8)}

COMPILED = {}
REFERENCE = {}
for _f in (fwd2_back1, back1, wide3, lopsided2d, skew2d, corner3d, two_fields, wide2d):
    COMPILED[_f.__name__], REFERENCE[_f.__name__] = _both(_f)


# -- named dims ---------------------------------------------------------------------------------

def named(u):
    return u[lat + 1] - 2 * u[lon - 2] + u[lat - 1, lon + 1]  # noqa: F821


NAMED_TERMS = [(1, 0, (1, 0)), (-2, 0, (0, -2)), (1, 0, (-1, 1))]
named_c, named_r = _both(named, dims=("lat", "lon"))


# -- staggered fields (u: N cells, fx: N + 1 faces along axis 0, fy along axis 1) -------------

def stag1d(u, f):
    return u + f[1] - f[-1] + f[2]


STAG1D_TERMS = [(1, 0, (0,)), (1, 1, (1,)), (-1, 1, (-1,)), (1, 1, (2,))]
stag1d_c, stag1d_r = _both(stag1d)


def stag2d(u, fx, fy):
    return u[0, 0] + fx[1, 0] - fx[-1, 0] + 2 * fy[0, 1] - fy[0, -2]


STAG2D_TERMS = [(1, 0, (0, 0)), (1, 1, (1, 0)), (-1, 1, (-1, 0)), (2, 2, (0, 1)), (-1, 2, (0, -2))]
stag2d_c, stag2d_r = _both(stag2d)
