"""A compiled kernel: spec + loaded machine code, built through the disk cache.

``codegen.kernel`` (the lowering) is imported only when a kernel has to be
built: a warm start loads the object code and never needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

from stencilpy.codegen.spec import ArgLayout, KernelSpec
from stencilpy.ir.printer import format_stencil
from stencilpy.runtime import jit

#: the exported symbol of every kernel (``codegen.kernel.ENTRY_NAME``; checked when built)
ENTRY_NAME = "stencil_kernel"


@dataclass
class CompiledKernel:
    spec: KernelSpec
    layout: ArgLayout
    loaded: jit.Loaded

    @property
    def cfunc(self):
        return self.loaded.cfunc


def llvm_ir(spec: KernelSpec) -> str:
    from stencilpy.codegen.kernel import ENTRY_NAME as entry, lower

    if entry != ENTRY_NAME:  # pragma: no cover - a renamed entry must be renamed here too
        raise AssertionError(f"codegen exports '{entry}', runtime looks up '{ENTRY_NAME}'")
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
