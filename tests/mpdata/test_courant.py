"""The Courant-field checks (``stencilpy/mpdata/courant.py``) that the solver and the numpy
reference share: one function, the same errors from both, and a reference that still
depends on no compiled kernel."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from stencilpy.mpdata import Solver, boundaries, cases, courant, reference, solver

BAD = [
    ((5,), (np.zeros(5),), "courant[0] has shape (5,), but psi of shape (5,) needs (6,)"),
    ((4, 3), (np.zeros((5, 3)), np.zeros((5, 3))), "courant[1] has shape (5, 3)"),
    ((4, 3), (np.zeros((5, 3)),), "one component per axis: psi is 2-D but courant has 1"),
    ((4, 3), np.zeros((5, 3)), "courant must be a tuple of 2 arrays"),
    ((5,), (np.r_[0.1, np.zeros(4), 0.2],), "are the same periodic face and must be equal"),
    ((3,), (np.r_[0.0, np.inf, 0.0, 0.0],), "courant[0] contains NaN or infinite values"),
    ((3,), (np.array(["a", "b", "c", "d"]),), "courant[0] must be an array of real numbers"),
    ((3,), (np.zeros(4, bool),), "courant[0] must be an array of real numbers, got dtype bool"),
]


@pytest.mark.parametrize("shape, flow, message", BAD)
def test_solver_and_reference_refuse_a_bad_courant_field_alike(shape, flow, message):
    errors = []
    for run in (lambda: Solver(np.ones(shape), flow),
                lambda: reference.mpdata_step(np.ones(shape), flow),
                lambda: courant.validate_courant(flow, shape)):
        with pytest.raises(ValueError) as info:
            run()
        errors.append(str(info.value))
    assert message in errors[0], errors[0]
    assert errors[0] == errors[1] == errors[2]


def test_one_validation_for_both():
    assert reference.validate_courant is courant.validate_courant
    assert solver.validate_courant is courant.validate_courant
    assert reference.FACE_TOLERANCE == solver.FACE_TOLERANCE == courant.FACE_TOLERANCE
    assert reference.max_outflow_courant is courant.max_outflow_courant


def test_periodic_face_is_canonicalised_within_the_tolerance():
    flow = cases.random_nondivergent_courant((6, 5), 0.5, seed=2)
    flow[0][-1, :] += 0.5 * courant.FACE_TOLERANCE
    flow[1][:, -1] -= 0.5 * courant.FACE_TOLERANCE
    checked = courant.validate_courant(flow, (6, 5))
    np.testing.assert_array_equal(checked[0][-1], checked[0][0])
    np.testing.assert_array_equal(checked[1][:, -1], checked[1][:, 0])
    assert all(c is not f and c.flags.c_contiguous and c.dtype == np.float64
               for c, f in zip(checked, flow))
    s = Solver(np.ones((6, 5)), flow)                  # the solver keeps read-only copies
    assert all(not c.flags.writeable for c in s.courant)
    for mine, theirs in zip(s.courant, checked):
        np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match=r"tolerance 1e-20"):
        courant.validate_courant(flow, (6, 5), tolerance=1e-20)


def test_max_outflow_courant():
    flow = (np.array([0.25, -0.5, 0.5, 0.25]),)        # cell 1: 0.5 out right + 0.5 out left
    assert courant.max_outflow_courant(flow) == 1.0
    unstable = (np.array([0.25, -0.6, 0.6, 0.25]),)
    assert courant.max_outflow_courant(unstable) == 1.2
    with pytest.warns(RuntimeWarning, match=r"outflow Courant sum is 1\.2 > 1"):
        Solver(np.ones(3), unstable)


def _imports(module) -> set[str]:
    tree = ast.parse(Path(module.__file__).read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(node.module)
    return names


def test_the_reference_shares_input_checks_only():
    """The oracle must not depend on the compiled kernels (nor on stencilpy's compiler)."""
    assert _imports(courant) == {"__future__", "numpy"}
    assert _imports(reference) == {"__future__", "operator", "dataclasses", "numpy",
                                   "stencilpy.mpdata.courant", "stencilpy.mpdata.boundaries"}
    assert _imports(boundaries) == {"__future__", "math", "dataclasses", "numpy"}
