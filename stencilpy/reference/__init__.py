"""The numpy reference backend (test oracle); never imports codegen."""
from stencilpy.reference.run import run_reference  # noqa: F401
