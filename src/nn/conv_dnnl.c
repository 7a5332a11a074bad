/*
 * oneDNN convolutions (see conv.h).  Measured on this project's machine (bench/KERNELS.md),
 * oneDNN's brgemm convolutions run the generator's 3x3 layers at 90-96% of the fp32 FMA peak
 * and its bf16 ones at about twice that, which our own kernels would have to match.
 *
 * One primitive per layer and band shape, created once (creating costs milliseconds,
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

struct toon_dnnl_conv {
    dnnl_stream_t stream;
    dnnl_primitive_t conv;
    dnnl_primitive_t to_bf16; /* f32 -> bf16 input staging, or NULL */
    dnnl_memory_t src, src_f32, wei, bias, dst, scratch;
    void *wei_buf, *scratch_buf, *stage_buf, *bias_buf;
    char impl[64]; /* oneDNN's implementation name, e.g. "brgconv:avx512_core" */
};

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

int toon_dnnl_available(int bf16)
{
    pthread_once(&g_once, engine_init);
    if (!g_engine) return 0;
    return bf16 ? (toon_cpu_features() & TOON_CPU_AVX512_BF16) != 0 : 1;
}

/* Descriptors of one layer: src/dst NHWC blocks of rows, weights in oneDNN's chosen format. */
struct descs {
    dnnl_memory_desc_t src, src_f32, wei_any, wei_ohwi, bias, dst;
    dnnl_convolution_desc_t conv;
};

static dnnl_status_t make_descs(const struct toon_conv_shape *s, int bf16, struct descs *d)
{
    dnnl_dims_t sd = {1, s->cin, s->rows_in, s->w_in};
    dnnl_dims_t wd = {s->cout, s->cin, s->k, s->k};
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
    return dnnl_convolution_forward_desc_init(&d->conv, dnnl_forward_inference,
                                              dnnl_convolution_direct, &d->src, &d->wei_any,
                                              &d->bias, &d->dst, strides, pl, pr);
}

static dnnl_status_t make_pd(const struct toon_conv_shape *s, struct descs *d,
                             dnnl_primitive_desc_t *pd)
{
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st) return st;
    st = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (!st && s->lrelu) {
        st = dnnl_post_ops_create(&po);
        if (!st) st = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.2f, 0.0f);
        if (!st) st = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (!st) st = dnnl_primitive_desc_create(pd, &d->conv, attr, g_engine, NULL);
    if (po) dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    return st;
}

size_t toon_dnnl_conv_plan_bytes(const struct toon_conv_shape *s, int bf16)
{
    size_t ov = toon_alloc_overhead();
    size_t n = sizeof(struct toon_dnnl_conv) + ov;
    /* Weights: oneDNN's blocked formats pad channels to the vector width; bound it by padding
     * both channel counts to 16 (64 bytes per fp32 vector). */
    size_t cin16 = ((size_t)s->cin + 15) / 16 * 16, cout16 = ((size_t)s->cout + 15) / 16 * 16;
    n += cin16 * cout16 * (size_t)s->k * s->k * (bf16 ? 2 : 4) + ov;
    n += cout16 * 4 + ov;
    n += 64 * 1024 + ov; /* scratchpad: 12 KiB measured for every layer shape; bounded here */
    if (bf16) n += (size_t)s->rows_in * s->w_in * s->cin * 2 + ov;
    /* The weights are reordered from a temporary fp32 copy that dnnl holds during creation. */
    return n;
}

static enum toon_status fail_dnnl(struct toon_err *err, const char *what, dnnl_status_t st)
{
    return toon_err_set(err,
                        st == dnnl_out_of_memory ? TOON_STATUS_NO_MEMORY : TOON_STATUS_INTERNAL,
                        "oneDNN: %s failed (status %d)", what, (int)st);
}

enum toon_status toon_dnnl_conv_new(const struct toon_conv_shape *s, const float *w, const float *b,
                                    int bf16, struct toon_dnnl_conv **out, struct toon_err *err)
{
    if (!toon_dnnl_available(bf16))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "oneDNN %s is not available here",
                            bf16 ? "bf16" : "fp32");
    enum toon_status ret = TOON_STATUS_OK;
    dnnl_status_t st;
    struct descs d;
    dnnl_primitive_desc_t pd = NULL, rpd = NULL;
    dnnl_primitive_t reorder = NULL;
    dnnl_memory_t wsrc = NULL;
    struct toon_dnnl_conv *c = toon_calloc(1, sizeof *c);
    if (!c) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");

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

    DNNL_TRY(make_descs(s, bf16, &d), "convolution descriptor");
    DNNL_TRY(make_pd(s, &d, &pd), "convolution primitive descriptor");
    const char *impl = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(c->impl, sizeof c->impl, "%s", impl ? impl : "?");
    DNNL_TRY(dnnl_primitive_create(&c->conv, pd), "convolution primitive");
    DNNL_TRY(dnnl_stream_create(&c->stream, g_engine, dnnl_stream_default_flags), "stream");

    const dnnl_memory_desc_t *wq = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t wbytes = dnnl_memory_desc_get_size(wq), sbytes = dnnl_memory_desc_get_size(sp);
    ALLOC_TRY(c->wei_buf, wbytes);
    ALLOC_TRY(c->scratch_buf, sbytes ? sbytes : 64);
    ALLOC_TRY(c->bias_buf, (size_t)s->cout * sizeof(float));
    memcpy(c->bias_buf, b, (size_t)s->cout * sizeof(float));
    DNNL_TRY(dnnl_memory_create(&c->wei, wq, g_engine, c->wei_buf), "weights memory");
    DNNL_TRY(dnnl_memory_create(&c->scratch, sp, g_engine, c->scratch_buf), "scratchpad");
    DNNL_TRY(dnnl_memory_create(&c->bias, &d.bias, g_engine, c->bias_buf), "bias memory");
    DNNL_TRY(dnnl_memory_create(&c->dst, &d.dst, g_engine, DNNL_MEMORY_NONE), "dst memory");

    /* Reorder the OHWI fp32 weights into oneDNN's format (and precision), once. */
    DNNL_TRY(dnnl_memory_create(&wsrc, &d.wei_ohwi, g_engine, (void *)w), "weights source");
    DNNL_TRY(dnnl_reorder_primitive_desc_create(&rpd, &d.wei_ohwi, g_engine, wq, g_engine, NULL),
             "weights reorder descriptor");
    DNNL_TRY(dnnl_primitive_create(&reorder, rpd), "weights reorder");
    dnnl_exec_arg_t rargs[2] = {{DNNL_ARG_FROM, wsrc}, {DNNL_ARG_TO, c->wei}};
    DNNL_TRY(dnnl_primitive_execute(reorder, c->stream, 2, rargs), "weights reorder");
    DNNL_TRY(dnnl_stream_wait(c->stream), "stream wait");

    if (bf16) {
        size_t n = (size_t)s->rows_in * s->w_in * s->cin * 2;
        ALLOC_TRY(c->stage_buf, n);
        DNNL_TRY(dnnl_memory_create(&c->src, &d.src, g_engine, c->stage_buf), "bf16 staging");
        DNNL_TRY(dnnl_memory_create(&c->src_f32, &d.src_f32, g_engine, DNNL_MEMORY_NONE),
                 "src memory");
        dnnl_primitive_desc_t spd = NULL;
        DNNL_TRY(
            dnnl_reorder_primitive_desc_create(&spd, &d.src_f32, g_engine, &d.src, g_engine, NULL),
            "bf16 conversion descriptor");
        st = dnnl_primitive_create(&c->to_bf16, spd);
        dnnl_primitive_desc_destroy(spd);
        DNNL_TRY(st, "bf16 conversion");
    } else {
        DNNL_TRY(dnnl_memory_create(&c->src, &d.src, g_engine, DNNL_MEMORY_NONE), "src memory");
    }
#undef DNNL_TRY
#undef ALLOC_TRY
    dnnl_primitive_destroy(reorder);
    dnnl_primitive_desc_destroy(rpd);
    dnnl_memory_destroy(wsrc);
    dnnl_primitive_desc_destroy(pd);
    *out = c;
    return TOON_STATUS_OK;
fail:
    if (reorder) dnnl_primitive_destroy(reorder);
    if (rpd) dnnl_primitive_desc_destroy(rpd);
    if (wsrc) dnnl_memory_destroy(wsrc);
    if (pd) dnnl_primitive_desc_destroy(pd);
    toon_dnnl_conv_free(c);
    return ret;
}

void toon_dnnl_conv_run(struct toon_dnnl_conv *c, const float *in, float *out)
{
    /* Execution of a created primitive on valid buffers cannot fail short of a bug. */
    if (c->to_bf16) {
        dnnl_memory_set_data_handle(c->src_f32, (void *)in);
        dnnl_exec_arg_t a[2] = {{DNNL_ARG_FROM, c->src_f32}, {DNNL_ARG_TO, c->src}};
        dnnl_primitive_execute(c->to_bf16, c->stream, 2, a);
    } else {
        dnnl_memory_set_data_handle(c->src, (void *)in);
    }
    dnnl_memory_set_data_handle(c->dst, out);
    dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, c->src},
                               {DNNL_ARG_WEIGHTS, c->wei},
                               {DNNL_ARG_BIAS, c->bias},
                               {DNNL_ARG_DST, c->dst},
                               {DNNL_ARG_SCRATCHPAD, c->scratch}};
    dnnl_primitive_execute(c->conv, c->stream, 5, args);
    dnnl_stream_wait(c->stream);
}

const char *toon_dnnl_conv_impl(const struct toon_dnnl_conv *d)
{
    return d ? d->impl : "";
}

void toon_dnnl_conv_free(struct toon_dnnl_conv *c)
{
    if (!c) return;
    if (c->conv) dnnl_primitive_destroy(c->conv);
    if (c->to_bf16) dnnl_primitive_destroy(c->to_bf16);
    dnnl_memory_t mems[] = {c->src, c->src_f32, c->wei, c->bias, c->dst, c->scratch};
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++)
        if (mems[i]) dnnl_memory_destroy(mems[i]);
    if (c->stream) dnnl_stream_destroy(c->stream);
    toon_free(c->wei_buf);
    toon_free(c->scratch_buf);
    toon_free(c->stage_buf);
    toon_free(c->bias_buf);
    toon_free(c);
}
