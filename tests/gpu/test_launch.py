"""The launch geometry of GPU calls: the interior and edge boxes tile the grid exactly, the
interior holds only points whose reads are in bounds, launch shapes cover their boxes."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime.gpu import execute as E
from stencilpy.runtime.gpu.arrays import DeviceArray
from stencilpy.runtime.gpu.emulate import EmulatedArray


@sp.stencil
def skew(u, v):
    return u[2, -1, 0] - v[0, 3, -2] + u[-1, 0, 1]


def _setup(shape, modes, rows):
    rng = np.random.default_rng(0)
    u = rng.random(shape)
    v = rng.random((shape[0], shape[1] + 1, shape[2]))         # staggered along axis 1
    call = skew.bind({"u": u, "v": v}, boundary=dict(enumerate(modes)), fill_value=0.0)
    descs = {n: DeviceArray(EmulatedArray(a)) for n, a in (("u", u), ("v", v))}
    outs = [DeviceArray(EmulatedArray(np.empty(call.out_shape)))]
    spec = E.gpu_spec(call, descs, outs, rows=rows)
    views = {n: E._View(d, 3, call.batch_shape, call.broadcast[n]) for n, d in descs.items()}
    return call, spec, views


@pytest.mark.parametrize("modes", list(itertools.product(["fill", "valid", "wrap", "constant"],
                                                         repeat=3))[::5])
@pytest.mark.parametrize("rows", [1, 3, 8])
def test_boxes_tile_the_grid(modes, rows):
    call, spec, views = _setup((9, 11, 13), modes, rows)
    grid = E.grid_box(call)
    interior, edges = E.boxes(call, spec, views)
    count = np.zeros([hi - lo for lo, hi in grid], dtype=int)

    def mark(box):
        count[tuple(slice(lo - g0, hi - g0) for (lo, hi), (g0, _) in zip(box, grid))] += 1

    for box in edges + ([interior] if interior else []):
        assert all(g0 <= lo <= hi <= g1 for (lo, hi), (g0, g1) in zip(box, grid))
        mark(box)
    assert (count == 1).all()                          # every grid point exactly once
    if interior:
        fast = E.fast_ranges(call, views)
        assert all(f0 <= lo and hi <= f1 for (lo, hi), (f0, f1) in zip(interior, fast))
        lo, hi = interior[spec.row_axis]
        assert (hi - lo) % rows == 0
        for name, v in views.items():                  # every read of the interior in bounds
            ext = call.plan.field_extent(name)
            for d, ((lo, hi), (e_lo, e_hi)) in enumerate(zip(interior, ext)):
                assert lo - e_lo >= 0 and hi - 1 + e_hi < v.lens[d]


def test_launch_shapes_cover_their_boxes():
    call, spec, views = _setup((9, 11, 13), ("fill", "wrap", "edge"), 4)
    interior, edges = E.boxes(call, spec, views)
    for kind, box in [("interior", interior)] + [("edge", e) for e in edges]:
        (gx, gy, gz), (bx, by, _) = E.launch_shape(spec, box, 1, kind)
        rows = 4 if kind == "interior" else 1
        assert gx * bx >= box[2][1] - box[2][0]
        assert gy * by * rows >= box[1][1] - box[1][0]
        assert gz == box[0][1] - box[0][0]


def test_spilling_interior_kernel_gets_fewer_rows(monkeypatch):
    """Where the driver reports local memory (spills) for the interior kernel, the call plan
    halves the rows per thread until it does not (the answer is unchanged)."""
    from stencilpy.runtime.gpu import emulate

    class Spilling(emulate.EmulatedDevice):
        asked: list = []

        def spills(self, kernel, kind):
            self.asked.append(kernel.spec.rows)
            return kernel.spec.rows > 2

    dev = Spilling()
    monkeypatch.setattr(emulate, "device", lambda: dev)
    rng = np.random.default_rng(3)
    u = rng.random((20, 30))

    @sp.stencil
    def lap(u):
        return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u

    got = lap(EmulatedArray(u), boundary="wrap").get()
    assert dev.asked[:3] == [8, 4, 2]
    np.testing.assert_allclose(got, sp.stencil(lap.pyfunc, backend="numpy")(u, boundary="wrap"),
                               rtol=1e-14)
