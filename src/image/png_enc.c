/*
 * PNG encoder backend on libspng's progressive encoder: 8-bit RGB, one spng_encode_row() per
 * row, compressed output handed to the sink as spng produces it.  All of spng's and zlib's
 * allocations go through toon_malloc.
 *
 * Compression: zlib level 4 with spng's adaptive filter choice.  Measured on this machine with
 * the astronaut photo upscaled to 2048x2048 (time for the whole encode, output size):
 *
 *   level              1        2        3        4        5        6        9
 *   with +-3 noise     415 ms   455 ms   608 ms   747 ms   1154 ms  1875 ms  2222 ms
 *                      6.8 MB   6.8 MB   6.6 MB   5.9 MB   5.9 MB   5.9 MB   5.9 MB
 *   smooth             283 ms   307 ms   426 ms   462 ms   603 ms   1093 ms  10664 ms
 *                      3.9 MB   3.8 MB   3.6 MB   3.4 MB   3.3 MB   3.3 MB   3.1 MB
 *   posterised         357 ms   252 ms   420 ms   276 ms   565 ms   539 ms   3954 ms
 *                      0.8 MB   0.8 MB   0.7 MB   0.6 MB   0.6 MB   0.5 MB   0.5 MB
 *
 * Level 4 is within 3-6% of zlib's default level 6 in size at 40-60% of its time; below 4 files
 * grow by 10-15% for little speed.
 */
#include <string.h>

#include <spng.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/png_alloc.h"

#define PNG_LEVEL 4 /* see the measurements above */

struct png_enc {
    spng_ctx *ctx;
    int w, h, y;
    toon_write_fn sink;
    void *sink_ctx;
    enum toon_status sink_st;
};

size_t toon_png_enc_plan_bytes(int w, int h)
{
    (void)h;
    /* spng's context, zlib's deflate state at the default window and memLevel (about 270 KiB;
     * 290 KiB measured for the whole encoder of a tiny image), spng's output buffer and a few
     * scanline buffers (current, previous and the filter candidates) of 3w + 1 bytes each. */
    size_t row = toon_plan_block((size_t)w * 3 + 64);
    size_t spng = toon_plan_add(384 * 1024, toon_plan_mul(row, 8));
    return toon_plan_add(spng, toon_plan_block(sizeof(struct png_enc)));
}

static enum toon_status png_enc_fail(struct png_enc *e, int r, struct toon_err *err)
{
    if (e->sink_st != TOON_STATUS_OK)
        return toon_err_set(err, e->sink_st, "writing PNG output failed (%s)",
                            toon_status_str(e->sink_st));
    if (r == SPNG_EMEM || toon_png_oom())
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory encoding PNG");
    return toon_err_set(err, TOON_STATUS_INTERNAL, "PNG encoder: %s", spng_strerror(r));
}

static int png_write(spng_ctx *ctx, void *user, void *src, size_t n)
{
    (void)ctx;
    struct png_enc *e = user;
    enum toon_status st = e->sink(e->sink_ctx, src, n);
    if (st != TOON_STATUS_OK) {
        e->sink_st = st;
        return SPNG_IO_ERROR;
    }
    return 0;
}

static void png_enc_free(void *p)
{
    struct png_enc *e = p;
    if (!e) return;
    spng_ctx_free(e->ctx);
    toon_free(e);
}

enum toon_status toon_png_enc_open(int w, int h, toon_write_fn sink, void *sink_ctx, void **out,
                                   struct toon_err *err)
{
    *out = NULL;
    enum toon_status st;
    struct png_enc *e = toon_calloc(1, sizeof *e);
    if (!e) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening PNG encoder");
    e->w = w;
    e->h = h;
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    toon_png_oom_clear();
    e->ctx = spng_ctx_new2(toon_png_alloc(), SPNG_CTX_ENCODER);
    if (!e->ctx) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening PNG encoder");
        goto fail;
    }
    struct spng_ihdr ihdr = {0};
    ihdr.width = (uint32_t)w;
    ihdr.height = (uint32_t)h;
    ihdr.bit_depth = 8;
    ihdr.color_type = SPNG_COLOR_TYPE_TRUECOLOR;
    int r = spng_set_png_stream(e->ctx, png_write, e);
    if (!r) r = spng_set_ihdr(e->ctx, &ihdr);
    if (!r) r = spng_set_option(e->ctx, SPNG_IMG_COMPRESSION_LEVEL, PNG_LEVEL);
    if (!r)
        r = spng_encode_image(e->ctx, NULL, 0, SPNG_FMT_PNG,
                              SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE);
    if (r) {
        st = png_enc_fail(e, r, err);
        goto fail;
    }
    *out = e;
    return TOON_STATUS_OK;
fail:
    png_enc_free(e);
    return st;
}

static enum toon_status png_enc_rows(void *p, const uint8_t *rows, int n, struct toon_err *err)
{
    struct png_enc *e = p;
    size_t row_bytes = (size_t)e->w * 3;
    toon_png_oom_clear();
    for (int i = 0; i < n; i++, e->y++) {
        /* spng takes a non-const row but only reads it. */
        void *row = (void *)(uintptr_t)(rows + (size_t)i * row_bytes);
        int r = spng_encode_row(e->ctx, row, row_bytes);
        if (r != 0 && !(r == SPNG_EOI && e->y == e->h - 1)) return png_enc_fail(e, r, err);
    }
    return TOON_STATUS_OK;
}

static enum toon_status png_enc_finish(void *p, struct toon_err *err)
{
    (void)p;
    (void)err;
    /* SPNG_ENCODE_FINALIZE wrote IEND after the last row. */
    return TOON_STATUS_OK;
}

const struct toon_encoder_ops toon_png_enc_ops = {png_enc_rows, png_enc_finish, png_enc_free};
