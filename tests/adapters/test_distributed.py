"""dask.distributed with process workers: stencils are pickled and rebuilt on the workers."""

from __future__ import annotations

import faulthandler
import pickle

import numpy as np
import pytest

import stencilpy as sp

from .stencils import hdiff, lopsided

da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")
xr = pytest.importorskip("xarray")
faulthandler.enable()

RNG = np.random.default_rng(3)
U = RNG.standard_normal((4, 29, 33))


def _local_stencil():
    @sp.stencil(dims=("y", "x"))
    def upwind(q, c):
        return q - c * (q[x] - q[x - 1]) if c > 0.0 else q - c * (q[x + 1] - q[x])
    return upwind


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as c:
        yield c


def test_pickle_by_reference_and_by_value():
    assert pickle.loads(pickle.dumps(hdiff)) is hdiff
    assert b"hdiff" in pickle.dumps(hdiff) and len(pickle.dumps(hdiff)) < 200
    local = _local_stencil()
    assert pickle.loads(pickle.dumps(local)) is local       # same process: the same object
    assert len(pickle.dumps(local)) > 200                    # carries the function by value


def test_module_level_stencil_on_process_workers(client):
    lazy = lopsided(da.from_array(U, chunks=(2, 8, 11)), da.from_array(U[0], chunks=(7, 9)),
                    boundary={0: "reflect", 1: "wrap"})
    got = client.compute(lazy).result()
    np.testing.assert_array_equal(got, lopsided(U, U[0], boundary={0: "reflect", 1: "wrap"}))


def test_local_stencil_rebuilt_on_workers(client):
    upwind = _local_stencil()
    q = xr.DataArray(U, dims=("t", "y", "x")).chunk({"t": 1, "x": 10})
    lazy = upwind(q, 0.3, boundary={"x": "periodic"})
    got = client.compute(lazy).result()
    xr.testing.assert_identical(got, upwind(q.compute(), 0.3, boundary={"x": "periodic"}))
    pids = client.run(lambda: __import__("os").getpid())
    assert len(pids) == 2
