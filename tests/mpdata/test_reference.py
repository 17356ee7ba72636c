"""Properties of the numpy MPDATA reference (docs/mpdata-derivation.md Sec. 10) and its input
validation."""

from __future__ import annotations

import numpy as np
import pytest

from stencilpy.mpdata import cases
from stencilpy.mpdata.reference import (
    FACE_TOLERANCE,
    max_outflow_courant,
    mpdata_advance,
    mpdata_step,
    validate_courant,
)

from ._util import (ALL_OPTIONS, SHAPES, field_with_zeros, nondivergent, option_id, options_for,
                    tot2d_needs_positive)


def params(ndim):
    return [pytest.param(o, id=option_id(o)) for o in options_for(ndim)]


def test_option_list_is_complete():
    # it1: 8, it2: 8, it3 (no iga): 4 + 2 with the unlimited-feedback variant of fct
    assert len(ALL_OPTIONS) == 22


# --------------------------------------------------------------------------- trivial flows


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_zero_courant_is_identity(ndim):
    shape = SHAPES[ndim]
    psi = cases.smooth_field(shape, seed=ndim)
    zero = cases.constant_courant(shape, 0.0)
    for opts in options_for(ndim):
        out = mpdata_step(psi, zero, **opts)
        np.testing.assert_array_equal(out, psi, err_msg=option_id(opts))
        # also a field with zeros, where the epsilons keep the divisions finite
        if not tot2d_needs_positive(ndim, opts):
            psi0 = field_with_zeros(shape)
            np.testing.assert_array_equal(mpdata_step(psi0, zero, **opts), psi0,
                                          err_msg=option_id(opts))


@pytest.mark.parametrize("sign", [+1, -1])
@pytest.mark.parametrize("opts", params(1))
def test_unit_courant_shifts_one_cell_1d(opts, sign):
    n = 17
    psi = cases.gaussian_1d(n, courant=0.5, distance=0.5, sigma=0.1, background=0.2).psi0
    psi[3] += 1.0  # a jump, so that every correction term would be non-zero if it could be
    courant = cases.constant_courant((n,), float(sign))
    out = psi
    for step in range(1, n + 1):
        out = mpdata_step(out, courant, **opts)
        np.testing.assert_allclose(out, np.roll(psi, sign * step), rtol=0, atol=1e-14 * n)
    np.testing.assert_allclose(out, psi, rtol=0, atol=1e-13)


@pytest.mark.parametrize("ndim", [2, 3])
def test_unit_courant_shifts_one_cell_along_each_axis(ndim):
    """C = 1 along one axis, 0 along the others: an exact shift along that axis only."""
    shape = SHAPES[ndim]
    psi = cases.smooth_field(shape, seed=3)
    for axis in range(ndim):
        for sign in (+1, -1):
            c = [0.0] * ndim
            c[axis] = float(sign)
            courant = cases.constant_courant(shape, c)
            for opts in options_for(ndim):
                out = mpdata_step(psi, courant, **opts)
                np.testing.assert_allclose(out, np.roll(psi, sign, axis=axis), rtol=0, atol=1e-14,
                                           err_msg=f"axis {axis}, sign {sign}, {option_id(opts)}")


# --------------------------------------------------------------------------- conservation


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_mass_conservation_nondivergent(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape)
    n_steps = 40
    for opts in options_for(ndim):
        for psi in (cases.smooth_field(shape, seed=1), field_with_zeros(shape, seed=2)):
            if tot2d_needs_positive(ndim, opts) and psi.min() <= 0:
                psi = psi + 0.1
            if opts["infinite_gauge"]:
                psi = psi - 1.0  # mixed signs; mass is still conserved
            out = mpdata_advance(psi, courant, n_steps, **opts)
            rel = abs(out.sum() - psi.sum()) / np.abs(psi).sum()
            assert rel <= 1e-15 * n_steps, f"{option_id(opts)}: relative mass change {rel:.3g}"


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_mass_conservation_divergent(ndim):
    """Mass is conserved for any periodic Courant field, divergent ones too."""
    shape = SHAPES[ndim]
    rng = np.random.default_rng(5)
    courant = tuple(
        np.concatenate([v, np.take(v, [0], axis=d)], axis=d)
        for d, v in enumerate(rng.uniform(-0.8 / (2 * ndim), 0.8 / (2 * ndim), (ndim,) + shape))
    )
    assert max_outflow_courant(courant) <= 0.8
    psi = cases.smooth_field(shape, seed=4)
    n_steps = 20
    for opts in options_for(ndim):
        out = mpdata_advance(psi, courant, n_steps, **opts)
        rel = abs(out.sum() - psi.sum()) / psi.sum()
        assert rel <= 1e-15 * n_steps, f"{option_id(opts)}: relative mass change {rel:.3g}"


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_constancy_nondivergent(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape, seed=11)
    psi = np.full(shape, 2.75)
    for opts in options_for(ndim):
        out = mpdata_advance(psi, courant, 25, **opts)
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
            psi = psi + 1e-3  # (13) needs psi > 0; it must stay > 0
        out = psi
        for _ in range(30):
            out = mpdata_step(out, courant, **opts)
            assert out.min() >= -1e-15 * psi.max(), f"{option_id(opts)}: min {out.min():.3g}"


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_nonoscillatory_keeps_global_bounds(ndim):
    shape = SHAPES[ndim]
    courant = nondivergent(shape, max_courant=0.9, seed=31)
    for opts in options_for(ndim):
        if not opts["nonoscillatory"] or opts["n_iters"] == 1:
            continue
        rng = np.random.default_rng(9)
        psi = np.where(rng.random(shape) < 0.3, 3.0, 1.0)  # rough, step-like field
        if opts["infinite_gauge"]:
            psi = psi - 2.0  # -1 / +1: infinite gauge works for any sign
        lo, hi = psi.min(), psi.max()
        out = psi
        for _ in range(30):
            out = mpdata_step(out, courant, **opts)
            assert out.min() >= lo - 1e-12 and out.max() <= hi + 1e-12, option_id(opts)


def test_infinite_gauge_without_limiter_oscillates():
    """Sanity check of the previous test: iga alone does overshoot on a step."""
    n = 40
    psi = np.where(np.arange(n) < n // 2, 1.0, 0.0)
    out = mpdata_advance(psi, cases.constant_courant((n,), 0.3), 10, infinite_gauge=True)
    assert out.max() > 1.0 + 1e-3 or out.min() < -1e-3


# --------------------------------------------------------------------------- symmetries


def _mirror(psi, courant, axis):
    """Reflect the problem across the mid-plane of ``axis`` (and flip that velocity)."""
    m_psi = np.flip(psi, axis)
    m_courant = []
    for d, c in enumerate(courant):
        # face entries m = 0..N along ``axis`` map to N..0 (the staggering is symmetric)
        flipped = np.flip(c, axis)
        m_courant.append(-flipped if d == axis else flipped)
    return m_psi, tuple(m_courant)


@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_reflection_symmetry(ndim):
    shape = SHAPES[ndim]
    rng = np.random.default_rng(41)
    courant = tuple(
        np.concatenate([v, np.take(v, [0], axis=d)], axis=d)
        for d, v in enumerate(rng.uniform(-0.2, 0.2, (ndim,) + shape))
    )
    psi = cases.smooth_field(shape, seed=6) + rng.uniform(0, 0.5, shape)
    for opts in options_for(ndim):
        out = mpdata_advance(psi, courant, 3, **opts)
        for axis in range(ndim):
            m_psi, m_courant = _mirror(psi, courant, axis)
            m_out = mpdata_advance(m_psi, m_courant, 3, **opts)
            np.testing.assert_allclose(np.flip(m_out, axis), out, rtol=0, atol=1e-13,
                                       err_msg=f"axis {axis}: {option_id(opts)}")


@pytest.mark.parametrize("ndim", [2, 3])
def test_axis_permutation_symmetry(ndim):
    """Transposing the grid (and permuting the Courant components) commutes with a step.

    Anisotropic grid and flow, so a transposition bug cannot hide."""
    shape = SHAPES[ndim]
    rng = np.random.default_rng(43)
    scales = (0.25, 0.1, 0.05)[:ndim]
    courant = tuple(
        np.concatenate([v, np.take(v, [0], axis=d)], axis=d)
        for d, v in enumerate(
            s * rng.uniform(-1, 1, shape) + s / 2 for s in scales)
    )
    psi = cases.smooth_field(shape, seed=8) + rng.uniform(0, 0.3, shape)
    perms = [(1, 0)] if ndim == 2 else [(1, 0, 2), (2, 0, 1), (0, 2, 1)]
    for opts in options_for(ndim):
        out = mpdata_advance(psi, courant, 3, **opts)
        for perm in perms:
            p_psi = np.transpose(psi, perm)
            p_courant = tuple(np.transpose(courant[a], perm) for a in perm)
            p_out = mpdata_advance(p_psi, p_courant, 3, **opts)
            np.testing.assert_allclose(p_out, np.transpose(out, perm), rtol=0, atol=1e-13,
                                       err_msg=f"perm {perm}: {option_id(opts)}")


@pytest.mark.parametrize("ndim", [2, 3])
def test_one_dimensional_flow_embedded(ndim):
    """A field varying only along axis a, advected along a, reproduces the 1-D result
    on every line, for every axis a (catches transposed indices on N0 != N1 grids)."""
    shape = SHAPES[ndim]
    for axis in range(ndim):
        n = shape[axis]
        line = cases.smooth_field((n,), seed=axis) + np.where(np.arange(n) == n // 3, 2.0, 0.0)
        c1 = cases.constant_courant((n,), 0.3)
        c = [0.0] * ndim
        c[axis] = 0.3
        courant = cases.constant_courant(shape, c)
        bshape = [1] * ndim
        bshape[axis] = n
        psi = np.broadcast_to(line.reshape(bshape), shape).copy()
        for opts in options_for(ndim):
            expect = mpdata_advance(line, c1, 4, **opts)
            out = mpdata_advance(psi, courant, 4, **opts)
            np.testing.assert_allclose(out, np.broadcast_to(expect.reshape(bshape), shape),
                                       rtol=0, atol=1e-14,
                                       err_msg=f"axis {axis}: {option_id(opts)}")


# --------------------------------------------------------------------------- option semantics


def test_infinite_gauge_is_linear_and_shift_invariant():
    shape = (12, 7)
    courant = cases.random_nondivergent_courant(shape, max_courant=0.7, seed=3)
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    for tot in (False, True):
        step = lambda f: mpdata_step(f, courant, infinite_gauge=True, third_order_terms=tot)
        np.testing.assert_allclose(step(2.0 * a - 3.0 * b), 2.0 * step(a) - 3.0 * step(b),
                                   rtol=0, atol=1e-13)
        # adding a constant commutes with the step for nondivergent flow
        np.testing.assert_allclose(step(a + 100.0), step(a) + 100.0, rtol=0, atol=1e-12)


def test_infinite_gauge_is_the_large_offset_limit_of_mpdata():
    """MPDATA(psi + c0) - c0 -> iga-MPDATA(psi) as c0 -> infinity (first order in 1/c0)."""
    n = 30
    psi = cases.gaussian_1d(n, courant=0.5, distance=0.5).psi0
    courant = cases.constant_courant((n,), 0.4)
    iga = mpdata_step(psi, courant, infinite_gauge=True)
    errors = []
    for c0 in (1e2, 1e3):
        errors.append(np.max(np.abs(mpdata_step(psi + c0, courant) - c0 - iga)))
    assert errors[1] < errors[0] / 5


def test_feedback_variant_matters_only_for_three_passes_with_limiter():
    shape = (16, 11)
    courant = cases.random_nondivergent_courant(shape, max_courant=0.8, seed=2)
    psi = field_with_zeros(shape, seed=5)
    for n_iters, fct, differs in [(2, True, False), (3, False, False), (3, True, True), (4, True, True)]:
        a = mpdata_advance(psi, courant, 5, n_iters=n_iters, nonoscillatory=fct,
                           limited_velocity_feedback=True)
        b = mpdata_advance(psi, courant, 5, n_iters=n_iters, nonoscillatory=fct,
                           limited_velocity_feedback=False)
        assert (np.max(np.abs(a - b)) > 1e-10) == differs, (n_iters, fct)


def test_more_passes_reduce_the_error():
    case = cases.gaussian_1d(64, courant=0.3, distance=0.3 * 60 / 64, sigma=0.08)
    errs = [np.linalg.norm(mpdata_advance(case.psi0, case.courant, case.n_steps, n_iters=k)
                           - case.exact) for k in (1, 2, 3)]
    assert errs[0] > 2 * errs[1] > 2 * errs[2] * 1.0


def test_epsilon_is_used():
    """With psi = 0 next to psi = tiny, epsilon changes the pseudo-velocity."""
    psi = np.array([0.0, 0.0, 1e-15, 2e-15, 0.0, 0.0])
    courant = cases.constant_courant((6,), 0.5)
    a = mpdata_step(psi, courant, epsilon=1e-15)
    b = mpdata_step(psi, courant, epsilon=1e-20)
    assert np.max(np.abs(a - b)) > 1e-17


def test_inputs_are_not_modified_and_result_is_new():
    shape = (8, 6)
    psi = cases.smooth_field(shape)
    courant = cases.random_nondivergent_courant(shape, seed=1)
    psi_copy, courant_copy = psi.copy(), tuple(c.copy() for c in courant)
    for opts in ALL_OPTIONS:
        out = mpdata_step(psi, courant, **opts)
        assert out is not psi and not np.shares_memory(out, psi)
        assert out.dtype == np.float64 and out.shape == shape
    np.testing.assert_array_equal(psi, psi_copy)
    for c, cc in zip(courant, courant_copy):
        np.testing.assert_array_equal(c, cc)
    assert not np.shares_memory(mpdata_advance(psi, courant, 0), psi)


def test_float32_input_is_computed_in_float64():
    psi = cases.smooth_field((10,)).astype(np.float32)
    out = mpdata_step(psi, cases.constant_courant((10,), 0.2))
    assert out.dtype == np.float64


# --------------------------------------------------------------------------- validation


def test_validate_courant_canonicalises_periodic_faces():
    c = cases.constant_courant((5, 4), (0.1, 0.2))
    c[0][-1, :] += 0.5 * FACE_TOLERANCE
    out = validate_courant(c, (5, 4))
    np.testing.assert_array_equal(out[0][-1], out[0][0])
    assert out[0] is not c[0]


@pytest.mark.parametrize("make, message", [
    (lambda: (np.ones((3, 3, 3, 3)), None), "1-D, 2-D or 3-D"),
    (lambda: (np.ones(5, dtype=int), (np.zeros(6),)), "floating-point"),
    (lambda: (np.ones(5, dtype=complex), (np.zeros(6),)), "floating-point"),
    (lambda: (np.ones(5), (np.zeros(5),)), "needs (6,)"),
    (lambda: (np.ones((4, 3)), (np.zeros((5, 3)), np.zeros((5, 3)))), "courant[1] has shape"),
    (lambda: (np.ones((4, 3)), (np.zeros((4, 4)), np.zeros((4, 4)))), "courant[0] has shape"),
    (lambda: (np.ones((4, 3)), (np.zeros((5, 3)),)), "one component per axis"),
    (lambda: (np.ones(5), np.zeros(6)), "tuple of 1 arrays"),
    (lambda: (np.ones(5), (np.r_[0.1, np.zeros(4), 0.2],)), "same periodic face"),
    (lambda: (np.r_[1.0, np.nan, 1.0], (np.zeros(4),)), "NaN"),
    (lambda: (np.ones(3), (np.r_[0.0, np.inf, 0.0, 0.0],)), "NaN or infinite"),
])
def test_bad_inputs_raise(make, message):
    psi, courant = make()
    if courant is None:
        courant = tuple(np.zeros(psi.shape) for _ in range(psi.ndim))
    with pytest.raises(ValueError, match=None) as info:
        mpdata_step(psi, courant)
    assert message in str(info.value), str(info.value)


@pytest.mark.parametrize("kwargs, message", [
    (dict(n_iters=0), "n_iters"),
    (dict(n_iters=2.5), "n_iters"),
    (dict(n_iters=True), "n_iters"),
    (dict(infinite_gauge=True, n_iters=3), "n_iters <= 2"),
    (dict(epsilon=0.0), "epsilon"),
    (dict(epsilon=-1e-15), "epsilon"),
    (dict(nonoscillatory="yes"), "nonoscillatory"),
])
def test_bad_options_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mpdata_step(np.ones(4), (np.zeros(5),), **kwargs)


def test_third_order_terms_rejected_in_3d():
    shape = (3, 3, 3)
    with pytest.raises(ValueError, match="third_order_terms"):
        mpdata_step(np.ones(shape), cases.constant_courant(shape, 0.1), third_order_terms=True)


def test_third_order_terms_2d_need_positive_field():
    shape = (4, 4)
    psi = np.ones(shape)
    psi[0, 0] = 0.0
    with pytest.raises(ValueError, match="strictly positive"):
        mpdata_step(psi, cases.constant_courant(shape, 0.1), third_order_terms=True)
    # fine in 1-D (term (12) has epsilon), with infinite gauge, or for upwind
    mpdata_step(psi[0], cases.constant_courant((4,), 0.1), third_order_terms=True)
    mpdata_step(psi, cases.constant_courant(shape, 0.1), third_order_terms=True, infinite_gauge=True)
    mpdata_step(psi, cases.constant_courant(shape, 0.1), third_order_terms=True, n_iters=1)


def test_advance_validates_arguments():
    with pytest.raises(ValueError, match="n_steps"):
        mpdata_advance(np.ones(4), (np.zeros(5),), -1)
    with pytest.raises(ValueError, match="n_steps"):
        mpdata_advance(np.ones(4), (np.zeros(5),), 1.5)
    with pytest.raises(TypeError, match="unknown MPDATA option"):
        mpdata_advance(np.ones(4), (np.zeros(5),), 1, iters=2)
    with pytest.raises(ValueError, match="n_iters <= 2"):
        mpdata_advance(np.ones(4), (np.zeros(5),), 1, n_iters=3, infinite_gauge=True)
