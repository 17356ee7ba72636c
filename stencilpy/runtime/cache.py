"""On-disk, content-addressed cache of compiled kernel object code.

Three kinds of entries share the directory, each under its own fingerprint:
kernel object code (``runtime/jit.py``), the frozen analysis of each stencil
(``runtime/plans.py``) and the CPU name/features LLVM reports for this host
(``jit.host``), so that a warm start needs neither sympy nor LLVM.  Every key
includes ``code_version()``: stencilpy's version plus a hash of its compiler's
source, so that an edited compiler never loads what an older one stored.

Layout: ``<dir>/v1/<key[:2]>/<key>.o``. Each entry is a header followed by
the payload::

    magic (8) | version u16 | key length u16 | payload length u64 | sha256 (32)
    | key (ascii) | payload

``load`` checks every field; an entry that is truncated, corrupt, foreign or
stored under the wrong name is deleted and reported as a miss (``None``),
never as an exception and never as wrong bytes.

Writes go to a uniquely named temp file in the same directory, are fsync'ed
and then ``os.replace``'d into place, so concurrent readers see either the
old entry, the new one or nothing. Two writers of one key both succeed (the
last rename wins; both contents are valid). After a store that pushes the
total over ``max_bytes``, least-recently-used entries (by mtime; ``load``
touches it) are deleted until the total is under 90 % of the limit. Eviction
takes a non-blocking ``flock`` and is skipped while another process holds it.

An unwritable cache directory never breaks compilation: ``store`` does
nothing (one warning per directory and process) and ``load`` misses.
Standard library only (sha256 from the built-in ``_sha256``/``_sha2`` module when
present: ``hashlib`` loads OpenSSL, several milliseconds of start-up).
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from stencilpy.about import __version__

try:  # the built-in sha256 loads in ~0.3 ms; hashlib loads OpenSSL (several ms at start-up)
    from _sha2 import sha256 as _sha256  # Python >= 3.12
except ImportError:  # pragma: no cover - depends on the Python version
    try:
        from _sha256 import sha256 as _sha256
    except ImportError:
        from hashlib import sha256 as _sha256

try:  # POSIX only; without it eviction runs unlocked (deletions are idempotent)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["DiskCache", "cache_dir", "cache_enabled", "code_version", "default_cache",
           "fingerprint"]

FORMAT_VERSION = 1
_MAGIC = b"SPYKOBJ\x00"
_HEADER = struct.Struct("<8sHHQ32s")  # magic, version, key length, payload length, sha256
_LAYOUT = f"v{FORMAT_VERSION}"
_SUFFIX = ".o"
_TMP_SUFFIX = ".tmp"
_KEY_RE = re.compile(r"[0-9a-z][0-9a-z_-]{1,127}")  # lowercase: safe on case-insensitive FSs
_DEFAULT_MAX_MB = 512
_EVICT_TO = 0.9  # evict down to this fraction of max_bytes
_STALE_TMP_SECONDS = 3600.0
_FALSE_WORDS = frozenset({"0", "false", "no", "off"})
_warned_dirs: set[str] = set()
#: the parts of the package whose source decides what a cached plan or kernel contains
_CODE_PARTS = ("analysis/", "codegen/", "ir/", "passes/", "options.py", "runtime/jit.py",
               "runtime/kernel.py", "runtime/loader.py", "runtime/plans.py")
_code_version: str | None = None


def cache_enabled() -> bool:
    """False when ``STENCILPY_CACHE`` is 0/false/no/off (any case), else True."""
    return os.environ.get("STENCILPY_CACHE", "").strip().lower() not in _FALSE_WORDS


def cache_dir() -> Path:
    """``STENCILPY_CACHE_DIR`` if set, else the platform's user cache dir + ``stencilpy``."""
    override = os.environ.get("STENCILPY_CACHE_DIR", "").strip()
    if override:
        return Path(override).expanduser()
    home = Path.home()
    if sys.platform == "darwin":
        return home / "Library" / "Caches" / "stencilpy"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(local) / "stencilpy" / "Cache"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else home / ".cache"  # XDG: ignore relative paths
    return base / "stencilpy"


def fingerprint(*parts: str | bytes) -> str:
    """sha256 hex of an unambiguous (type-tagged, length-prefixed) encoding of ``parts``.

    >>> fingerprint("ab", "c") != fingerprint("a", "bc")
    True
    """
    h = _sha256(b"stencilpy-fingerprint-v1\x00")
    h.update(struct.pack("<Q", len(parts)))
    for part in parts:
        if isinstance(part, str):
            tag, data = b"s", part.encode("utf-8")
        elif isinstance(part, (bytes, bytearray, memoryview)):
            tag, data = b"b", bytes(part)
        else:
            raise TypeError(f"fingerprint parts must be str or bytes, not '{type(part).__name__}'")
        h.update(tag + struct.pack("<Q", len(data)))
        h.update(data)
    return h.hexdigest()


def code_version() -> str:
    """stencilpy's version plus a hash of the source that generates plans and kernels.

    Part of every cache key, so an edited compiler (a development checkout, or a
    reinstall without a version bump) never loads code built by the old one.
    Computed once per process (about a millisecond).
    """
    global _code_version
    if _code_version is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        h = _sha256()
        for part in _CODE_PARTS:
            try:
                names = sorted(part + n for n in os.listdir(os.path.join(root, part))
                               if n.endswith(".py")) if part.endswith("/") else [part]
            except OSError:
                names = [part]
            for name in names:
                try:
                    with open(os.path.join(root, name), "rb") as f:
                        data = f.read()
                except OSError:  # not a plain file tree (e.g. zipped): the version must do
                    data = b"?"
                h.update(f"{name}\0{len(data)}\0".encode())
                h.update(data)
        _code_version = f"{__version__}+{h.hexdigest()[:16]}"
    return _code_version


def default_cache() -> DiskCache | None:
    """The cache configured by the environment right now, or None when disabled."""
    return DiskCache() if cache_enabled() else None


def _env_max_bytes() -> int:
    raw = os.environ.get("STENCILPY_CACHE_MAX_MB", "").strip()
    if raw:
        try:
            mb = float(raw)
            if mb > 0:
                return int(mb * 1024 * 1024)
        except ValueError:
            pass
        warnings.warn(f"ignoring invalid STENCILPY_CACHE_MAX_MB='{raw}' (want a positive "
                      f"number); using {_DEFAULT_MAX_MB} MB", RuntimeWarning, stacklevel=3)
    return _DEFAULT_MAX_MB * 1024 * 1024


def _unlink_quietly(path: str | Path) -> bool:
    try:
        os.unlink(path)
        return True
    except OSError:  # already gone (a racing reader/evictor), or not ours to delete
        return False


def _encode(key: str, data: bytes) -> bytes:
    kb = key.encode("ascii")
    header = _HEADER.pack(_MAGIC, FORMAT_VERSION, len(kb), len(data), _sha256(data).digest())
    return header + kb + data


def _read_valid(f, key: str) -> bytes | None:
    """Payload of the open entry ``f`` if every header field checks out, else None."""
    head = f.read(_HEADER.size)
    if len(head) != _HEADER.size:
        return None
    magic, version, klen, plen, digest = _HEADER.unpack(head)
    if magic != _MAGIC or version != FORMAT_VERSION:
        return None
    if os.fstat(f.fileno()).st_size != _HEADER.size + klen + plen:
        return None  # truncated or padded; also avoids reading huge foreign files
    if f.read(klen) != key.encode("ascii"):
        return None
    payload = f.read(plen)
    if len(payload) != plen or _sha256(payload).digest() != digest:
        return None
    return payload


class DiskCache:
    """A directory of compiled object files, safe to share between processes.

    ``directory`` defaults to :func:`cache_dir`; ``max_bytes`` defaults to
    ``STENCILPY_CACHE_MAX_MB`` MiB (512). Construction does no I/O.

    >>> import tempfile
    >>> cache = DiskCache(Path(tempfile.mkdtemp()))
    >>> key = fingerprint("ir text", "float64", "O3", "cpu", "versions")
    >>> cache.store(key, b"object code")
    >>> cache.load(key), cache.entries()
    (b'object code', 1)
    """

    def __init__(self, directory: Path | None = None, max_bytes: int | None = None):
        self._root = Path(directory) if directory is not None else cache_dir()
        if max_bytes is not None and max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.max_bytes = max_bytes if max_bytes is not None else _env_max_bytes()
        self._base = self._root / _LAYOUT

    @property
    def path(self) -> Path:
        """The cache's root directory (entries live under ``path / 'v1'``)."""
        return self._root

    def __repr__(self) -> str:
        return f"DiskCache({str(self._root)!r}, max_bytes={self.max_bytes})"

    def _entry_path(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY_RE.fullmatch(key):
            raise ValueError(f"invalid cache key {key!r}; use fingerprint() to make one")
        return self._base / key[:2] / (key + _SUFFIX)

    def load(self, key: str) -> bytes | None:
        """The payload stored under ``key``, or None (miss, unreadable or invalid entry)."""
        path = self._entry_path(key)
        try:
            with open(path, "rb") as f:
                payload = _read_valid(f, key)
                ino = os.fstat(f.fileno()).st_ino
        except OSError:
            return None
        if payload is None:
            self._discard(path, ino)
            return None
        try:
            os.utime(path)  # LRU: mark as recently used
        except OSError:
            pass
        return payload

    def _discard(self, path: Path, ino: int) -> None:
        """Delete a bad entry unless a writer has already replaced it with a new file."""
        try:
            if os.stat(path).st_ino != ino:
                return
        except OSError:
            return
        _unlink_quietly(path)

    def store(self, key: str, data: bytes) -> None:
        """Atomically write ``data`` under ``key``; never raises on I/O failure."""
        path = self._entry_path(key)
        blob = _encode(key, bytes(data))
        try:
            tmp = self._write_temp(path, blob)
        except OSError as exc:
            self._warn_unwritable(exc)
            return
        try:
            os.replace(tmp, path)
        except OSError:  # e.g. Windows: target open elsewhere; the other copy is as good
            _unlink_quietly(tmp)
            return
        self._evict_if_needed()

    def _write_temp(self, path: Path, blob: bytes) -> str:
        """Write ``blob`` to a fresh, fsync'ed temp file next to ``path``; return its name."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = str(path.parent / f".{path.stem}.{os.getpid()}.{os.urandom(8).hex()}{_TMP_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o644)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
        except BaseException:
            _unlink_quietly(tmp)
            raise
        return tmp

    def _warn_unwritable(self, exc: OSError) -> None:
        if str(self._root) in _warned_dirs:
            return
        _warned_dirs.add(str(self._root))
        warnings.warn(
            f"stencilpy cannot write its kernel cache in '{self._root}' ({exc}); compiled "
            "kernels will not be cached. Set STENCILPY_CACHE_DIR to a writable directory, "
            "or STENCILPY_CACHE=0 to disable the cache.", RuntimeWarning, stacklevel=3)

    def _scan(self) -> list[tuple[int, str, int]]:
        """``(mtime_ns, path, size)`` of every entry; deletes stale temp files on the way."""
        found, now = [], time.time()
        try:
            shards = [d.path for d in os.scandir(self._base) if d.is_dir(follow_symlinks=False)]
        except OSError:
            return found
        for shard in shards:
            try:
                items = list(os.scandir(shard))
            except OSError:
                continue
            for item in items:
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # raced with a delete
                if item.name.endswith(_SUFFIX):
                    found.append((st.st_mtime_ns, item.path, st.st_size))
                elif item.name.endswith(_TMP_SUFFIX) and now - st.st_mtime > _STALE_TMP_SECONDS:
                    _unlink_quietly(item.path)  # left behind by a killed writer
        return found

    def size_bytes(self) -> int:
        """Total size of all entries, in bytes."""
        return sum(size for _, _, size in self._scan())

    def entries(self) -> int:
        """Number of entries on disk."""
        return len(self._scan())

    def clear(self) -> int:
        """Delete every entry (and stale temp files); return how many entries were removed."""
        return sum(_unlink_quietly(path) for _, path, _ in self._scan())

    def _evict_if_needed(self) -> None:
        found = self._scan()
        total = sum(size for _, _, size in found)
        if total <= self.max_bytes:
            return
        with _eviction_lock(self._base) as acquired:
            if acquired:
                self._evict(self._scan(), int(self.max_bytes * _EVICT_TO))

    @staticmethod
    def _evict(found: list[tuple[int, str, int]], target: int) -> None:
        """Delete least-recently-used entries until the total is at most ``target``."""
        total = sum(size for _, _, size in found)
        for _, path, size in sorted(found):
            if total <= target:
                break
            _unlink_quietly(path)
            total -= size  # count it even if a racer deleted it first: it is gone either way


@contextlib.contextmanager
def _eviction_lock(base: Path) -> Iterator[bool]:
    """Non-blocking exclusive ``flock``; yields False if another process is evicting.

    Without fcntl (Windows) it yields True: concurrent evictors only race on
    unlinks, which are harmless.
    """
    if fcntl is None:
        yield True
        return
    try:
        fd = os.open(base / ".evict.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        acquired = True
    except OSError:  # BlockingIOError: busy
        acquired = False
    try:
        yield acquired
    finally:
        os.close(fd)  # closing releases the flock
