"""docs/mpdata-derivation.md Sec. 10 properties of the stencilpy solver, and the rotating cone.

Run with ``pytest -s`` to see the rotating-cone error norms.
"""

from __future__ import annotations

import numpy as np
import pytest

from stencilpy.mpdata import Solver, cases
from stencilpy.mpdata.reference import mpdata_advance

from ._util import (SHAPES, field_with_zeros, nondivergent, option_id, options_for,
                    random_courant, tot2d_needs_positive)

# --------------------------------------------------------------------------- trivial flows


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_zero_courant_is_identity(ndim):
    shape = SHAPES[ndim]
    zero = cases.constant_courant(shape, 0.0)
    for opts in options_for(ndim):
        fields = [cases.smooth_field(shape, seed=ndim)]
        if not tot2d_needs_positive(ndim, opts):
            fields.append(field_with_zeros(shape))
        for psi in fields:
            np.testing.assert_array_equal(Solver(psi, zero, **opts).advance(3), psi,
                                          err_msg=option_id(opts))


@pytest.mark.parametrize("sign", [+1, -1])
def test_unit_courant_shifts_one_cell_per_step_1d(sign):
    n = 17
    psi = cases.gaussian_1d(n, courant=0.5, distance=0.5, sigma=0.1, background=0.2).psi0
    psi[3] += 1.0                       # a jump: every correction term would act if it could
    courant = cases.constant_courant((n,), float(sign))
    for opts in options_for(1):
        solver = Solver(psi, courant, **opts)
        for step in (1, 2, 5):
            out = solver.advance(1) if step == 1 else solver.advance(step - solver.step_count)
            np.testing.assert_allclose(out, np.roll(psi, sign * step), rtol=0, atol=1e-14,
                                       err_msg=option_id(opts))
        out = solver.advance(n - solver.step_count)          # all the way round
        np.testing.assert_allclose(out, psi, rtol=0, atol=1e-13, err_msg=option_id(opts))


@pytest.mark.parametrize("ndim", [2, 3])
def test_unit_courant_shifts_along_each_axis(ndim):
    shape = SHAPES[ndim]
    psi = cases.smooth_field(shape, seed=3)
    for axis in range(ndim):
        for sign in (+1, -1):
            c = [0.0] * ndim
            c[axis] = float(sign)
            courant = cases.constant_courant(shape, c)
            for opts in options_for(ndim):
                out = Solver(psi, courant, **opts).advance(2)
                np.testing.assert_allclose(out, np.roll(psi, 2 * sign, axis=axis), rtol=0,
                                           atol=1e-14, err_msg=f"axis {axis} {option_id(opts)}")


# --------------------------------------------------------------------------- conservation


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_mass_is_conserved_to_round_off_over_many_steps(ndim):
    shape = SHAPES[ndim]
    n_steps = 300
    flows = (nondivergent(shape, seed=1), random_courant(shape, 0.8, seed=2))
    for opts in options_for(ndim):
        psi = cases.smooth_field(shape, seed=1)
        if opts["infinite_gauge"]:
            psi = psi - 2.0                                  # both signs
        for courant in flows:
            out = Solver(psi, courant, **opts).advance(n_steps)
            # (the divergent random flow piles mass up in converging cells: without the
            # limiter the infinite gauge grows there, so scale by the larger |psi| sum)
            scale = max(np.abs(psi).sum(), np.abs(out).sum())
            rel = abs(out.sum() - psi.sum()) / scale
            assert rel <= 1e-15 * n_steps, f"{option_id(opts)}: relative mass change {rel:.3g}"


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_constant_field_stays_constant_in_nondivergent_flow(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape, seed=11)
    psi = np.full(shape, 2.75)
    for opts in options_for(ndim):
        out = Solver(psi, courant, **opts).advance(50)
        np.testing.assert_allclose(out, psi, rtol=1e-13, atol=0, err_msg=option_id(opts))


# --------------------------------------------------------------------------- sign and bounds


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_positivity_without_infinite_gauge(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape, max_courant=0.95, seed=21)
    for opts in options_for(ndim):
        if opts["infinite_gauge"]:
            continue
        psi = field_with_zeros(shape, seed=3)
        if tot2d_needs_positive(ndim, opts):
            psi = psi + 1e-3
        solver = Solver(psi, courant, **opts)
        for _ in range(10):
            out = solver.advance(5)
            assert out.min() >= -1e-15 * psi.max(), f"{option_id(opts)}: min {out.min():.3g}"


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_nonoscillatory_keeps_global_bounds(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape, max_courant=0.9, seed=31)
    rng = np.random.default_rng(9)
    rough = np.where(rng.random(shape) < 0.3, 3.0, 1.0)           # step-like field
    for opts in options_for(ndim):
        if not opts["nonoscillatory"] or opts["n_iters"] == 1:
            continue
        psi = rough - 2.0 if opts["infinite_gauge"] else rough    # -1/+1 with the gauge
        lo, hi = psi.min(), psi.max()
        solver = Solver(psi, courant, **opts)
        for _ in range(10):
            out = solver.advance(5)
            assert out.min() >= lo - 1e-12 and out.max() <= hi + 1e-12, option_id(opts)


def test_without_limiter_the_infinite_gauge_oscillates():
    n = 40
    psi = np.where(np.arange(n) < n // 2, 1.0, 0.0)
    out = Solver(psi, cases.constant_courant((n,), 0.3), infinite_gauge=True).advance(10)
    assert out.max() > 1.0 + 1e-3 or out.min() < -1e-3
    limited = Solver(psi, cases.constant_courant((n,), 0.3), infinite_gauge=True,
                     nonoscillatory=True).advance(10)
    assert limited.min() >= -1e-12 and limited.max() <= 1.0 + 1e-12


# --------------------------------------------------------------------------- symmetries


def _mirror(psi, courant, axis):
    """Reflect the problem across the mid-plane of ``axis`` (face m -> face N - m)."""
    flipped = [np.flip(c, axis) for c in courant]
    flipped[axis] = -flipped[axis]
    return np.flip(psi, axis), tuple(flipped)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_reflection_symmetry(ndim):
    shape = SHAPES[ndim]
    rng = np.random.default_rng(41)
    courant = random_courant(shape, 0.8, seed=41)
    psi = cases.smooth_field(shape, seed=6) + rng.uniform(0, 0.5, shape)
    for opts in options_for(ndim):
        out = Solver(psi, courant, **opts).advance(4)
        for axis in range(ndim):
            m_out = Solver(*_mirror(psi, courant, axis), **opts).advance(4)
            np.testing.assert_allclose(np.flip(m_out, axis), out, rtol=0, atol=1e-13,
                                       err_msg=f"axis {axis}: {option_id(opts)}")


@pytest.mark.parametrize("ndim", [2, 3])
def test_transposing_the_grid_commutes_with_the_solver(ndim):
    shape = SHAPES[ndim]
    courant = random_courant(shape, 0.8, seed=43)
    psi = cases.smooth_field(shape, seed=8) + 0.3
    perms = [(1, 0)] if ndim == 2 else [(1, 0, 2), (2, 0, 1), (0, 2, 1)]
    for opts in options_for(ndim):
        out = Solver(psi, courant, **opts).advance(3)
        for perm in perms:
            p_courant = tuple(np.transpose(courant[a], perm) for a in perm)
            p_out = Solver(np.transpose(psi, perm), p_courant, **opts).advance(3)
            np.testing.assert_allclose(p_out, np.transpose(out, perm), rtol=0, atol=1e-13,
                                       err_msg=f"perm {perm}: {option_id(opts)}")


# --------------------------------------------------------------------------- convergence


def _l2_errors(make_case, sizes, opts):
    errors = []
    for n in sizes:
        case = make_case(n)
        out = Solver(case.psi0, case.courant, **opts).advance(case.n_steps)
        errors.append(float(np.sqrt(np.mean((out - case.exact) ** 2))))
    return errors


@pytest.mark.parametrize("opts, low, high", [
    (dict(n_iters=1), 1.5, 2.2),                                           # first order
    (dict(n_iters=2), 3.5, 4.6),
    (dict(n_iters=3), 3.5, 8.5),
    (dict(n_iters=2, nonoscillatory=True), 3.5, 4.7),
    (dict(n_iters=2, third_order_terms=True), 3.5, 4.7),
    (dict(n_iters=3, third_order_terms=True), 7.0, 8.5),                   # third order
    (dict(n_iters=2, infinite_gauge=True, third_order_terms=True), 7.0, 8.5),
])
def test_convergence_rate_1d(opts, low, high):
    """Smooth Gaussian over a background, C = 0.3, fixed physical time, n = 32, 64, 128."""
    errors = _l2_errors(lambda n: cases.gaussian_1d(n, courant=0.3, distance=0.6, sigma=0.1,
                                                    background=1.0), (32, 64, 128), opts)
    ratio = errors[1] / errors[2]
    print(f"1-D {opts}: L2 errors {errors}, ratio {ratio:.2f}")
    assert low <= ratio <= high, (errors, ratio)


@pytest.mark.parametrize("ndim, opts", [
    (2, dict(n_iters=2)), (2, dict(n_iters=3)), (2, dict(n_iters=2, nonoscillatory=True)),
    (2, dict(n_iters=2, third_order_terms=True)), (2, dict(n_iters=2, infinite_gauge=True)),
    (3, dict(n_iters=2)), (3, dict(n_iters=2, nonoscillatory=True)),
])
def test_convergence_rate_is_second_order_in_2d_and_3d(ndim, opts):
    """Constant oblique Courant vector, anisotropic grid, fixed physical time."""
    courant = (0.25, 0.125, 0.2)[:ndim]

    def make(n):
        shape = (n, n + n // 2) if ndim == 2 else (n, n, n)
        return cases.gaussian(shape, courant, 2 * n, sigma=0.15, background=1.0)

    sizes = (16, 32, 64) if ndim == 2 else (8, 16, 32)
    errors = _l2_errors(make, sizes, opts)
    ratio = errors[1] / errors[2]
    print(f"{ndim}-D {opts}: L2 errors {errors}, ratio {ratio:.2f}")
    assert 3.6 <= ratio <= 4.8, (errors, ratio)


# --------------------------------------------------------------------------- rotating cone


CONE_OPTIONS = [dict(n_iters=1), dict(n_iters=2), dict(n_iters=3),
                dict(n_iters=2, nonoscillatory=True), dict(n_iters=3, nonoscillatory=True),
                dict(n_iters=2, infinite_gauge=True, nonoscillatory=True)]


def _label(opts):
    full = dict(nonoscillatory=False, infinite_gauge=False, third_order_terms=False,
                limited_velocity_feedback=True)
    full.update(opts)
    return option_id(full)


def test_rotating_cone_one_revolution():
    """Smolarkiewicz (1984): 100 x 100, 628 steps, cone radius 15 and height 4."""
    case = cases.rotating_cone(100)
    norms = {}
    for opts in CONE_OPTIONS:
        out = Solver(case.psi0, case.courant, **opts).advance(case.n_steps)
        e = norms[_label(opts)] = cases.error_norms(out, case.exact)
        print(f"cone {_label(opts):<36} L1 {e['L1']:.4f}  L2 {e['L2']:.4f}  "
              f"Linf {e['Linf']:.4f}  min {e['min']:.3g}  max {e['max']:.4f}  "
              f"mass {e['mass_rel_change']:.2e}")
        assert abs(e["mass_rel_change"]) < 1e-13
        assert e["min"] >= -1e-12 and e["max"] <= 4.0 + 1e-12      # no new extrema here
    upwind, basic, three = norms["it1-basic"], norms["it2-basic"], norms["it3-basic"]
    fct, iga = norms["it2-nonoscillatory"], norms["it2-nonoscillatory+infinite_gauge"]
    assert upwind["max"] < 1.5 and upwind["L2"] > 0.5                     # smeared out
    assert 3.0 < basic["max"] < 3.6 and 0.1 < basic["L2"] < 0.2
    assert three["L2"] < 0.7 * basic["L2"] and three["max"] > basic["max"]
    assert fct["L2"] <= basic["L2"] * 1.01 and iga["L2"] < 0.6 * basic["L2"]


def test_rotating_cone_matches_reference_after_one_revolution():
    case = cases.rotating_cone(48)
    opts = dict(n_iters=2, nonoscillatory=True)
    got = Solver(case.psi0, case.courant, **opts).advance(case.n_steps)
    want = mpdata_advance(case.psi0, case.courant, case.n_steps, **opts)
    assert np.max(np.abs(got - want)) <= 1e-12 * np.max(np.abs(want))
