/*
 * Helpers shared by the image tests: synthetic pictures, encoding into memory, hand-built EXIF
 * blocks and PNG/WebP containers, and the reference EXIF orientation transform (written from
 * the EXIF definitions, independently of src/image/reader.c).  Header-only, static functions.
 */
#ifndef TOON_TEST_IMAGE_TESTUTIL_H
#define TOON_TEST_IMAGE_TESTUTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "test.h"

/* A photo-like RGB picture: smooth gradients, a few edges and some texture.
 * rgb: [h][w][3]. */
static inline void tu_photo(uint8_t *rgb, int w, int h, unsigned seed)
{
    unsigned s = seed * 2654435761u + 1;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            s = s * 1103515245u + 12345u;
            int noise = (int)((s >> 16) % 9) - 4;
            int edge = ((x / 7 + y / 5) & 1) ? 40 : 0;
            int r = (x * 255) / (w > 1 ? w - 1 : 1) / 2 + edge + noise;
            int g = (y * 255) / (h > 1 ? h - 1 : 1) / 2 + 60 + noise;
            int b = ((x + y) * 127) / (w + h) + (x > w / 2 ? 80 : 0) - noise;
            uint8_t *p = rgb + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            p[1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
            p[2] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
        }
}

/* Encodes rgb [h][w][3] into a membuf (toon_free(mb.data) when done). */
static inline struct toon_membuf tu_encode(const uint8_t *rgb, int w, int h, enum toon_format fmt,
                                           int quality)
{
    struct toon_image img = {w, h, 3, (size_t)w * 3, (uint8_t *)(uintptr_t)rgb};
    struct toon_membuf mb = {0};
    struct toon_err err = {{0}};
    enum toon_status st = toon_image_encode(&img, fmt, quality, toon_write_membuf, &mb, &err);
    if (st != TOON_STATUS_OK) TEST_FAIL_("encode %s: %s", toon_format_name(fmt), err.msg);
    return mb;
}

static inline double tu_psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++) se += (double)(a[i] - b[i]) * (a[i] - b[i]);
    if (se == 0) return 99.0;
    return 10.0 * log10(255.0 * 255.0 * (double)n / se);
}

static inline int tu_max_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* A TIFF block with IFD0 holding only the orientation tag.  out: at least 26 bytes. */
static inline size_t tu_tiff_orientation(uint8_t *out, int orientation, int big_endian)
{
    static const uint8_t le[26] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3,
                                   0,   1,   0,  0, 0, 0, 0, 0, 0, 0, 0,    0,    0};
    static const uint8_t be[26] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0,
                                   3,   0,   0, 0,  1, 0, 0, 0, 0, 0, 0,    0,    0};
    memcpy(out, big_endian ? be : le, 26);
    if (big_endian)
        out[19] = (uint8_t)orientation;
    else
        out[18] = (uint8_t)orientation;
    return 26;
}

/* A JPEG with an EXIF APP1 segment (orientation) inserted after SOI.  Returns malloc'd bytes. */
static inline uint8_t *tu_jpeg_with_exif(const uint8_t *jpg, size_t len, int orientation,
                                         int big_endian, size_t *out_len)
{
    uint8_t tiff[26];
    size_t tn = tu_tiff_orientation(tiff, orientation, big_endian);
    size_t seg = 2 + 6 + tn;
    uint8_t *d = malloc(len + 2 + seg);
    CHECK(d != NULL);
    memcpy(d, jpg, 2);
    d[2] = 0xff;
    d[3] = 0xe1;
    d[4] = (uint8_t)(seg >> 8);
    d[5] = (uint8_t)seg;
    memcpy(d + 6, "Exif\0\0", 6);
    memcpy(d + 12, tiff, tn);
    memcpy(d + 12 + tn, jpg + 2, len - 2);
    *out_len = len + 2 + seg;
    return d;
}

/* The picture as displayed for an EXIF orientation, from the EXIF definitions of where the
 * stored row 0 and column 0 go.  src: [H][W][3]; dst: [h'][w'][3]. */
static inline void tu_orient(const uint8_t *src, int W, int H, int o, uint8_t *dst)
{
    int dw = o >= 5 ? H : W;
    for (int sy = 0; sy < H; sy++)
        for (int sx = 0; sx < W; sx++) {
            int x, y;
            switch (o) {
            case 2:
                x = W - 1 - sx, y = sy;
                break; /* mirrored left-right */
            case 3:
                x = W - 1 - sx, y = H - 1 - sy;
                break; /* rotated 180 */
            case 4:
                x = sx, y = H - 1 - sy;
                break; /* mirrored top-bottom */
            case 5:
                x = sy, y = sx;
                break; /* transposed */
            case 6:
                x = H - 1 - sy, y = sx;
                break; /* rotate 90 clockwise to view */
            case 7:
                x = H - 1 - sy, y = W - 1 - sx;
                break; /* transversed */
            case 8:
                x = sy, y = W - 1 - sx;
                break; /* rotate 90 counter-clockwise */
            default:
                x = sx, y = sy;
                break;
            }
            memcpy(dst + ((size_t)y * dw + x) * 3, src + ((size_t)sy * W + sx) * 3, 3);
        }
}

static inline uint32_t tu_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void tu_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16),
    p[3] = (uint8_t)(v >> 24);
}

/* Wraps the first chunk of a simple WebP (RIFF + VP8 or VP8L) in a VP8X container with the
 * given canvas size and an optional EXIF chunk.  Returns malloc'd bytes. */
static inline uint8_t *tu_webp_vp8x(const uint8_t *webp, size_t len, uint32_t canvas_w,
                                    uint32_t canvas_h, const uint8_t *exif, size_t exif_len,
                                    size_t *out_len)
{
    CHECK(len >= 20);
    size_t chunk = 8 + tu_le32(webp + 16);
    chunk += chunk & 1;
    CHECK(12 + chunk <= len);
    size_t exif_chunk = exif ? 8 + exif_len + (exif_len & 1) : 0;
    size_t total = 12 + 18 + chunk + exif_chunk;
    uint8_t *d = calloc(1, total);
    CHECK(d != NULL);
    memcpy(d, "RIFF", 4);
    tu_put_le32(d + 4, (uint32_t)(total - 8));
    memcpy(d + 8, "WEBPVP8X", 8);
    tu_put_le32(d + 16, 10);
    d[20] = exif ? 0x08 : 0;
    uint32_t cw = canvas_w - 1, ch = canvas_h - 1;
    d[24] = (uint8_t)cw, d[25] = (uint8_t)(cw >> 8), d[26] = (uint8_t)(cw >> 16);
    d[27] = (uint8_t)ch, d[28] = (uint8_t)(ch >> 8), d[29] = (uint8_t)(ch >> 16);
    memcpy(d + 30, webp + 12, chunk);
    if (exif) {
        memcpy(d + 30 + chunk, "EXIF", 4);
        tu_put_le32(d + 34 + chunk, (uint32_t)exif_len);
        memcpy(d + 38 + chunk, exif, exif_len);
    }
    *out_len = total;
    return d;
}

/* CRC-32 of PNG chunks (ISO 3309), for patching headers in tests. */
static inline uint32_t tu_crc32(const uint8_t *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return c ^ 0xffffffffu;
}

#endif
