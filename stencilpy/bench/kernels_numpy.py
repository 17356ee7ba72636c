"""The benchmark kernels written with numpy slicing, as a user writes them.

Each kernel takes its inputs and an ``out`` array and writes the points it defines (the
interior for the Laplacians and hdiff, everything for the periodic MPDATA step). These are
also the references every other implementation is checked against.
"""
import numpy as np

MPDATA_EPS = 1e-15


def lap2d(u, out):
    out[1:-1, 1:-1] = (u[2:, 1:-1] + u[:-2, 1:-1] + u[1:-1, 2:] + u[1:-1, :-2]
                       - 4.0 * u[1:-1, 1:-1])


def lap3d(u, out):
    c = (slice(1, -1),) * 3
    out[c] = (u[2:, 1:-1, 1:-1] + u[:-2, 1:-1, 1:-1] + u[1:-1, 2:, 1:-1]
              + u[1:-1, :-2, 1:-1] + u[1:-1, 1:-1, 2:] + u[1:-1, 1:-1, :-2]
              - 6.0 * u[c])


def hdiff(u, coeff, out):
    """COSMO horizontal diffusion on the last two axes (any leading batch axes)."""
    c = u[..., 1:-1, 1:-1]
    lap = 4.0 * c - (u[..., 2:, 1:-1] + u[..., :-2, 1:-1] + u[..., 1:-1, 2:] + u[..., 1:-1, :-2])
    # lap[k] is point k+1; flx[k] (between points k+1, k+2) and fly likewise.
    flx = lap[..., 1:, :] - lap[..., :-1, :]
    flx = np.where(flx * (u[..., 2:-1, 1:-1] - u[..., 1:-2, 1:-1]) > 0.0, 0.0, flx)
    fly = lap[..., :, 1:] - lap[..., :, :-1]
    fly = np.where(fly * (u[..., 1:-1, 2:-1] - u[..., 1:-1, 1:-2]) > 0.0, 0.0, fly)
    out[..., 2:-2, 2:-2] = u[..., 2:-2, 2:-2] - coeff * (
        flx[..., 1:, 1:-1] - flx[..., :-1, 1:-1] + fly[..., 1:-1, 1:] - fly[..., 1:-1, :-1])


def _donor_cell(psi, c0, c1):
    """Donor-cell pass; c0 (N0+1, N1) and c1 (N0, N1+1) are face Courant numbers."""
    p = np.pad(psi, 1, mode="wrap")
    f0 = np.maximum(c0, 0.0) * p[:-1, 1:-1] + np.minimum(c0, 0.0) * p[1:, 1:-1]
    f1 = np.maximum(c1, 0.0) * p[1:-1, :-1] + np.minimum(c1, 0.0) * p[1:-1, 1:]
    return psi - (f0[1:] - f0[:-1]) - (f1[:, 1:] - f1[:, :-1])


def _pseudo_velocity(c, a, cbar, b):
    return (np.abs(c) - c * c) * a - 0.5 * c * cbar * b


def _antidiffusive_velocity(psi, c0, c1):
    """Basic 2-D antidiffusive velocities on all faces (docs/mpdata-derivation.md eq. 8-11)."""
    p = np.pad(psi, 1, mode="wrap")
    left, right = p[:-1], p[1:]                      # cells on either side of x-faces
    a = (right[:, 1:-1] - left[:, 1:-1]) / (right[:, 1:-1] + left[:, 1:-1] + MPDATA_EPS)
    up = right[:, 2:] + left[:, 2:]
    dn = right[:, :-2] + left[:, :-2]
    b = (up - dn) / (up + dn + MPDATA_EPS)
    c1p = np.pad(c1, ((1, 1), (0, 0)), mode="wrap")
    cr, cl = c1p[1:], c1p[:-1]
    cbar = 0.25 * (cr[:, 1:] + cl[:, 1:] + cr[:, :-1] + cl[:, :-1])
    v0 = _pseudo_velocity(c0, a, cbar, b)

    left, right = p[:, :-1], p[:, 1:]                # cells on either side of y-faces
    a = (right[1:-1] - left[1:-1]) / (right[1:-1] + left[1:-1] + MPDATA_EPS)
    up = right[2:] + left[2:]
    dn = right[:-2] + left[:-2]
    b = (up - dn) / (up + dn + MPDATA_EPS)
    c0p = np.pad(c0, ((0, 0), (1, 1)), mode="wrap")
    cr, cl = c0p[:, 1:], c0p[:, :-1]
    cbar = 0.25 * (cr[1:] + cl[1:] + cr[:-1] + cl[:-1])
    v1 = _pseudo_velocity(c1, a, cbar, b)
    return v0, v1


def mpdata(psi, c0, c1, out):
    """One basic MPDATA step with n_iters=2 on a periodic grid."""
    psi1 = _donor_cell(psi, c0, c1)
    v0, v1 = _antidiffusive_velocity(psi1, c0, c1)
    out[...] = _donor_cell(psi1, v0, v1)


KERNELS = {"lap2d": lap2d, "lap3d": lap3d, "hdiff": hdiff, "mpdata": mpdata}
