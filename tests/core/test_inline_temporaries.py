"""``passes/inline_temporaries.py``: cheap temporaries read at offsets are recomputed at
their shifted reads; expensive ones stay buffered; results do not change."""

import itertools

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.analysis import analyse
from stencilpy.analysis.extents import materialised
from stencilpy.frontend import parse_stencil
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil
from stencilpy.ir.verify import verify
from stencilpy.passes.eliminate_dead import eliminate_dead
from stencilpy.passes.inline_temporaries import INLINE_BUDGET, cost, inline_temporaries, shift
from stencilpy.passes.pipeline import run_definition_passes

from _support import hdiff


def expensive(u):
    t = sp.exp(u) / (1.0 + u * u)
    return t[1, 0] + t[-1, 0] + t[0, 1] + t[0, -1]


def chain(u):
    a = u[1] * 2.0
    b = a[1] - a[-1]
    return b[1] + b


def ir_of(fn):
    return run_definition_passes(parse_stencil(fn))


def run(stencil):
    return eliminate_dead(inline_temporaries(stencil))


def test_cheap_fluxes_are_recomputed_and_the_laplacian_stays_buffered():
    s = run(ir_of(hdiff))
    verify(s, straight_line=True, ssa=True)
    assert materialised(s) == ("lap",)
    assert analyse(s).halo == analyse(ir_of(hdiff)).halo


def test_expensive_temporaries_stay():
    s = ir_of(expensive)
    assert cost(s.body[-1].value) * 3 > INLINE_BUDGET
    assert run(s) is s or format_stencil(run(s)) == format_stencil(s)


def test_chains_inline_from_the_last_reader_back():
    s = run(ir_of(chain))
    verify(s, straight_line=True, ssa=True)
    assert materialised(s) == ()
    text = format_stencil(s)
    assert "(u[3] * 2.0) - a[0]" in text           # b[1] = a[2] - a[0]; a[2] = u[3] * 2


def test_budget_zero_changes_nothing():
    s = ir_of(hdiff)
    assert inline_temporaries(s, budget=0) is s


def test_shift_moves_every_read():
    e = N.BinOp("+", N.FieldAccess("u", (1, 0)), N.FieldAccess("t", (0, -2)))
    moved = shift(e, (-1, 3))
    assert [n.offset for n in N.walk(moved) if isinstance(n, N.FieldAccess)] == [(0, 3), (-1, 1)]


@pytest.mark.parametrize("mode", ["fill", "valid", "wrap", "edge", "reflect", "symmetric",
                                  "constant"])
def test_compiled_hdiff_equals_the_reference(mode):
    k, ref = sp.stencil(hdiff), sp.stencil(hdiff, backend="numpy")
    u = np.random.default_rng(3).uniform(-1, 1, (3, 23, 19))
    got, want = k(u, 0.025, boundary=mode), ref(u, 0.025, boundary=mode)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15, equal_nan=True)


@pytest.mark.parametrize("m0, m1", list(itertools.product(["edge", "wrap", "fill"], repeat=2)))
def test_compiled_chain_equals_the_reference(m0, m1):
    def chain2(u, v):
        a = u[1, 0] * v
        b = a[0, 1] - a[-1, 0]
        return b[1, -1] + b + a

    k, ref = sp.stencil(chain2), sp.stencil(chain2, backend="numpy")
    u, v = (np.random.default_rng(s).uniform(-1, 1, (9, 11)) for s in (1, 2))
    boundary = {0: m0, 1: m1}
    np.testing.assert_allclose(k(u, v, boundary=boundary), ref(u, v, boundary=boundary),
                               rtol=1e-13, atol=1e-15, equal_nan=True)
