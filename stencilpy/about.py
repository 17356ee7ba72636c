"""What this stencilpy is and what it runs on: its version and the CPU's model name.

A leaf module (standard library only): the kernel cache keys, ``stencilpy info`` and the
benchmark reports read these facts here without importing the compiler.

>>> from stencilpy.about import __version__, cpu_model
>>> __version__.count(".") >= 1 and cpu_model() != ""
True
"""

from __future__ import annotations

__version__ = "0.1.0"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else ``platform.processor()``, else
    "unknown"); ``stencilpy info`` and the benchmark reports print it."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform
    return platform.processor() or "unknown"
