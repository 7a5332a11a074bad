/*
 * Convolution layers of the generator, prepared for one image width and one band height.
 *
 * A `struct toon_conv` computes `rows_out` output rows at a time from `rows_in` input rows
 * given as row pointers, which already include any vertical padding (the executors feed
 * explicit zero rows at the image edges, so no band ever needs vertical padding and one
 * prepared kernel serves every band).  Some kernels read several rows as one block: rows
 * i .. i + span - 1 must then lie evenly one row apart in memory (toon_conv_span).
 * Horizontal padding follows TF `SAME`.  Bias and the optional leaky ReLU (slope 0.2) are
 * fused.
 *
 * Kernels: a portable C reference (always available, the oracle for tests); our Winograd
 * F(4,3) kernels for the 3x3 stride-1 layers (AVX-512, AVX2, and bf16 products with
 * AVX512-BF16 for the fast path; conv_wino.c); oneDNN (fp32, or bf16 inputs with fp32
 * accumulation) for the other wide layers, and in the fast path our direct bf16 kernel for
 * them (conv_span.c); and our own AVX-512 / AVX2 kernel for the 7x7 conv
 * with few output channels, where libraries vectorise over 3 output lanes (bench/KERNELS.md
 * has the measurements).  A prepared conv always runs the same instruction
 * sequence for every band, which is what makes streamed and whole-image results identical.
 */
#ifndef TOON_NN_CONV_H
#define TOON_NN_CONV_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/genweights.h"
#include "toonify/status.h"

/* Every kernel's id: its row in the registry (conv_registry.c). */
enum toon_kernel {
    TOON_KERNEL_REF,           /* portable C */
    TOON_KERNEL_DNNL_F32,      /* oneDNN, fp32 */
    TOON_KERNEL_DNNL_BF16,     /* oneDNN, bf16 inputs and weights, fp32 accumulation */
    TOON_KERNEL_DIRECT_AVX512, /* ours: vectorised over input channels (few outputs) */
    TOON_KERNEL_DIRECT_AVX2,
    TOON_KERNEL_WINO_AVX512, /* ours: Winograd F(4,3) along rows, 3x3 stride 1 (conv_wino.c) */
    TOON_KERNEL_WINO_AVX2,
    TOON_KERNEL_WINO_BF16, /* the same with bf16 products (AVX512-BF16): the fast path */
    TOON_KERNEL_SPAN_BF16, /* ours: direct, bf16 products (AVX512-BF16), other wide layers of
                            * the fast path (conv_span.c) */
    TOON_KERNEL_COUNT
};
const char *toon_kernel_name(enum toon_kernel k);

struct toon_conv_shape {
    int k, stride, cin, cout, lrelu;
    int w_in, w_out;       /* columns */
    int pad_l;             /* left padding (TF SAME); right padding is implied */
    int rows_out, rows_in; /* rows per call: rows_in = (rows_out - 1) * stride + k */
};
void toon_conv_shape_init(struct toon_conv_shape *s, const struct toon_gen_conv *gc, int lrelu,
                          int w_in, int rows_out);

/*
 * The kernel registry.  Each kernel family describes each of its variants with one descriptor,
 * defined in the family's own file; conv_registry.c lists them in priority order, and a layer
 * takes the first one that the filter allows and that fits its shape on this CPU.  A new kernel
 * (or another device) is then one descriptor, its files and a row in that table.
 */
enum toon_kernel_class {
    TOON_KERNEL_CLASS_REF = 1u << 0,    /* the portable reference */
    TOON_KERNEL_CLASS_NARROW = 1u << 1, /* ours, where libraries idle most lanes (3 outputs) */
    TOON_KERNEL_CLASS_WIDE = 1u << 2,   /* ours, where oneDNN would also serve */
    TOON_KERNEL_CLASS_ONEDNN = 1u << 3, /* oneDNN's; it also allocates outside our allocator */
};

struct toon_conv_kernel {
    enum toon_kernel id;
    const char *name; /* as `toonify info` prints it */
    unsigned kclass;  /* one enum toon_kernel_class */
    int bf16;         /* bf16 products: taken only by layers on the fast path */
    /* Whether it runs with these CPU features and fits the layer. */
    int (*supports)(const struct toon_gen_conv *gc, unsigned cpu);
    /* Heap bytes new() allocates for this shape, through the counting allocator. */
    size_t (*plan_bytes)(const struct toon_conv_shape *s);
    enum toon_status (*new)(const struct toon_conv_shape *s, const struct toon_gen_conv *gc,
                            void **state, struct toon_err *err);
    void (*run)(void *state, const struct toon_conv_shape *s, const float *const *rows, float *out);
    void (*free)(void *state);
    /* Optional.  Input rows read as one evenly spaced block (NULL: 1, any rows). */
    int (*span)(const struct toon_conv_shape *s);
    /* Optional.  The implementation actually running (NULL: the name). */
    const char *(*impl)(const void *state);
};

extern const struct toon_conv_kernel toon_conv_kernel_ref, toon_conv_kernel_direct_f32__avx512,
    toon_conv_kernel_direct_f32__avx2, toon_conv_kernel_wino_f32__avx512,
    toon_conv_kernel_wino_f32__avx2, toon_conv_kernel_wino_bf16__avx512bf16,
    toon_conv_kernel_span_bf16__avx512bf16, toon_conv_kernel_dnnl_f32, toon_conv_kernel_dnnl_bf16;

/* What may be chosen: CPU features (after the TOONIFY_ISA cap) and kernel classes. */
struct toon_kernel_filter {
    unsigned cpu;
    unsigned classes;
};
/* The filter for given features and a TOONIFY_KERNEL value: "ref" allows the reference only,
 * "onednn" oneDNN instead of our wide kernels (comparisons); NULL or "" allows all. */
struct toon_kernel_filter toon_kernel_filter_make(unsigned cpu, const char *kernel);
/* The process's filter: toon_cpu_features() and $TOONIFY_KERNEL, read once. */
const struct toon_kernel_filter *toon_kernel_filter_env(void);
const struct toon_conv_kernel *toon_conv_kernel_get(enum toon_kernel id);
/* The first kernel in priority order that the filter allows and that fits the layer; bf16
 * kernels only when `fast`. */
enum toon_kernel toon_conv_choose_with(const struct toon_gen_conv *gc, int fast,
                                       const struct toon_kernel_filter *f);

struct toon_conv;
enum toon_status toon_conv_new(const struct toon_gen_conv *gc, int lrelu, int w_in, int rows_out,
                               enum toon_kernel kind, struct toon_conv **out, struct toon_err *err);
void toon_conv_free(struct toon_conv *c);
const struct toon_conv_shape *toon_conv_get_shape(const struct toon_conv *c);
enum toon_kernel toon_conv_kernel(const struct toon_conv *c);
/* The implementation actually running: oneDNN's name for it, or our kernel's name. */
const char *toon_conv_impl(const struct toon_conv *c);
/* Heap bytes toon_conv_new allocates for this kernel and shape (weights, scratch, staging). */
size_t toon_conv_plan_bytes(const struct toon_gen_conv *gc, int w_in, int rows_out,
                            enum toon_kernel kind);

/* rows: rows_in pointers to [w_in][cin] rows; out: [rows_out][w_out][cout].  Uses the
 * current thread count. */
void toon_conv_run(struct toon_conv *c, const float *const *rows, float *out);
/* How many consecutive input rows the kernel reads as one evenly spaced block (1: any rows). */
int toon_conv_span(const struct toon_gen_conv *gc, int rows_out, enum toon_kernel kind);

/* The reference kernel on its own (tests): contiguous input [rows_in][w_in][cin], weights
 * OHWI as in genweights.h. */
void toon_conv_ref(const struct toon_conv_shape *s, const float *w, const float *b, const float *in,
                   float *out);

/* Our direct kernels for cout == 3 (the last layer): w is OHWI [3][k][k][cin], cin a multiple
 * of the vector width.  They compute output columns [x0, x1) of output row `row`.  Every pixel
 * sums its taps in the same order whichever code path (interior or edge) handles it, so the
 * result does not depend on how columns are split between threads. */
void toon_conv_direct_f32__avx512(const struct toon_conv_shape *s, const float *w, const float *b,
                                  const float *const *rows, float *out, int row, int x0, int x1);
void toon_conv_direct_f32__avx2(const struct toon_conv_shape *s, const float *w, const float *b,
                                const float *const *rows, float *out, int row, int x0, int x1);

/* Which kernel toonify picks for a layer on this CPU: toon_conv_choose_with() with the
 * process's filter. */
enum toon_kernel toon_conv_choose(const struct toon_gen_conv *gc, int fast);

/* Shared by our kernels (conv_wino.c, conv_span.c). */

/* Rounds to bf16, to nearest even as vcvtneps2bf16 does (for finite values: the weights). */
static inline uint16_t toon_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
/* Scratch slots a kernel prepares: one per thread of the current thread count. */
int toon_conv_scratch_slots(void);
/* Calls item(ctx, i, scratch) for i in [0, n), split over the current thread count (at most
 * n_slots threads, static schedule), each thread with its own slot of slot_bytes from scratch;
 * serially with slot 0 on one thread or inside a parallel region (one executor per thread). */
void toon_conv_items(int n, void (*item)(void *ctx, int i, void *scratch), void *ctx, void *scratch,
                     size_t slot_bytes, int n_slots);

/* oneDNN glue (conv_dnnl.c; the kernels are its two descriptors). */
int toon_dnnl_available(int bf16); /* with toon_cpu_features() */
/* Bytes oneDNN allocates itself, outside the counting allocator, for a generator of width w
 * whose layers include oneDNN's fp32 and/or bf16 kernels. */
size_t toon_dnnl_native_bytes(int w, int any_f32, int any_bf16);

#endif
