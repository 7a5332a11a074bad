/*
 * The pupil finder (spec/PIPELINE.md §5.3): the eye's box is the integer truncation of its
 * points' extremes, upper bounds exclusive; its grey crop is histogram-equalised and cut by
 * Otsu's threshold over the whole box; the dark pixels (at or below the threshold, as
 * THRESH_BINARY keeps only those above it) inside the filled convex polygon of the points
 * vote, and the pupil is the element at index count/2 of their sorted x and of their sorted
 * y; with no dark pixel, the box's centre.
 *
 * Each OpenCV operation is rewritten from its documented behaviour and checked against
 * python3-opencv 4.6 (tests/face/test_pupil_cv2.py): the grey is OpenCV's 15-bit fixed point
 * (0.299, 0.587, 0.114 as 9798, 19235, 3735, rounded); the equalisation's table rounds
 * sum * (255 / (total - first count)) in single precision, half to even; Otsu's search runs
 * in double precision and skips classes holding less than FLT_EPSILON of the pixels; the
 * polygon is drawn as OpenCV does, its edges as clipped 8-connected Bresenham lines drawn
 * left to right, then filled one row at a time between two edge walkers in 16.16 fixed point.
 * This file is compiled with -ffp-contract=off so that no multiply-add is fused.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "face/pupil.h"

#define MAX_EYE  TOON_PUPIL_MAX_EYE
#define XY_SHIFT 16
#define XY_ONE   ((int64_t)1 << XY_SHIFT)
#define XY_HALF  (XY_ONE / 2)

size_t toon_pupil_scratch_bytes(void)
{
    /* grey and mask crops, then a count per column and per row */
    return 2 * (size_t)MAX_EYE * MAX_EYE + 2 * (size_t)MAX_EYE * sizeof(int);
}

void toon_pupil_equalize_hist(uint8_t *px, size_t n)
{
    size_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[px[i]]++;
    int first = 0;
    while (first < 256 && hist[first] == 0) first++;
    if (first == 256 || hist[first] == n) return; /* one value: OpenCV sets it again */
    uint8_t lut[256] = {0};
    float scale = 255.0f / (float)(n - hist[first]);
    size_t sum = 0;
    for (int i = first + 1; i < 256; i++) {
        sum += hist[i];
        long v = lrintf((float)sum * scale);
        lut[i] = (uint8_t)(v > 255 ? 255 : v);
    }
    for (size_t i = 0; i < n; i++) px[i] = lut[px[i]];
}

int toon_pupil_otsu_threshold(const uint8_t *px, size_t n)
{
    size_t hist[256] = {0};
    for (size_t i = 0; i < n; i++) hist[px[i]]++;
    double scale = 1.0 / (double)n, mu = 0;
    for (int i = 0; i < 256; i++) mu += i * (double)hist[i];
    mu *= scale;
    double mu1 = 0, q1 = 0, best = 0;
    int thr = 0;
    for (int i = 0; i < 256; i++) {
        double p = (double)hist[i] * scale;
        mu1 *= q1;
        q1 += p;
        double q2 = 1.0 - q1;
        if (fmin(q1, q2) < FLT_EPSILON || fmax(q1, q2) > 1.0 - FLT_EPSILON) continue;
        mu1 = (mu1 + i * p) / q1;
        double mu2 = (mu - q1 * mu1) / q2;
        double sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2);
        if (sigma > best) {
            best = sigma;
            thr = i;
        }
    }
    return thr;
}

/* Cohen-Sutherland against [0, w) x [0, h) as OpenCV's clipLine (truncating divisions);
 * p = {x1, y1, x2, y2}.  Returns 0 when nothing of the segment is left. */
static int outcode(int64_t x, int64_t y, int64_t w, int64_t h)
{
    return (x < 0) + (x > w - 1) * 2 + (y < 0) * 4 + (y > h - 1) * 8;
}

static int clip_line(int64_t w, int64_t h, int64_t p[4])
{
    int c1 = outcode(p[0], p[1], w, h), c2 = outcode(p[2], p[3], w, h);
    if ((c1 & c2) || !(c1 | c2)) return !(c1 | c2);
    if (c1 & 12) {
        int64_t a = c1 < 8 ? 0 : h - 1;
        p[0] += (a - p[1]) * (p[2] - p[0]) / (p[3] - p[1]);
        p[1] = a;
        c1 = outcode(p[0], 0, w, h);
    }
    if (c2 & 12) {
        int64_t a = c2 < 8 ? 0 : h - 1;
        p[2] += (a - p[3]) * (p[2] - p[0]) / (p[3] - p[1]);
        p[3] = a;
        c2 = outcode(p[2], 0, w, h);
    }
    if ((c1 & c2) || !(c1 | c2)) return !(c1 | c2);
    if (c1) {
        int64_t a = c1 == 1 ? 0 : w - 1;
        p[1] += (a - p[0]) * (p[3] - p[1]) / (p[2] - p[0]);
        p[0] = a;
    }
    if (c2) {
        int64_t a = c2 == 1 ? 0 : w - 1;
        p[3] += (a - p[2]) * (p[3] - p[1]) / (p[2] - p[0]);
        p[2] = a;
    }
    return 1;
}

/* An 8-connected line as OpenCV's LineIterator draws it: clipped, then left to right, one
 * pixel per step along the major axis, a minor step whenever the error is negative. */
static void line8(uint8_t *mask, int w, int h, const int a[2], const int b[2])
{
    int64_t p[4] = {a[0], a[1], b[0], b[1]};
    if (!clip_line(w, h, p)) return;
    if (p[2] < p[0]) {
        int64_t t[2] = {p[0], p[1]};
        p[0] = p[2], p[1] = p[3], p[2] = t[0], p[3] = t[1];
    }
    int64_t dx = p[2] - p[0], dy = p[3] - p[1], sy = dy < 0 ? -1 : 1;
    dy *= sy;
    int steep = dy > dx;
    int64_t major = steep ? dy : dx, minor = steep ? dx : dy, err = major - 2 * minor;
    int64_t x = p[0], y = p[1];
    for (int64_t i = 0; i <= major; i++) {
        mask[y * w + x] = 1;
        int step_minor = err < 0;
        err += step_minor ? 2 * (major - minor) : -2 * minor;
        x += steep ? step_minor : 1;
        y += steep ? sy : step_minor * sy;
    }
}

/* One side of the polygon while the fill walks down: the vertex it ends at, its direction
 * around the polygon, x in 16.16 fixed point and its step per row, the row it ends on. */
struct walker {
    int idx, di;
    int64_t x, dx;
    int ye;
};

/* Moves a walker onto its next edge that goes below row y; returns 0 when the polygon's
 * vertices are used up (the shared budget *left, as OpenCV counts them). */
static int next_edge(struct walker *e, const int (*pts)[2], int n, int y, int *left)
{
    int idx0 = e->idx, idx = (idx0 + e->di) % n;
    while ((*left)-- > 0) {
        int ty = pts[idx][1];
        if (ty > y) {
            /* Scaled by multiplying: x may be negative, and shifting a negative value left is
             * undefined in C. */
            int64_t xs = pts[idx0][0] * XY_ONE, xe = pts[idx][0] * XY_ONE;
            e->ye = ty;
            e->dx = ((xe - xs) * 2 + (ty - y)) / (2 * (int64_t)(ty - y));
            e->x = xs;
            e->idx = idx;
            return 1;
        }
        idx0 = idx;
        idx = (idx + e->di) % n;
    }
    return 0;
}

/* Fills the rows between the two walkers, from the top vertex down. */
static void fill_rows(uint8_t *mask, int w, int h, const int (*pts)[2], int n)
{
    int top = 0, ymax = pts[0][1], xmin = pts[0][0], xmax = pts[0][0];
    for (int i = 0; i < n; i++) {
        if (pts[i][1] < pts[top][1]) top = i;
        ymax = pts[i][1] > ymax ? pts[i][1] : ymax;
        xmin = pts[i][0] < xmin ? pts[i][0] : xmin;
        xmax = pts[i][0] > xmax ? pts[i][0] : xmax;
    }
    int y = pts[top][1], left = n;
    if (n < 3 || xmax < 0 || ymax < 0 || xmin >= w || y >= h) return;
    if (ymax > h - 1) ymax = h - 1;
    struct walker e[2] = {{top, 1, -2 * XY_HALF, 0, y}, {top, n - 1, -2 * XY_HALF, 0, y}};
    for (; y <= ymax; y++) {
        for (int i = 0; i < 2; i++)
            if (y >= e[i].ye) next_edge(&e[i], pts, n, y, &left);
        if (left < 0) break;
        if (y >= 0) {
            int l = e[0].x > e[1].x;
            int64_t x1 = (e[l].x + XY_HALF) >> XY_SHIFT, x2 = (e[!l].x + XY_HALF) >> XY_SHIFT;
            if (x2 >= 0 && x1 < w) {
                x1 = x1 < 0 ? 0 : x1;
                x2 = x2 >= w ? w - 1 : x2;
                memset(mask + (size_t)y * w + x1, 1, (size_t)(x2 - x1 + 1));
            }
        }
        e[0].x += e[0].dx;
        e[1].x += e[1].dx;
    }
}

void toon_pupil_fill_convex_poly(uint8_t *mask, int w, int h, const int (*pts)[2], int n)
{
    if (n <= 0 || w <= 0 || h <= 0) return;
    for (int i = 0; i < n; i++) line8(mask, w, h, pts[i == 0 ? n - 1 : i - 1], pts[i]);
    fill_rows(mask, w, h, pts, n);
}

/* The eye's box {x0, y0, x1, y1}; 0 when the reference would reject it (or it is too big). */
static int eye_box(const struct toon_image *img, const float (*pts)[2], int n, int b[4])
{
    float lo[2] = {pts[0][0], pts[0][1]}, hi[2] = {pts[0][0], pts[0][1]};
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            if (!(fabsf(pts[i][k]) < 1e9f)) return 0; /* NaN or absurd: no box */
            lo[k] = fminf(lo[k], pts[i][k]);
            hi[k] = fmaxf(hi[k], pts[i][k]);
        }
    b[0] = (int)lo[0], b[1] = (int)lo[1], b[2] = (int)hi[0], b[3] = (int)hi[1];
    if (b[0] < 0 || b[1] < 0 || b[0] >= b[2] || b[1] >= b[3] || b[2] > img->w || b[3] > img->h)
        return 0;
    return b[2] - b[0] <= MAX_EYE && b[3] - b[1] <= MAX_EYE;
}

void toon_pupil_grey_crop(const struct toon_image *img, int x0, int y0, int w, int h, uint8_t *grey)
{
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++) {
            const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)x * 3;
            *grey++ = (uint8_t)((p[0] * 9798 + p[1] * 19235 + p[2] * 3735 + 16384) >> 15);
        }
}

/* The value at index k of the sorted coordinates, from the count at each coordinate. */
static int sorted_at(const int *count, int n, int k)
{
    int v = 0, seen = count[0];
    while (seen <= k && v + 1 < n) seen += count[++v];
    return v;
}

int toon_pupil_find(const struct toon_image *img, const float (*pts)[2], int n, void *scratch,
                    float out[2])
{
    int b[4], poly[TOON_PUPIL_MAX_POINTS][2];
    if (n < 3 || n > TOON_PUPIL_MAX_POINTS || !eye_box(img, pts, n, b)) return 0;
    int w = b[2] - b[0], h = b[3] - b[1];
    uint8_t *grey = scratch, *mask = grey + (size_t)MAX_EYE * MAX_EYE;
    int *cols = (int *)(mask + (size_t)MAX_EYE * MAX_EYE), *rows = cols + MAX_EYE;
    toon_pupil_grey_crop(img, b[0], b[1], w, h, grey);
    toon_pupil_equalize_hist(grey, (size_t)w * h);
    int thr = toon_pupil_otsu_threshold(grey, (size_t)w * h);
    for (int i = 0; i < n; i++) {
        poly[i][0] = (int)pts[i][0] - b[0]; /* = trunc(pt - box corner): the corner is whole */
        poly[i][1] = (int)pts[i][1] - b[1];
    }
    memset(mask, 0, (size_t)w * h);
    toon_pupil_fill_convex_poly(mask, w, h, (const int(*)[2])poly, n);
    memset(cols, 0, (size_t)w * sizeof *cols);
    memset(rows, 0, (size_t)h * sizeof *rows);
    int n_dark = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if (mask[y * w + x] && grey[y * w + x] <= thr) {
                cols[x]++;
                rows[y]++;
                n_dark++;
            }
    if (n_dark == 0) {
        out[0] = (float)b[0] + (float)w / 2;
        out[1] = (float)b[1] + (float)h / 2;
        return 1;
    }
    out[0] = (float)(b[0] + sorted_at(cols, w, n_dark / 2));
    out[1] = (float)(b[1] + sorted_at(rows, h, n_dark / 2));
    return 1;
}
