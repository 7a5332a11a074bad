/*
 * PNG decoder backend on libspng.
 *
 * Non-interlaced images are decoded row by row (spng's progressive API), so only a few rows are
 * ever held; Adam7-interlaced images need every pass before any row is complete, so they are
 * decoded whole into one buffer.  Every format (grey, grey+alpha, palette, tRNS, 16 bits) is
 * converted by spng to RGB8, or to RGBA8 when there is transparency, which is then composited
 * onto white.  16-bit samples keep their high byte; gamma is not applied (as cv2.imread).
 *
 * All of spng's allocations (zlib's included) go through toon_malloc (png_alloc.c), and its
 * chunk cache is capped, so the counting allocator sees the whole decoder and the plan can be
 * checked exactly.
 */
#include <string.h>

#include <spng.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/png_alloc.h"

/* Ancillary chunks (text, ICC profile, EXIF...) spng may keep: larger chunks are skipped, and
 * more than the cache limit in total fails the decode ("PNG metadata too large"). */
#define PNG_CHUNK_LIMIT (1u << 20)
#define PNG_CACHE_LIMIT (2u << 20)

struct png_dec {
    spng_ctx *ctx;
    int w, h, alpha, interlaced;
    uint8_t *row;   /* [w][4] RGBA8 when alpha */
    uint8_t *image; /* interlaced only: [h][w][3] (decoded as [h][w][4] and packed in place) */
    int y;          /* next row */
};

static enum toon_status png_fail(int r, struct toon_err *err)
{
    if (r == SPNG_EMEM || toon_png_oom())
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory decoding PNG");
    if (r == SPNG_EOF || r == SPNG_EIDAT_TOO_SHORT)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "truncated PNG: %s", spng_strerror(r));
    if (r == SPNG_ECHUNK_LIMITS)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "PNG metadata too large: %s",
                            spng_strerror(r));
    return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt PNG: %s", spng_strerror(r));
}

size_t toon_png_dec_plan_bytes(const struct toon_image_info *info)
{
    size_t w = (size_t)info->file_w, h = (size_t)info->file_h;
    /* spng: its context, zlib's inflate state and 32 KiB window, the chunk list, a chunk being
     * read and the chunk cache, and a few row buffers of up to 8 bytes per pixel (16-bit RGBA)
     * plus the filter byte.  The eXIf chunk is parsed while all of this is alive. */
    size_t spng = toon_plan_add(160 * 1024, PNG_CACHE_LIMIT + PNG_CHUNK_LIMIT);
    spng = toon_plan_add(spng, toon_plan_mul(4, toon_plan_block(toon_plan_add(w * 8, 64))));
    size_t ours = toon_plan_block(sizeof(struct png_dec));
    if (info->progressive)
        ours = toon_plan_add(ours, toon_plan_block(toon_plan_mul(toon_plan_mul(w, h), 4)));
    else
        ours = toon_plan_add(ours, toon_plan_block(toon_plan_mul(w, 4)));
    return toon_plan_add(toon_plan_add(spng, ours), toon_exif_plan_bytes());
}

static void png_dec_free(void *p)
{
    struct png_dec *d = p;
    if (!d) return;
    spng_ctx_free(d->ctx);
    toon_free(d->row);
    toon_free(d->image);
    toon_free(d);
}

enum toon_status toon_png_dec_open(const uint8_t *data, size_t len,
                                   const struct toon_decode_limits *lim,
                                   struct toon_image_info *info, void **out, struct toon_err *err)
{
    *out = NULL;
    memset(info, 0, sizeof *info);
    info->format = TOON_FORMAT_PNG;
    info->orientation = 1;
    toon_png_oom_clear();
    enum toon_status st;
    struct png_dec *d = toon_calloc(1, sizeof *d);
    if (!d) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening PNG");
    d->ctx = spng_ctx_new2(toon_png_alloc(), 0);
    if (!d->ctx) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening PNG");
        goto fail;
    }
    int r = spng_set_png_buffer(d->ctx, data, len);
    if (!r) r = spng_set_chunk_limits(d->ctx, PNG_CHUNK_LIMIT, PNG_CACHE_LIMIT);
    struct spng_ihdr ihdr;
    if (!r) r = spng_get_ihdr(d->ctx, &ihdr);
    if (r) {
        st = png_fail(r, err);
        goto fail;
    }
    if (ihdr.width > 0x7fffffffu || ihdr.height > 0x7fffffffu) {
        st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "image is %ux%u, too large", ihdr.width,
                          ihdr.height);
        goto fail;
    }
    d->w = (int)ihdr.width;
    d->h = (int)ihdr.height;
    d->interlaced = ihdr.interlace_method != SPNG_INTERLACE_NONE;
    info->file_w = d->w;
    info->file_h = d->h;
    info->bit_depth = ihdr.bit_depth == 16 ? 16 : 8;
    info->progressive = d->interlaced;
    toon_info_apply_orientation(info);
    st = toon_limits_check(info, lim, err); /* before spng reads any further chunk */
    if (st != TOON_STATUS_OK) goto fail;

    /* Reads the chunks before the image data: tRNS and eXIf. */
    struct spng_trns trns;
    r = spng_get_trns(d->ctx, &trns);
    if (r && r != SPNG_ECHUNKAVAIL) {
        st = png_fail(r, err);
        goto fail;
    }
    int has_trns = r == 0;
    switch (ihdr.color_type) {
    case SPNG_COLOR_TYPE_GRAYSCALE:
        info->channels = has_trns ? 2 : 1;
        break;
    case SPNG_COLOR_TYPE_GRAYSCALE_ALPHA:
        info->channels = 2;
        break;
    case SPNG_COLOR_TYPE_TRUECOLOR_ALPHA:
        info->channels = 4;
        break;
    default:
        info->channels = has_trns ? 4 : 3;
        break;
    }
    d->alpha = info->channels == 2 || info->channels == 4;
    struct spng_exif exif;
    r = spng_get_exif(d->ctx, &exif);
    if (r && r != SPNG_ECHUNKAVAIL) {
        st = png_fail(r, err);
        goto fail;
    }
    if (!r) {
        st =
            toon_exif_orientation((const uint8_t *)exif.data, exif.length, &info->orientation, err);
        if (st != TOON_STATUS_OK) goto fail;
        toon_info_apply_orientation(info);
        st = toon_limits_check(info, lim, err);
        if (st != TOON_STATUS_OK) goto fail;
    }
    *out = d;
    return TOON_STATUS_OK;
fail:
    png_dec_free(d);
    return st;
}

static enum toon_status png_start(void *p, struct toon_err *err)
{
    struct png_dec *d = p;
    int fmt = d->alpha ? SPNG_FMT_RGBA8 : SPNG_FMT_RGB8;
    toon_png_oom_clear();
    if (d->interlaced) {
        size_t n_px = (size_t)d->w * (size_t)d->h, size;
        if (!toon_size_mul(n_px, d->alpha ? 4 : 3, &size))
            return toon_err_set(err, TOON_STATUS_TOO_LARGE, "PNG too large");
        d->image = toon_malloc(size);
        if (!d->image) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for PNG");
        int r = spng_decode_image(d->ctx, d->image, size, fmt, SPNG_DECODE_TRNS);
        if (!r) r = spng_decode_chunks(d->ctx); /* verify the rest (see png_rows) */
        if (r) return png_fail(r, err);
        if (d->alpha) toon_rgba_onto_white(d->image, d->image, n_px);
        return TOON_STATUS_OK;
    }
    if (d->alpha) {
        d->row = toon_malloc((size_t)d->w * 4);
        if (!d->row) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for PNG");
    }
    int r = spng_decode_image(d->ctx, NULL, 0, fmt, SPNG_DECODE_TRNS | SPNG_DECODE_PROGRESSIVE);
    return r ? png_fail(r, err) : TOON_STATUS_OK;
}

static enum toon_status png_rows(void *p, uint8_t *rows, int n, struct toon_err *err)
{
    struct png_dec *d = p;
    size_t row_bytes = (size_t)d->w * 3;
    toon_png_oom_clear();
    for (int i = 0; i < n; i++, d->y++) {
        uint8_t *dst = rows + (size_t)i * row_bytes;
        if (d->image) {
            memcpy(dst, d->image + (size_t)d->y * row_bytes, row_bytes);
            continue;
        }
        uint8_t *buf = d->alpha ? d->row : dst;
        int r = spng_decode_row(d->ctx, buf, (size_t)d->w * (d->alpha ? 4 : 3));
        if (r == SPNG_EOI && d->y == d->h - 1) {
            /* spng stops reading once the last row is out; read on to IEND so that the last
             * IDAT chunk's CRC is checked: without it, damage there would go unnoticed. */
            r = spng_decode_chunks(d->ctx);
        }
        if (r) return png_fail(r, err);
        if (d->alpha) toon_rgba_onto_white(dst, d->row, (size_t)d->w);
    }
    return TOON_STATUS_OK;
}

static const uint8_t *png_whole(void *p)
{
    return ((struct png_dec *)p)->image;
}

const struct toon_decoder_ops toon_png_dec_ops = {png_start, png_rows, png_whole, png_dec_free};
