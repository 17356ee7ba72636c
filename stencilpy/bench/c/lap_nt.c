/* The Laplacians of lap.c with streaming (non-temporal) stores: what a C programmer writes to
 * move the bytes stencilpy moves when it streams a large output (no write-allocate read of the
 * output).  Vector loads (unaligned), a scalar peel up to a vector-aligned output address,
 * aligned streaming vector stores, a scalar rest; 2-D rows in pairs when both rows of a pair
 * share their alignment (the rows they share are loaded once).  The values are those of
 * lap.c (same term order; gcc may contract a*b+c to an FMA in either).
 *
 *   lap2d_nt_f64 / lap2d_nt_f32 (u, out, n0, n1, threads)
 *   lap3d_nt_f64 (u, out, n0, n1, n2, threads)
 */
#include <immintrin.h>
#include <stdint.h>

#if defined(__AVX512F__)
#define VB 64
#define STREAM_F64(p, v) _mm512_stream_pd((p), (__m512d)(v))
#define STREAM_F32(p, v) _mm512_stream_ps((p), (__m512)(v))
#elif defined(__AVX__)
#define VB 32
#define STREAM_F64(p, v) _mm256_stream_pd((p), (__m256d)(v))
#define STREAM_F32(p, v) _mm256_stream_ps((p), (__m256)(v))
#else
#define VB 16
#define STREAM_F64(p, v) _mm_stream_pd((p), (__m128d)(v))
#define STREAM_F32(p, v) _mm_stream_ps((p), (__m128)(v))
#endif

/* vectors of VB bytes that may lie at any element address (loads through them are unaligned) */
typedef double vf64 __attribute__((vector_size(VB), aligned(8)));
typedef float vf32 __attribute__((vector_size(VB), aligned(4)));

#define LD(V, p) (*(const V *)(p))
#define MISALIGNED(p) (((uintptr_t)(p)) % VB)

#define LAP2D(um, u0, up, j, T) ((up)[j] + (um)[j] + (u0)[(j) + 1] + (u0)[(j) - 1] - (T)4 * (u0)[j])
#define LAP2D_V(um, u0, up, j, V, T)                                                    \
    (LD(V, (up) + (j)) + LD(V, (um) + (j)) + LD(V, (u0) + (j) + 1) + LD(V, (u0) + (j) - 1) \
     - (T)4 * LD(V, (u0) + (j)))

#define DEFINE_LAP2D_NT(NAME, T, V, STREAM)                                             \
    void NAME(const T *restrict u, T *restrict out, long n0, long n1, int nt)           \
    {                                                                                   \
        const long w = VB / (long)sizeof(T), hi = n1 - 1;                              \
        const int paired = (n1 * (long)sizeof(T)) % VB == 0;                           \
        const long rows = n0 - 2, steps = paired ? (rows + 1) / 2 : rows;              \
        _Pragma("omp parallel num_threads(nt)")                                         \
        {                                                                               \
        _Pragma("omp for schedule(static) nowait")                                      \
        for (long s = 0; s < steps; s++) {                                              \
            const long i = paired ? 1 + 2 * s : 1 + s;                                 \
            const int two = paired && i + 1 < n0 - 1;                                  \
            const T *restrict um = u + (i - 1) * n1, *restrict u0 = u + i * n1;        \
            const T *restrict up = u + (i + 1) * n1, *restrict uq = up + n1;           \
            T *restrict o = out + i * n1, *restrict o1 = o + n1;                       \
            long j = 1;                                                                 \
            for (; j < hi && MISALIGNED(o + j); j++) {                                 \
                o[j] = LAP2D(um, u0, up, j, T);                                        \
                if (two)                                                                \
                    o1[j] = LAP2D(u0, up, uq, j, T);                                   \
            }                                                                           \
            if (two)                                                                    \
                for (; j + w <= hi; j += w) {                                          \
                    STREAM(o + j, LAP2D_V(um, u0, up, j, V, T));                       \
                    STREAM(o1 + j, LAP2D_V(u0, up, uq, j, V, T));                      \
                }                                                                       \
            else                                                                        \
                for (; j + w <= hi; j += w)                                            \
                    STREAM(o + j, LAP2D_V(um, u0, up, j, V, T));                       \
            for (; j < hi; j++) {                                                       \
                o[j] = LAP2D(um, u0, up, j, T);                                        \
                if (two)                                                                \
                    o1[j] = LAP2D(u0, up, uq, j, T);                                   \
            }                                                                           \
        }                                                                               \
        _mm_sfence();                   /* each thread orders its own streaming stores */ \
        }                                                                               \
    }

DEFINE_LAP2D_NT(lap2d_nt_f64, double, vf64, STREAM_F64)
DEFINE_LAP2D_NT(lap2d_nt_f32, float, vf32, STREAM_F32)

void lap3d_nt_f64(const double *restrict u, double *restrict out, long n0, long n1, long n2,
                  int nt)
{
    const long s0 = n1 * n2, s1 = n2, w = VB / (long)sizeof(double), hi = n2 - 1;
#pragma omp parallel num_threads(nt)
    {
#pragma omp for schedule(static) nowait
    for (long i = 1; i < n0 - 1; i++)
        for (long j = 1; j < n1 - 1; j++) {
            const double *restrict c = u + i * s0 + j * s1;
            double *restrict o = out + i * s0 + j * s1;
#define LAP3D(k) (c[(k) + s0] + c[(k) - s0] + c[(k) + s1] + c[(k) - s1] + c[(k) + 1] \
                  + c[(k) - 1] - 6.0 * c[k])
            long k = 1;
            for (; k < hi && MISALIGNED(o + k); k++)
                o[k] = LAP3D(k);
            for (; k + w <= hi; k += w)
                STREAM_F64(o + k, LD(vf64, c + k + s0) + LD(vf64, c + k - s0)
                           + LD(vf64, c + k + s1) + LD(vf64, c + k - s1)
                           + LD(vf64, c + k + 1) + LD(vf64, c + k - 1)
                           - 6.0 * LD(vf64, c + k));
            for (; k < hi; k++)
                o[k] = LAP3D(k);
#undef LAP3D
        }
    _mm_sfence();
    }
}
