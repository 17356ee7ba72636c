/* 2-D 5-point and 3-D 7-point Laplacians on the interior; the edge strip is left untouched.
 * Term order follows the numpy reference: u[+1] + u[-1] (+ ...) - k*u. */
#include <stddef.h>

#define DEFINE_LAP2D(NAME, T)                                                       \
    void NAME(const T *restrict u, T *restrict out, long n0, long n1, int nt)       \
    {                                                                               \
        _Pragma("omp parallel for schedule(static) num_threads(nt)")                \
        for (long i = 1; i < n0 - 1; i++) {                                         \
            const T *restrict um = u + (i - 1) * n1;                                \
            const T *restrict u0 = u + i * n1;                                      \
            const T *restrict up = u + (i + 1) * n1;                                \
            T *restrict o = out + i * n1;                                           \
            for (long j = 1; j < n1 - 1; j++)                                       \
                o[j] = up[j] + um[j] + u0[j + 1] + u0[j - 1] - (T)4 * u0[j];        \
        }                                                                           \
    }

DEFINE_LAP2D(lap2d_f64, double)
DEFINE_LAP2D(lap2d_f32, float)

void lap3d_f64(const double *restrict u, double *restrict out, long n0, long n1, long n2, int nt)
{
    const long s0 = n1 * n2, s1 = n2;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long i = 1; i < n0 - 1; i++)
        for (long j = 1; j < n1 - 1; j++) {
            const double *restrict c = u + i * s0 + j * s1;
            double *restrict o = out + i * s0 + j * s1;
            for (long k = 1; k < n2 - 1; k++)
                o[k] = c[k + s0] + c[k - s0] + c[k + s1] + c[k - s1] + c[k + 1] + c[k - 1]
                       - 6.0 * c[k];
        }
}
