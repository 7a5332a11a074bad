/*
 * Unit tests of src/image/affine.h: the bilinear sampler (exact at pixel centres, the mean
 * half-way, the border value outside, u8 and float maps alike), affine inversion, and warps
 * (identity, integer and half-pixel shifts, a marked pixel, the border).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "image/affine.h"
#include "test.h"

enum { W = 16, H = 12 };

static void fill(uint8_t *p, size_t n, unsigned seed)
{
    srand(seed);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(rand() & 255);
}

static void test_bilinear_points(void)
{
    uint8_t img[H][W][3];
    float map[H][W];
    fill(&img[0][0][0], sizeof img, 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) map[y][x] = img[y][x][1];
    struct toon_bilinear b;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            toon_bilinear_at(x, y, &b);
            for (int c = 0; c < 3; c++)
                CHECK_NEAR(toon_bilinear_u8(&img[0][0][0], W, H, 3, c, 0, &b), img[y][x][c], 0);
            CHECK_NEAR(toon_bilinear_f32(&map[0][0], W, H, 0, &b), map[y][x], 0);
        }
    /* Half-way between four pixels: their mean. */
    toon_bilinear_at(4.5, 6.5, &b);
    double mean = (img[6][4][2] + img[6][5][2] + img[7][4][2] + img[7][5][2]) / 4.0;
    CHECK_NEAR(toon_bilinear_u8(&img[0][0][0], W, H, 3, 2, 0, &b), mean, 1e-4);
    /* Left of the image by half a pixel: half the first column, half the border. */
    toon_bilinear_at(-0.5, 3, &b);
    CHECK_NEAR(toon_bilinear_f32(&map[0][0], W, H, 100, &b), (map[3][0] + 100) / 2.0, 1e-4);
    toon_bilinear_at(W + 3.25, -7.75, &b);
    CHECK_NEAR(toon_bilinear_u8(&img[0][0][0], W, H, 3, 0, 42, &b), 42, 0);
    CHECK_NEAR(toon_bilinear_f32(&map[0][0], W, H, -1, &b), -1, 0);
}

static void test_affine_invert(void)
{
    double m[6] = {0.8, -0.6, 12.5, 0.6, 0.8, -3.25}, inv[6];
    CHECK(toon_affine_invert(m, inv));
    for (int k = 0; k < 3; k++) {
        double x = k * 7.0 - 3, y = 11.0 - k * 5;
        double u = m[0] * x + m[1] * y + m[2], v = m[3] * x + m[4] * y + m[5];
        CHECK_NEAR(inv[0] * u + inv[1] * v + inv[2], x, 1e-9);
        CHECK_NEAR(inv[3] * u + inv[4] * v + inv[5], y, 1e-9);
    }
    double singular[6] = {1, 2, 0, 2, 4, 0};
    CHECK(!toon_affine_invert(singular, inv));
}

/* Warping a synthetic image with a known similarity puts a marked pixel where expected. */
static void test_warp_synthetic(void)
{
    enum { S = 64 };
    uint8_t src[S * S], dst[S * S];
    memset(src, 0, sizeof src);
    src[20 * S + 30] = 255;
    /* dst(x, y) = src(x + 10, y + 5) */
    double m[6] = {1, 0, 10, 0, 1, 5};
    toon_warp_affine_u8(src, S, S, 1, dst, S, S, m, 7);
    CHECK_EQ(dst[15 * S + 20], 255);
    CHECK_EQ(dst[S * S - 1], 7); /* outside the source: the border value */
}

/* Identity and integer shifts copy pixels; a half-pixel shift rounds the mean of neighbours. */
static void test_warp_shifts(void)
{
    uint8_t src[H][W][3], dst[H][W][3];
    fill(&src[0][0][0], sizeof src, 5);
    double id[6] = {1, 0, 0, 0, 1, 0};
    toon_warp_affine_u8(&src[0][0][0], W, H, 3, &dst[0][0][0], W, H, id, 0);
    CHECK(memcmp(src, dst, sizeof src) == 0);
    double shift[6] = {1, 0, 2, 0, 1, 1};
    toon_warp_affine_u8(&src[0][0][0], W, H, 3, &dst[0][0][0], W, H, shift, 9);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                int want = x + 2 < W && y + 1 < H ? src[y + 1][x + 2][c] : 9;
                CHECK_EQ(dst[y][x][c], want);
            }
    double half[6] = {1, 0, 0.5, 0, 1, 0};
    toon_warp_affine_u8(&src[0][0][0], W, H, 3, &dst[0][0][0], W, H, half, 0);
    for (int y = 0; y < H; y++)
        for (int x = 0; x + 1 < W; x++)
            for (int c = 0; c < 3; c++) {
                int want = (int)floor((src[y][x][c] + src[y][x + 1][c]) / 2.0 + 0.5);
                CHECK_EQ(dst[y][x][c], want);
            }
}

static const struct test_case tests[] = {
    {"bilinear_points", test_bilinear_points},
    {"affine_invert", test_affine_invert},
    {"warp_synthetic", test_warp_synthetic},
    {"warp_shifts", test_warp_shifts},
};

TEST_MAIN(tests)
