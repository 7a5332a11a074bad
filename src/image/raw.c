/*
 * TOON_FORMAT_RAW: the caller's pixels as a reader backend, and pixels out as a writer backend,
 * so toon_convert_pixels runs the same pipelines as toon_convert with no encoded image between.
 *
 * The decoder serves rows straight from the caller's buffer (BGR swapped to RGB on the way), so
 * it holds nothing that grows with the image.  The encoder writes a toon_raw_header and then the
 * rows unchanged; its sink collects the whole image, which is why its plan counts that image.
 * Raw input is never sniffed from bytes: only toon_imgreader_open_source opens it.
 */
#include <string.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/codec.h"

struct raw_dec {
    const struct toon_image *px;
    enum toon_channel_order order;
    int y; /* next row */
};

static enum toon_status raw_dec_start(void *dec, struct toon_err *err)
{
    (void)dec;
    (void)err;
    return TOON_STATUS_OK;
}

static enum toon_status raw_dec_rows(void *dec, uint8_t *rows, int n, struct toon_err *err)
{
    struct raw_dec *d = dec;
    int w = d->px->w;
    if (n > d->px->h - d->y)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "read past the last row of the pixels");
    for (int i = 0; i < n; i++, d->y++) {
        const uint8_t *src = d->px->data + (size_t)d->y * d->px->stride;
        uint8_t *dst = rows + (size_t)i * w * 3;
        if (d->order == TOON_CHANNELS_RGB) {
            memcpy(dst, src, (size_t)w * 3);
            continue;
        }
        for (int x = 0; x < w; x++) {
            dst[3 * x] = src[3 * x + 2];
            dst[3 * x + 1] = src[3 * x + 1];
            dst[3 * x + 2] = src[3 * x];
        }
    }
    return TOON_STATUS_OK;
}

static void raw_dec_free(void *dec)
{
    toon_free(dec);
}

const struct toon_decoder_ops toon_raw_dec_ops = {raw_dec_start, raw_dec_rows, NULL, raw_dec_free};

size_t toon_raw_dec_plan_bytes(void)
{
    return toon_plan_block(sizeof(struct raw_dec));
}

enum toon_status toon_raw_dec_open(const struct toon_image *px, enum toon_channel_order order,
                                   const struct toon_decode_limits *lim,
                                   struct toon_image_info *info, void **out, struct toon_err *err)
{
    *out = NULL;
    if (!px || !px->data || px->c != 3 || px->w <= 0 || px->h <= 0 ||
        px->stride < (size_t)px->w * 3)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "pixels must be 8-bit with 3 channels, at least 1x1, rows at least "
                            "3 * w bytes apart");
    if (order != TOON_CHANNELS_RGB && order != TOON_CHANNELS_BGR)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "unknown channel order %d",
                            (int)order);
    memset(info, 0, sizeof *info);
    info->format = TOON_FORMAT_RAW;
    info->w = info->file_w = px->w;
    info->h = info->file_h = px->h;
    info->orientation = 1;
    info->channels = 3;
    info->bit_depth = 8;
    enum toon_status st = lim ? toon_limits_check(info, lim, err) : TOON_STATUS_OK;
    if (st != TOON_STATUS_OK) return st;
    struct raw_dec *d = toon_calloc(1, sizeof *d);
    if (!d) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    d->px = px;
    d->order = order;
    *out = d;
    return TOON_STATUS_OK;
}

/* ---- encoder ------------------------------------------------------------------------------ */

struct raw_enc {
    toon_write_fn sink;
    void *sink_ctx;
    int w;
};

static enum toon_status raw_enc_rows(void *enc, const uint8_t *rows, int n, struct toon_err *err)
{
    struct raw_enc *e = enc;
    enum toon_status st = e->sink(e->sink_ctx, rows, (size_t)n * e->w * 3);
    return st == TOON_STATUS_OK ? st : toon_err_set(err, st, "the pixel sink failed");
}

static enum toon_status raw_enc_finish(void *enc, struct toon_err *err)
{
    (void)enc;
    (void)err;
    return TOON_STATUS_OK;
}

static void raw_enc_free(void *enc)
{
    toon_free(enc);
}

const struct toon_encoder_ops toon_raw_enc_ops = {raw_enc_rows, raw_enc_finish, raw_enc_free};

size_t toon_raw_enc_plan_bytes(int w, int h)
{
    size_t image = toon_plan_mul(toon_plan_mul((size_t)w, (size_t)h), 3);
    return toon_plan_add(toon_plan_block(sizeof(struct raw_enc)), toon_plan_block(image));
}

enum toon_status toon_raw_enc_open(int w, int h, toon_write_fn sink, void *sink_ctx, void **out,
                                   struct toon_err *err)
{
    *out = NULL;
    struct raw_enc *e = toon_calloc(1, sizeof *e);
    if (!e) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    e->w = w;
    struct toon_raw_header hdr = {{'R', 'A', 'W', '8'}, w, h};
    enum toon_status st = sink(sink_ctx, &hdr, sizeof hdr);
    if (st != TOON_STATUS_OK) {
        toon_free(e);
        return toon_err_set(err, st, "the pixel sink failed");
    }
    *out = e;
    return TOON_STATUS_OK;
}
