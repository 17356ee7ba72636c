"""Locks and per-process state across ``os.fork()``.

A forked child has one thread: the one that called ``fork``.  A lock that another
thread held at that moment stays held in the child forever (its owner does not exist
there), so the child's first compile would hang; helper threads and thread pools are
gone too.  Every module-level lock of stencilpy is registered here:

* ``reset_in_child(module, name, factory)``: the child gets a fresh lock;
* with ``hold_rank=N``, ``fork`` also waits (up to ``HOLD_SECONDS``) until no other
  thread holds the lock, for locks that guard foreign code with locks of its own or lazy
  imports: a child forked while another thread is inside LLVM, or importing llvmlite or
  sympy, would inherit LLVM's mutexes or the module's import lock held (and the module
  half-imported) and hang on first use.  ``fork`` takes these locks in increasing rank,
  the order every thread takes them in (a thread holding one never waits for one of lower
  rank), so it cannot deadlock with them: the compile lock (10), ``lazy_imports()``
  (20), the LLVM lock (30).  Use a reentrant lock (an ``RLock``) where the forking thread
  itself may hold it (with a plain ``Lock`` it would wait ``HOLD_SECONDS`` for itself).

``after_fork_in_child(fn)`` registers any other per-process reset (helper threads, pools,
per-plan locks).  ``lazy_imports()`` is held while stencilpy imports a heavy module on
first use (sympy, the helper-thread code) where any thread may do it.
"""

from __future__ import annotations

import os
import sys
import threading

#: longest wait of ``fork`` for a held lock (then it forks anyway; the child resets it)
HOLD_SECONDS = 60.0

_HELD: list = []            # (rank, module, name) of the locks fork waits for
_TAKEN: list = []           # the locks the current fork took


def after_fork_in_child(fn) -> None:
    """Call ``fn()`` in every child forked from now on."""
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=fn)


def reset_in_child(module, name: str, factory=threading.Lock, hold_rank: int | None = None):
    """Give ``module.<name>`` (a lock) a fresh ``factory()`` in each forked child; with
    ``hold_rank``, also make ``fork`` wait for it (see the module docstring)."""
    after_fork_in_child(lambda: setattr(module, name, factory()))
    if hold_rank is not None:
        _HELD.append((hold_rank, module, name))
        _HELD.sort(key=lambda entry: entry[0])


def _before_fork() -> None:
    for _, module, name in _HELD:
        lock = getattr(module, name)
        if lock.acquire(timeout=HOLD_SECONDS):
            _TAKEN.append(lock)


def _after_fork_in_parent() -> None:
    while _TAKEN:
        _TAKEN.pop().release()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                        after_in_child=_TAKEN.clear)

_LAZY_IMPORTS = threading.RLock()
reset_in_child(sys.modules[__name__], "_LAZY_IMPORTS", threading.RLock, hold_rank=20)


def lazy_imports() -> threading.RLock:
    """The lock to hold around a first-use import of a heavy module (see above)."""
    return _LAZY_IMPORTS
