/*
 * Tests of the pixel entry point (src/pipeline/pixels.c, image/raw.c) and of model finding
 * (src/pipeline/models_find.c): the pixels toon_convert_pixels returns equal toon_convert's PNG
 * decoded, in RGB and BGR, plain and hd; the plan covers the output image; bad pixels and
 * limits give statuses; and the search path finds $TOONIFY_MODEL_DIR's style.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "test.h"
#include "test_models.h"

/* The astronaut photo, decoded. */
static void photo(struct toon_image *img, unsigned char **data, size_t *len)
{
    char path[4096];
    struct toon_err err;
    snprintf(path, sizeof path, "%s/images/astronaut.png", test_shared_dir());
    *data = test_read_file(path, len);
    if (toon_image_decode(*data, *len, NULL, img, &err) != TOON_STATUS_OK)
        TEST_FAIL_("decode: %s", err.msg);
}

/* toon_convert's PNG of the photo, decoded. */
static void reference(const unsigned char *data, size_t len, const struct toon_convert_params *p,
                      struct toon_image *out)
{
    struct toon_membuf mb = {0};
    struct toon_err err;
    enum toon_status st = toon_convert(g_model, data, len, p, toon_write_membuf, &mb, NULL, &err);
    if (st == TOON_STATUS_OK) st = toon_image_decode(mb.data, mb.len, NULL, out, &err);
    toon_free(mb.data);
    if (st != TOON_STATUS_OK) TEST_FAIL_("reference: %s", err.msg);
}

static void swap_rb(struct toon_image *img)
{
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++) {
            uint8_t *px = img->data + (size_t)y * img->stride + (size_t)x * 3, t = px[0];
            px[0] = px[2];
            px[2] = t;
        }
}

static void check_same(const struct toon_image *a, const struct toon_image *b)
{
    CHECK_EQ(a->w, b->w);
    CHECK_EQ(a->h, b->h);
    CHECK_EQ(a->stride, (size_t)a->w * 3);
    for (int y = 0; y < a->h; y++) {
        const uint8_t *ra = a->data + (size_t)y * a->stride, *rb = b->data + (size_t)y * b->stride;
        for (int x = 0; x < a->w * 3; x++)
            if (ra[x] != rb[x]) TEST_FAIL_("row %d byte %d: %d vs %d", y, x, ra[x], rb[x]);
    }
}

/* Pixels in RGB and BGR give toon_convert's result; the plan covers the output image. */
static void check_mode(enum toon_mode mode, const struct toon_face_models *fm)
{
    setup();
    struct toon_image in, ref = {0}, out = {0};
    unsigned char *data;
    size_t len;
    struct toon_err err;
    photo(&in, &data, &len);
    struct toon_convert_params p = toon_convert_default_params();
    p.mode = mode;
    p.face_models = fm;
    p.size = 256;
    reference(data, len, &p, &ref);
    struct toon_convert_report rep;
    CHECK_OK(toon_convert_pixels(g_model, &in, TOON_CHANNELS_RGB, &p, &out, &rep, &err));
    check_same(&out, &ref);
    int pw, ph;
    size_t planned;
    CHECK_OK(toon_convert_pixels_plan(g_model, in.w, in.h, &p, &pw, &ph, &planned, &err));
    CHECK_EQ(pw, out.w);
    CHECK_EQ(ph, out.h);
    CHECK_INT(rep.planned_bytes, >=, (size_t)out.w * out.h * 3);
    CHECK_INT(rep.used_bytes, >=, (size_t)out.w * out.h * 3);
    CHECK_INT(rep.used_bytes, <=, rep.planned_bytes);
    toon_image_free(&out);
    swap_rb(&in); /* the same photo as BGR: the cartoon comes back as BGR */
    CHECK_OK(toon_convert_pixels(g_model, &in, TOON_CHANNELS_BGR, &p, &out, NULL, &err));
    swap_rb(&out);
    check_same(&out, &ref);
    toon_image_free(&out);
    toon_image_free(&ref);
    toon_image_free(&in);
    free(data);
}

static void test_plain_equals_convert(void)
{
    check_mode(TOON_MODE_PLAIN, NULL);
}

static void test_hd_faces_equals_convert(void)
{
    setup();
    check_mode(TOON_MODE_HD, g_fm);
}

/* A view into a bigger buffer (stride > 3 * w) reads only its own pixels. */
static void test_stride(void)
{
    setup();
    int w = 40, h = 30;
    size_t stride = (size_t)w * 3 + 17;
    uint8_t *buf = malloc(stride * h);
    for (size_t i = 0; i < stride * h; i++) buf[i] = (uint8_t)(i * 7);
    struct toon_image view = {w, h, 3, stride, buf}, packed = {w, h, 3, (size_t)w * 3, NULL};
    packed.data = malloc((size_t)w * 3 * h);
    for (int y = 0; y < h; y++) memcpy(packed.data + (size_t)y * w * 3, buf + y * stride, w * 3);
    struct toon_convert_params p = toon_convert_default_params();
    p.mode = TOON_MODE_PLAIN;
    p.size = 0;
    struct toon_image a = {0}, b = {0};
    struct toon_err err;
    CHECK_OK(toon_convert_pixels(g_model, &view, TOON_CHANNELS_RGB, &p, &a, NULL, &err));
    CHECK_OK(toon_convert_pixels(g_model, &packed, TOON_CHANNELS_RGB, &p, &b, NULL, &err));
    check_same(&a, &b);
    toon_image_free(&a);
    toon_image_free(&b);
    free(packed.data);
    free(buf);
}

static void test_bad_pixels(void)
{
    setup();
    uint8_t px[4 * 4 * 4] = {0};
    struct toon_image img = {4, 4, 4, 16, px}, out = {0};
    struct toon_convert_params p = toon_convert_default_params();
    p.mode = TOON_MODE_PLAIN;
    struct toon_err err;
    CHECK_EQ(toon_convert_pixels(g_model, &img, TOON_CHANNELS_RGB, &p, &out, NULL, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK(out.data == NULL);
    img.c = 3;
    img.stride = 8; /* less than 3 * w */
    CHECK_EQ(toon_convert_pixels(g_model, &img, TOON_CHANNELS_RGB, &p, &out, NULL, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    img.stride = 12;
    p.limits.max_w = 3;
    CHECK_EQ(toon_convert_pixels(g_model, &img, TOON_CHANNELS_RGB, &p, &out, NULL, &err),
             TOON_STATUS_TOO_LARGE);
    p.limits = toon_decode_default_limits();
    p.strength = 2;
    CHECK_EQ(toon_convert_pixels(g_model, &img, TOON_CHANNELS_RGB, &p, &out, NULL, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK(out.data == NULL);
}

/* The largest size that fits: its plan (with the overheads) fits, one pixel more does not. */
static void test_largest_size(void)
{
    setup();
    struct toon_image_info info = {.format = TOON_FORMAT_PNG,
                                   .w = 4000,
                                   .h = 3000,
                                   .file_w = 4000,
                                   .file_h = 3000,
                                   .orientation = 1,
                                   .channels = 3,
                                   .bit_depth = 8};
    struct toon_convert_params p = toon_convert_default_params();
    p.mode = TOON_MODE_PLAIN;
    size_t fixed = (size_t)3 << 20, per_column = 1000, budget = (size_t)40 << 20;
    int fit = toon_convert_largest_size(g_model, &info, &p, 4000, budget, fixed, per_column);
    CHECK(fit > 64 && fit < 4000);
    for (int size = fit; size <= fit + 1; size++) {
        struct toon_convert_params q = p;
        q.size = size;
        int ow, oh;
        size_t need;
        CHECK_OK(toon_convert_plan(g_model, &info, &q, &ow, &oh, &need, NULL));
        CHECK_EQ(fixed + per_column * (size_t)ow + need <= budget, size == fit);
    }
    /* Nothing fits in less than the fixed part; everything up to `upto` in plenty. */
    CHECK_EQ(toon_convert_largest_size(g_model, &info, &p, 4000, fixed, fixed, 0), 0);
    CHECK_EQ(toon_convert_largest_size(g_model, &info, &p, 512, (size_t)1 << 40, 0, 0), 512);
}

static void test_models_find(void)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models", test_shared_dir());
    setenv("TOONIFY_MODEL_DIR", dir, 1);
    char dirs[10][4096];
    int n = toon_model_search_dirs(NULL, dirs, 10);
    CHECK_INT(n, >=, 3);
    CHECK_STR_EQ(dirs[0], dir);
    CHECK_STR_EQ(dirs[1], "models");
    struct toon_model_paths mp;
    struct toon_err err;
    CHECK_OK(toon_models_find(NULL, NULL, NULL, 0, &mp, &err));
    CHECK_STR_EQ(mp.style, "whitebox_cartoon_gan_fp16");
    CHECK_STR_CONTAINS(mp.bg, "whitebox_cartoon_gan_fp16.tflite");
    CHECK(mp.faces == NULL);
    CHECK_EQ(toon_models_find(NULL, "nosuchstyle", NULL, 0, &mp, &err), TOON_STATUS_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "nosuchstyle");
    CHECK_EQ(toon_models_find("/nonexistent/models", NULL, NULL, 0, &mp, &err),
             TOON_STATUS_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/models");
    CHECK_OK(toon_models_find(NULL, NULL, TOON_FACE_MODEL_DIR, 1, &mp, &err));
    CHECK(mp.faces != NULL);
    toon_face_models_free(mp.faces);
    CHECK(toon_models_find(NULL, NULL, "/nonexistent/face", 1, &mp, &err) != TOON_STATUS_OK);
    CHECK_STR_CONTAINS(err.msg, "face models");
    unsetenv("TOONIFY_MODEL_DIR");
}

static const struct test_case tests[] = {
    {"plain_equals_convert", test_plain_equals_convert},
    {"hd_faces_equals_convert", test_hd_faces_equals_convert},
    {"stride", test_stride},
    {"bad_pixels", test_bad_pixels},
    {"largest_size", test_largest_size},
    {"models_find", test_models_find},
};
TEST_MAIN(tests)
