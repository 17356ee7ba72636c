"""Dask arrays: lazy results, chunk by chunk, equal bit for bit to the eager call."""

from __future__ import annotations

import faulthandler

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.adapters.dask import index_map

from .stencils import (MODES, divergence, faces_and_cells, grad, gradient, hdiff, laplacian,
                       lopsided)

da = pytest.importorskip("dask.array")
faulthandler.enable()

RNG = np.random.default_rng(42)
U = RNG.standard_normal((3, 23, 31))
V = RNG.standard_normal((23, 31))


def _same(lazy, eager):
    assert isinstance(lazy, da.Array)
    got = lazy.compute()
    assert got.dtype == eager.dtype and got.shape == eager.shape
    np.testing.assert_array_equal(got, eager)


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_odd_chunks(mode):
    eager = laplacian(U, boundary=mode, fill_value=2.5)
    _same(laplacian(da.from_array(U, chunks=(2, 5, 7)), boundary=mode, fill_value=2.5), eager)
    # one chunk along the last axis: blocks run it with its own mode, no overlap there
    lazy = laplacian(da.from_array(U, chunks=(3, 6, 31)), boundary=mode, fill_value=2.5)
    assert len(lazy.chunks[2]) == 1
    _same(lazy, eager)


@pytest.mark.parametrize("mode", MODES)
def test_asymmetric_halo_with_temporary(mode):
    # t[0, -1] reads u[2, -1] and v[-1, 0]: nothing to the right along axis 1 (the halo was
    # ((1, 2), (1, 1)) while t's region was widened to contain the point itself)
    assert lopsided.halo == ((1, 2), (1, 0))
    eager = lopsided(U, V, boundary=mode, fill_value=-1.0)
    lazy = lopsided(da.from_array(U, chunks=(1, 4, 9)), da.from_array(V, chunks=(6, 5)),
                    boundary=mode, fill_value=-1.0)
    _same(lazy, eager)


def test_mixed_modes_and_numpy_field():
    boundary = {0: "reflect", 1: "wrap"}
    eager = lopsided(U, V, boundary=boundary)
    _same(lopsided(da.from_array(U, chunks=(3, 7, 8)), V, boundary=boundary), eager)
    boundary = {0: "valid", 1: "fill"}
    _same(lopsided(U, da.from_array(V, chunks=5), boundary=boundary),
          lopsided(U, V, boundary=boundary))


def test_chunks_smaller_than_halo_are_merged():
    u = RNG.standard_normal((17, 19))
    lazy = hdiff(da.from_array(u, chunks=(1, 2)), 0.1, boundary="wrap")
    assert min(lazy.chunks[0]) >= 2 and min(lazy.chunks[1]) >= 2
    _same(lazy, hdiff(u, 0.1, boundary="wrap"))


def test_halo_larger_than_the_array():
    u = RNG.standard_normal((2, 3))
    for mode in ("wrap", "reflect", "symmetric", "edge"):
        _same(hdiff(da.from_array(u, chunks=1), 0.2, boundary=mode), hdiff(u, 0.2, boundary=mode))


def test_batch_axes_chunked_freely_and_broadcast():
    lazy = laplacian(da.from_array(U, chunks=(1, 23, 31)), boundary="wrap")
    assert lazy.chunks == ((1, 1, 1), (23,), (31,))
    _same(lazy, laplacian(U, boundary="wrap"))
    v = V[None, :, :1]                       # broadcast along the batch and lon axes
    _same(lopsided(da.from_array(U, chunks=(2, 6, 7)), v, boundary="edge"),
          lopsided(U, v, boundary="edge"))


@pytest.mark.parametrize("mode", ["wrap", "edge", "fill", "valid", "symmetric"])
def test_staggered_faces(mode):
    f = RNG.standard_normal((4, 12))         # 12 faces for 11 cells, domain from domain=
    eager = divergence(f, domain=(4, 11), boundary=mode)
    _same(divergence(da.from_array(f, chunks=(3, 5)), domain=(4, 11), boundary=mode), eager)


def test_integer_and_float32_dtypes():
    i = RNG.integers(-100, 100, (9, 10)).astype(np.int32)
    _same(laplacian(da.from_array(i, chunks=4), boundary="fill", fill_value=0),
          laplacian(i, boundary="fill", fill_value=0))
    f = U[0].astype(np.float32)
    _same(laplacian(da.from_array(f, chunks=5), boundary="reflect"),
          laplacian(f, boundary="reflect"))


def test_several_outputs_and_out():
    lazy = grad(da.from_array(U, chunks=(2, 6, 6)), boundary="symmetric")
    assert isinstance(lazy, tuple) and len(lazy) == 2
    for got, want in zip(lazy, grad(U, boundary="symmetric")):
        _same(got, want)
    buf = np.empty_like(U)
    assert laplacian(da.from_array(U, chunks=7), boundary="wrap", out=buf) is buf
    np.testing.assert_array_equal(buf, laplacian(U, boundary="wrap"))


def test_errors_are_raised_when_building_the_graph():
    d = da.from_array(U, chunks=5)
    with pytest.raises(sp.StencilCallError, match="unknown boundary mode"):
        laplacian(d, boundary="circular")
    with pytest.raises(sp.StencilCallError, match="lazy array cannot be written"):
        laplacian(d, out=da.zeros_like(d))
    with pytest.raises(sp.StencilCallError, match="fill_value"):
        divergence(da.from_array(np.arange(6), chunks=2))


def test_index_map_matches_numpy_pad():
    for mode in ("edge", "reflect", "symmetric", "wrap"):
        got = index_map(3, 3, -7, 10, mode)
        assert got.tolist() == np.pad(np.arange(3), (7, 7), mode=mode).tolist()
    assert index_map(5, 4, -2, 6, "wrap").tolist() == [2, 3, 0, 1, 2, 3, 4, 1]


@pytest.mark.parametrize("mode", ["fill", "valid", "edge"])
@pytest.mark.parametrize("chunks", [(2, 5, 7), (3, 23, 6), (1, 6, 31), (3, 23, 31)])
def test_outputs_with_regions_of_their_own(mode, chunks):
    """Each output keeps its own region ("valid": its own shape) in every chunking."""
    lazy = gradient(da.from_array(U, chunks=chunks), boundary={"lat": mode, "lon": "wrap"})
    eager = gradient(U, boundary={"lat": mode, "lon": "wrap"})
    for got, want in zip(lazy, eager):
        _same(got, want)
    lazy = grad(da.from_array(U, chunks=chunks), boundary=mode, fill_value=0.5)
    for got, want in zip(lazy, grad(U, boundary=mode, fill_value=0.5)):
        _same(got, want)


@pytest.mark.parametrize("mode", ["fill", "valid"])
def test_staggered_outputs_with_regions_of_their_own(mode):
    f, c = RNG.standard_normal(41), RNG.standard_normal(40)
    eager = faces_and_cells(c, f, boundary=mode)
    assert [e.shape for e in eager] == ([(40,), (40,)] if mode == "fill" else [(39,), (38,)])
    for chunks in (5, 13, 41):
        lazy = faces_and_cells(da.from_array(c, chunks=chunks), da.from_array(f, chunks=chunks),
                               boundary=mode)
        for got, want in zip(lazy, eager):
            _same(got, want)
