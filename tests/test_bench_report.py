"""The benchmark report's summary against the best peer and the copy bound (synthetic rows)."""

from stencilpy.bench import report


def _row(case, impl, threads, t, size="small"):
    return dict(case=case, impl=impl, threads=threads, time_s=t, status="ok", size=size)


def test_peer_summary_names_the_best_peer_the_copy_bound_and_the_verdict():
    rows = [_row("lap2d float64 1024x1024", impl, th, t) for impl, th, t in [
        ("C", 1, 1.0e-3), ("numba", 1, 0.9e-3), ("pystencils", 1, 0.8e-3),
        ("pystencils-autovec", 1, 0.7e-3), ("stencilpy", 1, 0.6e-3), ("copy (same bytes)", 1, 0.5e-3),
        ("C", 2, 0.6e-3), ("numba", 2, 0.5e-3), ("stencilpy", 2, 0.55e-3),
        ("copy (same bytes)", 2, 0.5e-3)]]
    rows += [_row("lap2d float64 16384x16384", impl, 1, t, "large") for impl, t in [
        ("C", 100.0), ("numba", 90.0), ("stencilpy", 70.0), ("copy (same bytes)", 60.0)]]
    lines = report.peer_summary(rows)
    one = next(line for line in lines if line.startswith("| lap2d float64 1024x1024 | 1 |"))
    assert "| 0.7 ms |" in one and "| 0.86 |" in one and one.endswith("| met |")
    two = next(line for line in lines if line.startswith("| lap2d float64 1024x1024 | 2 |"))
    assert "| 1.10 |" in two and "missed; copy bound: the copy takes 1.00x the best peer" in two
    big = next(line for line in lines if line.startswith("| lap2d float64 16384x16384 | 1 |"))
    assert "| 0.78 |" in big and "missed" in big            # 0.78 of the peer, but 0.70x C > 0.65
    scaling = next(line for line in lines if line.startswith("| lap2d float64 1024x1024 | 1.09 |"))
    assert scaling.startswith("| lap2d float64 1024x1024 | 1.09 | 1.67 | 1.80 | - | 1.00 |")
