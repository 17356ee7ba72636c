"""Structure of the generated code that the speed depends on (never timings).

* inner loops use 512-bit vectors (``prefer-vector-width=512``), 256-bit ones when the
  kernel divides (the divider competes with the other vector ops for port 0);
* outputs larger than the cache are written with aligned non-temporal vector stores
  (``vmovntpd``/``vmovntps``) followed by ``sfence``; smaller ones with ordinary stores;
* cheap temporaries are recomputed, the rest live in per-thread rolling row buffers whose
  size does not grow with the number of rows (no full-size temporaries);
* "fill" kernels have no remapped (boundary) loops; the innermost axis' fill strips are
  written by the kernel;
* a repeated call takes the prepared call.
"""

import dataclasses
import platform
import re

import numpy as np
import pytest

import stencilpy as sp
from stencilpy.runtime import launch as C
from stencilpy.runtime import jit
from stencilpy.compile import lower as llvm_ir

from _support import hdiff, laplacian as lap

X86 = platform.machine().lower() in ("x86_64", "amd64")


def two_stage(u):
    t = sp.exp(u) * sp.sqrt(u * u + 1.0)
    return t[1, 0] - t[-1, 0] + t[0, 1] - t[0, -1]


def prepared_of(k, *args, **kw):
    k(*args, **kw)
    (prepared,) = k._fast.prepared.values()
    return prepared


def asm(spec, streaming):
    return jit.assembly(llvm_ir(dataclasses.replace(spec, streaming=streaming)))


@pytest.mark.skipif(not X86, reason="x86 vector instructions")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_streaming_stores_are_aligned_vector_nontemporal(dtype):
    spec = prepared_of(sp.stencil(lap), np.zeros((64, 64), dtype)).kernel.spec
    text = asm(spec, True)
    # vmovntpd/vmovntps/vmovntdq: full-vector non-temporal stores (LLVM may pick the integer
    # form for the copy out of the L1 chunk buffer): zmm where the CPU exposes AVX-512, ymm
    # where it does not (a VM may hide AVX-512 from an AVX-512 CPU)
    reg = "zmm" if "+avx512f" in jit.host()[1] else "ymm"
    assert re.search(rf"vmovnt(pd|ps|dq)\s+%{reg}", text) and "sfence" in text
    plain = asm(spec, False)
    assert "vmovnt" not in plain and "sfence" not in plain


def _loop_hints(text, loop):
    """The hint names and values of the ``!llvm.loop`` of every loop named ``loop``."""
    ids = re.findall(rf'br label %"{loop}\.cond(?:\.\d+)?", !llvm\.loop !(\d+)', text)
    nodes = dict(re.findall(r"^!(\d+) = (?:distinct )?!\{(.*)\}$", text, re.M))
    return [[nodes[m].strip() for m in re.findall(r"!(\d+)", nodes[i]) if m != i] for i in ids]


@pytest.mark.parametrize("u", [np.zeros((64, 64)), np.zeros((8, 8, 64))], ids=["2-D", "3-D"])
def test_the_streamed_rows_peel_scalar(u):
    """Before the first aligned streamed line, a masked vector store would reach into that
    line and hold it in the cache while the streaming stores wait (lap3d 128^3 1.3x slower on
    Zen 4): the streamed segment's peel is a scalar loop, the ordinary one stays masked."""
    spec = prepared_of(sp.stencil(lap if u.ndim == 2 else lap3), u).kernel.spec
    streamed = _loop_hints(llvm_ir(dataclasses.replace(spec, streaming=True)), "jpeel")
    assert streamed and all(any('"llvm.loop.vectorize.enable", i1 0' in h for h in hints)
                            for hints in streamed), streamed
    plain = _loop_hints(llvm_ir(dataclasses.replace(spec, streaming=False)), "jpeel")
    assert plain and all(any("predicate.enable" in h for h in hints) for hints in plain), plain


def lap3(u):
    return (u[1, 0, 0] + u[-1, 0, 0] + u[0, 1, 0] + u[0, -1, 0] + u[0, 0, 1] + u[0, 0, -1]
            - 6.0 * u[0, 0, 0])


@pytest.mark.skipif(not X86 or "+avx512f" not in jit.host()[1], reason="needs AVX-512")
def test_inner_loops_use_512_bit_vectors():
    spec = prepared_of(sp.stencil(lap), np.zeros((64, 64))).kernel.spec
    assert "zmm" in asm(spec, False)


def ratio(u):
    return (u[1, 0] - u[-1, 0]) / (u[1, 0] + u[-1, 0] + 1e-15)


def test_vector_width_is_256_bits_for_dividing_kernels():
    assert '"prefer-vector-width"="512"' in llvm_ir(prepared_of(sp.stencil(lap), np.zeros((8, 8))).kernel.spec)
    assert '"prefer-vector-width"="256"' in llvm_ir(prepared_of(sp.stencil(ratio), np.zeros((8, 8))).kernel.spec)


def sparse(u):
    """One division among many operations (MPDATA's antidiffusive velocity has 4 in 92)."""
    s = u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] + 2.0 * u[1, 1] + 3.0 * u[-1, -1] \
        + 4.0 * u[1, -1] + 5.0 * u[-1, 1] - 0.5 * u * u[1, 0] * u[0, 1]
    return s / (u * u + 1.0)


@pytest.mark.parametrize("cpu,features,bits", [
    ("znver4", "+avx512f,+avx2", 512), ("znver5", "+avx512f,+avx2", 512),
    ("znver4", "-avx512f,+avx2", 0), ("znver3", "+avx2", 0),
    ("sapphirerapids", "+avx512f,+avx2", 0)])
def test_sparse_dividers_keep_512_bits_where_512_bit_ops_are_split(monkeypatch, cpu, features,
                                                                    bits):
    """On AMD Zen 4/5 (512-bit ops run as two halves, no port lost) a kernel whose divisions
    are under a tenth of its operations keeps 512-bit vectors; elsewhere, and for kernels that
    divide more, dividing kernels take 256."""
    from stencilpy import compile as driver
    monkeypatch.setattr(jit, "host", lambda: (cpu, features))
    assert driver.sparse_divide_bits() == bits
    monkeypatch.undo()
    u = np.zeros((8, 8))
    for fn, share_ok in ((sparse, True), (ratio, False)):
        spec = dataclasses.replace(prepared_of(sp.stencil(fn), u).kernel.spec,
                                   sparse_divide_bits=bits)
        want = 512 if bits and share_ok else 256
        assert f'"prefer-vector-width"="{want}"' in llvm_ir(spec), (fn.__name__, bits)
        if bits:
            assert "sparse_divide_bits=512" in spec.fingerprint_text()   # its own kernel


def test_streaming_is_chosen_for_outputs_beyond_the_cache():
    big = [np.empty(1 << 24)]                  # 128 MiB
    small = [np.empty(1 << 14)]                # 128 KiB
    assert C.wants_streaming(big) == X86
    assert not C.wants_streaming(small, small)


def test_hdiff_buffers_only_the_laplacian_in_a_few_rows():
    u = np.zeros((2, 400, 300))
    prepared = prepared_of(sp.stencil(hdiff), u, 0.025, threads=1)
    assert prepared.kernel.spec.materialised == ("lap",)
    assert prepared.kernel.spec.rows_kept("lap") == 3
    (buf,) = prepared.jobs.scratch[0]
    assert buf.nbytes < 3 * 304 * 8 + 64              # three padded rows, not 400


def test_rolling_buffers_do_not_grow_with_the_rows():
    k = sp.stencil(two_stage)
    small = prepared_of(k, np.ones((50, 128)), threads=1).jobs.scratch[0][0].nbytes
    k._fast.prepared.clear()
    tall = prepared_of(k, np.ones((5000, 128)), threads=1).jobs.scratch[0][0].nbytes
    assert small == tall


def test_fill_kernels_have_no_remapped_loops_and_write_the_inner_strips():
    spec = prepared_of(sp.stencil(lap), np.zeros((8, 8))).kernel.spec
    text = llvm_ir(spec)
    assert "stencil_safe" not in text and "jsafe" not in text
    assert spec.fills_inner and "jfill" in text
    padded = llvm_ir(prepared_of(sp.stencil(lap), np.zeros((8, 8)), boundary="periodic").kernel.spec)
    assert "jsafe" in padded and "call void @\"stencil_safe_0\"" in padded


def test_multi_threaded_calls_claim_chunks():
    prepared = prepared_of(sp.stencil(lap), np.zeros((512, 512)), threads=2)
    (blocks,) = prepared.jobs.rounds
    layout = prepared.kernel.layout
    assert len(blocks) == 2
    rows = blocks[0][layout.chunk_rows]
    assert 0 < rows < 510 and all(b[layout.counter] == blocks[0][layout.counter] for b in blocks)


def test_repeated_calls_take_the_prepared_call():
    k = sp.stencil(lap)
    u, out = np.ones((16, 16)), np.empty((16, 16))
    k(u, out=out)
    prepared = next(iter(k._fast.prepared.values()))
    calls = []
    original = prepared.run
    prepared.run = lambda *a: calls.append(1) or original(*a)
    k(u, out=out)
    k(np.zeros((16, 16)), out=out)
    assert len(calls) == 2 and len(k._fast.prepared) == 1
