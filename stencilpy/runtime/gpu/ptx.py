"""From a ``GpuSpec`` to PTX text: NVPTX target machine, libdevice, the disk cache, ptxas.

    ptx_for(spec, arch)   -> in this process? -> on disk (runtime/cache.py)? -> PTX text
                             else: lower (codegen/gpu) -> parse -> link libdevice when the
                             kernel calls __nv_* -> O3 -> emit_assembly -> store

No CUDA toolkit is needed to emit PTX: llvmlite's LLVM has the NVPTX backend.  Math
functions come from libdevice (``libdevice.10.bc``, shipped with CUDA toolkits and the
``nvidia-cuda-nvcc`` wheels); where none is found, a kernel that needs one raises
``GpuUnavailableError`` naming ``STENCILPY_LIBDEVICE`` (kernels without math functions
never need it).  ``ptxas`` (when installed) validates PTX without a GPU.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import subprocess
import tempfile
import threading

from stencilpy.errors import StencilError
from stencilpy.runtime import cache as disk

DEFAULT_ARCH = "sm_90"
_LOCK = threading.RLock()
_PTX: dict = {}


class GpuUnavailableError(StencilError, RuntimeError):
    """The GPU backend cannot do what was asked on this machine (no libdevice, no CUDA
    driver binding, no device)."""


@functools.lru_cache(maxsize=None)
def binding():
    """``llvmlite.binding`` with every target initialised (NVPTX among them)."""
    import llvmlite.binding as llvm

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    return llvm


@functools.lru_cache(maxsize=None)
def target_machine(arch: str = DEFAULT_ARCH):
    from stencilpy.codegen.gpu.kernel import NVPTX_TRIPLE

    llvm = binding()
    return llvm.Target.from_triple(NVPTX_TRIPLE).create_target_machine(cpu=arch, opt=3)


def libdevice_candidates() -> list[str]:
    """Where libdevice.10.bc is looked for, in order."""
    found = []
    env = os.environ.get("STENCILPY_LIBDEVICE")
    if env:
        found.append(env)
    for var in ("CUDA_HOME", "CUDA_PATH"):
        root = os.environ.get(var)
        if root:
            found.append(os.path.join(root, "nvvm", "libdevice", "libdevice.10.bc"))
    found.append("/usr/local/cuda/nvvm/libdevice/libdevice.10.bc")
    found += sorted(glob.glob("/usr/local/cuda-*/nvvm/libdevice/libdevice.10.bc"), reverse=True)
    try:
        import site
        roots = site.getsitepackages() + [site.getusersitepackages()]
    except (AttributeError, TypeError):  # pragma: no cover - unusual interpreters
        roots = []
    import sys
    roots += [p for p in sys.path if p.endswith("site-packages")]
    for root in dict.fromkeys(roots):
        found += sorted(glob.glob(os.path.join(root, "nvidia", "*", "nvvm", "libdevice",
                                               "libdevice*.bc")))
        found += sorted(glob.glob(os.path.join(root, "nvidia", "cu*", "*", "nvvm", "libdevice",
                                               "libdevice*.bc")))
    return found


@functools.lru_cache(maxsize=None)
def libdevice_path() -> str | None:
    for path in libdevice_candidates():
        if os.path.isfile(path):
            return path
    return None


@functools.lru_cache(maxsize=None)
def _libdevice_bytes() -> bytes:
    path = libdevice_path()
    if path is None:
        raise GpuUnavailableError(
            "this kernel calls math functions, which the GPU backend takes from CUDA's "
            "libdevice (libdevice.10.bc), and none was found (looked in: "
            + ", ".join(libdevice_candidates()[:4]) + ", ...); install a CUDA toolkit or "
            "the nvidia-cuda-nvcc wheel, or set STENCILPY_LIBDEVICE=/path/to/libdevice.10.bc")
    with open(path, "rb") as f:
        return f.read()


def _libdevice_id() -> str:
    path = libdevice_path()
    if path is None:
        return "none"
    st = os.stat(path)
    return f"{os.path.basename(path)}:{st.st_size}"


def cache_key(spec, arch: str) -> str:
    from stencilpy.runtime.jit import versions
    return disk.fingerprint("ptx", spec.fingerprint_text(), arch, versions(), _libdevice_id())


def llvm_ir(spec) -> str:
    from stencilpy.codegen.gpu import lower_any
    return str(lower_any(spec, "nvptx"))


def _needs_libdevice(text: str) -> bool:
    return "@__nv_" in text or "@\"__nv_" in text


def _module(text: str, arch: str, entries=None):
    llvm = binding()
    mod = llvm.parse_assembly(text)
    mod.verify()
    if _needs_libdevice(text):
        lib = llvm.parse_bitcode(_libdevice_bytes())
        lib.triple = mod.triple
        lib.data_layout = mod.data_layout
        mod.link_in(lib)
        from stencilpy.codegen.gpu.spec import EDGE_NAME, KERNEL_NAME
        keep = set(entries) if entries is not None else {KERNEL_NAME, EDGE_NAME}
        for fn in mod.functions:
            if not fn.is_declaration and fn.name not in keep:
                fn.linkage = "internal"
        for gv in mod.global_variables:
            if not gv.is_declaration:
                gv.linkage = "internal"
    return mod


def _optimise(mod, arch: str) -> None:
    llvm = binding()
    pto = llvm.create_pipeline_tuning_options(speed_level=3)
    pb = llvm.create_pass_builder(target_machine(arch), pto)
    pb.getModulePassManager().run(mod, pb)


def compile_ptx(text: str, arch: str = DEFAULT_ARCH, entries=None) -> str:
    """NVPTX LLVM IR text -> PTX (libdevice linked in when the kernel calls it; ``entries``:
    the kernel symbols, default the stencil kernel's two)."""
    with _LOCK:
        mod = _module(text, arch, entries)
        _optimise(mod, arch)
        return target_machine(arch).emit_assembly(mod)


def optimised_ir(text: str, arch: str = DEFAULT_ARCH) -> str:
    with _LOCK:
        mod = _module(text, arch)
        _optimise(mod, arch)
        return str(mod)


def ptx_for(spec, arch: str = DEFAULT_ARCH) -> tuple[str, str]:
    """(cache key, PTX text) of ``spec``'s kernel: from this process, the disk cache, or
    compiled (and stored)."""
    key = cache_key(spec, arch)
    with _LOCK:
        text = _PTX.get(key)
    if text is not None:
        return key, text
    cache = disk.default_cache()
    data = cache.load(key) if cache is not None else None
    if data is not None:
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            text = None
        if text is not None and not (text.lstrip().startswith("//") and ".entry" in text):
            text = None
    if text is None:
        text = compile_ptx(llvm_ir(spec), arch, tuple(spec.entries().values()))
        if cache is not None:
            cache.store(key, text.encode("ascii"))
    with _LOCK:
        _PTX[key] = text
    return key, text


# -- ptxas: validating PTX without a GPU -----------------------------------------------------

def ptxas_path() -> str | None:
    found = shutil.which("ptxas")
    if found:
        return found
    for path in ["/usr/local/cuda/bin/ptxas"] + sorted(glob.glob("/usr/local/cuda-*/bin/ptxas")):
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def ptxas_check(ptx: str, arch: str = DEFAULT_ARCH) -> str:
    """Assemble ``ptx`` with ptxas (``-v``); returns its report (registers, spills).
    Raises RuntimeError with ptxas' messages when it rejects the PTX."""
    exe = ptxas_path()
    if exe is None:
        raise GpuUnavailableError("ptxas is not installed")
    with tempfile.TemporaryDirectory(prefix="stencilpy-ptxas-") as tmp:
        src = os.path.join(tmp, "k.ptx")
        with open(src, "w", encoding="ascii") as f:
            f.write(ptx)
        proc = subprocess.run([exe, f"-arch={arch}", "-v", src, "-o", os.path.join(tmp, "k.cubin")],
                              capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"ptxas rejected the PTX:\n{proc.stderr}{proc.stdout}")
    return proc.stderr + proc.stdout
