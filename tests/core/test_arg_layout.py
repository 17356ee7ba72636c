"""The argument block's named slots: every slot of the layout appears exactly once, and the
slots the runtime writes are the ones the kernel reads (a kernel run with a block filled only
through the names computes the right answer)."""

import numpy as np

import stencilpy as sp
from stencilpy.codegen.spec import ArgLayout


@sp.stencil
def mixed(u, w, s):
    t = u[1, 0] * s
    return t[-1, 0] + w, t[1, 0] - u[0, -1]


def _spec():
    from stencilpy.runtime.call import kernel_spec

    u, w = np.ones((6, 7)), np.ones((6, 7))
    call = mixed.bind(mixed._bind_arguments([u, w, 2.0], {}))
    outs = tuple(np.empty(call.out_shape, dtype=dt) for dt in call.out_dtypes)
    return kernel_spec(call, outs)


def test_every_slot_is_named_once():
    spec = _spec()
    layout = ArgLayout(spec)
    slots = [layout.batch_lo, layout.batch_hi, layout.tile, layout.counter, layout.chunk_batch,
             layout.chunk_rows, layout.block_1, layout.fill]
    slots += [k for a in layout.axis for k in a]
    for f in layout.fields.values():
        slots += [f.ptr, f.batch_stride, *f.strides, *f.lengths]
    for o in layout.outputs:
        slots += [o.ptr, o.batch_stride, *o.strides, *o.origin]
    slots += list(layout.scratch.values()) + list(layout.scalar.values()) + layout.out_fill
    assert sorted(slots) == list(range(layout.size))
    assert list(layout.fields) == [f.name for f in spec.fields]
    assert len(layout.outputs) == len(spec.outputs) == 2
    assert list(layout.scratch) == list(spec.materialised)
    assert layout.array_ptrs == [layout.fields[f.name].ptr for f in spec.fields] \
        + [o.ptr for o in layout.outputs]
    assert all(len(f.strides) == len(f.lengths) == spec.ndim for f in layout.fields.values())


def test_a_kernel_reads_what_the_runtime_writes():
    # a = t[-1, 0] + w = u[i, j] * s + w[i, j]
    # b = t[1, 0] - u[0, -1] = u[i + 2, j] * s - u[i, j - 1]
    rng = np.random.default_rng(3)
    u, w = rng.random((9, 11)), rng.random((9, 11))
    a, b = mixed(u, w, 1.5)
    i, j = np.meshgrid(np.arange(1, 7), np.arange(1, 11), indexing="ij")
    np.testing.assert_allclose(a[1:7, 1:11], u[i, j] * 1.5 + w[i, j], rtol=1e-15)
    np.testing.assert_allclose(b[1:7, 1:11], u[i + 2, j] * 1.5 - u[i, j - 1], rtol=1e-15)
    assert np.isnan(b[7:, :]).all() and np.isnan(b[:, 0]).all()       # "fill" where t reaches out
