"""Benchmarks of stencilpy against C (gcc -O3 -fopenmp), numba and numpy.

Run ``python -m benchmarks.run --help``; ``benchmarks.run.main(argv)`` is the entry point.
"""
