/*
 * Tests of src/face: detection counts on the demo photos and the astronaut (no false
 * positives), landmark sanity and stability under a shift, five points, similarity alignment
 * on synthetic cases, the generated mask, and hostile landmark manifests.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "face/face.h"
#include "face/lm68.h"
#include "image/affine.h"
#include "image/codec.h"
#include "test.h"

static struct toon_face_models *g_fm;

static struct toon_face_models *models(void)
{
    if (!g_fm) {
        struct toon_err err;
        enum toon_status st = toon_face_models_load(TOON_FACE_MODEL_DIR, &g_fm, &err);
        if (st != TOON_STATUS_OK) TEST_FAIL_("face models: %s", err.msg);
    }
    return g_fm;
}

static void load_image(const char *path, struct toon_image *img)
{
    size_t len;
    unsigned char *data = test_read_file(path, &len);
    struct toon_err err;
    enum toon_status st = toon_image_decode(data, len, NULL, img, &err);
    free(data);
    if (st != TOON_STATUS_OK) TEST_FAIL_("%s: %s", path, err.msg);
}

static int detect_count(const char *path, struct toon_face *faces)
{
    struct toon_image img = {0};
    struct toon_err err;
    int n = -1;
    load_image(path, &img);
    enum toon_status st = toon_face_detect(models(), &img, faces, TOON_FACE_MAX, &n, &err);
    toon_image_free(&img);
    if (st != TOON_STATUS_OK) TEST_FAIL_("%s: %s", path, err.msg);
    return n;
}

static void test_detect_demo_photos(void)
{
    static const int expected[6] = {3, 3, 3, 4, 5, 4};
    struct toon_face faces[TOON_FACE_MAX];
    char path[4096];
    int total = 0;
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/demo/sample%d.jpg", TOON_MODELS_DIR, i + 1);
        int n = detect_count(path, faces);
        if (n != expected[i])
            TEST_FAIL_("sample%d.jpg: %d faces, expected %d", i + 1, n, expected[i]);
        for (int k = 0; k < n; k++) {
            CHECK(faces[k].score >= 0.75f);
            CHECK(faces[k].x1 - faces[k].x0 > 100); /* these photos' faces are 160-260 px */
        }
        total += n;
    }
    CHECK_EQ(total, 22);
}

static void test_detect_astronaut(void)
{
    struct toon_face faces[TOON_FACE_MAX];
    char path[4096];
    snprintf(path, sizeof path, "%s/images/astronaut.png", test_shared_dir());
    CHECK_EQ(detect_count(path, faces), 1);
    /* The face is near (225, 125) in the 512x512 photo. */
    CHECK_NEAR((faces[0].x0 + faces[0].x1) / 2, 225, 30);
    CHECK_NEAR((faces[0].y0 + faces[0].y1) / 2, 125, 30);
}

/* Eyes above the nose above the mouth, all inside the (slightly grown) box. */
static void check_landmarks(const struct toon_face *f)
{
    float bw = f->x1 - f->x0, bh = f->y1 - f->y0;
    for (int i = 0; i < 68; i++) {
        CHECK(f->lm[i][0] > f->x0 - 0.25f * bw && f->lm[i][0] < f->x1 + 0.25f * bw);
        CHECK(f->lm[i][1] > f->y0 - 0.25f * bh && f->lm[i][1] < f->y1 + 0.25f * bh);
    }
    float eye_y = (f->lm[36][1] + f->lm[39][1] + f->lm[42][1] + f->lm[45][1]) / 4;
    float mouth_y = (f->lm[48][1] + f->lm[54][1] + f->lm[51][1] + f->lm[57][1]) / 4;
    CHECK(eye_y < f->lm[30][1]);
    CHECK(f->lm[30][1] < mouth_y);
    /* Eyes are left/right of each other, inside the box. */
    CHECK(f->pts5[0][0] < f->pts5[1][0]);
    for (int k = 0; k < 5; k++) {
        CHECK(f->pts5[k][0] > f->x0 - 0.1f * bw && f->pts5[k][0] < f->x1 + 0.1f * bw);
        CHECK(f->pts5[k][1] > f->y0 - 0.1f * bh && f->pts5[k][1] < f->y1 + 0.1f * bh);
    }
}

static void test_landmarks_sanity(void)
{
    struct toon_face faces[TOON_FACE_MAX];
    struct toon_image img = {0};
    struct toon_err err;
    char path[4096];
    int n;
    snprintf(path, sizeof path, "%s/demo/sample4.jpg", TOON_MODELS_DIR);
    load_image(path, &img);
    CHECK_OK(toon_face_detect(models(), &img, faces, TOON_FACE_MAX, &n, &err));
    CHECK_EQ(n, 4);
    for (int i = 0; i < n; i++) {
        CHECK_OK(toon_face_landmarks(models(), &img, &faces[i], 0, &err));
        CHECK_OK(toon_face_five_points(&img, &faces[i], 0, &err));
        check_landmarks(&faces[i]);
    }
    toon_image_free(&img);
}

/* Shifting the photo by (dx, dy) shifts the landmarks by the same amount, to a few pixels. */
static void test_landmarks_shift(void)
{
    struct toon_face a[TOON_FACE_MAX], b;
    struct toon_image img = {0}, sh = {0};
    struct toon_err err;
    char path[4096];
    int n;
    const int dx = 7, dy = 5;
    snprintf(path, sizeof path, "%s/images/astronaut.png", test_shared_dir());
    load_image(path, &img);
    CHECK_OK(toon_face_detect(models(), &img, a, TOON_FACE_MAX, &n, &err));
    CHECK_EQ(n, 1);
    CHECK_OK(toon_face_landmarks(models(), &img, &a[0], 0, &err));
    /* The shifted photo: the same pixels dx right and dy down (the box moves with them). */
    sh = img;
    sh.data = malloc(img.stride * (size_t)img.h);
    CHECK(sh.data);
    memset(sh.data, 0, img.stride * (size_t)img.h);
    for (int y = 0; y + dy < img.h; y++)
        memcpy(sh.data + (size_t)(y + dy) * sh.stride + (size_t)dx * 3,
               img.data + (size_t)y * img.stride, (size_t)(img.w - dx) * 3);
    b = a[0];
    b.x0 += dx;
    b.x1 += dx;
    b.y0 += dy;
    b.y1 += dy;
    enum toon_status st = toon_face_landmarks(models(), &sh, &b, 0, &err);
    free(sh.data);
    CHECK_OK(st);
    double mean_err = 0;
    for (int i = 0; i < 68; i++)
        mean_err += hypot(b.lm[i][0] - a[0].lm[i][0] - dx, b.lm[i][1] - a[0].lm[i][1] - dy);
    mean_err /= 68;
    CHECK(mean_err < 3.0);
    toon_image_free(&img);
}

static void test_similarity_synthetic(void)
{
    srand(7);
    for (int trial = 0; trial < 50; trial++) {
        double s = 0.2 + 3.0 * rand() / RAND_MAX, th = 6.28 * rand() / RAND_MAX;
        double tx = -500 + 1000.0 * rand() / RAND_MAX, ty = -500 + 1000.0 * rand() / RAND_MAX;
        float pts[5][2];
        for (int k = 0; k < 5; k++) {
            float x = toon_face_template[k][0], y = toon_face_template[k][1];
            pts[k][0] = (float)(s * cos(th) * x - s * sin(th) * y + tx);
            pts[k][1] = (float)(s * sin(th) * x + s * cos(th) * y + ty);
        }
        double m[6], inv[6];
        CHECK(toon_face_similarity(toon_face_template, (const float(*)[2])pts, 5, m));
        CHECK(toon_affine_invert(m, inv));
        for (int k = 0; k < 5; k++) {
            double x = inv[0] * pts[k][0] + inv[1] * pts[k][1] + inv[2];
            double y = inv[3] * pts[k][0] + inv[4] * pts[k][1] + inv[5];
            CHECK_NEAR(x, toon_face_template[k][0], 0.05);
            CHECK_NEAR(y, toon_face_template[k][1], 0.05);
        }
    }
    /* Noisy points: still within a pixel of the template after alignment. */
    float noisy[5][2];
    for (int k = 0; k < 5; k++) {
        noisy[k][0] = toon_face_template[k][0] * 1.5f + 40 + (k % 2 ? 0.4f : -0.4f);
        noisy[k][1] = toon_face_template[k][1] * 1.5f + 10 + (k % 3 ? 0.3f : -0.3f);
    }
    double m[6], inv[6];
    CHECK(toon_face_similarity(toon_face_template, (const float(*)[2])noisy, 5, m));
    CHECK(toon_affine_invert(m, inv));
    for (int k = 0; k < 5; k++) {
        double x = inv[0] * noisy[k][0] + inv[1] * noisy[k][1] + inv[2];
        double y = inv[3] * noisy[k][0] + inv[4] * noisy[k][1] + inv[5];
        CHECK(hypot(x - toon_face_template[k][0], y - toon_face_template[k][1]) < 1.0);
    }
    /* Degenerate: all points equal. */
    float same[5][2] = {{1, 1}, {1, 1}, {1, 1}, {1, 1}, {1, 1}};
    CHECK(!toon_face_similarity((const float(*)[2])same, (const float(*)[2])same, 5, m));
}

static void test_mask_generated(void)
{
    float *mask = malloc(288 * 288 * sizeof(float));
    CHECK(mask);
    toon_face_mask_generate(mask, 288);
    CHECK_NEAR(mask[176 * 288 + 146], 1.0, 1e-6); /* the nose: opaque */
    CHECK_NEAR(mask[0], 0.0, 1e-6);               /* the corner: transparent */
    CHECK_NEAR(mask[287 * 288 + 287], 0.0, 1e-6);
    /* Feathered: values strictly between 0 and 1 exist, and neighbours differ little. */
    int mid = 0;
    float max_step = 0;
    for (int y = 0; y < 288; y++)
        for (int x = 1; x < 288; x++) {
            float v = mask[y * 288 + x];
            if (v > 0.05f && v < 0.95f) mid++;
            float d = fabsf(v - mask[y * 288 + x - 1]);
            if (d > max_step) max_step = d;
        }
    free(mask);
    CHECK(mid > 1000);
    CHECK(max_step < 0.1f);
}

static void expect_manifest_error(const char *json, size_t bin_len, const char *needle)
{
    uint8_t *bin = calloc(bin_len + 1, 1);
    struct toon_lm68 *net = NULL;
    struct toon_err err = {{0}};
    enum toon_status st = toon_lm68_load_memory(json, strlen(json), bin, bin_len, &net, &err);
    free(bin);
    CHECK(st != TOON_STATUS_OK);
    CHECK(net == NULL);
    CHECK_STR_CONTAINS(err.msg, needle);
}

static void test_manifest_hostile(void)
{
    expect_manifest_error("", 0, "not valid JSON");
    expect_manifest_error("{\"a\":1}", 0, "not a JSON array");
    expect_manifest_error("[{\"weights\":[]}]", 0, "missing tensor");
    expect_manifest_error(
        "[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[136],\"dtype\":\"float32\","
        "\"quantization\":{\"dtype\":\"uint8\",\"scale\":1,\"min\":0}}]}]",
        10, "past the end");
    expect_manifest_error(
        "[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[-1],\"dtype\":\"float32\"}]}]", 10,
        "bad dimension");
    expect_manifest_error("[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[99999,99999,99999],"
                          "\"dtype\":\"float32\"}]}]",
                          10, "too large");
    expect_manifest_error(
        "[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[2],\"dtype\":\"int32\"}]}]", 8, "dtype");
    expect_manifest_error("[{\"weights\":[{\"name\":\"x\",\"shape\":[2],\"dtype\":\"float32\"}]}]",
                          9, "add up");
    expect_manifest_error(
        "[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[136],\"dtype\":\"float32\"},"
        "{\"name\":\"fc/bias\",\"shape\":[136],\"dtype\":\"float32\"}]}]",
        1088, "twice");
    expect_manifest_error(
        "[{\"weights\":[{\"name\":\"fc/bias\",\"shape\":[2],\"dtype\":\"float32\"}]}]", 8,
        "unexpected shape");
}

static void test_models_missing(void)
{
    struct toon_face_models *fm = (struct toon_face_models *)1;
    struct toon_err err;
    CHECK(toon_face_models_load("/nonexistent-dir", &fm, &err) != TOON_STATUS_OK);
    CHECK(fm == NULL);
    CHECK_STR_CONTAINS(err.msg, "cannot open");
}

static void test_no_leaks(void)
{
    size_t before = toon_alloc_current();
    struct toon_face_models *fm = NULL;
    struct toon_err err;
    CHECK_OK(toon_face_models_load(TOON_FACE_MODEL_DIR, &fm, &err));
    CHECK(toon_face_models_bytes(fm) > 1000000);
    toon_face_models_free(fm);
    CHECK_EQ(toon_alloc_current(), before);
}

static const struct test_case tests[] = {
    {"detect_demo_photos", test_detect_demo_photos},
    {"detect_astronaut", test_detect_astronaut},
    {"landmarks_sanity", test_landmarks_sanity},
    {"landmarks_shift", test_landmarks_shift},
    {"similarity_synthetic", test_similarity_synthetic},
    {"mask_generated", test_mask_generated},
    {"manifest_hostile", test_manifest_hostile},
    {"models_missing", test_models_missing},
    {"no_leaks", test_no_leaks},
};
TEST_MAIN(tests)
