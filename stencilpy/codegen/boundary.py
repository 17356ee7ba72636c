"""Index remapping for the padding boundary modes (numpy.pad meanings).

``remap(j)`` maps an index that may fall outside a field of length ``L`` to
the index whose value ``numpy.pad`` would put there (indices inside map to
themselves).  ``"wrap"`` works modulo the *domain* length ``N`` so that a
staggered field (``L = N + 1``) sees entry ``N - 1`` one face left of face 0.

``"extrapolate"`` is not a remapping: its ghost is a combination of three entries
(``ghost``, ``combine``; the parabola of ``stencilpy/extrapolation.py``).  ``remap``
clamps it (a row pointer outside the interior points at the nearest row; the loads of
such rows go through ``ghost``).
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.loops import const, smax, smin
from stencilpy.codegen.types import concrete, memory_type


def _mod(b: ir.IRBuilder, j, period):
    """Non-negative ``j mod period`` (period > 0)."""
    r = b.srem(j, period)
    return b.select(b.icmp_signed("<", r, const(0)), b.add(r, period), r)


def _safe_period(b, period):
    return smax(b, period, const(1))


def remap(b: ir.IRBuilder, mode: str, j, length, domain_len):
    """The in-bounds index for ``j`` under ``mode`` ("constant" clamps; see ``in_bounds``)."""
    if mode in ("edge", "constant", "extrapolate"):
        return smin(b, smax(b, j, const(0)), b.sub(length, const(1)))
    inside = b.and_(b.icmp_signed(">=", j, const(0)), b.icmp_signed("<", j, length))
    if mode == "wrap":
        period = b.select(b.icmp_signed(">=", length, domain_len), domain_len, length)
        mapped = _mod(b, j, _safe_period(b, period))
    elif mode == "reflect":
        last = b.sub(length, const(1))
        m = _mod(b, j, _safe_period(b, b.add(last, last)))
        mapped = b.select(b.icmp_signed(">", m, last), b.sub(b.add(last, last), m), m)
        mapped = b.select(b.icmp_signed("==", last, const(0)), const(0), mapped)
    elif mode == "symmetric":
        period = b.add(length, length)
        m = _mod(b, j, _safe_period(b, period))
        mapped = b.select(b.icmp_signed(">=", m, length), b.sub(b.sub(period, const(1)), m), m)
    else:
        raise ValueError(f"no index remapping for mode {mode!r}")
    return b.select(inside, j, mapped)


def in_bounds(b: ir.IRBuilder, j, length) -> ir.Value:
    """``0 <= j < length`` as i1."""
    return b.and_(b.icmp_signed(">=", j, const(0)), b.icmp_signed("<", j, length))


def ghost(b: ir.IRBuilder, k, length):
    """``(inside, indices, weights)`` of an "extrapolate" read at index ``k`` of a field of
    ``length`` (>= 3 where a read falls outside; the call checks it).  Inside, the value
    is entry ``indices[0] = k``; ``g`` steps beyond an end ``e`` (0 or ``length - 1``) it
    is ``sum(w_m * f[e -+ m])`` over the end's three entries, with the integer weights
    ``(g+1)(g+2)/2, -g(g+2), g(g+1)/2`` (``extrapolation.weights``)::

        left = k < 0;  e = left ? 0 : length - 1;  s = left ? 1 : -1
        g = left ? -k : k - e
        indices = (inside ? k : e,  clamp(e + s),  clamp(e + 2 s))

    The second and third indices are clamped into the field, so a field shorter than 3
    (read only inside) never loads outside it."""
    inside = in_bounds(b, k, length)
    left = b.icmp_signed("<", k, const(0))
    last = b.sub(length, const(1))
    end = b.select(left, const(0), last)
    step = b.select(left, const(1), const(-1))
    g = b.select(left, b.neg(k), b.sub(k, last))

    def clamp(i):
        return smin(b, smax(b, i, const(0)), last)
    idx = [b.select(inside, k, end), clamp(b.add(end, step)),
           clamp(b.add(end, b.add(step, step)))]
    g1, g2 = b.add(g, const(1)), b.add(g, const(2))
    w = [b.sdiv(b.mul(g1, g2), const(2)), b.neg(b.mul(g, g2)), b.sdiv(b.mul(g, g1), const(2))]
    return inside, idx, w


def combine(b: ir.IRBuilder, values, weights, dtype) -> ir.Value:
    """``(w0 * v0 + w1 * v1) + w2 * v2`` in ``dtype``, the reference's order
    (``extrapolation._ghosts``)."""
    mt = memory_type(dtype)
    if concrete(dtype).kind == "f":
        ws = [b.sitofp(w, mt) for w in weights]
        terms = [b.fmul(w, v) for w, v in zip(ws, values)]
        return b.fadd(b.fadd(terms[0], terms[1]), terms[2])
    ws = [w if mt.width == 64 else b.trunc(w, mt) for w in weights]
    terms = [b.mul(w, v) for w, v in zip(ws, values)]
    return b.add(b.add(terms[0], terms[1]), terms[2])
