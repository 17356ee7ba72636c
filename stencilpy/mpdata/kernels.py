"""The MPDATA kernels, written in the stencil language (``@sp.stencil``) and nothing else.

Equation numbers refer to docs/mpdata-derivation.md (docs/mpdata.md summarises them).
Every kernel runs on the *cell* domain, periodic: the solver calls them on arrays it
wrap-pads itself, with ``boundary="valid"`` (faster to compile), and they work the same with
``boundary="periodic"`` on unpadded arrays; a face field ``c0`` read at the cell
point is the face on the *left* (lower) side of that cell along x, ``c0[x + 1]`` the face
on its right.  Face fields are either the user's staggered Courant numbers (``N_d + 1``
entries along ``d``: the runtime wraps them modulo ``N_d``, so entry ``N_d`` is the image
of entry 0) or the pseudo-velocities the kernels produce (``N_d`` entries, one per left
face).

The formulas are ``@sp.function`` helpers (:mod:`stencilpy.mpdata.formulas`), inlined into the
stencils that need them; ``K`` below is the :class:`Kernels` set of one rank and option set::

    n_iters = 1       psi' = K.upwind(psi, *C)                          (3)-(4)
    n_iters = 2       psi' = K.step(psi, *C, eps)          one fused kernel: donor cell,
                      psi' = K.step_fct(psi, *C, eps)      pseudo-velocities (8)-(13),
                                                           [limiter (15)-(18),] corrective pass
    (the solver runs n_iters >= 3, open/rigid boundaries and G through the kernels of
    stencilpy.mpdata.kernels_g instead; the pass-by-pass kernels below remain for direct use)
    n_iters >= 3      psi1 = K.upwind(psi, *C)                          pass by pass:
      pass k >= 1     v    = K.antidiff(psi_k, *V, eps)                 (8)-(13), all components
        plain         psi' = K.correct(psi_k, *v)                       donor (or centred) pass
        limiter       bu, bd = K.beta(psi_k, psi_n, *v, eps)            (15)-(17)
                      psi' = K.limited(psi_k, *v, bu, bd)               (18) + corrective pass
                      (V = K.limit(*v, bu, bd); psi' = K.upwind(psi_k, *V) when the limited
                      velocity feeds the next pass)

In the fused kernels the first-pass field, the pseudo-velocities and the limiter's betas are
temporaries read at offsets: stencilpy materialises them in small per-thread row buffers,
so one step reads psi and C once and writes psi' once.  The infinite gauge swaps the ratio
helpers and the corrective flux (closure variables, inlined at decoration); the third-order
terms swap the pseudo-velocity helpers; epsilon is a runtime scalar.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import stencilpy as sp
from stencilpy.mpdata.formulas import (
    centred_flux,
    donor_flux,
    gauge2,
    gauge4,
    relative2,
    relative4_exact,
)


@dataclass(frozen=True)
class Kernels:
    """The stencils of one rank and one set of formula options (see the module docstring)."""

    ndim: int
    upwind: sp.Stencil      # (psi, *V) -> psi - div(donor fluxes)
    step: sp.Stencil        # (psi, *C, eps) -> psi after a whole n_iters=2 step
    step_fct: sp.Stencil    # (psi, *C, eps) -> the same with the limiter
    antidiff: sp.Stencil    # (psi, *V, eps) -> tuple of pseudo-velocities (one per axis)
    correct: sp.Stencil     # (psi, *v) -> psi - div(corrective fluxes)
    beta: sp.Stencil        # (psi, psi_n, *v, eps) -> (beta_up, beta_down)
    limited: sp.Stencil     # (psi, *v, beta_up, beta_down) -> psi after the limited pass
    limit: sp.Stencil       # (*v, beta_up, beta_down) -> tuple of limited velocities

    def all(self) -> tuple[sp.Stencil, ...]:
        return (self.upwind, self.step, self.step_fct, self.antidiff, self.correct,
                self.beta, self.limited, self.limit)


def kernels(ndim: int, infinite_gauge: bool = False, third_order_terms: bool = False) -> Kernels:
    """The kernel set for ``ndim`` (1, 2, 3) and the formula options (built once, cached)."""
    return _kernels(int(ndim), bool(infinite_gauge), bool(third_order_terms))


@functools.lru_cache(maxsize=None)
def _kernels(ndim, infinite_gauge, third_order_terms):
    from stencilpy.mpdata import kernels1d, kernels2d, kernels3d

    module = {1: kernels1d, 2: kernels2d, 3: kernels3d}[ndim]
    if infinite_gauge:
        ratios, flux = (gauge2, gauge4, gauge4), centred_flux
    else:
        ratios, flux = (relative2, relative2, relative4_exact), donor_flux
    built = module.build(*ratios, third_order_terms, flux)
    return Kernels(ndim=ndim, upwind=module.UPWIND, limit=module.LIMIT, **built)
