"""A compiled kernel: spec + loaded machine code, built through the disk cache."""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.codegen.kernel import ENTRY_NAME, lower
from stencilpy.codegen.spec import ArgLayout, KernelSpec
from stencilpy.ir.printer import format_stencil
from stencilpy.runtime import jit


@dataclass
class CompiledKernel:
    spec: KernelSpec
    layout: ArgLayout
    loaded: jit.Loaded

    @property
    def cfunc(self):
        return self.loaded.cfunc


def llvm_ir(spec: KernelSpec) -> str:
    return str(lower(spec))


def compile_kernel(spec: KernelSpec) -> CompiledKernel:
    """Load ``spec``'s kernel from the disk cache or compile it (printing STENCILPY_DUMP stages)."""
    dump = jit.dump_stages()
    if dump:
        _dump(spec, dump)
    key = jit.cache_key(spec.fingerprint_text())
    loaded = jit.load(key, lambda: llvm_ir(spec), ENTRY_NAME)
    return CompiledKernel(spec, ArgLayout(spec), loaded)


def _dump(spec: KernelSpec, stages: set[str]) -> None:
    text = llvm_ir(spec)
    if "ir" in stages:
        print(f"--- stencilpy ir: {spec.stencil.name}\n{format_stencil(spec.stencil)}")
    if "llvm" in stages:
        print(f"--- stencilpy llvm: {spec.stencil.name}\n{text}")
    if "llvm-opt" in stages:
        print(f"--- stencilpy llvm-opt: {spec.stencil.name}\n{jit.optimised_ir(text)}")
    if "asm" in stages:
        print(f"--- stencilpy asm: {spec.stencil.name}\n{jit.assembly(text)}")
