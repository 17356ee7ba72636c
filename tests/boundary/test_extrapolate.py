"""Boundary mode "extrapolate": ghost values from the parabola through each end's three
points.  Oracles: ``numpy.polyfit`` per line (ghosts), ``numpy.gradient(edge_order=2)``
(centred differences become MetPy's / numpy's one-sided ones), and the numpy reference."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp


def _both(fn, dims=None):
    return (sp.stencil(fn, dims=dims), sp.stencil(fn, dims=dims, backend="numpy"))


def _centred(u):
    return (u[1] - u[-1]) / 2.0


def _reach(u):                      # halo (2, 3): ghosts two and three points out
    return u[-2] + 10.0 * u[3] - u[1]


def _grad2(u):
    return (u[1, 0] - u[-1, 0]) / 2.0 + 100.0 * (u[0, 1] - u[0, -1]) / 2.0


def _nested(u):                     # a temporary read at offsets
    g = (u[1, 0] - u[-1, 0]) / 2.0
    return g[1, 0] - g[-1, 0] + u[0, 1]


CENTRED, REACH, GRAD2, NESTED = _both(_centred), _both(_reach), _both(_grad2), _both(_nested)


def _polyfit_extend(a: np.ndarray, axis: int, lo: int, hi: int) -> np.ndarray:
    """``a`` extended along ``axis`` by ``lo``/``hi`` points, each line by its own
    least-squares parabola through three end points (exact: three points, degree 2)."""
    a = np.moveaxis(a, axis, -1)
    n = a.shape[-1]
    out = np.empty(a.shape[:-1] + (n + lo + hi,))
    out[..., lo:lo + n] = a
    for idx in np.ndindex(a.shape[:-1]):
        left = np.polyfit([0, 1, 2], a[idx][:3], 2)
        right = np.polyfit([n - 3, n - 2, n - 1], a[idx][-3:], 2)
        out[idx][:lo] = np.polyval(left, np.arange(-lo, 0))
        out[idx][lo + n:] = np.polyval(right, np.arange(n, n + hi))
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("backend", [0, 1])
@pytest.mark.parametrize("shape", [(3,), (4,), (11,), (2, 9), (3, 2, 17)])
def test_centred_difference_is_one_sided_at_the_edges(backend, shape):
    u = np.random.default_rng(1).normal(size=shape) * 5.0 + 3.0
    got = CENTRED[backend](u, boundary="extrapolate")
    np.testing.assert_allclose(got, np.gradient(u, axis=-1, edge_order=2), rtol=0, atol=1e-12)


@pytest.mark.parametrize("backend", [0, 1])
@pytest.mark.parametrize("n", [3, 4, 5, 12])
def test_ghosts_several_points_out_are_on_the_parabola(backend, n):
    u = np.random.default_rng(n).normal(size=(2, n))
    p = _polyfit_extend(u, 1, 2, 3)
    want = p[:, 0:n] + 10.0 * p[:, 5:5 + n] - p[:, 3:3 + n]
    np.testing.assert_allclose(REACH[backend](u, boundary="extrapolate"), want, atol=1e-10)


@pytest.mark.parametrize("modes", [{0: "extrapolate", 1: "extrapolate"},
                                   {0: "extrapolate", 1: "wrap"},
                                   {0: "reflect", 1: "extrapolate"}])
def test_per_axis_and_corners(modes):
    u = np.random.default_rng(2).normal(size=(4, 6, 7))
    a = _polyfit_extend(u, 1, 1, 1) if modes[0] == "extrapolate" else \
        np.pad(u, ((0, 0), (1, 1), (0, 0)), mode=modes[0])
    b = _polyfit_extend(u, 2, 1, 1) if modes[1] == "extrapolate" else \
        np.pad(u, ((0, 0), (0, 0), (1, 1)), mode=modes[1])
    want = (a[:, 2:] - a[:, :-2]) / 2.0 + 100.0 * (b[..., 2:] - b[..., :-2]) / 2.0
    for k in GRAD2:
        np.testing.assert_allclose(k(u, boundary=modes), want, rtol=1e-13, atol=1e-11)


def test_other_axis_fill_and_valid():
    u = np.random.default_rng(3).normal(size=(6, 8))
    want = np.gradient(u, axis=0, edge_order=2)[:, 1:-1] + 100.0 * (u[:, 2:] - u[:, :-2]) / 2.0
    for k in GRAD2:
        filled = k(u, boundary={0: "extrapolate", 1: "fill"})
        assert np.isnan(filled[:, [0, -1]]).all()
        np.testing.assert_allclose(filled[:, 1:-1], want, rtol=1e-13)
        valid = k(u, boundary={0: "extrapolate", 1: "valid"})
        assert valid.shape == (6, 6)
        np.testing.assert_allclose(valid, want, rtol=1e-13)


def test_temporaries_are_computed_from_the_extended_inputs():
    u = np.random.default_rng(4).normal(size=(7, 9))
    got, want = (k(u, boundary="extrapolate") for k in NESTED)
    p = _polyfit_extend(_polyfit_extend(u, 0, 2, 2), 1, 1, 1)
    g = (p[2:] - p[:-2]) / 2.0                              # rows [-1, n + 1)
    oracle = g[2:, 1:-1] - g[:-2, 1:-1] + p[2:-2, 2:]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(got, oracle, rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_dtypes(dtype):
    u = (np.random.default_rng(5).normal(size=(5, 9)) * 50).astype(dtype)
    got, want = (k(u, boundary="extrapolate") for k in REACH)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_in_place_snapshot():
    u = np.random.default_rng(6).normal(size=(5, 8))
    want = GRAD2[0](u, boundary="extrapolate")
    GRAD2[0](u, boundary="extrapolate", out=u)
    np.testing.assert_array_equal(u, want)


def test_staggered_field_extrapolates_from_its_own_ends():
    @sp.stencil
    def faces(c, f):
        return c + f[1] - f[-1]

    c, f = np.zeros(5), np.arange(6.0) ** 2
    got = faces(c, f, boundary="extrapolate")
    assert got[0] == f[1] - (3 * f[0] - 3 * f[1] + f[2])
    assert got[4] == f[5] - f[3]


def test_too_short_and_bool_are_clear_errors():
    with pytest.raises(sp.StencilCallError, match="at least 3 points"):
        CENTRED[0](np.ones(2), boundary="extrapolate")
    with pytest.raises(sp.StencilCallError, match="at least 3 points"):
        CENTRED[1](np.ones((4, 2)), boundary="extrapolate")

    @sp.stencil
    def flag(b):
        return b[1] and b[-1]

    with pytest.raises(sp.StencilCallError, match="bool"):
        flag(np.ones(5, bool), boundary="extrapolate")


@pytest.mark.parametrize("chunks", [(1, 4, 5), (3, 1, 12), (2, 3, 2), (3, 10, 12)])
@pytest.mark.parametrize("modes", [{0: "extrapolate", 1: "wrap"}, "extrapolate",
                                   {0: "edge", 1: "extrapolate"}])
def test_dask_chunked_along_extrapolated_axes_equals_eager(chunks, modes):
    """Chunks along an extrapolated axis stay chunks (the ghosts are computed lazily from
    the end entries); chunks narrower than the halo, single-point chunks, temporaries read
    at offsets: the lazy result equals the eager compiled call and the reference bit for bit."""
    da = pytest.importorskip("dask.array")
    u = np.random.default_rng(7).normal(size=(3, 10, 12))
    for kernels in (GRAD2, NESTED):
        lazy = kernels[0](da.from_array(u, chunks=chunks), boundary=modes)
        assert isinstance(lazy, da.Array)
        if chunks[1] < 10:
            assert len(lazy.chunks[1]) > 1                  # not merged into one chunk
        eager = kernels[0](u, boundary=modes)
        np.testing.assert_array_equal(lazy.compute(), eager)
        np.testing.assert_array_equal(kernels[1](u, boundary=modes), eager)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("chunk", [1, 2, 3, 4])
def test_dask_reach_beyond_one_point_and_dtypes(dtype, chunk):
    """Halo (2, 3): ghosts two and three points out on either side of a chunked axis, in the
    field's own dtype (the polyfit parabola is the independent oracle for float64)."""
    da = pytest.importorskip("dask.array")
    u = (np.random.default_rng(8).normal(size=(2, 11)) * 50).astype(dtype)
    lazy = REACH[0](da.from_array(u, chunks=(1, chunk)), boundary="extrapolate")
    eager = REACH[0](u, boundary="extrapolate")
    assert lazy.dtype == eager.dtype
    np.testing.assert_array_equal(lazy.compute(), eager)
    if dtype is np.float64:
        p = _polyfit_extend(u, 1, 2, 3)
        oracle = p[:, :-5] + 10.0 * p[:, 5:] - p[:, 3:-2]
        np.testing.assert_allclose(eager, oracle, rtol=1e-12, atol=1e-10)


def test_dask_staggered_field_chunked():
    da = pytest.importorskip("dask.array")

    @sp.stencil
    def faces(c, f):
        return c + f[1] - f[-1]

    c, f = np.random.default_rng(9).normal(size=(2, 13)), np.arange(28.0).reshape(2, 14) ** 2
    lazy = faces(da.from_array(c, chunks=(2, 4)), da.from_array(f, chunks=(2, 5)),
                 boundary="extrapolate")
    np.testing.assert_array_equal(lazy.compute(), faces(c, f, boundary="extrapolate"))
