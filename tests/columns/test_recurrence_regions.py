"""Output regions of sweeps that carry a value along the column under "fill"/"valid".

A recurrence (``s = s[lev - D] + g``) passes a value that is undefined at one level (``g``
reads outside the arrays) on to every level it reaches, so the region is not the domain less
the halo. The independent oracle is a hand-written NumPy loop over levels on fields padded with
NaN along the level axis: a level "has a value" iff the loop's result there is not NaN. Under
"fill" the undefined points hold the fill value, under "valid" the output is cropped to the
levels with a value, and where those are not one range (or none) the call is a clear
``StencilCallError`` naming the carried temporary -- never an internal error or a wrong answer.
Both backends, forward and backward, recurrence depths 1-3, level axis first or last.
"""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import stencilpy as sp

rng = np.random.default_rng(17)
BACKENDS = ("numpy", "llvm")
PADS = {"edge": "edge", "periodic": "wrap", "reflect": "reflect", "symmetric": "symmetric"}


def _make(backend, dims, direction, depth, init, init_off, step_off):
    """A sweep along "lev": ``s = u[lev + init_off]`` on ``init`` levels at the start of the
    sweep, then ``s = s[lev -/+ depth] + g`` with ``g = u[lev + 1] - u[lev - 1] +
    u[lev + step_off]``."""
    if direction == "forward":
        @sp.stencil(dims=dims, backend=backend)
        def k(u):
            g = u[lev + 1] - u[lev - 1] + u[lev + step_off]
            with sp.forward("lev"):
                with sp.levels(0, init):
                    s = u[lev + init_off]
                with sp.levels(init, None):
                    s = s[lev - depth] + g
            return s
    else:
        @sp.stencil(dims=dims, backend=backend)
        def k(u):
            g = u[lev + 1] - u[lev - 1] + u[lev + step_off]
            with sp.backward("lev"):
                with sp.levels(-init, None):
                    s = u[lev + init_off]
                with sp.levels(0, -init):
                    s = s[lev + depth] + g
            return s
    return k


def _loop(u, axis, direction, depth, init, init_off, step_off, pad):
    """The same recurrence, written out: a NumPy loop over levels on ``u`` padded by 3 along
    ``axis`` (NaN for "fill"/"valid", else ``np.pad``'s mode); NaN marks "no value"."""
    u = np.moveaxis(u, axis, -1)
    n, p = u.shape[-1], 3
    widths = [(0, 0)] * (u.ndim - 1) + [(p, p)]
    up = np.pad(u, widths, constant_values=np.nan) if pad is None else np.pad(u, widths, mode=pad)

    def at(k, o):
        return up[..., p + k + o]

    s = np.full(u.shape, np.nan)
    order = range(n) if direction == "forward" else range(n - 1, -1, -1)
    for k in order:
        first = k < init if direction == "forward" else k >= n - init
        if first:
            s[..., k] = at(k, init_off)
        else:
            prev = k - depth if direction == "forward" else k + depth
            g = at(k, 1) - at(k, -1) + at(k, step_off)
            s[..., k] = s[..., prev] + g
    return np.moveaxis(s, -1, axis)


def _levels_with_value(want, axis):
    other = tuple(d for d in range(want.ndim) if d != axis)
    return np.flatnonzero(~np.isnan(want).any(axis=other))


def _check(k, u, axis, case, mode):
    """``k(u, boundary=mode)`` against the loop: values, fill, crop, or the clear error."""
    if mode in PADS:
        want = _loop(u, axis, *case, pad=PADS[mode])
        np.testing.assert_allclose(k(u, boundary=mode), want, rtol=1e-12, atol=1e-12)
        return
    want = _loop(u, axis, *case, pad=None)
    has = _levels_with_value(want, axis)
    one_range = has.size and has[-1] - has[0] + 1 == has.size
    if not one_range:
        with pytest.raises(sp.StencilCallError) as err:
            k(u, boundary=mode)
        text = str(err.value)
        if u.shape[axis] >= 5:      # else the halo alone may not fit: "the arrays are too small"
            assert "have a value" in text and "boundary={'lev': 'edge'" in text, text
        return
    lo, hi = has[0], has[-1] + 1
    if mode == "fill":
        got = k(u, boundary="fill", fill_value=-7.5)
        np.testing.assert_allclose(got, np.where(np.isnan(want), -7.5, want),
                                   rtol=1e-12, atol=1e-12)
        got = k(u, boundary="fill")                       # default fill: NaN
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    else:
        got = k(u, boundary="valid")
        index = [slice(None)] * u.ndim
        index[axis] = slice(lo, hi)
        np.testing.assert_allclose(got, want[tuple(index)], rtol=1e-12, atol=1e-12)


CASES = [  # direction, depth, init levels, init offset, step offset
    ("forward", 1, 1, 0, 0), ("forward", 2, 2, 0, 0), ("forward", 3, 3, 0, 1),
    ("backward", 1, 1, 0, 0), ("backward", 2, 2, 0, -1), ("backward", 3, 4, 0, 0),
    ("forward", 1, 1, -1, 0),     # the first level reads below the array: nothing has a value
    ("forward", 2, 2, -1, 0),     # every other level loses its value: not one range
    ("backward", 1, 1, 1, 0),     # the top level reads above the array
    ("forward", 1, 3, 2, 0),      # init reads above the array at the top of its range only
    ("backward", 2, 3, 0, 2),     # the step reads 2 above: the top levels have no value
]
MODES = ("fill", "valid", "edge", "periodic", "reflect", "symmetric")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_recurrences_against_the_loop(backend, case):
    for dims, axis in ((("x", "y", "lev"), 2), (("lev", "x"), 0)):
        k = _make(backend, dims, *case)
        shape = (3, 4, 9) if axis == 2 else (9, 5)
        u = rng.random(shape)
        for mode in MODES:
            _check(k, u, axis, case, mode)


@settings(max_examples=40, deadline=None)
@given(direction=st.sampled_from(["forward", "backward"]), depth=st.integers(1, 3),
       extra=st.integers(0, 2), init_off=st.integers(-2, 2), step_off=st.integers(-2, 2),
       n=st.integers(1, 9), mode=st.sampled_from(["fill", "valid", "edge"]))
def test_recurrences_hypothesis(direction, depth, extra, init_off, step_off, n, mode):
    init = depth + extra
    case = (direction, depth, init, init_off, step_off)
    u = np.random.default_rng(n).random((2, n))
    for backend in ("numpy", "llvm") if n >= 3 else ("numpy",):
        try:
            _check(_make(backend, ("x", "lev"), *case), u, 1, case, mode)
        except sp.StencilCallError as err:     # only an axis too short for the halo
            assert n <= 2 * 2 + init and "pass a longer 'lev' axis" in str(err), str(err)


def test_short_axis_where_a_range_from_the_end_reads_below_the_halo():
    """On one level, ``levels(-1, None)`` is level 0, whose read ``u[lev - 2]`` reaches
    further below than the halo of a long axis (1): a clear call error, in every mode."""
    for backend in BACKENDS:
        k = _make(backend, ("x", "lev"), "backward", 1, 1, -2, 0)
        for mode in ("edge", "periodic", "fill", "valid"):
            with pytest.raises(sp.StencilCallError,
                               match="pass a longer 'lev' axis|too small along 'lev'"):
                k(rng.random((2, 1)), boundary=mode)
        u = rng.random((2, 6))                          # a long enough axis: as the loop
        np.testing.assert_allclose(k(u, boundary="edge"),
                                   _loop(u, 1, "backward", 1, 1, -2, 0, pad="edge"), rtol=1e-13)


def odd_levels(u):
    """``s = g`` at every level, ``s = s[lev - 2] + g`` above: with ``g`` missing at the first and
    last level (fill/valid), only every other level carries a value."""
    g = u[lev + 1] - u[lev - 1]
    with sp.forward("lev"):
        s = g
        with sp.levels(2, None):
            s = s[lev - 2] + g
    return s


def test_example_of_the_report_is_a_clear_error():
    """The case reported: ``s = g`` at every level, ``s = s[lev - 2] + g`` above; ``g`` has no
    value at the first and last level, so only odd levels carry one."""
    for backend in BACKENDS:
        k = sp.stencil(dims=("x", "y", "lev"), backend=backend)(odd_levels)

        u = rng.random((3, 4, 10))
        for mode in ("fill", "valid"):
            with pytest.raises(sp.StencilCallError) as err:
                k(u, boundary=mode)
            text = str(err.value)
            assert f"boundary '{mode}' along 'lev'" in text
            assert "only at levels 1, 3, 5, 7 of 10" in text
            assert "carries 's' to level 2 from level 0" in text and "s[lev - 2]" in text
        want = np.pad(u, ((0, 0), (0, 0), (1, 1)), mode="edge")
        g = want[..., 2:] - want[..., :-2]
        s = g.copy()
        for lev in range(2, 10):
            s[..., lev] = s[..., lev - 2] + g[..., lev]
        np.testing.assert_allclose(k(u, boundary={"lev": "edge", "x": "fill", "y": "valid"}), s,
                                   rtol=1e-13)


def test_two_sweeps_region_smaller_than_the_halo():
    """A backward sweep that reads, one level up, a forward sweep's value that the top level
    lacks: only the top level has a value (the halo alone would keep levels 1 to n - 2)."""
    for backend in BACKENDS:
        @sp.stencil(dims=("lev", "col"), backend=backend)
        def k(u):
            g = u[lev + 1] - u[lev - 1]
            with sp.forward("lev"):
                with sp.levels(0, 1):
                    s = u
                with sp.levels(1, None):
                    s = s[lev - 1] + g
            with sp.backward("lev"):
                with sp.levels(-1, None):
                    t = u
                with sp.levels(0, -1):
                    t = t[lev + 1] + s[lev + 1]
            return t

        u = rng.random((8, 3))
        np.testing.assert_array_equal(k(u, boundary={"lev": "valid", "col": "edge"}), u[-1:])
        x = k(u, boundary={"lev": "fill", "col": "edge"}, fill_value=0.0)
        np.testing.assert_array_equal(x, np.where(np.arange(8)[:, None] == 7, u, 0.0))
        up = np.pad(u, ((1, 1), (0, 0)), mode="edge")              # with "edge" every level
        g, s, x = up[2:] - up[:-2], u.copy(), u.copy()
        for lev in range(1, 8):
            s[lev] = s[lev - 1] + g[lev]
        for lev in range(6, -1, -1):
            x[lev] = x[lev + 1] + s[lev + 1]
        np.testing.assert_allclose(k(u, boundary="edge"), x, rtol=1e-13)


def test_horizontal_fill_with_a_recurrence():
    """"fill" on every axis: the recurrence's region along lev, the halo's across."""
    for backend in BACKENDS:
        @sp.stencil(dims=("lat", "lon", "lev"), backend=backend)
        def k(u):
            g = u[lev + 1] - u[lev - 1] + u[lat + 1] - u[lon - 1]
            with sp.forward("lev"):
                with sp.levels(0, 1):
                    s = u
                with sp.levels(1, None):
                    s = s[lev - 1] + g
            return s

        u = rng.random((5, 6, 7))
        up = np.pad(u, 1, constant_values=np.nan)
        g = (up[1:-1, 1:-1, 2:] - up[1:-1, 1:-1, :-2] + up[2:, 1:-1, 1:-1]
             - up[1:-1, :-2, 1:-1])
        want = u.copy()
        for lev in range(1, 7):
            want[..., lev] = want[..., lev - 1] + g[..., lev]
        want[-1, :, :] = np.nan           # the box: lat < 4 and lon >= 1 at every level
        want[:, 0, :] = np.nan
        got = k(u, boundary="fill")
        np.testing.assert_allclose(got, want, rtol=1e-12)
        np.testing.assert_allclose(k(u, boundary="valid"), want[:-1, 1:, :-1], rtol=1e-12)


def test_prepared_call_with_another_axis_length_still_raises():
    """The fast path prepares a call per shape: a call that ran (and was prepared) on one
    'lev' length, then made on another where the levels with a value are not one range (or
    the axis is too short for a range counted from the end), raises the same clear error, on
    every repeat; the prepared shape still gives the loop's answer afterwards."""
    k = sp.stencil(dims=("x", "y", "lev"), backend="llvm")(odd_levels)

    def loop(u):            # levels with a value: 1 only on 3 levels (g lacks 0 and n - 1)
        want = np.pad(u, ((0, 0), (0, 0), (1, 1)), constant_values=np.nan)
        g = want[..., 2:] - want[..., :-2]
        s = g.copy()
        for lev in range(2, u.shape[2]):
            s[..., lev] = s[..., lev - 2] + g[..., lev]
        return np.where(np.isnan(s), -1.0, s)

    good, bad = rng.random((3, 4, 3)), rng.random((3, 4, 5))
    out = np.empty_like(good)
    for _ in range(3):                                  # the second call is a prepared one
        np.testing.assert_allclose(k(good, boundary="fill", fill_value=-1.0, out=out),
                                   loop(good), rtol=1e-13)
    assert k._fast is not None and k._fast.prepared
    for _ in range(2):
        with pytest.raises(sp.StencilCallError, match="only at levels 1, 3 of 5"):
            k(bad, boundary="fill", fill_value=-1.0, out=np.empty_like(bad))
    np.testing.assert_allclose(k(good, boundary="fill", fill_value=-1.0, out=out), loop(good),
                               rtol=1e-13)

    short = _make("llvm", ("x", "lev"), "backward", 1, 1, -2, 0)
    u = rng.random((2, 6))
    want = _loop(u, 1, "backward", 1, 1, -2, 0, pad="edge")
    for _ in range(3):
        np.testing.assert_allclose(short(u, boundary="edge"), want, rtol=1e-13)
    assert short._fast.prepared
    for _ in range(2):
        with pytest.raises(sp.StencilCallError, match="pass a longer 'lev' axis"):
            short(rng.random((2, 1)), boundary="edge")
    np.testing.assert_allclose(short(u, boundary="edge"), want, rtol=1e-13)
