/* Column kernels for stencilpy/bench/columns.py: OpenMP over rows of columns (lat), the level loop
 * outermost within a row, the contiguous lon loop innermost (vectorised by gcc).
 * Arrays are C-contiguous (lev, lat, lon). */
#include <stdlib.h>

/* The Thomas solve of a x[k-1] + b x[k] + c x[k+1] = d per column; OP is the division.
 * thomas_nodiv_f64 is the same loops with OP a multiplication: the same loads and stores in the
 * same order without the divider, the bound of the sweep's memory traffic (its result is not a
 * solve; columns.py times it, it checks nothing) */
#define DEFINE_THOMAS(NAME, OP)                                                                 \
void NAME(const double *restrict a, const double *restrict b, const double *restrict c,         \
          const double *restrict d, double *restrict x, long nz, long ny, long nx, int nt)      \
{                                                                                               \
    const long s = ny * nx;                                                                     \
_Pragma("omp parallel num_threads(nt)")                                                         \
    {                                                                                           \
        double *cp = malloc(sizeof(double) * nz * nx), *dp = malloc(sizeof(double) * nz * nx);  \
_Pragma("omp for schedule(static)")                                                             \
        for (long j = 0; j < ny; j++) {                                                         \
            const long o = j * nx;                                                              \
            for (long i = 0; i < nx; i++) {                                                     \
                cp[i] = c[o + i] OP b[o + i];                                                   \
                dp[i] = d[o + i] OP b[o + i];                                                   \
            }                                                                                   \
            for (long k = 1; k < nz; k++) {                                                     \
                const long p = k * s + o;                                                       \
                double *restrict cpk = cp + k * nx, *restrict dpk = dp + k * nx;                \
                const double *restrict cpm = cp + (k - 1) * nx, *restrict dpm = dp + (k - 1) * nx; \
                for (long i = 0; i < nx; i++) {                                                 \
                    double m = b[p + i] - a[p + i] * cpm[i];                                    \
                    cpk[i] = c[p + i] OP m;                                                     \
                    dpk[i] = (d[p + i] - a[p + i] * dpm[i]) OP m;                               \
                }                                                                               \
            }                                                                                   \
            for (long i = 0; i < nx; i++)                                                       \
                x[(nz - 1) * s + o + i] = dp[(nz - 1) * nx + i];                                \
            for (long k = nz - 2; k >= 0; k--) {                                                \
                const long p = k * s + o;                                                       \
                for (long i = 0; i < nx; i++)                                                   \
                    x[p + i] = dp[k * nx + i] - cp[k * nx + i] * x[p + s + i];                  \
            }                                                                                   \
        }                                                                                       \
        free(cp);                                                                               \
        free(dp);                                                                               \
    }                                                                                           \
}

DEFINE_THOMAS(thomas_f64, /)
DEFINE_THOMAS(thomas_nodiv_f64, *)

/* omega on every lat/lon point, "edge" boundaries (a neighbour outside is the nearest point
 * inside: u[lon -/+ 1] and v[lat -/+ 1] clamped), as stencilpy computes it with
 * boundary={"lat": "edge", "lon": "edge"}; out is (nz, ny, nx) */
static inline double omega_div(const double *u, const double *vm, const double *vp, long i,
                               long nx, double dx, double dy)
{
    const long ip = i + 1 < nx ? i + 1 : nx - 1, im = i > 0 ? i - 1 : 0;
    return (u[ip] - u[im]) / (2.0 * dx) + (vp[i] - vm[i]) / (2.0 * dy);
}

void omega_f64(const double *restrict u, const double *restrict v, const double *restrict p,
               double *restrict w, long nz, long ny, long nx, double dx, double dy, int nt)
{
    const long s = ny * nx;
#pragma omp parallel num_threads(nt)
    {
        double *divm = malloc(sizeof(double) * nx), *div = malloc(sizeof(double) * nx);
#pragma omp for schedule(static)
        for (long j = 0; j < ny; j++) {
            const long jm = j > 0 ? j - 1 : 0, jp = j + 1 < ny ? j + 1 : ny - 1;
            for (long k = 0; k < nz; k++) {
                const long q = k * s + j * nx;
                const double *uq = u + q, *vm = v + k * s + jm * nx, *vp = v + k * s + jp * nx;
                div[0] = omega_div(uq, vm, vp, 0, nx, dx, dy);
                for (long i = 1; i < nx - 1; i++)
                    div[i] = (uq[i + 1] - uq[i - 1]) / (2.0 * dx) + (vp[i] - vm[i]) / (2.0 * dy);
                if (nx > 1)
                    div[nx - 1] = omega_div(uq, vm, vp, nx - 1, nx, dx, dy);
                if (k == 0)
                    for (long i = 0; i < nx; i++)
                        w[q + i] = 0.0 * div[i];
                else
                    for (long i = 0; i < nx; i++)
                        w[q + i] = w[q - s + i] - 0.5 * (div[i] + divm[i]) * (p[k] - p[k - 1]);
                double *t = divm; divm = div; div = t;
            }
        }
        free(divm);
        free(div);
    }
}
