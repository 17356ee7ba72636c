"""The ELF object loader (``runtime/loader.py``): the same results as MCJIT on real
kernels (math library calls, integers, booleans, temporaries, several outputs, threads),
and damaged or unsupported objects are rejected without crashing."""

from __future__ import annotations

import faulthandler
import gc
import struct
import weakref

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime import jit, loader

faulthandler.enable()

elf_only = pytest.mark.skipif(not loader.available(), reason="the ELF loader is Linux x86-64 only")


@sp.stencil
def mathy(u, v):
    a = sp.sin(u[1, 0]) * sp.exp(-abs(v[0, -1])) + sp.sqrt(abs(u)) - sp.log(1.5 + v * v)
    b = sp.arctan2(u[0, 1], v[-1, 0]) + sp.floor(3.7 * u) + u ** 3 + v ** 0.5 * 0
    return max(a, b) if u > v else sp.tanh(a - b)


@sp.stencil
def integers(i, j):
    q = i[1] // 3 + j[-1] % 5
    return q * 2 - (i if i > j else j) + min(i[2], j)


@sp.stencil
def staged(u):
    t = sp.cos(u[1, 0]) - u[0, -1]
    s = t[0, 1] * t[-1, 0]
    return s[1, 1] - s, t[0, 0] > 0.1


def _cases():
    rng = np.random.default_rng(5)
    u, v = rng.uniform(-2, 2, (40, 37)), rng.uniform(-2, 2, (40, 37))
    i, j = rng.integers(-99, 99, 301), rng.integers(-99, 99, 301)
    big = rng.uniform(-1, 1, (300, 257))
    return [
        (mathy, (u, v), {"boundary": "wrap"}),
        (mathy, (u.astype(np.float32), v.astype(np.float32)), {"boundary": "reflect"}),
        (mathy, (u, v), {}),
        (integers, (i, j), {"boundary": "symmetric"}),
        (integers, (i.astype(np.int32), j.astype(np.int32)), {"boundary": "valid"}),
        (staged, (u,), {"boundary": {0: "edge", 1: "constant"}, "fill_value": 0.25}),
        (staged, (big,), {"boundary": "wrap", "threads": 2}),
    ]


def _run_all(stencils):
    out = []
    for k, args, kw in _cases():
        result = stencils[k](*args, **kw)
        out.append(result if isinstance(result, tuple) else (result,))
    return out


def _fresh_copies():
    return {k: sp.stencil(k.pyfunc) for k in (mathy, integers, staged)}


def _loaders(stencils) -> set[str]:
    return {c.loaded.loader for k in stencils.values() for c in k._kernels.values()}


@elf_only
def test_elf_loader_and_mcjit_agree_bit_for_bit(monkeypatch):
    elf = _fresh_copies()
    got_elf = _run_all(elf)
    assert _loaders(elf) == {"elf"}
    monkeypatch.setenv("STENCILPY_LOADER", "mcjit")
    monkeypatch.setattr(jit, "_LOADED", weakref.WeakValueDictionary())
    mc = _fresh_copies()
    got_mc = _run_all(mc)
    assert _loaders(mc) == {"mcjit"}
    for a, b in zip(got_elf, got_mc):
        for x, y in zip(a, b):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)


def test_results_match_the_reference():
    ref = {k: sp.stencil(k.pyfunc, backend="numpy") for k in (mathy, integers, staged)}
    for (k, args, kw), got in zip(_cases(), _run_all({k: k for k in ref})):
        want = ref[k](*args, **kw)
        want = want if isinstance(want, tuple) else (want,)
        for x, y in zip(got, want):
            rtol = 1e-5 if x.dtype == np.float32 else 1e-12
            if x.dtype.kind == "f":
                np.testing.assert_allclose(x, y, rtol=rtol, atol=rtol, equal_nan=True)
            else:
                np.testing.assert_array_equal(x, y)


# -- damaged and unsupported objects ---------------------------------------------------------

@pytest.fixture(scope="module")
def obj() -> bytes:
    """Object code of a kernel that calls the C math library and has a constant pool."""
    from stencilpy.runtime.kernel import llvm_ir

    mathy(np.zeros((8, 8)), np.ones((8, 8)), boundary="wrap")
    kernel = next(iter(mathy._kernels.values()))
    return jit.compile_object(llvm_ir(kernel.spec))


def _sections(data: bytes):
    shoff, shnum = struct.unpack_from("<Q", data, 40)[0], struct.unpack_from("<H", data, 60)[0]
    return shoff, [struct.unpack_from("<IIQQQQIIQQ", data, shoff + 64 * k) for k in range(shnum)]


@elf_only
def test_the_object_loads_and_exports_the_entry(obj):
    image = loader.load_object(obj)
    assert image.address("stencil_kernel") != 0
    with pytest.raises(loader.Unsupported):
        image.address("no_such_symbol")
    shoff, shdrs = _sections(obj)
    assert any(sh[1] == 4 for sh in shdrs)            # it has relocations to apply


@elf_only
def test_truncated_objects_are_malformed(obj):
    for cut in list(range(0, 128, 7)) + list(range(128, len(obj), max(1, len(obj) // 97))):
        with pytest.raises(loader.Malformed):
            loader.load_object(obj[:cut])


@elf_only
def test_garbage_is_malformed():
    rng = np.random.default_rng(0)
    for n in (0, 10, 64, 1000):
        junk = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        with pytest.raises(loader.Unsupported):
            loader.load_object(junk)
        with pytest.raises(loader.Unsupported):
            loader.load_object(b"\x7fELF\x02\x01\x01" + junk)


#: ELF header bytes the loader checks (magic, class, data, type, machine, section header
#: entry size) and bytes it never reads (e_ident padding, e_version, e_entry, e_flags)
_CHECKED = [*range(0, 6), 16, 17, 18, 19, 58, 59]
_UNREAD = [*range(9, 16), *range(20, 32), *range(48, 52)]


@elf_only
def test_flipped_header_bytes_never_crash(obj):
    """Damage in the ELF and section headers: rejected with Unsupported, or loaded into an
    image that still exports the kernel (never executed here); a damaged identity or type is
    always rejected and bytes the loader does not read never change what it loads."""
    good = loader.load_object(obj).address("stencil_kernel") != 0
    shoff, shdrs = _sections(obj)
    positions = list(range(0, 64)) + list(range(shoff, shoff + 64 * len(shdrs), 3))
    outcomes = {}
    for pos in positions:
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(obj)
            bad[pos] ^= mask
            try:
                image = loader.load_object(bytes(bad))
            except loader.Unsupported:
                outcomes[pos, mask] = "rejected"
                continue
            assert isinstance(image, loader.Image) and image.size > 0
            try:
                outcomes[pos, mask] = "loaded" if image.address("stencil_kernel") else "null"
            except loader.Unsupported:      # a damaged symbol table may lose the name
                outcomes[pos, mask] = "no entry"
    assert good
    assert "null" not in outcomes.values()
    assert all(outcomes[p, m] == "rejected" for p in _CHECKED for m in (0x01, 0x80, 0xFF))
    assert all(outcomes[p, m] == "loaded" for p in _UNREAD for m in (0x01, 0x80, 0xFF))
    rejected = sum(v == "rejected" for v in outcomes.values())
    assert len(outcomes) > rejected > len(_CHECKED) * 3


@elf_only
def test_unknown_relocation_type_is_unsupported(obj):
    _, shdrs = _sections(obj)
    rela = next(sh for sh in shdrs if sh[1] == 4)
    bad = bytearray(obj)
    struct.pack_into("<I", bad, rela[4] + 8, 37)       # R_X86_64_* type 37 is not handled
    with pytest.raises(loader.Unsupported, match="relocation type 37"):
        loader.load_object(bytes(bad))


@elf_only
def test_writable_sections_are_unsupported(obj):
    shoff, shdrs = _sections(obj)
    k = next(k for k, sh in enumerate(shdrs) if sh[2] & 0x2 and sh[5])   # an allocated section
    bad = bytearray(obj)
    struct.pack_into("<Q", bad, shoff + 64 * k + 8, shdrs[k][2] | 0x1)
    with pytest.raises(loader.Unsupported, match="writable"):
        loader.load_object(bytes(bad))


@elf_only
def test_memory_is_released_with_the_image(obj):
    image = loader.load_object(obj)
    finalizer = image._finalizer
    assert finalizer.alive
    del image
    gc.collect()
    assert not finalizer.alive


def test_collected_mcjit_engines_leave_the_compiler_usable(monkeypatch):
    """Regression: every MCJIT engine used to be handed the one cached TargetMachine, which
    the engine takes ownership of; collecting two engines freed it twice (segfault)."""
    monkeypatch.setenv("STENCILPY_LOADER", "mcjit")
    monkeypatch.setattr(jit, "_LOADED", weakref.WeakValueDictionary())
    u = np.random.default_rng(1).uniform(-1, 1, (9, 8))
    want = staged(u, boundary="wrap")
    for _ in range(3):
        k = sp.stencil(staged.pyfunc)
        got = k(u, boundary="wrap")
        assert {c.loaded.loader for c in k._kernels.values()} == {"mcjit"}
        del k
        gc.collect()
        for x, y in zip(got, want):
            np.testing.assert_array_equal(x, y)
    jit.compile_object("define void @f() {\n  ret void\n}\n")   # the shared machine is alive
