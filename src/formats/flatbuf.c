/*
 * Bounds-checked FlatBuffers access (see flatbuf.h).  Every check is written so that it cannot
 * overflow: positions are compared against len minus the bytes still needed, never added first.
 */
#include "formats/flatbuf.h"

#include <string.h>

/* Field indices beyond this are treated as absent; no schema we read comes near it. */
#define MAX_FIELD 4096

/* Are n bytes at pos inside the buffer? */
static int in_bounds(const struct toon_fb *fb, size_t pos, size_t n)
{
    return pos <= fb->len && n <= fb->len - pos;
}

float toon_fb_load_f32(const uint8_t *p)
{
    uint32_t u = toon_fb_load_u32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

int toon_fb_table_at(const struct toon_fb *fb, size_t pos, struct toon_fb_table *out)
{
    if (!in_bounds(fb, pos, 4)) return -1;
    /* The vtable lies at pos - soffset, before or after the table. */
    int64_t soff = toon_fb_load_i32(fb->data + pos);
    size_t vtab;
    if (soff > 0) {
        if ((uint64_t)soff > pos) return -1;
        vtab = pos - (size_t)soff;
    } else {
        uint64_t fwd = (uint64_t)(-soff);
        if (fwd > fb->len - pos) return -1;
        vtab = pos + (size_t)fwd;
    }
    if (!in_bounds(fb, vtab, 4)) return -1;
    size_t n_vt = toon_fb_load_u16(fb->data + vtab);
    size_t n_tab = toon_fb_load_u16(fb->data + vtab + 2);
    if (n_vt < 4 || !in_bounds(fb, vtab, n_vt)) return -1;
    if (n_tab < 4 || !in_bounds(fb, pos, n_tab)) return -1;
    out->pos = pos;
    out->vtab = vtab;
    out->n_vt_bytes = n_vt;
    out->n_bytes = n_tab;
    return 0;
}

int toon_fb_root(const struct toon_fb *fb, struct toon_fb_table *out)
{
    if (!fb->data || !in_bounds(fb, 0, 8)) return -1;
    return toon_fb_table_at(fb, toon_fb_load_u32(fb->data), out);
}

int toon_fb_field(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                  size_t n_bytes, size_t *pos)
{
    if (field < 0 || field > MAX_FIELD) return 0;
    size_t slot = 4 + 2 * (size_t)field;
    if (slot + 2 > t->n_vt_bytes) return 0; /* written by an older schema: absent */
    size_t off = toon_fb_load_u16(fb->data + t->vtab + slot);
    if (off == 0) return 0;
    /* The field must not overlap the vtable offset and must end inside the table. */
    if (off < 4 || n_bytes > t->n_bytes || off > t->n_bytes - n_bytes) return -1;
    *pos = t->pos + off;
    return 1;
}

/* Reads the raw little-endian bits of a 1/2/4/8-byte field; *present is 0 when absent. */
static int raw_field(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                     size_t n_bytes, uint64_t *bits, int *present)
{
    if (n_bytes != 1 && n_bytes != 2 && n_bytes != 4 && n_bytes != 8) return -1;
    size_t pos;
    int r = toon_fb_field(fb, t, field, n_bytes, &pos);
    if (r < 0) return -1;
    *present = r;
    if (r == 0) return 0;
    const uint8_t *p = fb->data + pos;
    *bits = n_bytes == 1   ? p[0]
            : n_bytes == 2 ? toon_fb_load_u16(p)
            : n_bytes == 4 ? toon_fb_load_u32(p)
                           : toon_fb_load_u64(p);
    return 0;
}

int toon_fb_uint(const struct toon_fb *fb, const struct toon_fb_table *t, int field, size_t n_bytes,
                 uint64_t def, uint64_t *out)
{
    uint64_t bits = 0;
    int present;
    if (raw_field(fb, t, field, n_bytes, &bits, &present) < 0) return -1;
    *out = present ? bits : def;
    return 0;
}

int toon_fb_int(const struct toon_fb *fb, const struct toon_fb_table *t, int field, size_t n_bytes,
                int64_t def, int64_t *out)
{
    uint64_t bits = 0;
    int present;
    if (raw_field(fb, t, field, n_bytes, &bits, &present) < 0) return -1;
    if (!present) {
        *out = def;
        return 0;
    }
    /* Sign-extend from n_bytes*8 bits without relying on implementation-defined casts. */
    if (n_bytes < 8) {
        uint64_t sign = (uint64_t)1 << (8 * n_bytes - 1);
        *out = bits & sign ? (int64_t)(bits ^ sign) - (int64_t)sign : (int64_t)bits;
    } else {
        *out = bits <= INT64_MAX ? (int64_t)bits
                                 : (int64_t)(bits - 9223372036854775808u) - INT64_MAX - 1;
    }
    return 0;
}

int toon_fb_f32(const struct toon_fb *fb, const struct toon_fb_table *t, int field, float def,
                float *out)
{
    size_t pos;
    int r = toon_fb_field(fb, t, field, 4, &pos);
    if (r < 0) return -1;
    *out = r ? toon_fb_load_f32(fb->data + pos) : def;
    return 0;
}

/* Follows the u32 offset stored at slot. */
static int follow(const struct toon_fb *fb, size_t slot, size_t *target)
{
    if (!in_bounds(fb, slot, 4)) return -1;
    size_t off = toon_fb_load_u32(fb->data + slot);
    if (off == 0 || off > fb->len - slot) return -1;
    *target = slot + off;
    return 0;
}

int toon_fb_field_table(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                        struct toon_fb_table *out)
{
    size_t slot, target;
    int r = toon_fb_field(fb, t, field, 4, &slot);
    if (r <= 0) return r;
    if (follow(fb, slot, &target) < 0 || toon_fb_table_at(fb, target, out) < 0) return -1;
    return 1;
}

int toon_fb_field_vec(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                      size_t elem_bytes, struct toon_fb_vec *out)
{
    size_t slot, target;
    int r = toon_fb_field(fb, t, field, 4, &slot);
    if (r <= 0) return r;
    if (follow(fb, slot, &target) < 0 || !in_bounds(fb, target, 4)) return -1;
    size_t n = toon_fb_load_u32(fb->data + target);
    size_t room = fb->len - target - 4;
    if (elem_bytes == 0 || n > room / elem_bytes) return -1;
    out->pos = target + 4;
    out->n = n;
    return 1;
}

int toon_fb_field_str(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                      const uint8_t **s, size_t *n_bytes)
{
    struct toon_fb_vec v;
    int r = toon_fb_field_vec(fb, t, field, 1, &v);
    if (r <= 0) return r;
    *s = fb->data + v.pos;
    *n_bytes = v.n;
    return 1;
}

int toon_fb_vec_table(const struct toon_fb *fb, const struct toon_fb_vec *v, size_t i,
                      struct toon_fb_table *out)
{
    size_t target;
    if (i >= v->n) return -1;
    if (follow(fb, v->pos + 4 * i, &target) < 0) return -1;
    return toon_fb_table_at(fb, target, out);
}
