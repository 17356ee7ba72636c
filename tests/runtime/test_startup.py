"""Start-up cost: what a fresh process imports for ``import stencilpy``, for decorating a
stencil, and for a first call that finds everything in the cache.  (The timings
themselves are measured by ``python -m stencilpy.bench.latency``.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from stencilpy.runtime import loader

HEAVY = ("sympy", "xarray", "dask", "distributed", "matplotlib", "netCDF4", "h5netcdf",
         "llvmlite.binding", "llvmlite.ir", "scipy", "pandas")

SCRIPT = r'''
import json, sys
import numpy as np
import stencilpy as sp
seen = {"import": sorted(m for m in HEAVY if m in sys.modules)}

@sp.stencil
def laplacian(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]

seen["decorate"] = sorted(m for m in HEAVY if m in sys.modules)
laplacian(np.ones((6, 6)), boundary="wrap")
seen["call"] = sorted(m for m in HEAVY if m in sys.modules)
seen["from_cache"] = [k.loaded.from_cache for k in laplacian.compiler.kernels.values()]
print("SEEN " + json.dumps(seen))
'''


def _run(tmp_path, cache_dir):
    script = tmp_path / "startup.py"
    script.write_text(f"HEAVY = {HEAVY!r}\n" + SCRIPT)
    env = {k: v for k, v in os.environ.items()
           if k not in ("STENCILPY_CACHE", "STENCILPY_LOADER", "STENCILPY_DUMP")}
    env["STENCILPY_CACHE_DIR"] = str(cache_dir)
    proc = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("SEEN "))
    return json.loads(line[5:])


@pytest.fixture(scope="module")
def cold_and_warm(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("startup")
    return _run(tmp, tmp / "cache"), _run(tmp, tmp / "cache")


def test_import_loads_no_heavy_module(cold_and_warm):
    for seen in cold_and_warm:
        assert seen["import"] == []


def test_decorating_loads_no_heavy_module(cold_and_warm):
    for seen in cold_and_warm:
        assert seen["decorate"] == []


def test_cold_call_analyses_and_compiles(cold_and_warm):
    cold, _ = cold_and_warm
    assert cold["from_cache"] == [False]
    assert "llvmlite.binding" in cold["call"]
    assert "sympy" not in cold["call"]               # integer offsets: the exact analysis


def test_warm_call_needs_neither_sympy_nor_llvm(cold_and_warm):
    _, warm = cold_and_warm
    assert warm["from_cache"] == [True]
    assert "sympy" not in warm["call"]
    if loader.available():
        assert "llvmlite.binding" not in warm["call"]
    assert not {"xarray", "dask", "matplotlib"} & set(warm["call"])
