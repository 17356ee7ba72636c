"""The benchmark suite lives in the package, in ``stencilpy/bench/`` (``stencilpy bench``, or
``python -m stencilpy.bench.<tool>``), so that it ships in the wheel.

This folder keeps the checkout's old commands working: ``python -m benchmarks.run`` (and
``benchmarks.bound``, ``.latency``, ``.mpdata_bench``, ``.scale``) finds those modules through
the package path below.  Code should import ``stencilpy.bench``.
"""
import stencilpy.bench as _bench

__path__ = [*__path__, *_bench.__path__]
