/*
 * Tests of the pupil refinement of the five points (src/face/fivepts.c, src/face/pupil.c)
 * against DCT-Net's `find_pupil` (spec/PIPELINE.md §5.3), on synthetic pictures whose answer
 * follows from the spec by hand: the eye box's bounds, the whole-box equalisation and Otsu
 * threshold, the element at index count/2 of the sorted coordinates, and the two fallbacks.
 * tests/face/test_pupil_cv2.py compares the same code with OpenCV itself on random cases.
 */
#include <string.h>

#include "face/face.h"
#include "test.h"

enum { W = 40, H = 24 };

static uint8_t g_px[H * W * 3];

/* A white picture with the right eye's pupil, a 3x3 black block centred on (30, 9). */
static struct toon_image picture(void)
{
    memset(g_px, 255, sizeof g_px);
    struct toon_image img = {W, H, 3, W * 3, g_px};
    return img;
}

static void paint(int x0, int y0, int x1, int y1, uint8_t v) /* [x0, x1) x [y0, y1) */
{
    for (int y = y0; y < y1; y++)
        memset(g_px + (size_t)y * W * 3 + x0 * 3, v, (size_t)(x1 - x0) * 3);
}

/* The right eye every test shares: a box [26, 35) x [6, 13) whose pupil is (30, 9). */
static const float right_eye[5][2] = {{26, 6}, {35, 6}, {35, 13}, {26, 13}, {26, 9}};

/* Runs the official five points with these left-eye points (landmarks 36..40). */
static void five_points(const struct toon_image *img, const float (*left)[2], struct toon_face *f)
{
    memset(f, 0, sizeof *f);
    for (int i = 0; i < 6; i++) {
        memcpy(f->lm[36 + i], left[i < 5 ? i : 4], sizeof f->lm[0]);
        memcpy(f->lm[42 + i], right_eye[i < 5 ? i : 4], sizeof f->lm[0]);
    }
    f->has_landmarks = 1;
    struct toon_err err;
    CHECK_OK(toon_face_five_points(img, f, 1, &err));
}

#define CHECK_PT(f, e, x, y)                                                                       \
    do {                                                                                           \
        CHECK_NEAR((f)->pts5[e][0], (x), 1e-5);                                                    \
        CHECK_NEAR((f)->pts5[e][1], (y), 1e-5);                                                    \
    } while (0)

/*
 * The box is the integer truncation of the extremes, upper bounds exclusive: for x in
 * 10.8..19.7 and y in 3.9..9.6 it is [10, 19) x [3, 9).  The dark column x = 19 lies inside
 * the points' polygon but outside that box, so only the 3x3 block centred on (13, 6) counts.
 */
static void test_box_bounds(void)
{
    struct toon_image img = picture();
    paint(29, 8, 32, 11, 0);
    paint(19, 3, 20, 10, 0);
    paint(12, 5, 15, 8, 0);
    static const float left[5][2] = {
        {10.8f, 3.9f}, {19.7f, 3.9f}, {19.7f, 9.6f}, {10.8f, 9.6f}, {10.8f, 6.5f}};
    struct toon_face f;
    five_points(&img, left, &f);
    CHECK_PT(&f, 0, 13, 6);
    CHECK_PT(&f, 1, 30, 9);
}

/*
 * Equalisation and Otsu over the whole box, not the polygon: the box [2, 12) x [4, 14) holds
 * the triangle (0,0) (10,0) (10,10) (box coordinates; OpenCV fills the 55 pixels x >= y),
 * grey 60 on its rows 0..2 and 160 below, and 45 white pixels outside it.  Over the box the
 * white pixels put the cut above 160 (between-class variance 1.04e8 against 7.5e7 for the cut
 * above 60), so the whole triangle is dark: sorted x of its pixels reach index 27 at column 6
 * (1+2+...+7 = 28), sorted y at row 3 (10+9+8 = 27), hence (2 + 6, 4 + 3).  Over the polygon
 * alone only the grey-60 rows would be dark.
 */
static void test_whole_box_otsu(void)
{
    struct toon_image img = picture();
    paint(29, 8, 32, 11, 0);
    for (int y = 0; y < 10; y++)
        for (int x = y; x < 10; x++) paint(2 + x, 4 + y, 3 + x, 5 + y, y < 3 ? 60 : 160);
    static const float left[5][2] = {{2, 4}, {12, 4}, {12, 14}, {12, 14}, {2, 4}};
    struct toon_face f;
    five_points(&img, left, &f);
    CHECK_PT(&f, 0, 8, 7);
    CHECK_PT(&f, 1, 30, 9);
}

/* Four dark pixels (8..9, 9..10): sorted x 8 8 9 9 and y 9 9 10 10, index 4/2 = 2 -> (9, 10),
 * not the average of the two middle values (8.5, 9.5). */
static void test_median_index(void)
{
    struct toon_image img = picture();
    paint(29, 8, 32, 11, 0);
    paint(8, 9, 10, 11, 0);
    static const float left[5][2] = {{4, 6}, {14, 6}, {14, 13}, {4, 13}, {4, 9}};
    struct toon_face f;
    five_points(&img, left, &f);
    CHECK_PT(&f, 0, 9, 10);
    CHECK_PT(&f, 1, 30, 9);
}

/* No dark pixel in the box [4, 13) x [6, 13): its centre (4 + 9/2, 6 + 7/2), and the other eye
 * keeps its pupil (not a failure). */
static void test_no_dark_box_centre(void)
{
    struct toon_image img = picture();
    paint(29, 8, 32, 11, 0);
    static const float left[5][2] = {{4, 6}, {13, 6}, {13, 13}, {4, 13}, {4, 9}};
    struct toon_face f;
    five_points(&img, left, &f);
    CHECK_PT(&f, 0, 8.5, 9.5);
    CHECK_PT(&f, 1, 30, 9);
}

/* A box outside the picture (y = -1.2 truncates to -1; x = 40.5 to 40 = W is still inside,
 * 41.5 to 41 is not) fails the eye, and then both eyes take the mean of their five points. */
static void test_invalid_box_means(void)
{
    struct toon_image img = picture();
    paint(29, 8, 32, 11, 0);
    paint(8, 2, 11, 5, 0);
    float left[5][2] = {{4, -1.2f}, {14, 2}, {14, 7}, {4, 7}, {4, 3}};
    struct toon_face f;
    five_points(&img, (const float(*)[2])left, &f);
    CHECK_PT(&f, 0, (4 + 14 + 14 + 4 + 4) / 5.0, (-1.2f + 2 + 7 + 7 + 3) / 5.0);
    CHECK_PT(&f, 1, (26 + 35 + 35 + 26 + 26) / 5.0, (6 + 6 + 13 + 13 + 9) / 5.0);
    left[0][1] = -0.5f; /* truncates to 0: a valid box */
    five_points(&img, (const float(*)[2])left, &f);
    CHECK_PT(&f, 0, 9, 3);
    CHECK_PT(&f, 1, 30, 9);
    /* The right eye reaching x = 40.5 (box [26, 40)) is valid; 41.5 is past the picture. */
    paint(36, 8, 39, 11, 0);
    static const float valid[5][2] = {{4, 0}, {14, 2}, {14, 7}, {4, 7}, {4, 3}};
    struct toon_face g;
    five_points(&img, valid, &g);
    g.lm[43][0] = g.lm[44][0] = 40.5f;
    CHECK_OK(toon_face_five_points(&img, &g, 1, &(struct toon_err){0}));
    CHECK_PT(&g, 0, 9, 3);
    CHECK_PT(&g, 1, 36, 9); /* the wider box holds a second block: 18 dark pixels, index 9 */
    g.lm[43][0] = g.lm[44][0] = 41.5f;
    CHECK_OK(toon_face_five_points(&img, &g, 1, &(struct toon_err){0}));
    CHECK_PT(&g, 0, (4 + 14 + 14 + 4 + 4) / 5.0, (0 + 2 + 7 + 7 + 3) / 5.0);
    CHECK_PT(&g, 1, (26 + 41.5 + 41.5 + 26 + 26) / 5.0, (6 + 6 + 13 + 13 + 9) / 5.0);
}

static const struct test_case tests[] = {
    {"box_bounds", test_box_bounds},
    {"whole_box_otsu", test_whole_box_otsu},
    {"median_index", test_median_index},
    {"no_dark_box_centre", test_no_dark_box_centre},
    {"invalid_box_means", test_invalid_box_means},
};
TEST_MAIN(tests)
