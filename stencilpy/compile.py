"""The compile driver: every stage from a decorated Python function to a loaded kernel.

Read top to bottom, this module is the pipeline::

    # define(pyfunc, dims): at decoration, once per stencil
    parsed = parse_stencil(pyfunc, dims)        # Python source -> ir.Stencil
    ir = run_definition_passes(parsed)          # -> straight-line single-assignment ir.Stencil
    plan = analyse(ir)                          # sympy -> frozen Plan (halo, stages); made on
                                                #   first use, read from the disk cache if there
    # bind_scalars(definition, names): at a call, once per set of parameters passed as numbers
    ir = specialize(ir, scalar_names)           # reads of them become scalars, folded again
    #   (the runtime then binds the call: signature.bind -> BoundCall: shapes, dtypes, regions)
    # kernel_spec(call, outs, streaming): once per kernel specialisation
    ir = inline_temporaries(call.stencil)       # cheap temporaries recomputed where read at offsets
    ir = eliminate_dead(ir)                     #   and what that left unused removed
    plan = analyse(ir)                          # the analysis of the IR the kernel runs
    spec = KernelSpec(ir, plan, ...)            # + dtypes, broadcasting, layout, modes, streaming
    # build(definition, spec)
    llvm = lower(spec)                          # codegen: -> LLVM IR text (on a cache miss only)
    kernel = jit.load(key(spec), llvm)          # O3 -> object code (disk cache) -> loaded Kernel

``Definition``, ``KernelSpec`` and ``Kernel`` are the stages (frozen).  ``sp.inspect`` and
``STENCILPY_DUMP`` print them with the one function ``stage_text``.  ``Compiler`` keeps one
stencil's stages so that each is made once; the runtime receives its kernels from it and
never calls back into the middle end.

>>> import numpy as np
>>> def d(u):
...     return u[1] - u[-1]
>>> definition = define(d, None)
>>> definition.plan.halo
((1, 1),)
>>> print(stage_text("ir", definition), end="")
stencil d(u[]) dims=(dim_0)
    return (u[1] - u[-1])
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from stencilpy.analysis import Plan, describe
from stencilpy.codegen.spec import ArgLayout, FieldSpec, KernelSpec, OutputSpec
from stencilpy.errors import StencilCallError
from stencilpy.frontend import parse_stencil
from stencilpy.ir import nodes as N
from stencilpy.ir.printer import format_stencil
from stencilpy.ir.types import infer
from stencilpy.passes.eliminate_dead import eliminate_dead
from stencilpy.passes.inline_temporaries import inline_temporaries
from stencilpy.passes.pipeline import run_definition_passes, specialize
from stencilpy.runtime import jit
from stencilpy.runtime.forksafe import reset_in_child
from stencilpy.runtime import tuning
from stencilpy.runtime.launch import wants_streaming
from stencilpy.runtime.plan_cache import analyse_cached
from stencilpy.signature import BoundCall

#: the exported symbol of every kernel (``codegen.kernel.ENTRY_NAME``; checked when lowered)
ENTRY_NAME = "stencil_kernel"
#: what ``sp.inspect`` and ``STENCILPY_DUMP`` can show; the first two exist from decoration on,
#: the others belong to one kernel specialisation
STAGES = ("ir", "analysis", "ir-call", "llvm", "llvm-opt", "asm")
DEFINITION_STAGES = ("ir", "analysis")


# -- the stages --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Definition:
    """What decoration makes of a stencil: the parsed IR and the IR after the passes."""

    parsed: N.Stencil        # the frontend's output
    ir: N.Stencil            # after the definition passes: straight-line SSA
    common_region: bool = False   # @sp.stencil(regions="common"): one region for all outputs

    @cached_property
    def plan(self) -> Plan:
        """The frozen analysis of ``ir`` (from the disk cache, else computed with sympy);
        with ``common_region`` without per-output footprints (every output gets the
        stencil's region)."""
        plan = analyse_cached(self.ir)
        if self.common_region and plan.output_extents:
            plan = dataclasses.replace(plan, output_extents=())
        return plan


@dataclass(frozen=True, eq=False)
class Kernel:
    """The last stage: machine code loaded for one ``KernelSpec``."""

    spec: KernelSpec         # spec.stencil: the call IR; spec.plan: its analysis
    layout: ArgLayout        # slots of the kernel's int64 argument block
    loaded: jit.Loaded       # the code, its entry address and a ctypes function

    @property
    def cfunc(self):
        return self.loaded.cfunc


# -- the pipeline, in order ----------------------------------------------------------------------

def define(pyfunc: Callable, dims: Sequence[str] | None,
           common_region: bool = False) -> Definition:
    """Decoration: Python source -> IR -> the passes (the analysis waits for first use)."""
    parsed = parse_stencil(pyfunc, tuple(dims) if dims else None)   # Python source -> ir.Stencil
    return Definition(parsed, run_definition_passes(parsed),       # -> straight-line SSA
                      common_region)


def bind_scalars(definition: Definition, scalar_names: frozenset[str]) -> N.Stencil:
    """The IR of a call that passes ``scalar_names`` as numbers: their reads become scalar
    reads (the values themselves reach the kernel at run time, in its argument block)."""
    return specialize(definition.ir, scalar_names)


def kernel_spec(call: BoundCall, outs: tuple[np.ndarray, ...],
                streaming: bool = False, writes_fill: bool = True) -> KernelSpec:
    """What the kernel of a bound call is compiled for (``outs``: its output arrays;
    ``writes_fill=False``: a kernel of one output's strip, ``runtime/strips.py``)."""
    ir, plan = inline_temporaries(call.stencil), call.plan   # cheap temporaries recomputed
    if ir is not call.stencil:                               #   where they are read at offsets
        ir = eliminate_dead(ir)                              # what that left unused removed
        plan = analyse_cached(ir)                            # the analysis of what the kernel runs
    fields = tuple(FieldSpec(n, a.dtype, call.broadcast[n], _unit_inner(a, call.broadcast[n]))
                   for n, a in call.fields.items())
    outputs = tuple(OutputSpec(o.dtype, o.strides[-1] == o.itemsize if o.ndim else True)
                    for o in outs)
    scalars = tuple((n, type(v)) for n, v in call.scalars.items())
    temps = tuple((s.target, call.temp_types[s.target]) for s in ir.body)
    vector_bits, interleave = tuning.active().codegen      # tuned per CPU (0, 0: defaults)
    return KernelSpec(ir, plan, fields, scalars, outputs, call.options.modes, temps, streaming,
                      writes_fill, vector_bits, interleave, sparse_divide_bits())


#: LLVM CPU names (prefixes) whose 512-bit vector ops run as two 256-bit halves on the
#: 256-bit units, so no execution port is lost to them: a kernel that divides sparsely keeps
#: 512-bit vectors there (``codegen/target.py: SPARSE_DIVIDE_SHARE``; measured on Zen 4)
SPLIT_512_CPUS = ("znver4", "znver5")


def sparse_divide_bits() -> int:
    """512 on CPUs of SPLIT_512_CPUS that expose AVX-512, else 0 (the dividing width)."""
    cpu, features = jit.host()
    return 512 if cpu.startswith(SPLIT_512_CPUS) and "+avx512f" in features else 0


def _unit_inner(arr: np.ndarray, broadcast) -> bool:
    return not broadcast[-1] and arr.strides[-1] == arr.itemsize


def lower(spec: KernelSpec) -> str:
    """LLVM IR text of ``spec``'s kernel (codegen; imports llvmlite.ir, so only when needed)."""
    from stencilpy.codegen.kernel import ENTRY_NAME as entry, lower as lower_module

    if entry != ENTRY_NAME:  # pragma: no cover - a renamed entry must be renamed here too
        raise AssertionError(f"codegen exports '{entry}', the driver looks up '{ENTRY_NAME}'")
    return str(lower_module(spec))


def build(definition: Definition, spec: KernelSpec) -> Kernel:
    """Load ``spec``'s kernel from the disk cache or compile it (printing STENCILPY_DUMP stages)."""
    stages = dump_stages()
    if stages:
        dump(definition, spec, stages)
    key = jit.cache_key(spec.fingerprint_text())
    loaded = jit.load(key, lambda: lower(spec), ENTRY_NAME)
    return Kernel(spec, ArgLayout(spec), loaded)


# -- reading the stages ------------------------------------------------------------------------

def stage_text(stage: str, definition: Definition, spec: KernelSpec | None = None,
               llvm: str | None = None) -> str:
    """One stage as text; the kernel stages need ``spec`` (``llvm``: its LLVM IR, if known)."""
    if stage not in STAGES:
        raise StencilCallError(f"unknown stage {stage!r}; use one of {STAGES}")
    if stage == "ir":
        return format_stencil(definition.ir)
    if stage == "analysis":
        return describe(definition.plan)
    if stage == "ir-call":
        return format_stencil(spec.stencil)
    llvm = lower(spec) if llvm is None else llvm
    if stage == "llvm":
        return llvm
    return jit.optimised_ir(llvm) if stage == "llvm-opt" else jit.assembly(llvm)


def dump_stages() -> list[str]:
    """The stages listed in ``STENCILPY_DUMP`` (e.g. "ir,ir-call,asm"), in pipeline order."""
    listed = {s.strip() for s in os.environ.get("STENCILPY_DUMP", "").split(",") if s.strip()}
    return [s for s in STAGES if s in listed]


def dump(definition: Definition, spec: KernelSpec, stages: list[str]) -> None:
    """Print ``stages`` of one kernel specialisation (``STENCILPY_DUMP``)."""
    llvm = lower(spec) if set(stages) - {"ir", "analysis", "ir-call"} else None
    for stage in stages:
        print(f"--- stencilpy {stage}: {definition.ir.name}\n"
              f"{stage_text(stage, definition, spec, llvm)}")


# -- one stencil's stages, each made once --------------------------------------------------------

_COMPILE_LOCK = threading.Lock()
# fork waits for a compile in another thread (it may be importing llvmlite or codegen: a
# child would inherit those modules half-imported, their import locks held)
reset_in_child(sys.modules[__name__], "_COMPILE_LOCK", hold_rank=10)


class Compiler:
    """A stencil's definition and its call-time stages: the call IR per set of scalar
    parameters, the inferred types per argument types, and a kernel per specialisation."""

    def __init__(self, pyfunc: Callable, dims: Sequence[str] | None,
                 common_region: bool = False):
        self.definition = define(pyfunc, dims, common_region)
        self.kernels: dict = {}             # static facts of a call -> Kernel
        self._call_ir: dict = {}            # frozenset of scalar names -> call IR
        self._types: dict = {}              # (call IR, argument types) -> inferred types

    def call_ir(self, scalar_names: frozenset[str]) -> N.Stencil:
        ir = self._call_ir.get(scalar_names)
        if ir is None:
            ir = self._call_ir[scalar_names] = bind_scalars(self.definition, scalar_names)
        return ir

    def infer_types(self, ir: N.Stencil, env: dict) -> tuple[dict, tuple]:
        """``ir.types.infer``, remembered per argument types."""
        key = (id(ir), tuple(sorted((k, str(v)) for k, v in env.items())))
        found = self._types.get(key)
        if found is None:
            found = self._types[key] = infer(ir, env)
        return found

    def kernel(self, call: BoundCall, outs: tuple[np.ndarray, ...],
               writes_fill: bool = True) -> Kernel:
        """The kernel for ``call`` writing ``outs``: made once per specialisation (the
        call IR, dtypes, broadcasting, unit strides, modes and streaming;
        ``writes_fill=False``: one that computes part of an output's region,
        ``runtime/strips.py``, never streaming)."""
        lo, hi = call.regions[-1]
        streaming = writes_fill and wants_streaming(outs, call.fields.values(), hi - lo)
        key = _static_key(call, outs, streaming, writes_fill)
        kernel = self.kernels.get(key)
        if kernel is None:
            with _COMPILE_LOCK:
                kernel = self.kernels.get(key)
                if kernel is None:
                    spec = kernel_spec(call, outs, streaming, writes_fill)
                    kernel = self.kernels[key] = build(self.definition, spec)
        return kernel


def _static_key(call: BoundCall, outs: tuple[np.ndarray, ...], streaming: bool,
                writes_fill: bool = True) -> tuple:
    """Everything ``kernel_spec`` reads from a call (the call IR is made once per scalar set,
    so its identity stands for it)."""
    fields = tuple((n, a.dtype.char, call.broadcast[n], a.strides[-1] == a.itemsize)
                   for n, a in call.fields.items())
    scalars = tuple((n, type(v)) for n, v in call.scalars.items())
    outputs = tuple((o.dtype.char, o.strides[-1] == o.itemsize) for o in outs)
    return (id(call.stencil), fields, scalars, outputs, call.options.modes, streaming,
            writes_fill, tuning.active().codegen)
