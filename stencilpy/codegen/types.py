"""NumPy types as LLVM types, casts and truth values.

Types follow ``stencilpy.ir.types``: a numpy dtype, or a Python type for weak
scalars (``float`` -> double, ``int`` -> i64, ``bool`` -> i1).  Booleans are i1
in registers and i8 in memory.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.ir.types import concrete

I1, I8, I64 = ir.IntType(1), ir.IntType(8), ir.IntType(64)
F32, F64 = ir.FloatType(), ir.DoubleType()
PTR = ir.PointerType(I8)




def llvm_type(t) -> ir.Type:
    """Register type of a numpy dtype or weak Python type."""
    dt = concrete(t)
    if dt.kind == "b":
        return I1
    if dt.kind in "iu":
        return ir.IntType(8 * dt.itemsize)
    return F32 if dt.itemsize == 4 else F64


def memory_type(t) -> ir.Type:
    """Storage type (bool is a byte in memory)."""
    return I8 if concrete(t).kind == "b" else llvm_type(t)


def is_float(t) -> bool:
    return concrete(t).kind == "f"


def is_unsigned(t) -> bool:
    return concrete(t).kind in "ub"


def constant(t, value) -> ir.Constant:
    dt = concrete(t)
    if dt.kind == "f":
        return ir.Constant(llvm_type(dt), float(value))
    return ir.Constant(llvm_type(dt), int(value))


def to_bool(b: ir.IRBuilder, value, t) -> ir.Value:
    """Truth value as NumPy sees it (NaN is true)."""
    dt = concrete(t)
    if dt.kind == "b":
        return value
    if dt.kind == "f":
        return b.fcmp_unordered("!=", value, ir.Constant(value.type, 0.0))
    return b.icmp_unsigned("!=", value, ir.Constant(value.type, 0))


def cast(b: ir.IRBuilder, value, src, dst) -> ir.Value:
    """Convert ``value`` from type ``src`` to ``dst`` with C/NumPy semantics."""
    s, d = concrete(src), concrete(dst)
    st, dt_ = llvm_type(s), llvm_type(d)
    if d.kind == "b":
        return to_bool(b, value, s)
    if s == d or (st == dt_ and s.kind == d.kind):
        return value
    if s.kind == "f" and d.kind == "f":
        return b.fpext(value, dt_) if d.itemsize > s.itemsize else b.fptrunc(value, dt_)
    if s.kind in "iub" and d.kind == "f":
        return b.uitofp(value, dt_) if s.kind in "ub" else b.sitofp(value, dt_)
    if s.kind == "f" and d.kind in "iu":
        return b.fptoui(value, dt_) if d.kind == "u" else b.fptosi(value, dt_)
    if st.width == dt_.width:
        return value
    if st.width > dt_.width:
        return b.trunc(value, dt_)
    return b.zext(value, dt_) if s.kind in "ub" else b.sext(value, dt_)


def load(b: ir.IRBuilder, ptr, t) -> ir.Value:
    """Load an element of dtype ``t`` (bool bytes become i1)."""
    value = b.load(ptr)
    return b.icmp_unsigned("!=", value, ir.Constant(I8, 0)) if concrete(t).kind == "b" else value


def store(b: ir.IRBuilder, value, ptr, t) -> None:
    if concrete(t).kind == "b":
        value = b.zext(value, I8)
    b.store(value, ptr)
