"""Threads that share a kernel's work.  The kernels claim chunks of the iteration space
from a shared counter (``codegen/nest.py``), so every thread runs the same kernel on its
own argument block until no chunk is left.

The calling thread runs the first block.  The others go to *helpers*: threads that wait
for work inside compiled code (``codegen/worker.py``), spinning briefly between calls and
then sleeping on an Event.  A job reaches a spinning helper without the GIL or a thread
wake-up; a helper that has not taken its job when the caller is done is cancelled (the
caller took every chunk), so a busy core delays nobody.  Where the helpers are not
available (non-x86, or in use by another Python thread) a thread pool runs the blocks
(the ctypes call drops the GIL).
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import platform
import threading

import numpy as np

from stencilpy.runtime.forksafe import after_fork_in_child, lazy_imports

_POOL: ThreadPoolExecutor | None = None
_LOCK = threading.Lock()
_HELPERS: list = []


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
    with _LOCK:
        if _POOL is None:
            from concurrent.futures import ThreadPoolExecutor   # lazily: keeps warm starts fast
            _POOL = ThreadPoolExecutor(max_workers=64, thread_name_prefix="stencilpy")
        return _POOL


@functools.lru_cache(maxsize=None)
def _sync():
    """The compiled ``sp_sync(box, op)`` (None where helpers are not supported)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    with lazy_imports():           # a fork waits for the imports and the compile
        from stencilpy.codegen import worker
        from stencilpy.runtime import jit

        try:
            loaded = jit.load(jit.cache_key("stencilpy-worker-1"), lambda: str(worker.build()),
                              worker.ENTRY)
        except Exception:  # pragma: no cover - the thread pool still works
            return None
    fn = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_void_p, ctypes.c_int64)(loaded.address)
    return loaded, fn


class _Helper:
    """One helper thread and its mailbox (see ``codegen/worker.py``)."""

    def __init__(self, sync):
        from stencilpy.codegen import worker

        self.states = worker
        raw = np.zeros(16, np.int64)
        start = (-raw.ctypes.data % 64) // 8
        self.box = raw[start:start + 8]
        self.address = self.box.ctypes.data
        self.sync = sync
        self.busy = threading.Lock()          # held by the caller using this helper
        self.wake = threading.Event()
        self.sleeping = True
        self.thread = threading.Thread(target=self._loop, daemon=True, name="stencilpy-helper")
        self.thread.start()

    def _loop(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            while True:
                self.sleeping = False
                if self.sync(self.address, 0) == 0:           # QUIT
                    return
                self.sleeping = True
                if self.box[0] != self.states.POSTED:
                    break

    def post(self, entry: int, block: int) -> None:
        self.box[1], self.box[2] = entry, block
        self.box[0] = self.states.POSTED
        if self.sleeping:
            self.wake.set()

    def finish(self) -> None:
        """Cancel the job if not taken, else wait until it is done."""
        self.sync(self.address, 1)

    def quit(self) -> None:
        self.box[0] = self.states.QUIT
        self.wake.set()


def _claim_helpers(n: int) -> list:
    """Up to ``n`` idle helpers, locked for the caller (made on first use)."""
    sync = _sync()
    if sync is None:
        return []
    got = []
    with _LOCK:
        for h in _HELPERS:
            if len(got) == n:
                break
            if h.busy.acquire(blocking=False):
                got.append(h)
        while len(got) < n and len(_HELPERS) < 64:
            h = _Helper(sync[1])
            h.busy.acquire()
            _HELPERS.append(h)
            got.append(h)
    return got


def _forget_helpers() -> None:
    """In a forked child the helper threads and the pool's threads do not exist: make new
    ones when needed."""
    global _LOCK, _POOL
    _HELPERS.clear()
    _LOCK = threading.Lock()
    _POOL = None


after_fork_in_child(_forget_helpers)


@atexit.register
def _stop_helpers() -> None:
    for h in list(_HELPERS):
        h.quit()
    for h in list(_HELPERS):
        h.thread.join(timeout=1.0)


def run(cfunc, addresses, entry: int | None = None) -> None:
    """Call ``cfunc(address)`` for every argument block address, in parallel when there are
    several: the calling thread runs the first, helpers (given the kernel's ``entry``
    address) or the thread pool the others."""
    if len(addresses) == 1:
        cfunc(addresses[0])
        return
    helpers = _claim_helpers(len(addresses) - 1) if entry is not None else []
    for h, a in zip(helpers, addresses[1:]):
        h.post(entry, a)
    futures = [_pool().submit(cfunc, a) for a in addresses[1 + len(helpers):]]
    try:
        cfunc(addresses[0])
    finally:
        for h in helpers:
            h.finish()
            h.busy.release()
        for f in futures:
            if not f.cancel():
                f.result()
