"""PTX for the whole stencil corpus, validated by ptxas where it is installed (CI has no
GPU; the project's machines have ptxas).  ``sp.inspect(k, "ptx")`` works without a GPU."""

from __future__ import annotations

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.codegen.gpu.kernel import libdevice_name
from stencilpy.runtime.gpu import ptx as P
from stencilpy.runtime.gpu.ptx import GpuUnavailableError
from tests.gpu.corpus import example_args, mathy, stencils

CORPUS = stencils()
HAVE_PTXAS = P.ptxas_path() is not None
HAVE_LIBDEVICE = P.libdevice_path() is not None


def _modes(name: str, k) -> list:
    if name.startswith("mpdata"):
        return ["periodic"]
    modes = ["fill", "reflect"] if k.ndim != 2 else ["constant", "wrap"]
    if name != "corpus.bool_logic":                  # bool fields cannot be extrapolated
        modes.append("extrapolate" if k.ndim != 2 else "valid")
    return modes


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_ptx_for_corpus(name):
    k = CORPUS[name]
    args = example_args(k)
    if name in ("corpus.int_ops", "corpus.bool_logic"):
        args["fill_value"] = 1
    for mode in _modes(name, k):
        if mathy(k) and not HAVE_LIBDEVICE:
            with pytest.raises(GpuUnavailableError, match="libdevice"):
                sp.inspect(k, "ptx", boundary=mode, **args)
            continue
        text = sp.inspect(k, "ptx", boundary=mode, **args)
        entry = "stencil_gpu" if ".entry stencil_gpu(" in text else "sp_col_b0"   # staged
        assert f".entry {entry}(" in text and ".target sm_90" in text
        assert "call.uni" not in text.split(f".entry {entry}(")[1] or mathy(k)
        if HAVE_PTXAS:
            report = P.ptxas_check(text)
            assert f"Compiling entry function '{entry}'" in report


def test_register_window_shares_loads():
    """2-D Laplacian, 8 rows per thread: the fast path loads each of the 8 + 2 rows' centre
    once and the 8 rows' left/right neighbours: 26 loads, not 8 x 5 = 40."""
    k = CORPUS["corpus.lap3d"]
    lap2 = CORPUS["_corpus_laplacian.laplacian_2d"]
    text = sp.inspect(lap2, "ptx", np.zeros((40, 40)))
    loads = text.count("ld.global.nc.")
    # fast block (26) + the remapped slow path's five
    assert loads == 26 + 5, loads
    assert "ld.global.nc.f64" in text or "ld.global.nc.b64" in text
    assert sp.inspect(k, "ptx", np.zeros((8, 8, 8))).count("st.global") >= 2


def test_math_becomes_libdevice():
    assert libdevice_name("llvm.exp.f64") == "__nv_exp"
    assert libdevice_name("llvm.sin.f32") == "__nv_sinf"
    assert libdevice_name("atan2") == "__nv_atan2"
    assert libdevice_name("tanf") == "__nv_tanf"
    assert libdevice_name("llvm.sqrt.f64") is None       # NVPTX's own sqrt.rn
    assert libdevice_name("llvm.floor.f32") is None


@pytest.mark.skipif(not HAVE_LIBDEVICE, reason="no libdevice on this machine")
def test_math_kernel_links_only_what_it_calls():
    k = CORPUS["corpus.math_all"]
    text = sp.inspect(k, "ptx", **example_args(k, dtype=np.float32))
    assert ".visible .func" not in text           # libdevice internalised, unused code gone
    assert "__nv_" not in text.split(".entry")[0] or ".func" in text
    assert len(text) < 400_000


def test_no_libdevice_is_a_clear_error(monkeypatch):
    k = CORPUS["corpus.math_all"]
    monkeypatch.setattr(P, "libdevice_path", lambda: None)
    P._libdevice_bytes.cache_clear()
    P._PTX.clear()
    monkeypatch.setenv("STENCILPY_CACHE", "0")
    try:
        with pytest.raises(GpuUnavailableError, match="STENCILPY_LIBDEVICE"):
            sp.inspect(k, "ptx", **example_args(k, seed=5))
    finally:
        P._libdevice_bytes.cache_clear()
    # a kernel without math functions never needs libdevice
    lap = CORPUS["_corpus_laplacian.laplacian_2d"]
    assert ".entry" in sp.inspect(lap, "ptx", np.zeros((9, 11)), boundary="edge")


def test_ptx_is_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path))
    from stencilpy.runtime import cache as disk
    if hasattr(disk.default_cache, "cache_clear"):
        disk.default_cache.cache_clear()
    P._PTX.clear()
    lap = CORPUS["_corpus_laplacian.laplacian_2d"]
    from stencilpy.inspection import gpu_example_spec
    spec = gpu_example_spec(lap, (np.zeros((9, 13)),), {})
    key, text = P.ptx_for(spec)
    assert any(tmp_path.rglob(f"{key}*"))
    P._PTX.clear()
    calls = []
    monkeypatch.setattr(P, "compile_ptx", lambda *a: calls.append(a))
    assert P.ptx_for(spec) == (key, text) and not calls


def test_inspect_ptx_stage_listed():
    from stencilpy.inspection import STAGES
    assert "ptx" in STAGES


def test_info_reports_the_gpu_toolchain(capsys):
    from stencilpy import cli
    assert cli.main(["info"]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("gpu ")][0]
    assert "libdevice" in line and "ptxas" in line
    if HAVE_LIBDEVICE:
        assert P.libdevice_path() in line
