"""Outputs with regions of their own: the strips the main kernel does not compute.

Each output of a stencil has its own exact region under "fill"/"valid" (an output that
reads only ``u[lon +- 1]`` is computable on the rows where its sibling reading
``u[lat +- 1]`` is not).  The main kernel computes every output on the intersection
``I`` of their regions (``BoundCall.regions``); an output ``k`` whose region ``R_k`` is
larger gets ``R_k \\ I`` from a kernel of output ``k`` alone (the others' code and the
temporaries only they read are never reached), run on disjoint boxes::

    for axis d:  axes < d within I, axis d in R_k minus I (below, above), axes > d within R_k

The kernel of output ``k`` is an ordinary kernel whose region header is one box and
whose output origin is ``R_k``'s ("valid" axes); it writes no fill values
(``KernelSpec.writes_fill``).  Strips are small (a few rows or columns), so they run
after the main kernel on the full call path; the common case (one output, or outputs
with one region) never comes here.
"""

from __future__ import annotations

import dataclasses

from stencilpy.signature import BoundCall


def strip_boxes(inner: tuple, outer: tuple) -> list[tuple]:
    """Disjoint boxes (per axis ``(lo, hi)``) covering ``outer`` minus ``inner``
    (``inner`` inside ``outer``; an empty ``inner`` leaves ``outer`` whole).

    >>> strip_boxes(((1, 3), (0, 4)), ((0, 4), (0, 4)))
    [((0, 1), (0, 4)), ((3, 4), (0, 4))]
    """
    if any(hi <= lo for lo, hi in inner):
        return [outer] if all(hi > lo for lo, hi in outer) else []
    boxes = []
    for d in range(len(outer)):
        head, tail = inner[:d], outer[d + 1:]
        for part in ((outer[d][0], inner[d][0]), (inner[d][1], outer[d][1])):
            box = head + (part,) + tail
            if all(hi > lo for lo, hi in box):
                boxes.append(box)
    return boxes


#: (id of a call IR, output) -> (that IR, its single-output IR, the latter's plan)
_SINGLE: dict = {}


def output_call(call: BoundCall, k: int) -> BoundCall:
    """``call`` restricted to output ``k``: the stencil returning that output alone, and its
    plan (``regions`` is set per box by ``strip_calls``).  The other outputs' temporaries
    stay in the body but are never computed: the plan keeps only the stages output ``k``
    reads, and temporaries evaluated inline are evaluated where they are read."""
    from stencilpy.runtime.plan_cache import analyse_cached

    key = (id(call.stencil), k)
    entry = _SINGLE.get(key)
    if entry is None or entry[0] is not call.stencil:
        single = dataclasses.replace(call.stencil, returns=(call.stencil.returns[k],))
        entry = _SINGLE[key] = (call.stencil, single, analyse_cached(single))
    _, single, plan = entry
    return dataclasses.replace(call, stencil=single, plan=plan, out_dtypes=(call.out_dtypes[k],),
                               out_regions=(call.output_regions[k],))


def strip_calls(call: BoundCall) -> list[tuple[int, BoundCall]]:
    """``(output, call)`` per strip box of every output whose region is larger than the
    common one."""
    found = []
    for k, region in enumerate(call.output_regions):
        if region == call.regions:
            continue
        single = output_call(call, k)
        found += [(k, dataclasses.replace(single, regions=box))
                  for box in strip_boxes(call.regions, region)]
    return found
