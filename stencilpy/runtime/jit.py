"""From LLVM IR text to a callable kernel: parse, optimise (LLVM's O3 pipeline),
emit object code, load it and hand back a ctypes function.

    cache_key(spec text)  -> content key (spec, CPU name/features, versions)
    load(key, build_ir)   -> in this process already?  -> that kernel
                             on disk (runtime/cache.py)? -> load the object code
                             else: build_ir() -> compile_object() -> store -> load

Loading object code uses ``runtime/loader.py`` (a small x86-64 ELF loader that
needs no LLVM) where it applies, else an MCJIT engine.  ``llvmlite.binding`` is
imported only when something has to be compiled or LLVM must be asked about the
host: the CPU name and features LLVM reports are themselves cached, keyed by
the identity of the CPU in ``/proc/cpuinfo``, so a warm start in a new process
never loads LLVM.  ``STENCILPY_LOADER=mcjit`` forces MCJIT.
"""

from __future__ import annotations

import ctypes
import functools
import os
import sys
import threading
import weakref
from contextlib import contextmanager
from dataclasses import dataclass

from stencilpy.runtime import cache as disk
from stencilpy.runtime.forksafe import reset_in_child

_LOCK = threading.RLock()
# fork waits until no other thread is inside LLVM (whose own mutexes a child would inherit)
reset_in_child(sys.modules[__name__], "_LOCK", threading.RLock, hold_rank=30)


@functools.lru_cache(maxsize=None)
def binding():
    """``llvmlite.binding``, initialised for the native target (imported on first use)."""
    with _LOCK:                    # a fork waits until the import is complete
        import llvmlite.binding as llvm

        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _register_libm(llvm)
    return llvm


def _libm_path() -> str:
    if sys.platform.startswith("linux"):
        return "libm.so.6"
    import ctypes.util
    return ctypes.util.find_library("m") or "libm.so.6"


def _register_libm(llvm) -> None:
    """Make the C math functions kernels may call resolvable by the JIT linker."""
    from stencilpy.codegen.target import CPU

    libm = ctypes.CDLL(_libm_path())
    for symbol in CPU.external_symbols:
        address = ctypes.cast(getattr(libm, symbol), ctypes.c_void_p).value
        llvm.add_symbol(symbol, address)


def llvmlite_version() -> str:
    import llvmlite
    return llvmlite.__version__


def llvm_version() -> str:
    return ".".join(map(str, binding().llvm_version_info))


def versions() -> str:
    """stencilpy (version + compiler source hash) and llvmlite (which fixes the LLVM) versions."""
    return f"stencilpy={disk.code_version()} llvmlite={llvmlite_version()}"


# -- the host CPU as LLVM sees it ----------------------------------------------------------

_CPU_FIELDS = ("vendor_id", "cpu family", "model", "model name", "stepping", "flags",
               "CPU implementer", "CPU architecture", "CPU variant", "CPU part", "Features")


@functools.lru_cache(maxsize=None)
def cpu_identity() -> str | None:
    """The identifying lines of every CPU in ``/proc/cpuinfo`` (Linux), else None."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    found = set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() in _CPU_FIELDS:
            found.add(f"{key.strip()}={' '.join(value.split())}")
    return "\n".join(sorted(found)) if found else None


def _host_key() -> str | None:
    identity = cpu_identity()
    if identity is None:
        return None
    import platform
    return disk.fingerprint("host", identity, platform.machine(), versions())


def _parse_host(data: bytes | None) -> tuple[str, str] | None:
    try:
        cpu, sep, features = data.decode("ascii").partition("\n")
    except (AttributeError, UnicodeDecodeError):
        return None
    if not (sep and cpu.isprintable() and features.isprintable() and cpu):
        return None
    return cpu, features


@functools.lru_cache(maxsize=None)
def host() -> tuple[str, str]:
    """(CPU name, CPU feature string) of this machine, as LLVM sees them.

    Cached on disk by the CPU's identity (model and flags in ``/proc/cpuinfo``),
    so that computing a kernel's cache key does not require loading LLVM.
    """
    key = _host_key()
    cache = disk.default_cache() if key is not None else None
    if cache is not None:
        found = _parse_host(cache.load(key))
        if found is not None:
            return found
    llvm = binding()
    found = llvm.get_host_cpu_name(), llvm.get_host_cpu_features().flatten()
    if cache is not None:
        cache.store(key, f"{found[0]}\n{found[1]}".encode("ascii"))
    return found


def new_target_machine():
    """A TargetMachine for this host (opt level 3, static relocations, JIT code model)."""
    llvm = binding()
    cpu, features = host()
    target = llvm.Target.from_default_triple()
    return target.create_target_machine(cpu=cpu, features=features, opt=3,
                                        reloc="static", codemodel="jitdefault")


@functools.lru_cache(maxsize=None)
def target_machine():
    """The shared TargetMachine for parsing, optimising and emitting code.  Never give it
    to an MCJIT engine: the engine takes ownership and frees it when it is collected."""
    return new_target_machine()


def cache_key(spec_text: str) -> str:
    cpu, features = host()
    return disk.fingerprint("kernel", spec_text, cpu, features, versions())


# -- compiling -------------------------------------------------------------------------------

def prepare_ir(ir_text: str):
    """Parse and verify LLVM IR text for this machine's target."""
    llvm = binding()
    tm = target_machine()
    mod = llvm.parse_assembly(ir_text)
    mod.triple = tm.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    return mod


def optimise(mod) -> None:
    """LLVM's O3 pipeline with loop and SLP vectorisation."""
    llvm = binding()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pb = llvm.create_pass_builder(target_machine(), pto)
    pb.getModulePassManager().run(mod, pb)


#: LLVM code-generation options switched on while stencilpy emits a kernel (they are
#: process-wide, so they are restored afterwards: other llvmlite users such as numba
#: never see them).  Loop strength reduction took 70% of code generation for kernels
#: with many row pointers (the fused MPDATA step: 0.31 of 0.45 s) and measured no faster.
CODEGEN_FLAGS = ("disable-lsr",)


@contextmanager
def _codegen_flags():
    llvm = binding()
    for flag in CODEGEN_FLAGS:
        llvm.set_option("stencilpy", f"-{flag}=true")
    try:
        yield
    finally:
        for flag in CODEGEN_FLAGS:
            llvm.set_option("stencilpy", f"-{flag}=false")


def compile_object(ir_text: str) -> bytes:
    """IR text -> optimised native object code."""
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        with _codegen_flags():
            return target_machine().emit_object(mod)


def optimised_ir(ir_text: str) -> str:
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        return str(mod)


def assembly(ir_text: str) -> str:
    with _LOCK:
        mod = prepare_ir(ir_text)
        optimise(mod)
        with _codegen_flags():
            return target_machine().emit_assembly(mod)


# -- loading ---------------------------------------------------------------------------------

@dataclass(eq=False)
class Loaded:
    """A kernel loaded into memory; keeps its code (ELF image or MCJIT engine) alive."""

    owner: object
    address: int
    cfunc: object
    from_cache: bool
    loader: str            # "elf" (runtime/loader.py) or "mcjit"


_CFUNC_TYPE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)

#: first bytes of the object files LLVM emits (ELF, 64-bit Mach-O, x86-64 / arm64 COFF)
_OBJECT_MAGIC = (b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\x64\x86", b"\x64\xaa")


def _use_elf_loader() -> bool:
    from stencilpy.runtime import loader
    return os.environ.get("STENCILPY_LOADER", "").strip().lower() != "mcjit" and loader.available()


def _load_mcjit(obj: bytes, entry: str) -> tuple[object, int]:
    llvm = binding()
    with _LOCK:
        # a TargetMachine of its own: the engine owns (and frees) the one it is given
        engine = llvm.create_mcjit_compiler(llvm.parse_assembly(""), new_target_machine())
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        address = engine.get_function_address(entry)
    if not address:
        raise RuntimeError(f"symbol {entry} missing from compiled object")
    return engine, address


def load_object(obj: bytes, entry: str, from_cache: bool = False, mcjit: bool = False) -> Loaded:
    """Object code -> ``Loaded``: the ELF loader where it applies, else MCJIT.

    Code read from the cache (``from_cache``) on a platform where the ELF loader
    applies is only ever loaded by it: anything it rejects raises
    ``loader.Unsupported`` (the caller rebuilds), because MCJIT does not validate
    object files and crashes on damaged ones.  Code LLVM has just emitted falls
    back to MCJIT."""
    if not mcjit and _use_elf_loader():
        from stencilpy.runtime import loader
        try:
            image = loader.load_object(obj)
            address = image.address(entry)
            return Loaded(image, address, _CFUNC_TYPE(address), from_cache, "elf")
        except loader.Unsupported:
            if from_cache:
                raise
    engine, address = _load_mcjit(obj, entry)
    return Loaded(engine, address, _CFUNC_TYPE(address), from_cache, "mcjit")


def _load_cached(obj: bytes, entry: str) -> Loaded | None:
    """Load object code from the cache; None (rebuild) if it is not an object file or
    the loader rejects it.  (The cache's sha256 check comes first; this is a second
    line of defence against entries that are intact but not what we stored.)"""
    from stencilpy.runtime.loader import Unsupported

    if not obj.startswith(_OBJECT_MAGIC):
        return None
    try:
        return load_object(obj, entry, from_cache=True)
    except (Unsupported, RuntimeError, OSError):
        return None


#: kernels loaded in this process, by cache key (alive while some stencil uses them)
_LOADED: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def load(key: str, build_ir, entry: str) -> Loaded:
    """The kernel for ``key``: already loaded in this process, else from the disk cache,
    else compiled from ``build_ir()``'s text (and stored)."""
    with _LOCK:
        loaded = _LOADED.get(key)
    if loaded is not None:
        return loaded
    cache = disk.default_cache()
    obj = cache.load(key) if cache is not None else None
    loaded = _load_cached(obj, entry) if obj is not None else None
    if loaded is None:
        obj = compile_object(build_ir())
        loaded = load_object(obj, entry)
        if cache is not None:
            cache.store(key, obj)
    with _LOCK:
        return _LOADED.setdefault(key, loaded)
