/*
 * Element-wise and window operations of the generator (see ops.h).  These are a few percent
 * of the work; plain C that the compiler vectorises is enough.  The streaming executor calls
 * them a row at a time, so the work is split over threads by segments of columns, not rows:
 * a thread waiting for another is time the convolutions lose.
 */
#include "nn/ops.h"

#include "core/parallel.h"

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
        for (int k = 0; k < c; k++) {
            float top = t0[k] + (t1[k] - t0[k]) * dx;
            float bot = b0[k] + (b1[k] - b0[k]) * dx;
            d[(long)x * c + k] = top + (bot - top) * dy + s[(long)x * c + k];
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
    for (long k = k0; k < k1; k++) d[k] += a[k];
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

static void gf_ab_row(void *ctx, int i)
{
    const struct gf_job *j = ctx;
    const struct toon_gf_params *p = j->p;
    int r, xa, xb;
    segment(i, j->n_seg, p->w, &r, &xa, &xb);
    r += j->r0;
    float *d = toon_rows_at(j->dst, r);
    for (int x = xa; x < xb; x++) {
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
            d[x * 6 + c] = A;
            d[x * 6 + 3 + c] = my - A * mx;
        }
    }
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
    for (int x = xa; x < xb; x++) {
        float n = box_n(p, r, x);
        for (int c = 0; c < 3; c++) {
            float sa = 0, sb = 0;
            for (int dy = -1; dy <= 1; dy++) {
                if (r + dy < 0 || r + dy >= p->h) continue;
                const float *ab = toon_rows_at(j->a, r + dy);
                for (int dx = -1; dx <= 1; dx++) {
                    if (x + dx < 0 || x + dx >= p->w) continue;
                    sa += p->box_weight * ab[(x + dx) * 6 + c];
                    sb += p->box_weight * ab[(x + dx) * 6 + 3 + c];
                }
            }
            d[x * 3 + c] = (sa / n) * xr[x * 3 + c] + sb / n;
        }
    }
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
