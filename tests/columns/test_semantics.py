"""Column stencils agree with hand-written loops over levels (an independent NumPy version of
each), and everything else of a call still holds: boundary modes on the other axes, out=
snapshots, batch axes, xarray dims by name, dask chunks, check=True."""

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.bench import stencils

DIMS = ("lev", "lat", "lon")
rng = np.random.default_rng(42)


# API section 8 verbatim, written once in stencilpy/bench/stencils.py
thomas = sp.stencil(dims=DIMS, backend="numpy")(stencils.thomas)


def thomas_loop(a, b, c, d):
    n = d.shape[0]
    cp, dp, x = np.empty_like(d), np.empty_like(d), np.empty_like(d)
    cp[0], dp[0] = c[0] / b[0], d[0] / b[0]
    for k in range(1, n):
        m = b[k] - a[k] * cp[k - 1]
        cp[k], dp[k] = c[k] / m, (d[k] - a[k] * dp[k - 1]) / m
    x[-1] = dp[-1]
    for k in range(n - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]
    return x


def _system(shape):
    a, c = -rng.random(shape), -rng.random(shape)
    return a, 3.0 + rng.random(shape), c, rng.random(shape)


def test_thomas_against_loop_and_solver():
    a, b, c, d = _system((9, 4, 5))
    x = thomas(a, b, c, d)
    np.testing.assert_allclose(x, thomas_loop(a, b, c, d), rtol=1e-13)
    # it solves the system: a x[k-1] + b x[k] + c x[k+1] = d
    res = b * x
    res[1:] += a[1:] * x[:-1]
    res[:-1] += c[:-1] * x[1:]
    np.testing.assert_allclose(res, d, rtol=1e-12, atol=1e-12)


def test_one_and_two_levels():
    for n in (1, 2):
        a, b, c, d = _system((n, 3, 2))
        np.testing.assert_allclose(thomas(a, b, c, d), thomas_loop(a, b, c, d), rtol=1e-13)


@sp.stencil(dims=DIMS, backend="numpy")
def smoothed_running(u, w):
    h = 0.25 * (u[lat + 1] + u[lat - 1] + u[lon + 1] + u[lon - 1])    # parallel, before
    with sp.forward("lev"):
        with sp.levels(0, 1):
            s = h * w
        with sp.levels(1, None):
            s = s[lev - 1] + h * w + (u[lon + 1] - u[lon - 1])
    return s[lat + 1] - s[lat - 1] + u[lev + 1]      # after: earlier sweep at offsets


def smoothed_running_loop(u, w, mode, lev_mode):
    up = np.pad(u, ((0, 0), (2, 2), (2, 2)), mode=mode)
    h = 0.25 * (up[:, 2:, 1:-1] + up[:, :-2, 1:-1] + up[:, 1:-1, 2:] + up[:, 1:-1, :-2])
    du = up[:, 1:-1, 2:] - up[:, 1:-1, :-2]
    wp = np.pad(w, ((0, 0), (1, 1), (1, 1)), mode=mode)
    s = np.empty_like(h)
    s[0] = h[0] * wp[0]
    for k in range(1, u.shape[0]):
        s[k] = s[k - 1] + h[k] * wp[k] + du[k]
    uz = np.pad(u, ((0, 1), (0, 0), (0, 0)), mode=lev_mode)[1:]
    return s[:, 2:, 1:-1] - s[:, :-2, 1:-1] + uz


@pytest.mark.parametrize("mode", ["wrap", "edge", "reflect", "symmetric"])
def test_halos_and_modes_on_other_axes(mode):
    assert smoothed_running.halo == ((0, 1), (2, 2), (1, 1))   # s is read at lat offsets only
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    got = smoothed_running(u, w, boundary={"lev": "edge", "lat": mode, "lon": mode})
    np.testing.assert_allclose(got, smoothed_running_loop(u, w, mode, "edge"), rtol=1e-13)


def test_fill_and_valid():
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    want = smoothed_running_loop(u, w, "edge", "edge")
    got = smoothed_running(u, w)                         # "fill" everywhere: NaN borders
    assert np.isnan(got[-1]).all() and np.isnan(got[:, :2]).all() and np.isnan(got[:, :, -1]).all()
    np.testing.assert_allclose(got[:-1, 2:-2, 1:-1], want[:-1, 2:-2, 1:-1], rtol=1e-13)
    valid = smoothed_running(u, w, boundary="valid")
    assert valid.shape == (5, 3, 6)
    np.testing.assert_allclose(valid, want[:-1, 2:-2, 1:-1], rtol=1e-13)


def test_out_snapshot_and_batch_axes():
    a, b, c, d = _system((5, 3, 4))
    want = thomas_loop(a, b, c, d)
    d2 = d.copy()
    got = thomas(a, b, c, d2, out=d2)                    # out is an input
    assert got is d2
    np.testing.assert_allclose(d2, want, rtol=1e-13)
    batch = np.stack([d, 2 * d])                         # an extra leading (time) axis
    got = thomas(a, b, c, batch)
    np.testing.assert_allclose(got[1], 2 * want, rtol=1e-13)


def test_float32_and_check():
    a, b, c, d = (x.astype(np.float32) for x in _system((5, 3, 4)))
    got = thomas(a, b, c, d, check=True)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, thomas_loop(a, b, c, d), rtol=1e-5)


def test_axis_too_short_for_the_ranges_is_a_call_error():
    @sp.stencil(dims=("lev", "x"), backend="numpy")
    def edges(a):
        with sp.forward("lev"):
            with sp.levels(0, 2):
                t = a
            with sp.levels(2, -2):
                t = 3.0 * a
            with sp.levels(-2, None):
                t = 2.0 * a
        return t
    assert edges(np.ones((4, 2)))[-1, 0] == 2.0
    with pytest.raises(sp.StencilCallError, match="overlap"):
        edges(np.ones((3, 2)))


def test_sweep_along_a_later_axis_and_negative_position():
    @sp.stencil(backend="numpy")
    def cumsum_last(a):
        s = a[0, 0]
        with sp.forward(-1):
            with sp.levels(1, None):
                s = s + s[0, -1]
        return s
    a = rng.random((3, 7))
    np.testing.assert_allclose(cumsum_last(a), np.cumsum(a, axis=1), rtol=1e-13)


def test_scalars_and_statements_at_every_level():
    @sp.stencil(dims=("lev", "x"), backend="numpy")
    def decay(a, r):
        with sp.backward("lev"):
            g = r * a                                    # every level, before the ranges
            with sp.levels(-1, None):
                s = g
            with sp.levels(0, -1):
                s = g + r * s[lev + 1]
        return s
    a = rng.random((6, 3))
    want = np.empty_like(a)
    want[-1] = 0.5 * a[-1]
    for k in range(4, -1, -1):
        want[k] = 0.5 * a[k] + 0.5 * want[k + 1]
    np.testing.assert_allclose(decay(a, 0.5), want, rtol=1e-13)


def test_xarray_dims_by_name_and_dask_chunks():
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask.array")
    a, b, c, d = _system((6, 5, 4))
    want = thomas_loop(a, b, c, d)
    arrays = [xr.DataArray(x.transpose(1, 2, 0), dims=("lat", "lon", "lev")) for x in (a, b, c, d)]
    got = thomas(*arrays)
    assert got.dims == ("lat", "lon", "lev")
    np.testing.assert_allclose(got.values.transpose(2, 0, 1), want, rtol=1e-13)
    chunked = [x.chunk({"lat": 2, "lev": 3}) for x in arrays]   # lev chunks are merged
    lazy = thomas(*chunked)
    assert lazy.chunks is not None
    np.testing.assert_allclose(lazy.compute().values.transpose(2, 0, 1), want, rtol=1e-13)


@sp.function
def below(t):
    return t[lev - 1]


def test_helper_inside_a_sweep_and_integer_counter():
    @sp.stencil(dims=("lev", "x"), backend="numpy")
    def count(a):
        with sp.forward("lev"):
            with sp.levels(0, 1):
                n = 0
                s = a
            with sp.levels(1, None):
                n = below(n) + 1
                s = below(s) + a
        return n, s
    a = rng.random((5, 3))
    n, s = count(a)
    assert n.dtype == np.int64
    np.testing.assert_array_equal(n, np.broadcast_to(np.arange(5)[:, None], (5, 3)))
    np.testing.assert_allclose(s, np.cumsum(a, axis=0), rtol=1e-14)


def test_inspect_ir_and_analysis():
    text = sp.inspect(smoothed_running, "ir")
    assert "forward axis 0:" in text and "levels 1::" in text
    analysis = sp.inspect(smoothed_running, "analysis")
    assert "halo: ((0, 1), (2, 2), (1, 1))" in analysis
