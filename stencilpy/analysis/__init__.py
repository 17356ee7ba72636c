"""Analysis (the only sympy users): extents, stages, halos and loop bounds."""

from stencilpy.analysis.bounds import Plan, StagePlan, describe  # noqa: F401
from stencilpy.analysis.plans import analyse  # noqa: F401
