/* The direct kernel for few output channels (conv_direct_impl.h) with AVX2 + FMA: 4 pixels. */
#include <immintrin.h>

/* Horizontal sum in a fixed order: (lo + hi) halves, then pairs. */
static inline float hsum(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

#define VEC          __m256
#define VL           8
#define LOAD(p)      _mm256_loadu_ps(p)
#define ZERO()       _mm256_setzero_ps()
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define REDUCE(v)    hsum(v)
#define PX           4
#define PX_REP(m)    m(0) m(1) m(2) m(3)
#define DIRECT_FN    toon_conv_direct_f32__avx2

#include "nn/conv_direct_impl.h"
