/* One 2-D MPDATA step (basic options, n_iters = 2) on a periodic N0 x N1 grid, G = 1.
 * psi: N0 x N1 cells; c0: (N0+1) x N1 x-faces (entry m = left face of cell m);
 * c1: N0 x (N1+1) y-faces; rows N0 of c0 and column N1 of c1 repeat entry 0.
 * Fused per row block: each thread keeps 3 rows of psi1 (first donor-cell pass), two rows of
 * x-face and one row of y-face pseudo-velocities, then writes one output row (second pass).
 * Columns wrap by peeling j = 0 and j = N1-1; rows wrap by index arithmetic. */
#include <math.h>
#include <stdlib.h>
#include <omp.h>

#define EPS 1e-15

static inline double pos(double x) { return x > 0.0 ? x : 0.0; }
static inline double neg(double x) { return x < 0.0 ? x : 0.0; }
static inline long wrap(long k, long n) { return k < 0 ? k + n : (k >= n ? k - n : k); }

/* donor cell in row i: p* rows i-1, i, i+1; c0l/c0r faces i-1/2, i+1/2; c1r y-faces of row i */
static inline double donor_pt(const double *pm, const double *p0, const double *pp,
                              const double *c0l, const double *c0r, const double *c1r,
                              long j, long jm, long jp)
{
    double f0l = pos(c0l[j]) * pm[j] + neg(c0l[j]) * p0[j];
    double f0r = pos(c0r[j]) * p0[j] + neg(c0r[j]) * pp[j];
    double f1l = pos(c1r[j]) * p0[jm] + neg(c1r[j]) * p0[j];
    double f1r = pos(c1r[j + 1]) * p0[j] + neg(c1r[j + 1]) * p0[jp];
    return p0[j] - (f0r - f0l) - (f1r - f1l);
}

static void donor_row(const double *restrict pm, const double *restrict p0,
                      const double *restrict pp, const double *restrict c0l,
                      const double *restrict c0r, const double *restrict c1r,
                      double *restrict dst, long n1)
{
    dst[0] = donor_pt(pm, p0, pp, c0l, c0r, c1r, 0, n1 - 1, 1);
    for (long j = 1; j < n1 - 1; j++)
        dst[j] = donor_pt(pm, p0, pp, c0l, c0r, c1r, j, j - 1, j + 1);
    dst[n1 - 1] = donor_pt(pm, p0, pp, c0l, c0r, c1r, n1 - 1, n1 - 2, 0);
}

/* antidiffusive velocity on the x-face between rows pl (left) and pr (right);
 * c: previous velocity on that face row; c1l/c1r: y-faces of the two rows */
static inline double adx_pt(const double *pl, const double *pr, const double *c,
                            const double *c1l, const double *c1r, long j, long jm, long jp)
{
    double a = (pr[j] - pl[j]) / (pr[j] + pl[j] + EPS);
    double up = pr[jp] + pl[jp], dn = pr[jm] + pl[jm];
    double b = (up - dn) / (up + dn + EPS);
    double cb = 0.25 * (c1r[j + 1] + c1l[j + 1] + c1r[j] + c1l[j]);
    return (fabs(c[j]) - c[j] * c[j]) * a - 0.5 * c[j] * cb * b;
}

static void adx_row(const double *restrict pl, const double *restrict pr,
                    const double *restrict c, const double *restrict c1l,
                    const double *restrict c1r, double *restrict dst, long n1)
{
    dst[0] = adx_pt(pl, pr, c, c1l, c1r, 0, n1 - 1, 1);
    for (long j = 1; j < n1 - 1; j++)
        dst[j] = adx_pt(pl, pr, c, c1l, c1r, j, j - 1, j + 1);
    dst[n1 - 1] = adx_pt(pl, pr, c, c1l, c1r, n1 - 1, n1 - 2, 0);
}

/* antidiffusive velocity on y-face j-1/2 of row i: p* rows i-1, i, i+1; c1r y-faces of row i;
 * c0a/c0b x-faces i-1/2 and i+1/2 */
static inline double ady_pt(const double *pm, const double *p0, const double *pp,
                            const double *c1r, const double *c0a, const double *c0b,
                            long j, long jm)
{
    double a = (p0[j] - p0[jm]) / (p0[j] + p0[jm] + EPS);
    double up = pp[j] + pp[jm], dn = pm[j] + pm[jm];
    double b = (up - dn) / (up + dn + EPS);
    double cb = 0.25 * (c0b[j] + c0b[jm] + c0a[j] + c0a[jm]);
    double c = c1r[j];
    return (fabs(c) - c * c) * a - 0.5 * c * cb * b;
}

static void ady_row(const double *restrict pm, const double *restrict p0,
                    const double *restrict pp, const double *restrict c1r,
                    const double *restrict c0a, const double *restrict c0b,
                    double *restrict dst, long n1)
{
    dst[0] = ady_pt(pm, p0, pp, c1r, c0a, c0b, 0, n1 - 1);
    for (long j = 1; j < n1; j++)
        dst[j] = ady_pt(pm, p0, pp, c1r, c0a, c0b, j, j - 1);
    dst[n1] = dst[0];
}

/* first donor-cell pass for row k (any integer; wrapped) */
static void pass1_row(const double *psi, const double *c0, const double *c1, long k,
                      long n0, long n1, double *dst)
{
    k = wrap(k, n0);
    donor_row(psi + wrap(k - 1, n0) * n1, psi + k * n1, psi + wrap(k + 1, n0) * n1,
              c0 + k * n1, c0 + (k + 1) * n1, c1 + k * (n1 + 1), dst, n1);
}

static void mpdata_rows(const double *psi, const double *c0, const double *c1, double *out,
                        long n0, long n1, long r0, long r1, double *buf)
{
    double *p1[3] = {buf, buf + n1, buf + 2 * n1};
    double *v0a = buf + 3 * n1, *v0b = buf + 4 * n1, *v1 = buf + 5 * n1, *t;
    const long s1 = n1 + 1;
    pass1_row(psi, c0, c1, r0 - 1, n0, n1, p1[0]);
    pass1_row(psi, c0, c1, r0, n0, n1, p1[1]);
    adx_row(p1[0], p1[1], c0 + r0 * n1, c1 + wrap(r0 - 1, n0) * s1, c1 + r0 * s1, v0a, n1);
    for (long i = r0; i < r1; i++) {
        double *pm = p1[(i - r0) % 3], *pc = p1[(i - r0 + 1) % 3], *pn = p1[(i - r0 + 2) % 3];
        pass1_row(psi, c0, c1, i + 1, n0, n1, pn);
        adx_row(pc, pn, c0 + (i + 1) * n1, c1 + i * s1, c1 + wrap(i + 1, n0) * s1, v0b, n1);
        ady_row(pm, pc, pn, c1 + i * s1, c0 + i * n1, c0 + (i + 1) * n1, v1, n1);
        donor_row(pm, pc, pn, v0a, v0b, v1, out + i * n1, n1);
        t = v0a; v0a = v0b; v0b = t;
    }
}

void mpdata2d_f64(const double *restrict psi, const double *restrict c0,
                  const double *restrict c1, double *restrict out, long n0, long n1, int nt)
{
#pragma omp parallel num_threads(nt)
    {
        long nth = omp_get_num_threads(), t = omp_get_thread_num();
        long r0 = n0 * t / nth, r1 = n0 * (t + 1) / nth;
        double *buf = malloc((6 * (size_t)n1 + 1) * sizeof(double));
        if (r0 < r1)
            mpdata_rows(psi, c0, c1, out, n0, n1, r0, r1, buf);
        free(buf);
    }
}
