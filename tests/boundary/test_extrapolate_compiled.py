"""Boundary "extrapolate" lowered into the compiled kernels (``codegen/boundary.py``: the
ghost of a read outside is the parabola through the end's three entries, combined in the
kernel's remapped points).  Three answers must agree at every point: the compiled kernel,
the numpy reference backend, and the old ghost-strip method (``_ghost_strips.py``: the
kernel run with "edge", then thin strips recomputed from extrapolated windows under
"valid"), for 1-D, 2-D and 3-D, halos of 1 and 2, and mixed modes per axis."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp

from ._ghost_strips import ghost_strips


def _both(fn, dims=None):
    return sp.stencil(fn, dims=dims), sp.stencil(fn, dims=dims, backend="numpy")


def _d1_h1(u):
    return (u[1] - u[-1]) * 0.5 + 0.25 * u


def _d1_h2(u):
    return u[-2] - 2.0 * u[1] + 3.0 * u[2] + u[-1]


def _d2_h1(u, w):
    return (u[1, 0] - u[-1, 0]) * w + (u[0, 1] - 2.0 * u + u[0, -1])


def _d2_h2(u, w):                   # a temporary read at offsets: its ghosts come from the
    g = u[1, 0] - u[-1, 0] + 0.5 * u[0, 2]      # extended inputs, as the reference's box
    return g[1, 0] * w - g[-1, 0] + u[0, -2] - g[0, 1]


def _d3(u, v):
    return (u[1, 0, 0] - u[-1, 0, 0]) + 2.0 * (v[0, 1, 0] - v[0, -2, 0]) \
        + 3.0 * (u[0, 0, 2] - u[0, 0, -1]) + v[1, 1, -1]


D1_H1, D1_H2, D2_H1, D2_H2, D3 = (_both(f) for f in (_d1_h1, _d1_h2, _d2_h1, _d2_h2, _d3))
X = "extrapolate"


def _check(pair, values, boundary, rtol=1e-12, atol=1e-12):
    compiled, reference = pair
    got = compiled(**values, boundary=boundary)
    again = compiled(**values, boundary=boundary)             # the prepared (fast) call
    want = reference(**values, boundary=boundary)
    strips = ghost_strips(compiled, values, boundary)
    for a, b in ((got, want), (got, strips), (again, got)):
        a, b = (a,) if not isinstance(a, tuple) else a, (b,) if not isinstance(b, tuple) else b
        for x, y in zip(a, b):
            assert x.shape == y.shape and x.dtype == y.dtype
            np.testing.assert_allclose(x, y, rtol=rtol, atol=atol)
    return got


def _rng(seed):
    return np.random.default_rng(seed)


@pytest.mark.parametrize("pair", [D1_H1, D1_H2], ids=["halo1", "halo2"])
@pytest.mark.parametrize("n", [3, 4, 7, 64, 203])
def test_1d(pair, n):
    _check(pair, {"u": _rng(n).normal(size=n) * 3.0 + 1.0}, X)


def test_1d_batched_and_float32():
    u = _rng(1).normal(size=(5, 37)).astype(np.float32)
    _check(D1_H2, {"u": u}, X, rtol=2e-5, atol=2e-5)


MODES_2D = [X, {0: X, 1: "wrap"}, {0: "wrap", 1: X}, {0: X, 1: "edge"},
            {0: "reflect", 1: X}, {0: X, 1: "constant"}, {0: "constant", 1: X},
            {0: X, 1: "fill"}, {0: "valid", 1: X}, {0: "symmetric", 1: X}]


@pytest.mark.parametrize("pair", [D2_H1, D2_H2], ids=["halo1", "halo2"])
@pytest.mark.parametrize("modes", MODES_2D, ids=str)
@pytest.mark.parametrize("shape", [(3, 3), (6, 8), (40, 67)])
def test_2d_mixed_modes(pair, modes, shape):
    if shape == (3, 3) and ("fill" in str(modes) or "valid" in str(modes)):
        pytest.skip("3 points are fewer than the halo needs under 'fill'/'valid'")
    u = _rng(sum(shape)).normal(size=shape)
    w = _rng(2).normal(size=(shape[0], 1))          # a per-row field, broadcast along axis 1
    _check(pair, {"u": u, "w": w}, modes)


def test_2d_batched_threads_and_out():
    u = _rng(3).normal(size=(4, 33, 150))
    w = _rng(4).normal(size=(33, 1))
    got = _check(D2_H2, {"u": u, "w": w}, {0: X, 1: "wrap"})
    out = np.empty_like(got)
    D2_H2[0](u, w, boundary={0: X, 1: "wrap"}, out=out, threads=2)
    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("modes", [X, {0: X, 1: "wrap", 2: X}, {0: "edge", 1: X, 2: "wrap"},
                                   {0: "wrap", 1: "wrap", 2: X}, {0: X, 1: "constant", 2: X}],
                         ids=str)
def test_3d(modes):
    u, v = _rng(5).normal(size=(6, 7, 9)), _rng(6).normal(size=(6, 7, 9))
    _check(D3, {"u": u, "v": v}, modes)


def test_integers_and_float32():
    u = (_rng(7).normal(size=(9, 12)) * 40).astype(np.int64)
    w = np.ones((9, 1), np.int64)
    _check(D2_H1, {"u": u, "w": w}, X, rtol=0, atol=0)
    uf = _rng(8).normal(size=(9, 12)).astype(np.float32)
    _check(D2_H2, {"u": uf, "w": w.astype(np.float32)}, {0: X, 1: "wrap"}, rtol=1e-5, atol=1e-5)


def test_ghost_values_against_the_formula():
    """Independent of every backend: the ghosts of a quadratic are the quadratic."""
    @sp.stencil
    def ghosts(u):
        return u[-2, 0] + 10.0 * u[0, 2]

    i, j = np.meshgrid(np.arange(6.0), np.arange(7.0), indexing="ij")
    u = 2.0 * i ** 2 - 3.0 * i + 0.5 * j ** 2 + i * j          # quadratic along each axis
    want = (2.0 * (i - 2) ** 2 - 3.0 * (i - 2) + 0.5 * j ** 2 + (i - 2) * j) \
        + 10.0 * (2.0 * i ** 2 - 3.0 * i + 0.5 * (j + 2) ** 2 + i * (j + 2))
    np.testing.assert_allclose(ghosts(u, boundary=X), want, rtol=1e-13, atol=1e-11)


def _short(u, c):
    return u[0, 1] - u[0, -1] + c


SHORT = _both(_short)


def test_short_field_read_only_inside_is_not_extrapolated():
    """A field of 2 points along an extrapolated axis that the stencil never reads beyond
    its ends there: allowed, and its clamped ghost indices never load outside it."""
    u, c = _rng(9).normal(size=(2, 8)), _rng(10).normal(size=(2, 8))
    got = _check(SHORT, {"u": u, "c": c}, X)
    np.testing.assert_allclose(got, 2.0 * np.gradient(u, axis=1, edge_order=2) + c, rtol=1e-12)


def test_the_kernel_runs_the_edges_itself():
    """The call is prepared (the fast path applies): one kernel computes every point."""
    from stencilpy.runtime.fastpath import PreparedCall
    compiled = sp.stencil(_d2_h1)
    u, w = _rng(11).normal(size=(20, 30)), _rng(12).normal(size=(20, 1))
    first = compiled(u, w, boundary=X)
    assert [type(p) for p in compiled._fast.prepared.values()] == [PreparedCall]
    np.testing.assert_array_equal(compiled(u, w, boundary=X), first)


def _materialised(u, w):            # an expensive temporary: kept in a row buffer, its stage
    g = sp.exp(0.1 * u) * sp.sin(u[1, 0]) + sp.cos(u[0, -1]) * sp.sqrt(1.0 + u * u)   # runs
    return g[1, 0] - g[-1, 0] + w * g[0, 1] + g[0, -1] - u                # outside the domain


MATERIALISED = _both(_materialised)


@pytest.mark.parametrize("modes", [X, {0: X, 1: "wrap"}, {0: "edge", 1: X}], ids=str)
def test_materialised_temporary_outside_the_domain(modes):
    """The temporary's stage computes points outside the domain, where even its reads at
    offset 0 are extrapolated (the outputs' stage skips the ghost test for those)."""
    u = _rng(13).normal(size=(2, 9, 23))
    w = _rng(14).normal(size=(9, 1))
    assert "stage 0 (temporary g)" in sp.inspect(MATERIALISED[0], "analysis", u, w,
                                                  boundary=modes)
    _check(MATERIALISED, {"u": u, "w": w}, modes, rtol=1e-11, atol=1e-11)


def _faces(c, f):                   # f: faces along axis 0 (n + 1 rows), read beyond both ends
    return c + f[1, 0] - f[-1, 0] + 0.5 * f[2, 1]


FACES = _both(_faces)


@pytest.mark.parametrize("modes", [X, {0: X, 1: "wrap"}], ids=str)
def test_staggered_field_along_an_outer_axis(modes):
    """Ghost rows of a field one row longer than the domain come from its own ends."""
    c, f = _rng(15).normal(size=(7, 12)), _rng(16).normal(size=(8, 12))
    got = _check(FACES, {"c": c, "f": f}, modes)
    ghost = 3 * f[0] - 3 * f[1] + f[2]                        # f[-1], from f's own first rows
    np.testing.assert_allclose(got[0, 3:9], c[0, 3:9] + f[1, 3:9] - ghost[3:9]
                               + 0.5 * f[2, 4:10], rtol=1e-12)
