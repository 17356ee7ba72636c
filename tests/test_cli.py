"""The ``stencilpy`` command's other subcommands: bench forwards its options to the suite."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import stencilpy
from stencilpy.cli import main


def test_bench_forwards_its_options_to_the_suite(tmp_path, capsys):
    code = main(["bench", "--quick", "--kernels", "lap2d_float64", "--impls", "numpy,stencilpy",
                 "--threads", "1", "--repeats", "1", "--min-batch", "0.001",
                 "--out", str(tmp_path)])
    assert code in (0, None)
    results = json.loads((tmp_path / "results.json").read_text())["results"]
    assert {(r["impl"], r["status"]) for r in results} == {("numpy", "ok"), ("stencilpy", "ok")}
    md = (tmp_path / "results.md").read_text()
    assert md.count("| lap2d float64 1024x1024 | numpy | 1 |") == 1
    assert md.count("| lap2d float64 1024x1024 | stencilpy | 1 |") == 1
    assert "copy (same bytes)" not in md              # the copy bound comes with C (its gcc)


def test_bench_help_is_the_suites_help_from_the_console_script():
    """The console script runs outside the checkout's folder: the suite is still found."""
    env = dict(os.environ, PYTHONPATH=str(Path(stencilpy.__file__).resolve().parents[1]))
    proc = subprocess.run([sys.executable, "-c", "import sys; from stencilpy.cli import main; "
                           "sys.exit(main(['bench', '--help']))"],
                          capture_output=True, text=True, cwd="/", timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert "--quick" in proc.stdout and "--kernels" in proc.stdout


def test_unknown_subcommand_is_refused(capsys):
    with pytest.raises(SystemExit) as info:
        main(["benchmark"])
    assert info.value.code == 2 and "invalid choice" in capsys.readouterr().err
