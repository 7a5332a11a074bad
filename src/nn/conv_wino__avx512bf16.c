/* The Winograd 3x3 kernel (conv_wino.c) for the fast path: the transformed inputs rounded to
 * bf16, products with vdpbf16ps (AVX512-BF16), fp32 accumulation; transforms in fp32. */
#include <stdint.h>

#include "nn/conv_wino_avx512.h"

#define WINO_ITEM toon_wino_item__avx512bf16
#define WINO_BF16
#define VELEM         uint16_t
#define STORE_V(p, v) _mm256_storeu_si256((__m256i *)(p), (__m256i)_mm512_cvtneps_pbh(v))

#include "nn/conv_wino_impl.h"
