"""Boundary conditions of the MPDATA solver and of the numpy reference: parsing and checks.

Input checks only (shared by :mod:`stencilpy.mpdata.solver` and
:mod:`stencilpy.mpdata.reference`, like :mod:`stencilpy.mpdata.courant`); each
implementation fills its halos with its own code.

Every axis has a kind on each side:

* ``"periodic"`` - the axis wraps (both sides, or neither);
* ``"open"`` - zero-gradient outflow/inflow: the halo cells of the field (and of every face
  field and limiter coefficient the scheme reads there) repeat the edge value, so what
  flows in through the boundary face carries the edge cell's value (PyMPDATA's
  ``Extrapolated(eps=inf)`` for a non-negative field; libmpdata++ ``open`` for the field,
  see docs/mpdata.md for the velocity halos);
* ``"rigid"`` - a wall: no flux through the boundary face.  The Courant number on that
  face must be zero (checked); the halo is zero-gradient as for ``"open"``;
* ``Constant(value)`` - a fixed outside state (PyMPDATA's ``Constant``): the halo cells of
  the field hold ``value``, so what flows in through the boundary face carries ``value``;
  the velocity halos are zero-gradient as for ``"open"``, and the limiter's coefficients
  there are beta_down = ``value`` and beta_up = 0 (PyMPDATA writes ``value`` into its
  complex (beta_down, beta_up) halo, so no antidiffusive flux leaves through that side).

Accepted forms of ``boundaries=``: ``None`` or one kind for every axis and side; a
sequence with one entry per axis, each a kind or a ``(low, high)`` pair; or a mapping
``{axis: kind or (low, high)}`` by axis number or dimension name (axes left out are
periodic).

>>> parse_boundaries("open", 2)
(('open', 'open'), ('open', 'open'))
>>> parse_boundaries({1: ("open", "rigid")}, 2)
(('periodic', 'periodic'), ('open', 'rigid'))
>>> parse_boundaries(["periodic", Constant(0.5)], 2)
(('periodic', 'periodic'), (Constant(0.5), Constant(0.5)))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

KINDS = ("periodic", "open", "rigid")


@dataclass(frozen=True)
class Constant:
    """A boundary side whose outside cells hold ``value`` (a finite number).

    >>> Constant(2)
    Constant(2.0)
    """

    value: float

    def __post_init__(self):
        try:
            value = float(self.value)
        except (TypeError, ValueError):
            value = math.nan
        if isinstance(self.value, (bool, np.bool_, str, bytes)) or not math.isfinite(value):
            raise ValueError(f"Constant(value): value must be a finite number (the field's "
                             f"value outside the domain), got {self.value!r}")
        object.__setattr__(self, "value", value)

    def __repr__(self) -> str:
        return f"Constant({self.value!r})"


def constant_value(side) -> float | None:
    """``side.value`` for a ``Constant`` side, else None."""
    return side.value if isinstance(side, Constant) else None

#: largest |Courant number| accepted on a rigid wall
WALL_TOLERANCE = 1e-12


def _kind(value, where):
    if isinstance(value, Constant):
        return value
    if not isinstance(value, str) or value.lower() not in KINDS:
        raise ValueError(f"boundaries{where}: unknown boundary {value!r}; use one of "
                         f"{', '.join(map(repr, KINDS))} or Constant(value)")
    return value.lower()


def _pair(value, where) -> tuple:
    if isinstance(value, (str, Constant)):
        kind = _kind(value, where)
        return kind, kind
    if isinstance(value, (tuple, list)) and len(value) == 2:
        low, high = _kind(value[0], where + "[0]"), _kind(value[1], where + "[1]")
        if (low == "periodic") != (high == "periodic"):
            raise ValueError(f"boundaries{where}: 'periodic' must be on both sides of an "
                             f"axis, got ({low!r}, {high!r}); use open or rigid on both")
        return low, high
    raise ValueError(f"boundaries{where} must be a kind ({', '.join(map(repr, KINDS))}, "
                     f"Constant(value)) or a (low, high) pair of kinds, got {value!r}")


def parse_boundaries(boundaries, ndim: int, dims=None) -> tuple:
    """The canonical form: one ``(low, high)`` pair of kinds per axis.  ``dims``: the
    dimension names of the field (for a mapping keyed by name)."""
    if boundaries is None:
        return (("periodic", "periodic"),) * ndim
    if isinstance(boundaries, (str, Constant)):
        return (_pair(boundaries, ""),) * ndim
    if isinstance(boundaries, dict):
        out = [("periodic", "periodic")] * ndim
        for key, value in boundaries.items():
            if isinstance(key, str):
                if dims is None or key not in dims:
                    raise ValueError(f"boundaries: no dimension named {key!r} (the field's "
                                     f"dimensions are {tuple(dims) if dims else 'unnamed'}); "
                                     f"key the mapping by axis number or dimension name")
                axis = list(dims).index(key)
            elif isinstance(key, (int, np.integer)) and not isinstance(key, bool) \
                    and -ndim <= key < ndim:
                axis = int(key) % ndim
            else:
                raise ValueError(f"boundaries: key {key!r} is not an axis of a {ndim}-D field")
            out[axis] = _pair(value, f"[{key!r}]")
        return tuple(out)
    if isinstance(boundaries, (tuple, list)):
        if len(boundaries) != ndim:
            raise ValueError(f"boundaries: one entry per axis is needed ({ndim}), got "
                             f"{len(boundaries)}: {boundaries!r}")
        return tuple(_pair(value, f"[{d}]") for d, value in enumerate(boundaries))
    raise ValueError(f"boundaries must be None, a kind, a sequence of one kind or (low, high) "
                     f"pair per axis, or a dict, got {type(boundaries).__name__}")


def periodic_axes(bcs) -> tuple:
    """Which axes are periodic (canonical ``bcs``)."""
    return tuple(low == "periodic" for low, _ in bcs)


def check_walls(courant, bcs, *, tolerance: float = WALL_TOLERANCE) -> None:
    """Raise if a rigid wall's boundary face has a non-zero Courant number."""
    for d, (comp, sides) in enumerate(zip(courant, bcs)):
        n = comp.shape[d] - 1
        for side, entry in zip(sides, (0, n)):
            if side != "rigid":
                continue
            worst = float(np.max(np.abs(np.take(comp, entry, axis=d))))
            if worst > tolerance:
                name = "low" if entry == 0 else "high"
                raise ValueError(
                    f"courant[{d}]: the {name} side of axis {d} is a rigid wall, so its "
                    f"boundary face (entry {entry} along axis {d}) must carry no flux, but "
                    f"|C| reaches {worst:.3g} there; set that face to 0 or use 'open'")


def validate_g_factor(g_factor, shape) -> np.ndarray | None:
    """``None`` or a private C-contiguous float64 copy of a positive cell field."""
    if g_factor is None:
        return None
    if type(g_factor).__name__ == "DataArray" and hasattr(g_factor, "values"):
        g_factor = g_factor.values
    arr = np.asarray(g_factor)
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValueError(f"g_factor must be an array of real numbers, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"g_factor has shape {arr.shape}, but it is a cell field like psi: "
                         f"shape {tuple(shape)} is needed")
    arr = np.array(arr, dtype=np.float64, order="C")
    if not (np.isfinite(arr).all() and (arr > 0.0).all()):
        raise ValueError("g_factor must be finite and strictly positive everywhere (it "
                         f"divides the fluxes); its minimum is {float(np.min(arr)):.3g}")
    return arr


G_FORMS = ("literature", "pympdata")


def validate_g_form(form) -> str:
    if form not in G_FORMS:
        raise ValueError(f"g_form must be 'literature' (Smolarkiewicz 2006: (|GC| - (GC)^2/G) "
                         f"in the pseudo-velocity) or 'pympdata' (PyMPDATA 1.7: no 1/G there), "
                         f"got {form!r}")
    return form
