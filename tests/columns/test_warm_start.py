"""A column stencil's warm start (a new process, the kernel in the disk cache) plans the
call without llvmlite and lowers nothing: ``codegen/column_plan.py`` alone finds the kernel,
and the plan of a column stencil is derived, not read from (or written to) the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stencilpy.runtime import loader

CHILD = r'''
import json, sys
import numpy as np
import stencilpy as sp
from stencilpy.bench import stencils

thomas = sp.stencil(dims=stencils.DIMS)(stencils.thomas)
rng = np.random.default_rng(3)
a, c = rng.random((2, 12, 5, 7))
b, d = 4.0 + rng.random((12, 5, 7)), rng.random((12, 5, 7))
x = thomas(a, b, c, d)
report = {"x": x.tolist(),
          "modules": sorted(m for m in ("llvmlite.ir", "llvmlite.binding", "sympy",
                                        "stencilpy.codegen.columns") if m in sys.modules)}
with open(sys.argv[1], "w") as f:
    json.dump(report, f)
'''


def _run(tmp_path: Path, cache: Path) -> dict:
    script, report = tmp_path / "child.py", tmp_path / f"r-{os.urandom(4).hex()}.json"
    script.write_text(CHILD)
    env = {k: v for k, v in os.environ.items()
           if k not in ("STENCILPY_CACHE", "STENCILPY_LOADER", "STENCILPY_DUMP")}
    env["STENCILPY_CACHE_DIR"] = str(cache)
    proc = subprocess.run([sys.executable, str(script), str(report)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(report.read_text())


def _thomas_loop(a, b, c, d):
    cp, dp, x = (np.empty_like(d) for _ in range(3))
    cp[0], dp[0] = c[0] / b[0], d[0] / b[0]
    for k in range(1, len(d)):
        m = b[k] - a[k] * cp[k - 1]
        cp[k], dp[k] = c[k] / m, (d[k] - a[k] * dp[k - 1]) / m
    x[-1] = dp[-1]
    for k in range(len(d) - 2, -1, -1):
        x[k] = dp[k] - cp[k] * x[k + 1]
    return x


@pytest.mark.skipif(not loader.available(), reason="needs the ELF loader (else MCJIT loads)")
def test_warm_column_start_imports_no_llvmlite_and_writes_nothing(tmp_path):
    cache = tmp_path / "cache"
    cold = _run(tmp_path, cache)
    assert "stencilpy.codegen.columns" in cold["modules"]          # the cold one lowered
    files = {p: p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file()}
    warm = _run(tmp_path, cache)
    assert warm["modules"] == []
    assert warm["x"] == cold["x"]
    assert {p: p.read_bytes() for p in sorted(cache.rglob("*")) if p.is_file()} == files
    rng = np.random.default_rng(3)
    a, c = rng.random((2, 12, 5, 7))
    b, d = 4.0 + rng.random((12, 5, 7)), rng.random((12, 5, 7))
    np.testing.assert_allclose(np.array(warm["x"]), _thomas_loop(a, b, c, d), rtol=1e-12)
