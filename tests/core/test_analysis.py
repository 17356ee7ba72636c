"""The analysis (``stencilpy/analysis``): halos, per-field footprints, stages and their
regions, loop bounds with staggered fields, and ``sp.inspect(k, "analysis")``."""

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.analysis import Plan, StagePlan, analyse, describe
from stencilpy.analysis.extents import (access_extent, access_span, add_extents, materialised,
                                        stage_accesses, union_extents)

from _support import hdiff, laplacian
from ._util import assert_outputs, pair


def backward(u):
    return u[0] - u[-1]


def asymmetric(u, v):
    return u[2, -1] - u[0, 3] + v[-4, 0]


def chain(u):
    a = u[1, 0]
    b = a[1, 0] + a[0, -2]
    c = b[-1, 1] * 2
    return c + u


def upwind_flux_form(psi, c):
    f = c * psi[-1]                    # flux through the face left of each cell
    return psi - (f[1] - f)


def shifted_back(u):
    t = u[1]
    return t[-1]


def plan_of(f, **kw):
    return sp.stencil(f, **kw).plan


# -- halos -----------------------------------------------------------------------------------

@pytest.mark.parametrize("f, halo", [
    (laplacian, ((1, 1), (1, 1))),
    (backward, ((1, 0),)),
    (hdiff, ((2, 2), (2, 2))),
    (asymmetric, ((4, 2), (1, 3))),
    (chain, ((0, 1), (1, 1))),
    (upwind_flux_form, ((1, 1),)),
    (shifted_back, ((0, 0),)),        # out[i] = u[i]: reaches nowhere (was (0, 1))
])
def test_halo(f, halo):
    k = sp.stencil(f)
    assert k.halo == halo
    assert sp.stencil(f, backend="numpy").halo == halo
    assert all(type(x) is int for side in k.halo for x in side)


def test_halo_of_the_api_examples_with_dims():
    def ddlon(u, dlon):
        return (u[lon + 1] - u[lon - 1]) / (2.0 * dlon)  # noqa: F821
    k = sp.stencil(ddlon, dims=("lat", "lon"))
    assert k.halo == ((0, 0), (1, 1)) and k.dims == ("lat", "lon")
    assert sp.stencil(laplacian).dims == ("dim_0", "dim_1")


def test_field_footprints():
    p = plan_of(asymmetric)
    assert p.field_extents == (("u", ((0, 2), (1, 3))), ("v", ((4, 0), (0, 0))))
    assert p.field_extent("u") == ((0, 2), (1, 3))
    assert p.field_extent("missing") == ((0, 0), (0, 0))
    p = plan_of(hdiff)
    assert dict(p.field_extents) == {"u": ((2, 2), (2, 2)), "coeff": ((0, 0), (0, 0))}


def test_footprints_compose_signed_offsets():
    """A temporary read only above the point does not make its fields reach below it:
    in flux form, psi is read at i - 1 (through f) and i, never at i + 1."""
    p = plan_of(upwind_flux_form)
    assert dict(p.field_extents) == {"psi": ((1, 0),), "c": ((0, 1),)}
    assert p.halo == ((1, 1),)
    # t = u[1] read at t[-1] is u itself: t is computed on the output region shifted by -1
    assert plan_of(shifted_back).field_extents == (("u", ((0, 0),)),)
    assert plan_of(shifted_back).stages[0].region == ((1, -1),)


def test_flux_form_computes_every_cell_the_fields_allow():
    n = 9
    rng = np.random.default_rng(0)
    psi, c = rng.random(n), rng.random(n + 1)
    jit, ref = pair(upwind_flux_form)
    want = psi[1:] - (c[2:] * psi[1:] - c[1:-1] * psi[:-1])
    for k in (jit, ref):
        got = k(psi, c)
        assert np.isnan(got[0]) and not np.isnan(got[1:]).any()
        assert_outputs(got[1:], want)
        assert_outputs(k(psi, c, boundary="valid"), want)


# -- stages and regions ------------------------------------------------------------------------

def test_hdiff_stages_and_regions():
    p = plan_of(hdiff)
    assert [s.target for s in p.stages] == ["lap", "flx'1", "fly'1", None]
    lap, flx, fly, out = p.stages
    assert lap.region == ((1, 1), (1, 1)) and lap.inline == ()
    assert lap.reads == (("u", ((1, 1), (1, 1))),)
    assert flx.region == ((1, 0), (0, 0)) and flx.inline == ("flx",)
    assert flx.reads == (("lap", ((0, 1), (0, 0))), ("u", ((0, 1), (0, 0))))
    assert fly.region == ((0, 0), (1, 0)) and fly.inline == ("fly",)
    assert out.region == ((0, 0), (0, 0))
    assert out.read_extent("flx'1") == ((1, 0), (0, 0))
    assert out.read_extent("fly'1") == ((0, 0), (1, 0))
    assert out.read_extent("lap") is None


def test_chain_of_temporaries_grows_regions_backwards():
    p = plan_of(chain)
    regions = {s.target: s.region for s in p.stages}
    # b is read at (-1, 1) only: needed on the output region shifted by (-1, 1) (signed:
    # not grown to contain the point itself); a is read at (1, 0) and (0, -2) from there
    assert regions == {"a": ((1, 0), (1, 1)), "b": ((1, -1), (-1, 1)), None: ((0, 0), (0, 0))}
    assert "c" not in regions          # read only at offset 0: inline in the output stage
    assert plan_of(chain).field_extents == (("u", ((0, 1), (1, 1))),)
    assert p.stages[-1].inline == ("c",)


def zero_offset_temporaries(u):
    a = u * 2
    b = a + u[1, 1]
    return b * a


def test_temporaries_read_at_offset_zero_are_inline():
    p = plan_of(zero_offset_temporaries)
    assert len(p.stages) == 1 and p.stages[0].target is None
    assert p.stages[0].inline == ("a", "b")
    assert p.halo == ((0, 1), (0, 1))


def test_stage_accesses_and_materialised():
    k = sp.stencil(hdiff)
    assert materialised(k.ir) == ("lap", "flx'1", "fly'1")
    stages = stage_accesses(k.ir)
    assert stages[0].reads == {"u": {(0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)}}
    assert stages[-1].reads["flx'1"] == {(0, 0), (-1, 0)}


# -- extents with sympy ------------------------------------------------------------------------

@pytest.mark.parametrize("offsets, extent, span", [
    ({(0,)}, ((0, 0),), ((0, 0),)),
    ({(1,)}, ((0, 1),), ((-1, 1),)),
    ({(-2,), (3,)}, ((2, 3),), ((2, 3),)),
    ({(-2,), (-1,)}, ((2, 0),), ((2, -1),)),
    ({(1, 0), (-1, 2)}, ((1, 1), (0, 2)), ((1, 1), (0, 2))),
])
def test_access_extent_and_span(offsets, extent, span):
    ndim = len(next(iter(offsets)))
    assert access_extent(offsets, ndim) == extent
    assert access_span(offsets, ndim) == span


def test_extent_arithmetic():
    assert add_extents(((1, 0), (0, 2)), ((0, 1), (-1, 1))) == ((1, 1), (-1, 3))
    assert union_extents(((1, 0), (0, 2)), ((0, 1), (3, 1))) == ((1, 1), (3, 2))


# -- loop bounds -------------------------------------------------------------------------------

def staggered(psi, c):
    return c[1] * psi - c * psi[-1]


def test_output_region_with_staggered_fields():
    p = plan_of(staggered)
    assert p.field_extents == (("psi", ((1, 0),)), ("c", ((0, 1),)))
    assert p.output_region(0, 10, {"psi": 10, "c": 11}) == (1, 10)    # n + 1 faces
    assert p.output_region(0, 10, {"psi": 10, "c": 10}) == (1, 9)     # c loses the last
    assert p.output_region(0, 10, {"psi": 12, "c": 13}) == (1, 10)    # longer: domain limits
    assert p.output_region(0, 10, {"psi": 10}) == (1, 10)             # c broadcast
    assert p.output_region(0, 1, {"psi": 1, "c": 2}) == (1, 1)        # empty, never inverted


def test_output_region_2d():
    p = plan_of(asymmetric)
    assert p.output_region(0, 10, {"u": 10, "v": 10}) == (4, 8)
    assert p.output_region(1, 10, {"u": 10, "v": 10}) == (1, 7)
    assert p.output_region(1, 10, {"u": 13, "v": 10}) == (1, 10)


def test_plan_is_frozen_plain_data():
    p = plan_of(hdiff)
    assert isinstance(p, Plan) and all(isinstance(s, StagePlan) for s in p.stages)
    with pytest.raises(AttributeError):
        p.halo = ()

    def plain(x):
        if isinstance(x, (tuple, list)):
            return all(plain(y) for y in x)
        return x is None or type(x) in (int, str)
    assert plain(p.halo) and plain(p.field_extents) and plain(p.dims)
    assert all(plain((s.target, s.inline, s.region, s.reads)) for s in p.stages)
    assert analyse(sp.stencil(hdiff).ir) == p


# -- sp.inspect(k, "analysis") -----------------------------------------------------------------

def test_inspect_analysis_text():
    k = sp.stencil(hdiff)
    text = sp.inspect(k, "analysis")
    assert text == describe(k.plan)
    assert text.splitlines() == [
        "halo: ((2, 2), (2, 2))",
        "field u: extent ((2, 2), (2, 2))",
        "field coeff: extent ((0, 0), (0, 0))",
        "stage 0 (temporary lap): region = output region grown by ((1, 1), (1, 1))",
        "    reads u within ((1, 1), (1, 1))",
        "stage 1 (temporary flx'1): region = output region grown by ((1, 0), (0, 0)), inline flx",
        "    reads lap within ((0, 1), (0, 0))",
        "    reads u within ((0, 1), (0, 0))",
        "stage 2 (temporary fly'1): region = output region grown by ((0, 0), (1, 0)), inline fly",
        "    reads lap within ((0, 0), (0, 1))",
        "    reads u within ((0, 0), (0, 1))",
        "stage 3 (outputs): region = output region grown by ((0, 0), (0, 0))",
        "    reads coeff within ((0, 0), (0, 0))",
        "    reads flx'1 within ((1, 0), (0, 0))",
        "    reads fly'1 within ((0, 0), (1, 0))",
        "    reads u within ((0, 0), (0, 0))",
        "loop bounds dim_0 ('fill'/'valid'): 2 <= i0 < Min(L_coeff_dim_0, N_dim_0, L_u_dim_0 - 2)",
        "loop bounds dim_0 (padding modes): 0 <= i0 < N_dim_0",
        "loop bounds dim_1 ('fill'/'valid'): 2 <= i1 < Min(L_coeff_dim_1, N_dim_1, L_u_dim_1 - 2)",
        "loop bounds dim_1 (padding modes): 0 <= i1 < N_dim_1",
    ]


def test_inspect_analysis_with_named_dims_and_staggering():
    k = sp.stencil(staggered, dims=("x",))
    text = sp.inspect(k, "analysis")
    assert "halo: ((1, 1),)" in text
    assert "field psi: extent ((1, 0),)" in text and "field c: extent ((0, 1),)" in text
    assert "loop bounds x ('fill'/'valid'): 1 <= i0 < Min(" in text
    assert "L_c_x - 1" in text and "L_psi_x" in text and "N_x" in text


def test_chain_of_temporaries_valid_region_against_numpy():
    """chain(u) is 2 * (u[i+1, j+1] + u[i, j-1]) + u[i, j]: the temporaries are computed on
    exactly the points the output reads, so the valid output is u's interior by the halo
    ((0, 1), (1, 1)) (until the regions were exact: ((0, 2), (2, 1)), two columns and a row
    lost that the stencil can compute)."""
    u = np.random.default_rng(1).random((9, 11))
    want = 2 * (u[1:, 2:] + u[:-1, :-2]) + u[:-1, 1:-1]
    jit, ref = pair(chain)
    for k in (jit, ref):
        assert_outputs(k(u, boundary="valid"), want)
        filled = k(u)
        assert np.isnan(filled[-1]).all() and np.isnan(filled[:, [0, -1]]).all()
        assert_outputs(filled[:-1, 1:-1], want)


# -- exact regions: signed shifts and per-output footprints --------------------------------------

def two_reaches(u, v):
    t = u[2, 0] * v[0, -1]
    return t[-1, 0], u[0, 1] - t[1, 1]


def test_shifted_temporary_region_and_per_output_footprints():
    """t is read at (-1, 0) and (1, 1): needed on the output region moved by -1..1 along
    axis 0 and 0..1 along axis 1 (not grown to contain the point: lo of axis 1 is -0)."""
    p = plan_of(two_reaches)
    assert {s.target: s.region for s in p.stages} == {"t": ((1, 1), (0, 1)), None: ((0, 0), (0, 0))}
    assert p.output_extents == ((("u", ((0, 1), (0, 0))), ("v", ((1, 0), (1, 0)))),
                                (("u", ((0, 3), (0, 1))), ("v", ((0, 1), (0, 0)))))
    assert dict(p.field_extents) == {"u": ((0, 3), (0, 1)), "v": ((1, 1), (1, 0))}
    assert not p.uniform and plan_of(laplacian).uniform
    assert p.output_region(0, 10, {"u": 10, "v": 10}, 0) == (1, 9)
    assert p.output_region(0, 10, {"u": 10, "v": 10}, 1) == (0, 7)
    assert p.output_region(0, 10, {"u": 10, "v": 10}) == (1, 7)       # every output
    text = describe(p)
    assert "output 0: reads u ((0, 1), (0, 0)), v ((1, 0), (1, 0))" in text
    assert "output 1: reads u ((0, 3), (0, 1)), v ((0, 1), (0, 0))" in text
    assert "output 0" not in describe(plan_of(hdiff))
