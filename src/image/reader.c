/*
 * The streaming image reader (codec.h): picks the backend from the magic bytes, checks the
 * header against the limits, and serves RGB rows top to bottom with the EXIF orientation
 * applied.
 *
 * Orientation 1 streams straight from the backend and orientation 2 (a mirror) streams too, one
 * row reversed in place.  The others need rows from all over the stored image, so the whole
 * stored image is kept: the backend's own buffer when it has one (WebP, interlaced PNG), else a
 * buffer of ours filled once.  Each displayed row is then gathered with a start offset and a
 * step that walk the stored image along a row or a column.
 */
#include <string.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/codec.h"

struct toon_imgreader {
    struct toon_image_info info;
    const struct toon_decoder_ops *ops;
    void *dec;
    const uint8_t *img; /* whole stored image [file_h][file_w][3] when rotating, else NULL */
    uint8_t *own;       /* our copy of it, when the backend streams */
    int y;              /* next displayed row */
    enum toon_status failed;
};

static enum toon_status backend_open(enum toon_format fmt, const uint8_t *data, size_t len,
                                     const struct toon_decode_limits *lim,
                                     struct toon_image_info *info, void **dec,
                                     const struct toon_decoder_ops **ops, struct toon_err *err)
{
    switch (fmt) {
    case TOON_FORMAT_JPEG:
        *ops = &toon_jpeg_dec_ops;
        return toon_jpeg_dec_open(data, len, lim, info, dec, err);
    case TOON_FORMAT_PNG:
        *ops = &toon_png_dec_ops;
        return toon_png_dec_open(data, len, lim, info, dec, err);
    case TOON_FORMAT_WEBP:
        *ops = &toon_webp_dec_ops;
        return toon_webp_dec_open(data, len, lim, info, dec, err);
    default:
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "unsupported format (not JPEG, PNG or WebP)");
    }
}

enum toon_status toon_image_probe(const uint8_t *data, size_t len, struct toon_image_info *info,
                                  struct toon_err *err)
{
    if (!data || !info) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no image data");
    const struct toon_decoder_ops *ops = NULL;
    void *dec = NULL;
    enum toon_status st =
        backend_open(toon_format_sniff(data, len), data, len, NULL, info, &dec, &ops, err);
    if (st == TOON_STATUS_OK) ops->free(dec);
    return st;
}

/* Whether the reader must keep the whole stored image to apply this orientation. */
static int needs_whole(int orientation)
{
    return orientation != 1 && orientation != 2;
}

/* Formats whose backend streams rows (no whole-image buffer of its own). */
static int backend_streams(const struct toon_image_info *info)
{
    return info->format == TOON_FORMAT_JPEG ||
           (info->format == TOON_FORMAT_PNG && !info->progressive);
}

size_t toon_imgreader_plan_bytes(const struct toon_image_info *info)
{
    size_t total = toon_plan_block(sizeof(struct toon_imgreader));
    switch (info->format) {
    case TOON_FORMAT_JPEG:
        total = toon_plan_add(total, toon_jpeg_dec_plan_bytes(info));
        break;
    case TOON_FORMAT_PNG:
        total = toon_plan_add(total, toon_png_dec_plan_bytes(info));
        break;
    case TOON_FORMAT_WEBP:
        total = toon_plan_add(total, toon_webp_dec_plan_bytes(info));
        break;
    case TOON_FORMAT_RAW:
        return toon_plan_add(total, toon_raw_dec_plan_bytes());
    default:
        return 0;
    }
    if (needs_whole(info->orientation) && backend_streams(info)) {
        size_t px = toon_plan_mul((size_t)info->file_w, (size_t)info->file_h);
        total = toon_plan_add(total, toon_plan_block(toon_plan_mul(px, 3)));
    }
    return total; /* each backend's plan includes its EXIF parse */
}

static enum toon_status reader_start(struct toon_imgreader *r, struct toon_imgreader **out,
                                     struct toon_err *err);

enum toon_status toon_imgreader_open(const uint8_t *data, size_t len,
                                     const struct toon_decode_limits *lim,
                                     struct toon_imgreader **out, struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    if (!data) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no image data");
    struct toon_decode_limits dl = lim ? *lim : toon_decode_default_limits();
    enum toon_format fmt = toon_format_sniff(data, len);
    if (fmt == TOON_FORMAT_UNKNOWN)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "unsupported format (not JPEG, PNG or WebP)");
    struct toon_imgreader *r = toon_calloc(1, sizeof *r);
    if (!r) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening image");
    enum toon_status st = backend_open(fmt, data, len, &dl, &r->info, &r->dec, &r->ops, err);
    if (st != TOON_STATUS_OK) {
        toon_imgreader_free(r);
        return st;
    }
    return reader_start(r, out, err);
}

enum toon_status toon_imgreader_open_source(const struct toon_source *src,
                                            const struct toon_decode_limits *lim,
                                            struct toon_imgreader **out, struct toon_err *err)
{
    if (!src->pixels) return toon_imgreader_open(src->data, src->len, lim, out, err);
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output pointer");
    *out = NULL;
    struct toon_decode_limits dl = lim ? *lim : toon_decode_default_limits();
    struct toon_imgreader *r = toon_calloc(1, sizeof *r);
    if (!r) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening image");
    r->ops = &toon_raw_dec_ops;
    enum toon_status st = toon_raw_dec_open(src->pixels, src->order, &dl, &r->info, &r->dec, err);
    if (st != TOON_STATUS_OK) {
        toon_imgreader_free(r);
        return st;
    }
    return reader_start(r, out, err);
}

/* Begins pixel decoding on an opened backend; keeps the whole stored image when the
 * orientation needs it.  Takes r (freed on failure). */
static enum toon_status reader_start(struct toon_imgreader *r, struct toon_imgreader **out,
                                     struct toon_err *err)
{
    enum toon_status st = r->ops->start(r->dec, err);
    if (st != TOON_STATUS_OK) goto fail;
    if (needs_whole(r->info.orientation)) {
        r->img = r->ops->whole ? r->ops->whole(r->dec) : NULL;
        if (!r->img) {
            size_t bytes;
            if (!toon_size_mul((size_t)r->info.file_w * 3, (size_t)r->info.file_h, &bytes)) {
                st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "image too large");
                goto fail;
            }
            r->own = toon_malloc(bytes);
            if (!r->own) {
                st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for the image");
                goto fail;
            }
            st = r->ops->rows(r->dec, r->own, r->info.file_h, err);
            if (st != TOON_STATUS_OK) goto fail;
            r->img = r->own;
        }
    }
    *out = r;
    return TOON_STATUS_OK;
fail:
    toon_imgreader_free(r);
    return st;
}

const struct toon_image_info *toon_imgreader_info(const struct toon_imgreader *r)
{
    return r ? &r->info : NULL;
}

static void mirror_row(uint8_t *row, int w)
{
    for (int a = 0, b = w - 1; a < b; a++, b--) {
        uint8_t t[3];
        memcpy(t, row + 3 * a, 3);
        memcpy(row + 3 * a, row + 3 * b, 3);
        memcpy(row + 3 * b, t, 3);
    }
}

/* Displayed row y gathered from the whole stored image (W x H stored). */
static void gather_row(const struct toon_imgreader *r, int y, uint8_t *dst)
{
    ptrdiff_t W = r->info.file_w, H = r->info.file_h, yy = y;
    ptrdiff_t start, step; /* in pixels, for displayed x = 0 and per x */
    switch (r->info.orientation) {
    case 2:
        start = yy * W + W - 1, step = -1;
        break;
    case 3:
        start = (H - 1 - yy) * W + W - 1, step = -1;
        break;
    case 4:
        start = (H - 1 - yy) * W, step = 1;
        break;
    case 5:
        start = yy, step = W;
        break;
    case 6:
        start = (H - 1) * W + yy, step = -W;
        break;
    case 7:
        start = (H - 1) * W + W - 1 - yy, step = -W;
        break;
    case 8:
        start = W - 1 - yy, step = W;
        break;
    default:
        start = yy * W, step = 1;
        break;
    }
    const uint8_t *src = r->img + start * 3;
    for (int x = 0; x < r->info.w; x++, src += step * 3) {
        dst[3 * x] = src[0];
        dst[3 * x + 1] = src[1];
        dst[3 * x + 2] = src[2];
    }
}

enum toon_status toon_imgreader_read(struct toon_imgreader *r, uint8_t *rows, int n,
                                     struct toon_err *err)
{
    if (!r || (!rows && n > 0))
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no reader or no row buffer");
    if (r->failed != TOON_STATUS_OK)
        return toon_err_set(err, r->failed, "the image reader failed earlier");
    if (n < 0 || n > r->info.h - r->y)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "asked for %d rows at row %d of an image of %d rows", n, r->y,
                            r->info.h);
    size_t row_bytes = (size_t)r->info.w * 3;
    if (r->img) {
        for (int i = 0; i < n; i++) gather_row(r, r->y + i, rows + (size_t)i * row_bytes);
    } else {
        enum toon_status st = r->ops->rows(r->dec, rows, n, err);
        if (st != TOON_STATUS_OK) {
            r->failed = st;
            return st;
        }
        if (r->info.orientation == 2)
            for (int i = 0; i < n; i++) mirror_row(rows + (size_t)i * row_bytes, r->info.w);
    }
    r->y += n;
    return TOON_STATUS_OK;
}

void toon_imgreader_free(struct toon_imgreader *r)
{
    if (!r) return;
    if (r->ops) r->ops->free(r->dec);
    toon_free(r->own);
    toon_free(r);
}

enum toon_status toon_image_decode(const uint8_t *data, size_t len,
                                   const struct toon_decode_limits *lim, struct toon_image *out,
                                   struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output image");
    memset(out, 0, sizeof *out);
    struct toon_imgreader *r = NULL;
    enum toon_status st = toon_imgreader_open(data, len, lim, &r, err);
    if (st != TOON_STATUS_OK) return st;
    const struct toon_image_info *info = toon_imgreader_info(r);
    size_t stride = (size_t)info->w * 3, bytes;
    if (!toon_size_mul(stride, (size_t)info->h, &bytes)) {
        st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "image too large");
        goto fail;
    }
    uint8_t *data_out = toon_malloc(bytes);
    if (!data_out) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for a %dx%d image", info->w,
                          info->h);
        goto fail;
    }
    st = toon_imgreader_read(r, data_out, info->h, err);
    if (st != TOON_STATUS_OK) {
        toon_free(data_out);
        goto fail;
    }
    out->w = info->w;
    out->h = info->h;
    out->c = 3;
    out->stride = stride;
    out->data = data_out;
fail:
    toon_imgreader_free(r);
    return st;
}
