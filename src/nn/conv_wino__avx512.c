/* The Winograd 3x3 kernel (conv_wino.c) with AVX-512: 8 tiles x 32 output channels per
 * microkernel, 16 accumulators. */
#include "nn/conv_wino_avx512.h"

#define WINO_ITEM toon_wino_item__avx512

#include "nn/conv_wino_impl.h"
