"""An independent oracle for boundary "extrapolate" (the compiled backend's way before
issue 16 lowered it into the kernels, ``codegen/boundary.py``): thin ghost strips.

The main call and the strips use only "edge" and "valid" along the extrapolated axis, so
the compiled kernels under test never see "extrapolate" here.

A combining mode's ghost value is a linear combination of several entries, not a copy of
one, so it is not an index remapping (``codegen/boundary.py``).  Along such an axis ``d``
(halo ``(lo, hi)``, domain length ``n``) a call runs as::

    main call, mode "edge" along d          -> every point; rows [0, lo) and [n - hi, n) wrong
    strip [0, lo):      fields' windows [-lo, lo + hi) along d, ghost rows extrapolated
                        (stencilpy/extrapolation.py), run with "valid" along d -> lo rows
    strip [n - hi, n):  windows [n - hi - lo, n + hi), "valid" along d          -> hi rows

The strips are copies of ``lo + hi + (lo or hi)`` rows of each field (the halo and the
ghosts), never of the whole field: extra memory is the perimeter, not a second copy of the
inputs.  Each strip call is an ordinary call of the same stencil (other axes keep their
modes; a second combining axis recurses), so temporaries are computed from the extended
inputs exactly as the numpy reference computes them from its padded box.
"""

from __future__ import annotations

import math

import numpy as np

from stencilpy.extrapolation import window
from stencilpy.options import COMBINING_MODES
from stencilpy.runtime import overlap
from stencilpy.signature import BoundCall


def ghost_strips(stencil, values: dict, boundary, fill_value=None):
    """``stencil(**values, boundary=boundary)`` computed by the ghost-strip method."""
    call = stencil.bind(values, boundary, fill_value, None, None, False, None)
    outs = execute_with_ghosts(stencil, call, None)
    return outs[0] if len(outs) == 1 else outs


def combining_axis(call: BoundCall) -> int | None:
    """The first stencil axis whose mode is a combining one (None: there is none)."""
    for d, mode in enumerate(call.options.modes):
        if mode in COMBINING_MODES:
            return d
    return None


def execute_with_ghosts(stencil, call: BoundCall, outs) -> tuple[np.ndarray, ...]:
    """Run ``call`` (which has a combining mode) on ``stencil``'s compiled kernels.

    The main call and the strips go through ``stencil(...)`` itself."""
    if outs is not None and overlap.check(outs, call.fields.values()):
        fresh = execute_with_ghosts(stencil, call, None)
        for o, r in zip(outs, fresh):
            o[...] = r
        return tuple(outs)
    if outs is None:
        outs = tuple(np.empty(shape, dtype=dt) for shape, dt in zip(call.out_shapes, call.out_dtypes))
    d = combining_axis(call)
    fill = call.options.fill_value
    options = dict(fill_value=None if isinstance(fill, float) and math.isnan(fill) else fill,
                   threads=call.options.threads)
    if call.is_empty:
        return tuple(outs)
    main = {k: ("edge" if k == d else m) for k, m in enumerate(call.options.modes)}
    stencil(**call.fields, **call.scalars, boundary=main, out=_out(outs), **options)
    lo, hi = call.plan.halo[d]
    for a, b in _strips(call.domain[d], lo, hi):
        _run_strip(stencil, call, outs, d, a, b, options)
    return tuple(outs)


def _out(outs):
    return outs if len(outs) > 1 else outs[0]


def _strips(n: int, lo: int, hi: int) -> list:
    """Output rows ``[a, b)`` along the axis that read ghosts (merged when they meet)."""
    parts = [(0, min(lo, n))] if lo else []
    if hi:
        parts.append((max(n - hi, 0), n))
    if len(parts) == 2 and parts[0][1] >= parts[1][0]:
        parts = [(0, n)]
    return [p for p in parts if p[1] > p[0]]


def _run_strip(stencil, call: BoundCall, outs, d: int, a: int, b: int, options) -> None:
    """Recompute output rows ``[a, b)`` along axis ``d`` from extrapolated field windows."""
    lo, hi = call.plan.halo[d]
    ndim = len(call.domain)
    values = dict(call.scalars)
    for name, arr in call.fields.items():
        if call.broadcast[name][d]:
            values[name] = arr
        else:
            values[name] = window(arr, arr.ndim - ndim + d, a - lo, b + hi)
    boundary = {k: ("valid" if k == d else m) for k, m in enumerate(call.options.modes)}
    first = next(iter(call.fields))
    if call.broadcast[first][d] or values[first].shape[:-ndim] != call.batch_shape:
        options = dict(options, domain=call.batch_shape + call.domain[:d] + (b - a + lo + hi,)
                       + call.domain[d + 1:])
    index = (slice(None),) * (len(call.batch_shape) + d) + (slice(a, b),)
    strip = tuple(o[index] for o in outs)
    # each output's own reach along d (exact per-output regions): under "valid" on the window,
    # output k starts lo - lo_k points after the window's first output row
    def reach_lo(k: int) -> int:
        return max([0] + [e[d][0] for name, e in call.plan.footprints(k)
                          if name in call.fields and not call.broadcast[name][d]])
    starts = [lo - reach_lo(k) for k in range(len(outs))]
    same = not any(starts)
    if same and all(s.flags.c_contiguous for s in strip):
        stencil(**values, boundary=boundary, out=_out(strip), **options)
        return
    results = stencil(**values, boundary=boundary, **options)
    axis = len(call.batch_shape) + d
    for s, r, start in zip(strip, results if isinstance(results, tuple) else (results,), starts):
        s[...] = np.take(r, range(start, start + (b - a)), axis=axis)
