"""The per-call fast path (``runtime/fastpath.py``): a cached call plan must behave exactly
like the full validating path — same results, same errors, snapshot semantics for ``out=``,
values that change between calls (scalars, fill values, pointers) honoured every call."""

import re
import threading

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime.fastpath import MISS, call_key

from _support import laplacian as lap, random_field


def scaled(u, c):
    return c * (u[1, 0] - u[-1, 0]) + u[0, 1]


def two(u, v):
    return u[0, 1] + v, u - v[1, 0]


def int_add(a, k):
    return a[0, 1] + k


def less(u):
    return u[0, 1] < u[0, -1]


def pair(fn):
    return sp.stencil(fn), sp.stencil(fn, backend="numpy")


LAP, LAP_REF = pair(lap)
SCALED, SCALED_REF = pair(scaled)
TWO, TWO_REF = pair(two)


def same(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12, equal_nan=True)


def test_one_plan_serves_new_arrays_of_the_same_kind():
    k = sp.stencil(lap)
    for seed in range(4):
        u = random_field((20, 17), seed=seed)
        same(k(u), LAP_REF(u))
    assert len(k._fast.plans) == 1
    out = np.empty((20, 17))
    for seed in range(3):
        u = random_field((20, 17), seed=seed)
        assert k(u, out=out) is out
        same(out, LAP_REF(u))
    assert len(k._fast.plans) == 2


def test_scalars_change_between_calls():
    u = random_field((12, 9))
    for c in (0.5, -2.0, np.float64(3.25), np.float32(1.5), 7, True, np.array(0.75)):
        same(SCALED(u, c), SCALED_REF(u, c))
        same(SCALED(u, c=c), SCALED_REF(u, c=c))
        same(SCALED(c=c, u=u), SCALED_REF(u, c))


def test_boundary_fill_value_and_threads_are_part_of_the_key():
    u = random_field((70, 1100))
    for boundary in (None, "periodic", {"dim_1": "edge"}, {0: "reflect", 1: "valid"}):
        for fill in (None, -3.5, float("nan"), 2):
            for threads in (1, 2):
                got = LAP(u, boundary=boundary, fill_value=fill, threads=threads)
                same(got, LAP_REF(u, boundary=boundary, fill_value=fill))


def test_strided_and_reversed_inputs():
    base = random_field((40, 60))
    for u in (base[::2, ::3], base.T, base[::-1, :], base[:, ::-1], base[5:30, 7:50]):
        for _ in range(2):
            same(LAP(u), LAP_REF(u))
            out = np.empty_like(u)
            LAP(u, out=out)
            same(out, LAP_REF(u))


def test_out_overlapping_an_input_is_a_snapshot():
    for _ in range(3):
        u = random_field((30, 31))
        want = LAP_REF(u)
        LAP(u, out=u)                          # in place
        same(u, want)
    big = random_field((40, 40))
    u = big[:30, :30]
    want = LAP_REF(u.copy())
    LAP(u, out=big[3:33, 2:32])                 # shifted alias
    same(big[3:33, 2:32], want)


def test_outputs_overlapping_each_other_raise_every_call():
    u, v = random_field((10, 10), seed=1), random_field((10, 10), seed=2)
    a, b = np.empty((10, 10)), np.empty((10, 10))
    TWO(u, v, out=(a, b))                       # makes the plan
    for _ in range(2):
        with pytest.raises(sp.StencilCallError, match="overlap"):
            TWO(u, v, out=(a, a))


def test_out_errors_are_the_full_paths():
    u = random_field((10, 10))
    out = np.empty((10, 10))
    LAP(u, out=out)
    ro = np.empty((10, 10))
    ro.flags.writeable = False
    with pytest.raises(sp.StencilCallError, match="read-only"):
        LAP(u, out=ro)
    with pytest.raises(sp.StencilCallError, match="shape"):
        LAP(u, out=np.empty((10, 11)))
    with pytest.raises(sp.StencilCallError, match="dtype"):
        LAP(u, out=np.empty((10, 10), np.int32))


def test_int_scalars_are_range_checked_every_call():
    k = sp.stencil(int_add)
    a = np.arange(30, dtype=np.int8).reshape(5, 6)
    np.testing.assert_array_equal(k(a, 3, fill_value=0)[:, :-1], a[:, 1:] + 3)
    with pytest.raises(sp.StencilCallError, match="does not fit"):
        k(a, 1000, fill_value=0)
    np.testing.assert_array_equal(k(a, -4, fill_value=0)[:, :-1], a[:, 1:] - 4)


def test_fill_strips_of_integer_and_bool_outputs():
    k = sp.stencil(int_add)
    for dtype, fill in ((np.int32, -7), (np.int32, 2**20), (np.int64, 2**60 + 1), (np.uint8, 200)):
        a = np.arange(42, dtype=dtype).reshape(6, 7)
        got = k(a, 1, fill_value=fill)
        assert got[0, -1] == fill and got.dtype == dtype
        np.testing.assert_array_equal(got[:, -1], np.full(6, fill, dtype))
        np.testing.assert_array_equal(got[:, :-1], a[:, 1:] + 1)
    b = sp.stencil(less)
    u = random_field((5, 9))
    for fill in (True, 0):
        got = b(u, fill_value=fill)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got[:, [0, -1]], bool(fill))
        np.testing.assert_array_equal(got[:, 1:-1], u[:, 2:] < u[:, :-2])


def test_default_thread_count_change_rebuilds_the_plan(monkeypatch):
    k = sp.stencil(lap)
    u = random_field((300, 400))
    want = LAP_REF(u)
    same(k(u), want)
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "3")
    same(k(u), want)
    plan = next(iter(k._fast.plans.values()))
    assert plan.requested == 3


@pytest.mark.parametrize("bad", ["abc", "0", "-2", "2.5"])
@pytest.mark.parametrize("shape", [(16, 16), (300, 400)])      # one thread / several
def test_bad_stencilpy_num_threads_is_refused_with_a_cached_plan(monkeypatch, bad, shape):
    k = sp.stencil(lap)
    u = random_field(shape)
    want = LAP_REF(u)
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "2")
    same(k(u), want)
    same(k(u), want)                            # the plan is cached
    assert len(k._fast.plans) == 1
    monkeypatch.setenv("STENCILPY_NUM_THREADS", bad)
    message = f"STENCILPY_NUM_THREADS={bad!r} is not a whole number >= 1"
    for _ in range(2):
        with pytest.raises(sp.StencilCallError, match=re.escape(message)):
            k(u)
    with pytest.raises(sp.StencilCallError, match=re.escape(message)):
        LAP_REF(u)                              # the full path says the same
    same(k(u, threads=1), want)                 # threads= does not read the variable
    monkeypatch.setenv("STENCILPY_NUM_THREADS", "2")
    same(k(u), want)
    monkeypatch.delenv("STENCILPY_NUM_THREADS")
    same(k(u), want)


def test_concurrent_calls_share_a_stencil():
    k = sp.stencil(lap)
    inputs = [random_field((64, 80), seed=s) for s in range(8)]
    wants = [LAP_REF(u) for u in inputs]
    errors = []

    def work(i):
        try:
            for _ in range(30):
                same(k(inputs[i]), wants[i])
        except AssertionError as exc:            # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_key_rejects_what_the_fast_path_cannot_take():
    u = random_field((4, 4))
    assert call_key((u,), None, None, None, None) is not None
    assert call_key(([1.0, 2.0],), None, None, None, None) is None
    assert call_key((np.ma.masked_array(u),), None, None, None, None) is None
    assert call_key((u,), None, None, [u], None) is None
    assert call_key((u,), None, np.array(1.0), None, None) is None
    k = sp.stencil(lap)
    assert k._fast_path()((u, u), {}, None, None, None, None) is MISS     # wrong arity
