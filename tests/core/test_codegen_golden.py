"""Golden tests of the emitted code: the canonical IR text of tiny kernels exactly, the LLVM
module's structure (one exported entry, ``noalias`` arrays, the loop blocks) and the
machine code of the 2-D Laplacian (vector registers in its inner loop)."""

import platform
import re

import numpy as np
import pytest

import stencilpy as sp


@sp.stencil
def forward(u):
    return u[1] - u[0]


@sp.stencil
def laplacian(u):
    return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]


@sp.stencil
def smoothed_gradient(u, w):
    a = u[1, 0] * 2
    return a[-1, 0] + a * w, abs(a) if a > 0 else -w


def test_ir_of_a_tiny_kernel():
    assert sp.inspect(forward, "ir") == (
        "stencil forward(u[]) dims=(dim_0)\n"
        "    return (u[1] - u[0])\n")


def test_ir_with_temporaries_selects_and_two_outputs():
    assert sp.inspect(smoothed_gradient, "ir") == (
        "stencil smoothed_gradient(u[], w) dims=(dim_0, dim_1)\n"
        "    a = (u[1, 0] * 2)\n"
        "    return (a[-1, 0] + (a[0, 0] * w[0, 0])), select((a[0, 0] > 0), abs(a[0, 0]), "
        "(-w[0, 0]))\n")


def _labels(text: str) -> list[str]:
    return re.findall(r"^([\w.]+):$", text, re.M)


def _defines(text: str) -> list[str]:
    return re.findall(r"^define .*$", text, re.M)


@pytest.mark.parametrize("k", [forward, laplacian, smoothed_gradient])
def test_llvm_module_structure(k):
    text = sp.inspect(k, "llvm")
    defines = _defines(text)
    entries = [d for d in defines if '@"stencil_kernel"' in d]
    assert len(entries) == 1 and "internal" not in entries[0]
    assert re.search(r'define void @"stencil_kernel"\(i64\* %"\.1"\)', entries[0])
    body = [d for d in defines if '@"stencil_body"' in d]
    assert len(body) == 1 and body[0].startswith("define internal void")
    params = re.search(r"\((.*)\)", body[0]).group(1).split(", ")
    arrays, block = params[:-1], params[-1]
    assert arrays and all(" noalias " in p for p in arrays)
    assert block.startswith("i64*") and "noalias" not in block
    assert text.count('call void @"stencil_body"(') == 1


def test_llvm_loop_blocks():
    plain = _labels(sp.inspect(laplacian, "llvm"))
    assert plain[0] == "entry" and "batch.cond" in plain and "batch.exit" in plain
    assert {"j.cond", "j.body", "j.exit"} <= set(plain)
    assert not any(label.startswith("jsafe") for label in plain)
    assert "stencil_safe" not in sp.inspect(laplacian, "llvm")
    text = sp.inspect(laplacian, "llvm", boundary="wrap")
    # padding modes split the inner axis: remapped head | fast middle | remapped tail, where
    # head and tail call one scalar function per stage (compiled once, never inlined)
    body, safe = _function(text, "stencil_body"), _function(text, "stencil_safe_0")
    assert {"j.cond", "j.body", "j.exit"} <= set(_labels(body))
    assert {"jsafe.cond", "jsafe.body", "jsafe.exit"} <= set(_labels(safe))
    calls = [m.start() for m in re.finditer(r'call void @"stencil_safe_0"\(', body)]
    assert len(calls) == 2 and calls[0] < body.index("\nj.cond:") < calls[1]
    assert re.search(r'define internal void @"stencil_safe_0"\(.*\) noinline', text)
    assert "llvm.loop.vectorize.enable" in text          # the remapped loop stays scalar


def _function(text: str, name: str) -> str:
    start = text.index(f'define internal void @"{name}"(')
    return text[start:text.index("\n}", start)]


def test_llvm_array_arguments_for_fields_and_outputs():
    """Every array (fields, outputs, temporaries' buffers) is a separate noalias pointer; a
    field passed as a number (a scalar) is not an array."""
    def arrays(text):
        body = next(d for d in _defines(text) if '@"stencil_body"' in d)
        return re.search(r"\((.*)\)", body).group(1).split(", ")[:-1]
    with_fields = arrays(sp.inspect(smoothed_gradient, "llvm", np.zeros((8, 8)), np.zeros((8, 8))))
    with_scalar = arrays(sp.inspect(smoothed_gradient, "llvm", np.zeros((8, 8)), 2.0))
    assert len(with_fields) >= 2 + 2                   # fields u, w; two outputs
    assert len(with_scalar) == len(with_fields) - 1
    assert all(p.startswith("double* noalias") for p in with_fields + with_scalar)


def test_llvm_types_follow_the_arguments():
    text = sp.inspect(forward, "llvm", np.zeros(8, np.float32))
    assert 'float* noalias' in text and "fsub float" in text and "double*" not in text
    text = sp.inspect(forward, "llvm", np.zeros(8, np.int16), boundary="valid")
    assert 'i16* noalias' in text and "sub i16" in text


def test_llvm_opt_is_optimised_text():
    text = sp.inspect(laplacian, "llvm-opt")
    assert "stencil_kernel" in text and "<" in text          # vector types after O3
    assert re.search(r"<\d+ x double>", text)


def _self_loops(asm: str) -> dict[str, list[str]]:
    """Assembly blocks that jump back to their own label (innermost loop bodies)."""
    blocks, label = {}, None
    for line in asm.splitlines():
        m = re.match(r"^(\.?[\w$.]+):", line)
        if m:
            label = m.group(1)
            blocks[label] = []
        elif label is not None:
            blocks[label].append(line.strip())
    return {name: body for name, body in blocks.items()
            if any(re.match(r"j\w+\s+" + re.escape(name) + r"$", ins) for ins in body)}


@pytest.mark.skipif(platform.machine().lower() not in ("x86_64", "amd64"),
                    reason="x86-64 vector registers")
def test_laplacian_inner_loop_uses_vector_registers():
    asm = sp.inspect(laplacian, "asm")
    assert "stencil_kernel:" in asm
    loops = _self_loops(asm)
    assert loops, "no loop found in the assembly"
    vector = [name for name, body in loops.items()
              if any(re.match(r"v(add|sub|mul|fmadd\w*|fnmadd\w*)pd\s.*%[yz]mm", ins)
                     for ins in body)]
    assert vector, "no packed double arithmetic on ymm/zmm registers in any inner loop"
