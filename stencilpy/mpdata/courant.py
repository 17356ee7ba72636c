"""Checks of the staggered periodic Courant field, shared by the solver and the numpy
reference.  Input validation only: no MPDATA numerics live here, so the reference stays
independent of the compiled kernels.

Component ``d`` of ``courant`` has ``N_d + 1`` entries along axis ``d`` (entry ``m`` is the
face on the low side of cell ``m``) and ``N_e`` along every other axis; entries ``0`` and
``N_d`` are the same periodic face.

>>> import numpy as np
>>> c = validate_courant((np.r_[0.5, 0.5, 0.5 + 1e-14],), (2,))
>>> c[0].tolist(), max_outflow_courant(c)
([0.5, 0.5, 0.5], 0.5)
"""

from __future__ import annotations

import numpy as np

#: largest allowed difference between the two stored copies of a periodic boundary face
FACE_TOLERANCE = 1e-12


def validate_courant(courant, shape, *, tolerance: float = FACE_TOLERANCE,
                     periodic=None) -> tuple:
    """Check ``courant`` (a tuple or list of one array per axis) for a grid of ``shape``
    cells.  Returns new C-contiguous float64 arrays in which entry ``N_d`` along axis ``d``
    of component ``d`` is an exact copy of entry ``0`` (after checking that they agree to
    ``tolerance``), so the two boundary fluxes are bitwise identical.  Raises ``ValueError``
    with a message that says what to fix.  ``periodic``: which axes are periodic (default:
    all); along the others entries ``0`` and ``N_d`` are two different boundary faces."""
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    if not isinstance(courant, (tuple, list)):
        raise ValueError(f"courant must be a tuple of {ndim} arrays, one per axis (staggered "
                         f"face Courant numbers), got {type(courant).__name__}")
    if len(courant) != ndim:
        raise ValueError(f"courant must have one component per axis: psi is {ndim}-D but "
                         f"courant has {len(courant)} component(s)")
    periodic = (True,) * ndim if periodic is None else tuple(bool(p) for p in periodic)
    return tuple(_component(np.asarray(comp), d, shape, tolerance, periodic[d])
                 for d, comp in enumerate(courant))


def _component(arr: np.ndarray, d: int, shape: tuple, tolerance: float,
               periodic: bool = True) -> np.ndarray:
    if arr.dtype == np.bool_ or arr.dtype.kind not in "fiu":
        raise ValueError(f"courant[{d}] must be an array of real numbers, got dtype {arr.dtype}")
    want = tuple(n + 1 if ax == d else n for ax, n in enumerate(shape))
    if arr.shape != want:
        raise ValueError(
            f"courant[{d}] has shape {arr.shape}, but psi of shape {shape} needs {want}: "
            f"N_{d} + 1 = {shape[d] + 1} faces along axis {d} (entry m is the face on the "
            f"low side of cell m; entries 0 and N_{d} are the same periodic face)")
    arr = np.array(arr, dtype=np.float64, order="C")          # always a private copy
    if not np.isfinite(arr).all():
        raise ValueError(f"courant[{d}] contains NaN or infinite values")
    if not periodic:
        return arr
    first, last = np.take(arr, [0], axis=d), np.take(arr, [shape[d]], axis=d)
    gap = float(np.max(np.abs(first - last)))
    if gap > tolerance:
        raise ValueError(
            f"courant[{d}]: entries 0 and {shape[d]} along axis {d} are the same periodic "
            f"face and must be equal, but differ by up to {gap:.3g} (tolerance "
            f"{tolerance:g}); build the field with entry {shape[d]} a copy of entry 0")
    index = [slice(None)] * len(shape)
    index[d] = slice(shape[d], shape[d] + 1)
    arr[tuple(index)] = first
    return arr


def max_outflow_courant(courant, g_factor=None) -> float:
    """The largest per-cell outflow Courant sum ``sum_d([C_{i+1/2}]^+ - [C_{i-1/2}]^-)``
    (divided by ``G_i`` when ``g_factor`` is given, the faces then holding G C):
    donor-cell passes (and MPDATA without infinite gauge) are stable and sign-preserving
    when it is <= 1 (docs/mpdata-derivation.md Sec. 3)."""
    total = 0.0
    for d, comp in enumerate(courant):
        comp = np.asarray(comp, dtype=np.float64)
        n = comp.shape[d] - 1
        right = np.take(comp, range(1, n + 1), axis=d)
        left = np.take(comp, range(0, n), axis=d)
        total = total + np.maximum(right, 0.0) - np.minimum(left, 0.0)
    if g_factor is not None:
        total = total / np.asarray(g_factor, dtype=np.float64)
    return float(np.max(total))
