/*
 * WebP decoder backend on libwebp.  The picture is decoded whole, straight into a buffer of ours
 * (RGB, or RGBA composited onto white in place), which the reader then serves row by row or
 * rotates.  Animated files are refused.
 *
 * A bounds-checked walk over the RIFF chunks reads the VP8X canvas size (checked against the
 * limits before libwebp parses anything) and the EXIF chunk (orientation), and counts the image
 * (VP8, VP8L) and alpha (ALPH) chunks.  A still image has one of each at most, and files with
 * more are refused as corrupt: libwebp would decode the first image chunk and the last ALPH
 * chunk before it, whichever the walk had checked (issue 15: a raw first ALPH chunk hid a
 * hostile lossless one from the scan below, and libwebp took 87 MB under a 16 MB plan).
 *
 * libwebp allocates with malloc.  Its largest blocks are the ARGB planes of lossless streams and
 * their Huffman tables, whose number the file chooses; see webp_vp8l_bytes() and
 * toon_vp8l_groups() (vp8l_scan.c), which lets the decoder refuse files whose tables would
 * exceed what the plan allows.  info.channels is 4 whenever the file holds a lossless stream
 * (the picture, or the alpha plane of a lossy one), 3 for plain lossy files.
 */
#include <string.h>

#include <webp/decode.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/vp8l_scan.h"

struct webp_dec {
    const uint8_t *data;
    size_t len;
    int w, h, alpha;
    uint8_t *image; /* [h][w][3] (decoded as [h][w][4] when alpha, packed in place) */
    int y;
};

struct webp_chunks {
    int have_vp8x;
    uint32_t canvas_w, canvas_h;
    const uint8_t *exif; /* EXIF chunk body */
    size_t exif_len;
    const uint8_t *vp8l; /* VP8L chunk body (lossless image) */
    size_t vp8l_len;
    const uint8_t *alph; /* ALPH chunk body (alpha of a lossy image) */
    size_t alph_len;
    int n_image, n_alph; /* VP8 and VP8L chunks; ALPH chunks */
};

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void webp_walk(const uint8_t *d, size_t len, struct webp_chunks *c)
{
    if (len < 20) return;
    size_t end = len;
    uint32_t riff = le32(d + 4);
    if ((size_t)riff + 8 < end) end = (size_t)riff + 8;
    if (end < 12) return;
    size_t p = 12;
    while (end - p >= 8) {
        size_t size = le32(d + p + 4);
        const uint8_t *body = d + p + 8;
        size_t avail = end - p - 8;
        if (size > avail) size = avail; /* truncated: libwebp will say so */
        if (!memcmp(d + p, "VP8X", 4) && size >= 10 && !c->have_vp8x) {
            c->have_vp8x = 1;
            c->canvas_w =
                1 + ((uint32_t)body[4] | (uint32_t)body[5] << 8 | (uint32_t)body[6] << 16);
            c->canvas_h =
                1 + ((uint32_t)body[7] | (uint32_t)body[8] << 8 | (uint32_t)body[9] << 16);
        } else if (!memcmp(d + p, "EXIF", 4) && !c->exif) {
            c->exif = body;
            c->exif_len = size;
        } else if (!memcmp(d + p, "VP8 ", 4) || !memcmp(d + p, "VP8L", 4)) {
            if (c->n_image++ == 0 && d[p + 3] == 'L') {
                c->vp8l = body;
                c->vp8l_len = size;
            }
        } else if (!memcmp(d + p, "ALPH", 4)) {
            if (c->n_alph++ == 0) {
                c->alph = body;
                c->alph_len = size;
            }
        }
        size_t step = size + (size & 1);
        if (step > end - p - 8) break;
        p += 8 + step;
    }
}

/* libwebp's own heap for a w x h picture.  The lossy (VP8) decoder keeps per-macroblock state
 * and a few rows of caches (measured at about 130 bytes per column).  A lossless (VP8L) stream,
 * the whole picture or the alpha plane of a lossy one, needs its ARGB plane and row caches, the
 * transform and entropy sub-images (a sixteenth of the pixels each at most, three of them), and
 * the Huffman tables: at most 5004 four-byte entries per group, for at most
 * toon_vp8l_max_groups() groups (vp8l_scan.c refuses files with more), plus the alpha plane. */
static size_t webp_lossy_bytes(size_t w)
{
    return toon_plan_add(256 * 1024, toon_plan_mul(w + 64, 192));
}

static size_t webp_vp8l_bytes(size_t w, size_t h)
{
    size_t px = toon_plan_mul(w, h);
    size_t argb = toon_plan_add(toon_plan_mul(px, 4), toon_plan_mul(w + 64, 32 * 4));
    size_t sub = toon_plan_mul(toon_plan_mul((w + 3) / 4, (h + 3) / 4), 4 * 3);
    size_t groups = (size_t)toon_vp8l_max_groups((int)w, (int)h);
    size_t huff = toon_plan_mul(groups, 5004 * 4 + 256);
    size_t total = toon_plan_add(toon_plan_add(argb, sub), toon_plan_add(huff, px));
    return toon_plan_add(total, 256 * 1024);
}

size_t toon_webp_dec_plan_bytes(const struct toon_image_info *info)
{
    size_t w = (size_t)info->file_w, h = (size_t)info->file_h;
    int argb = info->channels == 4; /* a lossless stream is present (see toon_webp_dec_open) */
    size_t ours = toon_plan_block(sizeof(struct webp_dec));
    ours = toon_plan_add(ours, toon_plan_block(toon_plan_mul(toon_plan_mul(w, h), argb ? 4 : 3)));
    size_t lib = webp_lossy_bytes(w);
    if (argb) {
        /* The scan (vp8l_scan.c) runs, and frees its memory, before libwebp starts. */
        size_t vp8l = webp_vp8l_bytes(w, h), scan = toon_vp8l_scan_plan_bytes((int)w, (int)h);
        lib = toon_plan_add(lib, vp8l > scan ? vp8l : scan);
    }
    size_t decode = toon_plan_add(ours, lib);
    /* The EXIF block is parsed, and its memory freed, before anything else is allocated. */
    size_t exif = toon_exif_plan_bytes();
    return decode > exif ? decode : exif;
}

static enum toon_status webp_fail(VP8StatusCode vs, struct toon_err *err)
{
    switch (vs) {
    case VP8_STATUS_NOT_ENOUGH_DATA:
        return toon_err_set(err, TOON_STATUS_CORRUPT, "truncated WebP: not enough data");
    case VP8_STATUS_OUT_OF_MEMORY:
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "WebP decoder out of memory");
    case VP8_STATUS_UNSUPPORTED_FEATURE:
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "unsupported WebP feature");
    case VP8_STATUS_INVALID_PARAM:
        return toon_err_set(err, TOON_STATUS_INTERNAL, "WebP decoder: invalid parameter");
    default:
        return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt WebP: bitstream error");
    }
}

static void webp_dec_free(void *p)
{
    struct webp_dec *d = p;
    if (!d) return;
    toon_free(d->image);
    toon_free(d);
}

/* Refuses files with more than one image or alpha chunk (see the top of this file). */
static enum toon_status webp_check_chunks(const struct webp_chunks *c, struct toon_err *err)
{
    if (c->n_image > 1)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt WebP: %d image chunks (VP8, VP8L), a still image has one",
                            c->n_image);
    if (c->n_alph > 1)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt WebP: %d ALPH chunks, a still image has one alpha plane",
                            c->n_alph);
    return TOON_STATUS_OK;
}

/* Refuses lossless streams whose Huffman tables would exceed what the plan allows. */
static enum toon_status webp_check_groups(const struct webp_chunks *c, int w, int h,
                                          struct toon_err *err)
{
    int max_groups = toon_vp8l_max_groups(w, h);
    int groups = 0;
    enum toon_status st = TOON_STATUS_OK;
    if (c->vp8l)
        st = toon_vp8l_groups(c->vp8l, c->vp8l_len, 1, w, h, &groups, err);
    else if (c->alph && c->alph_len >= 1 && (c->alph[0] & 3) == 1)
        st = toon_vp8l_groups(c->alph + 1, c->alph_len - 1, 0, w, h, &groups, err);
    if (st != TOON_STATUS_OK) return st;
    if (groups > max_groups)
        return toon_err_set(
            err, TOON_STATUS_UNSUPPORTED,
            "WebP lossless stream uses %d Huffman groups, the limit for %dx%d is %d", groups, w, h,
            max_groups);
    return TOON_STATUS_OK;
}

enum toon_status toon_webp_dec_open(const uint8_t *data, size_t len,
                                    const struct toon_decode_limits *lim,
                                    struct toon_image_info *info, void **out, struct toon_err *err)
{
    *out = NULL;
    memset(info, 0, sizeof *info);
    info->format = TOON_FORMAT_WEBP;
    info->bit_depth = 8;
    info->progressive = 1; /* always decoded whole */
    struct webp_chunks c = {0};
    webp_walk(data, len, &c);
    enum toon_status st = webp_check_chunks(&c, err);
    if (st != TOON_STATUS_OK) return st;
    st = toon_exif_orientation(c.exif, c.exif_len, &info->orientation, err);
    if (st != TOON_STATUS_OK) return st;
    if (c.have_vp8x) {
        if (c.canvas_w > 0x7fffffffu || c.canvas_h > 0x7fffffffu)
            return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt WebP: bad canvas size");
        info->file_w = (int)c.canvas_w;
        info->file_h = (int)c.canvas_h;
        toon_info_apply_orientation(info);
        st = toon_limits_check(info, lim, err);
        if (st != TOON_STATUS_OK) return st;
    }
    WebPBitstreamFeatures f;
    VP8StatusCode vs = WebPGetFeatures(data, len, &f);
    if (vs != VP8_STATUS_OK) return webp_fail(vs, err);
    if (f.has_animation)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "animated WebP is not supported");
    info->file_w = f.width;
    info->file_h = f.height;
    /* 4 whenever the file holds a lossless (ARGB) stream: the whole picture, or the alpha plane
     * of a lossy one (an ALPH chunk, compressed or not); the plan depends on it. */
    info->channels = (f.format == 2 || f.has_alpha || c.vp8l || c.alph) ? 4 : 3;
    toon_info_apply_orientation(info);
    st = toon_limits_check(info, lim, err);
    if (st != TOON_STATUS_OK) return st;

    struct webp_dec *d = toon_calloc(1, sizeof *d);
    if (!d) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening WebP");
    d->data = data;
    d->len = len;
    d->w = f.width;
    d->h = f.height;
    d->alpha = f.has_alpha;
    if (lim) { /* a real open (not a probe): the pixels will be decoded */
        st = webp_check_groups(&c, d->w, d->h, err);
        if (st != TOON_STATUS_OK) {
            webp_dec_free(d);
            return st;
        }
    }
    *out = d;
    return TOON_STATUS_OK;
}

static enum toon_status webp_start(void *p, struct toon_err *err)
{
    struct webp_dec *d = p;
    size_t c = d->alpha ? 4 : 3, n_px = (size_t)d->w * (size_t)d->h, size;
    if (!toon_size_mul(n_px, c, &size))
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "WebP too large");
    d->image = toon_malloc(size);
    if (!d->image) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory for WebP");
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config))
        return toon_err_set(err, TOON_STATUS_INTERNAL, "libwebp version mismatch");
    config.options.use_threads = 0;
    config.output.colorspace = d->alpha ? MODE_RGBA : MODE_RGB;
    config.output.is_external_memory = 1;
    config.output.width = d->w;
    config.output.height = d->h;
    config.output.u.RGBA.rgba = d->image;
    config.output.u.RGBA.stride = d->w * (int)c;
    config.output.u.RGBA.size = size;
    VP8StatusCode vs = WebPDecode(d->data, d->len, &config);
    WebPFreeDecBuffer(&config.output);
    if (vs != VP8_STATUS_OK) return webp_fail(vs, err);
    if (d->alpha) toon_rgba_onto_white(d->image, d->image, n_px);
    return TOON_STATUS_OK;
}

static enum toon_status webp_rows(void *p, uint8_t *rows, int n, struct toon_err *err)
{
    (void)err;
    struct webp_dec *d = p;
    size_t row_bytes = (size_t)d->w * 3;
    memcpy(rows, d->image + (size_t)d->y * row_bytes, row_bytes * (size_t)n);
    d->y += n;
    return TOON_STATUS_OK;
}

static const uint8_t *webp_whole(void *p)
{
    return ((struct webp_dec *)p)->image;
}

const struct toon_decoder_ops toon_webp_dec_ops = {webp_start, webp_rows, webp_whole,
                                                   webp_dec_free};
