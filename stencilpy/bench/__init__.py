"""Benchmarks of stencilpy against C (gcc -O3 -fopenmp), numba, pystencils 2 and numpy,
shipped with the package (the C sources are package data in ``stencilpy/bench/c/``).

``stencilpy bench`` (or ``python -m stencilpy.bench``) runs the side-by-side suite
(:func:`stencilpy.bench.run.main`); the other tools run as ``python -m stencilpy.bench.<name>``:
``bound``, ``invariant`` (the gain of hoisting row-invariant terms), ``latency``,
``mpdata_bench``, ``scale``.  In a source checkout ``python -m
benchmarks.run`` and friends still work.
"""
