/*
 * Direct convolution with bf16 products (AVX512-BF16), for the fast path's layers that are not
 * 3x3 stride 1 and have enough output channels to vectorise over: the first layer (7x7, 3 -> 32
 * channels) and the two stride-2 layers.  They ran on oneDNN in fp32; its bf16 kernels gained
 * nothing on them (bench/KERNELS.md).
 *
 * In an NHWC row, the inputs one output pixel reads from one kernel row are contiguous: k
 * pixels of cin channels, k * cin values starting at column x * stride - pad.  So each output
 * pixel is, per kernel row, one dot product of length k * cin with the same weights, and the
 * layer is a matrix product whose rows overlap: (pixels) x (k * cin) times (k * cin) x (cout),
 * summed over the k kernel rows.  A work item stages the columns it reads, rounded to bf16 and
 * with the padding as zeros, then a register-blocked microkernel (12 pixels x 32 output
 * channels, 24 accumulators) takes the dot products two values at a time with vdpbf16ps, in
 * fp32.  No pixel is an edge case, and every output value is the same chain of instructions
 * (bias, then kernel rows and pairs in order) whichever item, thread or microkernel computes
 * it: the results do not depend on the thread count or on how rows are grouped into calls.
 * So the items can split each row evenly between the threads: at 1024 px, 96-pixel items
 * left one thread 12% more work than the other.
 *
 * The first layer's inputs are 8-bit pixels mapped to v = p / 127.5 - 1.  Scaled by 127.5
 * they are the half-integers p - 127.5, which bf16 (8 significant bits) holds exactly; the
 * weights are divided by 127.5 instead.  So that layer's inputs are not rounded at all, only
 * its weights are.
 */
#include "nn/conv_span.h"

#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "nn/conv.h"

enum { NR = 32, PX_PER_ITEM = 96 };

static int span_supports(const struct toon_gen_conv *gc, unsigned cpu)
{
    return (cpu & TOON_CPU_AVX512_BF16) && gc->cout % NR == 0;
}

/* The input scale of a layer (see above). */
static float in_scale_of(const struct toon_gen_conv *gc)
{
    return gc->cin == 3 ? 127.5f : 1.0f; /* the network's input layer (see above) */
}

/* One staged kernel row: the columns an item reads, plus the element a last odd pair reads
 * past them, rounded up to a cache line. */
static size_t buf_elems(const struct toon_conv_shape *s)
{
    size_t n = (size_t)((PX_PER_ITEM - 1) * s->stride + s->k) * s->cin + 1;
    return (n + 31) / 32 * 32;
}

static int pairs(const struct toon_conv_shape *s)
{
    return (s->k * s->cin + 1) / 2;
}

static size_t wt_bytes(const struct toon_conv_shape *s)
{
    return (size_t)s->cout * s->k * pairs(s) * 2 * sizeof(uint16_t);
}

static size_t span_plan_bytes(const struct toon_conv_shape *s)
{
    size_t ov = toon_alloc_overhead();
    return sizeof(struct toon_span) + ov + wt_bytes(s) + ov + (size_t)s->cout * sizeof(float) + ov +
           (size_t)toon_conv_scratch_slots() * s->k * buf_elems(s) * sizeof(uint16_t) + ov;
}

static void span_free(void *state)
{
    struct toon_span *sp = state;
    if (!sp) return;
    toon_free(sp->wt);
    toon_free(sp->bias);
    toon_free(sp->scratch);
    toon_free(sp);
}

static enum toon_status span_new(const struct toon_conv_shape *s, const struct toon_gen_conv *gc,
                                 void **out, struct toon_err *err)
{
    const float *w = gc->w, *b = gc->b;
    const float in_scale = in_scale_of(gc);
    if (!span_supports(gc, toon_cpu_features()))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "no bf16 direct kernel for this layer on this CPU");
    struct toon_span *sp = toon_calloc(1, sizeof *sp);
    if (!sp) goto oom;
    sp->k = s->k, sp->stride = s->stride, sp->cin = s->cin, sp->cout = s->cout;
    sp->lrelu = s->lrelu, sp->w_in = s->w_in, sp->w_out = s->w_out, sp->pad_l = s->pad_l;
    sp->pairs = pairs(s);
    const int nt = toon_conv_scratch_slots(),
              per_thread = (s->w_out + nt * PX_PER_ITEM - 1) / (nt * PX_PER_ITEM);
    sp->n_items = nt * per_thread;
    sp->in_scale = in_scale;
    sp->buf_elems = buf_elems(s);
    sp->n_scratch = toon_conv_scratch_slots();
    sp->wt = toon_malloc(wt_bytes(s));
    sp->bias = toon_malloc((size_t)s->cout * sizeof(float));
    sp->scratch = toon_malloc((size_t)sp->n_scratch * s->k * sp->buf_elems * sizeof(uint16_t));
    if (!sp->wt || !sp->bias || !sp->scratch) goto oom;
    memcpy(sp->bias, b, (size_t)s->cout * sizeof(float));
    /* wt[co / 32][kh][j][co % 32][t] = w[co][kh][e / cin][e % cin] / in_scale, e = 2j + t: the
     * span's element e of kernel row kh is OHWI's (kw, ci) = (e / cin, e % cin); zero past it. */
    const int L = s->k * s->cin, P = sp->pairs;
    for (int co = 0; co < s->cout; co++)
        for (int kh = 0; kh < s->k; kh++)
            for (int e = 0; e < 2 * P; e++) {
                float v = e < L ? w[((size_t)co * s->k + kh) * L + e] / in_scale : 0.0f;
                size_t blk = ((size_t)(co / NR) * s->k + kh) * P + e / 2;
                sp->wt[(blk * NR + co % NR) * 2 + e % 2] = toon_to_bf16(v);
            }
    *out = sp;
    return TOON_STATUS_OK;
oom:
    span_free(sp);
    return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory preparing a convolution");
}

struct span_call {
    const struct toon_span *sp;
    const float *const *rows;
    float *out;
};

/* Work item i: row i / n_items, its (i % n_items)-th even share of the columns. */
static void run_item(void *ctx, int i, void *scratch)
{
    const struct span_call *a = ctx;
    const int per = a->sp->n_items, j = i % per, w_out = a->sp->w_out;
    int x0 = (int)((long long)j * w_out / per), x1 = (int)((long long)(j + 1) * w_out / per);
    if (x1 > x0) toon_span_item__avx512bf16(a->sp, a->rows, a->out, i / per, x0, x1, scratch);
}

static void span_run(void *state, const struct toon_conv_shape *s, const float *const *rows,
                     float *out)
{
    struct toon_span *sp = state;
    struct span_call a = {sp, rows, out};
    toon_conv_items(s->rows_out * sp->n_items, run_item, &a, sp->scratch,
                    (size_t)sp->k * sp->buf_elems * sizeof(uint16_t), sp->n_scratch);
}

const struct toon_conv_kernel toon_conv_kernel_span_bf16__avx512bf16 = {TOON_KERNEL_SPAN_BF16,
                                                                        "direct-bf16-avx512",
                                                                        TOON_KERNEL_CLASS_WIDE,
                                                                        1,
                                                                        span_supports,
                                                                        span_plan_bytes,
                                                                        span_new,
                                                                        span_run,
                                                                        span_free,
                                                                        NULL,
                                                                        NULL};
