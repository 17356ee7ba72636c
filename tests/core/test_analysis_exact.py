"""The analysis' exact integer fast path (``extents._span_exact``) agrees with the general
sympy analyser on every stencil of the corpora, and a cold analysis of integer offsets
does not import sympy."""

import subprocess
import sys

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.analysis import analyse, extents
from stencilpy.analysis.extents import output_accesses, stage_accesses
from stencilpy.mpdata.kernels_g import general_kernels

import _support


def _corpus() -> dict:
    from tests.gpu.corpus import stencils
    found = dict(stencils())
    for name in ("laplacian", "hdiff"):
        found[f"_support.{name}"] = sp.stencil(getattr(_support, name))
    for ndim in (1, 2, 3):
        for gauge in (False, True):
            for third in ((False, True) if ndim < 3 else (False,)):
                gk = general_kernels(ndim, gauge, third)
                for field in ("donor", "centred", "antidiff", "beta", "limit"):
                    found[f"general{ndim}d.{field}.{int(gauge)}{int(third)}"] = getattr(gk, field)
    return found


CORPUS = _corpus()


def _offset_sets(ir):
    """Every set of offsets the analysis spans: per stage and per output."""
    sets = [reads for stage in stage_accesses(ir) for reads in stage.reads.values()]
    for k in range(len(ir.returns)):
        sets += list(output_accesses(ir, k).values())
    return [tuple(sorted(s)) for s in sets]


def test_the_corpus_is_large():
    assert len(CORPUS) > 60


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_exact_spans_agree_with_sympy(name):
    ir = CORPUS[name].ir
    for offsets in _offset_sets(ir):
        assert extents._all_int(offsets)
        assert extents._span_exact(offsets, ir.ndim) == extents._span_sympy(offsets, ir.ndim)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_whole_plan_agrees_with_sympy(name, monkeypatch):
    ir = CORPUS[name].ir
    extents._span.cache_clear()
    fast = analyse(ir)
    extents._span.cache_clear()
    monkeypatch.setattr(extents, "_all_int", lambda offsets: False)
    try:
        general = analyse(ir)
    finally:
        extents._span.cache_clear()
    assert fast == general


def test_non_integer_offsets_take_the_sympy_path():
    import sympy
    offsets = ((sympy.Integer(2), np.int64(-1)), (0, 3))
    assert not extents._all_int(offsets)
    assert extents._span(offsets, 2) == ((0, 2), (1, 3)) == \
        extents._span_exact(((2, -1), (0, 3)), 2)


def test_a_cold_analysis_does_not_import_sympy(tmp_path):
    script = tmp_path / "cold.py"
    script.write_text(
        "import sys\n"
        "import stencilpy as sp\n"
        "from stencilpy.analysis import analyse\n"
        "@sp.stencil\n"
        "def lap(u):\n"
        "    t = u[1, 0] + u[-1, 0]\n"
        "    return t[0, 1] + t[0, -1] - 4 * u\n"
        "plan = analyse(lap.ir)\n"
        "assert plan.halo == ((1, 1), (1, 1)), plan.halo\n"
        "print('sympy' in sys.modules)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         timeout=120, env={**__import__("os").environ,
                                           "STENCILPY_CACHE_DIR": str(tmp_path)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
