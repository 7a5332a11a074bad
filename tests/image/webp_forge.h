/*
 * Hostile WebP files forged bit by bit for the tests of src/image and the fuzz seeds (header
 * only, static functions).  The lossless (VP8L) bits follow RFC 9649 section 3: fields least
 * significant bit first, prefix codes most significant bit first.
 */
#ifndef TOON_TESTS_WEBP_FORGE_H
#define TOON_TESTS_WEBP_FORGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <webp/encode.h>

#include "image_testutil.h"
#include "test.h"

struct tw_bits {
    uint8_t *buf; /* [cap] zeroed */
    size_t cap, nbits;
};

static inline void tw_put(struct tw_bits *b, uint32_t v, int n)
{
    for (int i = 0; i < n; i++, b->nbits++) {
        CHECK(b->nbits / 8 < b->cap);
        if (v >> i & 1) b->buf[b->nbits >> 3] |= (uint8_t)(1u << (b->nbits & 7));
    }
}

/* A prefix code read with zero bits: its only symbol is `symbol` (8 bits). */
static inline void tw_put_single_code(struct tw_bits *b, int symbol)
{
    tw_put(b, 1, 1); /* simple code */
    tw_put(b, 0, 1); /* one symbol */
    tw_put(b, 1, 1); /* of 8 bits */
    tw_put(b, (uint32_t)symbol, 8);
}

/* A normal prefix code over `alphabet` symbols where symbols 0 .. 2^k - 1 all have length k (so
 * symbol s is written as s in k bits) and the others are absent.  The code-length code has two
 * one-bit codes: 0 for "length 0", 1 for "length k". */
static inline void tw_put_flat_code(struct tw_bits *b, int k, int alphabet)
{
    static const int order[19] = {17, 18, 0, 1, 2, 3, 4, 5, 16, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    int n = 0;
    while (order[n] != k) n++;
    n++;
    tw_put(b, 0, 1);               /* normal code */
    tw_put(b, (uint32_t)n - 4, 4); /* code-length code lengths that follow */
    for (int i = 0; i < n; i++) tw_put(b, order[i] == 0 || order[i] == k, 3);
    tw_put(b, 0, 1); /* lengths for the whole alphabet */
    for (int s = 0; s < alphabet; s++) tw_put(b, s < 1 << k, 1);
}

/* A prefix code symbol of a tw_put_flat_code() code: most significant bit first. */
static inline void tw_put_symbol(struct tw_bits *b, uint32_t s, int k)
{
    for (int i = k - 1; i >= 0; i--) tw_put(b, s >> i & 1, 1);
}

/* An ALPH chunk body: a losslessly compressed alpha plane of w x h whose entropy image (tiles
 * of 2^tile_bits) gives every tile its own Huffman group, up to 4096 of them, and then ends
 * where the groups' codes would start.  libwebp 1.2 allocates the tables of all the groups
 * (about 20 KB each with the colour cache of 2048 entries) before it finds the stream incomplete.
 */
static inline uint8_t *tw_alph_groups(int w, int h, int tile_bits, size_t *len)
{
    int ew = (w + (1 << tile_bits) - 1) >> tile_bits, eh = (h + (1 << tile_bits) - 1) >> tile_bits;
    size_t n_px = (size_t)ew * (size_t)eh;
    struct tw_bits b = {NULL, 1024 + n_px * 12 / 8, 0};
    b.buf = calloc(1, b.cap);
    CHECK(b.buf != NULL);
    tw_put(&b, 1, 8); /* ALPH header: lossless, no filter, no pre-processing */
    tw_put(&b, 0, 1); /* no transform */
    tw_put(&b, 1, 1); /* the largest colour cache, hence the largest tables */
    tw_put(&b, 11, 4);
    tw_put(&b, 1, 1); /* an entropy image */
    tw_put(&b, (uint32_t)tile_bits - 2, 3);
    tw_put(&b, 0, 1);                  /* the entropy image: no colour cache */
    tw_put_flat_code(&b, 8, 256 + 24); /* green: the group's low 8 bits */
    tw_put_flat_code(&b, 4, 256);      /* red: its high 4 bits */
    tw_put_single_code(&b, 0);         /* blue */
    tw_put_single_code(&b, 0);         /* alpha */
    tw_put_single_code(&b, 0);         /* distance */
    for (size_t i = 0; i < n_px; i++) {
        tw_put_symbol(&b, (uint32_t)(i & 0xff), 8);
        tw_put_symbol(&b, (uint32_t)(i >> 8 & 0xf), 4);
    }
    *len = (b.nbits + 7) / 8 + 16; /* and some zero bytes where the codes would go */
    CHECK(*len <= b.cap);
    return b.buf;
}

static inline size_t tw_put_chunk(uint8_t *d, const char *tag, const uint8_t *body, size_t n)
{
    memcpy(d, tag, 4);
    tu_put_le32(d + 4, (uint32_t)n);
    if (n) memcpy(d + 8, body, n);
    if (n & 1) d[8 + n] = 0;
    return 8 + n + (n & 1);
}

/* The VP8 chunk body of a w x h lossy picture (flat grey).  Returns malloc'd bytes. */
static inline uint8_t *tw_vp8_flat(int w, int h, size_t *len)
{
    uint8_t *rgb = malloc((size_t)w * h * 3);
    CHECK(rgb != NULL);
    memset(rgb, 128, (size_t)w * h * 3);
    uint8_t *webp = NULL;
    size_t webp_len = WebPEncodeRGB(rgb, w, h, w * 3, 10, &webp);
    free(rgb);
    CHECK(webp_len > 20 && !memcmp(webp + 12, "VP8 ", 4));
    *len = tu_le32(webp + 16);
    CHECK(20 + *len <= webp_len);
    uint8_t *body = malloc(*len);
    CHECK(body != NULL);
    memcpy(body, webp + 20, *len);
    WebPFree(webp);
    return body;
}

struct tw_chunk {
    const char *tag; /* four characters */
    const uint8_t *body;
    size_t len;
};

/* A WebP of a w x h canvas: a VP8X chunk with `flags` (0x10: alpha), then the chunks given.
 * Returns malloc'd bytes. */
static inline uint8_t *tw_webp_vp8x_chunks(int w, int h, uint8_t flags, const struct tw_chunk *c,
                                           int n, size_t *len)
{
    size_t total = 12 + 18;
    for (int i = 0; i < n; i++) total += 8 + c[i].len + (c[i].len & 1);
    uint8_t *d = calloc(1, total);
    CHECK(d != NULL);
    uint8_t vp8x[10] = {flags};
    for (int k = 0; k < 3; k++) { /* canvas width and height minus one, 24 bits each */
        vp8x[4 + k] = (uint8_t)((uint32_t)(w - 1) >> 8 * k);
        vp8x[7 + k] = (uint8_t)((uint32_t)(h - 1) >> 8 * k);
    }
    memcpy(d, "RIFF", 4);
    tu_put_le32(d + 4, (uint32_t)(total - 8));
    memcpy(d + 8, "WEBP", 4);
    size_t p = 12 + tw_put_chunk(d + 12, "VP8X", vp8x, 10);
    for (int i = 0; i < n; i++) p += tw_put_chunk(d + p, c[i].tag, c[i].body, c[i].len);
    CHECK(p == total);
    *len = total;
    return d;
}

/* Issue 15's file: a w x h lossy WebP with two ALPH chunks before the picture, a raw one
 * (compression method 0, never read) and then tw_alph_groups().  Returns malloc'd bytes. */
static inline uint8_t *tw_webp_two_alph(int w, int h, size_t *len)
{
    static const uint8_t raw[1] = {0};
    size_t glen, vlen;
    uint8_t *groups = tw_alph_groups(w, h, 4, &glen), *vp8 = tw_vp8_flat(w, h, &vlen);
    const struct tw_chunk c[3] = {{"ALPH", raw, 1}, {"ALPH", groups, glen}, {"VP8 ", vp8, vlen}};
    uint8_t *d = tw_webp_vp8x_chunks(w, h, 0x10, c, 3, len);
    free(groups);
    free(vp8);
    return d;
}

/* The same hostile ALPH chunk, alone, before a lossy picture, followed by a second picture that
 * is lossless (whose alpha libwebp would take from its own stream).  libwebp decodes the first
 * picture, with that alpha plane.  Returns malloc'd bytes. */
static inline uint8_t *tw_webp_two_images(int w, int h, size_t *len)
{
    size_t glen, vlen;
    uint8_t *groups = tw_alph_groups(w, h, 4, &glen), *vp8 = tw_vp8_flat(w, h, &vlen);
    uint8_t *rgb = calloc(1, (size_t)w * h * 3), *vp8l = NULL;
    CHECK(rgb != NULL);
    size_t lossless_len = WebPEncodeLosslessRGB(rgb, w, h, w * 3, &vp8l);
    free(rgb);
    CHECK(lossless_len > 20 && !memcmp(vp8l + 12, "VP8L", 4));
    const struct tw_chunk c[3] = {
        {"ALPH", groups, glen}, {"VP8 ", vp8, vlen}, {"VP8L", vp8l + 20, tu_le32(vp8l + 16)}};
    uint8_t *d = tw_webp_vp8x_chunks(w, h, 0x10, c, 3, len);
    free(groups);
    free(vp8);
    WebPFree(vp8l);
    return d;
}

#endif
