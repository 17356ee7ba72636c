"""Python source -> ``ir.Stencil``.

``parse_stencil(f, dims)`` parses a stencil definition; ``function`` decorates helpers
that stencils inline; ``LANGUAGE_NAMES`` / ``LANGUAGE_CONSTANTS`` are the ``sp.sqrt``,
``sp.where``, ``sp.pi`` ... objects that ``stencilpy`` re-exports.
"""

from stencilpy.frontend.functions import (  # noqa: F401
    LANGUAGE_CONSTANTS,
    LANGUAGE_NAMES,
    SpFunction,
    function,
)
from stencilpy.frontend.parse import RESERVED_NAMES, parse_stencil  # noqa: F401

__all__ = ["parse_stencil", "function", "SpFunction", "LANGUAGE_NAMES", "LANGUAGE_CONSTANTS",
           "RESERVED_NAMES"]
