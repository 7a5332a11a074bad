/*
 * Pixels in, pixels out: toon_convert for bindings (Python's numpy arrays) that hold decoded
 * images.  The caller's pixels are read in place by a raw reader (image/raw.c) and the pipeline
 * writes TOON_FORMAT_RAW, whose rows this file collects into the output image, so the plain and
 * compound pipelines run unchanged and the pixels equal those toon_convert would encode.
 *
 * The output image is allocated when the raw writer announces its size, inside the
 * conversion's accounting scope, so the report's used bytes include it; the writer's plan
 * counts it (image/codec.h), so the plan does too.
 */
#include <string.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "pipeline/convert.h"
#include "toonify/toonify.h"

struct collect {
    struct toon_image *out;
    enum toon_channel_order order;
    size_t filled; /* bytes of out->data written */
};

static void swap_rb(uint8_t *px, size_t n_px)
{
    for (size_t i = 0; i < n_px; i++) {
        uint8_t t = px[3 * i];
        px[3 * i] = px[3 * i + 2];
        px[3 * i + 2] = t;
    }
}

static enum toon_status collect_header(struct collect *c, const void *data, size_t n)
{
    struct toon_raw_header hdr;
    if (n != sizeof hdr || c->out->data) return TOON_STATUS_INTERNAL;
    memcpy(&hdr, data, sizeof hdr);
    if (memcmp(hdr.magic, "RAW8", 4) != 0 || hdr.w <= 0 || hdr.h <= 0) return TOON_STATUS_INTERNAL;
    size_t bytes;
    if (!toon_size_mul((size_t)hdr.w * 3, (size_t)hdr.h, &bytes)) return TOON_STATUS_TOO_LARGE;
    c->out->data = toon_malloc(bytes);
    if (!c->out->data) return TOON_STATUS_NO_MEMORY;
    c->out->w = hdr.w;
    c->out->h = hdr.h;
    c->out->c = 3;
    c->out->stride = (size_t)hdr.w * 3;
    return TOON_STATUS_OK;
}

/* The raw writer's sink: the header, then rows in order. */
static enum toon_status collect_write(void *ctx, const void *data, size_t n)
{
    struct collect *c = ctx;
    if (!c->out->data) return collect_header(c, data, n);
    size_t total = c->out->stride * (size_t)c->out->h;
    if (n > total - c->filled || n % 3) return TOON_STATUS_INTERNAL;
    uint8_t *dst = c->out->data + c->filled;
    memcpy(dst, data, n);
    if (c->order == TOON_CHANNELS_BGR) swap_rb(dst, n / 3);
    c->filled += n;
    return TOON_STATUS_OK;
}

enum toon_status toon_convert_pixels(const struct toon_model *m, const struct toon_image *in,
                                     enum toon_channel_order order,
                                     const struct toon_convert_params *p, struct toon_image *out,
                                     struct toon_convert_report *report, struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output image");
    memset(out, 0, sizeof *out);
    if (!m || !in || !p)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no model or input");
    struct toon_convert_params q = *p;
    q.format = TOON_FORMAT_RAW;
    q.quality = 0;
    struct toon_source src = {NULL, 0, in, order};
    struct collect c = {out, order, 0};
    enum toon_status st = toon_convert_source(m, &src, &q, collect_write, &c, report, err);
    if (st == TOON_STATUS_OK && c.filled != out->stride * (size_t)out->h)
        st = toon_err_set(err, TOON_STATUS_INTERNAL, "the pipeline wrote %zu of %zu bytes",
                          c.filled, out->stride * (size_t)out->h);
    if (st != TOON_STATUS_OK) toon_image_free(out);
    return st;
}

enum toon_status toon_convert_pixels_plan(const struct toon_model *m, int w, int h,
                                          const struct toon_convert_params *p, int *out_w,
                                          int *out_h, size_t *bytes, struct toon_err *err)
{
    if (w <= 0 || h <= 0)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no pixels (%dx%d)", w, h);
    struct toon_image_info info;
    memset(&info, 0, sizeof info);
    info.format = TOON_FORMAT_RAW;
    info.w = info.file_w = w;
    info.h = info.file_h = h;
    info.orientation = 1;
    info.channels = 3;
    info.bit_depth = 8;
    struct toon_convert_params q = *p;
    q.format = TOON_FORMAT_RAW;
    q.quality = 0;
    return toon_convert_plan(m, &info, &q, out_w, out_h, bytes, err);
}
