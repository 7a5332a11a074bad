/*
 * The streaming image writer (codec.h): checks the arguments once, counts rows, and forwards to
 * the format backend.  After any failure the writer stays failed, so a caller that ignores one
 * error cannot produce a file with a hole in it.
 */
#include <string.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/codec.h"

struct toon_imgwriter {
    const struct toon_encoder_ops *ops;
    void *enc;
    int w, h, y;
    int finished;
    enum toon_status failed;
};

/* The largest side each format can store. */
static int max_side(enum toon_format fmt)
{
    switch (fmt) {
    case TOON_FORMAT_JPEG:
        return 65500;
    case TOON_FORMAT_WEBP:
        return 16383;
    case TOON_FORMAT_PNG:
    case TOON_FORMAT_RAW:
        return 0x7fffffff;
    default:
        return 0;
    }
}

size_t toon_imgwriter_plan_bytes(enum toon_format fmt, int w, int h)
{
    size_t total = toon_plan_block(sizeof(struct toon_imgwriter));
    switch (fmt) {
    case TOON_FORMAT_JPEG:
        return toon_plan_add(total, toon_jpeg_enc_plan_bytes(w, h));
    case TOON_FORMAT_PNG:
        return toon_plan_add(total, toon_png_enc_plan_bytes(w, h));
    case TOON_FORMAT_WEBP:
        return toon_plan_add(total, toon_webp_enc_plan_bytes(w, h));
    case TOON_FORMAT_RAW:
        return toon_plan_add(total, toon_raw_enc_plan_bytes(w, h));
    default:
        return 0;
    }
}

enum toon_status toon_imgwriter_open(enum toon_format fmt, int quality, int w, int h,
                                     toon_write_fn sink, void *sink_ctx,
                                     struct toon_imgwriter **out, struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    if (!sink) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output sink");
    if (fmt != TOON_FORMAT_JPEG && fmt != TOON_FORMAT_PNG && fmt != TOON_FORMAT_WEBP &&
        fmt != TOON_FORMAT_RAW)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "cannot write format %s",
                            toon_format_name(fmt));
    if (quality < 0 || quality > 100)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "quality %d is not in 1..100",
                            quality);
    if (w <= 0 || h <= 0)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "cannot write a %dx%d image", w, h);
    if (w > max_side(fmt) || h > max_side(fmt))
        return toon_err_set(err, TOON_STATUS_TOO_LARGE,
                            "%s cannot store %dx%d (at most %d per side)", toon_format_name(fmt), w,
                            h, max_side(fmt));
    struct toon_imgwriter *wr = toon_calloc(1, sizeof *wr);
    if (!wr) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening encoder");
    wr->w = w;
    wr->h = h;
    enum toon_status st;
    switch (fmt) {
    case TOON_FORMAT_JPEG:
        wr->ops = &toon_jpeg_enc_ops;
        st = toon_jpeg_enc_open(quality ? quality : 92, w, h, sink, sink_ctx, &wr->enc, err);
        break;
    case TOON_FORMAT_PNG:
        wr->ops = &toon_png_enc_ops;
        st = toon_png_enc_open(w, h, sink, sink_ctx, &wr->enc, err);
        break;
    case TOON_FORMAT_RAW:
        wr->ops = &toon_raw_enc_ops;
        st = toon_raw_enc_open(w, h, sink, sink_ctx, &wr->enc, err);
        break;
    default:
        wr->ops = &toon_webp_enc_ops;
        st = toon_webp_enc_open(quality ? quality : 90, w, h, sink, sink_ctx, &wr->enc, err);
        break;
    }
    if (st != TOON_STATUS_OK) {
        toon_free(wr);
        return st;
    }
    *out = wr;
    return TOON_STATUS_OK;
}

enum toon_status toon_imgwriter_write(struct toon_imgwriter *wr, const uint8_t *rows, int n,
                                      struct toon_err *err)
{
    if (!wr || (!rows && n > 0))
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no writer or no rows");
    if (wr->failed != TOON_STATUS_OK)
        return toon_err_set(err, wr->failed, "the image writer failed earlier");
    if (wr->finished || n < 0 || n > wr->h - wr->y)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "writing %d rows at row %d of an image of %d rows", n, wr->y, wr->h);
    if (n == 0) return TOON_STATUS_OK;
    enum toon_status st = wr->ops->rows(wr->enc, rows, n, err);
    if (st != TOON_STATUS_OK) {
        wr->failed = st;
        return st;
    }
    wr->y += n;
    return TOON_STATUS_OK;
}

enum toon_status toon_imgwriter_finish(struct toon_imgwriter *wr, struct toon_err *err)
{
    if (!wr) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no writer");
    if (wr->failed != TOON_STATUS_OK)
        return toon_err_set(err, wr->failed, "the image writer failed earlier");
    if (wr->finished) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "already finished");
    if (wr->y != wr->h)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "only %d of %d rows were written",
                            wr->y, wr->h);
    enum toon_status st = wr->ops->finish(wr->enc, err);
    if (st != TOON_STATUS_OK) {
        wr->failed = st;
        return st;
    }
    wr->finished = 1;
    return TOON_STATUS_OK;
}

void toon_imgwriter_free(struct toon_imgwriter *wr)
{
    if (!wr) return;
    if (wr->ops) wr->ops->free(wr->enc);
    toon_free(wr);
}

enum toon_status toon_image_encode(const struct toon_image *img, enum toon_format fmt, int quality,
                                   toon_write_fn sink, void *sink_ctx, struct toon_err *err)
{
    if (!img || !img->data || img->c != 3 || img->stride < (size_t)img->w * 3)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "toon_image_encode needs an RGB image (c = 3)");
    struct toon_imgwriter *wr = NULL;
    enum toon_status st =
        toon_imgwriter_open(fmt, quality, img->w, img->h, sink, sink_ctx, &wr, err);
    if (st != TOON_STATUS_OK) return st;
    size_t row_bytes = (size_t)img->w * 3;
    for (int y = 0; y < img->h && st == TOON_STATUS_OK; y++) {
        const uint8_t *row = img->data + (size_t)y * img->stride;
        if (img->stride == row_bytes) { /* contiguous: hand over everything at once */
            st = toon_imgwriter_write(wr, row, img->h, err);
            break;
        }
        st = toon_imgwriter_write(wr, row, 1, err);
    }
    if (st == TOON_STATUS_OK) st = toon_imgwriter_finish(wr, err);
    toon_imgwriter_free(wr);
    return st;
}
