/*
 * Bounds-checked reading of FlatBuffers, the container format of TFLite model files.
 *
 * A FlatBuffer is a tree of tables, vectors and strings linked by 32-bit offsets; nothing in
 * the format itself stops an offset, a length or a vtable entry from pointing outside the
 * buffer, so every accessor here checks the bytes it is about to read lie inside [0, len)
 * and reports -1 ("corrupt") otherwise.  Values are assembled byte by byte (little-endian),
 * so unaligned positions are fine and nothing is ever dereferenced through a cast pointer.
 *
 * The functions return 1 when a field is present, 0 when it is absent (the caller uses the
 * schema's default) and -1 when the bytes are inconsistent.  Callers turn -1 into an error
 * message that says which object was bad; this layer knows no schema.  Nothing allocates.
 */
#ifndef TOON_FORMATS_FLATBUF_H
#define TOON_FORMATS_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

/* A caller-owned byte buffer. */
struct toon_fb {
    const uint8_t *data;
    size_t len;
};

/* A table whose vtable has been checked to lie in the buffer. */
struct toon_fb_table {
    size_t pos;        /* first byte of the table (its signed offset to the vtable) */
    size_t vtab;       /* first byte of the vtable */
    size_t n_vt_bytes; /* vtable size, >= 4 */
    size_t n_bytes;    /* table size as the vtable states it, >= 4 */
};

/* A vector whose elements have been checked to lie in the buffer. */
struct toon_fb_vec {
    size_t pos; /* first element */
    size_t n;   /* element count */
};

static inline uint16_t toon_fb_load_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t toon_fb_load_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t toon_fb_load_u64(const uint8_t *p)
{
    return (uint64_t)toon_fb_load_u32(p) | ((uint64_t)toon_fb_load_u32(p + 4) << 32);
}
static inline int32_t toon_fb_load_i32(const uint8_t *p)
{
    uint32_t u = toon_fb_load_u32(p);
    return u <= INT32_MAX ? (int32_t)u : (int32_t)(u - 2147483648u) - INT32_MAX - 1;
}
static inline int64_t toon_fb_load_i64(const uint8_t *p)
{
    uint64_t u = toon_fb_load_u64(p);
    return u <= INT64_MAX ? (int64_t)u : (int64_t)(u - 9223372036854775808u) - INT64_MAX - 1;
}
float toon_fb_load_f32(const uint8_t *p);

/* The root table (the u32 offset at byte 0).  Returns 0 or -1. */
int toon_fb_root(const struct toon_fb *fb, struct toon_fb_table *out);
/* Checks the table starting at pos and its vtable.  Returns 0 or -1. */
int toon_fb_table_at(const struct toon_fb *fb, size_t pos, struct toon_fb_table *out);

/* Position of a scalar field of n_bytes bytes inside t.  Returns 1, 0 (absent) or -1. */
int toon_fb_field(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                  size_t n_bytes, size_t *pos);
/* Scalars of 1, 2, 4 or 8 bytes, zero- or sign-extended; def when absent.  Returns 0 or -1. */
int toon_fb_uint(const struct toon_fb *fb, const struct toon_fb_table *t, int field, size_t n_bytes,
                 uint64_t def, uint64_t *out);
int toon_fb_int(const struct toon_fb *fb, const struct toon_fb_table *t, int field, size_t n_bytes,
                int64_t def, int64_t *out);
int toon_fb_f32(const struct toon_fb *fb, const struct toon_fb_table *t, int field, float def,
                float *out);

/* A sub-table, a vector of elem_bytes-sized elements, or a string.  Returns 1, 0 or -1. */
int toon_fb_field_table(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                        struct toon_fb_table *out);
int toon_fb_field_vec(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                      size_t elem_bytes, struct toon_fb_vec *out);
int toon_fb_field_str(const struct toon_fb *fb, const struct toon_fb_table *t, int field,
                      const uint8_t **s, size_t *n_bytes);
/* Element i (< v->n) of a vector of table offsets.  Returns 0 or -1. */
int toon_fb_vec_table(const struct toon_fb *fb, const struct toon_fb_vec *v, size_t i,
                      struct toon_fb_table *out);

#endif
