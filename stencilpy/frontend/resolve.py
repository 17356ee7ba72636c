"""Name resolution: what a global, closure or builtin name means inside a stencil.

Names are looked up when the stencil is decorated, in the function's closure cells,
then its globals, then its builtins.  A resolved object is one of:

* a number (``int``, ``float``, ``bool`` or a NumPy scalar): captured as a constant;
* a language function, recognised by identity whatever it is called:
  ``sp.sqrt``, ``np.sqrt``, ``math.sqrt``, ``from math import sqrt as s`` ... -> ``'sqrt'``;
* an ``@sp.function`` helper (inlined by the parser);
* a module, only as the base of an attribute access (``np.pi``, ``math.atan2``).

>>> import math
>>> canonical_function(math.atan2), canonical_function(abs)
('arctan2', 'abs')
"""

from __future__ import annotations

import builtins
import functools
import math
import types

import numpy

from stencilpy.frontend import functions as language
from stencilpy.ir.nodes import MATH_FUNCTIONS

_MISSING = object()

#: ``math`` names that differ from the canonical ones
_MATH_ALIASES = {"asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
                 "pow": "power", "fabs": "abs"}
#: ``numpy`` names that differ from the canonical ones (``asin`` ... exist in NumPy >= 2)
_NUMPY_ALIASES = {"absolute": "abs", "fabs": "abs", "minimum": "min", "maximum": "max",
                  "asin": "arcsin", "acos": "arccos", "atan": "arctan", "atan2": "arctan2",
                  "pow": "power"}


def _add(table: dict, module, name: str, canonical: str) -> None:
    obj = getattr(module, name, None)
    if obj is not None and callable(obj):
        table.setdefault(id(obj), (obj, canonical))


@functools.lru_cache(maxsize=None)
def _function_table() -> dict[int, tuple[object, str]]:
    """``id(object) -> (object, canonical name)`` for every recognised function."""
    table: dict[int, tuple[object, str]] = {}
    for canonical, obj in language.LANGUAGE_NAMES.items():
        table[id(obj)] = (obj, canonical)
    for name in ("abs", "min", "max"):
        _add(table, builtins, name, name)
    for canonical in MATH_FUNCTIONS:
        if canonical not in ("abs", "min", "max", "where"):
            _add(table, math, canonical, canonical)
            _add(table, numpy, canonical, canonical)
    _add(table, numpy, "where", "where")
    _add(table, numpy, "abs", "abs")
    for name, canonical in _MATH_ALIASES.items():
        _add(table, math, name, canonical)
    for name, canonical in _NUMPY_ALIASES.items():
        _add(table, numpy, name, canonical)
    return table


def canonical_function(obj) -> str | None:
    """The canonical language name of function ``obj``, or None if it is not one."""
    entry = _function_table().get(id(obj))
    return entry[1] if entry is not None and entry[0] is obj else None


def as_constant(obj) -> bool | int | float | None:
    """``obj`` as a Python number if it is a real scalar, else None."""
    if isinstance(obj, (bool, numpy.bool_)):
        return bool(obj)
    if isinstance(obj, (int, numpy.integer)):
        return int(obj)
    if isinstance(obj, (float, numpy.floating)):
        return float(obj)
    return None


def describe(obj) -> str:
    """A few words saying what ``obj`` is, for error messages."""
    if isinstance(obj, types.ModuleType):
        return f"the module '{obj.__name__}'"
    if isinstance(obj, numpy.ndarray):
        return f"a NumPy array of shape {obj.shape}"
    if callable(obj):
        return f"the function '{getattr(obj, '__qualname__', getattr(obj, '__name__', obj))}'"
    return f"a value of type '{type(obj).__name__}'"


class Namespace:
    """The names a Python function sees: closure cells, then globals, then builtins."""

    def __init__(self, pyfunc):
        code = pyfunc.__code__
        self._cells = dict(zip(code.co_freevars, pyfunc.__closure__ or ()))
        self._globals = pyfunc.__globals__
        found = getattr(pyfunc, "__builtins__", None) or self._globals.get("__builtins__", builtins)
        self._builtins = found if isinstance(found, dict) else vars(found)

    def lookup(self, name: str):
        """The object bound to ``name``, or ``MISSING``."""
        cell = self._cells.get(name)
        if cell is not None:
            try:
                return cell.cell_contents
            except ValueError:  # an empty cell: assigned after the stencil was defined
                return _MISSING
        if name in self._globals:
            return self._globals[name]
        return self._builtins.get(name, _MISSING)

    def names(self) -> set[str]:
        """The closure's and the module's names, and the builtins a stencil may call."""
        return {*self._cells, *self._globals, "abs", "min", "max"}


MISSING = _MISSING
