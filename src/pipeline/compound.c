/*
 * The compound pipeline (see compound.h): decode into the working image, stream the
 * background generator into the result, cartoonise and blend each face, blend with the
 * photo, resize to the output size and encode, streaming the last two.
 */
#include "pipeline/compound.h"
#include "pipeline/convert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/parallel.h"
#include "face/face.h"
#include "image/affine.h"
#include "image/codec.h"
#include "image/resize.h"
#include "nn/generator.h"
#include "nn/model.h"

#define OFFICIAL_SHORT   720
#define OFFICIAL_FACES   10
#define MIN_FACE         60 /* faces this size or smaller (both sides) are left to the background */
#define CROP             TOON_FACE_CROP
#define MAX_ALPHA_BYTES  ((size_t)16 << 20)
#define MAX_HEAD_WORKERS 8 /* heads made at once, one per thread */

void toon_compound_work_size(const struct toon_image_info *info,
                             const struct toon_convert_params *p, int *w, int *h)
{
    if (p->mode == TOON_MODE_HD) {
        toon_convert_output_size(info, p->size, w, h);
        return;
    }
    /* The 720 rule: shrink so the short side is 720, long side int(720 * long / short). */
    int iw = info->w, ih = info->h, s = iw < ih ? iw : ih;
    *w = iw;
    *h = ih;
    if (s > OFFICIAL_SHORT) {
        if (iw <= ih) {
            *w = OFFICIAL_SHORT;
            *h = (int)((long long)OFFICIAL_SHORT * ih / iw);
        } else {
            *h = OFFICIAL_SHORT;
            *w = (int)((long long)OFFICIAL_SHORT * iw / ih);
        }
    }
}

/* The background's network size: official pads both sides to (d/16 + 1) * 16 with white
 * unless both are multiples of 16 already. */
static void background_size(int official, int w, int h, int *bw, int *bh)
{
    *bw = w;
    *bh = h;
    if (official && (w % 16 || h % 16)) {
        *bw = (w / 16 + 1) * 16;
        *bh = (h / 16 + 1) * 16;
    }
}

static enum toon_status check_params(const struct toon_convert_params *p, struct toon_err *err)
{
    if (p->mode != TOON_MODE_OFFICIAL && p->mode != TOON_MODE_HD)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "not a compound mode");
    return toon_convert_params_check(p, err);
}

static enum toon_resize_filter filter_for(int official, int sw, int sh, int dw, int dh)
{
    if (official) return TOON_RESIZE_AREA; /* the reference resizes with INTER_AREA both ways */
    return dw <= sw && dh <= sh ? TOON_RESIZE_AREA : TOON_RESIZE_BILINEAR;
}

/* ---- the head mask ------------------------------------------------------------------------ */

/* Reads the alpha file's bytes; *len 0 and no error when path is NULL. */
static enum toon_status read_alpha(const char *path, uint8_t **data, size_t *len,
                                   struct toon_err *err)
{
    *data = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s: cannot open the head mask", path);
    enum toon_status st = TOON_STATUS_OK;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n <= 0 || (size_t)n > MAX_ALPHA_BYTES || fseek(f, 0, SEEK_SET) != 0) {
        st = toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "%s: head mask empty or over 16 MB",
                          path);
        goto done;
    }
    *data = toon_malloc((size_t)n);
    if (!*data) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto done;
    }
    if (fread(*data, 1, (size_t)n, f) != (size_t)n) {
        toon_free(*data);
        *data = NULL;
        st = toon_err_set(err, TOON_STATUS_IO, "%s: short read", path);
        goto done;
    }
    *len = (size_t)n;
done:
    fclose(f);
    return st;
}

static struct toon_decode_limits alpha_limits(void)
{
    struct toon_decode_limits lim = {4096, 4096, 4096u * 4096u};
    return lim;
}

/* Heap bytes of load_mask for this alpha file (its header is read here). */
static enum toon_status mask_plan(const char *path, size_t *bytes, struct toon_err *err)
{
    size_t ov = toon_alloc_overhead();
    *bytes = (size_t)CROP * CROP * sizeof(float) + ov;
    if (!path) return TOON_STATUS_OK;
    uint8_t *data;
    size_t len;
    struct toon_image_info info;
    enum toon_status st = read_alpha(path, &data, &len, err);
    if (st != TOON_STATUS_OK) return st;
    st = toon_image_probe(data, len, &info, err);
    toon_free(data);
    if (st != TOON_STATUS_OK) return st;
    struct toon_decode_limits lim = alpha_limits();
    if (info.w > lim.max_w || info.h > lim.max_h)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "head mask %dx%d is over 4096 px", info.w,
                            info.h);
    size_t px = (size_t)info.w * info.h;
    *bytes += len + ov + toon_imgreader_plan_bytes(&info) + px * 3 + ov + px + ov +
              toon_resizer_plan_bytes(info.w, info.h, CROP, CROP, 1, TOON_RESIZE_AREA) +
              (size_t)CROP * CROP + ov;
    return TOON_STATUS_OK;
}

/* The mask: alpha.jpg's grey resized to 288 (area) / 255, or the generated ellipse. */
static enum toon_status load_mask(const char *path, float **out, struct toon_err *err)
{
    uint8_t *data = NULL;
    size_t len;
    struct toon_image img = {0}, grey = {0}, small = {0};
    enum toon_status st = TOON_STATUS_OK;
    float *mask = toon_malloc((size_t)CROP * CROP * sizeof(float));
    *out = NULL;
    if (!mask) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    if (!path) {
        toon_face_mask_generate(mask, CROP);
        *out = mask;
        return TOON_STATUS_OK;
    }
    struct toon_decode_limits lim = alpha_limits();
    if ((st = read_alpha(path, &data, &len, err)) != TOON_STATUS_OK) goto fail;
    if ((st = toon_image_decode(data, len, &lim, &img, err)) != TOON_STATUS_OK) goto fail;
    toon_free(data);
    data = NULL;
    grey.w = img.w;
    grey.h = img.h;
    grey.c = 1;
    grey.stride = (size_t)img.w;
    grey.data = toon_malloc((size_t)img.w * img.h);
    if (!grey.data) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int y = 0; y < img.h; y++)
        for (int x = 0; x < img.w; x++) {
            const uint8_t *px = img.data + (size_t)y * img.stride + (size_t)x * 3;
            grey.data[(size_t)y * img.w + x] =
                (uint8_t)((px[0] * 4899 + px[1] * 9617 + px[2] * 1868 + 8192) >> 14);
        }
    toon_image_free(&img);
    if ((st = toon_image_resize(&grey, CROP, CROP, TOON_RESIZE_AREA, &small, err)) !=
        TOON_STATUS_OK)
        goto fail;
    for (int i = 0; i < CROP * CROP; i++) mask[i] = small.data[i] / 255.0f;
    *out = mask;
    mask = NULL;
fail:
    toon_free(data);
    toon_image_free(&img);
    toon_image_free(&grey);
    toon_image_free(&small);
    toon_free(mask);
    return st;
}

/* ---- planning ----------------------------------------------------------------------------- */

struct sizes {
    int official;
    int in_w, in_h, work_w, work_h, bg_w, bg_h, out_w, out_h;
};

static void compute_sizes(const struct toon_image_info *info, const struct toon_convert_params *p,
                          struct sizes *s)
{
    s->official = p->mode == TOON_MODE_OFFICIAL;
    s->in_w = info->w;
    s->in_h = info->h;
    toon_compound_work_size(info, p, &s->work_w, &s->work_h);
    background_size(s->official, s->work_w, s->work_h, &s->bg_w, &s->bg_h);
    if (s->official)
        toon_convert_output_size(info, p->size, &s->out_w, &s->out_h);
    else {
        s->out_w = s->work_w;
        s->out_h = s->work_h;
    }
}

struct head_worker {
    struct toon_genx *gen; /* created by the worker for its first head */
    uint8_t *crop;         /* [CROP][CROP][3] the aligned crop, RGB */
    uint8_t *head;         /* [CROP][CROP][3] the cartoon head, RGB */
    double m[6];           /* crop -> image */
    int busy;              /* a head to make this round */
    enum toon_status st;
    struct toon_err err;
};

struct heads_round {
    const struct job *j;
    const struct toon_gen_weights *gw;
    struct toon_genx_params gp;
    int n_workers;
    struct head_worker w[MAX_HEAD_WORKERS];
};

static int head_workers(void)
{
    int n = toon_threads_get();
    return n < 1 ? 1 : n > MAX_HEAD_WORKERS ? MAX_HEAD_WORKERS : n;
}

/* The face stage's heap: detection; then landmarks and five points beside the heads'
 * workers (one per thread, each with its own executor), which live until the last head. */
static size_t faces_plan(const struct toon_model *head, const struct toon_convert_params *p,
                         const struct sizes *s, size_t mask_bytes)
{
    size_t ov = toon_alloc_overhead(), crop_px = (size_t)CROP * CROP;
    struct toon_genx_params gp = toon_convert_genx_params(&p->gen);
    gp.one_thread = head_workers() > 1;
    const struct toon_gen_weights *gw = toon_model_weights(head);
    size_t det = toon_face_detect_plan_bytes(p->face_models, s->work_w, s->work_h);
    size_t lm = toon_face_landmarks_plan_bytes(p->face_models);
    size_t five = toon_face_five_points_plan_bytes(NULL);
    size_t worker = 2 * (crop_px * 3 + ov) + /* the aligned crop and the head, u8 */
                    toon_genx_plan_bytes(gw, CROP, CROP, &gp) +
                    toon_genx_plan_native_bytes(CROP, CROP, &gp);
    size_t step = lm > five ? lm : five;
    step += (size_t)head_workers() * worker + sizeof(struct heads_round) + ov;
    if (det > step) step = det;
    return TOON_FACE_MAX * sizeof(struct toon_face) + ov + mask_bytes + step;
}

static enum toon_status plan_sizes(const struct toon_model *m, const struct toon_image_info *info,
                                   const struct toon_convert_params *p, struct sizes *s,
                                   size_t *bytes, struct toon_err *err)
{
    enum toon_status st = check_params(p, err);
    if (st != TOON_STATUS_OK) return st;
    compute_sizes(info, p, s);
    if ((uint64_t)s->work_w * s->work_h > (uint64_t)1 << 28 ||
        (uint64_t)s->out_w * s->out_h > (uint64_t)1 << 31)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "output %dx%d is too large", s->out_w,
                            s->out_h);
    size_t ov = toon_alloc_overhead(), img_bytes = (size_t)s->work_w * s->work_h * 3 + ov;
    /* Stage 1, decoding into the working image. */
    size_t load = toon_imgreader_plan_bytes(info) + (size_t)info->w * 3 + ov;
    if (s->work_w != info->w || s->work_h != info->h)
        load += toon_resizer_plan_bytes(
            info->w, info->h, s->work_w, s->work_h, 3,
            filter_for(s->official, info->w, info->h, s->work_w, s->work_h));
    /* Stage 2, the background. */
    size_t bg = toon_generator_plan_bytes(m, &p->gen, s->bg_h, s->bg_w);
    /* Stage 3, the faces. */
    size_t faces = 0;
    if (p->face_models) {
        size_t mb;
        if ((st = mask_plan(p->alpha_path, &mb, err)) != TOON_STATUS_OK) return st;
        faces = faces_plan(p->head_model ? p->head_model : m, p, s, mb);
    }
    /* Stage 4, resizing and encoding (the no-face quirk encodes the working size: smaller). */
    size_t out =
        toon_imgwriter_plan_bytes(p->format, s->out_w, s->out_h) + (size_t)s->out_w * 3 + ov;
    if (s->out_w != s->work_w || s->out_h != s->work_h)
        out += toon_resizer_plan_bytes(
            s->work_w, s->work_h, s->out_w, s->out_h, 3,
            filter_for(s->official, s->work_w, s->work_h, s->out_w, s->out_h));
    size_t enc_work =
        toon_imgwriter_plan_bytes(p->format, s->work_w, s->work_h) + (size_t)s->work_w * 3 + ov;
    if (enc_work > out) out = enc_work;
    size_t stage = load > bg ? load : bg;
    if (faces > stage) stage = faces;
    if (out > stage) stage = out;
    *bytes = 2 * img_bytes + stage;
    return TOON_STATUS_OK;
}

enum toon_status toon_compound_plan(const struct toon_model *m, const struct toon_image_info *info,
                                    const struct toon_convert_params *p, int *out_w, int *out_h,
                                    size_t *bytes, struct toon_err *err)
{
    struct sizes s;
    enum toon_status st = plan_sizes(m, info, p, &s, bytes, err);
    if (st != TOON_STATUS_OK) return st;
    *out_w = s.out_w;
    *out_h = s.out_h;
    return TOON_STATUS_OK;
}

/* ---- running ------------------------------------------------------------------------------ */

struct job {
    const struct toon_convert_params *p;
    struct sizes s;
    struct toon_imgreader *reader;
    struct toon_image work; /* the working image, RGB */
    struct toon_image res;  /* the cartoon, RGB */
    int blend_y;            /* rows of res already blended with the photo */
    /* seconds per stage, logged at INFO level (the CLI's -v) */
    double t_bg, t_detect, t_landmarks, t_heads, t_blend;
};

static enum toon_status reader_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    struct job *j = ctx;
    return toon_imgreader_read(j->reader, rows, n, err);
}

static enum toon_status alloc_image(struct toon_image *img, int w, int h, struct toon_err *err)
{
    img->w = w;
    img->h = h;
    img->c = 3;
    img->stride = (size_t)w * 3;
    img->data = toon_malloc(img->stride * (size_t)h);
    if (!img->data) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    return TOON_STATUS_OK;
}

/* Decodes into the working image (resized on the way when needed). */
static enum toon_status load_work(struct job *j, struct toon_err *err)
{
    enum toon_status st = alloc_image(&j->work, j->s.work_w, j->s.work_h, err);
    if (st != TOON_STATUS_OK) return st;
    if (j->s.work_w == j->s.in_w && j->s.work_h == j->s.in_h)
        return toon_imgreader_read(j->reader, j->work.data, j->work.h, err);
    struct toon_resizer *rz = NULL;
    st = toon_resizer_new(j->s.in_w, j->s.in_h, j->s.work_w, j->s.work_h, 3,
                          filter_for(j->s.official, j->s.in_w, j->s.in_h, j->s.work_w, j->s.work_h),
                          reader_rows, j, &rz, err);
    if (st == TOON_STATUS_OK) st = toon_resizer_read(rz, j->work.data, j->work.h, err);
    toon_resizer_free(rz);
    return st;
}

/* The graph's output stage: clip to +-0.999999, (y + 1) * 127.5, truncate. */
static inline uint8_t cartoon_level(float v)
{
    if (v > 0.999999f) v = 0.999999f;
    if (v < -0.999999f) v = -0.999999f;
    return (uint8_t)(int)((v + 1.0f) * 127.5f);
}

/* Background source: working rows as BGR in [-1, 1], white padding right and below. */
static enum toon_status bg_src(void *ctx, int y0, int n, float *rows, struct toon_err *err)
{
    struct job *j = ctx;
    (void)err;
    int bw = j->s.bg_w, w = j->work.w;
    for (int k = 0; k < n; k++) {
        int y = y0 + k;
        float *f = rows + (size_t)k * bw * 3;
        if (y >= j->work.h) {
            for (int i = 0; i < bw * 3; i++) f[i] = 1.0f;
            continue;
        }
        toon_gen_pack_bgr(j->work.data + (size_t)y * j->work.stride, (size_t)w, f);
        for (int i = w * 3; i < bw * 3; i++) f[i] = 1.0f;
    }
    return TOON_STATUS_OK;
}

static enum toon_status bg_sink(void *ctx, int y0, int n, const float *rows, struct toon_err *err)
{
    struct job *j = ctx;
    const struct toon_convert_params *p = j->p;
    if (p->cancel && *p->cancel) return toon_err_set(err, TOON_STATUS_CANCELLED, "cancelled");
    for (int k = 0; k < n; k++) {
        int y = y0 + k;
        if (y >= j->res.h) continue;
        const float *c = rows + (size_t)k * j->s.bg_w * 3;
        uint8_t *o = j->res.data + (size_t)y * j->res.stride;
        for (int x = 0; x < j->res.w; x++) {
            o[x * 3 + 0] = cartoon_level(c[x * 3 + 2]);
            o[x * 3 + 1] = cartoon_level(c[x * 3 + 1]);
            o[x * 3 + 2] = cartoon_level(c[x * 3 + 0]);
        }
    }
    if (p->progress) p->progress(p->progress_ctx, 0.8 * (double)(y0 + n) / j->s.bg_h);
    return TOON_STATUS_OK;
}

static int cmp_area(const void *a, const void *b)
{
    const struct toon_face *x = a, *y = b;
    float sa = (x->x1 - x->x0) * (x->y1 - x->y0), sb = (y->x1 - y->x0) * (y->y1 - y->y0);
    return sa < sb ? 1 : sa > sb ? -1 : 0;
}

/* Warps head (and mask) back into res with m (crop -> image): res = a * head + (1 - a) * res. */
static void blend_head(struct toon_image *res, const uint8_t *head, const float *mask,
                       const double m[6])
{
    double inv[6];
    if (!toon_affine_invert(m, inv)) return;
    /* The crop's footprint in the image bounds the pixels to visit. */
    double xs[4], ys[4];
    for (int k = 0; k < 4; k++) {
        double cx = (k & 1) ? CROP : 0, cy = (k >> 1) ? CROP : 0;
        xs[k] = m[0] * cx + m[1] * cy + m[2];
        ys[k] = m[3] * cx + m[4] * cy + m[5];
    }
    double mnx = xs[0], mxx = xs[0], mny = ys[0], mxy = ys[0];
    for (int k = 1; k < 4; k++) {
        mnx = fmin(mnx, xs[k]);
        mxx = fmax(mxx, xs[k]);
        mny = fmin(mny, ys[k]);
        mxy = fmax(mxy, ys[k]);
    }
    int x0 = mnx < 0 ? 0 : (int)mnx, y0 = mny < 0 ? 0 : (int)mny;
    int x1 = mxx + 2 > res->w ? res->w : (int)mxx + 2,
        y1 = mxy + 2 > res->h ? res->h : (int)mxy + 2;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) {
            double cx = inv[0] * x + inv[1] * y + inv[2], cy = inv[3] * x + inv[4] * y + inv[5];
            if (cx <= -1 || cy <= -1 || cx >= CROP || cy >= CROP) continue;
            struct toon_bilinear b;
            toon_bilinear_at(cx, cy, &b);
            float a = toon_bilinear_f32(mask, CROP, CROP, 0.0f, &b);
            if (a <= 0) continue;
            float h[3];
            for (int c = 0; c < 3; c++) h[c] = toon_bilinear_u8(head, CROP, CROP, 3, c, 0.0f, &b);
            uint8_t *o = res->data + (size_t)y * res->stride + (size_t)x * 3;
            for (int c = 0; c < 3; c++) {
                float v = a * h[c] + (1.0f - a) * o[c] + 0.5f;
                o[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
}

/* ---- the heads -------------------------------------------------------------------------
 * Heads are made a round at a time, one per thread: each worker runs its own generator
 * executor on one thread, start to end, so no thread waits for another between the many small
 * kernel calls of a 288 px image, and each executor is created once and reused for every head
 * it makes.  The bits are those of a run on all threads (tests/nn: executors in workers).
 * Blending stays in the faces' order, largest first, after each round. */
/* Generator source: crop rows as BGR in [-1, 1]. */
static enum toon_status head_src(void *ctx, int y0, int n, float *rows, struct toon_err *err)
{
    const struct head_worker *w = ctx;
    (void)err;
    toon_gen_pack_bgr(w->crop + (size_t)y0 * CROP * 3, (size_t)n * CROP, rows);
    return TOON_STATUS_OK;
}

static enum toon_status head_sink(void *ctx, int y0, int n, const float *rows, struct toon_err *err)
{
    struct head_worker *w = ctx;
    (void)err;
    uint8_t *h = w->head + (size_t)y0 * CROP * 3;
    for (size_t i = 0; i < (size_t)n * CROP; i++)
        for (int k = 0; k < 3; k++) h[i * 3 + k] = cartoon_level(rows[i * 3 + 2 - k]);
    return TOON_STATUS_OK;
}

static void head_work(void *ctx, int i)
{
    struct heads_round *r = ctx;
    struct head_worker *w = &r->w[i];
    const struct toon_image *img = &r->j->work;
    toon_warp_affine_u8(img->data, img->w, img->h, 3, w->crop, CROP, CROP, w->m, 255);
    w->st = toon_genx_run(w->gen, head_src, w, head_sink, w, &w->err);
}

static void heads_free(struct heads_round *r)
{
    for (int i = 0; i < MAX_HEAD_WORKERS; i++) {
        toon_genx_free(r->w[i].gen);
        toon_free(r->w[i].crop);
        toon_free(r->w[i].head);
    }
    toon_free(r);
}

/* Makes the heads of the busy workers at once, then blends them in order. */
static enum toon_status heads_run(struct job *j, struct heads_round *r, const float *mask,
                                  struct toon_err *err)
{
    int n = 0;
    while (n < r->n_workers && r->w[n].busy) n++;
    /* The workers' memory comes from this thread: the C library gives each thread that
     * allocates an arena of its own, which would not reuse what the background freed. */
    double t = toon_convert_now_s();
    for (int i = 0; i < n; i++) {
        struct head_worker *w = &r->w[i];
        if (w->gen) continue;
        w->crop = toon_malloc((size_t)CROP * CROP * 3);
        w->head = toon_malloc((size_t)CROP * CROP * 3);
        if (!w->crop || !w->head)
            return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for the heads");
        enum toon_status st = toon_genx_new(r->gw, CROP, CROP, &r->gp, &w->gen, err);
        if (st != TOON_STATUS_OK) return st;
    }
    toon_parallel_for(n, head_work, r);
    j->t_heads += toon_convert_now_s() - t;
    for (int i = 0; i < n; i++)
        if (r->w[i].st != TOON_STATUS_OK) {
            *err = r->w[i].err;
            return r->w[i].st;
        }
    t = toon_convert_now_s();
    for (int i = 0; i < n; i++) {
        blend_head(&j->res, r->w[i].head, mask, r->w[i].m);
        r->w[i].busy = 0;
    }
    j->t_blend += toon_convert_now_s() - t;
    return TOON_STATUS_OK;
}

/* One face: landmarks, five points, alignment; *slot gets it unless the points are degenerate. */
static enum toon_status face_points(struct job *j, struct toon_face *f, double m[6], int *ok,
                                    struct toon_err *err)
{
    const struct toon_convert_params *p = j->p;
    int official = j->s.official;
    double t = toon_convert_now_s();
    *ok = 0;
    enum toon_status st = toon_face_landmarks(p->face_models, &j->work, f, official, err);
    if (st != TOON_STATUS_OK) return st;
    if ((st = toon_face_five_points(&j->work, f, official, err)) != TOON_STATUS_OK) return st;
    j->t_landmarks += toon_convert_now_s() - t;
    /* degenerate points: leave this face to the background */
    *ok = toon_face_similarity(toon_face_template, (const float(*)[2])f->pts5, 5, m);
    return TOON_STATUS_OK;
}

static enum toon_status do_faces(struct job *j, const struct toon_model *m, int *n_done,
                                 struct toon_err *err)
{
    const struct toon_convert_params *p = j->p;
    const struct toon_model *head_model = p->head_model ? p->head_model : m;
    struct heads_round *heads = NULL;
    float *mask = NULL;
    int n = 0;
    *n_done = 0;
    struct toon_face *faces = toon_malloc(TOON_FACE_MAX * sizeof *faces);
    if (!faces) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    double t = toon_convert_now_s();
    enum toon_status st = toon_face_detect(p->face_models, &j->work, faces, TOON_FACE_MAX, &n, err);
    j->t_detect = toon_convert_now_s() - t;
    if (st != TOON_STATUS_OK) goto done;
    qsort(faces, (size_t)n, sizeof *faces, cmp_area); /* largest first */
    if (j->s.official && n > OFFICIAL_FACES) n = OFFICIAL_FACES;
    /* Faces too small to gain from the head pass: 60 px at the official working scale. */
    float min_face = MIN_FACE;
    if (!j->s.official) {
        int s = j->work.w < j->work.h ? j->work.w : j->work.h;
        if (s > OFFICIAL_SHORT) min_face = MIN_FACE * (float)s / OFFICIAL_SHORT;
    }
    int busy = 0;
    for (int i = 0; i < n; i++) {
        struct toon_face *f = &faces[i];
        if (f->x1 - f->x0 <= min_face && f->y1 - f->y0 <= min_face) continue;
        if (!mask && (st = load_mask(p->alpha_path, &mask, err)) != TOON_STATUS_OK) goto done;
        if (p->cancel && *p->cancel) {
            st = toon_err_set(err, TOON_STATUS_CANCELLED, "cancelled");
            goto done;
        }
        if (!heads) {
            if (!(heads = toon_calloc(1, sizeof *heads))) {
                st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
                goto done;
            }
            heads->j = j;
            heads->gw = toon_model_weights(head_model);
            heads->gp = toon_convert_genx_params(&p->gen);
            heads->n_workers = head_workers();
            heads->gp.one_thread = heads->n_workers > 1;
        }
        int ok;
        struct head_worker *w = &heads->w[busy];
        if ((st = face_points(j, f, w->m, &ok, err)) != TOON_STATUS_OK) goto done;
        if (!ok) continue;
        w->busy = 1;
        (*n_done)++;
        if (++busy == heads->n_workers) {
            if ((st = heads_run(j, heads, mask, err)) != TOON_STATUS_OK) goto done;
            busy = 0;
        }
    }
    if (busy && (st = heads_run(j, heads, mask, err)) != TOON_STATUS_OK) goto done;
done:
    if (heads) heads_free(heads);
    toon_free(faces);
    toon_free(mask);
    return st;
}

/* Final rows: the cartoon blended with the photo, read top to bottom (resizer source). */
static enum toon_status result_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    struct job *j = ctx;
    if (n > j->res.h - j->blend_y)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "read past the result");
    size_t rb = (size_t)j->res.w * 3;
    memcpy(rows, j->res.data + (size_t)j->blend_y * j->res.stride, rb * (size_t)n);
    j->blend_y += n;
    return TOON_STATUS_OK;
}

static void strength_blend(struct job *j)
{
    float s = j->p->strength;
    if (s >= 1.0f) return;
    size_t n = (size_t)j->res.w * j->res.h * 3;
    for (size_t i = 0; i < n; i++)
        j->res.data[i] = (uint8_t)(s * j->res.data[i] + (1.0f - s) * j->work.data[i] + 0.5f);
}

static enum toon_status encode(struct job *j, int ow, int oh, toon_write_fn sink, void *sink_ctx,
                               struct toon_err *err)
{
    const struct toon_convert_params *p = j->p;
    struct toon_imgwriter *wr = NULL;
    struct toon_resizer *rz = NULL;
    uint8_t *row = NULL;
    enum toon_status st =
        toon_imgwriter_open(p->format, p->quality, ow, oh, sink, sink_ctx, &wr, err);
    if (st != TOON_STATUS_OK) return st;
    j->blend_y = 0;
    if (ow != j->res.w || oh != j->res.h) {
        st = toon_resizer_new(j->res.w, j->res.h, ow, oh, 3,
                              filter_for(j->s.official, j->res.w, j->res.h, ow, oh), result_rows, j,
                              &rz, err);
        if (st != TOON_STATUS_OK) goto done;
    }
    row = toon_malloc((size_t)ow * 3);
    if (!row) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto done;
    }
    for (int y = 0; y < oh && st == TOON_STATUS_OK; y++) {
        st = rz ? toon_resizer_read(rz, row, 1, err) : result_rows(j, row, 1, err);
        if (st == TOON_STATUS_OK) st = toon_imgwriter_write(wr, row, 1, err);
    }
    if (st == TOON_STATUS_OK) st = toon_imgwriter_finish(wr, err);
done:
    toon_free(row);
    toon_resizer_free(rz);
    toon_imgwriter_free(wr);
    return st;
}

enum toon_status toon_compound_convert(const struct toon_model *m, const uint8_t *data, size_t len,
                                       const struct toon_convert_params *p, toon_write_fn sink,
                                       void *sink_ctx, struct toon_convert_report *report,
                                       struct toon_err *err)
{
    struct toon_source src = {data, len, NULL, TOON_CHANNELS_RGB};
    return toon_compound_convert_source(m, &src, p, sink, sink_ctx, report, err);
}

enum toon_status toon_compound_convert_source(
    const struct toon_model *m, const struct toon_source *src, const struct toon_convert_params *p,
    toon_write_fn sink, void *sink_ctx, struct toon_convert_report *report, struct toon_err *err)
{
    double t0 = toon_convert_now_s(), t_dec = 0, t_enc = 0;
    size_t planned = 0;
    struct toon_convert_meter meter;
    struct job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    int ow = 0, oh = 0, n_faces = 0;
    enum toon_status st = check_params(p, err);
    if (st != TOON_STATUS_OK) return st;
    toon_convert_meter_start(&meter);
    if ((st = toon_imgreader_open_source(src, &p->limits, &j.reader, err)) != TOON_STATUS_OK)
        goto done;
    struct toon_image_info info = *toon_imgreader_info(j.reader);
    if ((st = plan_sizes(m, &info, p, &j.s, &planned, err)) != TOON_STATUS_OK) goto done;
    if ((st = load_work(&j, err)) != TOON_STATUS_OK) goto done;
    toon_imgreader_free(j.reader);
    j.reader = NULL;
    t_dec = toon_convert_now_s() - t0;
    if ((st = alloc_image(&j.res, j.s.work_w, j.s.work_h, err)) != TOON_STATUS_OK) goto done;
    double tb = toon_convert_now_s();
    if ((st = toon_generator_run(m, &p->gen, j.s.bg_h, j.s.bg_w, bg_src, &j, bg_sink, &j, err)) !=
        TOON_STATUS_OK)
        goto done;
    j.t_bg = toon_convert_now_s() - tb;
    if (p->face_models && (st = do_faces(&j, m, &n_faces, err)) != TOON_STATUS_OK) goto done;
    if (p->progress) p->progress(p->progress_ctx, 0.9);
    strength_blend(&j);
    toon_image_free(&j.work);
    ow = j.s.out_w;
    oh = j.s.out_h;
    if (j.s.official && n_faces == 0) { /* the reference's quirk: no face, no resize back */
        ow = j.s.work_w;
        oh = j.s.work_h;
    }
    double te = toon_convert_now_s();
    st = encode(&j, ow, oh, sink, sink_ctx, err);
    t_enc = toon_convert_now_s() - te;
    if (st == TOON_STATUS_OK && p->progress) p->progress(p->progress_ctx, 1.0);
    toon_log(TOON_LOG_INFO,
             "stages: decode=%.3f background=%.3f detect=%.3f landmarks=%.3f heads=%.3f (%d) "
             "blend=%.3f encode=%.3f",
             t_dec, j.t_bg, j.t_detect, j.t_landmarks, j.t_heads, n_faces, j.t_blend, t_enc);
done:
    toon_imgreader_free(j.reader);
    toon_image_free(&j.work);
    toon_image_free(&j.res);
    size_t used = toon_convert_meter_stop(&meter);
    if (report) {
        memset(report, 0, sizeof *report);
        report->in_w = j.s.in_w;
        report->in_h = j.s.in_h;
        report->out_w = ow;
        report->out_h = oh;
        report->planned_bytes = planned;
        report->used_bytes = used;
        report->seconds_total = toon_convert_now_s() - t0;
        report->seconds_decode = t_dec;
        report->seconds_encode = t_enc;
        report->seconds_network = report->seconds_total - t_dec - t_enc;
    }
    return st;
}
