/*
 * The generator against reference outputs computed elsewhere (../shared/golden: ONNX Runtime
 * and a float64 interpreter of the TFLite op list), and the invariances the design promises:
 * streamed == whole-image bit for bit, for every band height and thread count; the memory plan
 * covers what a run allocates.
 */
#include <stdint.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "nn/generator.h"
#include "nn/model.h"
#include "test.h"

static struct toon_model *g_model;

static struct toon_model *model(void)
{
    if (!g_model) {
        struct toon_err err;
        enum toon_status st =
            toon_model_load(test_model_path("whitebox_cartoon_gan_fp16.tflite"), &g_model, &err);
        if (st != TOON_STATUS_OK) TEST_FAIL_("cannot load the shared model: %s", err.msg);
    }
    return g_model;
}

static float *read_f32(const char *name, size_t n_expected)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/%s", test_shared_dir(), name);
    size_t len;
    unsigned char *b = test_read_file(path, &len);
    if (len != n_expected * sizeof(float))
        TEST_FAIL_("%s: %zu bytes, expected %zu", path, len, n_expected * 4);
    return (float *)b;
}

static float *golden_input(int h, int w)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/golden/astronaut_%dx%d_in_u8_bgr.bin", test_shared_dir(), h, w);
    size_t len;
    unsigned char *u8 = test_read_file(path, &len);
    CHECK_EQ(len, (size_t)h * w * 3);
    float *f = malloc(len * sizeof(float));
    for (size_t i = 0; i < len; i++) f[i] = u8[i] / 127.5f - 1.0f;
    free(u8);
    return f;
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m) m = d;
    }
    return m;
}

struct io {
    const float *in;
    float *out;
    int w, next_in, next_out;
};

static enum toon_status src(void *ctx, int y0, int n, float *rows, struct toon_err *err)
{
    struct io *io = ctx;
    if (y0 != io->next_in)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "row %d asked out of order", y0);
    io->next_in = y0 + n;
    memcpy(rows, io->in + (size_t)y0 * io->w * 3, (size_t)n * io->w * 3 * sizeof(float));
    return TOON_STATUS_OK;
}

static enum toon_status sink(void *ctx, int y0, int n, const float *rows, struct toon_err *err)
{
    struct io *io = ctx;
    if (y0 != io->next_out)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "row %d given out of order", y0);
    io->next_out = y0 + n;
    memcpy(io->out + (size_t)y0 * io->w * 3, rows, (size_t)n * io->w * 3 * sizeof(float));
    return TOON_STATUS_OK;
}

static enum toon_status test_run_genx(struct toon_genx *g, const float *in, float *out, int h,
                                      int w)
{
    struct io io = {in, out, w, 0, 0};
    struct toon_err err;
    enum toon_status st = toon_genx_run(g, src, &io, sink, &io, &err);
    if (st != TOON_STATUS_OK) fprintf(stderr, "  run failed: %s\n", err.msg);
    if (st == TOON_STATUS_OK && (io.next_in != h || io.next_out != h)) {
        fprintf(stderr, "  rows read %d, written %d, expected %d\n", io.next_in, io.next_out, h);
        return TOON_STATUS_INTERNAL;
    }
    return st;
}

static float *run(const struct toon_genx_params *p, const float *in, int h, int w)
{
    struct toon_genx *g = NULL;
    struct toon_err err;
    float *out = malloc((size_t)h * w * 3 * sizeof(float));
    CHECK_OK(toon_genx_new(toon_model_weights(model()), h, w, p, &g, &err));
    CHECK_OK(test_run_genx(g, in, out, h, w));
    toon_genx_free(g);
    return out;
}

static void golden_case(int h, int w, int force_ref, double tol)
{
    float *in = golden_input(h, w);
    char name[128];
    snprintf(name, sizeof name, "astronaut_%dx%d_out_f32.bin", h, w);
    float *want = read_f32(name, (size_t)h * w * 3);
    struct toon_genx_params p = {16, 0, 0, force_ref, 0};
    float *got = run(&p, in, h, w);
    double d = max_abs_diff(got, want, (size_t)h * w * 3);
    fprintf(stderr, "  %dx%d %s: max |diff| = %.3g\n", h, w, force_ref ? "ref" : "optimised", d);
    CHECK_INT(d <= tol, ==, 1);
    free(in);
    free(want);
    free(got);
}

static void test_golden_256_optimised(void)
{
    golden_case(256, 256, 0, 1e-4);
}

static void test_golden_200x300_optimised(void)
{
    golden_case(200, 300, 0, 1e-4);
}

static void test_golden_512x384_optimised(void)
{
    golden_case(512, 384, 0, 1e-4);
}

static void test_golden_200x300_reference_kernels(void)
{
    golden_case(200, 300, 1, 1e-4);
}

static void test_golden_synth224(void)
{
    float *in = read_f32("synth224_in_f32_nhwc.bin", 224 * 224 * 3);
    float *want = read_f32("synth224_final_out_f32_nhwc.bin", 224 * 224 * 3);
    struct toon_genx_params p = {16, 0, 0, 0, 0};
    float *got = run(&p, in, 224, 224);
    double d = max_abs_diff(got, want, 224 * 224 * 3);
    fprintf(stderr, "  synth224: max |diff| = %.3g\n", d);
    CHECK_INT(d <= 1e-4, ==, 1);
    free(in);
    free(want);
    free(got);
}

/* Streamed and whole-image runs, several band heights and thread counts: identical bits. */
static void identity_case(int h, int w, int fast)
{
    float *in = malloc((size_t)h * w * 3 * sizeof(float));
    uint32_t s = 12345;
    for (size_t i = 0; i < (size_t)h * w * 3; i++) {
        s = s * 1664525u + 1013904223u;
        in[i] = (float)(s >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    toon_threads_set(2);
    struct toon_genx_params whole = {16, fast, 1, 0, 0};
    float *ref = run(&whole, in, h, w);
    const int bands[] = {1, 3, 4, 16, 50};
    for (int t = 1; t <= 2; t++) {
        toon_threads_set(t);
        for (size_t b = 0; b < sizeof bands / sizeof bands[0]; b++) {
            struct toon_genx_params p = {bands[b], fast, 0, 0, 0};
            float *got = run(&p, in, h, w);
            int same = memcmp(got, ref, (size_t)h * w * 3 * sizeof(float)) == 0;
            if (!same)
                fprintf(stderr, "  %dx%d band %d threads %d: max |diff| %.3g\n", h, w, bands[b], t,
                        max_abs_diff(got, ref, (size_t)h * w * 3));
            free(got);
            CHECK(same);
        }
    }
    /* One row per call (executors run by one thread): the same bits again. */
    struct toon_genx_params one = {16, fast, 0, 0, 1};
    float *got = run(&one, in, h, w);
    int same = memcmp(got, ref, (size_t)h * w * 3 * sizeof(float)) == 0;
    if (!same)
        fprintf(stderr, "  %dx%d one row per call: max |diff| %.3g\n", h, w,
                max_abs_diff(got, ref, (size_t)h * w * 3));
    free(got);
    CHECK(same);
    toon_threads_set(0);
    free(in);
    free(ref);
}

static void test_stream_equals_whole(void)
{
    identity_case(96, 64, 0);
    identity_case(37, 53, 0); /* not multiples of 4: padding and cropping */
    identity_case(130, 20, 0);
}

static void test_stream_equals_whole_fast(void)
{
    identity_case(72, 80, 1);
}

/* The fast path: bf16 products where the CPU has AVX512-BF16, except in the encoder's two 3x3
 * stride-1 layers and the last layer (generator.c and bench/PRECISION.md say why). */
static void test_fast_layers(void)
{
    struct toon_genx_params p = {16, 1, 0, 0, 0};
    struct toon_genx *g = NULL;
    struct toon_err err;
    CHECK_OK(toon_genx_new(toon_model_weights(model()), 64, 64, &p, &g, &err));
    int bf16_cpu = (toon_cpu_features() & TOON_CPU_AVX512_BF16) != 0;
    for (int l = 0; l < TOON_GEN_N_CONV; l++) {
        enum toon_kernel k = toon_genx_kernel(g, l);
        const struct toon_gen_layer_desc *d = &toon_gen_layout[l];
        int bf16 =
            k == TOON_KERNEL_WINO_BF16 || k == TOON_KERNEL_DNNL_BF16 || k == TOON_KERNEL_SPAN_BF16;
        if (l < 5 && d->k == 3 && d->stride == 1) /* Conv_2, Conv_4: fp32 (generator.c) */
            CHECK(!bf16);
        else if (d->cout != 3) /* the last layer keeps its fp32 direct kernel */
            CHECK_INT(bf16, ==, bf16_cpu);
    }
    toon_genx_free(g);
}

static float *random_image(int h, int w, uint32_t seed)
{
    float *in = malloc((size_t)h * w * 3 * sizeof(float));
    for (size_t i = 0; i < (size_t)h * w * 3; i++) {
        seed = seed * 1664525u + 1013904223u;
        in[i] = (float)(seed >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    }
    return in;
}

/* One executor run over several images gives each the bits a fresh executor gives it. */
static void test_reused_executor(void)
{
    const int h = 45, w = 72, n = 3;
    struct toon_genx_params p = {16, 0, 0, 0, 0};
    struct toon_genx *g = NULL;
    struct toon_err err;
    CHECK_OK(toon_genx_new(toon_model_weights(model()), h, w, &p, &g, &err));
    float *out = malloc((size_t)h * w * 3 * sizeof(float));
    for (int i = 0; i < n; i++) {
        float *in = random_image(h, w, 777u + (uint32_t)i);
        float *want = run(&p, in, h, w);
        CHECK_OK(test_run_genx(g, in, out, h, w));
        CHECK(memcmp(out, want, (size_t)h * w * 3 * sizeof(float)) == 0);
        free(in);
        free(want);
    }
    free(out);
    toon_genx_free(g);
}

/* Executors run by the workers of a parallel loop (the pipeline's heads, one per thread; every
 * kernel then runs on one thread, one row per call) give the bits of one run on all threads. */
struct worker_case {
    const float *in;
    float *out[2];
    int h, w;
    enum toon_status st[2];
};

static void worker_run(void *ctx, int i)
{
    struct worker_case *c = ctx;
    struct toon_genx_params p = {16, 0, 0, 0, 1}; /* one_thread, as the pipeline's heads */
    struct toon_genx *g = NULL;
    struct toon_err err;
    c->st[i] = toon_genx_new(toon_model_weights(model()), c->h, c->w, &p, &g, &err);
    if (c->st[i] == TOON_STATUS_OK) c->st[i] = test_run_genx(g, c->in, c->out[i], c->h, c->w);
    toon_genx_free(g);
}

static void test_executors_in_workers(void)
{
    struct worker_case c = {NULL, {NULL, NULL}, 64, 96, {TOON_STATUS_OK, TOON_STATUS_OK}};
    float *in = random_image(c.h, c.w, 4242u);
    size_t bytes = (size_t)c.h * c.w * 3 * sizeof(float);
    c.in = in;
    c.out[0] = malloc(bytes);
    c.out[1] = malloc(bytes);
    toon_threads_set(2);
    struct toon_genx_params p = {16, 0, 0, 0, 0};
    float *want = run(&p, in, c.h, c.w);
    toon_parallel_for(2, worker_run, &c);
    toon_threads_set(0);
    for (int i = 0; i < 2; i++) {
        CHECK_OK(c.st[i]);
        CHECK(memcmp(c.out[i], want, bytes) == 0);
        free(c.out[i]);
    }
    free(in);
    free(want);
}

/* The plan is an upper bound of everything a run allocates, and not a loose one. */
static void test_plan_covers_run(void)
{
    const int sizes[][2] = {{64, 64}, {100, 300}, {256, 96}};
    for (size_t i = 0; i < 3; i++) {
        int h = sizes[i][0], w = sizes[i][1];
        float *in = calloc((size_t)h * w * 3, sizeof(float));
        float *out = malloc((size_t)h * w * 3 * sizeof(float));
        struct toon_genx_params p = {16, 0, 0, 0, 0};
        size_t plan = toon_genx_plan_bytes(toon_model_weights(model()), h, w, &p);
        size_t base = toon_alloc_current();
        toon_alloc_reset_peak();
        struct toon_genx *g = NULL;
        struct toon_err err;
        CHECK_OK(toon_genx_new(toon_model_weights(model()), h, w, &p, &g, &err));
        CHECK_OK(test_run_genx(g, in, out, h, w));
        toon_genx_free(g);
        size_t used = toon_alloc_peak() - base;
        fprintf(stderr, "  %dx%d: planned %zu, allocated %zu\n", h, w, plan, used);
        CHECK_INT(used, <=, plan);
        CHECK_INT(plan, <=, used + used / 2);
        free(in);
        free(out);
    }
}

/* Memory grows with the width, not the height. */
static void test_memory_grows_with_width_only(void)
{
    struct toon_genx_params p = {16, 0, 0, 0, 0};
    const struct toon_gen_weights *gw = toon_model_weights(model());
    size_t a = toon_genx_plan_bytes(gw, 512, 512, &p), b = toon_genx_plan_bytes(gw, 4096, 512, &p);
    size_t c = toon_genx_plan_bytes(gw, 256, 2048, &p), d = toon_genx_plan_bytes(gw, 256, 4096, &p);
    size_t e = toon_genx_plan_bytes(gw, 8192, 4096, &p);
    fprintf(stderr, "  512x512 %zu, 4096x512 %zu, 256x2048 %zu, 256x4096 %zu, 8192x4096 %zu\n", a,
            b, c, d, e);
    CHECK_EQ(b, a); /* taller: not one byte more */
    CHECK_EQ(e, d);
    CHECK_INT(d, >=, c + c / 3); /* wider: more */
    CHECK_INT(d, <=, 80u << 20); /* 4096 px wide: tens of MB, not gigabytes */
}

static void test_allocation_failures_are_clean(void)
{
    const struct toon_gen_weights *gw = toon_model_weights(model());
    struct toon_genx_params p = {16, 0, 0, 0, 0};
    size_t base = toon_alloc_current();
    for (long n = 1; n < 80; n++) {
        struct toon_genx *g = NULL;
        struct toon_err err;
        toon_alloc_fail_after(n);
        enum toon_status st = toon_genx_new(gw, 40, 40, &p, &g, &err);
        toon_alloc_fail_after(0);
        if (st == TOON_STATUS_OK) {
            toon_genx_free(g);
            break;
        }
        CHECK_INT(st == TOON_STATUS_NO_MEMORY || st == TOON_STATUS_INTERNAL, ==, 1);
        CHECK_EQ(toon_alloc_current(), base);
    }
}

static const struct test_case tests[] = {
    {"golden_256_optimised", test_golden_256_optimised},
    {"golden_200x300_optimised", test_golden_200x300_optimised},
    {"golden_512x384_optimised", test_golden_512x384_optimised},
    {"golden_200x300_reference_kernels", test_golden_200x300_reference_kernels},
    {"golden_synth224", test_golden_synth224},
    {"stream_equals_whole", test_stream_equals_whole},
    {"stream_equals_whole_fast", test_stream_equals_whole_fast},
    {"fast_layers", test_fast_layers},
    {"reused_executor", test_reused_executor},
    {"executors_in_workers", test_executors_in_workers},
    {"plan_covers_run", test_plan_covers_run},
    {"memory_grows_with_width_only", test_memory_grows_with_width_only},
    {"allocation_failures_are_clean", test_allocation_failures_are_clean},
};
TEST_MAIN(tests)
