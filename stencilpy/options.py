"""Call options and boundary modes, normalised into frozen dataclasses.

The compile-relevant part (per-axis boundary modes, dtypes, layout) goes into
the kernel fingerprint; the rest (fill value, threads) is passed at run time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from stencilpy.errors import StencilCallError, close_match

#: accepted boundary names -> canonical mode
MODE_ALIASES = {
    "fill": "fill", "valid": "valid", "constant": "constant",
    "wrap": "wrap", "periodic": "wrap", "edge": "edge", "nearest": "edge",
    "reflect": "reflect", "symmetric": "symmetric", "extrapolate": "extrapolate",
}
PAD_MODES = ("constant", "wrap", "edge", "reflect", "symmetric", "extrapolate")
#: padding modes whose ghost values are not a copy of one entry (no index remapping): the
#: compiled backend combines entries in its remapped points (``codegen/boundary.py``)
COMBINING_MODES = ("extrapolate",)
RESERVED = ("boundary", "fill_value", "out", "domain", "threads", "check", "names", "attrs")


def _mode(value, where: str) -> str:
    if not isinstance(value, str) or value not in MODE_ALIASES:
        known = ", ".join(f"'{m}'" for m in MODE_ALIASES)
        raise StencilCallError(f"unknown boundary mode {value!r} for {where}"
                               f"{_did_you_mean(value, MODE_ALIASES)}; use one of {known}")
    return MODE_ALIASES[value]


def _did_you_mean(value, known) -> str:
    """`` (did you mean 'x'?)`` for a string much like one of ``known`` (any case), else ""."""
    if not isinstance(value, str):
        return ""
    match = value.lower() if value.lower() in known else close_match(value.lower(), known)
    return f" (did you mean '{match}'?)" if match else ""


def normalize_boundary(boundary, dims: tuple[str, ...]) -> tuple[str, ...]:
    """One canonical mode per stencil axis from a mode or ``{axis_or_dim: mode}``.

    >>> normalize_boundary({"lon": "periodic"}, ("lat", "lon"))
    ('fill', 'wrap')
    """
    if boundary is None:
        return ("fill",) * len(dims)
    if not isinstance(boundary, dict):
        mode = _mode(boundary, "every axis")
        return (mode,) * len(dims)
    modes = ["fill"] * len(dims)
    for key, value in boundary.items():
        axis = _axis_of(key, dims)
        modes[axis] = _mode(value, f"axis '{dims[axis]}'")
    return tuple(modes)


def _axis_of(key, dims: tuple[str, ...]) -> int:
    if isinstance(key, str):
        if key in dims:
            return dims.index(key)
        raise StencilCallError(f"boundary names unknown dimension '{key}'"
                               f"{_did_you_mean(key, dims)}; the stencil's dimensions are {dims}")
    if isinstance(key, int) and not isinstance(key, bool) and -len(dims) <= key < len(dims):
        return key % len(dims)
    raise StencilCallError(
        f"boundary key {key!r} is neither a dimension name {dims} nor an axis number "
        f"in range({len(dims)})")


#: STENCILPY_NUM_THREADS, raw string -> parsed value (only valid ones are kept)
_ENV_THREADS: dict[str, int] = {}


def env_threads() -> int | None:
    """``STENCILPY_NUM_THREADS`` as a number (None if unset or empty); a value that is not a
    whole number >= 1 is a ``StencilCallError``.  Cheap enough for every call: parsed once
    per distinct string."""
    env = os.environ.get("STENCILPY_NUM_THREADS")
    if not env:
        return None
    n = _ENV_THREADS.get(env)
    if n is None:
        try:
            n = int(env)
        except ValueError:
            n = 0
        if n < 1:
            raise StencilCallError(f"STENCILPY_NUM_THREADS={env!r} is not a whole number >= 1; "
                                   "set it to the number of threads to use, or unset it")
        _ENV_THREADS[env] = n
    return n


def available_cores() -> int:
    """The cores available to this process."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """``STENCILPY_NUM_THREADS``, else the cores available to this process."""
    return env_threads() or available_cores()


def check_threads(threads) -> int:
    if threads is None:
        return default_threads()
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise StencilCallError(f"threads={threads!r}: pass a whole number >= 1")
    return threads


@dataclass(frozen=True)
class CallOptions:
    """What a call asked for, after validation."""

    modes: tuple[str, ...]
    fill_value: object
    threads: int
    check: bool
