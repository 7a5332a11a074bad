/*
 * The conversion pipeline of the engine: decode -> (resize to the output size) -> generator
 * -> strength blend with the photo -> encode, all streamed row by row.  Nothing here holds a
 * whole image: the decoder and encoder stream (libjpeg, libspng), the resizer keeps a few
 * rows, the generator a few rows per layer, and the photo rows wait in a small ring until the
 * cartoon row they are blended with comes out of the network.
 *
 * toon_convert_plan() adds up exactly what toon_convert() will allocate, so callers (the CLI's
 * --max-memory, the service's admission) can decide before any work starts.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "image/resize.h"
#include "nn/generator.h"
#include "nn/model.h"
#include "pipeline/compound.h"
#include "pipeline/convert.h"
#include "toonify/toonify.h"

struct toon_convert_params toon_convert_default_params(void)
{
    struct toon_convert_params p;
    memset(&p, 0, sizeof p);
    p.size = 1024;
    p.strength = 0.7f;
    p.format = TOON_FORMAT_PNG;
    p.gen = toon_generator_default_params();
    p.limits = toon_decode_default_limits();
    return p;
}

static const char *const mode_names[] = {"plain", "official", "hd"};

const char *toon_mode_name(enum toon_mode mode)
{
    return (unsigned)mode < sizeof mode_names / sizeof mode_names[0] ? mode_names[mode] : "?";
}

int toon_mode_from_name(const char *name, enum toon_mode *out)
{
    for (size_t i = 0; name && i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *out = (enum toon_mode)i;
            return 1;
        }
    return 0;
}

int toon_convert_largest_size(const struct toon_model *m, const struct toon_image_info *info,
                              const struct toon_convert_params *p, int upto, size_t budget,
                              size_t fixed, size_t per_column)
{
    /* Plans grow with the size, so a binary search finds the boundary. */
    int lo = 0, hi = upto;
    while (lo < hi) {
        int mid = lo + (hi - lo + 1) / 2;
        struct toon_convert_params q = *p;
        q.size = mid;
        int ow, oh;
        size_t need;
        if (toon_convert_plan(m, info, &q, &ow, &oh, &need, NULL) == TOON_STATUS_OK &&
            fixed + per_column * (size_t)ow + need <= budget)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

enum toon_status toon_probe(const uint8_t *data, size_t len, struct toon_image_info *info,
                            struct toon_err *err)
{
    return toon_image_probe(data, len, info, err);
}

double toon_convert_now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void toon_convert_meter_start(struct toon_convert_meter *m)
{
    m->scope = toon_alloc_scope_new();
    m->outer = toon_alloc_scope_enter(m->scope);
    m->base = toon_alloc_current();
}

size_t toon_convert_meter_stop(struct toon_convert_meter *m)
{
    size_t peak = toon_alloc_scope_peak(m->scope);
    if (!m->scope) { /* uncounted: the process's growth, which includes other work */
        size_t now = toon_alloc_peak();
        peak = now > m->base ? now - m->base : 0;
    }
    toon_alloc_scope_enter(m->outer);
    toon_alloc_scope_release(m->scope);
    m->scope = NULL;
    return peak;
}

void toon_convert_output_size(const struct toon_image_info *info, int size, int *ow, int *oh)
{
    int w = info->w, h = info->h;
    if (size <= 0 || (w >= h ? w : h) == size) {
        *ow = w;
        *oh = h;
        return;
    }
    double s = (double)size / (w >= h ? w : h);
    *ow = w >= h ? size : (int)lround(w * s);
    *oh = w >= h ? (int)lround(h * s) : size;
    if (*ow < 1) *ow = 1;
    if (*oh < 1) *oh = 1;
}

static enum toon_resize_filter filter_for(int sw, int sh, int dw, int dh)
{
    return dw <= sw && dh <= sh ? TOON_RESIZE_AREA : TOON_RESIZE_BILINEAR;
}

struct toon_genx_params toon_convert_genx_params(const struct toon_generator_params *p)
{
    struct toon_genx_params g = {p->band_rows > 0 ? p->band_rows : 16,
                                 p->precision == TOON_PRECISION_FAST, p->whole_image, 0, 0};
    return g;
}

enum toon_status toon_convert_params_check(const struct toon_convert_params *p,
                                           struct toon_err *err)
{
    if (p->size < 0 || p->size > 65536)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "size %d is out of range", p->size);
    if (!(p->strength >= 0 && p->strength <= 1))
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "strength %g is not in 0..1",
                            (double)p->strength);
    if (p->format == TOON_FORMAT_UNKNOWN)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output format");
    return TOON_STATUS_OK;
}

/* Rows of photo the ring must hold: every row the generator may have read but not yet
 * returned, plus the one being returned. */
static int ring_rows(const struct toon_genx *g)
{
    return toon_genx_input_lag(g) + 2;
}

enum toon_status toon_convert_plan(const struct toon_model *m, const struct toon_image_info *info,
                                   const struct toon_convert_params *p, int *out_w, int *out_h,
                                   size_t *bytes, struct toon_err *err)
{
    if (p->mode != TOON_MODE_PLAIN) return toon_compound_plan(m, info, p, out_w, out_h, bytes, err);
    enum toon_status st = toon_convert_params_check(p, err);
    if (st != TOON_STATUS_OK) return st;
    int ow, oh;
    toon_convert_output_size(info, p->size, &ow, &oh);
    if ((uint64_t)ow * (uint64_t)oh > (uint64_t)1 << 31)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "output %dx%d is too large", ow, oh);
    struct toon_genx_params gp = toon_convert_genx_params(&p->gen);
    const struct toon_gen_weights *gw = toon_model_weights(m);
    size_t ov = toon_alloc_overhead();
    size_t n = toon_genx_plan_bytes(gw, oh, ow, &gp) + toon_genx_plan_native_bytes(oh, ow, &gp);
    n += toon_imgreader_plan_bytes(info);
    if (ow != info->w || oh != info->h)
        n += toon_resizer_plan_bytes(info->w, info->h, ow, oh, 3,
                                     filter_for(info->w, info->h, ow, oh));
    n += toon_imgwriter_plan_bytes(p->format, ow, oh);
    /* The photo ring: sized from the same dry run the generator makes. */
    n += (size_t)(toon_genx_plan_input_lag(gw, oh, ow, &gp) + 2) * (size_t)ow * 3 + ov;
    n += (size_t)ow * 3 * 2 + 2 * ov; /* one decoded row, one output row */
    *out_w = ow;
    *out_h = oh;
    *bytes = n;
    return TOON_STATUS_OK;
}

struct job {
    const struct toon_convert_params *p;
    struct toon_imgreader *reader;
    struct toon_resizer *resizer;
    struct toon_imgwriter *writer;
    int in_w, in_h, out_w, out_h;
    uint8_t *ring; /* [ring_n][out_w][3] photo rows, RGB */
    int ring_n;
    uint8_t *row; /* [out_w][3] the output row being written */
    int next_src;
    double t_src, t_sink;
};

static enum toon_status read_source_rows(void *ctx, uint8_t *rows, int n, struct toon_err *err)
{
    struct job *j = ctx;
    return toon_imgreader_read(j->reader, rows, n, err);
}

static enum toon_status gen_src(void *ctx, int y0, int n, float *rows, struct toon_err *err)
{
    struct job *j = ctx;
    double t0 = toon_convert_now_s();
    for (int k = 0; k < n; k++) {
        int y = y0 + k;
        if (y != j->next_src) return toon_err_set(err, TOON_STATUS_INTERNAL, "row order");
        j->next_src++;
        uint8_t *photo = j->ring + (size_t)(y % j->ring_n) * j->out_w * 3;
        enum toon_status st = j->resizer ? toon_resizer_read(j->resizer, photo, 1, err)
                                         : toon_imgreader_read(j->reader, photo, 1, err);
        if (st != TOON_STATUS_OK) return st;
        toon_gen_pack_bgr(photo, (size_t)j->out_w, rows + (size_t)k * j->out_w * 3);
    }
    j->t_src += toon_convert_now_s() - t0;
    return TOON_STATUS_OK;
}

/* The generator graph's own output stage: clip to +-0.999999, (y + 1) * 127.5, truncate. */
static inline float cartoon_level(float v)
{
    if (v > 0.999999f) v = 0.999999f;
    if (v < -0.999999f) v = -0.999999f;
    return (float)(int)((v + 1.0f) * 127.5f);
}

static enum toon_status gen_sink(void *ctx, int y0, int n, const float *rows, struct toon_err *err)
{
    struct job *j = ctx;
    double t0 = toon_convert_now_s();
    const struct toon_convert_params *p = j->p;
    if (p->cancel && *p->cancel) return toon_err_set(err, TOON_STATUS_CANCELLED, "cancelled");
    for (int k = 0; k < n; k++) {
        int y = y0 + k;
        if (j->next_src - y > j->ring_n)
            return toon_err_set(err, TOON_STATUS_INTERNAL, "photo ring overrun");
        const uint8_t *photo = j->ring + (size_t)(y % j->ring_n) * j->out_w * 3;
        const float *c = rows + (size_t)k * j->out_w * 3;
        float s = p->strength;
        for (int x = 0; x < j->out_w; x++)
            for (int ch = 0; ch < 3; ch++) { /* BGR cartoon, RGB photo and output */
                float cart = cartoon_level(c[x * 3 + 2 - ch]);
                float v = s * cart + (1.0f - s) * photo[x * 3 + ch];
                j->row[x * 3 + ch] = (uint8_t)(v + 0.5f);
            }
        enum toon_status st = toon_imgwriter_write(j->writer, j->row, 1, err);
        if (st != TOON_STATUS_OK) return st;
    }
    if (p->progress) p->progress(p->progress_ctx, (double)(y0 + n) / j->out_h);
    j->t_sink += toon_convert_now_s() - t0;
    return TOON_STATUS_OK;
}

enum toon_status toon_convert(const struct toon_model *m, const uint8_t *data, size_t len,
                              const struct toon_convert_params *p, toon_write_fn sink,
                              void *sink_ctx, struct toon_convert_report *report,
                              struct toon_err *err)
{
    struct toon_source src = {data, len, NULL, TOON_CHANNELS_RGB};
    return toon_convert_source(m, &src, p, sink, sink_ctx, report, err);
}

enum toon_status toon_convert_source(const struct toon_model *m, const struct toon_source *src,
                                     const struct toon_convert_params *p, toon_write_fn sink,
                                     void *sink_ctx, struct toon_convert_report *report,
                                     struct toon_err *err)
{
    if (p->mode != TOON_MODE_PLAIN)
        return toon_compound_convert_source(m, src, p, sink, sink_ctx, report, err);
    double t0 = toon_convert_now_s();
    struct toon_convert_meter meter;
    struct job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    struct toon_genx *g = NULL;
    struct toon_image_info info;
    size_t planned = 0;
    enum toon_status st = toon_convert_params_check(p, err);
    if (st != TOON_STATUS_OK) return st;
    toon_convert_meter_start(&meter);
    st = toon_imgreader_open_source(src, &p->limits, &j.reader, err);
    if (st != TOON_STATUS_OK) goto done;
    info = *toon_imgreader_info(j.reader);
    st = toon_convert_plan(m, &info, p, &j.out_w, &j.out_h, &planned, err);
    if (st != TOON_STATUS_OK) goto done;
    j.in_w = info.w;
    j.in_h = info.h;
    if (j.out_w != info.w || j.out_h != info.h) {
        st = toon_resizer_new(info.w, info.h, j.out_w, j.out_h, 3,
                              filter_for(info.w, info.h, j.out_w, j.out_h), read_source_rows, &j,
                              &j.resizer, err);
        if (st != TOON_STATUS_OK) goto done;
    }
    struct toon_genx_params gp = toon_convert_genx_params(&p->gen);
    st = toon_genx_new(toon_model_weights(m), j.out_h, j.out_w, &gp, &g, err);
    if (st != TOON_STATUS_OK) goto done;
    j.ring_n = ring_rows(g);
    j.ring = toon_malloc((size_t)j.ring_n * j.out_w * 3);
    j.row = toon_malloc((size_t)j.out_w * 3);
    if (!j.ring || !j.row) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto done;
    }
    st = toon_imgwriter_open(p->format, p->quality, j.out_w, j.out_h, sink, sink_ctx, &j.writer,
                             err);
    if (st != TOON_STATUS_OK) goto done;
    st = toon_genx_run(g, gen_src, &j, gen_sink, &j, err);
    if (st != TOON_STATUS_OK) goto done;
    double te = toon_convert_now_s();
    st = toon_imgwriter_finish(j.writer, err);
    j.t_sink += toon_convert_now_s() - te;
done:
    toon_genx_free(g);
    toon_imgwriter_free(j.writer);
    toon_resizer_free(j.resizer);
    toon_imgreader_free(j.reader);
    toon_free(j.ring);
    toon_free(j.row);
    size_t used = toon_convert_meter_stop(&meter);
    if (report) {
        memset(report, 0, sizeof *report);
        report->in_w = j.in_w;
        report->in_h = j.in_h;
        report->out_w = j.out_w;
        report->out_h = j.out_h;
        report->planned_bytes = planned;
        report->used_bytes = used;
        report->seconds_total = toon_convert_now_s() - t0;
        report->seconds_decode = j.t_src;
        report->seconds_encode = j.t_sink;
        report->seconds_network = report->seconds_total - j.t_src - j.t_sink;
    }
    return st;
}
