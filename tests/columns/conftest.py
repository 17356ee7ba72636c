"""The column tests run small shapes on several threads: every thread gets work however few
the points (``min_points_per_thread`` would otherwise run them on one thread)."""
import pytest

from stencilpy.runtime import tuning


@pytest.fixture(autouse=True)
def threads_for_small_calls():
    with tuning.using(tuning.active(), min_points_per_thread=1):
        yield
