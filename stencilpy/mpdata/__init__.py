"""MPDATA (Smolarkiewicz) advection: numpy reference implementation and test cases.

* :class:`Solver` / :func:`advect` - the solver built from stencilpy kernels
  (:mod:`stencilpy.mpdata.kernels`, :mod:`stencilpy.mpdata.kernels_g`), 1-D/2-D/3-D,
  periodic, open, rigid or ``Constant(value)`` boundaries, optional G factor;
* :func:`advect_xarray` / :func:`courant_from_winds` - winds from data (DataArrays with
  coordinates, lat/lon or Cartesian);
* :mod:`stencilpy.mpdata.reference` - the independent pure-numpy reference;
* :mod:`stencilpy.mpdata.cases` - built-in test cases (rotating cone, ...).
"""

from stencilpy.mpdata.boundaries import Constant
from stencilpy.mpdata.solver import Options, Solver, advect
from stencilpy.mpdata.winds import (
    EARTH_RADIUS,
    CourantLimitError,
    WindsError,
    advect_xarray,
    courant_from_winds,
)

__all__ = ["EARTH_RADIUS", "Constant", "CourantLimitError", "Options", "Solver", "WindsError",
           "advect", "advect_xarray", "courant_from_winds"]
