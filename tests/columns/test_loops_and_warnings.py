"""Issue items 6 and 7: static loops unrolled, captured ints in offsets, and the warning for a
running sum written without a sweep."""

import warnings

import numpy as np
import pytest

import stencilpy as sp

R = 2                       # a captured module-level int
WEIGHTS_N = 3

rng = np.random.default_rng(1)


@sp.function
def window_sum(q):
    s = 0.0
    for i in range(-R, R + 1):
        s = s + q[i]
    return s


def test_box_filter_loop_matches_written_out_terms():
    @sp.stencil
    def box(q):
        s = 0.0
        for i in range(-2, 3):
            s = s + q[i]
        return s / 5.0

    q = rng.random(20)
    want = sum(np.roll(q, -i) for i in range(-2, 3)) / 5.0
    assert box.halo == ((2, 2),)
    np.testing.assert_allclose(box(q, boundary="periodic"), want, rtol=1e-14)
    ref = sp.stencil(box.pyfunc, backend="numpy")
    np.testing.assert_allclose(ref(q, boundary="periodic"), want, rtol=1e-14)


def test_loop_in_a_helper_with_captured_bounds():
    @sp.stencil(backend="numpy")
    def smooth(q):
        return window_sum(q) / (2 * R + 1)

    q = rng.random(15)
    assert smooth.halo == ((R, R),)
    want = sum(np.roll(q, -i) for i in range(-R, R + 1)) / (2 * R + 1)
    np.testing.assert_allclose(smooth(q, boundary="wrap"), want, rtol=1e-14)


def test_nested_loops_weights_and_named_offsets():
    @sp.stencil(dims=("y", "x"), backend="numpy")
    def weighted(q):
        s = 0.0
        for j in range(-1, 2):
            for i in range(0, WEIGHTS_N):
                s = s + (i + 1) * q[y + j, x + i - 1]
        return s

    q = rng.random((6, 7))
    want = sum((i + 1) * np.roll(q, (-j, -(i - 1)), axis=(0, 1))
               for j in range(-1, 2) for i in range(WEIGHTS_N))
    assert weighted.halo == ((1, 1), (1, 1))
    np.testing.assert_allclose(weighted(q, boundary="periodic"), want, rtol=1e-14)


def test_captured_int_in_an_offset():
    @sp.stencil(dims=("level",), backend="numpy")
    def shifted(q):
        return q[level + R] - q[level - R]

    q = np.arange(10.0) ** 2
    assert shifted.halo == ((2, 2),)
    np.testing.assert_allclose(shifted(q, boundary="valid"), q[4:] - q[:-4])


def test_loop_variable_cannot_be_reassigned():
    def f(q):
        s = 0.0
        for i in range(2):
            i = 3
            s = s + q[i]
        return s
    with pytest.raises(sp.StencilSyntaxError, match="variable of a loop being unrolled"):
        sp.stencil(f)


def test_break_is_refused():
    def f(q):
        s = 0.0
        for i in range(2):
            s = s + q[i]
            break
        return s
    with pytest.raises(sp.StencilSyntaxError, match="'break' is not supported in an unrolled"):
        sp.stencil(f)


def test_running_sum_trap_warns_with_a_hint_at_sweeps():
    def trap(phi_sfc, thickness):
        phi = phi_sfc
        phi = phi[lev - 1] + thickness
        return phi
    with pytest.warns(sp.StencilWarning, match="not a running sum along 'lev'") as record:
        sp.stencil(trap, dims=("lev", "x"), backend="numpy")
    text = str(record[0].message)
    assert "sp.forward" in text and "phi[lev - 1, x]" in text
    assert record[0].filename == __file__
    assert record[0].lineno == trap.__code__.co_firstlineno + 2


def test_symmetric_smoothing_and_sweeps_do_not_warn():
    def smooth_twice(q):
        q2 = q
        q2 = q2 + 0.25 * (q2[1] - 2.0 * q2 + q2[-1])
        q2 = q2 + 0.25 * (q2[1] - 2.0 * q2 + q2[-1])
        return q2

    def running(q):
        s = q
        with sp.forward(0):
            with sp.levels(1, None):
                s = s + s[-1]
        return s
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sp.stencil(smooth_twice, backend="numpy")
        k = sp.stencil(running, backend="numpy")
    np.testing.assert_allclose(k(np.arange(5.0)), np.cumsum(np.arange(5.0)))
