/*
 * Unit tests of src/formats/tfjs.h on small hand-made manifests: plain and uint8-quantised
 * tensors land at 16-float boundaries of one pool, tensors nobody wants are skipped, non-finite
 * floats read as 0, the caller's label names the manifest in errors, and nothing leaks.
 * Hostile manifests are also tested through the landmark net (tests/face, "manifest_hostile").
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/tfjs.h"
#include "test.h"

static const char manifest[] =
    "[{\"paths\":[\"x.bin\"],\"weights\":["
    "{\"name\":\"a\",\"shape\":[3],\"dtype\":\"float32\"},"
    "{\"name\":\"unused\",\"shape\":[2],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"uint8\",\"scale\":1,\"min\":0}},"
    "{\"name\":\"b\",\"shape\":[2,2],\"dtype\":\"float32\","
    "\"quantization\":{\"dtype\":\"uint8\",\"scale\":0.5,\"min\":-1}}]}]";

/* a's three floats (1.5, -2, +inf), unused's two bytes, b's four bytes. */
static void make_bin(uint8_t bin[18])
{
    float a[3] = {1.5f, -2.0f, INFINITY};
    memcpy(bin, a, sizeof a); /* little-endian hosts only, as the reader's target */
    bin[12] = 7;
    bin[13] = 9;
    bin[14] = 0;
    bin[15] = 1;
    bin[16] = 4;
    bin[17] = 255;
}

static void test_read(void)
{
    uint8_t bin[18];
    make_bin(bin);
    float *a = NULL, *b = NULL, *pool = NULL;
    size_t n_floats = 0;
    struct toon_tfjs_want w[2];
    toon_tfjs_want_set(&w[0], "b", 2, 2, 2, 0, 0, &b);
    toon_tfjs_want_set(&w[1], "a", 1, 3, 0, 0, 0, &a);
    size_t before = toon_alloc_current();
    struct toon_err err;
    CHECK_OK(toon_tfjs_read(manifest, strlen(manifest), bin, sizeof bin, w, 2, 5, "test manifest",
                            &pool, &n_floats, &err));
    CHECK_EQ(n_floats, 16 + 16 + 5);
    CHECK(b == pool && a == pool + 16);
    CHECK_NEAR(a[0], 1.5, 0);
    CHECK_NEAR(a[1], -2.0, 0);
    CHECK_NEAR(a[2], 0.0, 0); /* +inf reads as 0 */
    const double want_b[4] = {-1.0, -0.5, 1.0, 126.5};
    for (int i = 0; i < 4; i++) CHECK_NEAR(b[i], want_b[i], 0);
    toon_free(pool);
    CHECK_EQ(toon_alloc_current(), before);
}

static void test_errors_name_the_manifest(void)
{
    uint8_t bin[18];
    make_bin(bin);
    float *a = NULL, *pool = NULL;
    size_t n_floats = 0;
    struct toon_tfjs_want w;
    toon_tfjs_want_set(&w, "a", 1, 4, 0, 0, 0, &a);
    size_t before = toon_alloc_current();
    struct toon_err err = {{0}};
    CHECK(toon_tfjs_read(manifest, strlen(manifest), bin, sizeof bin, &w, 1, 0, "test manifest",
                         &pool, &n_floats, &err) == TOON_STATUS_MODEL);
    CHECK_STR_EQ(err.msg, "bad test manifest: unexpected shape: a");
    CHECK(pool == NULL);
    toon_tfjs_want_set(&w, "a", 1, 3, 0, 0, 0, &a);
    CHECK(toon_tfjs_read(manifest, strlen(manifest), bin, sizeof bin - 1, &w, 1, 0, "test manifest",
                         &pool, &n_floats, &err) == TOON_STATUS_MODEL);
    CHECK_STR_EQ(err.msg, "bad test manifest: tensors run past the end of the .bin: b");
    CHECK_EQ(toon_alloc_current(), before);
}

static const struct test_case tests[] = {
    {"read", test_read},
    {"errors_name_the_manifest", test_errors_name_the_manifest},
};
TEST_MAIN(tests)
