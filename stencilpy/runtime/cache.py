"""On-disk, content-addressed cache of compiled kernel object code.

Three kinds of entries share the directory, each under its own fingerprint:
kernel object code (``runtime/jit.py``), the frozen analysis of each stencil
(``runtime/plan_cache.py``) and the CPU name/features LLVM reports for this host
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

Trust (the cache holds machine code that is loaded and run, so a planted entry
is planted code; a checksum only detects accidents, anyone can recompute it):
folders are created private (0700) and entries 0600; an entry is loaded only
when the cache folder, ``v1``, its shard folder and the entry itself are owned
by the effective user and writable by nobody else (as ssh's StrictModes), the
folders below the root are real folders (no symbolic links) and the entry is a
regular file (opened with ``O_NOFOLLOW | O_NONBLOCK``: a symbolic link or a
FIFO is a miss, never a hang).  Anything else warns once per folder and
process and compiles instead (nothing is read from or written to that folder).
``clear`` deletes only regular files inside the cache and never follows a link.
Standard library only (sha256 from the built-in ``_sha256``/``_sha2`` module when
present: ``hashlib`` loads OpenSSL, several milliseconds of start-up).
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
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
_distrusted_warned: set[str] = set()
#: mode of the folders and entries stencilpy creates (private to the user)
_DIR_MODE, _FILE_MODE = 0o700, 0o600
#: ``os.open`` flags of a read: no symbolic link, no blocking on a FIFO or device
_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
#: the parts of the package whose source decides what a cached plan or kernel contains
_CODE_PARTS = ("analysis/", "codegen/", "ir/", "passes/", "options.py", "runtime/jit.py",
               "compile.py", "runtime/loader.py", "runtime/plan_cache.py", "codegen/gpu/",
               "runtime/gpu/ptx.py", "runtime/gpu/emulate.py")
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


def _code_files(root: str) -> list[str]:
    """The package files (relative names, sorted) whose source decides plans and kernels."""
    names = []
    for part in _CODE_PARTS:
        try:
            names += sorted(part + n for n in os.listdir(os.path.join(root, part))
                            if n.endswith(".py")) if part.endswith("/") else [part]
        except OSError:
            names.append(part)
    return names


def _stamps(root: str, names: list[str]) -> str | None:
    """Name, size, mtime (ns) and inode of every file: what says a file is unchanged (None
    when one cannot be examined)."""
    out = []
    for name in names:
        try:
            st = os.stat(os.path.join(root, name))
        except OSError:
            return None
        out.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}")
    return "\n".join(out)


def _hash_sources(root: str, names: list[str]) -> str:
    h = _sha256()
    for name in names:
        try:
            with open(os.path.join(root, name), "rb") as f:
                data = f.read()
        except OSError:  # not a plain file tree (e.g. zipped): the version must do
            data = b"?"
        h.update(f"{name}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()[:16]


def code_version() -> str:
    """stencilpy's version plus a hash of the source that generates plans and kernels.

    Part of every cache key, so an edited compiler (a development checkout, or a
    reinstall without a version bump) never loads code built by the old one.  Computed
    once per process: the hash itself (reading ~150 files, a few milliseconds) is kept in
    the cache under the files' stamps (size, mtime, inode), so a warm start only stats them.
    """
    global _code_version
    if _code_version is None:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        names = _code_files(root)
        stamps = _stamps(root, names)
        cache = default_cache() if stamps is not None else None
        key = fingerprint("code-stamps", __version__, root, stamps) if cache else None
        found = cache.load(key) if cache is not None else None
        digest = found.decode("ascii", "replace") if found is not None else ""
        if not re.fullmatch(r"[0-9a-f]{16}", digest):
            digest = _hash_sources(root, names)
            if cache is not None and _stamps(root, names) == stamps:   # unchanged meanwhile
                cache.store(key, digest.encode("ascii"))
        _code_version = f"{__version__}+{digest}"
    return _code_version


def default_cache() -> DiskCache | None:
    """The cache configured by the environment right now, or None when disabled."""
    return DiskCache() if cache_enabled() else None


#: the largest size limit (``STENCILPY_CACHE_MAX_MB=inf`` or any larger number: no limit)
UNLIMITED_BYTES = 2**63 - 1


def _env_max_bytes() -> int:
    raw = os.environ.get("STENCILPY_CACHE_MAX_MB", "").strip()
    if raw:
        try:
            mb = float(raw)
            if mb > 0:  # false for NaN
                return UNLIMITED_BYTES if mb * 1024 * 1024 >= UNLIMITED_BYTES \
                    else int(mb * 1024 * 1024)
        except ValueError:
            pass
        warnings.warn(f"ignoring invalid STENCILPY_CACHE_MAX_MB='{raw}' (want a positive "
                      f"number); using {_DEFAULT_MAX_MB} MB", RuntimeWarning, stacklevel=3)
    return _DEFAULT_MAX_MB * 1024 * 1024


def distrust(st: os.stat_result, what: str) -> str | None:
    """Why a file or folder (its ``stat``) could hold code that another user wrote, or
    None: it must be owned by the effective user and writable by nobody else."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - Windows: ACLs, not mode bits
        return None
    if st.st_uid != os.geteuid():
        return f"{what} is owned by uid {st.st_uid}, not by you (uid {os.geteuid()})"
    if st.st_mode & 0o022:
        return f"{what} is writable by its group or by others (mode {stat.S_IMODE(st.st_mode):o})"
    return None


def _folder_stat(path, follow: bool = False) -> os.stat_result | None:
    """``stat`` of ``path`` if it is a folder (a symbolic link only when ``follow``)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISDIR(st.st_mode) else None


def _distrust_dir(path: Path, what: str, follow: bool = False) -> str | None:
    """None if ``path`` is a trusted folder (no symbolic link unless ``follow``); else why
    not ("missing" when it does not exist or cannot be examined: a miss, not a warning)."""
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except OSError:
        return "missing"
    if not stat.S_ISDIR(st.st_mode):
        return f"{what} is not a folder" + (" (a symbolic link)" if stat.S_ISLNK(st.st_mode) else "")
    return distrust(st, what)


def _mine(st: os.stat_result | None) -> bool:
    return st is not None and (not hasattr(os, "geteuid") or st.st_uid == os.geteuid())


def _make_private_dir(path: Path) -> None:
    """Create ``path`` (0700) if missing; its parents as ``mkdir -p`` does."""
    try:
        os.mkdir(path, _DIR_MODE)
    except FileExistsError:
        pass
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(path, _DIR_MODE)
        except FileExistsError:
            pass


_FD_WALK = hasattr(os, "geteuid") and {os.open, os.stat, os.unlink} <= os.supports_dir_fd \
    and hasattr(os, "O_DIRECTORY") and hasattr(os, "O_NOFOLLOW")


@contextlib.contextmanager
def _open_folder(name, dir_fd: int | None = None) -> Iterator[int | None]:
    """An fd of the folder ``name`` (relative to ``dir_fd``) if it is a real folder of
    the user (not a symbolic link), else None."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                     dir_fd=dir_fd)
    except OSError:
        yield None
        return
    try:
        yield fd if _mine(os.fstat(fd)) else None
    finally:
        os.close(fd)


def _listdir(fd: int) -> list[str]:
    try:
        return os.listdir(fd)
    except OSError:
        return []


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

    def _trusted_dirs(self, path: Path, create: bool = False) -> bool:
        """Whether the folders holding entry ``path`` may be trusted (see the module
        docstring); ``create``: make the missing ones (0700) first.  Warns once per
        folder and process when they may not."""
        chain = ((self._root, "the cache folder", True), (self._base, "its 'v1' folder", False),
                 (path.parent, f"its shard folder '{path.parent.name}'", False))
        for folder, what, follow in chain:
            if create:
                _make_private_dir(folder)  # an OSError reaches store(), which warns
            why = _distrust_dir(folder, what, follow)
            if why == "missing":
                return False
            if why is not None:
                self._warn_distrusted(why)
                return False
        return True

    def _warn_distrusted(self, why: str) -> None:
        if str(self._root) in _distrusted_warned:
            return
        _distrusted_warned.add(str(self._root))
        warnings.warn(
            f"stencilpy does not use its kernel cache in '{self._root}': {why}, so another "
            "user could have written the machine code it holds; kernels are compiled instead. "
            "Make the folders yours and private (chmod -R go-w, or 'stencilpy cache clear', "
            "which also does that), or set STENCILPY_CACHE_DIR to a private folder.",
            RuntimeWarning, stacklevel=4)

    def load(self, key: str) -> bytes | None:
        """The payload stored under ``key``, or None (miss, unreadable, invalid or
        untrusted entry)."""
        path = self._entry_path(key)
        if not self._trusted_dirs(path):
            return None
        try:
            fd = os.open(path, _READ_FLAGS)
        except OSError:  # missing, a symbolic link (ELOOP), unreadable
            return None
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None  # a FIFO, device or folder: never ours, never read
            why = distrust(st, f"entry '{path.name}'")
            if why is not None:
                self._warn_distrusted(why)
                return None
            with os.fdopen(os.dup(fd), "rb") as f:
                payload = _read_valid(f, key)
            if payload is not None:
                with contextlib.suppress(OSError, NotImplementedError):
                    os.utime(fd if os.utime in os.supports_fd else path)  # LRU: recently used
        except OSError:
            return None
        finally:
            os.close(fd)
        if payload is None:
            self._discard(path, st.st_ino)
        return payload

    def _discard(self, path: Path, ino: int) -> None:
        """Delete a bad entry unless a writer has already replaced it with a new file."""
        try:
            if os.lstat(path).st_ino != ino:
                return
        except OSError:
            return
        _unlink_quietly(path)

    def store(self, key: str, data: bytes) -> None:
        """Atomically write ``data`` under ``key``; never raises on I/O failure."""
        path = self._entry_path(key)
        blob = _encode(key, bytes(data))
        try:
            if not self._trusted_dirs(path, create=True):
                return
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
        tmp = str(path.parent / f".{path.stem}.{os.getpid()}.{os.urandom(8).hex()}{_TMP_SUFFIX}")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, _FILE_MODE)
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

    def _scan(self, owned_only: bool = True) -> list[tuple[int, str, int]]:
        """``(mtime_ns, path, size)`` of every entry (regular files in real folders: no
        symbolic link is followed); deletes stale temp files on the way.  ``owned_only``:
        only in folders that are the user's and private (else: the user's)."""
        found, now = [], time.time()

        def usable(path, follow=False) -> bool:
            st = _folder_stat(path, follow)
            return _mine(st) if not owned_only else st is not None and distrust(st, "") is None

        if not usable(self._root, follow=True) or not usable(self._base):
            return found
        try:
            shards = [d.path for d in os.scandir(self._base) if d.is_dir(follow_symlinks=False)]
        except OSError:
            return found
        for shard in shards:
            if not usable(shard):
                continue
            try:
                items = list(os.scandir(shard))
            except OSError:
                continue
            for item in items:
                try:
                    st = item.stat(follow_symlinks=False)
                except OSError:
                    continue  # raced with a delete
                if not stat.S_ISREG(st.st_mode):
                    continue  # never ours: not counted, not deleted
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
        """Delete every entry (and stale temp files); return how many entries were removed.

        Only regular files inside the cache's own folders are deleted (no symbolic link
        is followed, folders of other users are left alone); the user's folders are made
        private (0700) again, so that a cache that was distrusted is used again."""
        if not _FD_WALK:  # pragma: no cover - no dir_fd (Windows): by path
            return sum(_unlink_quietly(path) for _, path, _ in self._scan(owned_only=False))
        removed = 0
        if not _mine(_folder_stat(self._root, follow=True)):
            return removed
        with _open_folder(self._base) as base:
            if base is None:
                return removed
            for name in _listdir(base):
                with _open_folder(name, base) as shard:
                    if shard is None:
                        continue
                    for item in _listdir(shard):
                        try:  # relative to the open folder: a swapped-in link is never followed
                            st = os.stat(item, dir_fd=shard, follow_symlinks=False)
                            if stat.S_ISREG(st.st_mode) and item.endswith((_SUFFIX, _TMP_SUFFIX)):
                                os.unlink(item, dir_fd=shard)
                                removed += item.endswith(_SUFFIX)
                        except OSError:
                            pass
                    with contextlib.suppress(OSError):
                        os.chmod(shard, _DIR_MODE)
            with contextlib.suppress(OSError):
                os.chmod(base, _DIR_MODE)
        with contextlib.suppress(OSError):
            os.chmod(self._root, _DIR_MODE)
        _distrusted_warned.discard(str(self._root))
        return removed

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
        fd = os.open(base / ".evict.lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
                     | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0), _FILE_MODE)
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
