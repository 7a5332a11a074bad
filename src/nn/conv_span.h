/*
 * Direct convolution with bf16 products, for the fast path's layers that the Winograd kernel
 * does not take: the first layer (7x7, 3 -> 32) and the two stride-2 layers (see conv_span.c).
 * Internal to src/nn: the registry (conv.h) creates and runs it; the AVX512-BF16 body is
 * conv_span__avx512bf16.c.
 */
#ifndef TOON_NN_CONV_SPAN_H
#define TOON_NN_CONV_SPAN_H

#include <stddef.h>
#include <stdint.h>

#include "formats/genweights.h"
#include "toonify/status.h"

struct toon_conv_shape;

struct toon_span {
    int k, stride, cin, cout, lrelu, w_in, w_out, pad_l;
    int pairs;         /* bf16 pairs per kernel row: ceil(k * cin / 2) */
    int n_items;       /* work items per row: a multiple of the thread count, at most 96 px */
    float in_scale;    /* inputs are multiplied by this before rounding, weights divided */
    uint16_t *wt;      /* bf16 [cout / 32][k][pairs][32][2] */
    float *bias;       /* [cout] */
    size_t buf_elems;  /* bf16 elements of one staged input row (one kernel row's span) */
    uint16_t *scratch; /* n_scratch slots of k * buf_elems */
    int n_scratch;
};

/* The kernel is the registry's descriptor toon_conv_kernel_span_bf16__avx512bf16 (conv.h); it
 * fits layers whose cout is a multiple of 32. */

/* Output pixels [x0, x1) of output row `row`, x1 - x0 <= 96. */
void toon_span_item__avx512bf16(const struct toon_span *sp, const float *const *rows, float *out,
                                int row, int x0, int x1, uint16_t *scratch);

#endif
