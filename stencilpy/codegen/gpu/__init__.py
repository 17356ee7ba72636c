"""The GPU lowering: the same stencil IR as one CUDA-style kernel per call signature.

``spec.py`` fixes what a GPU kernel is specialised for and its parameter list;
``kernel.py`` lowers it to an llvmlite module for one of two targets: ``"nvptx"``
(a ``ptx_kernel`` reading the NVPTX thread/block id registers) or ``"host"`` (the same
per-thread code with the ids as arguments, plus a host function that loops over the
launch grid: the GPU kernel's semantics, testable on a CPU).
"""


def lower_any(spec, target: str = "nvptx"):
    """The llvmlite module of a ``GpuSpec`` (``kernel.py``) or ``GpuColumnSpec``
    (``columns.py``)."""
    from stencilpy.codegen.gpu.columns import GpuColumnSpec, lower_columns
    from stencilpy.codegen.gpu.kernel import lower
    if isinstance(spec, GpuColumnSpec):
        return lower_columns(spec, target)
    return lower(spec, target)
