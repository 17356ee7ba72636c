"""The stencilpy MPDATA solver against the independent numpy reference, and its API.

Every valid option combination in 1-D, 2-D and 3-D, on small grids with N0 != N1 != N2,
several steps, divergent and nondivergent flows: the solver must equal
``stencilpy.mpdata.reference`` to 1e-12 (relative, max norm).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from stencilpy.mpdata import Options, Solver, advect, cases
from stencilpy.mpdata.progress import ProgressBar
from stencilpy.mpdata.reference import mpdata_advance

from ._util import (SHAPES, field_with_zeros, option_id, options_for, random_courant,
                    tot2d_needs_positive)

CASES = [pytest.param(ndim, o, id=f"{ndim}d-{option_id(o)}") for ndim in (1, 2, 3)
         for o in options_for(ndim)]


def fields_for(ndim, opts):
    shape = SHAPES[ndim]
    smooth = cases.smooth_field(shape, seed=ndim) + np.random.default_rng(1).uniform(0, 0.3, shape)
    out = [smooth]
    if not tot2d_needs_positive(ndim, opts):
        out.append(field_with_zeros(shape, seed=ndim))
    if opts["infinite_gauge"]:
        out.append(smooth - 2.0)           # both signs
    return out


def assert_matches(got, want, what=""):
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= 1e-12, f"{what}: max |solver - reference| / max |reference| = {err:.3g}"


@pytest.mark.parametrize("ndim, opts", CASES)
def test_matches_numpy_reference(ndim, opts):
    shape = SHAPES[ndim]
    flows = [("divergent", random_courant(shape, seed=ndim)),
             ("nondivergent", cases.random_nondivergent_courant(shape, 0.7, seed=ndim)
              if ndim > 1 else cases.constant_courant(shape, -0.37))]
    for psi in fields_for(ndim, opts):
        for name, courant in flows:
            solver = Solver(psi, courant, **opts)
            for chunk in (1, 4):                  # 5 steps, in two advance() calls
                got = solver.advance(chunk)
            want = mpdata_advance(psi, courant, 5, **opts)
            assert solver.step_count == 5
            assert_matches(got, want, f"{name} flow")


def test_every_option_combination_is_covered():
    assert len(options_for(1)) == len(options_for(2)) == 22 and len(options_for(3)) == 11


def test_custom_epsilon_matches_reference():
    psi = np.array([0.0, 0.0, 1e-15, 2e-15, 0.0, 3.0, 1.0, 0.0])
    courant = cases.constant_courant((8,), 0.5)
    for eps in (1e-15, 1e-20):
        got = Solver(psi, courant, epsilon=eps, nonoscillatory=True).advance(3)
        assert_matches(got, mpdata_advance(psi, courant, 3, epsilon=eps, nonoscillatory=True))


def test_many_steps_match_reference_2d():
    shape = (20, 13)
    psi = field_with_zeros(shape, seed=7)
    courant = cases.random_nondivergent_courant(shape, 0.9, seed=4)
    for opts in (dict(n_iters=2, nonoscillatory=True), dict(n_iters=3)):
        got = Solver(psi, courant, **opts).advance(60)
        assert_matches(got, mpdata_advance(psi, courant, 60, **opts), str(opts))


@pytest.mark.parametrize("shape", [(301,), (130, 97), (40, 23, 17)])
def test_threads_give_identical_results(shape):
    psi = cases.smooth_field(shape, seed=3)
    courant = random_courant(shape, 0.8, seed=5)
    for opts in (dict(nonoscillatory=True), dict(n_iters=3, nonoscillatory=True)):
        one = Solver(psi, courant, threads=1, **opts).advance(3)
        for threads in (2, 3, None):
            np.testing.assert_array_equal(Solver(psi, courant, threads=threads, **opts)
                                          .advance(3), one)


@pytest.mark.parametrize("shape", [(1,), (2,), (3,), (2, 3), (1, 5), (2, 3, 2)])
def test_tiny_grids_smaller_than_the_halo(shape):
    psi = cases.smooth_field(shape, seed=2) if min(shape) > 1 else \
        np.random.default_rng(0).uniform(0.5, 2.0, shape)
    courant = random_courant(shape, 0.8, seed=1)
    for opts in (dict(n_iters=2), dict(n_iters=2, nonoscillatory=True),
                 dict(n_iters=3, nonoscillatory=True),
                 dict(n_iters=2, infinite_gauge=True, nonoscillatory=True)):
        assert_matches(Solver(psi, courant, **opts).advance(3),
                       mpdata_advance(psi, courant, 3, **opts), f"{shape} {opts}")


# --------------------------------------------------------------------------- API


def test_xarray_in_xarray_out():
    xr = pytest.importorskip("xarray")
    shape = (12, 7)
    values = cases.smooth_field(shape, seed=2)
    psi = xr.DataArray(values, dims=("x", "y"),
                       coords={"x": np.arange(12.0), "y": 10.0 + np.arange(7.0)},
                       name="tracer", attrs={"units": "kg m-3"})
    courant = cases.random_nondivergent_courant(shape, 0.6, seed=1)
    faces = (xr.DataArray(courant[0], dims=("x_face", "y")),
             xr.DataArray(courant[1], dims=("x", "y_face")))
    solver = Solver(psi, faces, nonoscillatory=True)
    out = solver.advance(3)
    assert isinstance(out, xr.DataArray) and isinstance(solver.state, xr.DataArray)
    assert out.dims == ("x", "y") and out.name == "tracer" and out.attrs == {"units": "kg m-3"}
    np.testing.assert_array_equal(out["y"], psi["y"])
    assert_matches(out.values, mpdata_advance(values, courant, 3, nonoscillatory=True))
    np.testing.assert_array_equal(psi.values, values)        # input untouched


def test_state_and_results_are_copies():
    psi = cases.smooth_field((10,))
    courant = cases.constant_courant((10,), 0.3)
    courant_before = courant[0].copy()
    solver = Solver(psi, courant)
    first = solver.advance(2)
    state = solver.state
    solver.advance(2)
    np.testing.assert_array_equal(first, state)              # not overwritten by later steps
    assert not np.shares_memory(first, psi) and solver.step_count == 4
    np.testing.assert_array_equal(courant[0], courant_before)
    assert not solver.values.flags.writeable
    np.testing.assert_array_equal(solver.values, solver.state)
    np.testing.assert_array_equal(solver.advance(0), solver.state)
    assert solver.step_count == 4


def test_step_compile_and_advect():
    psi = cases.smooth_field((9, 8))
    courant = cases.random_nondivergent_courant((9, 8), 0.5)
    solver = Solver(psi, courant, n_iters=3)
    seconds = solver.compile()
    assert seconds >= 0.0 and solver.step_count == 0
    np.testing.assert_array_equal(solver.state, psi)
    one = solver.step()
    assert solver.step_count == 1
    assert_matches(one, mpdata_advance(psi, courant, 1, n_iters=3))
    assert_matches(advect(psi, courant, 3, n_iters=3), mpdata_advance(psi, courant, 3, n_iters=3))
    assert "n_iters=3" in repr(solver) and "9x8" in repr(solver)


def test_boundary_face_is_made_exactly_periodic():
    courant = cases.constant_courant((6,), 0.4)
    courant[0][-1] += 1e-14                           # within the tolerance: canonicalised
    solver = Solver(np.arange(6.0) + 1.0, courant)
    assert solver.courant[0][-1] == solver.courant[0][0]
    total = solver.advance(50).sum()
    assert abs(total - 21.0) <= 1e-13


def test_bare_array_courant_in_1d():
    psi = cases.smooth_field((12,))
    courant = np.full(13, 0.25)
    assert_matches(Solver(psi, courant).advance(3), mpdata_advance(psi, (courant,), 3))


def test_progress_callable_and_bar(capsys):
    psi = cases.smooth_field((8,))
    calls = []
    Solver(psi, (np.full(9, 0.2),)).advance(
        5, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(k, 5) for k in range(1, 6)]
    Solver(psi, (np.full(9, 0.2),)).advance(7, progress=True)
    err = capsys.readouterr().err
    assert "7/7 steps" in err and "100%" in err
    with pytest.raises(ValueError, match="progress"):
        Solver(psi, (np.full(9, 0.2),)).advance(1, progress="yes")


def test_progress_bar_text():
    stream = io.StringIO()
    bar = ProgressBar(20, label="run", stream=stream, interactive=False)
    for k in range(21):
        bar.update(k)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 11 and lines[0].startswith("run [") and "20/20 steps 100%" in lines[-1]
    tty = io.StringIO()
    bar = ProgressBar(3, stream=tty, interactive=True, min_interval=0.0)
    bar.update(1)
    bar.close()
    assert tty.getvalue().startswith("\rMPDATA [") and tty.getvalue().endswith("\n")


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_iters=0), "n_iters must be a whole number >= 1"),
    (dict(n_iters=2.5), "n_iters"),
    (dict(n_iters=True), "n_iters"),
    (dict(infinite_gauge=True, n_iters=3), "infinite_gauge=True works with n_iters=1 or 2"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(epsilon=float("nan")), "epsilon"),
    (dict(epsilon="small"), "epsilon"),
    (dict(nonoscillatory="yes"), "nonoscillatory must be True or False"),
])
def test_bad_options(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Solver(np.ones(4), (np.zeros(5),), **kwargs)


def test_unknown_option_is_a_type_error():
    with pytest.raises(TypeError, match="iters"):
        Solver(np.ones(4), (np.zeros(5),), iters=2)


def test_options_dataclass():
    o = Options(n_iters=3, nonoscillatory=True)
    assert o.as_dict()["n_iters"] == 3 and o.epsilon == 1e-15
    with pytest.raises(ValueError, match="dimensionally"):
        Options(n_iters=4, infinite_gauge=True)


def test_third_order_terms_rejected_in_3d():
    shape = (4, 3, 5)
    with pytest.raises(ValueError, match="third_order_terms is available in 1-D and 2-D only"):
        Solver(np.ones(shape), cases.constant_courant(shape, 0.1), third_order_terms=True)


def test_third_order_terms_2d_need_strictly_positive_field():
    shape = (5, 4)
    psi = np.ones(shape)
    psi[1, 2] = 0.0
    with pytest.raises(ValueError, match="strictly positive"):
        Solver(psi, cases.constant_courant(shape, 0.1), third_order_terms=True)
    Solver(psi, cases.constant_courant(shape, 0.1), third_order_terms=True, infinite_gauge=True)
    Solver(psi[0], cases.constant_courant((4,), 0.1), third_order_terms=True)


@pytest.mark.parametrize("psi, courant, message", [
    (np.ones((2, 2, 2, 2)), None, "1-D, 2-D or 3-D"),
    (np.ones(5, dtype=complex), (np.zeros(6),), "real numbers"),
    (np.ones((0, 3)), None, "at least one cell"),
    (np.r_[1.0, np.nan, 1.0], (np.zeros(4),), "NaN"),
    (np.ones(5), (np.zeros(5),), "needs (6,)"),
    (np.ones((4, 3)), (np.zeros((5, 3)), np.zeros((5, 3))), "courant[1] has shape (5, 3)"),
    (np.ones((4, 3)), (np.zeros((5, 3)),), "one component per axis"),
    (np.ones((4, 3)), np.zeros((5, 3)), "tuple of 2 arrays"),
    (np.ones(5), (np.r_[0.1, np.zeros(4), 0.2],), "same periodic face"),
    (np.ones(3), (np.r_[0.0, np.inf, 0.0, 0.0],), "NaN or infinite"),
    (np.ones(3), (np.array(["a", "b", "c", "d"]),), "real numbers"),
])
def test_bad_inputs(psi, courant, message):
    if courant is None:
        courant = tuple(np.zeros(psi.shape) for _ in range(psi.ndim))
    with pytest.raises(ValueError) as info:
        Solver(psi, courant)
    assert message in str(info.value), str(info.value)


def test_bad_n_steps():
    solver = Solver(np.ones(4), (np.zeros(5),))
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(ValueError, match="n_steps"):
            solver.advance(bad)


def test_unstable_courant_warns():
    with pytest.warns(RuntimeWarning, match="outflow Courant sum is 1.2"):
        Solver(np.ones(4), (np.full(5, 1.2),))


def test_integer_and_float32_inputs_compute_in_float64():
    psi = np.arange(1, 9)
    out = Solver(psi, (np.full(9, 0.5, dtype=np.float32),)).advance(2)
    assert out.dtype == np.float64
    assert_matches(out, mpdata_advance(psi.astype(float), (np.full(9, 0.5),), 2))


def test_docs_page_examples_run():
    """The ```python blocks of docs/mpdata.md, in order, as one script."""
    import importlib.util
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "mpdata.md"
    text = page.read_text()
    blocks = re.findall(r"(<!--[^\n]*-->\n)?```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 3
    code = []
    for marker, body in blocks:
        if "skip-test" in marker:
            continue
        if "requires: xarray" in marker and importlib.util.find_spec("xarray") is None:
            continue
        code.append(body)
    exec(compile("\n".join(code), str(page), "exec"), {"__name__": "mpdata_docs"})
