/*
 * WebP encoder backend on libwebp (lossy).  libwebp needs the whole picture, so rows are
 * collected in a buffer of ours and encoded at finish; the encoded bytes go to the sink through
 * libwebp's writer callback as they are produced, without a second whole-file buffer.
 *
 * Settings: method 3 with low_memory.  At methods 3 and above libwebp otherwise records every
 * coefficient token for its rate-distortion passes: measured on a 1600x1200 picture, 2.1 bytes
 * per pixel for a smooth one but 21 for noise, so the plan would have to promise 24 bytes per
 * pixel.  With low_memory the encoder stays under 4 bytes per pixel (YUV planes and the coded
 * partitions, q100 noise included) for the same output size, at 15-30% more time than the
 * default method 4; method 2 and below would make files twice as large on detailed pictures.
 */
#include <string.h>

#include <webp/encode.h>

#include "core/alloc.h"
#include "image/backend.h"

struct webp_enc {
    int quality, w, h, y;
    uint8_t *rgb; /* [h][w][3] */
    toon_write_fn sink;
    void *sink_ctx;
    enum toon_status sink_st;
};

size_t toon_webp_enc_plan_bytes(int w, int h)
{
    size_t px = toon_plan_mul((size_t)w, (size_t)h);
    size_t ours = toon_plan_add(toon_plan_block(sizeof(struct webp_enc)),
                                toon_plan_block(toon_plan_mul(px, 3)));
    /* libwebp: the YUV 4:2:0 picture (1.5 bytes per pixel), alive with our RGB copy during the
     * import and with the encoder's per-macroblock state and coded partitions (under 2.5 bytes
     * per pixel, pure noise at q100 included) afterwards; tests/image/test_image_heap.c. */
    size_t lib = toon_plan_add(toon_plan_mul(px, 3), toon_plan_add(1u << 20, (size_t)w * 256));
    return toon_plan_add(ours, lib);
}

static void webp_enc_free(void *p)
{
    struct webp_enc *e = p;
    if (!e) return;
    toon_free(e->rgb);
    toon_free(e);
}

enum toon_status toon_webp_enc_open(int quality, int w, int h, toon_write_fn sink, void *sink_ctx,
                                    void **out, struct toon_err *err)
{
    *out = NULL;
    size_t bytes;
    if (!toon_size_mul((size_t)w * 3, (size_t)h, &bytes))
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "WebP output too large");
    struct webp_enc *e = toon_calloc(1, sizeof *e);
    if (!e) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening WebP encoder");
    e->rgb = toon_malloc(bytes);
    if (!e->rgb) {
        webp_enc_free(e);
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for a %dx%d WebP", w, h);
    }
    e->quality = quality;
    e->w = w;
    e->h = h;
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    *out = e;
    return TOON_STATUS_OK;
}

static enum toon_status webp_enc_rows(void *p, const uint8_t *rows, int n, struct toon_err *err)
{
    (void)err;
    struct webp_enc *e = p;
    size_t row_bytes = (size_t)e->w * 3;
    memcpy(e->rgb + (size_t)e->y * row_bytes, rows, row_bytes * (size_t)n);
    e->y += n;
    return TOON_STATUS_OK;
}

static int webp_write(const uint8_t *data, size_t n, const WebPPicture *pic)
{
    struct webp_enc *e = pic->custom_ptr;
    if (e->sink_st != TOON_STATUS_OK) return 0;
    e->sink_st = e->sink(e->sink_ctx, data, n);
    return e->sink_st == TOON_STATUS_OK;
}

static enum toon_status webp_enc_finish(void *p, struct toon_err *err)
{
    struct webp_enc *e = p;
    WebPConfig config;
    WebPPicture pic;
    if (!WebPConfigInit(&config) || !WebPPictureInit(&pic))
        return toon_err_set(err, TOON_STATUS_INTERNAL, "libwebp version mismatch");
    config.quality = (float)e->quality;
    config.method = 3;
    config.low_memory = 1; /* see the top of this file */
    config.thread_level = 0;
    pic.use_argb = 0;
    pic.width = e->w;
    pic.height = e->h;
    pic.writer = webp_write;
    pic.custom_ptr = e;
    enum toon_status st = TOON_STATUS_OK;
    int imported = WebPPictureImportRGB(&pic, e->rgb, e->w * 3);
    toon_free(e->rgb); /* libwebp has its own YUV copy now */
    e->rgb = NULL;
    if (!imported) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "WebP encoder out of memory");
    } else if (!WebPEncode(&config, &pic)) {
        if (e->sink_st != TOON_STATUS_OK)
            st = toon_err_set(err, e->sink_st, "writing WebP output failed (%s)",
                              toon_status_str(e->sink_st));
        else if (pic.error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ||
                 pic.error_code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY)
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "WebP encoder out of memory");
        else
            st = toon_err_set(err, TOON_STATUS_INTERNAL, "WebP encoder failed (error %d)",
                              (int)pic.error_code);
    }
    WebPPictureFree(&pic);
    return st;
}

const struct toon_encoder_ops toon_webp_enc_ops = {webp_enc_rows, webp_enc_finish, webp_enc_free};
