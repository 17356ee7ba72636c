"""The compile driver (``stencilpy/compile.py``): each stage is made once, by the driver
alone, and ``sp.inspect`` and ``STENCILPY_DUMP`` print the same stages."""

from __future__ import annotations

import ast
import contextlib
import io
from pathlib import Path

import numpy as np
import pytest

import stencilpy as sp
from stencilpy import compile as driver
from stencilpy.ir import format_stencil
from stencilpy.passes.pipeline import run_definition_passes

RUNTIME = Path(sp.__file__).parent / "runtime"


def hdiff(u, c):
    lap = 4.0 * u[0, 0] - (u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1])
    flx = lap[1, 0] - lap[0, 0]
    if flx * (u[1, 0] - u[0, 0]) > 0.0:
        flx = 0.0
    fly = lap[0, 1] - lap[0, 0]
    if fly * (u[0, 1] - u[0, 0]) > 0.0:
        fly = 0.0
    return u[0, 0] - c * (flx[0, 0] - flx[-1, 0] + fly[0, 0] - fly[0, -1])


def hdiff_numpy(u, c):
    """hdiff by hand, on the interior (2 points off every edge)."""
    lap = 4.0 * u[1:-1, 1:-1] - (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2])
    flx = lap[1:, 1:-1] - lap[:-1, 1:-1]
    flx = np.where(flx * (u[2:-1, 2:-2] - u[1:-2, 2:-2]) > 0.0, 0.0, flx)
    fly = lap[1:-1, 1:] - lap[1:-1, :-1]
    fly = np.where(fly * (u[2:-2, 2:-1] - u[2:-2, 1:-2]) > 0.0, 0.0, fly)
    return u[2:-2, 2:-2] - c * (flx[1:] - flx[:-1] + fly[:, 1:] - fly[:, :-1])


def test_define_makes_the_decoration_stages_and_leaves_the_analysis_for_first_use():
    definition = driver.define(hdiff, ("x", "y"))
    assert definition.parsed.dims == definition.ir.dims == ("x", "y")
    assert definition.ir == run_definition_passes(definition.parsed)
    assert "plan" not in vars(definition)                   # no sympy at decoration
    assert definition.plan.halo == ((2, 2), (2, 2))
    assert definition.plan is definition.plan                # analysed once


def test_the_call_stage_recomputes_cheap_temporaries_and_is_analysed_again():
    k = sp.stencil(hdiff)
    u = np.random.default_rng(1).random((12, 14))
    np.testing.assert_allclose(k(u, 0.025)[2:-2, 2:-2], hdiff_numpy(u, 0.025), rtol=1e-13)
    (kernel,) = k.compiler.kernels.values()
    spec = kernel.spec
    # the definition buffers lap and both fluxes; the kernel buffers lap only
    assert [s.target for s in k.plan.stages] == ["lap", "flx'1", "fly'1", None]
    assert spec.materialised == ("lap",)
    assert spec.plan.halo == k.plan.halo
    assert "c" not in {p.name for p in spec.stencil.params if p.subscripted}
    assert format_stencil(spec.stencil) == sp.inspect(k, "ir-call", u, 0.025)


def test_each_specialisation_is_compiled_once():
    k = sp.stencil(hdiff)
    u = np.random.default_rng(2).random((10, 10))
    k(u, 0.5), k(u, 0.25), k(u + 1, 0.5, boundary="valid")
    k(np.empty((20, 9))[:, :8], 0.5)                         # new shape and strides: same kernel
    assert len(k.compiler.kernels) == 2                      # "fill" and "valid"
    k(u.astype(np.float32), 0.5)
    assert len(k.compiler.kernels) == 3
    assert len({id(ir) for ir in k.compiler._call_ir.values()}) == 1   # one scalar set: c


def test_the_dump_prints_what_inspect_returns(monkeypatch):
    def d(u, w):
        g = u[1] - u[-1]
        return g[1] * w + g[-1]

    k = sp.stencil(d)
    u = np.arange(9.0)
    stages = ("ir", "analysis", "ir-call", "llvm")
    monkeypatch.setenv("STENCILPY_DUMP", ",".join(reversed(stages)) + ",unknown")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        k(u, 2.0)
        k(u, 3.0)                                            # no new kernel: nothing printed
    want = "".join(f"--- stencilpy {s}: d\n{sp.inspect(k, s, u, 2.0)}\n" for s in stages)
    assert printed.getvalue() == want


def test_inspect_binds_a_number_into_the_call_ir():
    def scaled(u, c):
        return c * u[1]

    k = sp.stencil(scaled)
    assert "return (c[0] * u[1])" in sp.inspect(k, "ir-call")               # every one an array
    assert "return (c * u[1])" in sp.inspect(k, "ir-call", np.zeros(4), 2.5)   # c a scalar


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


@pytest.mark.parametrize("module", ["execute", "fastpath", "launch", "overlap", "threads"])
def test_the_runtime_only_binds_and_executes(module):
    """The modules that run a call never re-enter the frontend, the passes, the analysis or
    the driver: their kernels come from ``compile.Compiler.kernel``."""
    imported = _imports(RUNTIME / f"{module}.py")
    banned = ("stencilpy.frontend", "stencilpy.passes", "stencilpy.analysis", "stencilpy.compile",
              "stencilpy.decorator")
    assert not {m for m in imported if m.startswith(banned)}
