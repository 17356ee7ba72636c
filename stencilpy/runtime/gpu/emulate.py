"""Host emulation of the GPU backend: the GPU kernel's per-thread code, compiled for this
CPU, run over the launch grid.

The kernel is the one ``codegen/gpu/kernel.py`` lowers for NVPTX, lowered for target
"host": the thread and block ids are arguments instead of NVPTX registers, and a grid
function loops over every block and thread of the launch.  ``EmulatedArray`` is a host
array that presents ``__cuda_array_interface__`` (its "device" pointer is host memory),
so a call with such arrays takes the whole GPU path (binding, outputs, snapshot
semantics, parameters, launch shape) and runs on the CPU: the GPU semantics are tested
against the numpy reference without a GPU.

    >>> import numpy as np, stencilpy as sp
    >>> from stencilpy.runtime.gpu.emulate import EmulatedArray
    >>> @sp.stencil
    ... def lap(u):
    ...     return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4 * u[0, 0]
    >>> u = np.arange(16.0).reshape(4, 4) ** 2
    >>> r = lap(EmulatedArray(u), boundary="edge")
    >>> np.array_equal(r.get(), lap(u, boundary="edge"))
    True
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np


class EmulatedArray:
    """A host array posing as a GPU array (``__cuda_array_interface__`` over host memory)."""

    def __init__(self, array):
        self.array = np.asarray(array)

    @property
    def __cuda_array_interface__(self) -> dict:
        a = self.array
        return {"shape": a.shape, "typestr": a.dtype.str, "strides": a.strides,
                "data": (a.ctypes.data, not a.flags.writeable), "version": 3}

    shape = property(lambda self: self.array.shape)
    dtype = property(lambda self: self.array.dtype)
    ndim = property(lambda self: self.array.ndim)
    strides = property(lambda self: self.array.strides)

    def __getitem__(self, index):
        return EmulatedArray(self.array[index])

    def __setitem__(self, index, value):
        self.array[index] = value.array if isinstance(value, EmulatedArray) else value

    def transpose(self, *axes):
        return EmulatedArray(self.array.transpose(*axes))

    T = property(lambda self: EmulatedArray(self.array.T))

    def get(self) -> np.ndarray:
        """A host copy (as ``cupy.ndarray.get``)."""
        return self.array.copy()

    def __repr__(self) -> str:
        return f"EmulatedArray({self.array!r})"


class _HostKernel:
    def __init__(self, spec, loaded, cfuncs: dict):
        self.spec, self.loaded, self.cfuncs = spec, loaded, cfuncs


class EmulatedDevice:
    """The device interface of ``runtime/gpu/execute.py`` on the host."""

    name = "host emulation"

    def empty(self, shape, dtype):
        return EmulatedArray(np.empty(shape, dtype))

    def zeros(self, shape, dtype):
        return EmulatedArray(np.zeros(shape, dtype))

    def to_device(self, array: np.ndarray):
        return EmulatedArray(np.array(array))

    def to_host(self, array) -> np.ndarray:
        return array.get() if isinstance(array, EmulatedArray) else np.asarray(array)

    def contiguous(self, array):
        return EmulatedArray(np.ascontiguousarray(array.array))

    def copy(self, dst, src) -> None:
        dst[...] = src

    def kernel(self, stencil, spec) -> _HostKernel:
        kernels = stencil.__dict__.setdefault("_gpu_host_kernels", {})
        found = kernels.get(spec)
        if found is None:
            found = kernels[spec] = host_kernel(spec)
        return found

    def spills(self, kernel: _HostKernel, kind: str) -> bool:
        return False

    def launch(self, kernel: _HostKernel, kind: str, grid, block, params) -> None:
        gx, gy, gz = grid
        bx, by, _ = block
        kernel.cfuncs[kind](*params, gx, gy, gz, bx, by)


@functools.lru_cache(maxsize=None)
def device() -> EmulatedDevice:
    return EmulatedDevice()


def host_ir(spec) -> str:
    from stencilpy.codegen.gpu import lower_any
    return str(lower_any(spec, "host"))


def host_kernel(spec) -> _HostKernel:
    """``spec``'s GPU kernel compiled for this CPU (through the CPU kernel cache).  Every
    launch kind is called as ``(params.., gx, gy, gz, bx, by)``; a column kernel's grid
    functions take ``(params.., gx, bx)`` (1-D launches)."""
    from stencilpy.codegen.gpu.columns import GpuColumnSpec
    from stencilpy.codegen.gpu.spec import EDGE_GRID_NAME, GRID_NAME
    from stencilpy.runtime import jit

    columns = isinstance(spec, GpuColumnSpec)
    if columns:
        grids = {kind: name + "_grid" for kind, name in spec.entries().items()}
    else:
        grids = {"interior": GRID_NAME, "edge": EDGE_GRID_NAME}
    first = next(iter(grids.values()))
    key = jit.cache_key("gpu-host\n" + spec.fingerprint_text())
    loaded = jit.load(key, lambda: host_ir(spec), first)
    n = spec.n_params()
    ptrs = set(spec.pointer_params())
    argtypes = [ctypes.c_void_p if k in ptrs else ctypes.c_int64 for k in range(n)]
    proto = ctypes.CFUNCTYPE(None, *argtypes, *[ctypes.c_int64] * (2 if columns else 5))
    cfuncs = {}
    for kind, name in grids.items():
        address = loaded.address if name == first else (
            loaded.owner.address(name) if loaded.loader == "elf"
            else loaded.owner.get_function_address(name))
        f = proto(address)
        cfuncs[kind] = (lambda f: lambda *a: f(*a[:-5], a[-5], a[-2]))(f) if columns else f
    return _HostKernel(spec, loaded, cfuncs)
