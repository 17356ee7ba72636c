"""llvmlite.binding side: JIT, disk cache, calls, threads."""
