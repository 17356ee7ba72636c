"""Per-machine choices: what ``stencilpy tune`` measured on this CPU, stored in the kernel cache.

    Choices          the knobs (defaults = what stencilpy does untuned)
    identity()       CPU model name + flags + cache sizes (what a choice is valid for)
    store(choices)   -> a cache entry keyed by (identity, stencilpy's code version)
    active()         the choices calls use now: the stored ones (read once, lazily), or the
                     defaults (nothing stored, STENCILPY_TUNING=off, a distrusted cache)
    using(choices)   a context in which ``active()`` is ``choices`` (what the tuner measures)

The streaming-store thresholds are multiples of the L2 or L3 size read at run time
(``"3*L2"``, ``"0.5*L3"``), so a choice says "when a call touches more than ..." in terms of
the machine's caches, never a byte count from another machine.  The entry lives next to the
kernels and obeys the cache's trust rules (``runtime/cache.py``: a folder another user could
write is never read).  The codegen choices (vector width, interleave) are part of every
kernel's cache key (``KernelSpec.fingerprint_text``), the launch choices (threshold, chunks,
threads, hand-off) only decide how a call runs.  Standard library only: a warm start pays
one small file read.
"""

from __future__ import annotations

import contextlib
import functools
import os
from dataclasses import dataclass, fields, replace

from stencilpy.about import __version__
from stencilpy.runtime import cache as disk

__all__ = ["Choices", "DEFAULT", "active", "bytes_of", "cache_sizes", "enabled", "identity",
           "load", "store", "using"]

FORMAT = "stencilpy-tuning-1"
_OFF_WORDS = frozenset({"0", "false", "no", "off"})
_LEVELS = ("L2", "L3")


def _threshold(text: str, what: str = "threshold") -> tuple[float, str] | None:
    """``"<f>*L2"`` -> (f, "L2"); ``"never"`` -> None; else ValueError."""
    if text == "never":
        return None
    factor, sep, level = str(text).partition("*")
    try:
        f = float(factor)
    except ValueError:
        f = -1.0
    if not sep or level not in _LEVELS or not f >= 0:
        raise ValueError(f"{what} must be 'never' or '<factor>*L2' / '<factor>*L3', not {text!r}")
    return f, level


@dataclass(frozen=True)
class Choices:
    """What can be tuned; each default is stencilpy's untuned behaviour.

    ``vector_bits``: preferred vector width of kernels that do not divide (0: the built-in
    512/256 rule of ``codegen/target.py``).  ``interleave``: vector iterations of an inner
    loop in flight (``llvm.loop.interleave.count``; 0: LLVM decides).  ``stream_long`` /
    ``stream_short``: a call streams its stores when its arrays' bytes exceed this (rows of
    at least / fewer than ``launch.SHORT_ROW`` points; ``"never"`` or ``"<f>*L2|L3"``).
    Default: half the last-level cache (see ``runtime/launch.py``).
    ``chunks_per_thread``: chunks the threads claim dynamically.  ``min_points_per_thread``:
    smaller calls use fewer threads.  ``handoff``: ``"helpers"`` (threads spinning in
    compiled code) or ``"pool"`` (a Python thread pool)."""

    vector_bits: int = 0
    interleave: int = 0
    stream_long: str = "0.5*L3"
    stream_short: str = "0.5*L3"
    chunks_per_thread: int = 16
    min_points_per_thread: int = 32768
    handoff: str = "helpers"

    def __post_init__(self):
        if self.vector_bits not in (0, 128, 256, 512):
            raise ValueError(f"vector_bits must be 0, 128, 256 or 512, not {self.vector_bits}")
        if self.interleave not in (0, 1, 2, 4, 8):
            raise ValueError(f"interleave must be 0, 1, 2, 4 or 8, not {self.interleave}")
        for name in ("stream_long", "stream_short"):
            _threshold(getattr(self, name), name)
        if self.chunks_per_thread < 1 or self.min_points_per_thread < 1:
            raise ValueError("chunks_per_thread and min_points_per_thread must be positive")
        if self.handoff not in ("helpers", "pool"):
            raise ValueError(f"handoff must be 'helpers' or 'pool', not {self.handoff!r}")

    @property
    def codegen(self) -> tuple[int, int]:
        """The choices that change generated code (part of kernel cache keys)."""
        return self.vector_bits, self.interleave

    def text(self) -> str:
        """``name=value`` lines (the stored form)."""
        return "\n".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))

    @classmethod
    def parse(cls, text: str) -> Choices:
        """The inverse of ``text`` (unknown names ignored, missing ones default); raises
        ValueError on a bad value."""
        kinds = {f.name: f.type for f in fields(cls)}
        values = {}
        for line in text.splitlines():
            name, sep, value = line.partition("=")
            if sep and name in kinds:
                values[name] = int(value) if kinds[name] in ("int", int) else value
        return cls(**values)

    def differences(self) -> dict:
        """name -> value of the choices that differ from the defaults."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(DEFAULT, f.name)}


DEFAULT = Choices()


def bytes_of(threshold: str) -> float:
    """A threshold in bytes on this machine (``inf`` for ``"never"``).

    >>> bytes_of("0*L2"), bytes_of("never")
    (0.0, inf)
    """
    parsed = _threshold(threshold)
    if parsed is None:
        return float("inf")
    factor, level = parsed
    l2, l3 = cache_sizes()[1:]
    return factor * (l2 if level == "L2" else l3)


# -- the CPU ---------------------------------------------------------------------------------

def _size(text: str) -> int:
    text = text.strip().upper()
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(text[-1:], 1)
    return int(text.rstrip("KMG")) * scale


@functools.lru_cache(maxsize=None)
def cache_sizes() -> tuple[int, int, int]:
    """(L1 data, L2, L3) bytes of cpu0's caches from sysfs (32 KiB, 2 MiB, 32 MiB where
    unknown)."""
    found = {}
    base = "/sys/devices/system/cpu/cpu0/cache"
    try:
        for name in sorted(os.listdir(base)):
            if not name.startswith("index"):
                continue
            path = os.path.join(base, name)
            with open(os.path.join(path, "level")) as f:
                level = int(f.read())
            with open(os.path.join(path, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(path, "size")) as f:
                size = _size(f.read())
            if kind != "Instruction":
                found.setdefault(level, size)
    except (OSError, ValueError):
        pass
    return found.get(1, 32 << 10), found.get(2, 2 << 20), found.get(3, 32 << 20)


@functools.lru_cache(maxsize=None)
def identity() -> str:
    """The CPU a choice is valid for: model name, flags (``/proc/cpuinfo``) and cache sizes."""
    from stencilpy.runtime.jit import cpu_identity

    import platform
    l1, l2, l3 = cache_sizes()
    return "\n".join([cpu_identity() or f"machine={platform.machine()} (no /proc/cpuinfo)",
                      f"caches L1d={l1} L2={l2} L3={l3}"])


def model_line() -> str:
    """The CPU model and cache sizes in one line (for ``stencilpy info``)."""
    model = next((line.partition("=")[2] for line in identity().splitlines()
                  if line.startswith("model name=")), "unknown model")
    l1, l2, l3 = cache_sizes()
    return f"{model}; L1d {l1 >> 10} KiB, L2 {l2 >> 10} KiB, L3 {l3 >> 20} MiB"


def key(ident: str | None = None) -> str:
    """The cache key of this CPU's choices (changes with the CPU and with stencilpy's code)."""
    return disk.fingerprint("tuning", FORMAT, identity() if ident is None else ident,
                            disk.code_version(), __version__)


# -- storing and loading ---------------------------------------------------------------------

def enabled() -> bool:
    """False when ``STENCILPY_TUNING`` is 0/false/no/off (then calls use the defaults)."""
    return os.environ.get("STENCILPY_TUNING", "").strip().lower() not in _OFF_WORDS


def store(choices: Choices, notes: str = "", cache: disk.DiskCache | None = None) -> bool:
    """Store ``choices`` (and free-text ``notes``: what was measured) for this CPU; False
    when there is no usable cache.  Later ``active()`` calls in this process use them."""
    global _ACTIVE, _NOTES
    cache = cache if cache is not None else disk.default_cache()
    if cache is None:
        return False
    body = f"{FORMAT}\n{choices.text()}\n" + "".join(f"# {line}\n" for line in notes.splitlines())
    cache.store(key(), body.encode("utf-8"))
    _ACTIVE, _NOTES = None, None
    return cache.load(key()) is not None


def load(cache: disk.DiskCache | None = None) -> tuple[Choices, str] | None:
    """The stored choices and notes for this CPU, or None (none stored, unreadable, untrusted,
    or stored by another stencilpy)."""
    cache = cache if cache is not None else disk.default_cache()
    data = cache.load(key()) if cache is not None else None
    if data is None:
        return None
    try:
        text = data.decode("utf-8")
        head, _, rest = text.partition("\n")
        if head != FORMAT:
            return None
        notes = "\n".join(line[2:] for line in rest.splitlines() if line.startswith("# "))
        return Choices.parse(rest), notes
    except (UnicodeDecodeError, ValueError, TypeError):
        return None


_ACTIVE: Choices | None = None
_NOTES: str | None = None


def active() -> Choices:
    """The choices calls use now (the stored ones, read on first use; else the defaults)."""
    found = _ACTIVE
    if found is None:
        found = _load_active()
    return found


def _load_active() -> Choices:
    global _ACTIVE, _NOTES
    got = load() if enabled() else None
    _ACTIVE, _NOTES = (got if got is not None else (DEFAULT, ""))
    return _ACTIVE


def describe() -> tuple[Choices, str, str]:
    """(active choices, where they come from, the stored notes)."""
    choices = active()
    if not enabled():
        return choices, "defaults (STENCILPY_TUNING=off)", ""
    if _NOTES or choices != DEFAULT:
        return choices, "measured by 'stencilpy tune', stored in the kernel cache", _NOTES or ""
    return choices, "defaults (not tuned on this CPU: run 'stencilpy tune')", ""


def forget() -> None:
    """Read the stored choices again on the next ``active()`` (after a store or clear)."""
    global _ACTIVE, _NOTES
    _ACTIVE, _NOTES = None, None


@contextlib.contextmanager
def using(choices: Choices, **changes):
    """``active()`` returns ``choices`` (with ``changes``) inside the block (not thread-safe:
    for the tuner and tests)."""
    global _ACTIVE
    before = _ACTIVE
    _ACTIVE = replace(choices, **changes) if changes else choices
    try:
        yield _ACTIVE
    finally:
        _ACTIVE = before
