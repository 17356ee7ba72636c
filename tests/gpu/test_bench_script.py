"""The device script's new correctness checks (extrapolate, per-output regions, a column
sweep, MPDATA fused and staged) run here on host-emulated arrays standing in for CuPy, so
the script is known to work before a GPU is lent; without CuPy it skips cleanly."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np

from stencilpy.bench import gpu as G
from stencilpy.runtime.gpu.emulate import EmulatedArray


def test_new_paths_pass_on_emulated_arrays(capsys):
    fake_cupy = types.SimpleNamespace(asarray=lambda a: EmulatedArray(np.array(a)))
    rep = G.Report()
    G.correctness_new_paths(fake_cupy, rep)
    out = capsys.readouterr().out
    assert rep.failures == 0, out
    for what in ("extrapolate", "per-output regions valid [1]", "column sweep (thomas)",
                 "step_fct_2d staged", "step_fct_2d fused"):
        assert any(line.startswith("  ok") and what in line for line in out.splitlines()), what


def test_script_skips_without_a_gpu():
    try:
        import cupy  # noqa: F401
        has_cupy = True
    except ImportError:
        has_cupy = False
    if has_cupy:
        return                       # a GPU machine: the script runs for real there
    out = subprocess.run([sys.executable, "-m", "stencilpy.bench.gpu", "--skip-timings"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.startswith("SKIP"), out.stdout + out.stderr
