"""Analysis (the only sympy users): extents, stages, halos and loop bounds."""

from stencilpy.analysis.bounds import Plan, StagePlan, analyse, describe  # noqa: F401
