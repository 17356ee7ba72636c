"""Pure `Stencil -> Stencil` passes, one per file; `pipeline.py` lists them."""
