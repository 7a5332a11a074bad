/*
 * A prepared convolution (see conv.h): its shape, its kernel's descriptor and the kernel's
 * state; and the kernels that work on a plain copy of the weights, row segment by row segment:
 * the portable reference and our direct kernels for layers with few output channels.  Which
 * kernel a layer takes is the registry's decision (conv_registry.c).
 */
#include "nn/conv.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/assert.h"
#include "core/cpu.h"
#include "core/parallel.h"

struct toon_conv {
    struct toon_conv_shape s;
    const struct toon_conv_kernel *k;
    void *state; /* the kernel's */
};

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

size_t toon_conv_plan_bytes(const struct toon_gen_conv *gc, int w_in, int rows_out,
                            enum toon_kernel kind)
{
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, gc, 0, w_in, rows_out);
    return sizeof(struct toon_conv) + toon_alloc_overhead() +
           toon_conv_kernel_get(kind)->plan_bytes(&s);
}

enum toon_status toon_conv_new(const struct toon_gen_conv *gc, int lrelu, int w_in, int rows_out,
                               enum toon_kernel kind, struct toon_conv **out, struct toon_err *err)
{
    struct toon_conv *c = toon_calloc(1, sizeof *c);
    if (!c)
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory preparing a convolution");
    toon_conv_shape_init(&c->s, gc, lrelu, w_in, rows_out);
    c->k = toon_conv_kernel_get(kind);
    enum toon_status st = c->k->new (&c->s, gc, &c->state, err);
    if (st != TOON_STATUS_OK) {
        toon_free(c);
        return st;
    }
    *out = c;
    return TOON_STATUS_OK;
}

void toon_conv_free(struct toon_conv *c)
{
    if (!c) return;
    c->k->free(c->state);
    toon_free(c);
}

const struct toon_conv_shape *toon_conv_get_shape(const struct toon_conv *c)
{
    return &c->s;
}

enum toon_kernel toon_conv_kernel(const struct toon_conv *c)
{
    return c->k->id;
}

void toon_conv_run(struct toon_conv *c, const float *const *rows, float *out)
{
    c->k->run(c->state, &c->s, rows, out);
}

int toon_conv_span(const struct toon_gen_conv *gc, int rows_out, enum toon_kernel kind)
{
    const struct toon_conv_kernel *k = toon_conv_kernel_get(kind);
    if (!k->span) return 1;
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, gc, 0, 16, rows_out);
    return k->span(&s);
}

const char *toon_conv_impl(const struct toon_conv *c)
{
    if (!c) return "";
    return c->k->impl ? c->k->impl(c->state) : c->k->name;
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
    struct toon_alloc_scope *scope = toon_alloc_scope_current(); /* see core/parallel.c */
#pragma omp parallel num_threads(nt)
    {
        struct toon_alloc_scope *prev = toon_alloc_scope_enter(scope);
        void *mine = (unsigned char *)scratch + (size_t)omp_get_thread_num() * slot_bytes;
#pragma omp for schedule(static)
        for (int i = 0; i < n; i++) item(ctx, i, mine);
        toon_alloc_scope_enter(prev);
    }
}

/* The kernels that work row segment by row segment on their own copy of the weights: the
 * reference and our direct kernels for few output channels. */
typedef void (*row_fn)(const struct toon_conv_shape *s, const float *w, const float *b,
                       const float *const *rows, float *out, int row, int x0, int x1);

/* Work items are (row, segment of SEG columns): fixed sizes, whatever the thread count. */
enum { SEG = 128 };

struct row_job {
    const struct toon_conv_shape *s;
    const float *w, *b;
    const float *const *rows;
    float *out;
    row_fn fn;
    int n_seg;
};

static void row_job_run(void *ctx, int i)
{
    struct row_job *j = ctx;
    int r = i / j->n_seg, x0 = (i % j->n_seg) * SEG;
    int x1 = x0 + SEG < j->s->w_out ? x0 + SEG : j->s->w_out;
    j->fn(j->s, j->w, j->b, j->rows, j->out, r, x0, x1);
}

static void run_rows(const struct toon_conv_shape *s, const float *w, const float *b,
                     const float *const *rows, float *out, row_fn fn)
{
    struct row_job j = {s, w, b, rows, out, fn, (s->w_out + SEG - 1) / SEG};
    toon_parallel_for(s->rows_out * j.n_seg, row_job_run, &j);
}

void toon_conv_ref(const struct toon_conv_shape *s, const float *w, const float *b, const float *in,
                   float *out)
{
    const float *rows[64];
    TOON_ASSERT(s->rows_in <= 64);
    for (int i = 0; i < s->rows_in; i++) rows[i] = in + (size_t)i * s->w_in * s->cin;
    run_rows(s, w, b, rows, out, ref_row);
}

struct own_weights {
    float *w; /* [cout][k][k][cin] */
    float *b; /* [cout] */
};

static size_t own_plan_bytes(const struct toon_conv_shape *s)
{
    size_t ov = toon_alloc_overhead();
    return sizeof(struct own_weights) + ov +
           (size_t)s->cout * s->k * s->k * s->cin * sizeof(float) + ov +
           (size_t)s->cout * sizeof(float) + ov;
}

static void own_free(void *state)
{
    struct own_weights *o = state;
    if (!o) return;
    toon_free(o->w);
    toon_free(o->b);
    toon_free(o);
}

static enum toon_status own_new(const struct toon_conv_shape *s, const struct toon_gen_conv *gc,
                                void **state, struct toon_err *err)
{
    size_t nw = (size_t)s->cout * s->k * s->k * s->cin;
    struct own_weights *o = toon_calloc(1, sizeof *o);
    if (o) {
        o->w = toon_malloc(nw * sizeof(float));
        o->b = toon_malloc((size_t)s->cout * sizeof(float));
    }
    if (!o || !o->w || !o->b) {
        own_free(o);
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory preparing a convolution");
    }
    memcpy(o->w, gc->w, nw * sizeof(float));
    memcpy(o->b, gc->b, (size_t)s->cout * sizeof(float));
    *state = o;
    return TOON_STATUS_OK;
}

static int ref_supports(const struct toon_gen_conv *gc, unsigned cpu)
{
    (void)gc, (void)cpu;
    return 1;
}

static void ref_run(void *state, const struct toon_conv_shape *s, const float *const *rows,
                    float *out)
{
    const struct own_weights *o = state;
    run_rows(s, o->w, o->b, rows, out, ref_row);
}

/* Our direct kernels take layers with 3 outputs, cin a multiple of the vector width. */
static int direct_avx512_supports(const struct toon_gen_conv *gc, unsigned cpu)
{
    return (cpu & TOON_CPU_AVX512) && gc->cout == 3 && gc->cin % 16 == 0;
}

static int direct_avx2_supports(const struct toon_gen_conv *gc, unsigned cpu)
{
    return (cpu & TOON_CPU_AVX2) && gc->cout == 3 && gc->cin % 8 == 0;
}

static void direct_avx512_run(void *state, const struct toon_conv_shape *s,
                              const float *const *rows, float *out)
{
    const struct own_weights *o = state;
    run_rows(s, o->w, o->b, rows, out, toon_conv_direct_f32__avx512);
}

static void direct_avx2_run(void *state, const struct toon_conv_shape *s, const float *const *rows,
                            float *out)
{
    const struct own_weights *o = state;
    run_rows(s, o->w, o->b, rows, out, toon_conv_direct_f32__avx2);
}

const struct toon_conv_kernel toon_conv_kernel_ref = {TOON_KERNEL_REF,
                                                      "ref-c",
                                                      TOON_KERNEL_CLASS_REF,
                                                      0,
                                                      ref_supports,
                                                      own_plan_bytes,
                                                      own_new,
                                                      ref_run,
                                                      own_free,
                                                      NULL,
                                                      NULL};
const struct toon_conv_kernel toon_conv_kernel_direct_f32__avx512 = {TOON_KERNEL_DIRECT_AVX512,
                                                                     "direct-f32-avx512",
                                                                     TOON_KERNEL_CLASS_NARROW,
                                                                     0,
                                                                     direct_avx512_supports,
                                                                     own_plan_bytes,
                                                                     own_new,
                                                                     direct_avx512_run,
                                                                     own_free,
                                                                     NULL,
                                                                     NULL};
const struct toon_conv_kernel toon_conv_kernel_direct_f32__avx2 = {TOON_KERNEL_DIRECT_AVX2,
                                                                   "direct-f32-avx2",
                                                                   TOON_KERNEL_CLASS_NARROW,
                                                                   0,
                                                                   direct_avx2_supports,
                                                                   own_plan_bytes,
                                                                   own_new,
                                                                   direct_avx2_run,
                                                                   own_free,
                                                                   NULL,
                                                                   NULL};
