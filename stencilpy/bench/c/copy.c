/* Copies of n doubles, the bounds of a memory-bound kernel ("copy of the same bytes"):
 *   copy_f64     a loop with ordinary stores (kept a loop: gcc would otherwise call memcpy);
 *                every store first reads its cache line (write-allocate): 3 sweeps of memory
 *   copy_nt_f64  a loop with non-temporal (streaming) vector stores, no write-allocate reads:
 *                2 sweeps, the bound of a kernel that streams its stores
 *   memcpy_f64   glibc's memcpy on each thread's share (it picks its own store kind by size)
 * Each thread copies one contiguous share (OpenMP static schedule). */
#include <stdint.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

__attribute__((optimize("no-tree-loop-distribute-patterns")))
void copy_f64(const double *restrict src, double *restrict dst, long n, int nt)
{
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long i = 0; i < n; i++)
        dst[i] = src[i];
}

static void share(long n, long *lo, long *hi, int t, int nt)
{
    long per = (n + nt - 1) / nt;
    *lo = per * t < n ? per * t : n;
    *hi = *lo + per < n ? *lo + per : n;
}

__attribute__((optimize("no-tree-loop-distribute-patterns")))
static void stream_part(const double *restrict src, double *restrict dst, long lo, long hi)
{
    long i = lo;
#if defined(__AVX512F__)
    for (; i < hi && ((uintptr_t)(dst + i) & 63); i++)   /* scalar head: 64-byte aligned stores */
        dst[i] = src[i];
    for (; i + 8 <= hi; i += 8)
        _mm512_stream_pd(dst + i, _mm512_loadu_pd(src + i));
    _mm_sfence();
#elif defined(__AVX__)
    for (; i < hi && ((uintptr_t)(dst + i) & 31); i++)
        dst[i] = src[i];
    for (; i + 4 <= hi; i += 4)
        _mm256_stream_pd(dst + i, _mm256_loadu_pd(src + i));
    _mm_sfence();
#elif defined(__SSE2__)
    for (; i < hi && ((uintptr_t)(dst + i) & 15); i++)
        dst[i] = src[i];
    for (; i + 2 <= hi; i += 2)
        _mm_stream_pd(dst + i, _mm_loadu_pd(src + i));
    _mm_sfence();
#endif
    for (; i < hi; i++)                                   /* tail (all of it without SSE2) */
        dst[i] = src[i];
}

static int thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

static int thread_count(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

void copy_nt_f64(const double *restrict src, double *restrict dst, long n, int nt)
{
#pragma omp parallel num_threads(nt)
    {
        long lo, hi;
        share(n, &lo, &hi, thread_num(), thread_count());
        stream_part(src, dst, lo, hi);
    }
}

void memcpy_f64(const double *restrict src, double *restrict dst, long n, int nt)
{
#pragma omp parallel num_threads(nt)
    {
        long lo, hi;
        share(n, &lo, &hi, thread_num(), thread_count());
        if (hi > lo)
            memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(double));
    }
}
