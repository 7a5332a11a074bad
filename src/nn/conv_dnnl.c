/*
 * oneDNN convolutions (see conv.h).  Measured on this project's machine (bench/KERNELS.md),
 * oneDNN's convolutions run the generator's 3x3 layers at 85-95% of the fp32 FMA peak and
 * its bf16 ones at about twice that, which our own kernels would have to match.
 *
 * A 3x3 layer runs as three 1x3 convolutions, one per kernel row, each adding into the
 * output (oneDNN's sum post-op; bias on the first, leaky ReLU on the last).  oneDNN wants its
 * input rows evenly spaced in memory, and the streaming executor keeps rows in rings; a block
 * of one row per kernel row is contiguous wherever it sits in the ring, while a block of three
 * would need the ring's first rows copied past its end.  That saves two rows of every ring
 * (9 MB at 2048 px), and measured no slower: 1.56 s against 1.69 s for the network at 1024 px.
 *
 * One set of primitives per layer and band shape, created once (creating costs milliseconds,
 * executing a created one microseconds).  Everything sizeable that oneDNN needs is allocated
 * here through the counting allocator: reordered weights, the scratchpad (user mode), and for
 * bf16 the staging buffer the fp32 input rows are converted into.
 */
#include <dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/log.h"
#include "nn/conv.h"

enum { MAX_PARTS = 7 };

struct toon_dnnl_conv {
    int n_parts; /* 1 (the whole kernel) or k (one primitive per kernel row) */
    dnnl_stream_t stream;
    dnnl_primitive_t conv[MAX_PARTS];
    dnnl_primitive_t to_bf16; /* f32 -> bf16 input staging, or NULL */
    dnnl_memory_t src, src_f32, wei[MAX_PARTS], bias, dst, scratch;
    void *wei_buf[MAX_PARTS], *scratch_buf, *stage_buf, *bias_buf;
    char impl[64]; /* oneDNN's implementation name, e.g. "brgconv:avx512_core" */
};

static void toon_dnnl_conv_free(struct toon_dnnl_conv *c);

static dnnl_engine_t g_engine;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void engine_init(void)
{
    unsigned f = toon_cpu_features();
    /* Honour TOONIFY_ISA before any code is generated. */
    if (!(f & TOON_CPU_AVX2))
        dnnl_set_max_cpu_isa(dnnl_cpu_isa_sse41);
    else if (!(f & TOON_CPU_AVX512))
        dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx2);
    else if (!(f & TOON_CPU_AVX512_BF16))
        dnnl_set_max_cpu_isa(dnnl_cpu_isa_avx512_core);
    /* Executors keep their primitives for as long as they need them; oneDNN's own cache
     * would keep every one ever created (and its generated code) alive for the process's
     * life, which the memory plan cannot bound. */
    dnnl_set_primitive_cache_capacity(0);
    if (dnnl_engine_create(&g_engine, dnnl_cpu, 0) != dnnl_success) g_engine = NULL;
}

static int available(int bf16, unsigned cpu)
{
    pthread_once(&g_once, engine_init);
    if (!g_engine) return 0;
    return bf16 ? (cpu & TOON_CPU_AVX512_BF16) != 0 : 1;
}

int toon_dnnl_available(int bf16)
{
    return available(bf16, toon_cpu_features());
}

static int toon_dnnl_split(const struct toon_conv_shape *s, int bf16)
{
    /* bf16: oneDNN offers only its brgemm kernels, whose own allocations per primitive would
     * outweigh the two ring rows a split saves. */
    return s->k == 3 && !bf16;
}

static int toon_dnnl_span(const struct toon_conv_shape *s, int bf16)
{
    return toon_dnnl_split(s, bf16) ? (s->rows_out - 1) * s->stride + 1 : s->rows_in;
}

/* Descriptors of one part: src/dst NHWC blocks of rows, weights in oneDNN's chosen format. */
struct descs {
    dnnl_memory_desc_t src, src_f32, wei_any, wei_ohwi, bias, dst;
    dnnl_convolution_desc_t conv;
};

static dnnl_status_t make_descs(const struct toon_conv_shape *s, int bf16, int kh, int with_bias,
                                struct descs *d)
{
    int src_rows = toon_dnnl_span(s, bf16);
    dnnl_dims_t sd = {1, s->cin, src_rows, s->w_in};
    dnnl_dims_t wd = {s->cout, s->cin, kh, s->k};
    dnnl_dims_t bd = {s->cout};
    dnnl_dims_t dd = {1, s->cout, s->rows_out, s->w_out};
    dnnl_dims_t strides = {s->stride, s->stride};
    int pad_r = (s->w_out - 1) * s->stride + s->k - s->w_in - s->pad_l;
    dnnl_dims_t pl = {0, s->pad_l}, pr = {0, pad_r < 0 ? 0 : pad_r};
    dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_status_t st;
    if ((st = dnnl_memory_desc_init_by_tag(&d->src, 4, sd, dt, dnnl_nhwc)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->src_f32, 4, sd, dnnl_f32, dnnl_nhwc)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->wei_any, 4, wd, dt, dnnl_format_tag_any)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->wei_ohwi, 4, wd, dnnl_f32, dnnl_ohwi)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->bias, 1, bd, dnnl_f32, dnnl_x)) ||
        (st = dnnl_memory_desc_init_by_tag(&d->dst, 4, dd, dnnl_f32, dnnl_nhwc)))
        return st;
    return dnnl_convolution_forward_desc_init(
        &d->conv, dnnl_forward_inference, dnnl_convolution_direct, &d->src, &d->wei_any,
        with_bias ? &d->bias : NULL, &d->dst, strides, pl, pr);
}

/* oneDNN lists its implementations best first, and the first is its brgemm convolution.  Its
 * plain JIT convolution ("jit:") runs the generator's layers at the same speed (197-216
 * against 204-217 GFLOP/s, one row of 512-2048 px, 2 threads; the whole network a little
 * faster, split into kernel rows) but allocates 0.15 MB of its own per primitive where the
 * brgemm one takes 0.7-1.4 MB, outside any plan (at 2048 px: 54.9 MB against 74.0 MB for the
 * whole process): take it when it is offered. */
static dnnl_status_t pick_impl(struct descs *d, dnnl_primitive_attr_t attr,
                               dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_desc_iterator_t it;
    dnnl_status_t st = dnnl_primitive_desc_iterator_create(&it, &d->conv, attr, g_engine, NULL);
    if (st) return st;
    dnnl_primitive_desc_t first = NULL;
    const char *want = "jit:";
    for (int i = 0; i < 16; i++) {
        dnnl_primitive_desc_t q = dnnl_primitive_desc_iterator_fetch(it);
        if (!q) break;
        const char *name = NULL;
        dnnl_primitive_desc_query(q, dnnl_query_impl_info_str, 0, &name);
        if (name && strncmp(name, want, strlen(want)) == 0) {
            if (first) dnnl_primitive_desc_destroy(first);
            *pd = q;
            dnnl_primitive_desc_iterator_destroy(it);
            return dnnl_success;
        }
        if (!first)
            first = q;
        else
            dnnl_primitive_desc_destroy(q);
        if (dnnl_primitive_desc_iterator_next(it) != dnnl_success) break;
    }
    dnnl_primitive_desc_iterator_destroy(it);
    if (!first) return dnnl_unimplemented;
    *pd = first;
    return dnnl_success;
}

static dnnl_status_t make_pd(struct descs *d, int sum, int lrelu, dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st) return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!st && (sum || lrelu)) {
        st = dnnl_post_ops_create(&po);
        if (!st && sum) st = dnnl_post_ops_append_sum(po, 1.0f);
        if (!st && lrelu)
            st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.2f, 0.0f);
        if (!st) st = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (!st) st = pick_impl(d, attr, pd);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

static size_t toon_dnnl_conv_plan_bytes(const struct toon_conv_shape *s, int bf16)
{
    size_t ov = toon_alloc_overhead();
    size_t n = sizeof(struct toon_dnnl_conv) + ov;
    int parts = toon_dnnl_split(s, bf16) ? s->k : 1, kh = toon_dnnl_split(s, bf16) ? 1 : s->k;
    /* Weights: oneDNN's blocked formats pad channels to the vector width; bound it by padding
     * both channel counts to 16 (64 bytes per fp32 vector). */
    size_t cin16 = ((size_t)s->cin + 15) / 16 * 16, cout16 = ((size_t)s->cout + 15) / 16 * 16;
    n += (size_t)parts * (cin16 * cout16 * (size_t)kh * s->k * (bf16 ? 2 : 4) + ov);
    n += (size_t)s->cout * 4 + ov;
    n += 64 * 1024 + ov; /* scratchpad: 12 KiB measured for every layer shape; bounded here */
    /* Without AVX2 oneDNN may fall back to a GEMM convolution whose scratchpad holds the
     * unfolded input (im2col) of a whole call. */
    if (!(toon_cpu_features() & TOON_CPU_AVX2))
        n += (size_t)s->rows_out * s->w_out * s->cin * s->k * s->k * sizeof(float);
    if (bf16) n += (size_t)toon_dnnl_span(s, bf16) * s->w_in * s->cin * 2 + ov;
    /* The weights of one part, sliced out of the OHWI tensor while creating it. */
    n += (size_t)s->cout * kh * s->k * s->cin * sizeof(float) + ov;
    return n;
}

static enum toon_status fail_dnnl(struct toon_err *err, const char *what, dnnl_status_t st)
{
    return toon_err_set(err,
                        st == dnnl_out_of_memory ? TOON_STATUS_NO_MEMORY : TOON_STATUS_INTERNAL,
                        "oneDNN: %s failed (status %d)", what, (int)st);
}

#define DNNL_TRY(call, what)                                                                       \
    do {                                                                                           \
        if ((st = (call)) != dnnl_success) {                                                       \
            ret = fail_dnnl(err, what, st);                                                        \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)
#define ALLOC_TRY(ptr, n)                                                                          \
    do {                                                                                           \
        if (!((ptr) = toon_malloc(n))) {                                                           \
            ret = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for oneDNN buffers");    \
            goto fail;                                                                             \
        }                                                                                          \
    } while (0)

/* Creates part `part` of c: its primitive and its weights, reordered from OHWI fp32. */
static enum toon_status make_part(struct toon_dnnl_conv *c, const struct toon_conv_shape *s,
                                  const float *w, int bf16, int part, size_t *scratch_bytes,
                                  struct toon_err *err)
{
    enum toon_status ret = TOON_STATUS_OK;
    dnnl_status_t st;
    int split = c->n_parts > 1, kh = split ? 1 : s->k;
    struct descs d;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t wsrc = NULL;
    float *slice = NULL;
    int first = part == 0, last = part == c->n_parts - 1;

    DNNL_TRY(make_descs(s, bf16, kh, first, &d), "convolution descriptor");
    DNNL_TRY(make_pd(&d, !first, last && s->lrelu, &pd), "convolution primitive descriptor");
    if (first) {
        const char *impl = NULL;
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
        snprintf(c->impl, sizeof c->impl, "%s%s", impl ? impl : "?", split ? " x3 rows" : "");
    }
    DNNL_TRY(dnnl_primitive_create(&c->conv[part], pd), "convolution primitive");
    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t sb = dnnl_memory_desc_get_size(sp);
    if (sb > *scratch_bytes) *scratch_bytes = sb;
    ALLOC_TRY(c->wei_buf[part], dnnl_memory_desc_get_size(wq));
    DNNL_TRY(dnnl_memory_create(&c->wei[part], wq, g_engine, c->wei_buf[part]), "weights memory");

    /* The kernel rows this part computes, as an OHWI tensor of its own. */
    size_t row = (size_t)s->k * s->cin, n = (size_t)s->cout * kh * row;
    ALLOC_TRY(slice, n * sizeof(float));
    for (int oc = 0; oc < s->cout; oc++)
        memcpy(slice + (size_t)oc * kh * row, w + ((size_t)oc * s->k + (split ? part : 0)) * row,
               (size_t)kh * row * sizeof(float));
    DNNL_TRY(dnnl_memory_create(&wsrc, &d.wei_ohwi, g_engine, slice), "weights source");
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&rpd, &d.wei_ohwi, g_engine, wq, g_engine, NULL),
             "weights reorder descriptor");
    DNNL_TRY(dnnl_primitive_create(&reorder, rpd), "weights reorder");
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wsrc}, {DNNL_ARG_TO, c->wei[part]}};
    DNNL_TRY(dnnl_primitive_execute(reorder, c->stream, 2, rargs), "weights reorder");
    DNNL_TRY(dnnl_stream_wait(c->stream), "stream wait");

    if (first) { /* memories shared by every part */
        DNNL_TRY(dnnl_memory_create(&c->bias, &d.bias, g_engine, c->bias_buf), "bias memory");
        DNNL_TRY(dnnl_memory_create(&c->dst, &d.dst, g_engine, DNNL_MEMORY_NONE), "dst memory");
        if (bf16) {
            ALLOC_TRY(c->stage_buf, (size_t)toon_dnnl_span(s, bf16) * s->w_in * s->cin * 2);
            DNNL_TRY(dnnl_memory_create(&c->src, &d.src, g_engine, c->stage_buf), "bf16 staging");
            DNNL_TRY(dnnl_memory_create(&c->src_f32, &d.src_f32, g_engine, DNNL_MEMORY_NONE),
                     "src memory");
            dnnl_primitive_desc_t spd = NULL;
            DNNL_TRY(dnnl_reorder_primitive_desc_create(&spd, &d.src_f32, g_engine, &d.src,
                                                        g_engine, NULL),
                     "bf16 conversion descriptor");
            st = dnnl_primitive_create(&c->to_bf16, spd);
            dnnl_primitive_desc_destroy(spd);
            DNNL_TRY(st, "bf16 conversion");
        } else {
            DNNL_TRY(dnnl_memory_create(&c->src, &d.src, g_engine, DNNL_MEMORY_NONE), "src memory");
        }
    }
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (wsrc) dnnl_memory_destroy(wsrc);
    if (pd) dnnl_primitive_desc_destroy(pd);
    toon_free(slice);
    return ret;
}

static enum toon_status toon_dnnl_conv_new(const struct toon_conv_shape *s, const float *w,
                                           const float *b, int bf16, struct toon_dnnl_conv **out,
                                           struct toon_err *err)
{
    if (!toon_dnnl_available(bf16))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "oneDNN %s is not available here",
                            bf16 ? "bf16" : "fp32");
    enum toon_status ret = TOON_STATUS_OK;
    dnnl_status_t st;
    struct toon_dnnl_conv *c = toon_calloc(1, sizeof *c);
    if (!c) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    c->n_parts = toon_dnnl_split(s, bf16) ? s->k : 1;
    DNNL_TRY(dnnl_stream_create(&c->stream, g_engine, dnnl_stream_default_flags), "stream");
    ALLOC_TRY(c->bias_buf, (size_t)s->cout * sizeof(float));
    memcpy(c->bias_buf, b, (size_t)s->cout * sizeof(float));
    size_t scratch_bytes = 64;
    for (int part = 0; part < c->n_parts; part++)
        if ((ret = make_part(c, s, w, bf16, part, &scratch_bytes, err)) != TOON_STATUS_OK)
            goto fail;
    ALLOC_TRY(c->scratch_buf, scratch_bytes);
    dnnl_memory_desc_t spd;
    dnnl_dims_t sdims = {(dnnl_dim_t)scratch_bytes};
    DNNL_TRY(dnnl_memory_desc_init_by_tag(&spd, 1, sdims, dnnl_u8, dnnl_x), "scratchpad desc");
    DNNL_TRY(dnnl_memory_create(&c->scratch, &spd, g_engine, c->scratch_buf), "scratchpad");
    *out = c;
    return TOON_STATUS_OK;
fail:
    toon_dnnl_conv_free(c);
    return ret;
}
#undef DNNL_TRY
#undef ALLOC_TRY

static void toon_dnnl_conv_run(struct toon_dnnl_conv *c, const float *const *rows, float *out)
{
    /* Execution of a created primitive on valid buffers cannot fail short of a bug. */
    dnnl_memory_set_data_handle(c->dst, out);
    for (int part = 0; part < c->n_parts; part++) {
        const float *in = rows[part]; /* part p starts at kernel row p (one part: row 0) */
        if (c->to_bf16) {
            dnnl_memory_set_data_handle(c->src_f32, (void *)in);
            dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, c->src_f32}, {DNNL_ARG_TO, c->src}};
            dnnl_primitive_execute(c->to_bf16, c->stream, 2, a);
        } else {
            dnnl_memory_set_data_handle(c->src, (void *)in);
        }
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, c->src},
                                   {DNNL_ARG_WEIGHTS, c->wei[part]},
                                   {DNNL_ARG_DST, c->dst},
                                   {DNNL_ARG_SCRATCHPAD, c->scratch},
                                   {DNNL_ARG_BIAS, c->bias}};
        dnnl_primitive_execute(c->conv[part], c->stream, part == 0 ? 5 : 4, args);
    }
    dnnl_stream_wait(c->stream);
}

static const char *toon_dnnl_conv_impl(const struct toon_dnnl_conv *d)
{
    return d ? d->impl : "";
}

static void toon_dnnl_conv_free(struct toon_dnnl_conv *c)
{
    if (!c) return;
    for (int p = 0; p < MAX_PARTS; p++) {
        if (c->conv[p]) dnnl_primitive_destroy(c->conv[p]);
        if (c->wei[p]) dnnl_memory_destroy(c->wei[p]);
        toon_free(c->wei_buf[p]);
    }
    if (c->to_bf16) dnnl_primitive_destroy(c->to_bf16);
    dnnl_memory_t mems[] = {c->src, c->src_f32, c->bias, c->dst, c->scratch};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (c->stream) dnnl_stream_destroy(c->stream);
    toon_free(c->scratch_buf);
    toon_free(c->stage_buf);
    toon_free(c->bias_buf);
    toon_free(c);
}

size_t toon_dnnl_native_bytes(int w, int any_f32, int any_bf16)
{
    /* The bounds of what was measured (resident memory minus the counted heap); see
     * toon_genx_plan_native_bytes in generator.h for the figures. */
    size_t wp = (size_t)((w + 3) / 4 * 4);
    if (any_bf16) return ((size_t)4 << 20) + wp * 6 * 1024;
    if (any_f32) return ((size_t)9 << 19) + wp * 512;
    return 0;
}

/* The registry's view (conv.h): fp32 and bf16 as two descriptors over the same glue. */

static int supports_f32(const struct toon_gen_conv *gc, unsigned cpu)
{
    (void)gc;
    return available(0, cpu);
}

static int supports_bf16(const struct toon_gen_conv *gc, unsigned cpu)
{
    (void)gc;
    return available(1, cpu);
}

static size_t plan_f32(const struct toon_conv_shape *s)
{
    return toon_dnnl_conv_plan_bytes(s, 0);
}

static size_t plan_bf16(const struct toon_conv_shape *s)
{
    return toon_dnnl_conv_plan_bytes(s, 1);
}

static enum toon_status new_f32(const struct toon_conv_shape *s, const struct toon_gen_conv *gc,
                                void **state, struct toon_err *err)
{
    return toon_dnnl_conv_new(s, gc->w, gc->b, 0, (struct toon_dnnl_conv **)state, err);
}

static enum toon_status new_bf16(const struct toon_conv_shape *s, const struct toon_gen_conv *gc,
                                 void **state, struct toon_err *err)
{
    return toon_dnnl_conv_new(s, gc->w, gc->b, 1, (struct toon_dnnl_conv **)state, err);
}

static void run(void *state, const struct toon_conv_shape *s, const float *const *rows, float *out)
{
    (void)s;
    toon_dnnl_conv_run(state, rows, out);
}

static void free_state(void *state)
{
    toon_dnnl_conv_free(state);
}

static int span_f32(const struct toon_conv_shape *s)
{
    return toon_dnnl_span(s, 0);
}

static int span_bf16(const struct toon_conv_shape *s)
{
    return toon_dnnl_span(s, 1);
}

static const char *impl(const void *state)
{
    return toon_dnnl_conv_impl(state);
}

const struct toon_conv_kernel toon_conv_kernel_dnnl_f32 = {TOON_KERNEL_DNNL_F32,
                                                           "onednn-f32",
                                                           TOON_KERNEL_CLASS_ONEDNN,
                                                           0,
                                                           supports_f32,
                                                           plan_f32,
                                                           new_f32,
                                                           run,
                                                           free_state,
                                                           span_f32,
                                                           impl};
const struct toon_conv_kernel toon_conv_kernel_dnnl_bf16 = {TOON_KERNEL_DNNL_BF16,
                                                            "onednn-bf16",
                                                            TOON_KERNEL_CLASS_ONEDNN,
                                                            1,
                                                            supports_bf16,
                                                            plan_bf16,
                                                            new_bf16,
                                                            run,
                                                            free_state,
                                                            span_bf16,
                                                            impl};
