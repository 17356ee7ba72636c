"""ir + frozen analysis -> llvmlite.ir.Module (never llvmlite.binding)."""
