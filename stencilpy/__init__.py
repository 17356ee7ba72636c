"""stencilpy: grid stencils as plain Python functions, compiled to vectorised,
multi-threaded machine code with llvmlite.

>>> import numpy as np, stencilpy as sp
>>> @sp.stencil
... def laplacian(u):
...     return u[1, 0] + u[-1, 0] + u[0, 1] + u[0, -1] - 4.0 * u[0, 0]
>>> laplacian.halo
((1, 1), (1, 1))
>>> laplacian(np.ones((4, 4)), boundary="periodic")[0, 0]
np.float64(0.0)
"""

from stencilpy.about import __version__
from stencilpy.decorator import Stencil, stencil  # noqa: E402
from stencilpy.errors import (  # noqa: E402
    InternalCompilerError,
    MismatchError,
    StencilCallError,
    StencilError,
    StencilSyntaxError,
    StencilWarning,
)
from stencilpy.frontend import LANGUAGE_CONSTANTS, LANGUAGE_NAMES, function  # noqa: E402
from stencilpy.frontend.sweeps import backward, forward, levels  # noqa: E402
from stencilpy.inspection import inspect  # noqa: E402

globals().update(LANGUAGE_NAMES)
globals().update(LANGUAGE_CONSTANTS)

__all__ = ["stencil", "function", "inspect", "forward", "backward", "levels", "Stencil", "StencilError", "StencilSyntaxError",
           "StencilCallError", "StencilWarning", "MismatchError", "InternalCompilerError", "__version__",
           *(n for n in LANGUAGE_NAMES if n not in ("abs", "min", "max")), *LANGUAGE_CONSTANTS]
