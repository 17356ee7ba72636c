"""Loading PTX into the CUDA driver and launching it (imported only when a GPU array is seen).

The PTX (``runtime/gpu/ptx.py``) is loaded by the driver's JIT through ``cuda.bindings``
(cuda-python: ``cuModuleLoadData``, ``cuModuleGetFunction``, ``cuLaunchKernel`` with an
array of pointers to the parameter values), in the context CuPy made current, on CuPy's
current stream; without cuda-python, through CuPy's own ``cupy.cuda.function.Module``
(``STENCILPY_GPU_DRIVER=cupy`` forces that).  Device arrays are allocated with CuPy.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading

import numpy as np

from stencilpy.runtime.gpu.ptx import GpuUnavailableError, ptx_for

#: compute capabilities LLVM's NVPTX backend emits PTX for (the PTX of the largest one not
#: above the device's runs there, through the driver's JIT)
_ARCHES = (50, 52, 53, 60, 61, 62, 70, 72, 75, 80, 86, 87, 89, 90)


def arch_for(cc: int) -> str:
    usable = [a for a in _ARCHES if a <= cc]
    return f"sm_{usable[-1] if usable else _ARCHES[0]}"


class _Loaded:
    def __init__(self, spec, key, launch, module, local_bytes=None):
        self.spec, self.key, self.launch, self.module = spec, key, launch, module
        self.local_bytes = local_bytes or (lambda kind: 0)


class CudaDevice:
    """The device interface of ``runtime/gpu/execute.py`` on a CUDA GPU (CuPy arrays)."""

    def __init__(self):
        try:
            import cupy
        except ImportError as exc:
            raise GpuUnavailableError(
                f"a GPU array was passed but CuPy cannot be imported ({exc}); install "
                "cupy-cuda12x or cupy-cuda13x") from None
        self.cp = cupy
        self.name = "cuda"
        self._lock = threading.Lock()
        self._loaded: dict = {}
        choice = os.environ.get("STENCILPY_GPU_DRIVER", "").strip().lower()
        self.driver = "cupy" if choice == "cupy" else _cuda_python_or_cupy()

    def arch(self) -> str:
        return arch_for(int(self.cp.cuda.Device().compute_capability))

    # -- arrays ----------------------------------------------------------------------
    def empty(self, shape, dtype):
        return self.cp.empty(shape, dtype)

    def zeros(self, shape, dtype):
        return self.cp.zeros(shape, dtype)

    def to_device(self, array: np.ndarray):
        return self.cp.asarray(array)

    def to_host(self, array) -> np.ndarray:
        return self.cp.asnumpy(self.cp.asarray(array))

    def contiguous(self, array):
        return self.cp.ascontiguousarray(self.cp.asarray(array))

    def copy(self, dst, src) -> None:
        self.cp.asarray(dst)[...] = self.cp.asarray(src)

    # -- kernels -----------------------------------------------------------------------
    def kernel(self, stencil, spec) -> _Loaded:
        dev = self.cp.cuda.Device().id
        kernels = stencil.__dict__.setdefault("_gpu_kernels", {})
        found = kernels.get((dev, spec))
        if found is not None:
            return found
        key, ptx = ptx_for(spec, self.arch())
        with self._lock:
            found = self._loaded.get((dev, key))
            if found is None:
                if self.driver == "cuda-python":
                    try:
                        found = _load_cuda_python(self.cp, spec, key, ptx)
                    except (ImportError, AttributeError, TypeError) as exc:
                        import warnings
                        warnings.warn(f"stencilpy: cuda-python could not load the kernel "
                                      f"({type(exc).__name__}: {exc}); using CuPy's module "
                                      "loader", RuntimeWarning, stacklevel=2)
                        self.driver = "cupy"
                if found is None:
                    found = _load_cupy(self.cp, spec, key, ptx)
                self._loaded[(dev, key)] = found
        kernels[(dev, spec)] = found
        return found

    def launch(self, kernel: _Loaded, kind: str, grid, block, params) -> None:
        kernel.launch(kind, grid, block, params)

    def spills(self, kernel: _Loaded, kind: str) -> bool:
        """Whether the driver's JIT gave ``kind`` local memory (register spills)."""
        try:
            return kernel.local_bytes(kind) > 0
        except Exception:          # noqa: BLE001 - an attribute query is best effort
            return False


def _cuda_python_or_cupy() -> str:
    try:
        from cuda.bindings import driver  # noqa: F401
    except ImportError:
        return "cupy"
    return "cuda-python"


def _check(result, what: str):
    from cuda.bindings import driver as cu
    err, *rest = result if isinstance(result, tuple) else (result,)
    if err != cu.CUresult.CUDA_SUCCESS:
        _, msg = cu.cuGetErrorString(err)
        raise RuntimeError(f"CUDA driver: {what} failed: {err} "
                           f"{msg.decode() if isinstance(msg, bytes) else msg}")
    return rest[0] if len(rest) == 1 else rest


def _load_cuda_python(cp, spec, key, ptx: str) -> _Loaded:
    from cuda.bindings import driver as cu

    cp.cuda.runtime.free(0)                 # CuPy's (primary) context current on this thread
    _check(cu.cuInit(0), "cuInit")
    data = ptx.encode("ascii") + b"\0"
    module = _check(cu.cuModuleLoadData(data), "loading the PTX (cuModuleLoadData)")
    functions = {kind: _check(cu.cuModuleGetFunction(module, name.encode()), "cuModuleGetFunction")
                 for kind, name in spec.entries().items()}
    ptrs = set(spec.pointer_params())
    kinds = [ctypes.c_void_p if k in ptrs else ctypes.c_int64 for k in range(spec.n_params())]

    def launch(which, grid, block, params):
        values = [kind(v) for kind, v in zip(kinds, params)]
        array = (ctypes.c_void_p * len(values))(*[ctypes.addressof(v) for v in values])
        stream = cu.CUstream(cp.cuda.get_current_stream().ptr)
        _check(cu.cuLaunchKernel(functions[which], *grid, *block, 0, stream,
                                 ctypes.addressof(array), 0), "cuLaunchKernel")

    def local_bytes(which):
        attr = cu.CUfunction_attribute.CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES
        return int(_check(cu.cuFuncGetAttribute(attr, functions[which]), "cuFuncGetAttribute"))

    return _Loaded(spec, key, launch, module, local_bytes)


def _load_cupy(cp, spec, key, ptx: str) -> _Loaded:
    module = cp.cuda.function.Module()
    module.load(ptx.encode("ascii"))
    functions = {kind: module.get_function(name) for kind, name in spec.entries().items()}
    ptrs = set(spec.pointer_params())
    kinds = [np.uint64 if k in ptrs else np.int64 for k in range(spec.n_params())]

    def launch(which, grid, block, params):
        functions[which](tuple(grid), tuple(block),
                         tuple(kind(v) for kind, v in zip(kinds, params)))

    return _Loaded(spec, key, launch, module,
                   lambda which: int(functions[which].local_size_bytes))


@functools.lru_cache(maxsize=None)
def cuda_device() -> CudaDevice:
    return CudaDevice()
