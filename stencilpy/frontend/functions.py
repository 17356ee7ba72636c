"""``@sp.function`` helpers and the language's named functions (``sp.sqrt``, ``sp.where`` ...).

Inside a stencil these names are recognised by identity and become IR calls; called
from plain Python they compute the same thing with NumPy:

>>> float(sqrt(4.0)), float(where(True, 1.0, 2.0)), float(min(3.0, 1.0, 2.0))
(2.0, 1.0, 1.0)
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import numpy

from stencilpy.errors import api_boundary
from stencilpy.ir.nodes import MATH_FUNCTIONS
from stencilpy.frontend.source import get_function_source, parameters


@dataclass(frozen=True)
class SpFunction:
    """A helper that stencils inline; called from plain Python it runs the function.

    >>> @function
    ... def twice(x):
    ...     return 2 * x
    >>> twice(21)
    42
    """

    pyfunc: Callable

    def __call__(self, *args, **kwargs):
        return self.pyfunc(*args, **kwargs)

    @property
    def __name__(self) -> str:  # type: ignore[override]
        return self.pyfunc.__name__

    @property
    def __wrapped__(self) -> Callable:
        return self.pyfunc

    def __repr__(self) -> str:
        return f"<sp.function {self.pyfunc.__qualname__}>"


@api_boundary
def function(pyfunc: Callable) -> SpFunction:
    """Decorate a helper to be inlined into stencils (its source must be available).

    The helper's body follows the stencil rules; its one ``return`` gives one expression.
    """
    if isinstance(pyfunc, SpFunction):
        return pyfunc
    parameters(get_function_source(pyfunc), "helper")
    return SpFunction(pyfunc)


# The language's functions, usable from plain Python too.  Stencils recognise them by
# identity (see resolve.py), so they are plain module-level functions.

def sqrt(x):
    """Element-wise ``sqrt`` (``numpy.sqrt`` from Python)."""
    return numpy.sqrt(x)


def exp(x):
    """Element-wise ``exp`` (``numpy.exp`` from Python)."""
    return numpy.exp(x)


def log(x):
    """Element-wise ``log`` (``numpy.log`` from Python)."""
    return numpy.log(x)


def log10(x):
    """Element-wise ``log10`` (``numpy.log10`` from Python)."""
    return numpy.log10(x)


def log2(x):
    """Element-wise ``log2`` (``numpy.log2`` from Python)."""
    return numpy.log2(x)


def expm1(x):
    """Element-wise ``expm1`` (``numpy.expm1`` from Python)."""
    return numpy.expm1(x)


def log1p(x):
    """Element-wise ``log1p`` (``numpy.log1p`` from Python)."""
    return numpy.log1p(x)


def sin(x):
    """Element-wise ``sin`` (``numpy.sin`` from Python)."""
    return numpy.sin(x)


def cos(x):
    """Element-wise ``cos`` (``numpy.cos`` from Python)."""
    return numpy.cos(x)


def tan(x):
    """Element-wise ``tan`` (``numpy.tan`` from Python)."""
    return numpy.tan(x)


def arcsin(x):
    """Element-wise ``arcsin`` (``numpy.arcsin`` from Python)."""
    return numpy.arcsin(x)


def arccos(x):
    """Element-wise ``arccos`` (``numpy.arccos`` from Python)."""
    return numpy.arccos(x)


def arctan(x):
    """Element-wise ``arctan`` (``numpy.arctan`` from Python)."""
    return numpy.arctan(x)


def sinh(x):
    """Element-wise ``sinh`` (``numpy.sinh`` from Python)."""
    return numpy.sinh(x)


def cosh(x):
    """Element-wise ``cosh`` (``numpy.cosh`` from Python)."""
    return numpy.cosh(x)


def tanh(x):
    """Element-wise ``tanh`` (``numpy.tanh`` from Python)."""
    return numpy.tanh(x)


def floor(x):
    """Element-wise ``floor`` (``numpy.floor`` from Python)."""
    return numpy.floor(x)


def ceil(x):
    """Element-wise ``ceil`` (``numpy.ceil`` from Python)."""
    return numpy.ceil(x)


def trunc(x):
    """Element-wise ``trunc`` (``numpy.trunc`` from Python)."""
    return numpy.trunc(x)


def isnan(x):
    """Element-wise ``isnan`` (``numpy.isnan`` from Python)."""
    return numpy.isnan(x)


def isinf(x):
    """Element-wise ``isinf`` (``numpy.isinf`` from Python)."""
    return numpy.isinf(x)


def isfinite(x):
    """Element-wise ``isfinite`` (``numpy.isfinite`` from Python)."""
    return numpy.isfinite(x)


def sign(x):
    """Element-wise ``sign`` (``numpy.sign`` from Python)."""
    return numpy.sign(x)


def abs(x):  # noqa: A001 - the language's abs
    """Element-wise absolute value (``numpy.absolute`` from Python)."""
    return numpy.absolute(x)


def arctan2(x, y):
    """Element-wise ``arctan2`` (``numpy.arctan2`` from Python)."""
    return numpy.arctan2(x, y)


def hypot(x, y):
    """Element-wise ``hypot`` (``numpy.hypot`` from Python)."""
    return numpy.hypot(x, y)


def power(x, y):
    """Element-wise ``power`` (``numpy.power`` from Python)."""
    return numpy.power(x, y)


def copysign(x, y):
    """Element-wise ``copysign`` (``numpy.copysign`` from Python)."""
    return numpy.copysign(x, y)


def fmod(x, y):
    """Element-wise ``fmod`` (``numpy.fmod`` from Python)."""
    return numpy.fmod(x, y)


def where(cond, x, y):
    """``x`` where ``cond`` holds, else ``y`` (``numpy.where`` from Python)."""
    return numpy.where(cond, x, y)


def min(a, b, *rest):  # noqa: A001 - the language's min
    """Element-wise minimum of two or more values (``numpy.minimum`` folded left)."""
    return functools.reduce(numpy.minimum, rest, numpy.minimum(a, b))


def max(a, b, *rest):  # noqa: A001 - the language's max
    """Element-wise maximum of two or more values (``numpy.maximum`` folded left)."""
    return functools.reduce(numpy.maximum, rest, numpy.maximum(a, b))


pi = math.pi
e = math.e
inf = math.inf
nan = math.nan

#: canonical name -> the function users call as ``sp.<name>`` (re-exported by ``stencilpy``)
LANGUAGE_NAMES: dict[str, Callable] = {name: globals()[name] for name in MATH_FUNCTIONS}

#: numeric constants users may read as ``sp.<name>`` (captured as ``Const``)
LANGUAGE_CONSTANTS: dict[str, float] = {"pi": pi, "e": e, "inf": inf, "nan": nan}
