"""Running a compiled column stencil: box arrays in, the kernel of ``codegen/columns.py``
called once per batch index (single-threaded), box arrays out.

The caller (``decorator.py``) builds the padded fields with the reference's padding
(``reference/columns.py: box_fields``) and crops/fills the outputs the same way, so both
backends see the same boundary values."""

from __future__ import annotations

import ctypes

import numpy as np

from stencilpy.codegen.columns import ENTRY, ColumnLayout, lower_columns, storage_types
from stencilpy.ir.printer import format_stencil
from stencilpy.runtime import jit


def _prepare(call, boxes: dict, box: tuple, halo_lo: tuple):
    stencil = call.stencil
    env = {name: arr.dtype for name, arr in boxes.items()}
    env.update({name: type(v) for name, v in call.scalars.items()})
    temps = storage_types(stencil, env)
    types = {**env, **temps}
    outputs = tuple(f"out@{j}" for j in range(len(stencil.returns)))
    full = call.batch_shape + box
    arrays = {name: np.ascontiguousarray(np.broadcast_to(arr, full)) for name, arr in boxes.items()}
    arrays.update({t: np.zeros(full, dtype=dt) for t, dt in temps.items()})
    arrays.update({o: np.zeros(full, dtype=dt) for o, dt in zip(outputs, call.out_dtypes)})
    names = tuple(arrays)
    scalar_names = tuple(sorted(call.scalars))
    layout = ColumnLayout(box, halo_lo, call.domain,
                          tuple((n, arrays[n].dtype.str) for n in names),
                          tuple((n, type(call.scalars[n]).__name__) for n in scalar_names),
                          outputs)
    return layout, types, arrays, names, scalar_names, outputs


def column_ir(call, boxes: dict, box: tuple, halo_lo: tuple) -> str:
    """The LLVM IR text of the kernel ``run_columns_kernel`` would run (for sp.inspect)."""
    layout, types, *_ = _prepare(call, boxes, box, halo_lo)
    return str(lower_columns(call.stencil, types, layout))


def run_columns_kernel(call, boxes: dict, box: tuple, halo_lo: tuple) -> list:
    """The outputs of ``call`` on the box (shape batch + box), one array per return."""
    stencil = call.stencil
    layout, types, arrays, names, scalar_names, outputs = _prepare(call, boxes, box, halo_lo)
    key = jit.cache_key(format_stencil(stencil) + "\n" + layout.text())
    loaded = jit.load(key, lambda: str(lower_columns(stencil, types, layout)), ENTRY)
    scalars = [np.array([call.scalars[n]], dtype={bool: np.bool_, int: np.int64,
                                                   float: np.float64}[type(call.scalars[n])])
               for n in scalar_names]
    for index in np.ndindex(*call.batch_shape):
        ptrs = [arrays[n][index].ctypes.data for n in names] + [s.ctypes.data for s in scalars]
        block = (ctypes.c_void_p * len(ptrs))(*ptrs)
        loaded.cfunc(ctypes.addressof(block))
    return [arrays[o] for o in outputs]
