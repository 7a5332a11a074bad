/*
 * A filter for tests/face/test_pupil_cv2.py: reads cases from stdin and writes what the pupil
 * finder's primitives (src/face/pupil.c) and the five points' eyes make of them to stdout, so
 * that the script can compare them with OpenCV on the same bytes.  Integers and floats are
 * 32-bit little-endian; each case starts with one letter:
 *   G w h rgb[h*w*3]                 -> its grey (w*h bytes)
 *   E n px[n]                        -> the equalised px[n]
 *   O n px[n]                        -> the Otsu threshold (i32)
 *   P w h n (x y)[n]                 -> the w*h mask (0/1) of the filled convex polygon
 *   F w h official rgb[h*w*3] (x y)[12] (landmarks 36..47) -> pts5[0], pts5[1] (4 f32)
 * Exit status 0 at the end of the input, 2 on a malformed case.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "face/face.h"
#include "face/pupil.h"

static void *read_n(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p || fread(p, 1, n, stdin) != n) exit(2);
    return p;
}

static int32_t read_i32(void)
{
    int32_t v;
    if (fread(&v, sizeof v, 1, stdin) != 1) exit(2);
    return v;
}

static void check_size(int32_t w, int32_t h)
{
    if (w < 0 || h < 0 || w > 4096 || h > 4096) exit(2);
}

static void grey(void)
{
    int32_t w = read_i32(), h = read_i32();
    check_size(w, h);
    struct toon_image img = {w, h, 3, (size_t)w * 3, read_n((size_t)w * h * 3)};
    uint8_t *g = malloc((size_t)w * h + 1);
    if (!g) exit(2);
    toon_pupil_grey_crop(&img, 0, 0, w, h, g);
    fwrite(g, 1, (size_t)w * h, stdout);
    free(g);
    free(img.data);
}

static void equalize(void)
{
    int32_t n = read_i32();
    check_size(n, 0);
    uint8_t *px = read_n((size_t)n);
    toon_pupil_equalize_hist(px, (size_t)n);
    fwrite(px, 1, (size_t)n, stdout);
    free(px);
}

static void otsu(void)
{
    int32_t n = read_i32();
    check_size(n, 0);
    uint8_t *px = read_n((size_t)n);
    int32_t t = toon_pupil_otsu_threshold(px, (size_t)n);
    fwrite(&t, sizeof t, 1, stdout);
    free(px);
}

static void polygon(void)
{
    int32_t w = read_i32(), h = read_i32(), n = read_i32();
    check_size(w, h);
    if (n < 0 || n > 64) exit(2);
    int32_t(*pts)[2] = read_n((size_t)n * sizeof *pts);
    int ipts[64][2];
    for (int i = 0; i < n; i++) ipts[i][0] = pts[i][0], ipts[i][1] = pts[i][1];
    uint8_t *mask = calloc((size_t)w * h + 1, 1);
    if (!mask) exit(2);
    toon_pupil_fill_convex_poly(mask, w, h, (const int(*)[2])ipts, n);
    fwrite(mask, 1, (size_t)w * h, stdout);
    free(mask);
    free(pts);
}

static void eyes(void)
{
    int32_t w = read_i32(), h = read_i32(), official = read_i32();
    check_size(w, h);
    struct toon_image img = {w, h, 3, (size_t)w * 3, read_n((size_t)w * h * 3)};
    float(*lm)[2] = read_n(12 * sizeof *lm);
    struct toon_face f;
    memset(&f, 0, sizeof f);
    memcpy(f.lm[36], lm, 12 * sizeof *lm);
    struct toon_err err;
    if (toon_face_five_points(&img, &f, official, &err) != TOON_STATUS_OK) exit(3);
    fwrite(f.pts5, sizeof f.pts5[0], 2, stdout);
    free(lm);
    free(img.data);
}

int main(void)
{
    int kind;
    while ((kind = getchar()) != EOF) {
        switch (kind) {
        case 'G':
            grey();
            break;
        case 'E':
            equalize();
            break;
        case 'O':
            otsu();
            break;
        case 'P':
            polygon();
            break;
        case 'F':
            eyes();
            break;
        default:
            return 2;
        }
    }
    return fflush(stdout) != 0;
}
