/* The Winograd 3x3 kernel (conv_wino.c) with AVX2 + FMA: 6 tiles x 16 output channels per
 * microkernel, 12 accumulators of the 16 registers. */
#include <immintrin.h>

#define VEC          __m256
#define VL           8
#define LOAD(p)      _mm256_loadu_ps(p)
#define STORE(p, v)  _mm256_storeu_ps(p, v)
#define SET1(x)      _mm256_set1_ps(x)
#define ZERO()       _mm256_setzero_ps()
#define ADD(a, b)    _mm256_add_ps(a, b)
#define SUB(a, b)    _mm256_sub_ps(a, b)
#define MUL(a, b)    _mm256_mul_ps(a, b)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define MAX(a, b)    _mm256_max_ps(a, b)
#define MR           6
#define MR_REP(m)    m(0) m(1) m(2) m(3) m(4) m(5)
#define WINO_ITEM    toon_wino_item__avx2

#include "nn/conv_wino_impl.h"
