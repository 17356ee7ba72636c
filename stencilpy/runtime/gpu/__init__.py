"""The GPU runtime: PTX emission and caching (``ptx.py``), GPU arrays (``arrays.py``),
calls (``execute.py``), the CUDA driver (``driver.py``, imported only when a GPU array is
seen) and the host emulation of the GPU kernels (``emulate.py``)."""
