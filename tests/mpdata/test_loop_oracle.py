"""The vectorised MPDATA reference against a slow, loop-based, independent version.

The loop versions below are written directly from docs/mpdata-derivation.md with scalar Python,
explicit modulo indexing for the periodic boundaries and a *different* face-indexing
convention (``U[i]`` = Courant number on the *right* face i+1/2 of cell i), so that an
off-by-one in the staggering of either implementation shows up as a mismatch.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stencilpy.mpdata.reference import mpdata_step

from ._util import ALL_OPTIONS, option_id

EPS = 1e-15


def pos(a):
    return max(a, 0.0)


def neg(a):
    return min(a, 0.0)


# --------------------------------------------------------------------------- 1-D loops


def slow_step_1d(psi, courant, *, n_iters=2, nonoscillatory=False, infinite_gauge=False,
                 third_order_terms=False, epsilon=EPS, limited_velocity_feedback=True):
    n = len(psi)
    old = [float(v) for v in psi]
    cx = courant[0]
    U = [float(cx[i + 1]) for i in range(n)]  # U[i]: face i+1/2

    def p(f, i):
        return f[i % n]

    if nonoscillatory:
        mn_old = [min(p(old, i - 1), p(old, i), p(old, i + 1)) for i in range(n)]
        mx_old = [max(p(old, i - 1), p(old, i), p(old, i + 1)) for i in range(n)]

    def donor(f, vel):
        return [pos(vel[i]) * p(f, i) + neg(vel[i]) * p(f, i + 1) for i in range(n)]

    def update(f, flux):
        return [f[i] - (flux[i] - flux[(i - 1) % n]) for i in range(n)]

    cur = update(old, donor(old, U))
    vel = U
    for _ in range(1, n_iters):
        anti = []
        for i in range(n):
            c = vel[i]
            if infinite_gauge:
                a = (p(cur, i + 1) - p(cur, i)) / 2
            else:
                a = (p(cur, i + 1) - p(cur, i)) / (p(cur, i + 1) + p(cur, i) + epsilon)
            v = (abs(c) - c * c) * a
            if third_order_terms:
                num = 2 * (p(cur, i + 2) - p(cur, i + 1) - p(cur, i) + p(cur, i - 1))
                den = 4.0 if infinite_gauge else (
                    p(cur, i + 2) + p(cur, i + 1) + p(cur, i) + p(cur, i - 1) + epsilon)
                v += (3 * c * abs(c) - 2 * c ** 3 - c) / 6 * num / den
            anti.append(v)
        if nonoscillatory:
            flux = list(anti) if infinite_gauge else donor(cur, anti)
            bu, bd = [], []
            for i in range(n):
                mx = max(mx_old[i], p(cur, i - 1), p(cur, i), p(cur, i + 1))
                mn = min(mn_old[i], p(cur, i - 1), p(cur, i), p(cur, i + 1))
                f_in = pos(flux[(i - 1) % n]) - neg(flux[i])
                f_out = pos(flux[i]) - neg(flux[(i - 1) % n])
                bu.append((mx - cur[i]) / (f_in + epsilon))
                bd.append((cur[i] - mn) / (f_out + epsilon))
            used = [pos(anti[i]) * min(1.0, bd[i], bu[(i + 1) % n])
                    + neg(anti[i]) * min(1.0, bu[i], bd[(i + 1) % n]) for i in range(n)]
        else:
            used = anti
        flux = list(used) if infinite_gauge else donor(cur, used)
        cur = update(cur, flux)
        vel = used if limited_velocity_feedback else anti
    return np.array(cur)


# --------------------------------------------------------------------------- 2-D loops


def slow_step_2d(psi, courant, *, n_iters=2, nonoscillatory=False, infinite_gauge=False,
                 third_order_terms=False, epsilon=EPS, limited_velocity_feedback=True):
    n0, n1 = psi.shape
    old = psi.astype(float).tolist()
    # U[i][j]: x-face (i+1/2, j);  W[i][j]: y-face (i, j+1/2)
    U = [[float(courant[0][i + 1, j]) for j in range(n1)] for i in range(n0)]
    W = [[float(courant[1][i, j + 1]) for j in range(n1)] for i in range(n0)]

    def p(f, i, j):
        return f[i % n0][j % n1]

    def rng():
        return itertools.product(range(n0), range(n1))

    def grid(fun):
        out = [[0.0] * n1 for _ in range(n0)]
        for i, j in rng():
            out[i][j] = fun(i, j)
        return out

    def cross(f, i, j):
        return [p(f, i, j), p(f, i - 1, j), p(f, i + 1, j), p(f, i, j - 1), p(f, i, j + 1)]

    if nonoscillatory:
        mn_old = grid(lambda i, j: min(cross(old, i, j)))
        mx_old = grid(lambda i, j: max(cross(old, i, j)))

    def donor(f, u, w):
        fx = grid(lambda i, j: pos(u[i][j]) * p(f, i, j) + neg(u[i][j]) * p(f, i + 1, j))
        fy = grid(lambda i, j: pos(w[i][j]) * p(f, i, j) + neg(w[i][j]) * p(f, i, j + 1))
        return fx, fy

    def update(f, fx, fy):
        return grid(lambda i, j: f[i][j] - (
            (fx[i][j] - p(fx, i - 1, j)) + (fy[i][j] - p(fy, i, j - 1))))

    def ratio(num, den_terms, plain_den):
        """num / (sum + eps), or num / plain_den in infinite gauge."""
        if infinite_gauge:
            return num / plain_den
        return num / (sum(den_terms) + epsilon)

    cur = update(old, *donor(old, U, W))
    vu, vw = U, W
    for _ in range(1, n_iters):
        def anti_x(i, j):
            c = vu[i][j]
            a = ratio(p(cur, i + 1, j) - p(cur, i, j), [p(cur, i + 1, j), p(cur, i, j)], 2.0)
            cbar = 0.25 * (p(vw, i + 1, j) + p(vw, i, j) + p(vw, i + 1, j - 1) + p(vw, i, j - 1))
            corners = [p(cur, i + 1, j + 1), p(cur, i, j + 1), p(cur, i + 1, j - 1), p(cur, i, j - 1)]
            b = ratio(corners[0] + corners[1] - corners[2] - corners[3], corners, 4.0)
            v = (abs(c) - c * c) * a - 0.5 * c * cbar * b
            if third_order_terms:
                line = [p(cur, i + 2, j), p(cur, i + 1, j), p(cur, i, j), p(cur, i - 1, j)]
                v += (3 * c * abs(c) - 2 * c ** 3 - c) / 6 * ratio(
                    2 * (line[0] - line[1] - line[2] + line[3]), line, 4.0)
                mixed = 2 * (corners[0] - corners[1] - corners[2] + corners[3])
                mixed = mixed / 4.0 if infinite_gauge else mixed / sum(corners)
                v += cbar / 2 * (abs(c) - 2 * c * c) * mixed
            return v

        def anti_y(i, j):
            c = vw[i][j]
            a = ratio(p(cur, i, j + 1) - p(cur, i, j), [p(cur, i, j + 1), p(cur, i, j)], 2.0)
            cbar = 0.25 * (p(vu, i, j + 1) + p(vu, i, j) + p(vu, i - 1, j + 1) + p(vu, i - 1, j))
            # first index along the face axis (y), second along the transverse axis (x)
            corners = [p(cur, i + 1, j + 1), p(cur, i + 1, j), p(cur, i - 1, j + 1), p(cur, i - 1, j)]
            b = ratio(corners[0] + corners[1] - corners[2] - corners[3], corners, 4.0)
            v = (abs(c) - c * c) * a - 0.5 * c * cbar * b
            if third_order_terms:
                line = [p(cur, i, j + 2), p(cur, i, j + 1), p(cur, i, j), p(cur, i, j - 1)]
                v += (3 * c * abs(c) - 2 * c ** 3 - c) / 6 * ratio(
                    2 * (line[0] - line[1] - line[2] + line[3]), line, 4.0)
                mixed = 2 * (corners[0] - corners[1] - corners[2] + corners[3])
                mixed = mixed / 4.0 if infinite_gauge else mixed / sum(corners)
                v += cbar / 2 * (abs(c) - 2 * c * c) * mixed
            return v

        au, aw = grid(anti_x), grid(anti_y)
        if nonoscillatory:
            fx, fy = (au, aw) if infinite_gauge else donor(cur, au, aw)

            def beta_up(i, j):
                mx = max(mx_old[i][j], *cross(cur, i, j))
                f_in = (pos(p(fx, i - 1, j)) - neg(fx[i][j])) + (pos(p(fy, i, j - 1)) - neg(fy[i][j]))
                return (mx - cur[i][j]) / (f_in + epsilon)

            def beta_down(i, j):
                mn = min(mn_old[i][j], *cross(cur, i, j))
                f_out = (pos(fx[i][j]) - neg(p(fx, i - 1, j))) + (pos(fy[i][j]) - neg(p(fy, i, j - 1)))
                return (cur[i][j] - mn) / (f_out + epsilon)

            bu, bd = grid(beta_up), grid(beta_down)
            lu = grid(lambda i, j: pos(au[i][j]) * min(1.0, bd[i][j], p(bu, i + 1, j))
                      + neg(au[i][j]) * min(1.0, bu[i][j], p(bd, i + 1, j)))
            lw = grid(lambda i, j: pos(aw[i][j]) * min(1.0, bd[i][j], p(bu, i, j + 1))
                      + neg(aw[i][j]) * min(1.0, bu[i][j], p(bd, i, j + 1)))
        else:
            lu, lw = au, aw
        fx, fy = (lu, lw) if infinite_gauge else donor(cur, lu, lw)
        cur = update(cur, fx, fy)
        vu, vw = (lu, lw) if limited_velocity_feedback else (au, aw)
    return np.array(cur)


# --------------------------------------------------------------------------- helpers


def periodic_faces(values, axis):
    first = np.take(values, [0], axis=axis)
    return np.concatenate([values, first], axis=axis)


def random_courant(shape, rng, scale):
    """A random (divergent) staggered Courant field with entry 0 == entry N."""
    return tuple(periodic_faces(rng.uniform(-scale, scale, size=shape), d)
                 for d in range(len(shape)))


def assert_close(actual, expected, tol=1e-14):
    scale = max(1.0, float(np.max(np.abs(expected))))
    err = float(np.max(np.abs(actual - expected)))
    assert err <= tol * scale, f"max abs difference {err:.3g} > {tol * scale:.3g}"


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("opts", ALL_OPTIONS, ids=option_id)
@pytest.mark.parametrize("seed", [0, 1])
def test_1d_matches_loops(opts, seed):
    rng = np.random.default_rng(seed)
    n = 9
    psi = rng.uniform(0.1, 2.0, n)
    psi[rng.integers(0, n)] = 5.0  # a spike, so the limiter is active
    if seed == 1:
        psi[[1, 2, 6]] = 0.0  # exact zeros: the epsilons of (8), (12), (17) matter
    if opts["infinite_gauge"]:
        psi -= 1.0  # any sign allowed
    courant = random_courant((n,), rng, 0.45)
    vec = psi.copy()
    ref = psi.copy()
    for _ in range(3):
        vec = mpdata_step(vec, courant, **opts)
        ref = slow_step_1d(ref, courant, **opts)
        assert_close(vec, ref)


@pytest.mark.parametrize("opts", ALL_OPTIONS, ids=option_id)
@pytest.mark.parametrize("shape", [(5, 4), (3, 7)])
def test_2d_matches_loops(opts, shape):
    rng = np.random.default_rng(hash(shape) % 2**32)
    psi = rng.uniform(0.1, 2.0, shape)
    psi[tuple(rng.integers(0, n) for n in shape)] = 5.0
    if opts["infinite_gauge"]:
        psi -= 1.0
    # anisotropic flow: different magnitudes along the two axes
    cx = periodic_faces(rng.uniform(-0.3, 0.3, shape), 0)
    cy = periodic_faces(rng.uniform(-0.15, 0.15, shape) + 0.05, 1)
    vec = psi.copy()
    ref = psi.copy()
    for _ in range(2):
        vec = mpdata_step(vec, (cx, cy), **opts)
        ref = slow_step_2d(ref, (cx, cy), **opts)
        assert_close(vec, ref)


@pytest.mark.parametrize(
    "opts",
    # 2-D third-order terms without infinite gauge need psi > 0 (term (13) has no epsilon)
    [o for o in ALL_OPTIONS if o["n_iters"] >= 2
     and not (o["third_order_terms"] and not o["infinite_gauge"])],
    ids=option_id)
def test_2d_matches_loops_with_zero_regions(opts):
    """A field with exact zeros (epsilon matters in (8), (9), (17))."""
    rng = np.random.default_rng(7)
    shape = (6, 5)
    psi = np.zeros(shape)
    psi[2:4, 1:3] = rng.uniform(1, 3, (2, 2))
    cx = periodic_faces(rng.uniform(-0.3, 0.3, shape), 0)
    cy = periodic_faces(rng.uniform(-0.3, 0.3, shape), 1)
    vec = mpdata_step(psi, (cx, cy), **opts)
    ref = slow_step_2d(psi, (cx, cy), **opts)
    assert_close(vec, ref)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n0=st.integers(1, 5), n1=st.integers(1, 5), seed=st.integers(0, 2**31),
    opts=st.sampled_from(ALL_OPTIONS), scale=st.floats(0.0, 0.25),
)
def test_2d_matches_loops_hypothesis(n0, n1, seed, opts, scale):
    rng = np.random.default_rng(seed)
    shape = (n0, n1)
    psi = rng.uniform(0.05, 3.0, shape)
    if opts["infinite_gauge"]:
        psi -= 1.5
    courant = random_courant(shape, rng, scale)
    assert_close(mpdata_step(psi, courant, **opts), slow_step_2d(psi, courant, **opts), 1e-13)
