"""Open and rigid boundaries and the G factor: the solver against the numpy reference for
every option combination in 1-D, 2-D and 3-D, and properties checked by hand (exact shifts,
closed-box mass, constancy, the G scaling that separates the two G forms), plus the errors.
The PyMPDATA answers are in test_pympdata_refs.py."""

from __future__ import annotations

import numpy as np
import pytest

from stencilpy.mpdata import Solver, cases
from stencilpy.mpdata.boundaries import Constant, parse_boundaries
from stencilpy.mpdata.reference import mpdata_advance

from ._util import SHAPES, option_id, options_for, random_courant, tot2d_needs_positive

BOUNDARIES = {
    "open": "open",
    "rigid": "rigid",
    "mixed": {1: ("open", "rigid"), 2: (("rigid", "open"), "periodic"),
              3: ("periodic", ("open", "rigid"), "open")},
    # a different value on each side (PyMPDATA's Constant is per axis)
    "constant": {1: (Constant(0.5), Constant(1.5)), 2: ("periodic", (Constant(0.0), "open")),
                 3: ((Constant(2.0), "rigid"), "periodic", Constant(0.25))},
}


def bcs_for(name, ndim):
    spec = BOUNDARIES[name]
    if isinstance(spec, dict):
        spec = spec[ndim] if ndim > 1 else (spec[1],)
        spec = spec[:ndim] if ndim > 1 else spec
    return parse_boundaries(spec, ndim)


def courant_for(shape, bcs, seed=0, max_sum=0.8):
    """Random divergent faces; periodic axes matched, rigid walls zeroed."""
    comps = []
    for d, comp in enumerate(random_courant(shape, max_sum, seed=seed)):
        comp = comp.copy()
        rng = np.random.default_rng(seed + 10 * d)
        if bcs[d][0] != "periodic":        # independent boundary faces
            last = [slice(None)] * len(shape)
            last[d] = shape[d]
            comp[tuple(last)] = rng.uniform(-0.8, 0.8, comp[tuple(last)].shape) \
                * max_sum / (2 * len(shape))
        for side, entry in zip(bcs[d], (0, shape[d])):
            if side == "rigid":
                idx = [slice(None)] * len(shape)
                idx[d] = entry
                comp[tuple(idx)] = 0.0
        comps.append(comp)
    return tuple(comps)


def positive_field(shape, seed=0):
    rng = np.random.default_rng(seed)
    return 1.0 + cases.smooth_field(shape, seed=seed) + rng.uniform(0, 0.5, shape)


def assert_matches(got, want, what=""):
    err = np.max(np.abs(got - want)) / np.max(np.abs(want))
    assert err <= 1e-12, f"{what}: max |solver - reference| / max |reference| = {err:.3g}"


CASES = [pytest.param(ndim, bname, o, id=f"{ndim}d-{bname}-{option_id(o)}")
         for ndim in (1, 2, 3) for bname in BOUNDARIES for o in options_for(ndim)]


@pytest.mark.parametrize("ndim, bname, opts", CASES)
def test_matches_numpy_reference(ndim, bname, opts):
    shape = SHAPES[ndim]
    bcs = bcs_for(bname, ndim)
    courant = courant_for(shape, bcs, seed=ndim)
    fields = [positive_field(shape, ndim)]
    if opts["infinite_gauge"]:
        fields.append(fields[0] - 2.0)                      # both signs
    elif not tot2d_needs_positive(ndim, opts):
        zeros = np.zeros(shape)
        zeros[tuple(slice(0, n // 2) for n in shape)] = 2.0  # zeros and a sharp corner
        fields.append(zeros)
    for psi in fields:
        solver = Solver(psi, courant, boundaries=bcs, **opts)
        solver.advance(2)
        got = solver.advance(3)
        assert_matches(got, mpdata_advance(psi, courant, 5, boundaries=bcs, **opts), bname)


G_CASES = [pytest.param(ndim, bname, o, form, id=f"{ndim}d-{bname}-{option_id(o)}-{form}")
           for ndim in (1, 2, 3) for bname in ("periodic", "open", "rigid", "constant")
           for o in options_for(ndim) if o["n_iters"] > 1 and o["limited_velocity_feedback"]
           for form in ("literature", "pympdata")]


@pytest.mark.parametrize("ndim, bname, opts, form", G_CASES)
def test_g_factor_matches_numpy_reference(ndim, bname, opts, form):
    shape = SHAPES[ndim]
    bcs = bcs_for(bname, ndim) if bname == "constant" else parse_boundaries(bname, ndim)
    g = np.random.default_rng(3).uniform(0.6, 1.4, shape)
    courant = courant_for(shape, bcs, seed=ndim + 1, max_sum=0.5)
    psi = positive_field(shape, ndim + 1)
    got = Solver(psi, courant, boundaries=bcs, g_factor=g, g_form=form, **opts).advance(4)
    want = mpdata_advance(psi, courant, 4, boundaries=bcs, g_factor=g, g_form=form, **opts)
    assert_matches(got, want, form)


# --------------------------------------------------------------------------- by hand

ALL_1D = [pytest.param(o, id=option_id(o)) for o in options_for(1)]


@pytest.mark.parametrize("opts", ALL_1D)
def test_open_courant_one_shifts_and_lets_the_edge_value_in(opts):
    """C = 1 moves everything one cell per step; through the open inflow face comes the
    edge cell's own value (zero gradient), through the outflow face the field leaves."""
    psi = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    for sign in (1.0, -1.0):
        courant = (np.full(9, sign),)
        got = Solver(psi, courant, boundaries="open", **opts).advance(3)
        want = psi.copy()
        for _ in range(3):
            want = np.r_[want[0], want[:-1]] if sign > 0 else np.r_[want[1:], want[-1]]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)


@pytest.mark.parametrize("opts", ALL_1D)
def test_constant_courant_one_lets_the_constant_in(opts):
    """C = 1 moves everything one cell per step; through the inflow face comes the side's
    constant (a different one on each side), through the outflow face the field leaves."""
    psi = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0])
    bcs = [(Constant(2.5), Constant(7.0))]
    for sign, value in ((1.0, 2.5), (-1.0, 7.0)):
        got = Solver(psi, (np.full(9, sign),), boundaries=bcs, **opts).advance(3)
        want = np.r_[[value] * 3, psi[:-3]] if sign > 0 else np.r_[psi[3:], [value] * 3]
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
        ref = mpdata_advance(psi, (np.full(9, sign),), 3, boundaries=bcs, **opts)
        np.testing.assert_allclose(ref, want, rtol=0, atol=1e-14)


def test_constant_equal_to_the_uniform_field_keeps_it():
    """Inflow of the field's own value into a uniform field in a nondivergent flow (2-D,
    every option of the limiter): nothing changes."""
    shape = (9, 7)
    courant = cases.random_nondivergent_courant(shape, 0.6, seed=2)
    for opts in (dict(n_iters=2), dict(n_iters=3, nonoscillatory=True)):
        got = Solver(np.full(shape, 1.75), courant, boundaries=Constant(1.75),
                     **opts).advance(4)
        np.testing.assert_allclose(got, 1.75, rtol=0, atol=1e-13)


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("opts", [dict(n_iters=2), dict(n_iters=3, nonoscillatory=True),
                                  dict(n_iters=2, nonoscillatory=True, infinite_gauge=True)],
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_rigid_box_conserves_mass_and_bounds(ndim, opts):
    """No flux through rigid walls: sum(G psi) is conserved to round-off (the flow is
    divergent, so psi itself piles up where it converges)."""
    shape = SHAPES[ndim]
    bcs = parse_boundaries("rigid", ndim)
    courant = courant_for(shape, bcs, seed=5, max_sum=0.6)
    g = np.random.default_rng(9).uniform(0.7, 1.3, shape)
    psi = positive_field(shape, 4)
    for gf in (None, g):
        out = Solver(psi, courant, boundaries="rigid", g_factor=gf, **opts).advance(30)
        weight = 1.0 if gf is None else gf
        mass0, mass = np.sum(weight * psi), np.sum(weight * out)
        assert abs(mass - mass0) <= 1e-13 * mass0
        assert np.abs(out - psi).max() > 0.1          # it did move


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("bname", ["open", "rigid", "mixed"])
def test_uniform_field_stays_uniform_in_a_uniform_flow(ndim, bname):
    """Open inflow brings the edge value: a constant field in a constant flow (zero at
    rigid walls is a divergent flow, so those use a zero flow across the wall axis)."""
    shape = SHAPES[ndim]
    bcs = bcs_for(bname, ndim)
    courant = []
    for d in range(ndim):
        face_shape = tuple(n + 1 if ax == d else n for ax, n in enumerate(shape))
        value = 0.0 if "rigid" in bcs[d] else 0.3 / ndim
        courant.append(np.full(face_shape, value))
    for opts in options_for(ndim):
        out = Solver(np.full(shape, 2.5), tuple(courant), boundaries=bcs, **opts).advance(4)
        np.testing.assert_allclose(out, 2.5, rtol=0, atol=1e-13)


@pytest.mark.parametrize("bname", ["periodic", "open"])
@pytest.mark.parametrize("opts", [dict(n_iters=2), dict(n_iters=3, nonoscillatory=True),
                                  dict(n_iters=2, third_order_terms=True)],
                         ids=lambda o: "-".join(f"{k}={v}" for k, v in o.items()))
def test_constant_g_scales_out_in_the_literature_form(bname, opts):
    """With G = g0 everywhere, advecting with G C = g0 C must equal G = 1 with C (the
    Smolarkiewicz 2006 form is homogeneous in G); PyMPDATA's form is not, so the two forms
    differ there."""
    shape = (14, 9)
    bcs = parse_boundaries(bname, 2)
    courant = courant_for(shape, bcs, seed=2, max_sum=0.6)
    psi = positive_field(shape, 2)
    g0 = 2.5
    plain = Solver(psi, courant, boundaries=bcs, **opts).advance(6)
    scaled = tuple(g0 * c for c in courant)
    lit = Solver(psi, scaled, boundaries=bcs, g_factor=np.full(shape, g0), **opts).advance(6)
    np.testing.assert_allclose(lit, plain, rtol=0, atol=1e-13 * np.abs(plain).max())
    pym = Solver(psi, scaled, boundaries=bcs, g_factor=np.full(shape, g0), g_form="pympdata",
                 **opts).advance(6)
    assert np.abs(pym - plain).max() > 1e-6


def test_g_equal_to_one_changes_nothing():
    shape = (14, 9)
    courant = random_courant(shape, 0.8, seed=1)
    psi = positive_field(shape, 1)
    for opts in options_for(2):
        plain = Solver(psi, courant, **opts).advance(3)
        ones = Solver(psi, courant, g_factor=np.ones(shape), **opts).advance(3)
        np.testing.assert_allclose(ones, plain, rtol=0, atol=1e-13 * np.abs(plain).max())


def test_boundaries_by_dimension_name():
    xr = pytest.importorskip("xarray")
    shape = (14, 9)
    psi = xr.DataArray(positive_field(shape), dims=("lat", "lon"))
    bcs = parse_boundaries((("rigid", "open"), "periodic"), 2)
    courant = courant_for(shape, bcs, seed=4)
    a = Solver(psi, courant, boundaries={"lat": ("rigid", "open")}).advance(3)
    b = Solver(psi.values, courant, boundaries=bcs).advance(3)
    assert isinstance(a, xr.DataArray)
    np.testing.assert_array_equal(a.values, b)


# --------------------------------------------------------------------------- errors


def test_errors_say_what_to_do():
    shape = (10,)
    psi = np.ones(shape)
    c = (np.full(11, 0.3),)
    with pytest.raises(ValueError, match="both sides"):
        Solver(psi, c, boundaries=[("periodic", "open")])
    with pytest.raises(ValueError, match="unknown boundary"):
        Solver(psi, c, boundaries="wall")
    with pytest.raises(ValueError, match="rigid wall"):
        Solver(psi, c, boundaries="rigid")
    with pytest.raises(ValueError, match="one entry per axis"):
        Solver(np.ones((4, 5)), cases.constant_courant((4, 5), 0.1), boundaries=["open"])
    with pytest.raises(ValueError, match="no dimension named"):
        Solver(psi, c, boundaries={"lat": "open"})
    with pytest.raises(ValueError, match="strictly positive"):
        Solver(psi, c, g_factor=np.zeros(shape))
    with pytest.raises(ValueError, match="shape"):
        Solver(psi, c, g_factor=np.ones(11))
    with pytest.raises(ValueError, match="g_form"):
        Solver(psi, c, g_factor=np.ones(shape), g_form="eulag")
    # open faces need not match, periodic ones must
    different = (np.r_[np.full(10, 0.3), 0.1],)
    Solver(psi, different, boundaries="open")
    with pytest.raises(ValueError, match="same periodic face"):
        Solver(psi, different)
    for bad in ("rigid", "wall"):
        with pytest.raises(ValueError):
            mpdata_advance(psi, c, 1, boundaries=bad)
    for bad in (float("nan"), float("inf"), "1.0", True, None):
        with pytest.raises(ValueError, match="finite number"):
            Constant(bad)
    with pytest.raises(ValueError, match="both sides"):
        Solver(psi, c, boundaries=[("periodic", Constant(1.0))])
    with pytest.raises(ValueError, match="Constant"):
        Solver(psi, c, boundaries="constant")
