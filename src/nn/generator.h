/*
 * The generator executor: runs the DCT-Net generator and its guided filter over an image of a
 * given size, either layer by layer over whole tensors (the reference schedule) or streamed
 * over rows so that memory grows with the width only (DESIGN.md, "The streaming generator").
 *
 * Both schedules run the very same kernel calls on the very same data: every layer computes
 * its rows in fixed chunks starting at row 0, from explicit zero rows at the edges; only the
 * order of the calls and how long rows stay in memory differ.  So their outputs are identical
 * bit for bit, for every band height and thread count (tests/nn/test_generator.c checks it).
 */
#ifndef TOON_NN_GENERATOR_H
#define TOON_NN_GENERATOR_H

#include <stddef.h>
#include <stdint.h>

#include "formats/genweights.h"
#include "nn/conv.h"
#include "toonify/toonify.h"

struct toon_genx_params {
    int band_rows;  /* output rows per step of the streaming schedule (any value >= 1) */
    int fast;       /* reduced-precision kernels where the CPU has them */
    int whole;      /* the whole-image schedule instead of streaming */
    int force_ref;  /* the reference C kernel for every layer */
    int one_thread; /* run by one thread (a worker of a parallel loop): smaller chunks */
};

struct toon_genx;
/* h, w: the image size (any >= 1; the network runs at the next multiples of 4, with the last
 * row and column repeated into the padding, and the result is cropped back). */
enum toon_status toon_genx_new(const struct toon_gen_weights *gw, int h, int w,
                               const struct toon_genx_params *p, struct toon_genx **out,
                               struct toon_err *err);
/* Exactly the bytes toon_genx_new and toon_genx_run allocate through the counting allocator. */
size_t toon_genx_plan_bytes(const struct toon_gen_weights *gw, int h, int w,
                            const struct toon_genx_params *p);
/* Memory the executor causes outside the counting allocator: oneDNN's own allocations when it
 * creates primitives and generates code.  Measured (resident anonymous memory minus the
 * counted heap, 1 and 2 threads): fp32 (its plain JIT kernels) 3.4 MB at 512 px wide,
 * 3.6-3.7 MB at 2048, 4.1 MB at 4096, bounded by 4.5 MB + 512 bytes per column; bf16 (only
 * brgemm kernels exist) 5.9-6.5 MB at 512, 11.2-16.1 MB at 2048, 17.3-25.8 MB at 4096,
 * bounded by 4 MB + 6 KB per column.  None when no layer runs on oneDNN (the fast path on a
 * CPU with AVX512-BF16). */
size_t toon_genx_plan_native_bytes(int h, int w, const struct toon_genx_params *p);
/* Runs the generator over one image; an executor may run any number of images of its size, one
 * at a time (creating one costs milliseconds: oneDNN generates its kernels then). */
enum toon_status toon_genx_run(struct toon_genx *g, toon_gen_src_fn src, void *src_ctx,
                               toon_gen_sink_fn sink, void *sink_ctx, struct toon_err *err);
void toon_genx_free(struct toon_genx *g);
/* The generator's input: n pixels of 8-bit RGB as BGR floats in [-1, 1] (px / 127.5 - 1). */
void toon_gen_pack_bgr(const uint8_t *rgb, size_t n, float *bgr);
/* How many input rows the generator may have read beyond the output row it returns. */
int toon_genx_input_lag(const struct toon_genx *g);
int toon_genx_plan_input_lag(const struct toon_gen_weights *gw, int h, int w,
                             const struct toon_genx_params *p);
/* The kernel chosen for conv layer i (0..17) of this executor. */
enum toon_kernel toon_genx_kernel(const struct toon_genx *g, int layer);
const char *toon_genx_kernel_impl(const struct toon_genx *g, int layer);

#endif
