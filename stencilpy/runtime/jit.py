"""llvmlite.binding: parse, optimise (LLVM's O3 pipeline), emit object code,
load it into an MCJIT engine and hand back a ctypes function.

Compiled object code is cached on disk (``runtime/cache.py``) under a key made
from the kernel's canonical specification, the CPU and the versions; a warm
start loads the object file and skips LLVM entirely.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import os
import threading
from dataclasses import dataclass

import llvmlite
import llvmlite.binding as llvm

from stencilpy.runtime import cache as disk

_LOCK = threading.RLock()


@functools.lru_cache(maxsize=None)
def _initialise() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()
    _register_libm()


def _register_libm() -> None:
    """Make the C math functions kernels may call resolvable by the JIT linker."""
    from stencilpy.codegen.math import LIBM_FUNCTIONS

    libm = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    for name in LIBM_FUNCTIONS:
        for symbol in (name, name + "f"):
            address = ctypes.cast(getattr(libm, symbol), ctypes.c_void_p).value
            llvm.add_symbol(symbol, address)


@functools.lru_cache(maxsize=None)
def host() -> tuple[str, str]:
    """(CPU name, CPU feature string) of this machine, as LLVM sees them."""
    _initialise()
    return llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()


@functools.lru_cache(maxsize=None)
def target_machine():
    cpu, features = host()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=cpu, features=features, opt=3,
                                        reloc="static", codemodel="jitdefault")


def versions() -> str:
    from stencilpy import __version__
    return f"stencilpy={__version__} llvmlite={llvmlite.__version__} llvm={llvm.llvm_version_info}"


def cache_key(spec_text: str) -> str:
    cpu, features = host()
    return disk.fingerprint("kernel", spec_text, cpu, features, versions())


def prepare_ir(ir_text: str):
    """Parse and verify LLVM IR text for this machine's target."""
    _initialise()
    tm = target_machine()
    mod = llvm.parse_assembly(ir_text)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    return mod


def optimise(mod) -> None:
    """LLVM's O3 pipeline with loop and SLP vectorisation."""
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(target_machine(), pto)
    pb.getModulePassManager().run(mod, pb)


@dataclass
class Loaded:
    """A kernel loaded into memory; keeps its engine alive."""

    engine: object
    address: int
    cfunc: object
    from_cache: bool


_CFUNC_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


def _load_object(obj: bytes, entry: str) -> tuple[object, int]:
    _initialise()
    empty = llvm.parse_assembly("")
    engine = llvm.create_mcjit_compiler(empty, target_machine())
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    address = engine.get_function_address(entry)
    if not address:
        raise RuntimeError(f"symbol {entry} missing from compiled object")
    return engine, address


def compile_object(ir_text: str) -> bytes:
    """IR text -> optimised native object code."""
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        return target_machine().emit_object(mod)


def load(key: str, build_ir, entry: str) -> Loaded:
    """Load the kernel for ``key`` from the disk cache, or compile ``build_ir()``'s text."""
    cache = disk.default_cache()
    obj = cache.load(key) if cache is not None else None
    from_cache = obj is not None
    if obj is None:
        obj = compile_object(build_ir())
        if cache is not None:
            cache.store(key, obj)
    with _LOCK:
        engine, address = _load_object(obj, entry)
    return Loaded(engine, address, _CFUNC_TYPE(address), from_cache)


def optimised_ir(ir_text: str) -> str:
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        return str(mod)


def assembly(ir_text: str) -> str:
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        return target_machine().emit_assembly(mod)


def dump_stages() -> set[str]:
    """Stages listed in ``STENCILPY_DUMP`` (e.g. "ir,llvm,asm")."""
    return {s.strip() for s in os.environ.get("STENCILPY_DUMP", "").split(",") if s.strip()}
