"""Pickling ``Stencil`` objects (for dask.distributed and multiprocessing).

A stencil is rebuilt from its Python function, never from compiled code: the
receiving process re-runs the decorator and its kernels come from the shared disk
cache (or are compiled there).

* importable at module level (``module.name`` is the stencil): pickled by reference,
  like a function; the receiver imports the module;
* otherwise (``__main__``, a notebook, a function's local): the function is pickled
  by value with cloudpickle together with the lines of its source file, which the
  receiver puts into ``linecache`` when its own copy is missing or differs (so the
  source is there for parsing).  One stencil is rebuilt once per process.

The stencil's class travels in the pickle by reference, so this module never imports
the decorator (which imports it): the import arrow points one way.
"""

from __future__ import annotations

import hashlib
import linecache
import os
import pickle
import sys
import threading
import weakref

_REBUILT: dict = {}                               # payload digest -> stencil rebuilt here
_SENT = weakref.WeakValueDictionary()             # payload digest -> stencil pickled here
_PAYLOADS = weakref.WeakKeyDictionary()           # stencil -> its payload
_LOCK = threading.Lock()


def _new_lock_in_child() -> None:
    """A forked child has none of the threads that may hold the lock (runtime/forksafe.py
    does this for the runtime's locks; adapters do not import the runtime)."""
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_in_child)


def _lookup(module, qualname: str):
    obj = module
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    return obj


def reduce_stencil(stencil):
    """``Stencil.__reduce__``."""
    module_name = getattr(stencil, "__module__", None)
    module = sys.modules.get(module_name or "")
    qualname = getattr(stencil, "__qualname__", "")
    if module is not None and module_name != "__main__" and "<" not in qualname \
            and _lookup(module, qualname) is stencil:
        return qualname
    payload = _PAYLOADS.get(stencil)
    if payload is None:
        import cloudpickle
        code = stencil.pyfunc.__code__
        lines = tuple(linecache.getlines(code.co_filename))
        payload = cloudpickle.dumps((stencil.pyfunc, stencil.dims_argument, stencil.backend,
                                     code.co_filename, lines, stencil.regions))
        with _LOCK:
            _PAYLOADS[stencil] = payload
            _SENT[hashlib.sha256(payload).digest()] = stencil
    return rebuild_stencil, (type(stencil), payload)


def rebuild_stencil(cls, payload: bytes):
    """The stencil pickled by ``reduce_stencil``, rebuilt as ``cls`` (cached per process)."""
    key = hashlib.sha256(payload).digest()
    with _LOCK:
        found = _SENT.get(key) or _REBUILT.get(key)
        if found is None:
            pyfunc, dims, backend, filename, lines, regions = pickle.loads(payload)
            if pyfunc.__code__.co_filename != filename:    # cloudpickle may drop it
                pyfunc.__code__ = pyfunc.__code__.replace(co_filename=filename)
            if lines and tuple(linecache.getlines(filename)) != lines:
                # mtime None: linecache keeps the entry (as for code from a loader)
                linecache.cache[filename] = (sum(map(len, lines)), None, list(lines), filename)
            found = _REBUILT[key] = cls(pyfunc, dims=dims, backend=backend, regions=regions)
    return found
