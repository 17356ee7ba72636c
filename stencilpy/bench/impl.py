"""What an implementation module provides to the driver.

``load()`` of each ``kernels_*`` module returns an :class:`Impl` or raises
:class:`Unavailable` with a reason that the driver prints. A binder prepares one call:
``bind(args, out, threads) -> run`` where ``run()`` computes into ``out`` (timed repeatedly,
so all set-up such as pointer extraction or scratch allocation happens in ``bind``).
"""
from dataclasses import dataclass, field
from typing import Callable

from . import kernels_numpy


class Unavailable(Exception):
    """The implementation cannot run on this machine (missing tool, import/compile error)."""


@dataclass
class Impl:
    name: str
    threaded: bool
    binders: dict                                  # kernel name -> bind(args, out, threads)
    skipped: dict = field(default_factory=dict)    # kernel name -> reason


def _numpy_binder(fn: Callable):
    def bind(args, out, threads):
        return lambda: fn(*args, out)
    return bind


def load_numpy():
    return Impl("numpy", False,
                {name: _numpy_binder(fn) for name, fn in kernels_numpy.KERNELS.items()})
