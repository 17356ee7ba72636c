"""The compiled backend runs column stencils (codegen/columns.py) and agrees with the numpy
reference and with hand-written loops."""

import numpy as np
import pytest

import stencilpy as sp
from tests.columns import test_semantics as S

rng = np.random.default_rng(3)


def compiled(k):
    return sp.stencil(k.pyfunc, dims=k.dims_argument, backend="llvm")


def test_thomas_compiled_against_loop():
    k = compiled(S.thomas)
    for shape in [(9, 4, 5), (1, 3, 2), (2, 3, 17)]:
        a, b, c, d = S._system(shape)
        np.testing.assert_allclose(k(a, b, c, d, check=True), S.thomas_loop(a, b, c, d),
                                   rtol=1e-13)


@pytest.mark.parametrize("mode", ["wrap", "edge", "reflect", "symmetric"])
def test_modes_compiled(mode):
    k = compiled(S.smoothed_running)
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    got = k(u, w, boundary={"lev": "edge", "lat": mode, "lon": mode}, check=True)
    np.testing.assert_allclose(got, S.smoothed_running_loop(u, w, mode, "edge"), rtol=1e-13)


def test_fill_valid_out_batch_scalars_compiled():
    k = compiled(S.smoothed_running)
    u, w = rng.random((6, 7, 8)), rng.random((6, 7, 8))
    ref = S.smoothed_running(u, w)
    np.testing.assert_array_equal(np.isnan(k(u, w)), np.isnan(ref))
    np.testing.assert_allclose(k(u, w), ref, rtol=1e-13)
    np.testing.assert_allclose(k(u, w, boundary="valid"),
                               S.smoothed_running(u, w, boundary="valid"), rtol=1e-13)
    t = compiled(S.thomas)
    a, b, c, d = S._system((5, 3, 4))
    d2 = d.copy()
    assert t(a, b, c, d2, out=d2) is d2
    np.testing.assert_allclose(d2, S.thomas_loop(a, b, c, d), rtol=1e-13)
    batch = np.stack([d, 2 * d])
    np.testing.assert_allclose(t(a, b, c, batch)[1], 2 * S.thomas_loop(a, b, c, d), rtol=1e-13)


def test_examples_on_the_reference_backend():
    """tests/test_examples.py runs the column examples compiled; here, the numpy reference."""
    from tests.test_examples import load
    for name in ["tridiagonal", "geopotential", "omega", "column_integral", "first_level"]:
        module = load(name)
        for attr in dir(module):
            k = getattr(module, attr)
            if isinstance(k, sp.Stencil):
                assert k.backend == "llvm"
                setattr(module, attr, sp.stencil(k.pyfunc, dims=k.dims_argument,
                                                 backend="numpy"))
        results = module.main()
        for case, (got, want) in results.items():
            np.testing.assert_allclose(got, want, rtol=1e-12,
                                       atol=1e-12 * np.max(np.abs(want)), err_msg=case)


def test_xarray_and_dask_compiled():
    xr = pytest.importorskip("xarray")
    pytest.importorskip("dask.array")
    k = compiled(S.thomas)
    a, b, c, d = S._system((6, 5, 4))
    want = S.thomas_loop(a, b, c, d)
    arrays = [xr.DataArray(x.transpose(1, 2, 0), dims=("lat", "lon", "lev")) for x in (a, b, c, d)]
    np.testing.assert_allclose(k(*arrays).values.transpose(2, 0, 1), want, rtol=1e-13)
    lazy = k(*[x.chunk({"lat": 2, "lev": 3}) for x in arrays])
    np.testing.assert_allclose(lazy.compute().values.transpose(2, 0, 1), want, rtol=1e-13)


def test_integer_and_bool_columns_compiled():
    @sp.stencil(dims=("lev", "x"))
    def count_wet(wet):
        with sp.forward("lev"):
            with sp.levels(0, 1):
                n = 1 if wet else 0
            with sp.levels(1, None):
                n = n[lev - 1] + (1 if wet else 0)
        return n, n > 2
    wet = rng.random((7, 5)) > 0.4
    n, many = count_wet(wet, check=True)
    np.testing.assert_array_equal(n, np.cumsum(wet, axis=0))
    np.testing.assert_array_equal(many, np.cumsum(wet, axis=0) > 2)
