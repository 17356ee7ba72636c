/* Copy loop with ordinary stores (kept a loop: gcc would otherwise turn it into memcpy). */
__attribute__((optimize("no-tree-loop-distribute-patterns")))
void copy_f64(const double *restrict src, double *restrict dst, long n, int nt)
{
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long i = 0; i < n; i++)
        dst[i] = src[i];
}
