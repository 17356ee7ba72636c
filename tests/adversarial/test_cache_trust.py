"""A kernel cache that cannot be planted and never hangs (issue 15, rows 4, 5 and 8).

The cache holds machine code that is loaded and run.  Each case prepares a cache folder,
then runs a stencil in a fresh process (a hang or crash fails the test) and checks its
answer against NumPy: a *planted* entry (another stencil's object code under this
stencil's key, with a valid header and recomputed sha256) gives a wrong answer if it is
loaded, so a right answer shows it was not.  ``test_planted_code_runs_from_a_private_cache``
shows that the planting works (the cache does trust the user's own private files), so the
other tests can fail.
"""

from __future__ import annotations

import json
import os
import stat
import struct
from pathlib import Path

import pytest

from ._harness import ROOT, child_env, run_python

pytestmark = pytest.mark.skipif(not hasattr(os, "geteuid") or not hasattr(os, "mkfifo"),
                                reason="POSIX ownership, modes and FIFOs")
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
OTHER_UID = 65534                      # "nobody"
needs_root = pytest.mark.skipif(not IS_ROOT, reason="making files of another user needs root")

RUN = r'''
import json, sys, warnings
import numpy as np
import stencilpy as sp
warnings.simplefilter("always")
which = sys.argv[1]
with warnings.catch_warnings(record=True) as caught:
    if which == "A":
        @sp.stencil
        def a(u):
            return u[1] + u[-1]
        st = a
    else:
        @sp.stencil
        def b(u):
            return u[1] - 3.0 * u[0] - u[-1]
        st = b
    u = np.arange(40.0) ** 2
    got = st(u, boundary="wrap")
want = (np.roll(u, -1) + np.roll(u, 1)) if which == "A" else (np.roll(u, -1) - 3 * u - np.roll(u, 1))
print(json.dumps({"right": bool(np.array_equal(got, want)),
                  "warnings": [str(w.message) for w in caught]}))
'''

_HEADER = struct.Struct("<8sHHQ32s")


def _script(text: str) -> str:
    """``text`` saved as a script (stencilpy reads a stencil's source from its file)."""
    import tempfile
    path = Path(tempfile.mkdtemp()) / "run_stencil.py"
    path.write_text(text)
    return str(path)


def run(which: str, cache: Path, umask: int | None = None, **env) -> dict:
    text = RUN if umask is None else f"import os; os.umask({umask})\n" + RUN
    proc = run_python("", args=(_script(text), which), timeout=90, env=child_env(cache, **env))
    return json.loads(proc.stdout.strip().splitlines()[-1])


def entries(cache: Path) -> set[Path]:
    return {p for p in (cache / "v1").glob("*/*.o")}


def payload(path: Path) -> tuple[str, bytes]:
    data = path.read_bytes()
    _, _, klen, plen, _ = _HEADER.unpack_from(data)
    key = data[_HEADER.size:_HEADER.size + klen].decode()
    return key, data[_HEADER.size + klen:]


def plant(path: Path, code: bytes) -> None:
    """Rewrite the entry at ``path`` to hold ``code``: valid header, recomputed sha256."""
    import hashlib
    key, _ = payload(path)
    kb = key.encode()
    head = _HEADER.pack(b"SPYKOBJ\x00", 1, len(kb), len(code), hashlib.sha256(code).digest())
    mode = stat.S_IMODE(path.stat().st_mode)
    path.unlink()
    path.write_bytes(head + kb + code)
    path.chmod(mode)


@pytest.fixture(scope="module")
def planted_template(tmp_path_factory):
    """A cache holding stencil A's and B's entries, with B's kernel replaced by A's:
    ``(folder, B's planted entry paths)``; tests copy it."""
    cache = tmp_path_factory.mktemp("template") / "cache"
    assert run("A", cache)["right"]
    before = entries(cache)
    kernel_a = [payload(p)[1] for p in before if payload(p)[1].startswith(b"\x7fELF")]
    assert run("B", cache)["right"]
    b_kernels = [p for p in entries(cache) - before if payload(p)[1].startswith(b"\x7fELF")]
    assert kernel_a and b_kernels
    # A's own kernel: the one stored under A's key (the worker kernel is stored too)
    a_code = max(kernel_a, key=len)
    for p in b_kernels:
        plant(p, a_code)
    return cache, [p.relative_to(cache) for p in b_kernels]


def copy_of(template, dest: Path) -> tuple[Path, list[Path]]:
    import shutil
    cache, planted = template
    shutil.copytree(cache, dest, symlinks=True)
    return dest, [dest / p for p in planted]


def test_planted_code_runs_from_a_private_cache(planted_template, tmp_path):
    """The cache trusts the user's own private files: planting there works (the user
    could as well edit stencilpy).  This is what the other tests defend against."""
    cache, _ = copy_of(planted_template, tmp_path / "c")
    assert run("B", cache)["right"] is False


@needs_root
def test_cache_owned_by_another_user_is_not_used(planted_template, tmp_path):
    cache, _ = copy_of(planted_template, tmp_path / "c")
    for p in [cache, *cache.rglob("*")]:
        os.chown(p, OTHER_UID, -1, follow_symlinks=False)
    cache.chmod(0o777)                                  # and world-writable, as in the issue
    before = sorted(str(p) for p in cache.rglob("*"))
    got = run("B", cache)
    assert got["right"], "planted code ran from another user's cache folder"
    assert any("does not use its kernel cache" in w and "owned by uid" in w
               for w in got["warnings"]), got["warnings"]
    assert sum("does not use its kernel cache" in w for w in got["warnings"]) == 1
    assert sorted(str(p) for p in cache.rglob("*")) == before, "wrote into the untrusted cache"


@needs_root
def test_entry_owned_by_another_user_is_not_loaded(planted_template, tmp_path):
    cache, planted = copy_of(planted_template, tmp_path / "c")
    for p in planted:
        os.chown(p, OTHER_UID, -1)
    assert run("B", cache)["right"]


@pytest.mark.parametrize("where,bits", [("root", 0o002), ("v1", 0o020), ("shard", 0o002),
                                        ("entry", 0o020)])
def test_group_or_world_writable_parts_are_not_trusted(planted_template, tmp_path, where, bits):
    cache, planted = copy_of(planted_template, tmp_path / "c")
    target = {"root": cache, "v1": cache / "v1", "shard": planted[0].parent,
              "entry": planted[0]}[where]
    target.chmod(stat.S_IMODE(target.stat().st_mode) | bits)
    got = run("B", cache)
    assert got["right"], f"planted code ran though {where} is writable by others"
    assert any("does not use its kernel cache" in w and "writable" in w for w in got["warnings"])


def test_new_cache_folders_and_files_are_private(tmp_path):
    cache = tmp_path / "new" / "cache"
    assert run("A", cache, umask=0)["right"]                # the most permissive umask
    parts = [cache, *cache.rglob("*")]
    assert len(parts) > 4
    for p in parts:
        mode = stat.S_IMODE(p.lstat().st_mode)
        want = 0o700 if p.is_dir() else 0o600
        assert mode == want, f"{p} has mode {mode:o}, want {want:o}"


def _fifo_everywhere(cache: Path, through_symlink: bool) -> int:
    n = 0
    for p in entries(cache):
        p.unlink()
        if through_symlink:
            fifo = p.with_name(p.name + ".fifo")
            os.mkfifo(fifo)
            p.symlink_to(fifo.name)
        else:
            os.mkfifo(p)
        n += 1
    return n


@pytest.mark.parametrize("through_symlink", [False, True])
def test_fifo_entries_do_not_hang(tmp_path, through_symlink):
    cache = tmp_path / "c"
    assert run("B", cache)["right"]
    assert _fifo_everywhere(cache, through_symlink) >= 2
    assert run("B", cache)["right"]                          # a blocking open would hang


def test_fifo_as_eviction_lock_does_not_hang(tmp_path):
    cache = tmp_path / "c"
    assert run("A", cache)["right"]
    lock = cache / "v1" / ".evict.lock"
    if lock.exists():
        lock.unlink()
    os.mkfifo(lock)
    assert run("B", cache, STENCILPY_CACHE_MAX_MB="0.0001")["right"]   # evicts on every store


def test_entry_symlink_is_not_followed(planted_template, tmp_path):
    """A symbolic link at an entry's path, to a (planted) entry elsewhere: not loaded."""
    cache, planted = copy_of(planted_template, tmp_path / "c")
    private = tmp_path / "elsewhere"
    private.mkdir(mode=0o700)
    for k, p in enumerate(planted):
        target = private / f"{k}.o"
        p.rename(target)
        p.symlink_to(target)
    assert run("B", cache)["right"]


def test_symlinked_v1_is_neither_used_nor_cleared(planted_template, tmp_path):
    cache, _ = copy_of(planted_template, tmp_path / "c")
    outside = tmp_path / "outside"
    (cache / "v1").rename(outside)
    (cache / "v1").symlink_to(outside)
    files = sorted(str(p) for p in outside.rglob("*.o"))
    got = run("B", cache)
    assert got["right"], "planted code ran through a symbolic link"
    proc = run_python("", args=("-m", "stencilpy", "cache", "clear"), env=child_env(cache))
    assert "removed 0 cache entries" in proc.stdout
    assert sorted(str(p) for p in outside.rglob("*.o")) == files, "clear deleted files outside"


def test_clear_deletes_only_regular_files_inside(tmp_path):
    cache = tmp_path / "c"
    assert run("A", cache)["right"]
    regular = entries(cache)
    shard = next(iter(regular)).parent
    outside = tmp_path / "precious.o"
    outside.write_text("keep me")
    (shard / ("a" * 64 + ".o")).symlink_to(outside)
    os.mkfifo(shard / ("b" * 64 + ".o"))
    (shard / ("c" * 64 + ".o")).mkdir()
    (cache / "v1" / "zz").symlink_to(tmp_path, target_is_directory=True)  # a shard link
    proc = run_python("", args=("-m", "stencilpy", "cache", "clear"), env=child_env(cache),
                      timeout=60)
    assert f"removed {len(regular)} cache entries" in proc.stdout
    assert outside.read_text() == "keep me"
    assert not any(p.exists() for p in regular)
    assert (shard / ("b" * 64 + ".o")).exists() and (shard / ("c" * 64 + ".o")).is_dir()


def test_clear_makes_a_loose_cache_private_and_trusted_again(tmp_path):
    cache = tmp_path / "c"
    assert run("A", cache)["right"]
    for p in [cache, *cache.rglob("*")]:
        if p.is_dir():
            p.chmod(0o775)
    got = run("A", cache)
    assert got["right"] and any("does not use its kernel cache" in w for w in got["warnings"])
    run_python("", args=("-m", "stencilpy", "cache", "clear"), env=child_env(cache))
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in [cache, *cache.rglob("*")]
               if p.is_dir())
    again = run("A", cache)                                  # loaded, without a warning
    assert again["right"] and again["warnings"] == []


def test_infinite_cache_limit_works_end_to_end(tmp_path):
    cache = tmp_path / "c"
    assert run("A", cache, STENCILPY_CACHE_MAX_MB="inf")["right"]
    code = ("from stencilpy.cli import main\n"
            "assert main(['info']) in (0, None)\nassert main(['cache']) in (0, None)\n")
    proc = run_python(code, env=child_env(cache, STENCILPY_CACHE_MAX_MB="1e400"), timeout=120)
    assert "cache" in proc.stdout


@pytest.mark.parametrize("value,limit", [("inf", None), ("1e400", None), ("Infinity", None),
                                         ("1e30", None), ("0.5", 2**19)])
def test_huge_cache_limit_means_no_limit(monkeypatch, value, limit):
    from stencilpy.runtime import cache as cache_mod
    monkeypatch.setenv("STENCILPY_CACHE_MAX_MB", value)
    got = cache_mod.DiskCache(Path("/nonexistent")).max_bytes
    assert got == (limit if limit is not None else cache_mod.UNLIMITED_BYTES)


@pytest.mark.parametrize("value", ["nan", "-5", "0", "lots", "-inf"])
def test_invalid_cache_limit_warns_and_uses_the_default(monkeypatch, value):
    from stencilpy.runtime import cache as cache_mod
    monkeypatch.setenv("STENCILPY_CACHE_MAX_MB", value)
    with pytest.warns(RuntimeWarning, match="STENCILPY_CACHE_MAX_MB"):
        assert cache_mod.DiskCache(Path("/nonexistent")).max_bytes == 512 * 2**20


def test_the_suite_runs_this_checkout():
    assert (ROOT / "stencilpy" / "__init__.py").exists()
