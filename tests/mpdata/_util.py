"""Helpers of the MPDATA tests: every valid option combination and its test id, the grid
shapes, and the fields and flows several test files use."""

from __future__ import annotations

import numpy as np

from stencilpy.mpdata import cases

#: small grids with N0 != N1 != N2
SHAPES = {1: (24,), 2: (14, 9), 3: (6, 5, 4)}

#: every valid combination of options (infinite gauge only with n_iters <= 2; the feedback
#: variant only matters with nonoscillatory and n_iters >= 3)
ALL_OPTIONS = [
    dict(n_iters=n, nonoscillatory=fct, infinite_gauge=iga, third_order_terms=tot,
         limited_velocity_feedback=fb)
    for n in (1, 2, 3)
    for fct in (False, True)
    for iga in (False, True)
    for tot in (False, True)
    for fb in (True, False)
    if not (iga and n > 2) and (fb or (fct and n >= 3))
]


def option_id(opts) -> str:
    """A short test id: ``it2-nonoscillatory+third_order_terms``, ``it1-basic``, ..."""
    flags = [k for k in ("nonoscillatory", "infinite_gauge", "third_order_terms") if opts[k]]
    if not opts["limited_velocity_feedback"]:
        flags.append("unlimited_feedback")
    return f"it{opts['n_iters']}-" + ("+".join(flags) or "basic")


def options_for(ndim) -> list[dict]:
    """The valid options in ``ndim`` dimensions (no third-order terms in 3-D)."""
    return [o for o in ALL_OPTIONS if ndim < 3 or not o["third_order_terms"]]


def tot2d_needs_positive(ndim, opts) -> bool:
    """Whether the third-order mixed term (13) divides by cell sums (psi must be > 0)."""
    return opts["third_order_terms"] and ndim == 2 and not opts["infinite_gauge"]


def field_with_zeros(shape, seed=0) -> np.ndarray:
    """Non-negative with compact support (exact zeros) and sharp edges."""
    rng = np.random.default_rng(seed)
    psi = np.zeros(shape)
    core = tuple(slice(n // 4, max(n // 4 + 1, 3 * n // 4)) for n in shape)
    psi[core] = rng.uniform(0.5, 3.0, psi[core].shape)
    return psi


def random_courant(shape, max_sum=0.8, seed=0) -> tuple:
    """A divergent random periodic face field (entry N_d == entry 0) with outflow sum
    <= ``max_sum``."""
    rng = np.random.default_rng(seed)
    ndim = len(shape)
    half = max_sum / (2 * ndim)
    return tuple(np.concatenate([v, np.take(v, [0], axis=d)], axis=d)
                 for d, v in enumerate(rng.uniform(-half, half, (ndim,) + shape)))


def nondivergent(shape, max_courant=0.8, seed=0) -> tuple:
    """A nondivergent periodic flow: random with outflow sum ``max_courant`` in 2-D and 3-D,
    the constant ``0.37 * max_courant / 0.8`` in 1-D."""
    if len(shape) == 1:
        return cases.constant_courant(shape, 0.37 * max_courant / 0.8)
    return cases.random_nondivergent_courant(shape, max_courant=max_courant, seed=seed)
