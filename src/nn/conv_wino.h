/*
 * Winograd F(4,3) convolution for the generator's 3x3 stride-1 layers (see conv_wino.c).
 * Internal to src/nn: conv.c creates and runs it; the per-ISA bodies are conv_wino__*.c.
 */
#ifndef TOON_NN_CONV_WINO_H
#define TOON_NN_CONV_WINO_H

#include <stddef.h>

#include "formats/genweights.h"
#include "toonify/status.h"

struct toon_conv_shape;

struct toon_wino_call;

struct toon_wino {
    int cin, cout, w_in, w_out, lrelu;
    int tiles;          /* tiles of 4 output pixels per row */
    int tiles_per_item; /* tiles one work item computes: a multiple of the microkernel's */
    int n_items;        /* work items per row */
    void *u;     /* transformed weights, fp32 [6][cout / NR][3 * cin][NR] (NR: two vectors), or bf16
                  * [6][cout / NR][3 * cin / 2][NR][2] */
    float *bias; /* [cout] */
    float *scratch; /* n_scratch slots of scratch_floats */
    int n_scratch;
    size_t scratch_floats;
    void (*item)(const struct toon_wino_call *, int row, int t0, float *scratch);
};

struct toon_wino_call {
    const struct toon_wino *w;
    const float *const *rows; /* rows_out + 2 input rows */
    float *out;               /* [rows_out][w_out][cout] */
};

/* The three kernels: vl floats per vector (16: AVX-512, 8: AVX2), and bf16 (AVX-512 only). */
enum toon_wino_isa { TOON_WINO_AVX512, TOON_WINO_AVX2, TOON_WINO_AVX512_BF16 };
/* The kernels are the registry's descriptors toon_conv_kernel_wino_* (conv.h).  They fit a
 * layer with a 3x3 kernel, stride 1, cin a multiple of the vector width and cout of twice it. */

/* Computes tiles [t0, t0 + tiles_per_item) of output row `row`, or up to the row's end.
 * scratch: scratch_floats floats. */
void toon_wino_item__avx512(const struct toon_wino_call *a, int row, int t0, float *scratch);
void toon_wino_item__avx2(const struct toon_wino_call *a, int row, int t0, float *scratch);
void toon_wino_item__avx512bf16(const struct toon_wino_call *a, int row, int t0, float *scratch);

#endif
