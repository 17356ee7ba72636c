"""MPDATA (Smolarkiewicz) advection: numpy reference implementation and test cases.

* :class:`Solver` / :func:`advect` - the solver built from stencilpy kernels
  (:mod:`stencilpy.mpdata.kernels`), periodic 1-D/2-D/3-D;
* :mod:`stencilpy.mpdata.reference` - the independent pure-numpy reference;
* :mod:`stencilpy.mpdata.cases` - built-in test cases (rotating cone, ...).
"""

from stencilpy.mpdata.solver import Options, Solver, advect

__all__ = ["Options", "Solver", "advect"]
