"""The frozen analysis kept in the disk cache (``runtime/plan_cache.py``)."""

from __future__ import annotations

import pytest

import stencilpy as sp
from stencilpy import analysis
from stencilpy.runtime import cache as disk
from stencilpy.runtime.cache import DiskCache
from stencilpy.runtime.plan_cache import analyse_cached, decode, encode, plan_key


@sp.stencil
def plain(u):
    return u[1] - u[-2]


@sp.stencil(dims=("lat", "lon"))
def staged(u, v):
    t = u[lat + 1] - v[lon - 1]  # noqa: F821
    s = t[lat - 2] * 2.0  # noqa: F821
    return s[lon + 1] + t, t[lat + 1, lon - 3]  # noqa: F821


@sp.stencil
def plain_other(u):
    return u[1] + u[-2]


STENCILS = [plain, staged, plain_other]


@pytest.mark.parametrize("k", STENCILS, ids=lambda k: k.ir.name)
def test_round_trip(k):
    plan = analysis.analyse(k.ir)
    assert decode(encode(plan), k.dims) == plan


@pytest.mark.parametrize("bad", [
    b"", b"garbage", b"\xff\xfe", b"__import__('os').system('true')", b"()", b"(1, 2, 3, 4, 5)",
    b"('stencilpy-plan-0', ('dim_0',), (), (), ((0, 0),))",
    b"('stencilpy-plan-2', ('x',), ((None, (), ((0, 0),), ()),), (), ((0, 0),), ())",
    b"('stencilpy-plan-2', ('dim_0',), (('t', (), ((0, 0),), ()),), (), ((0, 0),), ())",
    b"('stencilpy-plan-2', ('dim_0',), ((None, (), ((0, 0, 0),), ()),), (), ((0, 0),), ())",
    b"('stencilpy-plan-2', ('dim_0',), ((None, (), ((0, 1.5),), ()),), (), ((0, 0),), ())",
    b"('stencilpy-plan-2', ('dim_0',), ((None, (), ((0, 0),), ((3, ((0, 0),)),)),), (), ((0, 0),), ())",
    b"('stencilpy-plan-1', ('dim_0',), ((None, (), ((0, 0),), ()),), (), ((0, 0),))",
    b"('stencilpy-plan-2', ('dim_0',), ((None, (), ((0, 0),), ()),), (), ((0, 0),), ((3,),))",
    b"[" * 100000,
])
def test_malformed_payloads_are_rejected(bad):
    assert decode(bad, ("dim_0",)) is None


def test_well_formed_payload_is_accepted():
    good = b"('stencilpy-plan-2', ('dim_0',), ((None, (), ((0, 0),), ()),), (), ((0, 0),), ((),))"
    plan = decode(good, ("dim_0",))
    assert plan is not None and plan.output_extents == ((),)


def test_keys_follow_the_ir_and_the_code_version(monkeypatch):
    assert plan_key(plain.ir) != plan_key(plain_other.ir)
    assert plan_key(plain.ir) == plan_key(sp.stencil(plain.pyfunc).ir)
    key = plan_key(plain.ir)
    monkeypatch.setattr(disk, "_code_version", "9.9.9+0")
    assert plan_key(plain.ir) != key


def test_cached_plan_is_reused_without_analysis(tmp_path, monkeypatch):
    cache = DiskCache(tmp_path)
    first = analyse_cached(staged.ir, cache)
    assert cache.load(plan_key(staged.ir)) == encode(first)

    def forbidden(_):
        raise AssertionError("analyse must not run on a cache hit")

    monkeypatch.setattr(analysis, "analyse", forbidden)
    assert analyse_cached(staged.ir, cache) == first


def test_bad_entry_is_reanalysed_and_rewritten(tmp_path):
    cache = DiskCache(tmp_path)
    key = plan_key(plain.ir)
    cache.store(key, b"('stencilpy-plan-1', 'nonsense')")
    plan = analyse_cached(plain.ir, cache)
    assert plan == analysis.analyse(plain.ir)
    assert cache.load(key) == encode(plan)


def test_disabled_cache_analyses(monkeypatch, tmp_path):
    monkeypatch.setenv("STENCILPY_CACHE", "0")
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path / "c"))
    assert analyse_cached(plain.ir) == analysis.analyse(plain.ir)
    assert not (tmp_path / "c").exists()


def test_halo_through_the_decorator_uses_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("STENCILPY_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("STENCILPY_CACHE", raising=False)
    assert sp.stencil(staged.pyfunc, dims=("lat", "lon")).halo == staged.halo
    assert DiskCache(tmp_path).load(plan_key(staged.ir)) is not None
