"""The target-neutral expression lowerer: a second target (here a stand-in for NVPTX that
calls libdevice names) lowers the same expressions through ``ExprLowerer`` with its own
``load`` and ``math``; nothing of the CPU (libm names, vector hints) leaks into its IR."""

import ctypes

import numpy as np
import pytest
from llvmlite import binding as llvm
from llvmlite import ir

from stencilpy.codegen.expr import ExprLowerer
from stencilpy.codegen.target import CPU, CPU_MATH, LIBM_FUNCTIONS, MATH_FUNCTIONS
from stencilpy.codegen.types import F32, F64, llvm_type
from stencilpy.frontend.parse import parse_stencil
from stencilpy.passes.bind_scalars import bind_scalars
from stencilpy.runtime import jit


class FakeGpuTarget:
    """Calls ``__nv_<name>`` for every math function, as libdevice would supply them."""

    name = "fake-nvptx"
    external_symbols = ()

    def __init__(self):
        self.calls = []

    def math(self, b, func, args, t):
        self.calls.append(func)
        ty = llvm_type(t)
        name = "__nv_" + func + ("f" if ty == F32 else "")
        fn = b.module.globals.get(name) or ir.Function(
            b.module, ir.FunctionType(ty, [ty] * len(args)), name)
        return b.call(fn, args)

    def function_attributes(self, exprs):
        return ()


def _point_function(target, expr, types, out_t=np.dtype(np.float64)):
    """``double point(double* u, double* v, double s)``: the expression at u[1], v[1], with
    loads through row pointers at the middle element."""
    module = ir.Module("point")
    fn = ir.Function(module, ir.FunctionType(F64, [F64.as_pointer(), F64.as_pointer(), F64]),
                     "point")
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    ptrs = {"u": fn.args[0], "v": fn.args[1]}
    loads = []

    def load(name, offset):
        loads.append((name, offset))
        return b.load(b.gep(ptrs[name], [ir.Constant(ir.IntType(64), 1 + offset[0])]))

    lower = ExprLowerer(b, target, types, load, {"s": fn.args[2]})
    b.ret(lower.lower_as(expr, out_t))
    return module, loads


def _expr():
    import stencilpy as sp

    def k(u, v, s):
        return sp.sin(u[1]) * s + u[1] - sp.sqrt(abs(v[-1])) + max(u[0], v[0])
    st = bind_scalars(parse_stencil(k), frozenset({"s"}))
    types = {"u": np.dtype(np.float64), "v": np.dtype(np.float64), "s": float}
    return st.returns[0], types


def test_a_second_target_supplies_the_math_functions():
    expr, types = _expr()
    gpu = FakeGpuTarget()
    module, loads = _point_function(gpu, expr, types)
    text = str(module)
    assert gpu.calls == ["sin", "abs", "sqrt"]      # max is plain IR, never the target
    assert '@"__nv_sin"' in text and '@"__nv_sqrt"' in text
    assert "llvm.sin" not in text and "prefer-vector-width" not in text
    # one load per distinct (field, offset): u[1] is read twice, loaded once
    assert sorted(loads) == [("u", (0,)), ("u", (1,)), ("v", (-1,)), ("v", (0,))]


def test_the_cpu_target_lowers_the_same_expression_to_running_code():
    expr, types = _expr()
    module, _ = _point_function(CPU, expr, types)
    assert "llvm.sin" in str(module)
    jit.binding()                             # initialises LLVM and registers libm
    mod = llvm.parse_assembly(str(module))
    mod.verify()
    tm = llvm.Target.from_default_triple().create_target_machine()
    engine = llvm.create_mcjit_compiler(mod, tm)
    engine.finalize_object()
    cfunc = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.POINTER(ctypes.c_double),
                             ctypes.POINTER(ctypes.c_double), ctypes.c_double)(
        engine.get_function_address("point"))
    u = np.array([0.3, 0.7, -1.2])
    v = np.array([-2.5, 0.9, 4.0])
    got = cfunc(u.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
                v.ctypes.data_as(ctypes.POINTER(ctypes.c_double)), 1.5)
    # the point is index 1: u[1] -> u[2], u[0] -> u[1], v[-1] -> v[0], v[0] -> v[1]
    expected = np.sin(u[2]) * 1.5 + u[2] - np.sqrt(abs(v[0])) + max(u[1], v[1])
    assert got == pytest.approx(expected, rel=1e-15)


def test_cpu_target_covers_every_math_function():
    assert MATH_FUNCTIONS <= set(CPU_MATH)
    assert set(CPU.external_symbols) == {s for n in LIBM_FUNCTIONS for s in (n, n + "f")}
    assert CPU.function_attributes([]) == ('"prefer-vector-width"="512"',)
