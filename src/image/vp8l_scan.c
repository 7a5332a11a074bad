/*
 * Pre-scan of WebP lossless (VP8L) streams for the number of Huffman groups (vp8l_scan.h).
 *
 * libwebp 1.2 sizes its Huffman tables as (number of groups) x (the largest table a group can
 * need, about 20 KB), allocated at once before a single code is read; the number of groups is
 * the largest index in the "entropy image", a small sub-image the file chooses.  A file of a few
 * KB can therefore make libwebp allocate a gigabyte.  To keep the reader's plan an upper bound,
 * this scan walks the stream as far as the entropy image, following the format of RFC 9649
 * section 3: the transforms (decoding their sub-images, which hold the data of the predictor,
 * colour and colour-indexing transforms), the colour cache size, and the entropy image itself.
 * It never decodes the main picture.
 *
 * Sub-images are decoded for real (prefix codes, LZ77 back references, colour cache), since the
 * group indices are their pixel values.  Prefix codes are decoded canonically one bit at a time
 * (as in DEFLATE); sub-images are small, so this is fast enough.  Everything is bounds-checked:
 * a stream the scan cannot follow is reported as corrupt, which libwebp would reject as well.
 */
#include "image/vp8l_scan.h"

#include <string.h>

#include "core/alloc.h"
#include "image/backend.h"

#define MAX_CODE_LEN     15
#define N_LITERAL        256
#define N_LENGTH_CODES   24
#define N_DIST_CODES     40
#define N_CODE_LEN_CODES 19
#define MAX_CACHE_BITS   11
#define MAX_ALPHABET     (N_LITERAL + N_LENGTH_CODES + (1 << MAX_CACHE_BITS))

/* Bits read least significant first, as VP8L stores them. */
struct bitreader {
    const uint8_t *p;
    size_t len, pos;
    uint64_t val;
    int nbits;
    int eos; /* read past the end */
};

static uint32_t read_bits(struct bitreader *b, int n)
{
    if (n == 0) return 0;
    while (b->nbits < n) {
        if (b->pos < b->len)
            b->val |= (uint64_t)b->p[b->pos] << b->nbits;
        else
            b->eos = 1;
        b->pos++;
        b->nbits += 8;
    }
    uint32_t v = (uint32_t)(b->val & ((1ull << n) - 1));
    b->val >>= n;
    b->nbits -= n;
    return v;
}

/* A canonical prefix code: counts per length and symbols sorted by (length, value). */
struct prefix_code {
    uint16_t count[MAX_CODE_LEN + 1];
    uint16_t symbol[MAX_ALPHABET];
    int n_symbols; /* with a nonzero length */
    int single;    /* the only symbol, when n_symbols == 1 (it takes no bits) */
};

/* Builds the code from lengths; 0 when the lengths do not form a complete code (libwebp
 * refuses those too), except for the one-symbol code. */
static int code_build(struct prefix_code *c, const uint8_t *lengths, int n)
{
    uint16_t offs[MAX_CODE_LEN + 2];
    memset(c->count, 0, sizeof c->count);
    c->n_symbols = 0;
    for (int s = 0; s < n; s++) {
        c->count[lengths[s]]++;
        if (lengths[s]) c->n_symbols++, c->single = s;
    }
    if (c->n_symbols == 0) return 0;
    if (c->n_symbols == 1) return 1;
    int left = 1;
    for (int len = 1; len <= MAX_CODE_LEN; len++) {
        left = (left << 1) - c->count[len];
        if (left < 0) return 0; /* over-subscribed */
    }
    if (left != 0) return 0; /* incomplete */
    offs[1] = 0;
    for (int len = 1; len <= MAX_CODE_LEN; len++) offs[len + 1] = offs[len] + c->count[len];
    for (int s = 0; s < n; s++)
        if (lengths[s]) c->symbol[offs[lengths[s]]++] = (uint16_t)s;
    return 1;
}

static int code_read(struct bitreader *b, const struct prefix_code *c)
{
    if (c->n_symbols == 1) return c->single;
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAX_CODE_LEN; len++) {
        code |= (int)read_bits(b, 1);
        int count = c->count[len];
        if (code - first < count) return c->symbol[index + code - first];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1; /* cannot happen for a complete code */
}

static const uint8_t k_code_len_order[N_CODE_LEN_CODES] = {17, 18, 0, 1,  2,  3,  4,  5,  16, 6,
                                                           7,  8,  9, 10, 11, 12, 13, 14, 15};

/* Scratch shared by all codes of one scan. */
struct scan {
    struct bitreader br;
    struct prefix_code codes[5]; /* green, red, blue, alpha, distance */
    struct prefix_code len_code;
    uint8_t lengths[MAX_ALPHABET];
    struct toon_err *err;
};

static enum toon_status corrupt(struct scan *s, const char *what)
{
    if (s->br.eos)
        return toon_err_set(s->err, TOON_STATUS_CORRUPT, "truncated WebP: not enough data");
    return toon_err_set(s->err, TOON_STATUS_CORRUPT, "corrupt WebP: %s", what);
}

static enum toon_status read_code(struct scan *s, int alphabet, struct prefix_code *c)
{
    struct bitreader *b = &s->br;
    memset(s->lengths, 0, (size_t)alphabet);
    if (read_bits(b, 1)) { /* simple code: one or two symbols */
        int n = (int)read_bits(b, 1) + 1;
        int first = (int)read_bits(b, read_bits(b, 1) ? 8 : 1);
        if (first < alphabet) s->lengths[first] = 1;
        if (n == 2) {
            int second = (int)read_bits(b, 8);
            if (second < alphabet) s->lengths[second] = 1;
        }
    } else {
        uint8_t cl[N_CODE_LEN_CODES] = {0};
        int n = (int)read_bits(b, 4) + 4;
        for (int i = 0; i < n; i++) cl[k_code_len_order[i]] = (uint8_t)read_bits(b, 3);
        if (!code_build(&s->len_code, cl, N_CODE_LEN_CODES))
            return corrupt(s, "bad code length code");
        int max_symbol = alphabet;
        if (read_bits(b, 1)) {
            int nbits = 2 + 2 * (int)read_bits(b, 3);
            max_symbol = 2 + (int)read_bits(b, nbits);
            if (max_symbol > alphabet) return corrupt(s, "bad code length count");
        }
        int sym = 0, prev = 8;
        while (sym < alphabet) {
            if (max_symbol-- == 0) break;
            int v = code_read(b, &s->len_code);
            if (v < 0 || b->eos) return corrupt(s, "bad code length");
            if (v < 16) {
                s->lengths[sym++] = (uint8_t)v;
                if (v) prev = v;
                continue;
            }
            static const int extra[3] = {2, 3, 7}, offset[3] = {3, 3, 11};
            int repeat = (int)read_bits(b, extra[v - 16]) + offset[v - 16];
            if (sym + repeat > alphabet) return corrupt(s, "code lengths overflow");
            memset(s->lengths + sym, v == 16 ? prev : 0, (size_t)repeat);
            sym += repeat;
        }
    }
    if (b->eos || !code_build(c, s->lengths, alphabet)) return corrupt(s, "bad prefix code");
    return TOON_STATUS_OK;
}

/* Length or distance from its prefix symbol. */
static uint32_t prefix_value(struct bitreader *b, int sym)
{
    if (sym < 4) return (uint32_t)sym + 1;
    int extra = (sym - 2) >> 1;
    uint32_t offset = (uint32_t)(2 + (sym & 1)) << extra;
    return offset + read_bits(b, extra) + 1;
}

/* The 120 short distance codes: (dx, dy) neighbours, from RFC 9649 section 3.6.2.2. */
static const int8_t k_plane[120][2] = {
    {0, 1},  {1, 0},  {1, 1},  {-1, 1}, {0, 2},  {2, 0},  {1, 2},  {-1, 2}, {2, 1},  {-2, 1},
    {2, 2},  {-2, 2}, {0, 3},  {3, 0},  {1, 3},  {-1, 3}, {3, 1},  {-3, 1}, {2, 3},  {-2, 3},
    {3, 2},  {-3, 2}, {0, 4},  {4, 0},  {1, 4},  {-1, 4}, {4, 1},  {-4, 1}, {3, 3},  {-3, 3},
    {2, 4},  {-2, 4}, {4, 2},  {-4, 2}, {0, 5},  {3, 4},  {-3, 4}, {4, 3},  {-4, 3}, {5, 0},
    {1, 5},  {-1, 5}, {5, 1},  {-5, 1}, {2, 5},  {-2, 5}, {5, 2},  {-5, 2}, {4, 4},  {-4, 4},
    {3, 5},  {-3, 5}, {5, 3},  {-5, 3}, {0, 6},  {6, 0},  {1, 6},  {-1, 6}, {6, 1},  {-6, 1},
    {2, 6},  {-2, 6}, {6, 2},  {-6, 2}, {4, 5},  {-4, 5}, {5, 4},  {-5, 4}, {3, 6},  {-3, 6},
    {6, 3},  {-6, 3}, {0, 7},  {7, 0},  {1, 7},  {-1, 7}, {5, 5},  {-5, 5}, {7, 1},  {-7, 1},
    {4, 6},  {-4, 6}, {6, 4},  {-6, 4}, {2, 7},  {-2, 7}, {7, 2},  {-7, 2}, {3, 7},  {-3, 7},
    {7, 3},  {-7, 3}, {5, 6},  {-5, 6}, {6, 5},  {-6, 5}, {8, 0},  {4, 7},  {-4, 7}, {7, 4},
    {-7, 4}, {8, 1},  {8, 2},  {6, 6},  {-6, 6}, {8, 3},  {5, 7},  {-5, 7}, {7, 5},  {-7, 5},
    {8, 4},  {6, 7},  {-6, 7}, {7, 6},  {-7, 6}, {8, 5},  {7, 7},  {-7, 7}, {8, 6},  {8, 7},
};

static size_t plane_distance(int xsize, uint32_t code)
{
    if (code > 120) return code - 120;
    long d = (long)k_plane[code - 1][0] + (long)k_plane[code - 1][1] * xsize;
    return d >= 1 ? (size_t)d : 1;
}

/* Decodes a sub-image (no transforms, one group of codes) into px [ysize][xsize]. */
static enum toon_status read_subimage(struct scan *s, int xsize, int ysize, uint32_t *px)
{
    struct bitreader *b = &s->br;
    int cache_bits = 0;
    if (read_bits(b, 1)) {
        cache_bits = (int)read_bits(b, 4);
        if (cache_bits < 1 || cache_bits > MAX_CACHE_BITS) return corrupt(s, "bad colour cache");
    }
    uint32_t cache[1 << MAX_CACHE_BITS];
    if (cache_bits) memset(cache, 0, sizeof(uint32_t) << cache_bits);
    int alphabet[5] = {N_LITERAL + N_LENGTH_CODES + (cache_bits ? 1 << cache_bits : 0), N_LITERAL,
                       N_LITERAL, N_LITERAL, N_DIST_CODES};
    for (int i = 0; i < 5; i++) {
        enum toon_status st = read_code(s, alphabet[i], &s->codes[i]);
        if (st != TOON_STATUS_OK) return st;
    }
    size_t n = (size_t)xsize * (size_t)ysize, pos = 0, cached = 0;
    while (pos < n) {
        if (b->eos) return corrupt(s, "truncated sub-image");
        int g = code_read(b, &s->codes[0]);
        if (g < 0) return corrupt(s, "bad symbol");
        if (g < N_LITERAL) {
            uint32_t r = (uint32_t)code_read(b, &s->codes[1]);
            uint32_t bl = (uint32_t)code_read(b, &s->codes[2]);
            uint32_t a = (uint32_t)code_read(b, &s->codes[3]);
            px[pos++] = a << 24 | r << 16 | (uint32_t)g << 8 | bl;
        } else if (g < N_LITERAL + N_LENGTH_CODES) {
            size_t length = prefix_value(b, g - N_LITERAL);
            int dsym = code_read(b, &s->codes[4]);
            if (dsym < 0) return corrupt(s, "bad distance");
            size_t dist = plane_distance(xsize, prefix_value(b, dsym));
            if (dist > pos || length > n - pos) return corrupt(s, "bad back reference");
            for (size_t k = 0; k < length; k++, pos++) px[pos] = px[pos - dist];
        } else {
            if (!cache_bits) return corrupt(s, "bad symbol");
            /* The cache holds every pixel before this one. */
            for (; cached < pos; cached++)
                cache[(0x1e35a7bdu * px[cached]) >> (32 - cache_bits)] = px[cached];
            px[pos++] = cache[g - N_LITERAL - N_LENGTH_CODES];
        }
        if (cache_bits)
            for (; cached < pos; cached++)
                cache[(0x1e35a7bdu * px[cached]) >> (32 - cache_bits)] = px[cached];
    }
    if (b->eos) return corrupt(s, "truncated sub-image");
    return TOON_STATUS_OK;
}

static int div_round_up(int n, int bits)
{
    return (n + (1 << bits) - 1) >> bits;
}

int toon_vp8l_max_groups(int w, int h)
{
    /* libwebp's encoder merges the histograms of its entropy image into a handful of groups
     * (2 to 14 measured on 256x192 to 2048x1536 pictures, methods 0 to 6); 256 leaves ample
     * room and costs at most 5 MB of tables.  A file cannot use more groups than its entropy
     * image has pixels. */
    long px = (long)div_round_up(w, 2) * div_round_up(h, 2);
    return px < 256 ? (int)(px > 1 ? px : 1) : 256;
}

size_t toon_vp8l_scan_plan_bytes(int w, int h)
{
    size_t sub = toon_plan_mul((size_t)div_round_up(w, 2), (size_t)div_round_up(h, 2));
    return toon_plan_add(toon_plan_block(sizeof(struct scan)),
                         toon_plan_block(toon_plan_mul(toon_plan_add(sub, 256), 4)));
}

enum toon_status toon_vp8l_groups(const uint8_t *data, size_t len, int has_header, int w, int h,
                                  int *groups, struct toon_err *err)
{
    *groups = 1;
    struct scan *s = toon_calloc(1, sizeof *s);
    if (!s) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory scanning WebP");
    s->br.p = data;
    s->br.len = len;
    s->err = err;
    uint32_t *px = NULL;
    enum toon_status st = TOON_STATUS_OK;
    struct bitreader *b = &s->br;
    if (has_header) {
        if (read_bits(b, 8) != 0x2f) {
            st = corrupt(s, "bad lossless signature");
            goto done;
        }
        int hw = (int)read_bits(b, 14) + 1, hh = (int)read_bits(b, 14) + 1;
        read_bits(b, 1); /* alpha hint */
        if (read_bits(b, 3) != 0 || hw != w || hh != h) {
            st = corrupt(s, "bad lossless header");
            goto done;
        }
    }
    /* The largest sub-image: a quarter of the pixels in each direction... with bits >= 2. */
    size_t cap = (size_t)div_round_up(w, 2) * (size_t)div_round_up(h, 2) + 256;
    px = toon_malloc(cap * sizeof *px);
    if (!px) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory scanning WebP");
        goto done;
    }
    int xsize = w, seen = 0;
    while (read_bits(b, 1)) { /* transforms */
        int type = (int)read_bits(b, 2);
        if (seen & (1 << type)) {
            st = corrupt(s, "repeated transform");
            goto done;
        }
        seen |= 1 << type;
        if (type == 0 || type == 1) { /* predictor, colour: a sub-image of block data */
            int bits = (int)read_bits(b, 3) + 2;
            st = read_subimage(s, div_round_up(xsize, bits), div_round_up(h, bits), px);
        } else if (type == 3) { /* colour indexing: a palette, then packed pixels */
            int n_colors = (int)read_bits(b, 8) + 1;
            st = read_subimage(s, n_colors, 1, px);
            int pack = n_colors > 16 ? 0 : n_colors > 4 ? 1 : n_colors > 2 ? 2 : 3;
            xsize = div_round_up(xsize, pack);
        }
        if (st != TOON_STATUS_OK) goto done;
    }
    if (read_bits(b, 1)) { /* colour cache of the main image */
        int cache_bits = (int)read_bits(b, 4);
        if (cache_bits < 1 || cache_bits > MAX_CACHE_BITS) {
            st = corrupt(s, "bad colour cache");
            goto done;
        }
    }
    if (read_bits(b, 1)) { /* meta prefix codes: the entropy image */
        int bits = (int)read_bits(b, 3) + 2;
        int ex = div_round_up(xsize, bits), ey = div_round_up(h, bits);
        st = read_subimage(s, ex, ey, px);
        if (st != TOON_STATUS_OK) goto done;
        uint32_t max_group = 0;
        for (size_t i = 0; i < (size_t)ex * (size_t)ey; i++) {
            uint32_t g = (px[i] >> 8) & 0xffff;
            if (g > max_group) max_group = g;
        }
        *groups = (int)max_group + 1;
    }
    if (b->eos) st = corrupt(s, "truncated stream");
done:
    toon_free(px);
    toon_free(s);
    return st;
}
