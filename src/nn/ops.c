/*
 * Element-wise and window operations of the generator (see ops.h).  These are a few percent
 * of the work; plain C that the compiler vectorises is enough.  The streaming executor calls
 * them a row at a time, so the work is split over threads by segments of columns, not rows:
 * a thread waiting for another is time the convolutions lose.
 */
#include "nn/ops.h"

#include <string.h>

#include "core/parallel.h"

/* Four floats (SSE2, every x86-64 CPU).  GCC's -O2 leaves these loops scalar (its cheapest
 * vectorising model refuses loops that need a run-time alias check or a remainder loop), so
 * the hot loops say what they mean.  Vector and scalar code do the same IEEE operations in
 * the same order (separate multiplies and adds: no contraction in ISO C mode), so which one
 * computes an element changes none of its bits. */
typedef float v4 __attribute__((vector_size(16)));
#define V4 4

static inline v4 ld4(const float *p)
{
    v4 v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4(float *p, v4 v)
{
    memcpy(p, &v, sizeof v);
}

static inline v4 splat4(float f)
{
    v4 v = {f, f, f, f};
    return v;
}

/* Work items: (row, segment of SEG columns). */
enum { SEG = 256 };

static int n_segments(int w)
{
    return (w + SEG - 1) / SEG;
}

static void segment(int i, int n_seg, int w, int *r, int *x0, int *x1)
{
    *r = i / n_seg;
    *x0 = (i % n_seg) * SEG;
    *x1 = *x0 + SEG < w ? *x0 + SEG : w;
}

/* ---- upsample x2 (TF1 legacy: align_corners=false, half_pixel_centers=false) + skip ----- */
struct upadd_job {
    const struct toon_rows *src, *skip;
    struct toon_rows *dst;
    int h_src, w_src, w, c, r0, n_seg;
};

static void upadd_row(void *ctx, int i)
{
    const struct upadd_job *j = ctx;
    int r, xa, xb, c = j->c;
    segment(i, j->n_seg, j->w, &r, &xa, &xb);
    r += j->r0;
    int y0 = r / 2, y1 = y0 + 1 < j->h_src ? y0 + 1 : j->h_src - 1;
    float dy = (r & 1) ? 0.5f : 0.0f;
    const float *t = toon_rows_at(j->src, y0), *b = toon_rows_at(j->src, y1);
    const float *s = toon_rows_at(j->skip, r);
    float *d = toon_rows_at(j->dst, r);
    for (int x = xa; x < xb; x++) {
        int x0 = x / 2, x1 = x0 + 1 < j->w_src ? x0 + 1 : j->w_src - 1;
        float dx = (x & 1) ? 0.5f : 0.0f;
        const float *t0 = t + (long)x0 * c, *t1 = t + (long)x1 * c;
        const float *b0 = b + (long)x0 * c, *b1 = b + (long)x1 * c;
        const float *sx = s + (long)x * c;
        float *dx_ = d + (long)x * c;
        int k = 0;
        v4 vdx = splat4(dx), vdy = splat4(dy);
        for (; k + V4 <= c; k += V4) {
            v4 top = ld4(t0 + k) + (ld4(t1 + k) - ld4(t0 + k)) * vdx;
            v4 bot = ld4(b0 + k) + (ld4(b1 + k) - ld4(b0 + k)) * vdx;
            st4(dx_ + k, top + (bot - top) * vdy + ld4(sx + k));
        }
        for (; k < c; k++) {
            float top = t0[k] + (t1[k] - t0[k]) * dx;
            float bot = b0[k] + (b1[k] - b0[k]) * dx;
            dx_[k] = top + (bot - top) * dy + sx[k];
        }
    }
}

void toon_op_upadd(const struct toon_rows *src, int h_src, int w_src, const struct toon_rows *skip,
                   struct toon_rows *dst, int w, int c, int r0, int r1)
{
    struct upadd_job j = {src, skip, dst, h_src, w_src, w, c, r0, n_segments(w)};
    toon_parallel_for((r1 - r0) * j.n_seg, upadd_row, &j);
}

/* ---- residual add ---------------------------------------------------------------------- */
struct add_job {
    const struct toon_rows *res;
    struct toon_rows *dst;
    long n;
    int r0, n_seg;
};

enum { ADD_SEG = 16384 }; /* values per work item */

static void add_row(void *ctx, int i)
{
    const struct add_job *j = ctx;
    int r = j->r0 + i / j->n_seg;
    long k0 = (long)(i % j->n_seg) * ADD_SEG, k1 = k0 + ADD_SEG < j->n ? k0 + ADD_SEG : j->n;
    const float *a = toon_rows_at(j->res, r);
    float *d = toon_rows_at(j->dst, r);
    long k = k0;
    for (; k + V4 <= k1; k += V4) st4(d + k, ld4(d + k) + ld4(a + k));
    for (; k < k1; k++) d[k] += a[k];
}

void toon_op_add(const struct toon_rows *res, struct toon_rows *dst, long n, int r0, int r1)
{
    struct add_job j = {res, dst, n, r0, (int)((n + ADD_SEG - 1) / ADD_SEG)};
    toon_parallel_for((r1 - r0) * j.n_seg, add_row, &j);
}

/* ---- guided filter ----------------------------------------------------------------------
 * TF computes box(v) as a depthwise 3x3 convolution with every weight equal to box_weight and
 * zero padding, and N = box(ones), so the means are true means at the borders.  We sum
 * box_weight * v over the valid taps in row-major order, like the convolution does. */
struct gf_job {
    const struct toon_gf_params *p;
    const struct toon_rows *a, *b; /* ab: x, y  /  out: ab, x */
    struct toon_rows *dst;
    int r0, n_seg;
};

static float box_n(const struct toon_gf_params *p, int r, int x)
{
    float n = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++)
            if (r + dy >= 0 && r + dy < p->h && x + dx >= 0 && x + dx < p->w) n += p->box_weight;
    return n;
}

/* The A and b of one pixel, the taps of the image's border left out. */
static void gf_ab_px(const struct gf_job *j, int r, int x, float *d)
{
    const struct toon_gf_params *p = j->p;
    float n = box_n(p, r, x);
    for (int c = 0; c < 3; c++) {
        float sx = 0, sy = 0, sxy = 0, sxx = 0;
        for (int dy = -1; dy <= 1; dy++) {
            if (r + dy < 0 || r + dy >= p->h) continue;
            const float *xr = toon_rows_at(j->a, r + dy), *yr = toon_rows_at(j->b, r + dy);
            for (int dx = -1; dx <= 1; dx++) {
                if (x + dx < 0 || x + dx >= p->w) continue;
                float xv = xr[(x + dx) * 3 + c], yv = yr[(x + dx) * 3 + c];
                sx += p->box_weight * xv;
                sy += p->box_weight * yv;
                sxy += p->box_weight * (xv * yv);
                sxx += p->box_weight * (xv * xv);
            }
        }
        float mx = sx / n, my = sy / n;
        float cov = sxy / n - mx * my, var = sxx / n - mx * mx;
        float A = cov / (var + p->eps);
        d[x * 3 + c] = A;
        d[(long)p->w * 3 + x * 3 + c] = my - A * mx;
    }
}

/* Pixels away from every border, four values (pixel, channel) at a time: the same sums. */
static void gf_ab_inner(const struct gf_job *j, int r, int x0, int x1, float *d)
{
    const struct toon_gf_params *p = j->p;
    const float *xr[3], *yr[3];
    for (int k = 0; k < 3; k++) {
        xr[k] = toon_rows_at(j->a, r - 1 + k);
        yr[k] = toon_rows_at(j->b, r - 1 + k);
    }
    v4 bw = splat4(p->box_weight), n = splat4(box_n(p, r, x0)), eps = splat4(p->eps);
    long e = (long)x0 * 3, e1 = (long)x1 * 3, w3 = (long)p->w * 3;
    for (; e + V4 <= e1; e += V4) {
        v4 sx = splat4(0), sy = sx, sxy = sx, sxx = sx;
        for (int k = 0; k < 3; k++)
            for (int dx = -3; dx <= 3; dx += 3) {
                v4 xv = ld4(xr[k] + e + dx), yv = ld4(yr[k] + e + dx);
                sx += bw * xv;
                sy += bw * yv;
                sxy += bw * (xv * yv);
                sxx += bw * (xv * xv);
            }
        v4 mx = sx / n, my = sy / n;
        v4 cov = sxy / n - mx * my, var = sxx / n - mx * mx;
        v4 A = cov / (var + eps);
        st4(d + e, A);
        st4(d + w3 + e, my - A * mx);
    }
    for (int x = (int)(e / 3); x < x1; x++) gf_ab_px(j, r, x, d);
}

/* ab rows hold A for every (pixel, channel), then b: [2][w][3]. */
static void gf_ab_row(void *ctx, int i)
{
    const struct gf_job *j = ctx;
    const struct toon_gf_params *p = j->p;
    int r, xa, xb;
    segment(i, j->n_seg, p->w, &r, &xa, &xb);
    r += j->r0;
    float *d = toon_rows_at(j->dst, r);
    int lo = xa > 1 ? xa : 1, hi = xb < p->w - 1 ? xb : p->w - 1;
    if (r < 1 || r >= p->h - 1 || lo >= hi) {
        for (int x = xa; x < xb; x++) gf_ab_px(j, r, x, d);
        return;
    }
    for (int x = xa; x < lo; x++) gf_ab_px(j, r, x, d);
    gf_ab_inner(j, r, lo, hi, d);
    for (int x = hi; x < xb; x++) gf_ab_px(j, r, x, d);
}

static void gf_out_px(const struct gf_job *j, int r, int x, const float *xr, float *d)
{
    const struct toon_gf_params *p = j->p;
    float n = box_n(p, r, x);
    long w3 = (long)p->w * 3;
    for (int c = 0; c < 3; c++) {
        float sa = 0, sb = 0;
        for (int dy = -1; dy <= 1; dy++) {
            if (r + dy < 0 || r + dy >= p->h) continue;
            const float *ab = toon_rows_at(j->a, r + dy);
            for (int dx = -1; dx <= 1; dx++) {
                if (x + dx < 0 || x + dx >= p->w) continue;
                sa += p->box_weight * ab[(x + dx) * 3 + c];
                sb += p->box_weight * ab[w3 + (x + dx) * 3 + c];
            }
        }
        d[x * 3 + c] = (sa / n) * xr[x * 3 + c] + sb / n;
    }
}

static void gf_out_inner(const struct gf_job *j, int r, int x0, int x1, const float *xr, float *d)
{
    const struct toon_gf_params *p = j->p;
    const float *ab[3];
    for (int k = 0; k < 3; k++) ab[k] = toon_rows_at(j->a, r - 1 + k);
    v4 bw = splat4(p->box_weight), n = splat4(box_n(p, r, x0));
    long e = (long)x0 * 3, e1 = (long)x1 * 3, w3 = (long)p->w * 3;
    for (; e + V4 <= e1; e += V4) {
        v4 sa = splat4(0), sb = sa;
        for (int k = 0; k < 3; k++)
            for (int dx = -3; dx <= 3; dx += 3) {
                sa += bw * ld4(ab[k] + e + dx);
                sb += bw * ld4(ab[k] + w3 + e + dx);
            }
        st4(d + e, (sa / n) * ld4(xr + e) + sb / n);
    }
    for (int x = (int)(e / 3); x < x1; x++) gf_out_px(j, r, x, xr, d);
}

static void gf_out_row(void *ctx, int i)
{
    const struct gf_job *j = ctx;
    const struct toon_gf_params *p = j->p;
    int r, xa, xb;
    segment(i, j->n_seg, p->w, &r, &xa, &xb);
    r += j->r0;
    const float *xr = toon_rows_at(j->b, r);
    float *d = toon_rows_at(j->dst, r);
    int lo = xa > 1 ? xa : 1, hi = xb < p->w - 1 ? xb : p->w - 1;
    if (r < 1 || r >= p->h - 1 || lo >= hi) {
        for (int x = xa; x < xb; x++) gf_out_px(j, r, x, xr, d);
        return;
    }
    for (int x = xa; x < lo; x++) gf_out_px(j, r, x, xr, d);
    gf_out_inner(j, r, lo, hi, xr, d);
    for (int x = hi; x < xb; x++) gf_out_px(j, r, x, xr, d);
}

void toon_op_gf_ab(const struct toon_gf_params *p, const struct toon_rows *x,
                   const struct toon_rows *y, struct toon_rows *ab, int r0, int r1)
{
    struct gf_job j = {p, x, y, ab, r0, n_segments(p->w)};
    toon_parallel_for((r1 - r0) * j.n_seg, gf_ab_row, &j);
}

void toon_op_gf_out(const struct toon_gf_params *p, const struct toon_rows *ab,
                    const struct toon_rows *x, struct toon_rows *out, int r0, int r1)
{
    struct gf_job j = {p, ab, x, out, r0, n_segments(p->w)};
    toon_parallel_for((r1 - r0) * j.n_seg, gf_out_row, &j);
}
