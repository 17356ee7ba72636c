"""One specialised kernel: ``KernelSpec`` + ``Target`` -> ``llvmlite.ir.Module``.

Lowering, as typed comments::

    # [KernelSpec] -> KernelContext                         (context.py: fixed per kernel)
    # stencil_kernel(i64* block)                            (here: the exported entry)
    #   -> stencil_body(noalias fields.., noalias outputs.., noalias scratch.., block)
    #        entry: slots -> SSA (args.py), per-stage bounds/interiors/buffers (geometry.py)
    #        chunks x batch x rows (or tiles) x outer axes (nest.py)
    #          row pointers, loads, stores (access.py)
    #          inner axis: remapped | fast | remapped (segments.py; streamed: stream.py)
    #            the values of a point: ExprLowerer (expr.py, target-neutral) + Target
    #   -> stencil_safe_k(...): one scalar remapped function per stage (segments.py)

The "fast" part reads every field in bounds with plain strided addressing; the
"remapped" parts (only along axes with a padding boundary mode) map each index
with ``codegen/boundary.py``.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.context import KernelContext
from stencilpy.codegen.loops import const
from stencilpy.codegen.nest import emit_body
from stencilpy.codegen.spec import KernelSpec
from stencilpy.codegen.target import CPU, Target
from stencilpy.codegen.types import I64, memory_type

ENTRY_NAME = "stencil_kernel"


class _Attributes(ir.values.FunctionAttributes):
    """Function attributes plus LLVM string attributes (``"key"="value"``)."""

    def __init__(self, extra):
        super().__init__()
        self.extra = list(extra)

    def __len__(self):
        return super().__len__() + len(self.extra)

    def _to_list(self, ret_type):
        return super()._to_list(ret_type) + self.extra


def lower(spec: KernelSpec, target: Target = CPU) -> ir.Module:
    """The llvmlite module of one specialised kernel (entry ``stencil_kernel``)."""
    ctx = KernelContext.of(spec, target)
    module = ir.Module(name=f"stencilpy.{spec.stencil.name}")
    ptr_types = _pointer_types(ctx)
    body = ir.Function(module, ir.FunctionType(ir.VoidType(), ptr_types + [I64.as_pointer()]),
                       "stencil_body")
    body.linkage = "internal"
    body.attributes = _Attributes(_attributes(ctx))
    for arg in body.args[:-1]:
        arg.add_attribute("noalias")
    _emit_entry(ctx, module, body, ptr_types)
    emit_body(ctx, body)
    return module


def _pointer_types(ctx: KernelContext) -> list:
    """The body's array arguments: fields, outputs, then temporary buffers."""
    spec = ctx.spec
    tys = [memory_type(f.dtype).as_pointer() for f in spec.fields]
    tys += [memory_type(o.dtype).as_pointer() for o in spec.outputs]
    tys += [memory_type(ctx.types[t]).as_pointer() for t in spec.materialised]
    return tys


def _attributes(ctx: KernelContext) -> tuple[str, ...]:
    exprs = [st.value for st in ctx.spec.stencil.body] + list(ctx.spec.stencil.returns)
    return ctx.target.function_attributes(exprs, vector_bits=ctx.spec.vector_bits,   # tuned
                                          sparse_divide_bits=ctx.spec.sparse_divide_bits)


def _emit_entry(ctx: KernelContext, module: ir.Module, body: ir.Function, ptr_types: list) -> None:
    """The exported entry: load the pointer slots, call the body (inlined here)::

        define void @stencil_kernel(i64* %block) {
        entry:
          %p_k = inttoptr i64 (load (gep %block, slot_k)) to <elem>*     ; per array
          call void @stencil_body(%p_0, .., %block)
          ret void
        }
    """
    fn = ir.Function(module, ir.FunctionType(ir.VoidType(), [I64.as_pointer()]), ENTRY_NAME)
    fn.attributes = _Attributes(_attributes(ctx))
    b = ir.IRBuilder(fn.append_basic_block("entry"))
    block = fn.args[0]
    slots = ctx.layout.array_ptrs + [ctx.layout.scratch[t] for t in ctx.spec.materialised]
    ptrs = [b.inttoptr(b.load(b.gep(block, [const(s)])), ty) for s, ty in zip(slots, ptr_types)]
    b.call(body, ptrs + [block])
    b.ret_void()
