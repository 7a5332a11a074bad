/* The direct kernel for few output channels (conv_direct_impl.h) with AVX-512: 8 pixels. */
#include <immintrin.h>

#define VEC          __m512
#define VL           16
#define LOAD(p)      _mm512_loadu_ps(p)
#define ZERO()       _mm512_setzero_ps()
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define REDUCE(v)    _mm512_reduce_add_ps(v)
#define PX           8
#define PX_REP(m)    m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7)
#define DIRECT_FN    toon_conv_direct_f32__avx512

#include "nn/conv_direct_impl.h"
