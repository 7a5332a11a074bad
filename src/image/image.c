/*
 * Small public helpers of the image module: freeing images, default decode limits, format names
 * and magic numbers, the two standard sinks (FILE* and growing memory buffer), and the helpers
 * every codec backend shares (limit checks, orientation sizes, compositing onto white).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/codec.h"

void toon_image_free(struct toon_image *img)
{
    if (!img) return;
    toon_free(img->data);
    memset(img, 0, sizeof *img);
}

struct toon_decode_limits toon_decode_default_limits(void)
{
    struct toon_decode_limits lim = {16384, 16384, 100000000u};
    return lim;
}

enum toon_format toon_format_from_name(const char *name)
{
    if (!name) return TOON_FORMAT_UNKNOWN;
    if (!strcasecmp(name, "png")) return TOON_FORMAT_PNG;
    if (!strcasecmp(name, "jpg") || !strcasecmp(name, "jpeg")) return TOON_FORMAT_JPEG;
    if (!strcasecmp(name, "webp")) return TOON_FORMAT_WEBP;
    return TOON_FORMAT_UNKNOWN;
}

const char *toon_format_ext(enum toon_format fmt)
{
    return fmt == TOON_FORMAT_JPEG ? "jpg" : fmt == TOON_FORMAT_WEBP ? "webp" : "png";
}

const char *toon_format_name(enum toon_format fmt)
{
    switch (fmt) {
    case TOON_FORMAT_JPEG:
        return "jpeg";
    case TOON_FORMAT_PNG:
        return "png";
    case TOON_FORMAT_WEBP:
        return "webp";
    case TOON_FORMAT_RAW:
        return "raw";
    default:
        return "unknown";
    }
}

enum toon_format toon_format_sniff(const uint8_t *data, size_t len)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (!data) return TOON_FORMAT_UNKNOWN;
    if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) return TOON_FORMAT_JPEG;
    if (len >= 8 && !memcmp(data, png_sig, 8)) return TOON_FORMAT_PNG;
    if (len >= 12 && !memcmp(data, "RIFF", 4) && !memcmp(data + 8, "WEBP", 4))
        return TOON_FORMAT_WEBP;
    return TOON_FORMAT_UNKNOWN;
}

enum toon_status toon_write_file(void *file, const void *data, size_t n)
{
    if (!file) return TOON_STATUS_INVALID_ARGUMENT;
    if (n && fwrite(data, 1, n, (FILE *)file) != n) return TOON_STATUS_IO;
    return TOON_STATUS_OK;
}

enum toon_status toon_write_membuf(void *membuf, const void *data, size_t n)
{
    struct toon_membuf *mb = membuf;
    if (!mb) return TOON_STATUS_INVALID_ARGUMENT;
    if (n == 0) return TOON_STATUS_OK;
    if (n > SIZE_MAX - mb->len) return TOON_STATUS_NO_MEMORY;
    size_t need = mb->len + n;
    if (need > mb->cap) {
        size_t cap = mb->cap ? mb->cap : 4096;
        while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
        uint8_t *p = toon_realloc(mb->data, cap);
        if (!p) return TOON_STATUS_NO_MEMORY;
        mb->data = p;
        mb->cap = cap;
    }
    memcpy(mb->data + mb->len, data, n);
    mb->len = need;
    return TOON_STATUS_OK;
}

void toon_info_apply_orientation(struct toon_image_info *info)
{
    if (info->orientation < 1 || info->orientation > 8) info->orientation = 1;
    int swap = info->orientation >= 5;
    info->w = swap ? info->file_h : info->file_w;
    info->h = swap ? info->file_w : info->file_h;
}

enum toon_status toon_limits_check(const struct toon_image_info *info,
                                   const struct toon_decode_limits *lim, struct toon_err *err)
{
    if (info->file_w <= 0 || info->file_h <= 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "image has an empty size (%dx%d)",
                            info->file_w, info->file_h);
    if (!lim) return TOON_STATUS_OK;
    if (info->w > lim->max_w || info->h > lim->max_h) {
        if (lim->max_w == lim->max_h)
            return toon_err_set(err, TOON_STATUS_TOO_LARGE,
                                "image is %dx%d, the limit is %d per side", info->w, info->h,
                                lim->max_w);
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "image is %dx%d, the limit is %dx%d",
                            info->w, info->h, lim->max_w, lim->max_h);
    }
    uint64_t px = (uint64_t)info->w * (uint64_t)info->h;
    if (px > lim->max_pixels)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE,
                            "image is %dx%d (%.1f Mpx), the limit is %.1f Mpx", info->w, info->h,
                            (double)px / 1e6, (double)lim->max_pixels / 1e6);
    return TOON_STATUS_OK;
}

void toon_rgba_onto_white(uint8_t *dst, const uint8_t *src, size_t n)
{
    /* Forward order keeps the in-place case safe: dst[3i..3i+2] never passes src[4i]. */
    for (size_t i = 0; i < n; i++) {
        unsigned a = src[4 * i + 3], bg = 255u * (255u - a);
        unsigned r = src[4 * i], g = src[4 * i + 1], b = src[4 * i + 2];
        dst[3 * i] = (uint8_t)((r * a + bg + 127u) / 255u);
        dst[3 * i + 1] = (uint8_t)((g * a + bg + 127u) / 255u);
        dst[3 * i + 2] = (uint8_t)((b * a + bg + 127u) / 255u);
    }
}
