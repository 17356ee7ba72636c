"""Locks and per-process state across ``os.fork()``.

A forked child has one thread: the one that called ``fork``.  A lock that another
thread held at that moment stays held in the child forever (its owner does not exist
there), so the child's first compile would hang; helper threads and thread pools are
gone too.  Every module-level lock of stencilpy is registered here:

* ``reset_in_child(module, name, factory)``: the child gets a fresh lock;
* ``hold_across_fork=True`` also makes ``fork`` wait (up to ``HOLD_SECONDS``) until no
  other thread holds the lock, for locks that guard foreign code with locks of its own
  (LLVM): a child forked while another thread is inside LLVM could otherwise inherit
  LLVM's internal mutexes locked.  Such a lock must be reentrant (an ``RLock``), so that
  a thread that forks while holding it does not wait for itself.

``after_fork_in_child(fn)`` registers any other per-process reset (helper threads, pools,
per-plan locks).
"""

from __future__ import annotations

import os
import threading

#: longest wait of ``fork`` for a held lock (then it forks anyway; the child resets it)
HOLD_SECONDS = 60.0


def after_fork_in_child(fn) -> None:
    """Call ``fn()`` in every child forked from now on."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=fn)


def reset_in_child(module, name: str, factory=threading.Lock, hold_across_fork: bool = False):
    """Give ``module.<name>`` (a lock) a fresh ``factory()`` in each forked child."""
    if not hasattr(os, "register_at_fork"):  # pragma: no cover - Windows: no fork
        return
    held: list = []

    def before() -> None:
        lock = getattr(module, name)
        if lock.acquire(timeout=HOLD_SECONDS):
            held.append(lock)

    def in_parent() -> None:
        while held:
            held.pop().release()

    def in_child() -> None:
        held.clear()
        setattr(module, name, factory())

    if hold_across_fork:
        os.register_at_fork(before=before, after_in_parent=in_parent, after_in_child=in_child)
    else:
        os.register_at_fork(after_in_child=in_child)
