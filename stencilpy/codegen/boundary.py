"""Index remapping for the padding boundary modes (numpy.pad meanings).

``remap(j)`` maps an index that may fall outside a field of length ``L`` to
the index whose value ``numpy.pad`` would put there (indices inside map to
themselves).  ``"wrap"`` works modulo the *domain* length ``N`` so that a
staggered field (``L = N + 1``) sees entry ``N - 1`` one face left of face 0.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.loops import const, smax, smin


def _mod(b: ir.IRBuilder, j, period):
    """Non-negative ``j mod period`` (period > 0)."""
    r = b.srem(j, period)
    return b.select(b.icmp_signed("<", r, const(0)), b.add(r, period), r)


def _safe_period(b, period):
    return smax(b, period, const(1))


def remap(b: ir.IRBuilder, mode: str, j, length, domain_len):
    """The in-bounds index for ``j`` under ``mode`` ("constant" clamps; see ``in_bounds``)."""
    if mode in ("edge", "constant"):
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
