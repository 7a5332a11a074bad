/* The Winograd 3x3 kernel (conv_wino.c) for the fast path: the transformed inputs rounded to
 * bf16, products with vdpbf16ps (AVX512-BF16), fp32 accumulation; transforms in fp32. */
#include <immintrin.h>
#include <stdint.h>

#define VEC          __m512
#define VL           16
#define LOAD(p)      _mm512_loadu_ps(p)
#define STORE(p, v)  _mm512_storeu_ps(p, v)
#define SET1(x)      _mm512_set1_ps(x)
#define ZERO()       _mm512_setzero_ps()
#define ADD(a, b)    _mm512_add_ps(a, b)
#define SUB(a, b)    _mm512_sub_ps(a, b)
#define MUL(a, b)    _mm512_mul_ps(a, b)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define MAX(a, b)    _mm512_max_ps(a, b)
#define MR           8
#define MR_REP(m)    m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7)
#define WINO_ITEM    toon_wino_item__avx512bf16
#define WINO_BF16
#define VELEM         uint16_t
#define STORE_V(p, v) _mm256_storeu_si256((__m256i *)(p), (__m256i)_mm512_cvtneps_pbh(v))

#include "nn/conv_wino_impl.h"
