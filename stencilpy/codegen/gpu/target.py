"""The NVPTX ``Target`` (``codegen/target.py``): math functions from libdevice.

NVPTX selects ``llvm.sqrt``, ``llvm.fabs``, ``llvm.floor``/``ceil``/``trunc`` and
``llvm.copysign`` itself; every other math function is a call of libdevice's
``__nv_<name>`` (float32: ``__nv_<name>f``), which ``runtime/gpu/ptx.py`` links in as
bitcode.  No vector-width hints (a GPU thread is scalar) and no external symbols.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.math import call_intrinsic
from stencilpy.codegen.types import F32, llvm_type

#: math function -> NVPTX intrinsic ("llvm.*") or libdevice base name
GPU_MATH = {
    "sqrt": "llvm.sqrt", "floor": "llvm.floor", "ceil": "llvm.ceil", "trunc": "llvm.trunc",
    "abs": "llvm.fabs", "copysign": "llvm.copysign",
    "exp": "exp", "log": "log", "log10": "log10", "log2": "log2", "sin": "sin", "cos": "cos",
    "power": "pow", "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan",
    "sinh": "sinh", "cosh": "cosh", "tanh": "tanh", "expm1": "expm1", "log1p": "log1p",
    "arctan2": "atan2", "hypot": "hypot", "fmod": "fmod",
}


def declare(b: ir.IRBuilder, name: str, fnty: ir.FunctionType) -> ir.Function:
    fn = b.module.globals.get(name)
    return fn if fn is not None else ir.Function(b.module, fnty, name)


class GpuTarget:
    """NVPTX: intrinsics NVPTX selects, libdevice for the rest."""

    name = "nvptx"
    external_symbols: tuple[str, ...] = ()

    def math(self, b: ir.IRBuilder, func: str, args: list, t) -> ir.Value:
        target = GPU_MATH[func]
        if target.startswith("llvm."):
            return call_intrinsic(b, target, args)
        ty = llvm_type(t)
        name = f"__nv_{target}" + ("f" if ty == F32 else "")
        return b.call(declare(b, name, ir.FunctionType(ty, [ty] * len(args))), args)

    def function_attributes(self, exprs, vector_bits: int = 0,
                            sparse_divide_bits: int = 0) -> tuple[str, ...]:
        return ()


GPU = GpuTarget()
