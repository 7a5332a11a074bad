/* Every optimised convolution kernel against the reference kernel, on random shapes. */
#include <stdint.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "nn/conv.h"
#include "test.h"

static uint32_t g_seed = 1;
static float frand(void)
{
    g_seed = g_seed * 1664525u + 1013904223u;
    return (float)(g_seed >> 8) / (float)(1u << 24) - 0.5f;
}

static void check_kernel(enum toon_kernel kind, int k, int stride, int cin, int cout, int w_in,
                         int rows_out, int lrelu, double tol)
{
    struct toon_gen_conv gc = {k, stride, cin, cout, NULL, NULL};
    size_t nw = (size_t)cout * k * k * cin;
    gc.w = malloc(nw * sizeof(float));
    gc.b = malloc((size_t)cout * sizeof(float));
    for (size_t i = 0; i < nw; i++) gc.w[i] = frand() * 0.2f;
    for (int i = 0; i < cout; i++) gc.b[i] = frand();
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, &gc, lrelu, w_in, rows_out);
    size_t n_in = (size_t)s.rows_in * w_in * cin, n_out = (size_t)rows_out * s.w_out * cout;
    float *in = malloc(n_in * sizeof(float)), *ref = malloc(n_out * sizeof(float));
    float *got = malloc(n_out * sizeof(float));
    for (size_t i = 0; i < n_in; i++) in[i] = frand() * 2;
    toon_conv_ref(&s, gc.w, gc.b, in, ref);
    struct toon_conv *c = NULL;
    struct toon_err err;
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    CHECK_OK(toon_conv_new(&gc, lrelu, w_in, rows_out, kind, &c, &err));
    size_t used = toon_alloc_peak() - base, plan = toon_conv_plan_bytes(&gc, w_in, rows_out, kind);
    const float *rows[64];
    for (int i = 0; i < s.rows_in; i++) rows[i] = in + (size_t)i * w_in * cin;
    toon_conv_run(c, rows, got);
    toon_conv_free(c);
    double maxd = 0;
    for (size_t i = 0; i < n_out; i++) {
        double d = fabs((double)got[i] - ref[i]) / (1.0 + fabs((double)ref[i]));
        if (d > maxd) maxd = d;
    }
    if (maxd > tol || getenv("TOON_TEST_VERBOSE"))
        fprintf(stderr, "  %s k%d s%d %d->%d w%d rows%d: max rel diff %.3g\n",
                toon_kernel_name(kind), k, stride, cin, cout, w_in, rows_out, maxd);
    CHECK_INT(maxd <= tol, ==, 1);
    CHECK_INT(used, <=, plan);
    free(gc.w);
    free(gc.b);
    free(in);
    free(ref);
    free(got);
}

static void random_shapes(enum toon_kernel kind, int direct, double tol)
{
    static const int chans[] = {3, 16, 32, 64, 128};
    for (int t = 0; t < 12; t++) {
        g_seed = 1000u + (uint32_t)t * 77u;
        int k = direct ? 7 : (t % 3 == 0 ? 7 : 3);
        int stride = !direct && k == 3 && t % 2 ? 2 : 1;
        int cin = direct ? 16 * (1 + t % 4) : chans[t % 5];
        int cout = direct ? 3 : chans[(t + 2) % 5];
        int w_in = 1 + (t * 37) % 61;
        int rows = 1 + t % 5;
        check_kernel(kind, k, stride, cin, cout, w_in, rows, t % 2, tol);
    }
}

static void test_onednn_f32_vs_ref(void)
{
    CHECK(toon_dnnl_available(0));
    random_shapes(TOON_KERNEL_DNNL_F32, 0, 1e-5);
}

static void test_onednn_bf16_vs_ref(void)
{
    if (!toon_dnnl_available(1)) {
        fprintf(stderr,
                "  this CPU has no AVX512-BF16: the fast path falls back (checked below)\n");
        CHECK(toon_conv_choose(&(struct toon_gen_conv){3, 1, 64, 64, NULL, NULL}, 1) !=
              TOON_KERNEL_DNNL_BF16);
        return;
    }
    /* bf16 inputs and weights keep 8 significant bits: relative error about 2^-8 per term. */
    random_shapes(TOON_KERNEL_DNNL_BF16, 0, 3e-2);
}

static void test_direct_avx512_vs_ref(void)
{
    if (!(toon_cpu_features() & TOON_CPU_AVX512)) {
        fprintf(stderr, "  no AVX-512 on this CPU: kernel not selectable, not run\n");
        CHECK(toon_conv_choose(&(struct toon_gen_conv){7, 1, 32, 3, NULL, NULL}, 0) !=
              TOON_KERNEL_DIRECT_AVX512);
        return;
    }
    random_shapes(TOON_KERNEL_DIRECT_AVX512, 1, 1e-5);
}

/* A pixel's bits do not depend on the columns a call covers (the executor's segments): the
 * eight-pixel blocks and the one-pixel path sum alike. */
static void direct_split_case(void (*fn)(const struct toon_conv_shape *, const float *,
                                         const float *, const float *const *, float *, int, int,
                                         int))
{
    struct toon_gen_conv gc = {7, 1, 32, 3, NULL, NULL};
    size_t nw = (size_t)3 * 7 * 7 * 32;
    float *w = malloc(nw * sizeof(float)), b[3] = {0.1f, -0.2f, 0.3f};
    for (size_t i = 0; i < nw; i++) w[i] = frand() * 0.2f;
    struct toon_conv_shape s;
    toon_conv_shape_init(&s, &gc, 0, 61, 1);
    float *in = malloc((size_t)s.rows_in * 61 * 32 * sizeof(float));
    for (size_t i = 0; i < (size_t)s.rows_in * 61 * 32; i++) in[i] = frand() * 2;
    const float *rows[7];
    for (int i = 0; i < 7; i++) rows[i] = in + (size_t)i * 61 * 32;
    float whole[61 * 3], parts[61 * 3];
    fn(&s, w, b, rows, whole, 0, 0, 61);
    for (int x = 0; x < 61; x += 5) fn(&s, w, b, rows, parts, 0, x, x + 5 < 61 ? x + 5 : 61);
    CHECK(memcmp(whole, parts, sizeof whole) == 0);
    free(w);
    free(in);
}

static void test_direct_split_invariance(void)
{
    if (toon_cpu_features() & TOON_CPU_AVX512) direct_split_case(toon_conv_direct_f32__avx512);
    if (toon_cpu_features() & TOON_CPU_AVX2) direct_split_case(toon_conv_direct_f32__avx2);
}

static void test_direct_avx2_vs_ref(void)
{
    if (!(toon_cpu_features() & TOON_CPU_AVX2)) {
        fprintf(stderr, "  no AVX2 on this CPU: kernel not selectable, not run\n");
        return;
    }
    random_shapes(TOON_KERNEL_DIRECT_AVX2, 1, 1e-5);
}

/* Winograd: 3x3 stride-1 layers with the channel counts it takes, widths that leave partial
 * tiles and partial work items, several rows per call. */
static void wino_shapes(enum toon_kernel kind, int vl, double tol)
{
    static const int cins[] = {1, 2, 4, 8}, couts[] = {2, 4, 8};
    for (int t = 0; t < 12; t++) {
        g_seed = 5000u + (uint32_t)t * 131u;
        int cin = vl * cins[t % 4], cout = vl * couts[t % 3];
        int w_in = 1 + (t * 53) % 150, rows = 1 + t % 4;
        check_kernel(kind, 3, 1, cin, cout, w_in, rows, t % 2, tol);
    }
}

static void test_wino_vs_ref(void)
{
    /* F(4,3)'s transforms multiply by at most 8 and 5, so its rounding error is a few times
     * that of a direct sum: measured up to 1.3e-5 here, where oneDNN's direct kernels reach
     * 9e-6 (on the generator's golden cases both stay near 4e-6 of the reference output). */
    if (toon_cpu_features() & TOON_CPU_AVX512)
        wino_shapes(TOON_KERNEL_WINO_AVX512, 16, 3e-5);
    else
        fprintf(stderr, "  no AVX-512 on this CPU: the AVX-512 Winograd kernel is not run\n");
    if (toon_cpu_features() & TOON_CPU_AVX2)
        wino_shapes(TOON_KERNEL_WINO_AVX2, 8, 3e-5);
    else
        fprintf(stderr, "  no AVX2 on this CPU: no Winograd kernel\n");
    /* bf16 keeps 8 significant bits of the transformed inputs and weights, and the output
     * transform multiplies those errors by up to 8: measured up to 0.043 here where oneDNN's
     * direct bf16 reaches 0.015.  The whole network's cost is measured in bench/PRECISION.md
     * (56-59 dB against fp32 with the encoder kept in fp32). */
    if (toon_cpu_features() & TOON_CPU_AVX512_BF16)
        wino_shapes(TOON_KERNEL_WINO_BF16, 16, 6e-2);
    else
        fprintf(stderr, "  no AVX512-BF16 on this CPU: the bf16 Winograd kernel is not run\n");
}

/* The same bits whatever the thread count, however rows are grouped into calls, and with a
 * kernel prepared for another thread count (the bf16 direct kernel then splits its rows into
 * other work items: 4 with 2 threads, 3 with 1, at the stride-2 shape below). */
static void invariance_case(enum toon_kernel kind, int stride, int cin, int cout, int w)
{
    struct toon_gen_conv gc = {3, stride, cin, cout, NULL, NULL};
    size_t nw = (size_t)cout * 9 * cin;
    gc.w = malloc(nw * sizeof(float));
    gc.b = malloc((size_t)cout * sizeof(float));
    for (size_t i = 0; i < nw; i++) gc.w[i] = frand() * 0.2f;
    for (int i = 0; i < cout; i++) gc.b[i] = frand();
    enum { R = 4 };
    const int n_in = (R - 1) * stride + 3, w_out = (w + stride - 1) / stride;
    size_t irow = (size_t)w * cin, orow = (size_t)w_out * cout;
    float *in = malloc(n_in * irow * sizeof(float));
    float *one = malloc(R * orow * sizeof(float)), *many = malloc(R * orow * sizeof(float));
    for (size_t i = 0; i < n_in * irow; i++) in[i] = frand() * 2;
    const float *rows[(R - 1) * 2 + 3];
    for (int i = 0; i < n_in; i++) rows[i] = in + i * irow;
    struct toon_conv *c4 = NULL, *c1 = NULL;
    struct toon_err err;
    int threads = toon_threads_get();
    toon_threads_set(2);
    CHECK_OK(toon_conv_new(&gc, 1, w, R, kind, &c4, &err));
    toon_conv_run(c4, rows, many);
    toon_threads_set(1);
    CHECK_OK(toon_conv_new(&gc, 1, w, 1, kind, &c1, &err));
    for (int r = 0; r < R; r++) toon_conv_run(c1, rows + r * stride, one + r * orow);
    toon_threads_set(threads);
    CHECK(memcmp(one, many, R * orow * sizeof(float)) == 0);
    toon_conv_free(c4);
    toon_conv_free(c1);
    free(gc.w);
    free(gc.b);
    free(in);
    free(one);
    free(many);
}

static void test_wino_invariance(void)
{
    unsigned f = toon_cpu_features();
    if (f & TOON_CPU_AVX512) invariance_case(TOON_KERNEL_WINO_AVX512, 1, 64, 64, 203);
    if (f & TOON_CPU_AVX2) invariance_case(TOON_KERNEL_WINO_AVX2, 1, 64, 64, 203);
    if (f & TOON_CPU_AVX512_BF16) invariance_case(TOON_KERNEL_WINO_BF16, 1, 64, 64, 203);
}

/* The bf16 direct kernel: the first layer's shape (7x7 from 3 channels, an odd span), stride 2,
 * widths that leave partial work items (96 pixels) and partial 12-pixel blocks. */
static void test_span_vs_ref(void)
{
    if (!(toon_cpu_features() & TOON_CPU_AVX512_BF16)) {
        fprintf(stderr, "  no AVX512-BF16 on this CPU: the bf16 direct kernel is not run\n");
        CHECK(toon_conv_choose(&(struct toon_gen_conv){3, 2, 64, 64, NULL, NULL}, 1) !=
              TOON_KERNEL_SPAN_BF16);
        return;
    }
    static const int shapes[][4] = {/* k, stride, cin, cout */
                                    {7, 1, 3, 32},  {3, 2, 32, 32}, {3, 2, 64, 64},
                                    {3, 1, 16, 32}, {5, 2, 5, 96},  {1, 1, 1, 32}};
    for (int t = 0; t < 12; t++) {
        g_seed = 9000u + (uint32_t)t * 71u;
        const int *sh = shapes[t % 6];
        int w_in = 1 + (t * 97) % 260, rows = 1 + t % 3;
        /* bf16 keeps 8 significant bits of inputs and weights; the sums are fp32: measured up
         * to 0.0073 here (the Winograd bf16 kernel: 0.043). */
        check_kernel(TOON_KERNEL_SPAN_BF16, sh[0], sh[1], sh[2], sh[3], w_in, rows, t % 2, 2e-2);
    }
}

static void test_span_invariance(void)
{
    if (toon_cpu_features() & TOON_CPU_AVX512_BF16)
        invariance_case(TOON_KERNEL_SPAN_BF16, 2, 32, 64, 411);
}

static void test_choice_follows_isa_cap(void)
{
    struct toon_gen_conv last = {7, 1, 32, 3, NULL, NULL}, mid = {3, 1, 128, 128, NULL, NULL};
    unsigned det = toon_cpu_features_detected();
    struct toon_kernel_filter avx2 = toon_kernel_filter_make(toon_cpu_cap(det, "avx2"), NULL);
    if (det & TOON_CPU_AVX2) {
        CHECK_EQ(toon_conv_choose_with(&last, 0, &avx2), TOON_KERNEL_DIRECT_AVX2);
        CHECK_EQ(toon_conv_choose_with(&mid, 0, &avx2), TOON_KERNEL_WINO_AVX2);
    }
    CHECK(toon_conv_choose_with(&mid, 1, &avx2) != TOON_KERNEL_DNNL_BF16);
    CHECK(toon_conv_choose_with(&mid, 1, &avx2) != TOON_KERNEL_WINO_BF16);
    struct toon_kernel_filter avx2_ref = toon_kernel_filter_make(toon_cpu_cap(det, "avx2"), "ref");
    CHECK_EQ(toon_conv_choose_with(&mid, 0, &avx2_ref), TOON_KERNEL_REF);
    struct toon_kernel_filter all = toon_kernel_filter_make(det, NULL);
    if (det & TOON_CPU_AVX512) {
        CHECK_EQ(toon_conv_choose_with(&last, 0, &all), TOON_KERNEL_DIRECT_AVX512);
        CHECK_EQ(toon_conv_choose_with(&mid, 0, &all), TOON_KERNEL_WINO_AVX512);
    }
    if (det & TOON_CPU_AVX512_BF16)
        CHECK_EQ(toon_conv_choose_with(&mid, 1, &all), TOON_KERNEL_WINO_BF16);
    struct toon_kernel_filter onednn = toon_kernel_filter_make(det, "onednn");
    CHECK_EQ(toon_conv_choose_with(&mid, 0, &onednn), TOON_KERNEL_DNNL_F32);
    /* Stride 2 has no Winograd kernel: oneDNN in fp32, our direct kernel in bf16. */
    struct toon_gen_conv s2 = {3, 2, 64, 64, NULL, NULL};
    CHECK_EQ(toon_conv_choose_with(&s2, 0, &all), TOON_KERNEL_DNNL_F32);
    if (det & TOON_CPU_AVX512_BF16) {
        CHECK_EQ(toon_conv_choose_with(&s2, 1, &all), TOON_KERNEL_SPAN_BF16);
        CHECK_EQ(toon_conv_choose_with(&s2, 1, &onednn), TOON_KERNEL_DNNL_BF16);
    }
    struct toon_kernel_filter avx512 = toon_kernel_filter_make(toon_cpu_cap(det, "avx512"), NULL);
    CHECK(toon_conv_choose_with(&s2, 1, &avx512) != TOON_KERNEL_SPAN_BF16);
}

/* The registry: every kernel has one descriptor under its id, with every required entry. */
static void test_registry_complete(void)
{
    for (int id = 0; id < TOON_KERNEL_COUNT; id++) {
        const struct toon_conv_kernel *k = toon_conv_kernel_get((enum toon_kernel)id);
        CHECK_EQ((int)k->id, id);
        CHECK(k->name && strcmp(toon_kernel_name(k->id), k->name) == 0);
        CHECK(k->supports && k->plan_bytes && k->new && k->run && k->free);
        CHECK(k->kclass != 0);
    }
    /* The process's filter is the environment's, read once. */
    const struct toon_kernel_filter *env = toon_kernel_filter_env();
    CHECK_EQ(env->cpu, toon_cpu_features());
    CHECK(env == toon_kernel_filter_env());
}

static const struct test_case tests[] = {
    {"onednn_f32_vs_ref", test_onednn_f32_vs_ref},
    {"registry_complete", test_registry_complete},
    {"onednn_bf16_vs_ref", test_onednn_bf16_vs_ref},
    {"direct_avx512_vs_ref", test_direct_avx512_vs_ref},
    {"direct_avx2_vs_ref", test_direct_avx2_vs_ref},
    {"direct_split_invariance", test_direct_split_invariance},
    {"wino_vs_ref", test_wino_vs_ref},
    {"wino_invariance", test_wino_invariance},
    {"span_vs_ref", test_span_vs_ref},
    {"span_invariance", test_span_invariance},
    {"choice_follows_isa_cap", test_choice_follows_isa_cap},
};
TEST_MAIN(tests)
