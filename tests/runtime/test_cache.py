"""Tests of the on-disk object-code cache (stencilpy/runtime/cache.py)."""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import warnings
from pathlib import Path

import pytest

from stencilpy.runtime import cache as cache_mod
from stencilpy.runtime.cache import DiskCache, cache_dir, cache_enabled, default_cache, fingerprint

faulthandler.enable()

KEY = fingerprint("ir", "f64")
OTHER = fingerprint("ir", "f32")


def _entry_file(cache: DiskCache, key: str) -> Path:
    return cache.path / "v1" / key[:2] / f"{key}.o"


def _all_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.fixture
def cache(tmp_path):
    return DiskCache(tmp_path / "cache")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("STENCILPY_CACHE", "STENCILPY_CACHE_DIR", "STENCILPY_CACHE_MAX_MB"):
        monkeypatch.delenv(name, raising=False)


# --- round trip and keys ----------------------------------------------------------------------

def test_round_trip(cache):
    assert cache.load(KEY) is None
    cache.store(KEY, b"\x7fELF object code")
    assert cache.load(KEY) == b"\x7fELF object code"
    assert _entry_file(cache, KEY).is_file()
    assert cache.entries() == 1


def test_empty_payload_round_trips(cache):
    cache.store(KEY, b"")
    assert cache.load(KEY) == b""


def test_overwrite_replaces_payload(cache):
    cache.store(KEY, b"old")
    cache.store(KEY, b"new payload")
    assert cache.load(KEY) == b"new payload"
    assert cache.entries() == 1


def test_keys_are_separate(cache):
    cache.store(KEY, b"one")
    cache.store(OTHER, b"two")
    assert cache.load(KEY) == b"one"
    assert cache.load(OTHER) == b"two"
    assert cache.load(fingerprint("never stored")) is None


def test_layout_is_sharded_by_key_prefix(cache):
    cache.store(KEY, b"x")
    assert [p.relative_to(cache.path).as_posix() for p in _all_files(cache.path)
            if p.suffix == ".o"] == [f"v1/{KEY[:2]}/{KEY}.o"]


@pytest.mark.parametrize("bad", ["", "a", "../etc/passwd", "ABC", "a/b", "x" * 200])
def test_invalid_keys_are_rejected(cache, bad):
    with pytest.raises(ValueError, match="invalid cache key"):
        cache.store(bad, b"x")


def test_fingerprint_is_unambiguous():
    assert fingerprint("ab", "c") != fingerprint("a", "bc")
    assert fingerprint("a", "") != fingerprint("a")
    assert fingerprint("") != fingerprint()
    assert fingerprint("a\x00", "b") != fingerprint("a", "\x00b")
    assert fingerprint("abc") != fingerprint(b"abc")  # type-tagged
    assert fingerprint("ir", "f64") == fingerprint("ir", "f64")
    assert len(fingerprint("x")) == 64 and int(fingerprint("x"), 16) >= 0


def test_fingerprint_rejects_other_types():
    with pytest.raises(TypeError, match="'int'"):
        fingerprint("ir", 3)  # type: ignore[arg-type]


# --- corrupt entries ----------------------------------------------------------------------------

@pytest.mark.parametrize("keep", [0, 1, 7, 8, 51, 52, 60, 116, -1])
def test_truncated_entry_is_a_miss_and_removed(cache, keep):
    cache.store(KEY, b"payload bytes " * 10)
    f = _entry_file(cache, KEY)
    blob = f.read_bytes()
    f.write_bytes(blob[:keep] if keep >= 0 else blob[:-1])
    assert cache.load(KEY) is None
    assert not f.exists()


def test_padded_entry_is_a_miss(cache):
    cache.store(KEY, b"payload")
    f = _entry_file(cache, KEY)
    f.write_bytes(f.read_bytes() + b"\x00")
    assert cache.load(KEY) is None
    assert not f.exists()


@pytest.mark.parametrize("where", ["payload", "digest", "magic", "version", "length"])
def test_flipped_byte_is_a_miss(cache, where):
    payload = bytes(range(256))
    cache.store(KEY, payload)
    f = _entry_file(cache, KEY)
    blob = bytearray(f.read_bytes())
    offset = {"payload": len(blob) - 100, "digest": 30, "magic": 0, "version": 8,
              "length": 12}[where]
    blob[offset] ^= 0x01
    f.write_bytes(bytes(blob))
    assert cache.load(KEY) is None
    assert not f.exists()
    cache.store(KEY, payload)  # rebuilt after the miss
    assert cache.load(KEY) == payload


def test_garbage_file_is_a_miss(cache):
    f = _entry_file(cache, KEY)
    f.parent.mkdir(parents=True)
    f.write_bytes(os.urandom(4096))
    assert cache.load(KEY) is None
    assert not f.exists()


def test_entry_under_wrong_name_is_a_miss(cache):
    cache.store(OTHER, b"the f32 kernel")
    f = _entry_file(cache, KEY)
    f.parent.mkdir(parents=True, exist_ok=True)
    f.write_bytes(_entry_file(cache, OTHER).read_bytes())
    assert cache.load(KEY) is None
    assert not f.exists()
    assert cache.load(OTHER) == b"the f32 kernel"


def test_directory_in_place_of_entry_is_a_miss(cache):
    _entry_file(cache, KEY).mkdir(parents=True)
    assert cache.load(KEY) is None


# --- environment ----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", ["0", "false", "FALSE", "no", "off", " Off "])
def test_disabled_by_environment(monkeypatch, value):
    monkeypatch.setenv("STENCILPY_CACHE", value)
    assert not cache_enabled()
    assert default_cache() is None


@pytest.mark.parametrize("value", ["1", "yes", "on", ""])
def test_enabled_values(monkeypatch, tmp_path, value):
    monkeypatch.setenv("STENCILPY_CACHE", value)
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path))
    assert cache_enabled()
    assert isinstance(default_cache(), DiskCache)


def test_cache_dir_override_is_honoured_at_call_time(monkeypatch, tmp_path):
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    dc = default_cache()
    assert dc is not None and dc.path == tmp_path / "mine"
    dc.store(KEY, b"abc")
    assert (tmp_path / "mine" / "v1" / KEY[:2] / f"{KEY}.o").is_file()
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path / "other"))
    assert default_cache().path == tmp_path / "other"


def test_default_dir_follows_platform(monkeypatch, tmp_path):
    monkeypatch.setattr(cache_mod.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "stencilpy"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    assert cache_dir() == Path.home() / ".cache" / "stencilpy"
    monkeypatch.setattr(cache_mod.sys, "platform", "darwin")
    assert cache_dir() == Path.home() / "Library" / "Caches" / "stencilpy"
    monkeypatch.setattr(cache_mod.sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "local"))
    assert cache_dir() == tmp_path / "local" / "stencilpy" / "Cache"


def test_max_bytes_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STENCILPY_CACHE_MAX_MB", "2")
    assert DiskCache(tmp_path).max_bytes == 2 * 1024 * 1024
    monkeypatch.setenv("STENCILPY_CACHE_MAX_MB", "lots")
    with pytest.warns(RuntimeWarning, match="STENCILPY_CACHE_MAX_MB"):
        assert DiskCache(tmp_path).max_bytes == 512 * 1024 * 1024
    with pytest.raises(ValueError):
        DiskCache(tmp_path, max_bytes=0)


# --- size limit ----------------------------------------------------------------------------------

def test_eviction_keeps_size_under_limit_and_removes_oldest_first(tmp_path):
    dc = DiskCache(tmp_path, max_bytes=10_000)
    keys = [fingerprint("kernel", str(i)) for i in range(8)]
    for i, key in enumerate(keys):
        dc.store(key, bytes([i]) * 1000)
        os.utime(_entry_file(dc, key), ns=(i * 10**9, (1_000_000 + i) * 10**9))
    assert dc.entries() == 8 and dc.size_bytes() < 10_000
    dc.load(keys[0])  # touch: key 0 becomes the most recently used
    dc.store(fingerprint("big"), b"B" * 3000)
    assert dc.size_bytes() <= 9_000
    survivors = {k for k in keys if _entry_file(dc, k).exists()}
    assert keys[0] in survivors  # recently loaded, so kept
    assert keys[1] not in survivors and keys[2] not in survivors  # oldest go first
    assert survivors == {keys[0]} | set(keys[len(keys) - len(survivors) + 1:])
    assert dc.load(fingerprint("big")) == b"B" * 3000


def test_eviction_skipped_while_another_process_holds_the_lock(tmp_path):
    fcntl = pytest.importorskip("fcntl")
    dc = DiskCache(tmp_path, max_bytes=1000)
    (tmp_path / "v1").mkdir()
    with open(tmp_path / "v1" / ".evict.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for i in range(3):
            dc.store(fingerprint(str(i)), b"x" * 600)
        assert dc.entries() == 3  # over the limit, but eviction deferred
    dc.store(fingerprint("next"), b"x" * 100)
    assert dc.size_bytes() <= 900


def test_stale_temp_files_are_removed(tmp_path):
    dc = DiskCache(tmp_path, max_bytes=10_000)
    dc.store(KEY, b"x")
    shard = _entry_file(dc, KEY).parent
    stale, fresh = shard / f".{KEY}.1.dead.tmp", shard / f".{KEY}.2.live.tmp"
    stale.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(stale, (0, 0))
    dc.store(OTHER, b"y")
    assert not stale.exists() and fresh.exists()
    assert dc.entries() == 2


def test_clear(cache):
    for i in range(5):
        cache.store(fingerprint(str(i)), b"data")
    assert cache.entries() == 5 and cache.size_bytes() > 0
    assert cache.clear() == 5
    assert cache.entries() == 0 and cache.size_bytes() == 0
    assert cache.load(fingerprint("0")) is None
    assert cache.clear() == 0


def test_clear_on_missing_directory(tmp_path):
    dc = DiskCache(tmp_path / "never-created")
    assert dc.clear() == 0 and dc.entries() == 0 and dc.size_bytes() == 0


# --- unwritable directories ----------------------------------------------------------------

def test_directory_under_a_regular_file_never_raises(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    dc = DiskCache(blocker / "cache")
    with pytest.warns(RuntimeWarning, match="cannot write its kernel cache"):
        dc.store(KEY, b"data")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once only
        dc.store(OTHER, b"data")
        DiskCache(blocker / "cache").store(KEY, b"data")
    assert dc.load(KEY) is None
    assert dc.entries() == 0 and dc.clear() == 0


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root ignores permission bits (covered by the file-path test)")
def test_read_only_directory_never_raises(tmp_path):
    dc = DiskCache(tmp_path / "ro")
    dc.store(KEY, b"kept")
    for d in [tmp_path / "ro", *(p for p in (tmp_path / "ro").rglob("*") if p.is_dir())]:
        d.chmod(0o500)
    try:
        with pytest.warns(RuntimeWarning, match="cannot write"):
            dc.store(OTHER, b"lost")
        assert dc.load(OTHER) is None
        assert dc.load(KEY) == b"kept"
    finally:
        for d in (tmp_path / "ro").rglob("*"):
            d.chmod(0o700)
        (tmp_path / "ro").chmod(0o700)


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    dc = DiskCache(tmp_path)

    def boom(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache_mod.os, "fsync", boom)
    with pytest.warns(RuntimeWarning, match="No space left"):
        dc.store(KEY, b"data")
    assert _all_files(tmp_path) == []


# --- concurrency ----------------------------------------------------------------------------

N_KEYS, ROUNDS = 20, 50


def _payloads(i: int) -> list[bytes]:
    """The valid payloads for key ``i``: one per writer, of different sizes."""
    return [bytes([i, w]) * (100 + 997 * w + 31 * i) for w in range(6)]


def _worker(root: str, writer: int) -> list[str]:
    """Store and load the shared keys; return a description of every bad load.

    Once a key has been stored, renames only ever swap one valid file for
    another, so a later load must not miss (that would reveal a partial file).
    """
    dc = DiskCache(Path(root), max_bytes=1 << 30)
    keys = [fingerprint("shared", str(i)) for i in range(N_KEYS)]
    bad, stored = [], set()
    for r in range(ROUNDS):
        for i, key in enumerate(keys):
            if (r + writer) % 3 == 0:
                dc.store(key, _payloads(i)[writer])
                stored.add(i)
            got = dc.load(key)
            if got is None and i in stored:
                bad.append(f"writer {writer} round {r} key {i}: miss after store")
            elif got is not None and got not in _payloads(i):
                bad.append(f"writer {writer} round {r} key {i}: {len(got)} bytes")
    return bad


def test_concurrent_processes_share_one_directory(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(6) as pool:
        results = pool.starmap(_worker, [(str(tmp_path), w) for w in range(6)], chunksize=1)
    assert [b for r in results for b in r] == []
    leftovers = [p.name for p in _all_files(tmp_path) if p.name.endswith(".tmp")]
    assert leftovers == []
    dc = DiskCache(tmp_path)
    assert dc.entries() == N_KEYS
    for i in range(N_KEYS):
        assert dc.load(fingerprint("shared", str(i))) in _payloads(i)
