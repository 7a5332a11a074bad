/*
 * Direct convolution with bf16 products, for the fast path's layers that the Winograd kernel
 * does not take: the first layer (7x7, 3 -> 32) and the two stride-2 layers (see conv_span.c).
 * Internal to src/nn: conv.c creates and runs it; the AVX512-BF16 body is conv_span__avx512bf16.c.
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

/* Whether the kernel runs on this CPU (after the TOONIFY_ISA cap) and fits the layer: cout a
 * multiple of 32. */
int toon_span_supports(const struct toon_gen_conv *gc);
/* The input scale toon_conv_new uses for a layer (see conv_span.c). */
float toon_span_in_scale(const struct toon_gen_conv *gc);
enum toon_status toon_span_new(const struct toon_conv_shape *s, const float *w, const float *b,
                               float in_scale, struct toon_span **out, struct toon_err *err);
void toon_span_free(struct toon_span *sp);
/* Heap bytes toon_span_new allocates (weights, bias, one scratch per thread). */
size_t toon_span_plan_bytes(const struct toon_conv_shape *s);
/* rows: (rows_out - 1) * stride + k input rows; out: [rows_out][w_out][cout].  Uses the current
 * thread count, or just this thread inside a parallel region. */
void toon_span_run(struct toon_span *sp, const float *const *rows, float *out, int rows_out);

/* Output pixels [x0, x1) of output row `row`, x1 - x0 <= 96. */
void toon_span_item__avx512bf16(const struct toon_span *sp, const float *const *rows, float *out,
                                int row, int x0, int x1, uint16_t *scratch);

#endif
