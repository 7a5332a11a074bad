/*
 * Convolution dispatch and the portable reference kernel (see conv.h).
 *
 * toon_conv_choose() decides per layer: our direct kernel for few output channels where the
 * CPU has AVX2 or AVX-512; our Winograd kernels for the 3x3 stride-1 layers; in the fast path
 * our bf16 direct kernel for the rest; oneDNN for whatever is left.  TOONIFY_KERNEL=ref forces
 * the reference kernel everywhere (debugging, and the oracle in tests), TOONIFY_KERNEL=onednn
 * oneDNN for every layer it can take (comparisons).
 */
#include "nn/conv.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/assert.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "nn/conv_span.h"
#include "nn/conv_wino.h"

struct toon_conv {
    struct toon_conv_shape s;
    enum toon_kernel kind;
    float *w; /* [cout][k][k][cin], for REF and DIRECT kernels */
    float *b; /* [cout] */
    struct toon_dnnl_conv *dnnl;
    struct toon_wino *wino;
    struct toon_span *span;
};

const char *toon_kernel_name(enum toon_kernel k)
{
    switch (k) {
    case TOON_KERNEL_REF:
        return "ref-c";
    case TOON_KERNEL_DNNL_F32:
        return "onednn-f32";
    case TOON_KERNEL_DNNL_BF16:
        return "onednn-bf16";
    case TOON_KERNEL_DIRECT_AVX512:
        return "direct-f32-avx512";
    case TOON_KERNEL_DIRECT_AVX2:
        return "direct-f32-avx2";
    case TOON_KERNEL_WINO_AVX512:
        return "winograd-f32-avx512";
    case TOON_KERNEL_WINO_AVX2:
        return "winograd-f32-avx2";
    case TOON_KERNEL_WINO_BF16:
        return "winograd-bf16-avx512";
    case TOON_KERNEL_SPAN_BF16:
        return "direct-bf16-avx512";
    }
    return "?";
}

void toon_conv_shape_init(struct toon_conv_shape *s, const struct toon_gen_conv *gc, int lrelu,
                          int w_in, int rows_out)
{
    s->k = gc->k;
    s->stride = gc->stride;
    s->cin = gc->cin;
    s->cout = gc->cout;
    s->lrelu = lrelu;
    s->w_in = w_in;
    s->w_out = (w_in + gc->stride - 1) / gc->stride;
    int pad_total = (s->w_out - 1) * gc->stride + gc->k - w_in;
    if (pad_total < 0) pad_total = 0;
    s->pad_l = pad_total / 2;
    s->rows_out = rows_out;
    s->rows_in = (rows_out - 1) * gc->stride + gc->k;
}

static int forced(const char *name)
{
    const char *k = getenv("TOONIFY_KERNEL");
    return k && strcmp(k, name) == 0;
}

enum toon_kernel toon_conv_choose(const struct toon_gen_conv *gc, int fast)
{
    if (forced("ref")) return TOON_KERNEL_REF;
    unsigned f = toon_cpu_features();
    if (gc->cout == 3) {
        if ((f & TOON_CPU_AVX512) && gc->cin % 16 == 0) return TOON_KERNEL_DIRECT_AVX512;
        if ((f & TOON_CPU_AVX2) && gc->cin % 8 == 0) return TOON_KERNEL_DIRECT_AVX2;
    }
    /* TOONIFY_KERNEL=onednn: oneDNN's direct convolutions for every 3x3 layer (comparisons). */
    if (!forced("onednn")) {
        if (fast && toon_wino_supports(gc, TOON_WINO_AVX512_BF16)) return TOON_KERNEL_WINO_BF16;
        if (toon_wino_supports(gc, TOON_WINO_AVX512)) return TOON_KERNEL_WINO_AVX512;
        if (toon_wino_supports(gc, TOON_WINO_AVX2)) return TOON_KERNEL_WINO_AVX2;
    }
    if (fast && !forced("onednn") && toon_span_supports(gc)) return TOON_KERNEL_SPAN_BF16;
    if (fast && toon_dnnl_available(1)) return TOON_KERNEL_DNNL_BF16;
    if (toon_dnnl_available(0)) return TOON_KERNEL_DNNL_F32;
    return TOON_KERNEL_REF;
}

static int is_wino(enum toon_kernel k)
{
    return k == TOON_KERNEL_WINO_AVX512 || k == TOON_KERNEL_WINO_AVX2 || k == TOON_KERNEL_WINO_BF16;
}

static enum toon_wino_isa wino_isa(enum toon_kernel k)
{
    return k == TOON_KERNEL_WINO_AVX512 ? TOON_WINO_AVX512
           : k == TOON_KERNEL_WINO_AVX2 ? TOON_WINO_AVX2
                                        : TOON_WINO_AVX512_BF16;
}

static int uses_own_weights(enum toon_kernel k)
{
    return k == TOON_KERNEL_REF || k == TOON_KERNEL_DIRECT_AVX512 || k == TOON_KERNEL_DIRECT_AVX2;
}

size_t toon_conv_plan_bytes(const struct toon_gen_conv *gc, int w_in, int rows_out,
                            enum toon_kernel kind)
{
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, gc, 0, w_in, rows_out);
    size_t ov = toon_alloc_overhead();
    size_t n = sizeof(struct toon_conv) + ov;
    if (uses_own_weights(kind))
        return n + (size_t)gc->cout * gc->k * gc->k * gc->cin * sizeof(float) + ov +
               (size_t)gc->cout * sizeof(float) + ov;
    if (is_wino(kind)) return n + toon_wino_plan_bytes(&s, wino_isa(kind));
    if (kind == TOON_KERNEL_SPAN_BF16) return n + toon_span_plan_bytes(&s);
    return n + toon_dnnl_conv_plan_bytes(&s, kind == TOON_KERNEL_DNNL_BF16);
}

enum toon_status toon_conv_new(const struct toon_gen_conv *gc, int lrelu, int w_in, int rows_out,
                               enum toon_kernel kind, struct toon_conv **out, struct toon_err *err)
{
    enum toon_status st = TOON_STATUS_NO_MEMORY;
    struct toon_conv *c = toon_calloc(1, sizeof *c);
    if (!c) goto fail;
    toon_conv_shape_init(&c->s, gc, lrelu, w_in, rows_out);
    c->kind = kind;
    if (uses_own_weights(kind)) {
        size_t nw = (size_t)gc->cout * gc->k * gc->k * gc->cin;
        c->w = toon_malloc(nw * sizeof(float));
        c->b = toon_malloc((size_t)gc->cout * sizeof(float));
        if (!c->w || !c->b) goto fail;
        memcpy(c->w, gc->w, nw * sizeof(float));
        memcpy(c->b, gc->b, (size_t)gc->cout * sizeof(float));
    } else if (is_wino(kind)) {
        st = toon_wino_new(&c->s, gc->w, gc->b, wino_isa(kind), &c->wino, err);
        if (st != TOON_STATUS_OK) goto fail;
    } else if (kind == TOON_KERNEL_SPAN_BF16) {
        st = toon_span_new(&c->s, gc->w, gc->b, toon_span_in_scale(gc), &c->span, err);
        if (st != TOON_STATUS_OK) goto fail;
    } else {
        st = toon_dnnl_conv_new(&c->s, gc->w, gc->b, kind == TOON_KERNEL_DNNL_BF16, &c->dnnl, err);
        if (st != TOON_STATUS_OK) goto fail;
    }
    *out = c;
    return TOON_STATUS_OK;
fail:
    toon_conv_free(c);
    if (st == TOON_STATUS_NO_MEMORY) toon_err_set(err, st, "out of memory preparing a convolution");
    return st;
}

void toon_conv_free(struct toon_conv *c)
{
    if (!c) return;
    toon_free(c->w);
    toon_free(c->b);
    toon_dnnl_conv_free(c->dnnl);
    toon_wino_free(c->wino);
    toon_span_free(c->span);
    toon_free(c);
}

const struct toon_conv_shape *toon_conv_get_shape(const struct toon_conv *c)
{
    return &c->s;
}

enum toon_kernel toon_conv_kernel(const struct toon_conv *c)
{
    return c->kind;
}

/* Output columns [x0, x1) of one output row, reference kernel. */
static void ref_row(const struct toon_conv_shape *s, const float *w, const float *b,
                    const float *const *rows, float *out, int r, int x0, int x1)
{
    float *o = out + (size_t)r * s->w_out * s->cout;
    for (int x = x0; x < x1; x++) {
        for (int oc = 0; oc < s->cout; oc++) {
            float acc = b[oc];
            for (int kh = 0; kh < s->k; kh++) {
                const float *irow = rows[r * s->stride + kh];
                for (int kw = 0; kw < s->k; kw++) {
                    int ix = x * s->stride - s->pad_l + kw;
                    if (ix < 0 || ix >= s->w_in) continue;
                    const float *ip = irow + (size_t)ix * s->cin;
                    const float *wp = w + (((size_t)oc * s->k + kh) * s->k + kw) * s->cin;
                    for (int ic = 0; ic < s->cin; ic++) acc += ip[ic] * wp[ic];
                }
            }
            o[(size_t)x * s->cout + oc] = s->lrelu && acc < 0 ? 0.2f * acc : acc;
        }
    }
}

int toon_conv_scratch_slots(void)
{
    int nt = toon_threads_get();
    return nt < 1 ? 1 : nt;
}

void toon_conv_items(int n, void (*item)(void *ctx, int i, void *scratch), void *ctx, void *scratch,
                     size_t slot_bytes, int n_slots)
{
    int nt = toon_threads_get();
    if (nt > n_slots) nt = n_slots;
    if (nt <= 1 || n <= 1 || omp_in_parallel()) {
        for (int i = 0; i < n; i++) item(ctx, i, scratch);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        void *mine = (unsigned char *)scratch + (size_t)omp_get_thread_num() * slot_bytes;
#pragma omp for schedule(static)
        for (int i = 0; i < n; i++) item(ctx, i, mine);
    }
}

/* Work items are (row, segment of SEG columns): fixed sizes, whatever the thread count. */
enum { SEG = 128 };

struct row_job {
    const struct toon_conv_shape *s;
    const float *w, *b;
    const float *const *rows;
    float *out;
    enum toon_kernel kind;
    int n_seg;
};

static void row_job_run(void *ctx, int i)
{
    struct row_job *j = ctx;
    int r = i / j->n_seg, x0 = (i % j->n_seg) * SEG;
    int x1 = x0 + SEG < j->s->w_out ? x0 + SEG : j->s->w_out;
    switch (j->kind) {
    case TOON_KERNEL_DIRECT_AVX512:
        toon_conv_direct_f32__avx512(j->s, j->w, j->b, j->rows, j->out, r, x0, x1);
        break;
    case TOON_KERNEL_DIRECT_AVX2:
        toon_conv_direct_f32__avx2(j->s, j->w, j->b, j->rows, j->out, r, x0, x1);
        break;
    default:
        ref_row(j->s, j->w, j->b, j->rows, j->out, r, x0, x1);
        break;
    }
}

static void run_rows(const struct toon_conv_shape *s, const float *w, const float *b,
                     const float *const *rows, float *out, enum toon_kernel kind)
{
    struct row_job j = {s, w, b, rows, out, kind, (s->w_out + SEG - 1) / SEG};
    toon_parallel_for(s->rows_out * j.n_seg, row_job_run, &j);
}

void toon_conv_ref(const struct toon_conv_shape *s, const float *w, const float *b, const float *in,
                   float *out)
{
    const float *rows[64];
    TOON_ASSERT(s->rows_in <= 64);
    for (int i = 0; i < s->rows_in; i++) rows[i] = in + (size_t)i * s->w_in * s->cin;
    run_rows(s, w, b, rows, out, TOON_KERNEL_REF);
}

void toon_conv_run(struct toon_conv *c, const float *const *rows, float *out)
{
    if (c->dnnl)
        toon_dnnl_conv_run(c->dnnl, rows, out);
    else if (c->wino)
        toon_wino_run(c->wino, rows, out, c->s.rows_out);
    else if (c->span)
        toon_span_run(c->span, rows, out, c->s.rows_out);
    else
        run_rows(&c->s, c->w, c->b, rows, out, c->kind);
}

int toon_conv_span(const struct toon_gen_conv *gc, int rows_out, enum toon_kernel kind)
{
    if (kind != TOON_KERNEL_DNNL_F32 && kind != TOON_KERNEL_DNNL_BF16) return 1;
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, gc, 0, 16, rows_out);
    return toon_dnnl_span(&s, kind == TOON_KERNEL_DNNL_BF16);
}

const char *toon_conv_impl(const struct toon_conv *c)
{
    if (!c) return "";
    return c->dnnl ? toon_dnnl_conv_impl(c->dnnl) : toon_kernel_name(c->kind);
}
