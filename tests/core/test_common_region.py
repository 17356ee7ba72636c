"""``@sp.stencil(regions="common")``: every output on the region where all outputs are
computable (one kernel per call, no per-output strips), checked against the default
per-output regions and against numpy slicing."""

import pickle

import numpy as np
import pytest

import stencilpy as sp

from _support import random_field


def _two(u):
    return u[1, 0] - u[-1, 0], u[0, 1] - 2.0 * u[0, -1]


own = sp.stencil(_two)
common = sp.stencil(_two, regions="common")
common_numpy = sp.stencil(_two, regions="common", backend="numpy")


def _by_slicing(u):
    """Both outputs on the common region [1, n-1) x [1, m-1)."""
    return (u[2:, 1:-1] - u[:-2, 1:-1], u[1:-1, 2:] - 2.0 * u[1:-1, :-2])


def test_valid_gives_every_output_the_common_shape():
    u = random_field((9, 7))
    assert [h for h in own.output_halos] == [((1, 1), (0, 0)), ((0, 0), (1, 1))]
    assert common.output_halos == (((1, 1), (1, 1)),) * 2
    for k in (common, common_numpy):
        got = k(u, boundary="valid")
        for g, want, big in zip(got, _by_slicing(u), own(u, boundary="valid")):
            assert g.shape == (7, 5)
            np.testing.assert_array_equal(g, want)
        np.testing.assert_array_equal(got[0], own(u, boundary="valid")[0][:, 1:-1])


def test_fill_sets_the_rest_of_every_output():
    u = random_field((6, 8), seed=3)
    a, b = common(u, boundary="fill", fill_value=-5.0)
    for out, want in zip((a, b), _by_slicing(u)):
        np.testing.assert_array_equal(out[1:-1, 1:-1], want)
        out[1:-1, 1:-1] = -5.0
        assert (out == -5.0).all()


def test_out_views_of_the_common_region():
    u = random_field((10, 6), seed=1)
    outs = (np.full((10, 6), np.nan), np.full((10, 6), np.nan))
    common(u, boundary="valid", out=tuple(o[1:-1, 1:-1] for o in outs))
    for o, want in zip(outs, _by_slicing(u)):
        np.testing.assert_array_equal(o[1:-1, 1:-1], want)
        assert np.isnan(o[0]).all() and np.isnan(o[:, -1]).all()


def test_bad_regions_value():
    with pytest.raises(sp.StencilError, match="regions='every'.*'own'.*'common'"):
        sp.stencil(_two, regions="every")


def test_pickling_keeps_regions():
    back = pickle.loads(pickle.dumps(common))
    assert back.regions == "common"
    assert back.output_halos == common.output_halos
