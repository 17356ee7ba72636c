"""The ``"extrapolate"`` boundary mode: ghost values from the parabola through the end points.

A read ``k`` points beyond an end of a field (of length ``L >= 3`` along that axis) sees the
value at that position of the parabola through the field's three nearest end points (in index
space).  Left of entry 0, at index ``g < 0``::

    f[g] = (g - 1)(g - 2)/2 * f[0]  -  g (g - 2) * f[1]  +  g (g - 1)/2 * f[2]

so ``f[-1] = 3 f[0] - 3 f[1] + f[2]`` and ``f[-2] = 6 f[0] - 8 f[1] + 3 f[2]``; the right end
is the mirror image.  A centred difference ``(f[1] - f[-1]) / 2`` at entry 0 is then exactly
the second-order one-sided difference ``(-3 f[0] + 4 f[1] - f[2]) / 2`` (the three-point
formula is exact on parabolas), which is what ``numpy.gradient(edge_order=2)`` and MetPy use
at the edges.

Pure numpy: the reference pads with it; the compiled kernels compute the same ghosts in
their remapped points and ghost rows (``codegen/boundary.py``: ``ghost``, ``combine``).
"""

from __future__ import annotations

import numpy as np

#: the fewest points a field needs along an axis to be extrapolated
MIN_POINTS = 3


def weights(g: int) -> tuple[int, int, int]:
    """Integer weights of the three end entries (nearest first) for a ghost ``g`` steps out
    (``g >= 1``).

    >>> weights(1), weights(2)
    ((3, -3, 1), (6, -8, 3))
    """
    x = -g
    return ((x - 1) * (x - 2) // 2, -x * (x - 2), x * (x - 1) // 2)


def _ghosts(arr: np.ndarray, axis: int, steps, right: bool) -> np.ndarray:
    """Ghost entries ``steps`` (each >= 1) beyond the left (or right) end, stacked in order."""
    length = arr.shape[axis]
    ends = (length - 1, length - 2, length - 3) if right else (0, 1, 2)
    f = [np.take(arr, [i], axis=axis) for i in ends]
    pieces = []
    for g in steps:
        a, b, c = weights(g)
        pieces.append(a * f[0] + b * f[1] + c * f[2])
    return np.concatenate(pieces, axis=axis).astype(arr.dtype, copy=False)


def window(arr: np.ndarray, axis: int, start: int, stop: int) -> np.ndarray:
    """Entries ``[start, stop)`` of ``arr`` along ``axis``, extrapolated beyond its ends.

    >>> window(np.array([0.0, 1.0, 4.0, 9.0]), 0, -2, 6).tolist()
    [4.0, 1.0, 0.0, 1.0, 4.0, 9.0, 16.0, 25.0]
    """
    length = arr.shape[axis]
    if length < MIN_POINTS and (start < 0 or stop > length):
        raise ValueError(f"extrapolation needs {MIN_POINTS} points, not {length}")
    parts = []
    if start < 0:
        parts.append(_ghosts(arr, axis, range(-start, -min(stop, 0), -1), right=False))
    lo, hi = max(start, 0), min(stop, length)
    if hi > lo:
        parts.append(np.take(arr, np.arange(lo, hi), axis=axis))
    if stop > length:
        parts.append(_ghosts(arr, axis, range(max(start, length) - length + 1,
                                              stop - length + 1), right=True))
    return np.concatenate(parts, axis=axis) if len(parts) > 1 else parts[0]
