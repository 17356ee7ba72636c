/* Column kernels for stencilpy/bench/columns.py: OpenMP over rows of columns (lat), the level loop
 * outermost within a row, the contiguous lon loop innermost (vectorised by gcc).
 * Arrays are C-contiguous (lev, lat, lon). */
#include <stdlib.h>

void thomas_f64(const double *restrict a, const double *restrict b, const double *restrict c,
                const double *restrict d, double *restrict x, long nz, long ny, long nx, int nt)
{
    const long s = ny * nx;
#pragma omp parallel num_threads(nt)
    {
        double *cp = malloc(sizeof(double) * nz * nx), *dp = malloc(sizeof(double) * nz * nx);
#pragma omp for schedule(static)
        for (long j = 0; j < ny; j++) {
            const long o = j * nx;
            for (long i = 0; i < nx; i++) {
                cp[i] = c[o + i] / b[o + i];
                dp[i] = d[o + i] / b[o + i];
            }
            for (long k = 1; k < nz; k++) {
                const long p = k * s + o;
                double *restrict cpk = cp + k * nx, *restrict dpk = dp + k * nx;
                const double *restrict cpm = cp + (k - 1) * nx, *restrict dpm = dp + (k - 1) * nx;
                for (long i = 0; i < nx; i++) {
                    double m = b[p + i] - a[p + i] * cpm[i];
                    cpk[i] = c[p + i] / m;
                    dpk[i] = (d[p + i] - a[p + i] * dpm[i]) / m;
                }
            }
            for (long i = 0; i < nx; i++)
                x[(nz - 1) * s + o + i] = dp[(nz - 1) * nx + i];
            for (long k = nz - 2; k >= 0; k--) {
                const long p = k * s + o;
                for (long i = 0; i < nx; i++)
                    x[p + i] = dp[k * nx + i] - cp[k * nx + i] * x[p + s + i];
            }
        }
        free(cp);
        free(dp);
    }
}

/* omega on the interior lat/lon points [1, n-1); out is (nz, ny, nx), its border untouched */
void omega_f64(const double *restrict u, const double *restrict v, const double *restrict p,
               double *restrict w, long nz, long ny, long nx, double dx, double dy, int nt)
{
    const long s = ny * nx;
#pragma omp parallel num_threads(nt)
    {
        double *divm = malloc(sizeof(double) * nx), *div = malloc(sizeof(double) * nx);
#pragma omp for schedule(static)
        for (long j = 1; j < ny - 1; j++) {
            for (long k = 0; k < nz; k++) {
                const long q = k * s + j * nx;
                for (long i = 1; i < nx - 1; i++)
                    div[i] = (u[q + i + 1] - u[q + i - 1]) / (2.0 * dx)
                           + (v[q + nx + i] - v[q - nx + i]) / (2.0 * dy);
                if (k == 0)
                    for (long i = 1; i < nx - 1; i++)
                        w[q + i] = 0.0 * div[i];
                else
                    for (long i = 1; i < nx - 1; i++)
                        w[q + i] = w[q - s + i] - 0.5 * (div[i] + divm[i]) * (p[k] - p[k - 1]);
                double *t = divm; divm = div; div = t;
            }
        }
        free(divm);
        free(div);
    }
}
