/*
 * The five alignment points from the 68 landmarks (spec/PIPELINE.md §5.3): each eye centre is
 * refined to its pupil (grey crop of the eye's bounding box, histogram equalisation as
 * OpenCV's equalizeHist, Otsu threshold over the pixels inside the eye polygon, pupil = the
 * median x and median y of the dark pixels); if either eye fails, both use the mean of their
 * points.  Nose tip = 30, mouth corners = 48 and 54.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "face/face.h"

#define MAX_EYE 512 /* an eye box is clipped to this many pixels per side */

size_t toon_face_five_points_plan_bytes(const struct toon_face *face)
{
    (void)face;
    return (size_t)MAX_EYE * MAX_EYE * (1 + 2 * sizeof(int)) + 3 * toon_alloc_overhead();
}

/* Point-in-polygon (even-odd rule) for the pixel centre (x, y). */
static int inside(const float (*poly)[2], int n, float x, float y)
{
    int in = 0;
    for (int i = 0, j = n - 1; i < n; j = i++) {
        float xi = poly[i][0], yi = poly[i][1], xj = poly[j][0], yj = poly[j][1];
        if ((yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) in = !in;
    }
    return in;
}

/* The k-th smallest of n ints (a counting pass over a small range would do too). */
static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return x < y ? -1 : x > y;
}

/* Refines one eye; returns 0 when there is nothing to refine. */
static int pupil(const struct toon_image *img, const float (*pts)[2], int n, float out[2],
                 uint8_t *grey, int *xs, int *ys)
{
    float mnx = pts[0][0], mxx = pts[0][0], mny = pts[0][1], mxy = pts[0][1];
    for (int i = 1; i < n; i++) {
        mnx = fminf(mnx, pts[i][0]);
        mxx = fmaxf(mxx, pts[i][0]);
        mny = fminf(mny, pts[i][1]);
        mxy = fmaxf(mxy, pts[i][1]);
    }
    int x0 = (int)floorf(mnx), y0 = (int)floorf(mny), x1 = (int)ceilf(mxx) + 1,
        y1 = (int)ceilf(mxy) + 1;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    if (x1 - x0 > MAX_EYE) x1 = x0 + MAX_EYE;
    if (y1 - y0 > MAX_EYE) y1 = y0 + MAX_EYE;
    int w = x1 - x0, h = y1 - y0;
    if (w < 2 || h < 2) return 0;
    /* Grey (OpenCV's RGB2GRAY weights) and its equalised histogram. */
    int hist[256] = {0};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *p = img->data + (size_t)(y0 + y) * img->stride + (size_t)(x0 + x) * 3;
            int g = (p[0] * 4899 + p[1] * 9617 + p[2] * 1868 + 8192) >> 14;
            grey[y * w + x] = (uint8_t)g;
            hist[g]++;
        }
    int lut[256] = {0}, first = 0, total = w * h;
    while (hist[first] == 0) first++;
    if (hist[first] == total) return 0; /* flat: no pupil to see */
    float scale = 255.0f / (float)(total - hist[first]);
    for (int i = first + 1, sum = 0; i < 256; i++) {
        sum += hist[i];
        int v = (int)lroundf((float)sum * scale);
        lut[i] = v > 255 ? 255 : v;
    }
    /* Otsu over the equalised pixels inside the eye polygon. */
    int eh[256] = {0}, n_in = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (inside(pts, n, (float)(x0 + x), (float)(y0 + y))) {
                eh[lut[grey[y * w + x]]]++;
                n_in++;
            }
    if (n_in < 2) return 0;
    double sum_all = 0;
    for (int i = 0; i < 256; i++) sum_all += (double)i * eh[i];
    double best = -1, sum_b = 0;
    int w_b = 0, thr = 0;
    for (int t = 0; t < 256; t++) {
        w_b += eh[t];
        if (w_b == 0) continue;
        int w_f = n_in - w_b;
        if (w_f == 0) break;
        sum_b += (double)t * eh[t];
        double mb = sum_b / w_b, mf = (sum_all - sum_b) / w_f;
        double between = (double)w_b * w_f * (mb - mf) * (mb - mf);
        if (between > best) {
            best = between;
            thr = t;
        }
    }
    int n_dark = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (lut[grey[y * w + x]] <= thr && inside(pts, n, (float)(x0 + x), (float)(y0 + y))) {
                xs[n_dark] = x0 + x;
                ys[n_dark] = y0 + y;
                n_dark++;
            }
    if (n_dark == 0) return 0;
    qsort(xs, (size_t)n_dark, sizeof *xs, cmp_int);
    qsort(ys, (size_t)n_dark, sizeof *ys, cmp_int);
    /* numpy's median: the mean of the two middle values for an even count. */
    out[0] =
        n_dark % 2 ? (float)xs[n_dark / 2] : 0.5f * (float)(xs[n_dark / 2 - 1] + xs[n_dark / 2]);
    out[1] =
        n_dark % 2 ? (float)ys[n_dark / 2] : 0.5f * (float)(ys[n_dark / 2 - 1] + ys[n_dark / 2]);
    return 1;
}

enum toon_status toon_face_five_points(const struct toon_image *img, struct toon_face *face,
                                       int official, struct toon_err *err)
{
    int n = official ? 5 : 6;
    float eye[2][6][2], mean[2][2], ref[2][2];
    for (int e = 0; e < 2; e++) {
        mean[e][0] = mean[e][1] = 0;
        for (int i = 0; i < n; i++) {
            eye[e][i][0] = face->lm[36 + 6 * e + i][0];
            eye[e][i][1] = face->lm[36 + 6 * e + i][1];
            mean[e][0] += eye[e][i][0] / (float)n;
            mean[e][1] += eye[e][i][1] / (float)n;
        }
    }
    uint8_t *grey = toon_malloc((size_t)MAX_EYE * MAX_EYE);
    int *xs = toon_malloc((size_t)MAX_EYE * MAX_EYE * sizeof(int));
    int *ys = toon_malloc((size_t)MAX_EYE * MAX_EYE * sizeof(int));
    enum toon_status st = TOON_STATUS_OK;
    if (!grey || !xs || !ys) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    int ok = pupil(img, (const float(*)[2])eye[0], n, ref[0], grey, xs, ys) &&
             pupil(img, (const float(*)[2])eye[1], n, ref[1], grey, xs, ys);
    for (int e = 0; e < 2; e++) {
        face->pts5[e][0] = ok ? ref[e][0] : mean[e][0];
        face->pts5[e][1] = ok ? ref[e][1] : mean[e][1];
    }
    static const int idx[3] = {30, 48, 54};
    for (int k = 0; k < 3; k++) {
        face->pts5[2 + k][0] = face->lm[idx[k]][0];
        face->pts5[2 + k][1] = face->lm[idx[k]][1];
    }
fail:
    toon_free(grey);
    toon_free(xs);
    toon_free(ys);
    return st;
}
