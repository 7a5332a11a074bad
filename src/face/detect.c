/*
 * Face detection with BlazeFace (spec/MODELS.md, "BlazeFace").
 *
 * BlazeFace sees a small square (128 px short range, 192 px full range), so a group photo's
 * faces are a few pixels wide when the whole photo is squeezed into it.  toon_face_detect
 * therefore runs the short-range net on the whole image (padded to a square) and on
 * overlapping square tiles of 1/2 and 1/4 of the long side (half-tile steps, so every face
 * smaller than half a tile lies wholly inside one), and the full-range net, when loaded, on the
 * whole image.  Tiles are sampled with an area filter straight from the image (no copy), and
 * detections cut by a tile border inside the image are dropped (the neighbouring tile sees
 * the whole face).  Candidates are merged by weighted non-maximum suppression, MediaPipe's
 * method: the best box absorbs every box overlapping it, averaged by score.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "face/face.h"
#include "face/models.h"

#define MAX_CAND  1024
#define MIN_SCORE 0.75f /* real faces in the test photos score >= 0.85, look-alikes <= 0.64 */
#define NMS_IOU   0.3f
#define N_LEVELS  3 /* the whole image, then tiles of 1/2 and 1/4 of the long side */

struct cand {
    float x0, y0, x1, y1, score;
    float kp[6][2];
};

struct sampler {
    const struct toon_image *img;
    double rx, ry, side; /* source square in image pixels */
    int n;               /* network input side */
    float *in;           /* [n][n][3] */
};

/* One network input row: each pixel the mean of its source cell, -1 (black) outside. */
static void sample_row(void *ctx, int oy)
{
    const struct sampler *s = ctx;
    const struct toon_image *img = s->img;
    double cell = s->side / s->n;
    int ya = (int)floor(s->ry + oy * cell), yb = (int)floor(s->ry + (oy + 1) * cell);
    if (yb <= ya) yb = ya + 1;
    if (ya < 0) ya = 0;
    if (yb > img->h) yb = img->h;
    float *o = s->in + (size_t)oy * s->n * 3;
    for (int ox = 0; ox < s->n; ox++) {
        int xa = (int)floor(s->rx + ox * cell), xb = (int)floor(s->rx + (ox + 1) * cell);
        if (xb <= xa) xb = xa + 1;
        if (xa < 0) xa = 0;
        if (xb > img->w) xb = img->w;
        float sum[3] = {0, 0, 0};
        int cnt = 0;
        for (int y = ya; y < yb; y++) {
            const uint8_t *p = img->data + (size_t)y * img->stride + (size_t)xa * 3;
            for (int x = xa; x < xb; x++, p += 3) {
                sum[0] += p[0];
                sum[1] += p[1];
                sum[2] += p[2];
            }
            cnt += xb > xa ? xb - xa : 0;
        }
        for (int c = 0; c < 3; c++)
            o[ox * 3 + c] = cnt > 0 ? sum[c] / (float)cnt / 127.5f - 1.0f : -1.0f;
    }
}

/* Anchor centre (in 0..1 of the input square) of anchor i for the net's layout. */
static int anchor_centre(int n_anchors, int i, float *ax, float *ay)
{
    if (n_anchors == 896) { /* short range: 16x16 cells x 2, then 8x8 cells x 6 */
        int g, cell;
        if (i < 512) {
            g = 16;
            cell = i / 2;
        } else {
            g = 8;
            cell = (i - 512) / 6;
        }
        *ax = ((float)(cell % g) + 0.5f) / (float)g;
        *ay = ((float)(cell / g) + 0.5f) / (float)g;
        return 1;
    }
    if (n_anchors == 2304) { /* full range: 48x48 cells x 1 */
        *ax = ((float)(i % 48) + 0.5f) / 48.0f;
        *ay = ((float)(i / 48) + 0.5f) / 48.0f;
        return 1;
    }
    return 0;
}

#define MAX_SQUARES 512
#define PER_SQUARE  64 /* candidates kept per square: far more than faces in one tile */

struct detect_state {
    struct cand *c; /* [PER_SQUARE] */
    int n;
};

/* One square the detector looks at. */
struct square {
    const struct toon_tfnet *net;
    double rx, ry, side;
    int is_tile;
};

struct detect_job {
    const struct toon_image *img;
    const struct square *sq;  /* [n] */
    struct cand *cands;       /* [n][PER_SQUARE] */
    int *n_cands;             /* [n] */
    enum toon_status *status; /* [n] */
    struct toon_err *errs;    /* [n] */
};

/* The heap one net run on one square needs: input, both outputs, and the net's own. */
static size_t run_plan(const struct toon_tfnet *net)
{
    int h, w, c;
    toon_tfnet_input_size(net, &h, &w, &c);
    size_t n = (size_t)h * w * 3 * sizeof(float) + toon_alloc_overhead();
    for (int i = 0; i < toon_tfnet_n_outputs(net); i++)
        n += toon_tfnet_output_elems(net, i, NULL) * sizeof(float) + toon_alloc_overhead();
    return n + toon_tfnet_run_bytes(net);
}

/* Runs net on the square (rx, ry, side); keeps detections not cut by an inner tile border. */
static enum toon_status run_square(const struct toon_tfnet *net, const struct toon_image *img,
                                   double rx, double ry, double side, int is_tile,
                                   struct detect_state *ds, struct toon_err *err)
{
    int h, w, c, reg_dim = 0, cls_dim = 0;
    toon_tfnet_input_size(net, &h, &w, &c);
    if (h != w || toon_tfnet_n_outputs(net) != 2)
        return toon_err_set(err, TOON_STATUS_MODEL, "face detector: not a BlazeFace model");
    /* The outputs are regressors [1][n][16] and classificators [1][n][1], in either order. */
    int ri = 0;
    size_t n0 = toon_tfnet_output_elems(net, 0, &reg_dim);
    size_t n1 = toon_tfnet_output_elems(net, 1, &cls_dim);
    if (reg_dim == 1) {
        ri = 1;
        size_t t = n0;
        n0 = n1;
        n1 = t;
        int d = reg_dim;
        reg_dim = cls_dim;
        cls_dim = d;
    }
    if (reg_dim != 16 || cls_dim != 1 || n0 != n1 * 16 || n1 > 100000)
        return toon_err_set(err, TOON_STATUS_MODEL, "face detector: unexpected output shapes");
    int n_anchors = (int)n1;
    float ax, ay;
    if (!anchor_centre(n_anchors, 0, &ax, &ay))
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "face detector: %d anchors is neither "
                            "short (896) nor full range (2304)",
                            n_anchors);
    enum toon_status st = TOON_STATUS_OK;
    struct sampler s = {img, rx, ry, side, h, NULL};
    float *outs[2] = {NULL, NULL};
    s.in = toon_malloc((size_t)h * w * 3 * sizeof(float));
    outs[ri] = toon_malloc(n0 * sizeof(float));
    outs[1 - ri] = toon_malloc(n1 * sizeof(float));
    if (!s.in || !outs[0] || !outs[1]) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    for (int y = 0; y < h; y++) sample_row(&s, y);
    if ((st = toon_tfnet_run(net, s.in, outs, err)) != TOON_STATUS_OK) goto fail;
    const float *reg = outs[ri], *cls = outs[1 - ri];
    float inv = 1.0f / (float)h;
    for (int i = 0; i < n_anchors; i++) {
        float logit = cls[i];
        if (logit < -80) logit = -80;
        if (logit > 80) logit = 80;
        float score = 1.0f / (1.0f + expf(-logit));
        if (!(score >= MIN_SCORE)) continue;
        anchor_centre(n_anchors, i, &ax, &ay);
        const float *r = reg + (size_t)i * 16;
        float cx = r[0] * inv + ax, cy = r[1] * inv + ay;
        float bw = r[2] * inv, bh = r[3] * inv;
        if (!(bw > 0 && bh > 0 && bw < 2 && bh < 2 && fabsf(cx) < 4 && fabsf(cy) < 4)) continue;
        struct cand cd;
        cd.x0 = (float)(rx + (cx - bw / 2) * side);
        cd.x1 = (float)(rx + (cx + bw / 2) * side);
        cd.y0 = (float)(ry + (cy - bh / 2) * side);
        cd.y1 = (float)(ry + (cy + bh / 2) * side);
        cd.score = score;
        for (int k = 0; k < 6; k++) {
            cd.kp[k][0] = (float)(rx + (r[4 + 2 * k] * inv + ax) * side);
            cd.kp[k][1] = (float)(ry + (r[5 + 2 * k] * inv + ay) * side);
        }
        float fcx = (cd.x0 + cd.x1) / 2, fcy = (cd.y0 + cd.y1) / 2;
        if (fcx < 0 || fcy < 0 || fcx >= (float)img->w || fcy >= (float)img->h) continue;
        if (is_tile) {
            /* Cut by a tile border that is not the image's: the neighbour sees it whole. */
            float mx = 0.05f * (cd.x1 - cd.x0), my = 0.05f * (cd.y1 - cd.y0);
            if ((cd.x0 < rx - mx && rx > 0) || (cd.y0 < ry - my && ry > 0) ||
                (cd.x1 > rx + side + mx && rx + side < img->w) ||
                (cd.y1 > ry + side + my && ry + side < img->h))
                continue;
        }
        if (ds->n < PER_SQUARE) ds->c[ds->n++] = cd;
    }
fail:
    toon_free(s.in);
    toon_free(outs[0]);
    toon_free(outs[1]);
    return st;
}

static float iou(const struct cand *a, const struct cand *b)
{
    float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
    float iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (ix <= 0 || iy <= 0) return 0;
    float inter = ix * iy;
    float ua = (a->x1 - a->x0) * (a->y1 - a->y0) + (b->x1 - b->x0) * (b->y1 - b->y0) - inter;
    return ua > 0 ? inter / ua : 0;
}

/* Intersection over the smaller box: a face found twice at two scales nests. */
static float overlap_min(const struct cand *a, const struct cand *b)
{
    float ix = fminf(a->x1, b->x1) - fmaxf(a->x0, b->x0);
    float iy = fminf(a->y1, b->y1) - fmaxf(a->y0, b->y0);
    if (ix <= 0 || iy <= 0) return 0;
    float sa = (a->x1 - a->x0) * (a->y1 - a->y0), sb = (b->x1 - b->x0) * (b->y1 - b->y0);
    float m = sa < sb ? sa : sb;
    return m > 0 ? ix * iy / m : 0;
}

static int cmp_score(const void *a, const void *b)
{
    float sa = ((const struct cand *)a)->score, sb = ((const struct cand *)b)->score;
    return sa < sb ? 1 : sa > sb ? -1 : 0;
}

/* Weighted NMS in place: returns the number of merged boxes, best first. */
static int weighted_nms(struct cand *c, int n)
{
    unsigned char used[MAX_CAND];
    int n_out = 0;
    qsort(c, (size_t)n, sizeof *c, cmp_score);
    memset(used, 0, sizeof used);
    for (int i = 0; i < n; i++) {
        if (used[i]) continue;
        struct cand best = c[i], sum;
        memset(&sum, 0, sizeof sum);
        float wsum = 0;
        for (int j = i; j < n; j++) {
            if (used[j]) continue;
            if (j != i && iou(&best, &c[j]) < NMS_IOU && overlap_min(&best, &c[j]) < 0.6f) continue;
            used[j] = 1;
            if (j != i && iou(&best, &c[j]) < NMS_IOU) continue; /* nested: suppressed only */
            float w = c[j].score;
            wsum += w;
            sum.x0 += w * c[j].x0;
            sum.y0 += w * c[j].y0;
            sum.x1 += w * c[j].x1;
            sum.y1 += w * c[j].y1;
            for (int k = 0; k < 6; k++) {
                sum.kp[k][0] += w * c[j].kp[k][0];
                sum.kp[k][1] += w * c[j].kp[k][1];
            }
        }
        struct cand m = best;
        m.x0 = sum.x0 / wsum;
        m.y0 = sum.y0 / wsum;
        m.x1 = sum.x1 / wsum;
        m.y1 = sum.y1 / wsum;
        for (int k = 0; k < 6; k++) {
            m.kp[k][0] = sum.kp[k][0] / wsum;
            m.kp[k][1] = sum.kp[k][1] / wsum;
        }
        c[n_out++] = m;
    }
    return n_out;
}

/* The squares for an image: the whole (padded) image for both nets, then the tile levels. */
static int list_squares(const struct toon_face_models *fm, int w, int h, struct square *sq)
{
    int n = 0;
    double big = w > h ? w : h;
    struct square whole = {fm->det_short, (w - big) / 2, (h - big) / 2, big, 0};
    sq[n++] = whole;
    if (fm->det_full) {
        whole.net = fm->det_full;
        sq[n++] = whole;
    }
    for (int level = 1; level < N_LEVELS; level++) {
        double side = big / (double)(1 << level);
        if (side < 24) break;
        int nx = w <= side ? 1 : (int)ceil((w - side) / (side / 2)) + 1;
        int ny = h <= side ? 1 : (int)ceil((h - side) / (side / 2)) + 1;
        for (int ty = 0; ty < ny; ty++)
            for (int tx = 0; tx < nx && n < MAX_SQUARES; tx++) {
                struct square t = {fm->det_short,
                                   nx == 1 ? (w - side) / 2 : tx * (w - side) / (nx - 1),
                                   ny == 1 ? (h - side) / 2 : ty * (h - side) / (ny - 1), side, 1};
                sq[n++] = t;
            }
    }
    return n;
}

static size_t job_bytes(int n)
{
    size_t ov = toon_alloc_overhead();
    return MAX_SQUARES * sizeof(struct square) + ov +
           (size_t)n * (PER_SQUARE * sizeof(struct cand) + sizeof(int) + sizeof(enum toon_status) +
                        sizeof(struct toon_err)) +
           4 * ov;
}

size_t toon_face_detect_plan_bytes(const struct toon_face_models *fm, int w, int h)
{
    (void)w;
    (void)h;
    size_t a = run_plan(fm->det_short), b = fm->det_full ? run_plan(fm->det_full) : 0;
    int nt = toon_threads_get();
    if (nt < 1) nt = 1;
    return job_bytes(MAX_SQUARES) + (size_t)nt * (a > b ? a : b);
}

static void detect_square(void *ctx, int i)
{
    struct detect_job *j = ctx;
    struct detect_state ds = {j->cands + (size_t)i * PER_SQUARE, 0};
    const struct square *q = &j->sq[i];
    j->status[i] = run_square(q->net, j->img, q->rx, q->ry, q->side, q->is_tile, &ds, &j->errs[i]);
    j->n_cands[i] = ds.n;
}

enum toon_status toon_face_detect(const struct toon_face_models *fm, const struct toon_image *img,
                                  struct toon_face *faces, int max, int *n_out,
                                  struct toon_err *err)
{
    enum toon_status st = TOON_STATUS_OK;
    struct detect_job j;
    struct square *sq = NULL;
    *n_out = 0;
    memset(&j, 0, sizeof j);
    if (!img || img->c != 3 || img->w < 1 || img->h < 1 || !img->data)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "face detection needs RGB");
    sq = toon_malloc(MAX_SQUARES * sizeof *sq);
    if (!sq) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    int n_sq = list_squares(fm, img->w, img->h, sq);
    j.img = img;
    j.sq = sq;
    j.cands = toon_malloc((size_t)n_sq * PER_SQUARE * sizeof *j.cands);
    j.n_cands = toon_calloc((size_t)n_sq, sizeof *j.n_cands);
    j.status = toon_calloc((size_t)n_sq, sizeof *j.status);
    j.errs = toon_calloc((size_t)n_sq, sizeof *j.errs);
    if (!j.cands || !j.n_cands || !j.status || !j.errs) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto done;
    }
    toon_parallel_for(n_sq, detect_square, &j);
    int n = 0;
    for (int i = 0; i < n_sq; i++) {
        if (j.status[i] != TOON_STATUS_OK) {
            st = toon_err_set(err, j.status[i], "%s", j.errs[i].msg);
            goto done;
        }
        /* Compact every square's candidates to the front of the array. */
        memmove(j.cands + n, j.cands + (size_t)i * PER_SQUARE,
                (size_t)j.n_cands[i] * sizeof *j.cands);
        n += j.n_cands[i];
    }
    if (n > MAX_CAND) n = MAX_CAND;
    n = weighted_nms(j.cands, n);
    if (n > max) n = max;
    for (int i = 0; i < n; i++) {
        struct toon_face *f = &faces[i];
        memset(f, 0, sizeof *f);
        f->x0 = j.cands[i].x0;
        f->y0 = j.cands[i].y0;
        f->x1 = j.cands[i].x1;
        f->y1 = j.cands[i].y1;
        f->score = j.cands[i].score;
        memcpy(f->kp, j.cands[i].kp, sizeof f->kp);
    }
    *n_out = n;
done:
    toon_free(sq);
    toon_free(j.cands);
    toon_free(j.n_cands);
    toon_free(j.status);
    toon_free(j.errs);
    return st;
}
