"""What a code generation target supplies to the target-neutral lowering.

Expression lowering (``codegen/expr.py``) and NumPy's arithmetic (``codegen/math.py``)
emit plain LLVM IR that every LLVM backend accepts: integer and float arithmetic,
``frem``, compares, selects, casts, and the intrinsics ``llvm.fabs``, ``llvm.floor``
and ``llvm.copysign``.  What differs between machines comes from a ``Target``:

``math(b, func, args, t) -> ir.Value``
    The math function ``func`` (one of ``MATH_FUNCTIONS``: sqrt, exp, log, sin, ...,
    ``power`` for ``x ** y``, ``arctan2``, ``hypot``) of ``args``, which are already
    of the float type ``t`` (a numpy float dtype or ``float``), emitted at ``b``'s
    position; the result has type ``t`` and NumPy's value (within the libm's ulps).
    min/max/sign/fmod, the predicates and integer functions never reach the target.
``function_attributes(exprs, vector_bits=0, sparse_divide_bits=0) -> tuple[str, ...]``
    LLVM string attributes (``'"key"="value"'``) for the kernel's functions, given
    every expression the kernel evaluates (a CPU prefers a vector width by them;
    ``vector_bits``: a tuned width, ``runtime/tuning.py``; ``sparse_divide_bits``: the
    width of a kernel that divides sparsely on this host; other targets ignore both).
``external_symbols``
    Names of the external functions ``math`` may declare, which the JIT must resolve.

The CPU target calls LLVM intrinsics where LLVM lowers them well and the C library
(libm) otherwise.  A GPU (NVPTX) target would call libdevice (``__nv_sin``,
``__nv_powf`` ...), return no vector-width hints, and list no external symbols (libdevice
is linked as bitcode)::

    class NvptxTarget:
        name = "nvptx"
        external_symbols = ()
        def math(self, b, func, args, t):
            name = "__nv_" + LIBDEVICE[func] + ("f" if llvm_type(t) == F32 else "")
            return declare_and_call(b, name, args)
        def function_attributes(self, exprs, vector_bits=0, sparse_divide_bits=0):
            return ()
"""

from __future__ import annotations

from typing import Protocol

from llvmlite import ir

from stencilpy.codegen.math import call_intrinsic
from stencilpy.codegen.types import F32, llvm_type
from stencilpy.ir import nodes as N


class Target(Protocol):
    """The machine-specific part of lowering expressions (see the module docstring)."""

    name: str
    external_symbols: tuple[str, ...]

    def math(self, b: ir.IRBuilder, func: str, args: list, t) -> ir.Value: ...

    def function_attributes(self, exprs, vector_bits: int = 0,
                            sparse_divide_bits: int = 0) -> tuple[str, ...]: ...


#: math function -> LLVM intrinsic ("llvm.*") or C function name (float64; float32 adds 'f')
CPU_MATH = {
    "sqrt": "llvm.sqrt", "exp": "llvm.exp", "log": "llvm.log", "log10": "llvm.log10",
    "log2": "llvm.log2", "sin": "llvm.sin", "cos": "llvm.cos", "floor": "llvm.floor",
    "ceil": "llvm.ceil", "trunc": "llvm.trunc", "abs": "llvm.fabs", "copysign": "llvm.copysign",
    "power": "llvm.pow",
    "tan": "tan", "arcsin": "asin", "arccos": "acos", "arctan": "atan", "sinh": "sinh",
    "cosh": "cosh", "tanh": "tanh", "expm1": "expm1", "log1p": "log1p", "arctan2": "atan2",
    "hypot": "hypot", "fmod": "fmod",
}
#: the float math functions a target's ``math`` receives
MATH_FUNCTIONS = frozenset(CPU_MATH) - {"fmod"}
#: the C library functions CPU kernels may call (float32 versions end in 'f')
LIBM_FUNCTIONS = tuple(sorted({v for v in CPU_MATH.values() if not v.startswith("llvm.")}))

#: vector width (bits) LLVM may use: 512 (zmm) for most kernels; 256 when the kernel
#: divides or takes square roots (Sapphire Rapids: the divider shares port 0 with the other
#: vector ops, and 512-bit ops leave only two ports: MPDATA measured 14% faster at 256, hdiff
#: 19% faster at 512, plain Laplacians and lone divisions the same)
VECTOR_BITS, DIVIDING_VECTOR_BITS = 512, 256
_DIVIDING_CALLS = frozenset({"sqrt", "hypot", "fmod", "power"})
#: a kernel whose divisions (and square roots ...) are fewer than this share of its
#: arithmetic divides *sparsely*: it takes ``sparse_divide_bits`` when the caller gives one
#: (``compile.py``: 512 on AMD Zen, where 512-bit ops are split in two 256-bit halves and no
#: port is lost).  AMD EPYC Zen 4, one process, a kernel per width: MPDATA (4 divisions in 92
#: operations) 17.6 / 9.35 ms at 512 against 20.0 / 10.6 ms at 256 (1 / 2 threads); the
#: tridiagonal solve (a third of its operations divide) and omega (a fifth) 10-20% slower
#: at 512
SPARSE_DIVIDE_SHARE = 0.1


def divide_share(exprs) -> tuple[int, int]:
    """(divisions, arithmetic operations) in ``exprs``: BinOps and calls; a division is
    ``/``, ``//``, ``%`` or a call of sqrt, hypot, fmod or power."""
    divides = ops = 0
    for e in exprs:
        for n in N.walk(e):
            if isinstance(n, (N.BinOp, N.Call)):
                ops += 1
                divides += isinstance(n, N.BinOp) and n.op in ("/", "//", "%") \
                    or isinstance(n, N.Call) and n.func in _DIVIDING_CALLS
    return divides, ops


class CpuTarget:
    """x86-64 (any LLVM CPU target): intrinsics and libm; a preferred vector width."""

    name = "cpu"
    external_symbols = tuple(s for name in LIBM_FUNCTIONS for s in (name, name + "f"))

    def math(self, b: ir.IRBuilder, func: str, args: list, t) -> ir.Value:
        target = CPU_MATH[func]
        if target.startswith("llvm."):
            return call_intrinsic(b, target, args)
        ty = llvm_type(t)
        cname = target + ("f" if ty == F32 else "")
        fn = b.module.globals.get(cname) or ir.Function(
            b.module, ir.FunctionType(ty, [ty] * len(args)), cname)
        return b.call(fn, args)

    def function_attributes(self, exprs, vector_bits: int = 0,
                            sparse_divide_bits: int = 0) -> tuple[str, ...]:
        """The preferred vector width: ``vector_bits`` (a tuned choice) or VECTOR_BITS, and
        DIVIDING_VECTOR_BITS for a kernel that divides (``sparse_divide_bits``, when given,
        for one that divides sparsely: SPARSE_DIVIDE_SHARE)."""
        divides, ops = divide_share(exprs)
        if not divides:
            bits = vector_bits or VECTOR_BITS
        elif sparse_divide_bits and divides < SPARSE_DIVIDE_SHARE * ops:
            bits = sparse_divide_bits
        else:
            bits = DIVIDING_VECTOR_BITS
        return (f'"prefer-vector-width"="{bits}"',)


#: the target kernels are compiled for today
CPU = CpuTarget()
