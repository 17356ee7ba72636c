/* COSMO horizontal diffusion on (levels, n1, n2), the 2-D stencil on the last two axes.
 * Fused per level and row: rolling rows of lap and flx stay in L1/L2; fly is recomputed
 * inline. Interior only (halo 2 on both stencil axes); the edge strip is left untouched. */
#include <stdlib.h>

static inline double limit(double f, double du) { return f * du > 0.0 ? 0.0 : f; }

/* lap at row i from u rows i-1, i, i+1 (columns 1 .. n2-2) */
static void lap_row(const double *restrict um, const double *restrict u0,
                    const double *restrict up, double *restrict lap, long n2)
{
    for (long j = 1; j < n2 - 1; j++)
        lap[j] = 4.0 * u0[j] - (up[j] + um[j] + u0[j + 1] + u0[j - 1]);
}

/* limited flx between rows i and i+1 (columns 2 .. n2-3) */
static void flx_row(const double *restrict lap0, const double *restrict lap1,
                    const double *restrict u0, const double *restrict u1,
                    double *restrict flx, long n2)
{
    for (long j = 2; j < n2 - 2; j++)
        flx[j] = limit(lap1[j] - lap0[j], u1[j] - u0[j]);
}

static void out_row(const double *restrict u0, const double *restrict lap,
                    const double *restrict flx, const double *restrict flxm,
                    double coeff, double *restrict o, long n2)
{
    for (long j = 2; j < n2 - 2; j++) {
        double fly = limit(lap[j + 1] - lap[j], u0[j + 1] - u0[j]);
        double flym = limit(lap[j] - lap[j - 1], u0[j] - u0[j - 1]);
        o[j] = u0[j] - coeff * (flx[j] - flxm[j] + fly - flym);
    }
}

static void hdiff_level(const double *restrict u, double *restrict out, long n1, long n2,
                        double coeff, double *buf)
{
    double *lc = buf, *ln = buf + n2, *fm = buf + 2 * n2, *fc = buf + 3 * n2, *t;
    lap_row(u, u + n2, u + 2 * n2, lc, n2);                 /* lap row 1 */
    lap_row(u + n2, u + 2 * n2, u + 3 * n2, ln, n2);        /* lap row 2 */
    flx_row(lc, ln, u + n2, u + 2 * n2, fm, n2);            /* flx row 1 */
    t = lc; lc = ln; ln = t;
    for (long i = 2; i < n1 - 2; i++) {
        const double *u0 = u + i * n2;
        lap_row(u0, u0 + n2, u0 + 2 * n2, ln, n2);          /* lap row i+1 */
        flx_row(lc, ln, u0, u0 + n2, fc, n2);               /* flx row i */
        out_row(u0, lc, fc, fm, coeff, out + i * n2, n2);
        t = lc; lc = ln; ln = t;
        t = fm; fm = fc; fc = t;
    }
}

void hdiff_f64(const double *restrict u, double *restrict out, long nl, long n1, long n2,
               double coeff, int nt)
{
#pragma omp parallel num_threads(nt)
    {
        double *buf = malloc(4 * (size_t)n2 * sizeof(double));
#pragma omp for schedule(static)
        for (long l = 0; l < nl; l++)
            hdiff_level(u + l * n1 * n2, out + l * n1 * n2, n1, n2, coeff, buf);
        free(buf);
    }
}
