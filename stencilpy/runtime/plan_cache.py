"""The frozen analysis (``analysis.Plan``) of a stencil, kept in the disk cache.

The analysis runs sympy, whose import alone costs a few hundred milliseconds; a
warm start loads the plan instead. Entries live in the same ``DiskCache`` as the
object code, under the key ``fingerprint("plan", canonical IR text, code version)``
(``cache.code_version()`` changes with stencilpy's version and with the source of
the analysis), so a changed stencil body or a changed analysis never sees a stale
plan. The payload is the ``repr`` of plain tuples, strings, ints and None, read
back with ``ast.literal_eval`` and checked field by field (never pickle: an entry
can be wrong but cannot run code; and no json import on the warm path). An entry
that does not decode to a well-formed plan for this stencil is a miss and is rewritten.
A column stencil's ``SweepPlan`` is not kept: it is derived without sympy, faster than a
cache entry is read.

>>> from stencilpy.frontend import parse_stencil
>>> def d(u):
...     return u[1] - u[-2]
>>> plan = analyse_cached(parse_stencil(d), cache=None)
>>> plan.halo, decode(encode(plan), plan.dims) == plan
(((2, 1),), True)
"""

from __future__ import annotations

import ast

from stencilpy.analysis.bounds import Plan, StagePlan
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil
from stencilpy.runtime import cache as disk
from stencilpy.runtime.forksafe import lazy_imports

_FORMAT = "stencilpy-plan-2"
_DEFAULT = object()


def plan_key(stencil: N.Stencil) -> str:
    """Cache key of ``stencil``'s plan (canonical IR text + code version)."""
    return disk.fingerprint("plan", _FORMAT, format_stencil(stencil), disk.code_version())


def encode(plan: Plan) -> bytes:
    """``plan`` as the text of a Python literal (tuples, strings, ints, None)."""
    stages = tuple((s.target, tuple(s.inline), _ext(s.region),
                    tuple((name, _ext(ext)) for name, ext in s.reads)) for s in plan.stages)
    doc = (_FORMAT, tuple(plan.dims), stages,
           _footprints(plan.field_extents), _ext(plan.halo),
           tuple(_footprints(fp) for fp in plan.output_extents))
    return repr(doc).encode("utf-8")


def decode(data: bytes, dims: tuple[str, ...]) -> Plan | None:
    """The plan in ``data``, or None unless it is a well-formed plan with axes ``dims``."""
    try:
        fmt, doc_dims, doc_stages, doc_extents, doc_halo, doc_outputs = \
            ast.literal_eval(data.decode("utf-8"))
        if fmt != _FORMAT or doc_dims != tuple(dims):
            return None
        ndim = len(dims)
        stages = tuple(StagePlan(_name(target, True), tuple(_name(n) for n in inline),
                                 _extent(region, ndim),
                                 tuple((_name(n), _extent(e, ndim)) for n, e in reads))
                       for target, inline, region, reads in doc_stages)
        extents = tuple((_name(n), _extent(e, ndim)) for n, e in doc_extents)
        outputs = tuple(tuple((_name(n), _extent(e, ndim)) for n, e in fp) for fp in doc_outputs)
        plan = Plan(tuple(dims), stages, extents, _extent(doc_halo, ndim), outputs)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError,
            UnicodeDecodeError):
        return None
    if not stages or stages[-1].target is not None:
        return None
    return plan


def analyse_cached(stencil: N.Stencil, cache=_DEFAULT) -> Plan:
    """``analysis.analyse(stencil)``, through the disk cache when it is enabled."""
    if cache is _DEFAULT:
        cache = disk.default_cache()
    if any(isinstance(b, N.Sweep) for b in stencil.body):
        cache = None       # a column stencil's plan (no stages, no sympy) is cheaper than a load
    key = plan_key(stencil) if cache is not None else None
    if cache is not None:
        data = cache.load(key)
        plan = decode(data, stencil.dims) if data is not None else None
        if plan is not None:
            return plan
    with lazy_imports():       # a fork waits for it: sympy may be importing
        from stencilpy.analysis import analyse

        plan = analyse(stencil)
    if cache is not None:
        cache.store(key, encode(plan))
    return plan


def _footprints(footprints) -> tuple:
    return tuple((name, _ext(ext)) for name, ext in footprints)


def _ext(extent) -> tuple:
    return tuple((int(lo), int(hi)) for lo, hi in extent)


def _extent(value, ndim: int) -> tuple:
    if not isinstance(value, tuple) or len(value) != ndim:
        raise ValueError("bad extent")
    out = []
    for pair in value:
        if not (isinstance(pair, tuple) and len(pair) == 2
                and all(type(x) is int for x in pair)):
            raise ValueError("bad extent")
        out.append((pair[0], pair[1]))
    return tuple(out)


def _name(value, optional: bool = False):
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError("bad name")
    return value
