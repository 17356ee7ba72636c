"""Optional live cross-check of the numpy reference against PyMPDATA: periodic 1-D/2-D for
every option set, and every boundary / G case of make_pympdata_refs.py (whose stored
answers CI checks in test_pympdata_refs.py).

PyMPDATA is not a dependency of stencilpy and its Numba compilation takes minutes per
option set, so this only runs when asked for::

    pip install PyMPDATA          # (pulls numba, pystrict)
    STENCILPY_PYMPDATA_CROSSCHECK=1 python -m pytest tests/mpdata/test_pympdata_crosscheck.py

PyMPDATA 1.7.3 implements the same 1-D/2-D formulae as docs/mpdata-derivation.md (the
reference's default ``limited_velocity_feedback=True`` is PyMPDATA's variant).  In 3-D
PyMPDATA keeps only one transverse term per direction, so 3-D is deliberately not compared.
"""

from __future__ import annotations

import itertools
import os

import numpy as np
import pytest

from stencilpy.mpdata import cases
from stencilpy.mpdata.reference import mpdata_advance

from . import make_pympdata_refs as refs

if not os.environ.get("STENCILPY_PYMPDATA_CROSSCHECK"):
    pytest.skip("set STENCILPY_PYMPDATA_CROSSCHECK=1 to compare with PyMPDATA (slow: Numba)",
                allow_module_level=True)
PyMPDATA = pytest.importorskip("PyMPDATA")

_STEPPERS = {}


def pympdata_advance(psi, courant, n_steps, **options):
    from PyMPDATA import Options, ScalarField, Solver, Stepper, VectorField
    from PyMPDATA.boundary_conditions import Periodic

    opts = Options(**options)
    key = (opts, psi.ndim)
    if key not in _STEPPERS:
        _STEPPERS[key] = Stepper(options=opts, n_dims=psi.ndim, n_threads=1)
    bcs = tuple(Periodic() for _ in range(psi.ndim))
    solver = Solver(
        stepper=_STEPPERS[key],
        advectee=ScalarField(psi.copy(), halo=opts.n_halo, boundary_conditions=bcs),
        advector=VectorField(tuple(c.copy() for c in courant), halo=opts.n_halo,
                             boundary_conditions=bcs),
    )
    solver.advance(n_steps=n_steps)
    return solver.advectee.get().copy()


OPTIONS = [
    dict(n_iters=n, nonoscillatory=fct, infinite_gauge=iga, third_order_terms=tot)
    for n, fct, iga, tot in itertools.product((2, 3), (False, True), (False, True), (False, True))
    if not (iga and n > 2)
]


@pytest.mark.parametrize("shape", [(23,), (13, 9)])
@pytest.mark.parametrize("opts", OPTIONS, ids=lambda o: "-".join(
    [f"it{o['n_iters']}"] + [k for k, v in o.items() if v is True]))
def test_matches_pympdata(shape, opts):
    rng = np.random.default_rng(len(shape))
    psi = cases.smooth_field(shape, seed=5) + np.where(rng.random(shape) < 0.2, 2.0, 0.0)
    courant = tuple(
        np.concatenate([v, np.take(v, [0], axis=d)], axis=d)
        for d, v in enumerate(rng.uniform(-0.2, 0.2, (len(shape),) + shape)))
    ours = mpdata_advance(psi, courant, 10, **opts)
    theirs = pympdata_advance(psi, courant, 10, **opts)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * np.abs(theirs).max())


@pytest.mark.parametrize("name", list(refs.CASES))
def test_boundary_and_g_cases_match_pympdata_live(name):
    psi, courant, g, options, bcs = refs.inputs(name)
    theirs = refs.pympdata_advance(psi, courant, g, options, bcs, refs.N_STEPS)
    ours = mpdata_advance(psi, courant, refs.N_STEPS, boundaries=bcs, g_factor=g,
                          g_form="pympdata", **options)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12 * np.abs(psi).max())
