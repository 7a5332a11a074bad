/* The AVX-512 vector macros of the Winograd kernel body (conv_wino_impl.h), shared by its fp32
 * and bf16 variants. */
#ifndef TOON_NN_CONV_WINO_AVX512_H
#define TOON_NN_CONV_WINO_AVX512_H

#include <immintrin.h>

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

#endif
