"""The numpy reference and the stencilpy solver against PyMPDATA's answers, stored in
``tests/mpdata/pympdata_refs/`` by ``tests/mpdata/make_pympdata_refs.py`` (PyMPDATA 1.7.3;
open, rigid and Constant boundaries in 1-D, 2-D and 3-D, mixed per-side boundaries,
G != 1): both
must agree to 1e-12 of max |psi0| after 12 steps.  ``STENCILPY_PYMPDATA_CROSSCHECK=1``
reruns PyMPDATA live (test_pympdata_crosscheck.py)."""

from __future__ import annotations

import numpy as np
import pytest

from stencilpy.mpdata import Solver
from stencilpy.mpdata.reference import mpdata_advance

from .make_pympdata_refs import CASES, REF_DIR, load

PATHS = sorted(REF_DIR.glob("*.npz"))


def test_every_case_has_a_stored_answer():
    stored = {p.stem for p in PATHS}
    assert set(CASES) <= stored, f"missing: {sorted(set(CASES) - stored)}; run " \
        "python -m tests.mpdata.make_pympdata_refs --missing"
    kinds = {(CASES[name]["ndim"], CASES[name]["boundaries"], CASES[name]["g"])
             for name in CASES}
    for ndim in (1, 2, 3):
        for kind in ("open", "rigid", "mixed", "constant"):
            assert (ndim, kind, False) in kinds
    assert {k for k in kinds if k[2]} >= {(1, "open", True), (2, "periodic", True),
                                          (2, "open", True), (2, "mixed", True),
                                          (2, "constant", True)}


@pytest.mark.parametrize("path", PATHS, ids=[p.stem for p in PATHS])
def test_matches_pympdata(path):
    psi0, courant, g, options, bcs, n_steps, theirs = load(path)
    tol = 1e-12 * np.abs(psi0).max()
    kwargs = dict(boundaries=bcs, g_factor=g, g_form="pympdata", **options)
    ours = mpdata_advance(psi0, courant, n_steps, **kwargs)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=tol, err_msg="numpy reference")
    solver = Solver(psi0, courant, **kwargs)
    np.testing.assert_allclose(solver.advance(n_steps), theirs, rtol=0, atol=tol,
                               err_msg="stencilpy solver")
    assert np.abs(theirs - psi0).max() > 1e-3            # something happened
