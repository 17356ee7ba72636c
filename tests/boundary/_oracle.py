"""An oracle for boundary modes that shares no code with stencilpy: ``numpy.pad`` to
extend the fields, hand-written slicing for the stencil.

A stencil is described here independently of its Python source, as a list of terms
``(coefficient, field index, offset tuple)`` (a linear combination of shifted fields).
Semantics (API.md section 2): every field is extended along each stencil axis by the
halo with the axis's mode (numpy.pad meaning; "wrap" of a field longer than the domain
is modulo the domain length N, reads inside the field see its own entries); along
"fill" axes the points whose stencil reaches outside some field are set to
``fill_value``; along "valid" axes they are dropped.
"""

from __future__ import annotations

import numpy as np

import _support

PAD_MODES = ("constant", "wrap", "edge", "reflect", "symmetric")
ALL_MODES = PAD_MODES + ("fill", "valid")
ALIASES = {"periodic": "wrap", "nearest": "edge"}


def halo_of(terms, ndim: int) -> tuple[tuple[int, int], ...]:
    """``(lo, hi)`` per axis: how far the terms reach below and above the point."""
    return tuple((max([0] + [-o[d] for _, _, o in terms]), max([0] + [o[d] for _, _, o in terms]))
                 for d in range(ndim))


def extend(a: np.ndarray, axis: int, lo: int, hi: int, mode: str, n: int, fill=None):
    """``a`` extended along ``axis`` so that it covers domain indices ``[-lo, n + hi)``."""
    mode = ALIASES.get(mode, mode)
    length = a.shape[axis]
    if mode == "wrap" and length > n:            # staggered: out-of-range reads modulo n
        idx = np.arange(-lo, n + hi)
        idx = np.where((idx >= 0) & (idx < length), idx, idx % n)
        return np.take(a, idx, axis=axis)
    widths = [(0, 0)] * a.ndim
    widths[axis] = (lo, max(0, n + hi - length))
    if mode == "constant":
        padded = np.pad(a, widths, mode="constant", constant_values=fill)
    else:                                         # fill/valid: the padding is never kept
        padded = np.pad(a, widths, mode=mode if mode in PAD_MODES else "edge")
    return np.take(padded, np.arange(lo + n + hi), axis=axis)


def valid_range(terms, fields, d: int, n: int, ndim: int) -> tuple[int, int]:
    """Output points along axis ``d`` whose reads stay inside every (non-broadcast) field."""
    lo, hi = 0, n
    for _, f, o in terms:
        length = fields[f].shape[fields[f].ndim - ndim + d]
        if length == 1 and n != 1:
            continue                              # broadcast along this axis
        lo = max(lo, -o[d])
        hi = min(hi, length - o[d])
    return lo, max(lo, hi)


def apply(terms, fields, modes, fill_value=None, domain=None, dtype=None):
    """The expected result of the linear stencil ``terms`` on ``fields`` (numpy arrays)."""
    ndim = len(terms[0][2])
    modes = tuple(ALIASES.get(m, m) for m in modes)
    domain = tuple(domain or fields[0].shape[-ndim:])
    halo = halo_of(terms, ndim)
    padval = fill_value if fill_value is not None else np.nan
    ext = []
    for a in fields:
        a = np.asarray(a)
        for d in range(ndim):
            axis = a.ndim - ndim + d
            if a.shape[axis] == 1 and domain[d] != 1:
                continue                           # broadcast: every offset sees the same value
            a = extend(a, axis, halo[d][0], halo[d][1], modes[d], domain[d],
                       padval if a.dtype.kind == "f" else (fill_value or 0))
        ext.append(a)
    if dtype is None:
        dtype = np.result_type(*fields)
    total = None
    for coef, f, o in terms:
        a = ext[f]
        index = [Ellipsis]
        for d in range(ndim):
            if a.shape[a.ndim - ndim + d] == 1 and domain[d] != 1:
                index.append(slice(None))
            else:
                start = halo[d][0] + o[d]
                index.append(slice(start, start + domain[d]))
        part = a[tuple(index)]
        part = part * coef if coef != 1 else part
        total = part if total is None else total + part
    batch = np.broadcast_shapes(*[a.shape[:a.ndim - ndim] for a in fields])
    out = np.array(np.broadcast_to(total, batch + domain), dtype=dtype)
    keep = [Ellipsis]
    for d, mode in enumerate(modes):
        lo, hi = valid_range(terms, fields, d, domain[d], ndim)
        if mode == "fill":
            for part in (slice(0, lo), slice(hi, None)):
                out[(Ellipsis, part) + (slice(None),) * (ndim - d - 1)] = \
                    np.nan if fill_value is None else fill_value
            keep.append(slice(None))
        elif mode == "valid":
            keep.append(slice(lo, hi))
        else:
            keep.append(slice(None))
    return out[tuple(keep)]


def assert_same(got: np.ndarray, want: np.ndarray, dtype=None) -> None:
    """Equal shapes (and ``dtype``, when given); exact for integers, tight tolerance
    (NaN == NaN) for floats."""
    if dtype is not None:
        assert got.dtype == dtype, (got.dtype, dtype)
    tol = 2e-6 if got.dtype == np.float32 else 1e-13
    _support.assert_same(got, want, rtol=tol, atol=tol, check_dtype=False)


def random_field(shape, dtype, seed: int = 0) -> np.ndarray:
    """The boundary tests' data: floats in [-2, 2), integers in [-50, 49]."""
    low, high = (-2.0, 2.0) if np.dtype(dtype).kind == "f" else (-50, 49)
    return _support.random_field(shape, dtype, seed, low, high)
