"""``out=`` that shares memory with an input: the one rule both call paths follow.

A call behaves as if every input were read before any output is written (snapshot
semantics).  The kernels read and write in place, so when an output's bytes overlap an
input's (the bounds test of ``np.may_share_memory``) the call computes into fresh arrays
and copies them into ``out=``.  Outputs that overlap each other are refused.

Both paths ask ``find`` (each array as its data address and its byte span relative to
it, which the fast path keeps per prepared call); the full path through ``check``.

>>> import numpy as np
>>> u = np.arange(10.0)
>>> check((u[2:],), (u[:5],)), check((np.empty(3),), (u,))
(True, False)
"""

from __future__ import annotations

import numpy as np

from stencilpy.errors import StencilCallError

#: what ``find`` reports
NONE, INPUT, OUTPUTS = "none", "input", "outputs"


def byte_span(arr: np.ndarray) -> tuple[int, int]:
    """``[lo, hi)`` of the bytes ``arr`` touches, relative to its data pointer
    (``(0, 0)`` when it is empty)."""
    lo = hi = 0
    for n, s in zip(arr.shape, arr.strides):
        if n == 0:
            return 0, 0
        if s < 0:
            lo += (n - 1) * s
        else:
            hi += (n - 1) * s
    return lo, hi + arr.itemsize


def find(out_addresses, out_spans, in_addresses, in_spans) -> str:
    """``OUTPUTS`` when two outputs overlap, else ``INPUT`` when an output overlaps an input,
    else ``NONE``; each array is given by its data address and ``byte_span``."""
    outs = [(p + lo, p + hi) for p, (lo, hi) in zip(out_addresses, out_spans) if lo < hi]
    if len(outs) > 1:
        for k, (a, b) in enumerate(outs):
            for c, d in outs[k + 1:]:
                if a < d and c < b:
                    return OUTPUTS
    for p, (lo, hi) in zip(in_addresses, in_spans):
        c, d = p + lo, p + hi
        for a, b in outs:
            if a < d and c < b and lo < hi:
                return INPUT
    return NONE


def check(outs, inputs) -> bool:
    """Whether an output overlaps an input (the call must compute into fresh arrays);
    refuses outputs that overlap each other."""
    inputs = list(inputs)
    found = find([o.ctypes.data for o in outs], [byte_span(o) for o in outs],
                 [a.ctypes.data for a in inputs], [byte_span(a) for a in inputs])
    if found == OUTPUTS:
        raise StencilCallError("the arrays passed as out= overlap each other; "
                               "pass separate arrays")
    return found == INPUT


def copy_into(outs, fresh) -> None:
    """Finish a call that computed ``fresh`` arrays in place of its overlapping ``outs``."""
    for o, r in zip(outs, fresh):
        o[...] = r
