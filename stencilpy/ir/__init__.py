"""The stencil IR (frozen dataclasses), its canonical printer and verifier."""

from stencilpy.ir.nodes import *  # noqa: F401,F403
from stencilpy.ir.printer import format_expr, format_stencil  # noqa: F401
from stencilpy.ir.verify import verify  # noqa: F401
