"""Machine copy bandwidth in this process: numpy copyto, a C copy loop and a C copy with streaming
stores (read + write bytes)."""
import numpy as np

from . import kernels_c
from .impl import Unavailable
from .timing import median, round_robin

GIB = 1 << 30


def measure(threads=(1, 2), nbytes=GIB, repeats=5):
    """{label: GB/s} for a copy of `nbytes` (numpy, and the C loop per thread count)."""
    n = nbytes // 8
    src = np.ones(n)
    dst = np.zeros(n)                     # touched: no page faults inside the timings
    batches = {"numpy copyto": (lambda: np.copyto(dst, src), 1)}
    notes = []
    try:
        for t in threads:
            plural = "s" if t > 1 else ""
            batches[f"C copy loop, {t} thread{plural}"] = (kernels_c.copy_loop(src, dst, t), 1)
            batches[f"C streaming-store copy, {t} thread{plural}"] = (
                kernels_c.copy_loop(src, dst, t, "streaming"), 1)
    except Unavailable as exc:
        notes.append(f"C copy skipped: {exc}")
    for run, _ in batches.values():      # warm-up (thread pools, TLB)
        run()
    times = round_robin(batches, repeats)
    result = {label: 2 * src.nbytes / median(ts) / 1e9 for label, ts in times.items()}
    return result, notes
