/*
 * JPEG decoder backend on libjpeg-turbo, row by row with jpeg_read_scanlines().
 *
 * Before libjpeg sees the file, a small bounds-checked walk over the marker segments finds the
 * EXIF APP1 segment (for the orientation) and the frame header, so sizes that libjpeg itself
 * cannot represent are still reported as "too large" against the caller's limits.
 *
 * libjpeg's errors, and its warnings about corrupt or missing data (a truncated file is padded
 * with grey and only warned about), end the call with a clear error via jpeg_err.c, so a damaged
 * file never becomes a silently grey image.
 * A progress monitor caps the number of scans of progressive files (each scan is a pass over
 * the whole image, so a hostile file could otherwise spin for minutes).
 *
 * libjpeg allocates with malloc; its heap is bounded by jpeg_lib_bytes(), which is both what the
 * planner is told and libjpeg's max_memory_to_use, so the whole-image coefficient arrays of
 * progressive files can never exceed the plan (libjpeg fails instead).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/jpeg_err.h"

#define JPEG_MAX_SCANS 200

struct jpeg_dec {
    struct jpeg_decompress_struct cinfo;
    struct toon_jpeg_err jerr;
    struct jpeg_progress_mgr progress;
    int created;
    int cmyk, inverted; /* 4-component output, Adobe's inverted CMYK */
    uint8_t *cmyk_row;  /* [w][4] */
    int w, h, n_comp;
};

/* Segments found by the pre-walk. */
struct jpeg_markers {
    const uint8_t *exif; /* APP1 body, starting with "Exif\0\0" */
    size_t exif_len;
    int have_sof, w, h, n_comp;
};

static void jpeg_walk(const uint8_t *d, size_t len, struct jpeg_markers *m)
{
    size_t p = 2; /* after SOI */
    while (p < len) {
        if (d[p] != 0xff) return; /* not at a marker: libjpeg will judge */
        while (p < len && d[p] == 0xff) p++;
        if (p >= len) return;
        uint8_t code = d[p++];
        if (code == 0x01 || code == 0xd8 || (code >= 0xd0 && code <= 0xd7)) continue;
        if (code == 0xd9 || code == 0xda) return; /* EOI or SOS: the header is over */
        if (len - p < 2) return;
        size_t seg = ((size_t)d[p] << 8) | d[p + 1];
        if (seg < 2 || seg > len - p) return;
        const uint8_t *body = d + p + 2;
        size_t body_len = seg - 2;
        if (code == 0xe1 && !m->exif && body_len >= 6 && !memcmp(body, "Exif\0\0", 6)) {
            m->exif = body;
            m->exif_len = body_len;
        } else if (code >= 0xc0 && code <= 0xcf && code != 0xc4 && code != 0xc8 && code != 0xcc &&
                   body_len >= 6 && !m->have_sof) {
            m->have_sof = 1;
            m->h = (body[1] << 8) | body[2];
            m->w = (body[3] << 8) | body[4];
            m->n_comp = body[5];
        }
        p += seg;
    }
}

/* libjpeg's own heap while decoding a w x h image of n_comp components: allocator pools,
 * Huffman and quantisation tables (under 96 KiB together), the row buffers of the main
 * controller, upsampler and colour converter (measured at 30-64 bytes per column for the worst
 * sampling factors, counted as 128), and for multi-scan files the coefficient arrays: one
 * 128-byte block per 8x8 pixels per component (at most full resolution, rounded up to the
 * sampling factor), their row pointers, and per-chunk headers.  tests/image/test_image_heap.c
 * checks this against the real heap. */
static size_t jpeg_lib_bytes(int w, int h, int n_comp, int multi_scan)
{
    size_t total = toon_plan_add(96 * 1024, toon_plan_mul((size_t)w + 64, 128));
    if (multi_scan) {
        size_t bw = (size_t)(w + 7) / 8 + 4, bh = (size_t)(h + 7) / 8 + 4;
        size_t per_comp = toon_plan_add(toon_plan_mul(toon_plan_mul(bw, bh), 128), bh * 64);
        total = toon_plan_add(total, toon_plan_mul(per_comp, (size_t)n_comp));
    }
    return total;
}

size_t toon_jpeg_dec_plan_bytes(const struct toon_image_info *info)
{
    int n_comp = info->channels == 1 ? 1 : info->channels == 4 ? 4 : 3;
    size_t ours = toon_plan_block(sizeof(struct jpeg_dec));
    if (n_comp == 4) ours = toon_plan_add(ours, toon_plan_block((size_t)info->file_w * 4));
    size_t decode =
        toon_plan_add(ours, jpeg_lib_bytes(info->file_w, info->file_h, n_comp, info->progressive));
    /* The EXIF block is parsed, and its memory freed, before the decoder exists. */
    size_t exif = toon_exif_plan_bytes();
    return decode > exif ? decode : exif;
}

static void jpeg_on_progress(j_common_ptr c)
{
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > JPEG_MAX_SCANS) {
        char msg[64];
        snprintf(msg, sizeof msg, "more than %d scans", JPEG_MAX_SCANS);
        toon_jpeg_err_raise(c, msg);
    }
}

static enum toon_status jpeg_fail(struct jpeg_dec *d, struct toon_err *err)
{
    const char *msg = d->jerr.msg;
    switch (d->jerr.code) {
    case JWRN_JPEG_EOF:
        return toon_err_set(err, TOON_STATUS_CORRUPT, "truncated JPEG: %s", msg);
    case JERR_OUT_OF_MEMORY:
    case JERR_NO_BACKING_STORE:
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "JPEG decoder out of memory: %s", msg);
    case JERR_IMAGE_TOO_BIG:
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "JPEG too large: %s", msg);
    case JERR_BAD_PRECISION:
    case JERR_CONVERSION_NOTIMPL:
    case JERR_NOT_COMPILED:
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "unsupported JPEG: %s", msg);
    default:
        return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt JPEG: %s", msg);
    }
}

static void jpeg_dec_free(void *p)
{
    struct jpeg_dec *d = p;
    if (!d) return;
    if (d->created) jpeg_destroy_decompress(&d->cinfo);
    toon_free(d->cmyk_row);
    toon_free(d);
}

/* Reads the header with libjpeg; called under setjmp by the open function. */
static enum toon_status jpeg_read_info(struct jpeg_dec *d, const struct toon_decode_limits *lim,
                                       struct toon_image_info *info, struct toon_err *err)
{
    jpeg_read_header(&d->cinfo, TRUE);
    d->w = (int)d->cinfo.image_width;
    d->h = (int)d->cinfo.image_height;
    d->n_comp = d->cinfo.num_components;
    info->file_w = d->w;
    info->file_h = d->h;
    info->channels = d->n_comp;
    info->bit_depth = d->cinfo.data_precision;
    info->progressive = jpeg_has_multiple_scans(&d->cinfo) ? 1 : 0;
    toon_info_apply_orientation(info);
    if (d->n_comp != 1 && d->n_comp != 3 && d->n_comp != 4)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "unsupported JPEG with %d components",
                            d->n_comp);
    return toon_limits_check(info, lim, err);
}

enum toon_status toon_jpeg_dec_open(const uint8_t *data, size_t len,
                                    const struct toon_decode_limits *lim,
                                    struct toon_image_info *info, void **out, struct toon_err *err)
{
    *out = NULL;
    memset(info, 0, sizeof *info);
    info->format = TOON_FORMAT_JPEG;
    info->bit_depth = 8;
    struct jpeg_markers m = {0};
    jpeg_walk(data, len, &m);
    enum toon_status st = toon_exif_orientation(m.exif, m.exif_len, &info->orientation, err);
    if (st != TOON_STATUS_OK) return st;
    if (m.have_sof && m.w > 0 && m.h > 0) { /* early check: libjpeg stops at 65500 */
        info->file_w = m.w;
        info->file_h = m.h;
        info->channels = m.n_comp;
        toon_info_apply_orientation(info);
        st = toon_limits_check(info, lim, err);
        if (st != TOON_STATUS_OK) return st;
    }

    struct jpeg_dec *d = toon_calloc(1, sizeof *d);
    if (!d) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening JPEG");
    d->cinfo.err = toon_jpeg_err_init(&d->jerr, 1);
    if (setjmp(d->jerr.jmp)) {
        st = jpeg_fail(d, err);
        goto fail;
    }
    d->created = 1;
    jpeg_create_decompress(&d->cinfo);
    d->progress.progress_monitor = jpeg_on_progress;
    d->cinfo.progress = &d->progress;
    jpeg_mem_src(&d->cinfo, data, (unsigned long)len);
    st = jpeg_read_info(d, lim, info, err);
    if (st != TOON_STATUS_OK) goto fail;
    *out = d;
    return TOON_STATUS_OK;
fail:
    jpeg_dec_free(d);
    return st;
}

static enum toon_status jpeg_start(void *p, struct toon_err *err)
{
    struct jpeg_dec *d = p;
    j_decompress_ptr c = &d->cinfo;
    d->cmyk = c->jpeg_color_space == JCS_CMYK || c->jpeg_color_space == JCS_YCCK;
    d->inverted = d->cmyk && c->saw_Adobe_marker;
    if (d->cmyk) {
        d->cmyk_row = toon_malloc((size_t)d->w * 4);
        if (!d->cmyk_row)
            return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory decoding JPEG");
    }
    if (setjmp(d->jerr.jmp)) return jpeg_fail(d, err);
    c->out_color_space = d->cmyk ? JCS_CMYK : JCS_RGB;
    size_t lib = jpeg_lib_bytes(d->w, d->h, d->n_comp, jpeg_has_multiple_scans(c));
    c->mem->max_memory_to_use = lib > (size_t)LONG_MAX ? LONG_MAX : (long)lib;
    jpeg_start_decompress(c);
    if ((int)c->output_width != d->w || (int)c->output_height != d->h ||
        c->output_components != (d->cmyk ? 4 : 3))
        return toon_err_set(err, TOON_STATUS_INTERNAL, "JPEG decoder output is %ux%ux%d",
                            c->output_width, c->output_height, c->output_components);
    return TOON_STATUS_OK;
}

static void cmyk_to_rgb(uint8_t *dst, const uint8_t *src, int w, int inverted)
{
    for (int x = 0; x < w; x++) {
        unsigned cc = src[4 * x], m = src[4 * x + 1], y = src[4 * x + 2], k = src[4 * x + 3];
        if (!inverted) {
            cc = 255 - cc;
            m = 255 - m;
            y = 255 - y;
            k = 255 - k;
        }
        dst[3 * x] = (uint8_t)((cc * k + 127) / 255);
        dst[3 * x + 1] = (uint8_t)((m * k + 127) / 255);
        dst[3 * x + 2] = (uint8_t)((y * k + 127) / 255);
    }
}

static enum toon_status jpeg_rows(void *p, uint8_t *rows, int n, struct toon_err *err)
{
    struct jpeg_dec *d = p;
    if (setjmp(d->jerr.jmp)) return jpeg_fail(d, err);
    for (int i = 0; i < n; i++) {
        uint8_t *dst = rows + (size_t)i * (size_t)d->w * 3;
        JSAMPROW row = d->cmyk ? d->cmyk_row : dst;
        if (jpeg_read_scanlines(&d->cinfo, &row, 1) != 1)
            return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt JPEG: decoder stopped early");
        if (d->cmyk) cmyk_to_rgb(dst, d->cmyk_row, d->w, d->inverted);
    }
    return TOON_STATUS_OK;
}

const struct toon_decoder_ops toon_jpeg_dec_ops = {jpeg_start, jpeg_rows, NULL, jpeg_dec_free};
