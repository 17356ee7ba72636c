"""Threads that split a kernel's iteration space.  The ctypes call releases
the GIL, so Python threads run compiled kernels in parallel."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def split(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    """``[lo, hi)`` cut into at most ``parts`` contiguous, nearly equal, non-empty pieces.

    >>> split(0, 10, 3)
    [(0, 4), (4, 7), (7, 10)]
    """
    n = hi - lo
    parts = max(1, min(parts, n)) if n > 0 else 1
    base, extra = divmod(n, parts)
    out, start = [], lo
    for k in range(parts):
        stop = start + base + (1 if k < extra else 0)
        out.append((start, stop))
        start = stop
    return out


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="stencilpy")
        return _POOL


def run(cfunc, blocks) -> None:
    """Call ``cfunc(block)`` for every argument block, in parallel when there are several."""
    if len(blocks) == 1:
        cfunc(blocks[0].ctypes.data)
        return
    futures = [_pool().submit(cfunc, b.ctypes.data) for b in blocks[1:]]
    cfunc(blocks[0].ctypes.data)
    for f in futures:
        f.result()
