"""The wheel carries everything the ``stencilpy`` command needs: built from a copy of the
source tree, unpacked outside the checkout, ``stencilpy bench`` runs from it (the suite and
its C sources are package data, not the checkout's ``benchmarks/`` folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import stencilpy

ROOT = Path(stencilpy.__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory) -> Path:
    """The wheel built from a copy of the sources (pip, no build isolation: no network),
    unpacked into a folder that stands for site-packages."""
    pytest.importorskip("setuptools")
    pytest.importorskip("wheel", reason="building the wheel needs the 'wheel' package")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "stencilpy", src / "stencilpy",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                           "--no-build-isolation", "--no-index", "-q", "-w", str(tmp / "dist")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (whl,) = (tmp / "dist").glob("stencilpy-*.whl")
    site = tmp / "site"
    with zipfile.ZipFile(whl) as z:
        z.extractall(site)
    return site


def _run(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(site))
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_wheel_holds_the_bench_suite_and_its_c_sources(wheel_site):
    bench = wheel_site / "stencilpy" / "bench"
    assert {p.name for p in (bench / "c").glob("*.c")} == \
        {p.name for p in (ROOT / "stencilpy" / "bench" / "c").glob("*.c")} != set()
    assert (bench / "run.py").is_file() and (wheel_site / "stencilpy" / "about.py").is_file()
    assert not (wheel_site / "benchmarks").exists()     # the checkout's shim is not shipped


def test_bench_runs_from_the_unpacked_wheel_outside_the_checkout(wheel_site, tmp_path):
    where = _run(wheel_site, tmp_path, "-c", "import stencilpy.bench; print(stencilpy.bench.__file__)")
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(wheel_site)
    helped = _run(wheel_site, tmp_path, "-m", "stencilpy", "bench", "--help")
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("usage: stencilpy bench") and "--quick" in helped.stdout
    impls = "C,stencilpy" if shutil.which("gcc") else "stencilpy"
    ran = _run(wheel_site, tmp_path, "-m", "stencilpy", "bench", "--quick", "--kernels",
               "lap2d_float64", "--impls", impls, "--threads", "1", "--repeats", "1",
               "--min-batch", "0.001")
    assert ran.returncode == 0, ran.stdout + ran.stderr
    results = json.loads((tmp_path / "stencilpy-output" / "bench" / "results.json").read_text())
    copy = {(name, "ok" if shutil.which("gcc") else "skipped")                 # the bounds
            for name in ("copy (same bytes)", "copy nt (same bytes)", "memcpy (same bytes)")}
    assert {(r["impl"], r["status"]) for r in results["results"]} == \
        {(name, "ok") for name in impls.split(",")} | copy
