"""The disk cache with real compiled kernels, across fresh processes: warm starts,
damaged entries, concurrent processes, the environment variables, stale-kernel
safety, and the ``stencilpy info`` / ``stencilpy cache`` commands."""

from __future__ import annotations

import faulthandler
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from stencilpy import cli
from stencilpy.runtime import loader
from stencilpy.runtime.cache import DiskCache

faulthandler.enable()

ELF_LOADER = loader.available()

#: runs the CASES of a stencil module; writes a JSON report (results, how kernels loaded)
CHILD = r'''
import importlib.util, json, sys
import numpy as np
import stencilpy.analysis as analysis
analysed = []                      # plans computed (not read from the cache)
_analyse = analysis.analyse
analysis.analyse = lambda stencil: (analysed.append(1), _analyse(stencil))[1]
paths = globals().get("MODULE_PATHS") or sys.argv[1].split(",")
report_path = globals().get("REPORT_PATH") or sys.argv[2]
report = {"results": {}, "loaded": {}}
for path in paths:
    name = "mod_" + path.replace("/", "_").replace(".", "_").replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for case, (k, args, kw) in mod.CASES.items():
        before = set(id(x) for x in k.compiler.kernels.values())
        out = k(*args, **kw)
        report["results"][case] = [str(np.asarray(out).dtype), np.asarray(out).tolist()]
        report["loaded"][case] = [[x.loaded.loader, x.loaded.from_cache]
                                  for x in k.compiler.kernels.values() if id(x) not in before]
report["modules"] = sorted(m for m in ("sympy", "llvmlite.binding") if m in sys.modules)
report["analysed"] = len(analysed)
with open(report_path, "w") as f:
    json.dump(report, f)
'''

MODULE = '''
import numpy as np
import stencilpy as sp

C = {c}


@sp.stencil
def flux(u):
    return u[1] {op} C * u[-1]


@sp.stencil
def smooth(u):
    t = u[1, 0] + u[0, -1]
    return t[-1, 0] - 2 * t


x = np.arange(7.0) ** 2
y = np.arange(20.0).reshape(4, 5) % 7
CASES = {{
    "flux_{tag}": (flux, (x,), {{"boundary": "{mode}"}}),
    "flux32_{tag}": (flux, (x.astype(np.{dtype}),), {{"boundary": "{mode}"}}),
    "smooth_{tag}": (smooth, (y,), {{"boundary": {{0: "{mode}", 1: "reflect"}}}}),
}}
'''


def _pad(u, mode, lo, hi):
    return np.pad(u, (lo, hi), mode=mode)


def expected(c=2.0, op="-", mode="wrap", dtype="float32", tag="a"):
    """The CASES results of MODULE, by numpy.pad and slicing."""
    x = np.arange(7.0) ** 2
    out = {}
    for name, arr in ((f"flux_{tag}", x), (f"flux32_{tag}", x.astype(dtype))):
        p = _pad(arr, mode, 1, 1)
        right, left = p[2:], p[:-2]
        c_ = np.asarray(c, dtype=arr.dtype) if arr.dtype == np.float32 else c
        out[name] = right - c_ * left if op == "-" else right + c_ * left
    y = np.arange(20.0).reshape(4, 5) % 7
    p = np.pad(np.pad(y, ((2, 1), (0, 0)), mode=mode), ((0, 0), (1, 0)), mode="reflect")
    t = p[2:, 1:] + p[1:-1, :-1]                       # t on rows [-1, 4): p row r = y row r - 2
    out[f"smooth_{tag}"] = t[:-1] - 2 * t[1:]
    return out


def write_module(path: Path, **kw) -> Path:
    params = {"c": 2.0, "op": "-", "mode": "wrap", "dtype": "float32", "tag": "a"}
    params.update(kw)
    path.write_text(MODULE.format(**params))
    return path


def env_for(cache_dir: Path | None, **extra) -> dict:
    env = dict(os.environ)
    for name in ("STENCILPY_CACHE", "STENCILPY_CACHE_DIR", "STENCILPY_LOADER", "STENCILPY_DUMP"):
        env.pop(name, None)
    if cache_dir is not None:
        env["STENCILPY_CACHE_DIR"] = str(cache_dir)
    env.update(extra)
    return env


def run_child(tmp_path: Path, modules, env: dict) -> dict:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    report = tmp_path / f"report-{os.urandom(4).hex()}.json"
    proc = subprocess.run([sys.executable, str(script), ",".join(str(m) for m in modules),
                           str(report)], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(report.read_text())


def check_results(report: dict, **kw) -> None:
    for name, want in expected(**kw).items():
        dtype, got = report["results"][name]
        assert dtype == str(want.dtype), name
        rtol = 1e-6 if want.dtype == np.float32 else 1e-14
        np.testing.assert_allclose(np.array(got), want, rtol=rtol, err_msg=name)


def entries(cache_dir: Path) -> list[Path]:
    return sorted(p for p in cache_dir.rglob("*.o") if p.is_file())


def loaded_from_cache(report: dict) -> set[bool]:
    return {from_cache for case in report["loaded"].values() for _, from_cache in case}


@pytest.fixture(scope="module")
def warm(tmp_path_factory):
    """A cache directory filled by one cold process, and that process's report."""
    tmp = tmp_path_factory.mktemp("warm")
    mod = write_module(tmp / "mod_a.py")
    report = run_child(tmp, [mod], env_for(tmp / "cache"))
    return tmp, mod, report


def _copy_warm(warm, tmp_path: Path) -> tuple[Path, Path]:
    src, mod, _ = warm
    shutil.copytree(src / "cache", tmp_path / "cache")
    return tmp_path / "cache", mod


# -- warm start ------------------------------------------------------------------------------

def test_cold_process_compiles_and_stores(warm):
    tmp, _, report = warm
    check_results(report)
    assert loaded_from_cache(report) == {False}
    assert report["analysed"] > 0                    # the analysis ran
    assert "sympy" not in report["modules"]          # (integer offsets: no sympy needed)
    files = entries(tmp / "cache")
    assert len(files) >= 3 + 2                       # 3 kernels, 2 plans (+ the host entry)


def test_warm_process_loads_everything_from_the_cache(warm, tmp_path):
    cache_dir, mod = _copy_warm(warm, tmp_path)
    before = {p: p.read_bytes() for p in entries(cache_dir)}
    report = run_child(tmp_path, [mod], env_for(cache_dir))
    check_results(report)
    assert loaded_from_cache(report) == {True}
    assert report["analysed"] == 0                   # plans came from the cache
    assert "sympy" not in report["modules"]
    if ELF_LOADER:
        assert "llvmlite.binding" not in report["modules"]
        assert {ld for case in report["loaded"].values() for ld, _ in case} == {"elf"}
    assert {p: p.read_bytes() for p in entries(cache_dir)} == before   # nothing rewritten


def test_mcjit_loader_gives_the_same_results(warm, tmp_path):
    cache_dir, mod = _copy_warm(warm, tmp_path)
    report = run_child(tmp_path, [mod], env_for(cache_dir, STENCILPY_LOADER="mcjit"))
    check_results(report)
    assert {ld for case in report["loaded"].values() for ld, _ in case} == {"mcjit"}
    assert loaded_from_cache(report) == {True}


# -- damaged entries -------------------------------------------------------------------------

def _damage(p: Path, how: str, cache_dir: Path) -> None:
    data = p.read_bytes()
    if how == "truncate":
        p.write_bytes(data[:len(data) // 2])
    elif how == "empty":
        p.write_bytes(b"")
    elif how == "flip":
        k = len(data) * 2 // 3
        p.write_bytes(data[:k] + bytes([data[k] ^ 0x5A]) + data[k + 1:])
    else:  # a checksum-valid entry whose payload is not what was stored
        body = os.urandom(max(len(data), 64))
        if how == "forge_elf":
            body = b"\x7fELF\x02\x01\x01" + body[7:]
        DiskCache(cache_dir).store(p.stem, body)


DAMAGE = ("truncate", "empty", "flip", "forge_garbage", "forge_elf")


def test_damaged_entries_are_rebuilt(warm, tmp_path):
    """Every entry damaged (kernels, plans, the host entry), each kind of damage on some."""
    cache_dir, mod = _copy_warm(warm, tmp_path)
    files = entries(cache_dir)
    assert len(files) >= 5
    for k, p in enumerate(files):
        _damage(p, DAMAGE[k % len(DAMAGE)], cache_dir)
    report = run_child(tmp_path, [mod], env_for(cache_dir))
    check_results(report)
    assert loaded_from_cache(report) == {False}      # every kernel rebuilt
    again = run_child(tmp_path, [mod], env_for(cache_dir))
    check_results(again)
    assert loaded_from_cache(again) == {True}        # and stored again, intact


@pytest.mark.parametrize("how", DAMAGE)
def test_damaged_object_code_is_rejected_in_process(warm, tmp_path, how):
    """The same damage, to kernel entries only, seen by the in-process loading path."""
    from stencilpy.runtime import jit

    cache_dir, _ = _copy_warm(warm, tmp_path)
    cache = DiskCache(cache_dir)
    kernels = [p for p in entries(cache_dir) if (cache.load(p.stem) or b"").startswith(b"\x7fELF")]
    assert kernels
    for p in kernels:
        _damage(p, how, cache_dir)
        obj = cache.load(p.stem)
        assert obj is None or jit._load_cached(obj, "stencil_kernel") is None


# -- environment -----------------------------------------------------------------------------

def test_cache_disabled_writes_nothing(tmp_path):
    mod = write_module(tmp_path / "mod_a.py")
    cache_dir, xdg = tmp_path / "cache", tmp_path / "xdg"
    env = env_for(cache_dir, STENCILPY_CACHE="0", XDG_CACHE_HOME=str(xdg))
    report = run_child(tmp_path, [mod], env)
    check_results(report)
    assert loaded_from_cache(report) == {False}
    assert report["analysed"] > 0                    # no cached plan either
    assert not cache_dir.exists() and not xdg.exists()


def test_cache_dir_variable_is_used(tmp_path):
    mod = write_module(tmp_path / "mod_a.py", mode="edge")
    cache_dir, xdg = tmp_path / "elsewhere" / "cache", tmp_path / "xdg"
    report = run_child(tmp_path, [mod], env_for(cache_dir, XDG_CACHE_HOME=str(xdg)))
    check_results(report, mode="edge")
    assert len(entries(cache_dir)) >= 5
    assert not xdg.exists()


# -- several processes at once ---------------------------------------------------------------

def test_concurrent_processes_share_one_cache_dir(tmp_path):
    """Four processes started together on one empty cache directory, compiling and
    running the same kernels (all four) and different ones (two of them)."""
    mod_a = write_module(tmp_path / "mod_a.py", tag="a")
    mod_b = write_module(tmp_path / "mod_b.py", tag="b", op="+", mode="reflect", c=0.5,
                         dtype="float64")
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    cache_dir = tmp_path / "cache"
    jobs = [[mod_a], [mod_a], [mod_b, mod_a], [mod_a, mod_b]]
    procs = [subprocess.Popen([sys.executable, str(script), ",".join(map(str, mods)),
                               str(tmp_path / f"r{k}.json")], env=env_for(cache_dir),
                              stderr=subprocess.PIPE, text=True)
             for k, mods in enumerate(jobs)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
    for k, mods in enumerate(jobs):
        report = json.loads((tmp_path / f"r{k}.json").read_text())
        check_results(report)
        if mod_b in mods:
            check_results(report, tag="b", op="+", mode="reflect", c=0.5, dtype="float64")
    assert not [p for p in cache_dir.rglob("*.tmp")]          # no temp files left behind
    cache = DiskCache(cache_dir)
    assert all(cache.load(p.stem) is not None for p in entries(cache_dir))
    warm = run_child(tmp_path, [mod_a, mod_b], env_for(cache_dir))
    assert loaded_from_cache(warm) == {True}


# -- never a stale kernel --------------------------------------------------------------------

def test_same_name_different_bodies_in_one_process(tmp_path):
    """Two modules define 'flux' and 'smooth' with different bodies and constants."""
    a = write_module(tmp_path / "mod_a.py", tag="a")
    b = write_module(tmp_path / "mod_b.py", tag="b", op="+", c=3.0)
    cache_dir = tmp_path / "cache"
    for _ in range(2):                                # cold, then warm
        report = run_child(tmp_path, [a, b], env_for(cache_dir))
        check_results(report, tag="a")
        check_results(report, tag="b", op="+", c=3.0)


CHANGES = [{"c": 2.5}, {"op": "+"}, {"dtype": "int64"}, {"mode": "symmetric"}]


def test_editing_a_module_never_loads_a_stale_kernel(warm, tmp_path):
    """The warm cache holds mod_a's kernels; each module here is mod_a with one thing
    changed (a captured constant, the body, a dtype, a boundary mode) and the same
    function names."""
    cache_dir, _ = _copy_warm(warm, tmp_path)
    mods = []
    for k, change in enumerate(CHANGES):
        (tmp_path / f"v{k}").mkdir()
        mods.append(write_module(tmp_path / f"v{k}" / "mod_a.py", tag=f"v{k}", **change))
    report = run_child(tmp_path, mods, env_for(cache_dir))
    for k, change in enumerate(CHANGES):
        check_results(report, tag=f"v{k}", **change)
        compiled = [fc for case, ld in report["loaded"].items() if case.endswith(f"_v{k}")
                    for _, fc in ld]
        assert False in compiled, change              # something had to be compiled


def test_the_key_covers_compiler_versions(monkeypatch):
    from stencilpy.runtime import cache as disk, jit

    key = jit.cache_key("spec text")
    monkeypatch.setattr(disk, "_code_version", "0.1.0+0000000000000000")
    assert jit.cache_key("spec text") != key
    monkeypatch.setattr(jit, "llvmlite_version", lambda: "0.0.0")
    assert jit.cache_key("spec text") != key


def test_code_version_tracks_the_compiler_source():
    from stencilpy.runtime import cache as disk

    version = disk.code_version()
    import stencilpy
    assert version.startswith(stencilpy.__version__ + "+")
    assert {"codegen/", "analysis/", "runtime/jit.py"} <= set(disk._CODE_PARTS)


# -- the command line ------------------------------------------------------------------------

def test_info_shows_cache_location_and_size(warm, tmp_path, monkeypatch, capsys):
    cache_dir, _ = _copy_warm(warm, tmp_path)
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(cache_dir))
    monkeypatch.delenv("STENCILPY_CACHE", raising=False)
    assert cli.main(["info"]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("cache")][0]
    n = len(entries(cache_dir))
    assert str(cache_dir) in line and f"{n} entries" in line and "STENCILPY_CACHE_DIR" in line
    monkeypatch.setenv("STENCILPY_CACHE", "0")
    assert cli.main(["info"]) == 0
    assert "disabled by STENCILPY_CACHE=0" in capsys.readouterr().out


def test_info_and_the_benchmark_reports_share_the_cpu_model(capsys):
    """One reader of the CPU model, in the package; the benchmarks import it."""
    from stencilpy import about
    from stencilpy.bench import report
    assert report.cpu_model is cli.cpu_model is about.cpu_model
    model = about.cpu_model()
    if Path("/proc/cpuinfo").exists():
        names = [line.split(":", 1)[1].strip() for line in
                 Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        assert model == (names[0] if names else model)
    assert model
    assert cli.main(["info"]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("cpu ")][0]
    assert line.endswith(f"({model})")


def test_cache_command_shows_and_clears(warm, tmp_path, monkeypatch, capsys):
    cache_dir, mod = _copy_warm(warm, tmp_path)
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(cache_dir))
    n = len(entries(cache_dir))
    assert cli.main(["cache"]) == 0
    assert f"{cache_dir}: {n} entries" in capsys.readouterr().out
    assert cli.main(["cache", "clear"]) == 0
    assert f"removed {n} cache entries" in capsys.readouterr().out
    assert entries(cache_dir) == []
    assert cli.main(["cache", "info"]) == 0
    assert f"{cache_dir}: 0 entries" in capsys.readouterr().out


def test_cache_help(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["cache", "--help"])
    assert exc.value.code == 0
    assert "clear" in capsys.readouterr().out


def test_main_module_runs_the_cli(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "stencilpy", "cache"], capture_output=True,
                          text=True, env=env_for(tmp_path / "c"), timeout=120)
    assert proc.returncode == 0 and textwrap.dedent(proc.stdout).startswith(str(tmp_path / "c"))


def test_code_version_is_kept_under_the_files_stamps(tmp_path, monkeypatch):
    """A warm start stats the compiler's files instead of hashing them; a changed stamp
    (an edited file) hashes them again."""
    from stencilpy.runtime import cache as disk

    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.delenv("STENCILPY_CACHE", raising=False)
    monkeypatch.setattr(disk, "_code_version", None)
    first = disk.code_version()
    assert disk.DiskCache().entries() == 1                      # the stamps -> hash entry

    def no_hashing(*a):
        raise AssertionError("hashed the sources although their stamps are unchanged")
    real_hash = disk._hash_sources
    monkeypatch.setattr(disk, "_hash_sources", no_hashing)
    monkeypatch.setattr(disk, "_code_version", None)
    assert disk.code_version() == first

    calls = []
    monkeypatch.setattr(disk, "_hash_sources", lambda *a: calls.append(a) or real_hash(*a))
    real_stamps = disk._stamps
    monkeypatch.setattr(disk, "_stamps", lambda root, names: real_stamps(root, names) + "edited")
    monkeypatch.setattr(disk, "_code_version", None)
    assert disk.code_version() == first and len(calls) == 1     # same source, hashed again
