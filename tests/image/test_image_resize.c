/*
 * Unit tests of src/image/resize.h: agreement with cv2.resize (INTER_AREA and INTER_LINEAR) on
 * the vectors of tests/image/data/resize_vectors.bin (tools/make_resize_vectors.py), the
 * streaming resizer against the whole-image one with uneven row requests, O(width) memory and
 * plan_bytes, error propagation from the source, and allocation-failure injection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "image/resize.h"
#include "test.h"

/* The generator shared with tools/make_resize_vectors.py. */
static void lcg_fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t s = seed;
    for (size_t i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        p[i] = (uint8_t)(s >> 16);
    }
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void test_opencv_vectors(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/resize_vectors.bin", TOON_IMAGE_TEST_DATA);
    size_t len;
    uint8_t *blob = test_read_file(path, &len);
    CHECK(len >= 12 && memcmp(blob, "TRZV", 4) == 0 && rd32(blob + 4) == 1);
    uint32_t n_cases = rd32(blob + 8);
    size_t at = 12;
    int exact_cases = 0;
    for (uint32_t i = 0; i < n_cases; i++) {
        CHECK(at + 28 <= len);
        uint32_t seed = rd32(blob + at), sw = rd32(blob + at + 4), sh = rd32(blob + at + 8);
        uint32_t c = rd32(blob + at + 12), dw = rd32(blob + at + 16), dh = rd32(blob + at + 20);
        uint32_t f = rd32(blob + at + 24);
        at += 28;
        size_t n = (size_t)dw * dh * c;
        CHECK(at + n <= len);
        const uint8_t *expect = blob + at;
        at += n;

        struct toon_image src = {(int)sw, (int)sh, (int)c, (size_t)sw * c, NULL};
        src.data = malloc((size_t)sw * sh * c);
        lcg_fill(src.data, (size_t)sw * sh * c, seed);
        struct toon_image out;
        struct toon_err err = {{0}};
        CHECK_OK(toon_image_resize(&src, (int)dw, (int)dh,
                                   f ? TOON_RESIZE_BILINEAR : TOON_RESIZE_AREA, &out, &err));
        int max_diff = 0, n_diff = 0;
        for (size_t k = 0; k < n; k++) {
            int d = abs((int)out.data[k] - (int)expect[k]);
            if (d > max_diff) max_diff = d;
            n_diff += d != 0;
        }
        fprintf(stderr, "  %s %ux%ux%u -> %ux%u: max diff %d, %d of %zu differ\n",
                f ? "linear" : "area", sw, sh, c, dw, dh, max_diff, n_diff, n);
        if (max_diff > 1) TEST_FAIL_("case %u: differs from cv2.resize by %d levels", i, max_diff);
        exact_cases += n_diff == 0;
        toon_image_free(&out);
        free(src.data);
    }
    /* OpenCV's rounding is reproduced, so nearly every case is bit-identical. */
    CHECK_INT(exact_cases, >=, (int)n_cases - 2);
    free(blob);
}

/* ---- streaming ---------------------------------------------------------------------------- */

struct pattern_src {
    int w, c, y, h;
    uint32_t seed;
    int fail_at; /* row at which the source fails, or -1 */
};

static enum toon_status pattern_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    struct pattern_src *s = ctx;
    if (s->y + n > s->h) return toon_err_set(err, TOON_STATUS_INTERNAL, "read past the end");
    for (int i = 0; i < n; i++, s->y++) {
        if (s->y == s->fail_at) return toon_err_set(err, TOON_STATUS_IO, "source failed");
        lcg_fill(rows + (size_t)i * s->w * s->c, (size_t)s->w * s->c, s->seed + (uint32_t)s->y);
    }
    return TOON_STATUS_OK;
}

static struct toon_image pattern_image(int w, int h, int c, uint32_t seed)
{
    struct toon_image img = {w, h, c, (size_t)w * c, malloc((size_t)w * h * c)};
    for (int y = 0; y < h; y++)
        lcg_fill(img.data + (size_t)y * w * c, (size_t)w * c, seed + (uint32_t)y);
    return img;
}

static void test_streaming_equals_whole(void)
{
    static const int shapes[][5] = {
        /* sw, sh, dw, dh, c */
        {97, 61, 40, 23, 3},   {97, 61, 48, 30, 3}, {64, 64, 16, 16, 1}, {50, 40, 120, 90, 3},
        {50, 40, 25, 80, 4},   {33, 71, 33, 71, 3}, {1, 50, 7, 9, 1},    {120, 3, 40, 1, 3},
        {200, 150, 71, 53, 2}, {31, 29, 62, 58, 3},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int f = 0; f < 2; f++) {
            int sw = shapes[i][0], sh = shapes[i][1], dw = shapes[i][2], dh = shapes[i][3];
            int c = shapes[i][4];
            enum toon_resize_filter filt = f ? TOON_RESIZE_BILINEAR : TOON_RESIZE_AREA;
            struct toon_image src = pattern_image(sw, sh, c, 77 + (uint32_t)i);
            struct toon_image whole;
            struct toon_err err = {{0}};
            CHECK_OK(toon_image_resize(&src, dw, dh, filt, &whole, &err));

            struct pattern_src ps = {sw, c, 0, sh, 77 + (uint32_t)i, -1};
            struct toon_resizer *rz = NULL;
            CHECK_OK(toon_resizer_new(sw, sh, dw, dh, c, filt, pattern_rows, &ps, &rz, &err));
            uint8_t *out = malloc((size_t)dw * dh * c);
            for (int y = 0, n = 1; y < dh; y += n, n = n % 6 + 1) {
                if (n > dh - y) n = dh - y;
                CHECK_OK(toon_resizer_read(rz, out + (size_t)y * dw * c, n, &err));
            }
            CHECK_EQ(toon_resizer_read(rz, out, 1, &err), TOON_STATUS_INVALID_ARGUMENT);
            toon_resizer_free(rz);
            if (memcmp(out, whole.data, (size_t)dw * dh * c) != 0)
                TEST_FAIL_("%dx%dx%d -> %dx%d filter %d: streaming differs", sw, sh, c, dw, dh, f);
            free(out);
            toon_image_free(&whole);
            free(src.data);
        }
}

/* Memory is O(width) and plan_bytes covers it. */
static size_t measure(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f)
{
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct pattern_src ps = {sw, c, 0, sh, 5, -1};
    struct toon_resizer *rz = NULL;
    struct toon_err err = {{0}};
    CHECK_OK(toon_resizer_new(sw, sh, dw, dh, c, f, pattern_rows, &ps, &rz, &err));
    uint8_t *row = malloc((size_t)dw * c);
    for (int y = 0; y < dh; y++) CHECK_OK(toon_resizer_read(rz, row, 1, &err));
    free(row);
    toon_resizer_free(rz);
    size_t peak = toon_alloc_peak() - base;
    CHECK_EQ(toon_alloc_current(), base);
    size_t plan = toon_resizer_plan_bytes(sw, sh, dw, dh, c, f);
    if (plan < peak) TEST_FAIL_("plan %zu < peak %zu", plan, peak);
    return peak;
}

static void test_memory_and_plan(void)
{
    for (int f = 0; f < 2; f++) {
        enum toon_resize_filter filt = f ? TOON_RESIZE_BILINEAR : TOON_RESIZE_AREA;
        size_t a = measure(2000, 300, 720, 108, 3, filt);
        size_t b = measure(2000, 3000, 720, 1080, 3, filt);
        CHECK_EQ(a, b); /* ten times the height, same memory */
        CHECK_INT(b, <, 64 * 1024);
        measure(2000, 1500, 1000, 750, 3, filt); /* integer factor */
        measure(720, 540, 2000, 1500, 3, filt);  /* upscale */
        measure(2000, 1500, 1, 1, 3, filt);
        measure(300, 200, 300, 200, 3, filt);
    }
}

static void test_errors(void)
{
    struct toon_resizer *rz = NULL;
    struct toon_err err = {{0}};
    struct pattern_src ps = {40, 3, 0, 30, 1, 17};
    CHECK_EQ(toon_resizer_new(0, 30, 10, 10, 3, TOON_RESIZE_AREA, pattern_rows, &ps, &rz, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_resizer_new(40, 30, 10, 10, 3, TOON_RESIZE_AREA, NULL, &ps, &rz, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK(rz == NULL);
    /* A failing source: its status and message come back, and the resizer stays failed. */
    for (int f = 0; f < 2; f++) {
        ps.y = 0;
        CHECK_OK(toon_resizer_new(40, 30, 13, 11, 3, f ? TOON_RESIZE_BILINEAR : TOON_RESIZE_AREA,
                                  pattern_rows, &ps, &rz, &err));
        uint8_t out[13 * 11 * 3];
        CHECK_EQ(toon_resizer_read(rz, out, 11, &err), TOON_STATUS_IO);
        CHECK_STR_CONTAINS(err.msg, "source failed");
        CHECK_EQ(toon_resizer_read(rz, out, 1, &err), TOON_STATUS_IO);
        toon_resizer_free(rz);
    }
    toon_resizer_free(NULL);
}

static void test_fault_injection(void)
{
    struct toon_image src = pattern_image(45, 33, 3, 3);
    size_t base = toon_alloc_current();
    for (int f = 0; f < 2; f++) {
        int dims[3][2] = {{20, 15}, {15, 11}, {90, 66}};
        for (int d = 0; d < 3; d++) {
            int n;
            for (n = 1; n < 100; n++) {
                struct toon_image out;
                struct toon_err err = {{0}};
                toon_alloc_fail_after(n);
                enum toon_status st =
                    toon_image_resize(&src, dims[d][0], dims[d][1],
                                      f ? TOON_RESIZE_BILINEAR : TOON_RESIZE_AREA, &out, &err);
                toon_alloc_fail_after(0);
                if (st == TOON_STATUS_OK) {
                    toon_image_free(&out);
                    break;
                }
                CHECK_EQ(st, TOON_STATUS_NO_MEMORY);
                CHECK_EQ(toon_alloc_current(), base);
            }
            CHECK_INT(n, >, 2);
            CHECK_INT(n, <, 100);
        }
    }
    free(src.data);
}

static const struct test_case tests[] = {
    {"opencv_vectors", test_opencv_vectors},
    {"streaming_equals_whole", test_streaming_equals_whole},
    {"memory_and_plan", test_memory_and_plan},
    {"errors", test_errors},
    {"fault_injection", test_fault_injection},
};
TEST_MAIN(tests)
