"""GPU arrays as the backend sees them: anything with ``__cuda_array_interface__``.

``DeviceArray`` reads the interface (shape, dtype, byte strides, data pointer,
read-only flag) without importing any GPU library; ``placeholder`` gives a host
stand-in of the same shape and dtype (no memory) so that the usual call binding
(``signature.bind``) validates a GPU call exactly as a CPU one.
"""

from __future__ import annotations

import numpy as np

from stencilpy.errors import StencilCallError


def is_device_array(value) -> bool:
    return hasattr(value, "__cuda_array_interface__") and not isinstance(value, np.ndarray)


class DeviceArray:
    """The ``__cuda_array_interface__`` of one argument."""

    def __init__(self, obj, name: str = "array"):
        try:
            cai = obj.__cuda_array_interface__
            self.shape = tuple(int(s) for s in cai["shape"])
            self.dtype = np.dtype(cai["typestr"])
            ptr, readonly = cai["data"]
            strides = cai.get("strides")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise StencilCallError(f"{name} has a malformed __cuda_array_interface__ ({exc}); "
                                   "pass a CuPy array") from None
        if cai.get("mask") is not None:
            raise StencilCallError(f"{name} is a masked GPU array; fill the masked points first")
        self.obj = obj
        self.ptr = int(ptr or 0)
        self.readonly = bool(readonly)
        itemsize = self.dtype.itemsize
        if strides is None:
            strides, step = [], itemsize
            for n in reversed(self.shape):
                strides.append(step)
                step *= max(n, 1)
            strides = tuple(reversed(strides))
        self.strides = tuple(int(s) for s in strides)
        self.ndim = len(self.shape)
        self.itemsize = itemsize

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    def element_strides(self) -> tuple[int, ...] | None:
        if any(s % self.itemsize for s in self.strides):
            return None
        return tuple(s // self.itemsize for s in self.strides)

    def extent(self) -> tuple[int, int]:
        """[first, last) byte addresses the array can touch."""
        if self.size == 0:
            return self.ptr, self.ptr
        lo = self.ptr + sum(s * (n - 1) for s, n in zip(self.strides, self.shape) if s < 0)
        hi = self.ptr + sum(s * (n - 1) for s, n in zip(self.strides, self.shape) if s > 0)
        return lo, hi + self.itemsize


def overlap(a: DeviceArray, b: DeviceArray) -> bool:
    """Whether the memory ranges of two arrays intersect (conservative, like
    ``np.may_share_memory``)."""
    (a0, a1), (b0, b1) = a.extent(), b.extent()
    return a0 < b1 and b0 < a1 and a0 != a1 and b0 != b1


def placeholder(arr: DeviceArray) -> np.ndarray:
    """A read-only host array of ``arr``'s shape and dtype that owns no memory."""
    return np.broadcast_to(np.zeros((), dtype=arr.dtype), arr.shape)


class DeviceView:
    """A device array as a kernel sees it (like ``runtime.launch.ArrayView``): element
    strides and lengths per stencil axis, ``(length, stride)`` per batch axis."""

    def __init__(self, arr: DeviceArray, ndim: int, batch_shape: tuple, broadcast=None):
        from stencilpy.runtime.launch import view_geometry
        strides = arr.element_strides()
        self.ptr, self.itemsize = arr.ptr, arr.itemsize
        self.strides, self.lens, self.batch = view_geometry(arr.shape, strides, ndim,
                                                            batch_shape, broadcast)


def output_bias(call, k: int, view: DeviceView) -> int:
    """Bytes to subtract from output ``k``'s pointer so that a kernel addresses it by
    domain index: its origin (first point on "valid" axes) times its strides."""
    return sum(o * s for o, s in zip(call.origins(k), view.strides)) * view.itemsize
