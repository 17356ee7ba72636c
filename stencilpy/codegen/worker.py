"""A helper thread's side of a call, in compiled code: ``sp_sync(box, op)``.

Each helper thread owns a *mailbox* (int64 words, its own cache line)::

    box[0] state: IDLE 0 -> POSTED 1 (caller) -> RUNNING 2 (helper) -> DONE 3 -> IDLE (caller)
                  QUIT 4: leave
    box[1] kernel entry address      box[2] argument block address

``op == 0`` (the helper, GIL released): take POSTED jobs and run them; spin with
``pause`` between jobs and return (1) after about SPIN_CYCLES idle cycles so the
Python thread can sleep, or (0) on QUIT.  ``op == 1`` (the caller, after its own
share): cancel a job the helper has not taken yet (returns 0) or wait until it is
DONE (returns 1).  Back-to-back calls thus reach a spinning helper without any
GIL hand-over or thread wake-up; the kernels claim their chunks from a shared
counter, so a cancelled job loses nothing.
"""

from __future__ import annotations

from llvmlite import ir

from stencilpy.codegen.types import I64

ENTRY = "sp_sync"
IDLE, POSTED, RUNNING, DONE, QUIT = 0, 1, 2, 3, 4
#: time-stamp-counter cycles a helper keeps spinning for the next job (about 0.5 ms at
#: 2 GHz; OpenMP's default spin is longer): back-to-back calls find it awake
SPIN_CYCLES = 1_000_000


def _const(v: int) -> ir.Constant:
    return ir.Constant(I64, v)


def _declare(module: ir.Module, name: str, ret, args) -> ir.Function:
    return module.globals.get(name) or ir.Function(module, ir.FunctionType(ret, args), name)


def build() -> ir.Module:
    """The module exporting ``i64 sp_sync(i64* box, i64 op)``."""
    module = ir.Module(name="stencilpy.worker")
    fn = ir.Function(module, ir.FunctionType(I64, [I64.as_pointer(), I64]), ENTRY)
    box, op = fn.args
    pause = _declare(module, "llvm.x86.sse2.pause", ir.VoidType(), [])
    clock = _declare(module, "llvm.readcyclecounter", I64, [])
    kernel_ty = ir.FunctionType(ir.VoidType(), [I64.as_pointer()]).as_pointer()
    blocks = {n: fn.append_basic_block(n) for n in
              ("entry", "work", "poll", "take", "run", "idle", "quit", "timeout",
               "finish", "wait", "cancelled", "done")}
    b = ir.IRBuilder(blocks["entry"])
    state = box
    b.cbranch(b.icmp_signed("==", op, _const(0)), blocks["work"], blocks["finish"])

    # work: start = clock(); poll: s = state (acquire)
    b.position_at_end(blocks["work"])
    start0 = b.call(clock, [])
    b.branch(blocks["poll"])
    b.position_at_end(blocks["poll"])
    start = b.phi(I64)
    start.add_incoming(start0, blocks["work"])
    s = b.load_atomic(state, "acquire", 8)
    switch = b.switch(s, blocks["idle"])
    switch.add_case(_const(POSTED), blocks["take"])
    switch.add_case(_const(QUIT), blocks["quit"])

    # take: if cmpxchg(state, POSTED, RUNNING) succeeds -> run, else poll again
    b.position_at_end(blocks["take"])
    pair = b.cmpxchg(state, _const(POSTED), _const(RUNNING), "acq_rel", "acquire")
    b.cbranch(b.extract_value(pair, 1), blocks["run"], blocks["poll"])
    start.add_incoming(start, blocks["take"])

    # run: kernel(arg); state = DONE (release); restart the idle clock
    b.position_at_end(blocks["run"])
    entry = b.inttoptr(b.load(b.gep(box, [_const(1)])), kernel_ty)
    arg = b.inttoptr(b.load(b.gep(box, [_const(2)])), I64.as_pointer())
    b.call(entry, [arg])
    b.store_atomic(_const(DONE), state, "release", 8)
    restart = b.call(clock, [])
    b.branch(blocks["poll"])
    start.add_incoming(restart, blocks["run"])

    # idle: pause; leave after SPIN_CYCLES without work
    b.position_at_end(blocks["idle"])
    b.call(pause, [])
    waited = b.sub(b.call(clock, []), start)
    b.cbranch(b.icmp_unsigned(">", waited, _const(SPIN_CYCLES)), blocks["timeout"], blocks["poll"])
    start.add_incoming(start, blocks["idle"])
    b.position_at_end(blocks["timeout"])
    b.ret(_const(1))
    b.position_at_end(blocks["quit"])
    b.ret(_const(0))

    # finish (caller): cancel a job not taken yet, else wait for DONE and reset to IDLE
    b.position_at_end(blocks["finish"])
    pair = b.cmpxchg(state, _const(POSTED), _const(IDLE), "acq_rel", "acquire")
    b.cbranch(b.extract_value(pair, 1), blocks["cancelled"], blocks["wait"])
    b.position_at_end(blocks["cancelled"])
    b.ret(_const(0))
    b.position_at_end(blocks["wait"])
    b.call(pause, [])
    s = b.load_atomic(state, "acquire", 8)
    b.cbranch(b.icmp_signed("==", s, _const(DONE)), blocks["done"], blocks["wait"])
    b.position_at_end(blocks["done"])
    b.store_atomic(_const(IDLE), state, "release", 8)
    b.ret(_const(1))
    return module
