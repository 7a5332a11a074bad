/*
 * Streaming u8 resize with OpenCV's arithmetic (see resize.h).  Three kernels, chosen like
 * cv::resize chooses them:
 *
 *   - AREA with integer factors ("area fast"): integer block sums, rounded as OpenCV rounds
 *     (halves up in its 2x2 kernel, to even otherwise);
 *   - AREA downscale with other factors: per-axis tables of (source index, float weight) for
 *     each destination cell (OpenCV's computeResizeAreaTab), a row is first resampled
 *     horizontally in float, then rows are accumulated with their vertical weights;
 *   - LINEAR, and AREA upscale (OpenCV emulates it with linear weights computed differently):
 *     11-bit fixed-point weights, a horizontal pass into int rows and a vertical blend of two
 *     such rows, rounded like OpenCV's vector kernel.
 *
 * Source rows are pulled one at a time through the callback, in order; a resampled row is kept
 * while a later destination row may still need it, so memory is O(width).
 */
#include "image/resize.h"

#include <limits.h>
#include <math.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/alloc.h"
#include "image/backend.h"

#define COEF_BITS    11
#define COEF_SCALE   (1 << COEF_BITS)
#define MAX_CHANNELS 16

enum resize_mode { MODE_COPY, MODE_AREA_FAST, MODE_AREA, MODE_LINEAR };

/* One source cell of a destination cell along one axis. */
struct area_w {
    int si;      /* source index */
    int di;      /* destination index */
    float alpha; /* weight */
};

struct toon_resizer {
    int sw, sh, dw, dh, c;
    enum resize_mode mode;
    toon_rows_fn src;
    void *src_ctx;
    int src_y; /* rows pulled so far */
    int dy;    /* next destination row */
    enum toon_status failed;
    uint8_t *row; /* [sw][c]: the last source row pulled (index src_y - 1) */

    /* MODE_AREA_FAST */
    int kx, ky;   /* integer factors */
    int64_t *acc; /* [dw * c] block sums (a 16384x16384 block of 255 needs 37 bits) */

    /* MODE_AREA */
    double scale_y;
    struct area_w *xtab; /* [n_xtab] in OpenCV's order */
    int n_xtab;
    struct area_w *ycell; /* [max_ycell] scratch for one destination row */
    int max_ycell;
    float *buf; /* [dw * c] the current source row, resampled horizontally */
    int buf_y;  /* which source row buf holds, -1 for none */
    float *sum; /* [dw * c] */

    /* MODE_LINEAR */
    int area_mode; /* OpenCV's INTER_AREA upscale coefficients */
    double scale_yl, inv_scale_y;
    int *xofs;       /* [dw] source x of each destination x */
    int16_t *xalpha; /* [dw][2] */
    int32_t *hb[2];  /* [dw * c] two horizontally resampled rows */
    int hb_y[2];     /* their source rows, -1 for none */
};

static uint8_t sat_u8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static int16_t sat_s16(int v)
{
    return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v);
}

/* cv::saturate_cast<uchar>(float): round to nearest even, then clamp. */
static uint8_t round_u8(float v)
{
    long r = lrintf(v);
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

/* ---- mode selection (cv::resize) ---------------------------------------------------------- */

static double axis_scale(int s, int d)
{
    double inv = (double)d / s;
    return 1. / inv;
}

static int is_integral(double scale)
{
    double r = (double)lrint(scale);
    return fabs(scale - r) < 2.220446049250313e-16; /* DBL_EPSILON, as OpenCV tests it */
}

static enum resize_mode choose_mode(int sw, int sh, int dw, int dh, enum toon_resize_filter f,
                                    int *area_mode)
{
    *area_mode = 0;
    if (sw == dw && sh == dh) return MODE_COPY;
    double sx = axis_scale(sw, dw), sy = axis_scale(sh, dh);
    int fast = is_integral(sx) && is_integral(sy);
    int area = f == TOON_RESIZE_AREA;
    if (!area && fast && lrint(sx) == 2 && lrint(sy) == 2) area = 1; /* as OpenCV does */
    if (area && sx >= 1 && sy >= 1) return fast ? MODE_AREA_FAST : MODE_AREA;
    *area_mode = area;
    return MODE_LINEAR;
}

/* ---- area tables (computeResizeAreaTab) --------------------------------------------------- */

/* The cells of destination index d along an axis of ssize source cells.  out may be NULL
 * (count only); returns the count. */
static int area_cell(int ssize, double scale, int d, struct area_w *out)
{
    double f1 = d * scale, f2 = f1 + scale;
    double cell = scale < ssize - f1 ? scale : ssize - f1;
    int s1 = (int)ceil(f1), s2 = (int)floor(f2);
    if (s2 > ssize - 1) s2 = ssize - 1;
    if (s1 > s2) s1 = s2;
    int k = 0;
    if (s1 - f1 > 1e-3) {
        if (out) out[k] = (struct area_w){s1 - 1, d, (float)((s1 - f1) / cell)};
        k++;
    }
    for (int s = s1; s < s2; s++) {
        if (out) out[k] = (struct area_w){s, d, (float)(1.0 / cell)};
        k++;
    }
    if (f2 - s2 > 1e-3) {
        double part = f2 - s2 < 1. ? f2 - s2 : 1.;
        if (out) out[k] = (struct area_w){s2, d, (float)((part < cell ? part : cell) / cell)};
        k++;
    }
    return k;
}

/* ---- linear coefficients ----------------------------------------------------------------- */

/* Source index and fraction of destination index d (before edge clamping). */
static void linear_pos(int d, double scale, double inv_scale, int area_mode, int *s, float *f)
{
    float fx;
    int sx;
    if (!area_mode) {
        fx = (float)((d + 0.5) * scale - 0.5);
        sx = (int)floorf(fx);
        fx -= (float)sx;
    } else {
        sx = (int)floor(d * scale);
        fx = (float)((d + 1) - (sx + 1) * inv_scale);
        fx = fx <= 0 ? 0.f : fx - floorf(fx);
    }
    *s = sx;
    *f = fx;
}

static int16_t coef(float v)
{
    return sat_s16((int)lrintf(v * COEF_SCALE));
}

/* ---- planning and construction ----------------------------------------------------------- */

static size_t plan_impl(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f)
{
    size_t total = toon_plan_block(sizeof(struct toon_resizer));
    size_t drow = toon_plan_mul((size_t)dw, (size_t)c);
    total = toon_plan_add(total, toon_plan_block(toon_plan_mul((size_t)sw, (size_t)c)));
    int area_mode;
    switch (choose_mode(sw, sh, dw, dh, f, &area_mode)) {
    case MODE_COPY:
        break;
    case MODE_AREA_FAST:
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul(drow, 8)));
        break;
    case MODE_AREA: {
        /* At most ceil(scale) + 2 cells per destination index. */
        size_t nx = toon_plan_add(toon_plan_mul((size_t)dw, (size_t)(sw / dw + 3)), 0);
        size_t ny = (size_t)(sh / dh + 3);
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul(nx, sizeof(struct area_w))));
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul(ny, sizeof(struct area_w))));
        total = toon_plan_add(total, toon_plan_mul(2, toon_plan_block(toon_plan_mul(drow, 4))));
        break;
    }
    case MODE_LINEAR:
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul((size_t)dw, sizeof(int))));
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul((size_t)dw, 4)));
        total = toon_plan_add(total, toon_plan_mul(2, toon_plan_block(toon_plan_mul(drow, 4))));
        break;
    }
    return total;
}

size_t toon_resizer_plan_bytes(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f)
{
    if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || c <= 0) return 0;
    return plan_impl(sw, sh, dw, dh, c, f);
}

static void *alloc_array(size_t n, size_t size, int *ok)
{
    size_t bytes;
    void *p = toon_size_mul(n, size, &bytes) ? toon_malloc(bytes ? bytes : 1) : NULL;
    if (!p) *ok = 0;
    return p;
}

enum toon_status toon_resizer_new(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f,
                                  toon_rows_fn src, void *src_ctx, struct toon_resizer **out,
                                  struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    if (sw <= 0 || sh <= 0 || dw <= 0 || dh <= 0 || c <= 0 || c > MAX_CHANNELS || !src)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "cannot resize %dx%dx%d to %dx%d",
                            sw, sh, c, dw, dh);
    if (f != TOON_RESIZE_AREA && f != TOON_RESIZE_BILINEAR)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "unknown resize filter %d", (int)f);
    struct toon_resizer *rz = toon_calloc(1, sizeof *rz);
    if (!rz) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for the resizer");
    rz->sw = sw, rz->sh = sh, rz->dw = dw, rz->dh = dh, rz->c = c;
    rz->src = src;
    rz->src_ctx = src_ctx;
    rz->mode = choose_mode(sw, sh, dw, dh, f, &rz->area_mode);
    rz->buf_y = rz->hb_y[0] = rz->hb_y[1] = -1;
    size_t drow = (size_t)dw * (size_t)c;
    int ok = 1;
    rz->row = alloc_array((size_t)sw, (size_t)c, &ok);
    double sx = axis_scale(sw, dw);
    switch (rz->mode) {
    case MODE_COPY:
        break;
    case MODE_AREA_FAST:
        rz->kx = (int)lrint(sx);
        rz->ky = (int)lrint(axis_scale(sh, dh));
        rz->acc = alloc_array(drow, sizeof(int64_t), &ok);
        break;
    case MODE_AREA:
        rz->scale_y = axis_scale(sh, dh);
        for (int d = 0; d < dw; d++) rz->n_xtab += area_cell(sw, sx, d, NULL);
        rz->xtab = alloc_array((size_t)rz->n_xtab, sizeof(struct area_w), &ok);
        for (int d = 0; d < dh; d++) {
            int n = area_cell(sh, rz->scale_y, d, NULL);
            if (n > rz->max_ycell) rz->max_ycell = n;
        }
        rz->ycell = alloc_array((size_t)rz->max_ycell, sizeof(struct area_w), &ok);
        rz->buf = alloc_array(drow, sizeof(float), &ok);
        rz->sum = alloc_array(drow, sizeof(float), &ok);
        if (ok)
            for (int d = 0, k = 0; d < dw; d++) k += area_cell(sw, sx, d, rz->xtab + k);
        break;
    case MODE_LINEAR: {
        rz->xofs = alloc_array((size_t)dw, sizeof(int), &ok);
        rz->xalpha = alloc_array((size_t)dw * 2, sizeof(int16_t), &ok);
        rz->hb[0] = alloc_array(drow, sizeof(int32_t), &ok);
        rz->hb[1] = alloc_array(drow, sizeof(int32_t), &ok);
        rz->scale_yl = axis_scale(sh, dh);
        rz->inv_scale_y = (double)dh / sh;
        if (!ok) break;
        double inv_sx = (double)dw / sw;
        for (int d = 0; d < dw; d++) {
            int s;
            float fx;
            linear_pos(d, sx, inv_sx, rz->area_mode, &s, &fx);
            if (s < 0) fx = 0, s = 0;
            if (s >= sw - 1) fx = 0, s = sw - 1;
            rz->xofs[d] = s;
            rz->xalpha[2 * d] = coef(1.f - fx);
            rz->xalpha[2 * d + 1] = coef(fx);
        }
        break;
    }
    }
    if (!ok) {
        toon_resizer_free(rz);
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for the resizer");
    }
    *out = rz;
    return TOON_STATUS_OK;
}

void toon_resizer_free(struct toon_resizer *rz)
{
    if (!rz) return;
    toon_free(rz->row);
    toon_free(rz->acc);
    toon_free(rz->xtab);
    toon_free(rz->ycell);
    toon_free(rz->buf);
    toon_free(rz->sum);
    toon_free(rz->xofs);
    toon_free(rz->xalpha);
    toon_free(rz->hb[0]);
    toon_free(rz->hb[1]);
    toon_free(rz);
}

/* Pulls source rows until row y is in rz->row. */
static enum toon_status pull_to(struct toon_resizer *rz, int y, struct toon_err *err)
{
    if (rz->src_y > y + 1)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "resizer needs source row %d again", y);
    while (rz->src_y <= y) {
        enum toon_status st = rz->src(rz->src_ctx, rz->row, 1, err);
        if (st != TOON_STATUS_OK) return st;
        rz->src_y++;
    }
    return TOON_STATUS_OK;
}

/* ---- kernels ----------------------------------------------------------------------------- */

static enum toon_status copy_row(struct toon_resizer *rz, uint8_t *dst, struct toon_err *err)
{
    return rz->src(rz->src_ctx, dst, 1, err);
}

static enum toon_status area_fast_row(struct toon_resizer *rz, int dy, uint8_t *dst,
                                      struct toon_err *err)
{
    int c = rz->c, kx = rz->kx, ky = rz->ky;
    size_t n = (size_t)rz->dw * (size_t)c;
    memset(rz->acc, 0, n * sizeof(int64_t));
    for (int j = 0; j < ky; j++) {
        enum toon_status st = pull_to(rz, dy * ky + j, err);
        if (st != TOON_STATUS_OK) return st;
        const uint8_t *s = rz->row;
        int64_t *acc = rz->acc;
        if (kx == 2) { /* the common case, without the inner loop */
            for (size_t i = 0, dx = 0; dx < (size_t)rz->dw; dx++, s += 2 * c)
                for (int k = 0; k < c; k++, i++) acc[i] += s[k] + s[k + c];
            continue;
        }
        for (int dx = 0; dx < rz->dw; dx++) {
            const uint8_t *p = s + (size_t)dx * (size_t)kx * (size_t)c;
            for (int i = 0; i < kx; i++)
                for (int k = 0; k < c; k++) acc[(size_t)dx * c + k] += p[i * c + k];
        }
    }
    /* OpenCV's 2x2 kernel (1, 3 or 4 channels) rounds halves up, its general one to even. */
    if (kx == 2 && ky == 2 && (c == 1 || c == 3 || c == 4)) {
        for (size_t i = 0; i < n; i++) dst[i] = sat_u8((int)((rz->acc[i] + 2) >> 2));
    } else {
        float scale = 1.f / (float)(kx * ky);
        for (size_t i = 0; i < n; i++) dst[i] = round_u8((float)rz->acc[i] * scale);
    }
    return TOON_STATUS_OK;
}

static enum toon_status area_row(struct toon_resizer *rz, int dy, uint8_t *dst,
                                 struct toon_err *err)
{
    int c = rz->c;
    size_t n = (size_t)rz->dw * (size_t)c;
    int cells = area_cell(rz->sh, rz->scale_y, dy, rz->ycell);
    for (int j = 0; j < cells; j++) {
        int sy = rz->ycell[j].si;
        float beta = rz->ycell[j].alpha;
        if (rz->buf_y != sy) {
            enum toon_status st = pull_to(rz, sy, err);
            if (st != TOON_STATUS_OK) return st;
            memset(rz->buf, 0, n * sizeof(float));
            for (int k = 0; k < rz->n_xtab; k++) {
                const struct area_w *t = &rz->xtab[k];
                const uint8_t *s = rz->row + (size_t)t->si * c;
                float *b = rz->buf + (size_t)t->di * c;
                for (int ch = 0; ch < c; ch++) b[ch] += (float)s[ch] * t->alpha;
            }
            rz->buf_y = sy;
        }
        if (j == 0)
            for (size_t i = 0; i < n; i++) rz->sum[i] = beta * rz->buf[i];
        else
            for (size_t i = 0; i < n; i++) rz->sum[i] += beta * rz->buf[i];
    }
    for (size_t i = 0; i < n; i++) dst[i] = round_u8(rz->sum[i]);
    return TOON_STATUS_OK;
}

/* The horizontally resampled source row y, computed at most once while it is needed. */
static enum toon_status linear_hrow(struct toon_resizer *rz, int y, int keep, const int32_t **out,
                                    struct toon_err *err)
{
    for (int i = 0; i < 2; i++)
        if (rz->hb_y[i] == y) {
            *out = rz->hb[i];
            return TOON_STATUS_OK;
        }
    int slot = rz->hb_y[0] == keep ? 1 : rz->hb_y[1] == keep ? 0 : (rz->hb_y[0] > rz->hb_y[1]);
    enum toon_status st = pull_to(rz, y, err);
    if (st != TOON_STATUS_OK) return st;
    int c = rz->c, sw = rz->sw;
    int32_t *d = rz->hb[slot];
    for (int dx = 0; dx < rz->dw; dx++) {
        int sx = rz->xofs[dx];
        const uint8_t *s = rz->row + (size_t)sx * c;
        int32_t *o = d + (size_t)dx * c;
        if (sx + 1 >= sw) {
            for (int k = 0; k < c; k++) o[k] = s[k] * COEF_SCALE;
        } else {
            int a0 = rz->xalpha[2 * dx], a1 = rz->xalpha[2 * dx + 1];
            for (int k = 0; k < c; k++) o[k] = s[k] * a0 + s[k + c] * a1;
        }
    }
    rz->hb_y[slot] = y;
    *out = d;
    return TOON_STATUS_OK;
}

static enum toon_status linear_row(struct toon_resizer *rz, int dy, uint8_t *dst,
                                   struct toon_err *err)
{
    int s;
    float fy;
    linear_pos(dy, rz->scale_yl, rz->inv_scale_y, rz->area_mode, &s, &fy);
    int b0 = coef(1.f - fy), b1 = coef(fy);
    int y0 = s < 0 ? 0 : s >= rz->sh ? rz->sh - 1 : s;
    int y1 = s + 1 < 0 ? 0 : s + 1 >= rz->sh ? rz->sh - 1 : s + 1;
    const int32_t *r0, *r1;
    enum toon_status st = linear_hrow(rz, y0, -1, &r0, err);
    if (st == TOON_STATUS_OK) st = linear_hrow(rz, y1, y0, &r1, err);
    if (st != TOON_STATUS_OK) return st;
    /* OpenCV's vector kernel: rows scaled down by 16 to int16, high halves of the products,
     * then a rounding shift by 2 (its plain C version rounds once at the end instead, which
     * differs by one level now and then; cv2 on x86 runs the vector kernel for whole rows). */
    int n = rz->dw * rz->c, x = 0;
#ifdef __SSE2__
    /* The same instructions as OpenCV's SSE2 kernel (x86-64 always has SSE2). */
    __m128i vb0 = _mm_set1_epi16((short)b0), vb1 = _mm_set1_epi16((short)b1);
    __m128i two = _mm_set1_epi16(2);
    for (; x + 16 <= n; x += 16) {
        __m128i p[4], q[4];
        for (int k = 0; k < 4; k++) {
            p[k] = _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(r0 + x + 4 * k)), 4);
            q[k] = _mm_srai_epi32(_mm_loadu_si128((const __m128i *)(r1 + x + 4 * k)), 4);
        }
        __m128i lo = _mm_adds_epi16(_mm_mulhi_epi16(_mm_packs_epi32(p[0], p[1]), vb0),
                                    _mm_mulhi_epi16(_mm_packs_epi32(q[0], q[1]), vb1));
        __m128i hi = _mm_adds_epi16(_mm_mulhi_epi16(_mm_packs_epi32(p[2], p[3]), vb0),
                                    _mm_mulhi_epi16(_mm_packs_epi32(q[2], q[3]), vb1));
        lo = _mm_srai_epi16(_mm_adds_epi16(lo, two), 2);
        hi = _mm_srai_epi16(_mm_adds_epi16(hi, two), 2);
        _mm_storeu_si128((__m128i *)(dst + x), _mm_packus_epi16(lo, hi));
    }
#endif
    for (; x < n; x++) {
        int a = sat_s16(r0[x] >> 4), b = sat_s16(r1[x] >> 4);
        int v = (((a * b0) >> 16) + ((b * b1) >> 16) + 2) >> 2;
        dst[x] = sat_u8(v);
    }
    return TOON_STATUS_OK;
}

enum toon_status toon_resizer_read(struct toon_resizer *rz, uint8_t *rows, int n,
                                   struct toon_err *err)
{
    if (!rz || (!rows && n > 0))
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no resizer or no row buffer");
    if (rz->failed != TOON_STATUS_OK)
        return toon_err_set(err, rz->failed, "the resizer's source failed earlier");
    if (n < 0 || n > rz->dh - rz->dy)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "asked for %d rows at row %d of %d",
                            n, rz->dy, rz->dh);
    size_t row_bytes = (size_t)rz->dw * (size_t)rz->c;
    for (int i = 0; i < n; i++, rz->dy++) {
        uint8_t *dst = rows + (size_t)i * row_bytes;
        enum toon_status st;
        switch (rz->mode) {
        case MODE_COPY:
            st = copy_row(rz, dst, err);
            break;
        case MODE_AREA_FAST:
            st = area_fast_row(rz, rz->dy, dst, err);
            break;
        case MODE_AREA:
            st = area_row(rz, rz->dy, dst, err);
            break;
        default:
            st = linear_row(rz, rz->dy, dst, err);
            break;
        }
        if (st != TOON_STATUS_OK) {
            rz->failed = st;
            return st;
        }
    }
    return TOON_STATUS_OK;
}

/* Source callback over a whole image. */
struct image_src {
    const struct toon_image *img;
    int y;
};

static enum toon_status image_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    struct image_src *s = ctx;
    size_t row_bytes = (size_t)s->img->w * (size_t)s->img->c;
    if (n > s->img->h - s->y)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "resizer read past the source image");
    for (int i = 0; i < n; i++, s->y++)
        memcpy(rows + (size_t)i * row_bytes, s->img->data + (size_t)s->y * s->img->stride,
               row_bytes);
    return TOON_STATUS_OK;
}

enum toon_status toon_image_resize(const struct toon_image *src, int dw, int dh,
                                   enum toon_resize_filter f, struct toon_image *out,
                                   struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output image");
    memset(out, 0, sizeof *out);
    if (!src || !src->data || src->c <= 0 || src->stride < (size_t)src->w * (size_t)src->c)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "bad source image");
    struct image_src s = {src, 0};
    struct toon_resizer *rz = NULL;
    enum toon_status st =
        toon_resizer_new(src->w, src->h, dw, dh, src->c, f, image_rows, &s, &rz, err);
    if (st != TOON_STATUS_OK) return st;
    size_t stride = (size_t)dw * (size_t)src->c, bytes;
    uint8_t *data = toon_size_mul(stride, (size_t)dh, &bytes) ? toon_malloc(bytes) : NULL;
    if (!data) {
        toon_resizer_free(rz);
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for a %dx%d image", dw, dh);
    }
    st = toon_resizer_read(rz, data, dh, err);
    toon_resizer_free(rz);
    if (st != TOON_STATUS_OK) {
        toon_free(data);
        return st;
    }
    out->w = dw;
    out->h = dh;
    out->c = src->c;
    out->stride = stride;
    out->data = data;
    return TOON_STATUS_OK;
}
