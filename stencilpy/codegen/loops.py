"""Small loop helpers for llvmlite IR builders."""

from __future__ import annotations

from contextlib import contextmanager

from llvmlite import ir

from stencilpy.codegen.types import I64


@contextmanager
def for_range(b: ir.IRBuilder, lo, hi, name: str = "i", step=None, masked: bool = False,
              scalar: bool = False, interleave: int = 0):
    """``for (i = lo; i < hi; i += step)``; yields the index (an i64 phi).

    Emits::

        pre:   br cond
        cond:  i = phi [lo, pre], [i.next, body.end]; br (i < hi), body, exit
        body:  ...  (the with-block)
        body.end: i.next = i + step; br cond        (masked: !llvm.loop, see below)
        exit:

    ``masked``: a short loop (a peel or remainder of fewer points than a vector) that LLVM
    should vectorise with masked loads/stores instead of running it scalar.
    ``scalar``: a loop LLVM should neither vectorise nor unroll (cold code: less to compile).
    ``interleave``: vector iterations LLVM keeps in flight (``llvm.loop.interleave.count``;
    0: LLVM's own choice).
    """
    step = step if step is not None else ir.Constant(I64, 1)
    pre = b.block
    cond = b.append_basic_block(f"{name}.cond")
    body = b.append_basic_block(f"{name}.body")
    exit_ = b.append_basic_block(f"{name}.exit")
    b.branch(cond)
    b.position_at_end(cond)
    idx = b.phi(I64, name=name)
    idx.add_incoming(lo, pre)
    b.cbranch(b.icmp_signed("<", idx, hi), body, exit_)
    b.position_at_end(body)
    yield idx
    nxt = b.add(idx, step, name=f"{name}.next")
    idx.add_incoming(nxt, b.block)
    latch = b.branch(cond)
    if masked:
        latch.set_metadata("llvm.loop", _loop_id(b.module, ("llvm.loop.vectorize.predicate.enable", 1)))
    elif scalar:
        latch.set_metadata("llvm.loop", _loop_id(b.module, ("llvm.loop.vectorize.enable", 0),
                                                 ("llvm.loop.unroll.disable",)))
    elif interleave:
        latch.set_metadata("llvm.loop", _loop_id(b.module, ("llvm.loop.interleave.count",
                                                            ir.Constant(ir.IntType(32), interleave))))
    b.position_at_end(exit_)


def _loop_id(module: ir.Module, *hints: tuple):
    """``!N = !{!N, !{!"hint", i1 value}, !{!"hint"}, ...}``: a loop ID (self-referential)
    with hints, each ``(name,)``, ``(name, 0 or 1)`` or ``(name, ir.Constant)``."""
    nodes = [module.add_metadata([ir.MetaDataString(module, h[0])]
                                 + [v if isinstance(v, ir.Constant) else ir.Constant(ir.IntType(1), v)
                                    for v in h[1:]]) for h in hints]
    loop = ir.values.MDValue(module, [], name=str(len(module.metadata)))
    loop.operands = (loop, *nodes)
    return loop


def smin(b: ir.IRBuilder, x, y):
    return b.select(b.icmp_signed("<", x, y), x, y)


def smax(b: ir.IRBuilder, x, y):
    return b.select(b.icmp_signed(">", x, y), x, y)


def const(value: int) -> ir.Constant:
    return ir.Constant(I64, value)


@contextmanager
def claim_loop(b: ir.IRBuilder, counter, total, name: str = "chunk"):
    """``while ((c = atomic_fetch_add(counter, 1)) < total)``; yields the claimed c.

    Emits::

        pre:   br head
        head:  c = atomicrmw add counter, 1 monotonic; br (c < total), body, exit
        body:  ...  (the with-block); br head
        exit:
    """
    head = b.append_basic_block(f"{name}.head")
    body = b.append_basic_block(f"{name}.body")
    exit_ = b.append_basic_block(f"{name}.exit")
    b.branch(head)
    b.position_at_end(head)
    c = b.atomic_rmw("add", counter, ir.Constant(I64, 1), "monotonic", name=name)
    b.cbranch(b.icmp_signed("<", c, total), body, exit_)
    b.position_at_end(body)
    yield c
    b.branch(head)
    b.position_at_end(exit_)


def ceil_div(b: ir.IRBuilder, x, y):
    """``(x + y - 1) / y`` for x >= 0, y > 0."""
    return b.sdiv(b.add(x, b.sub(y, ir.Constant(I64, 1))), y)
