/*
 * The protobuf wire-format reader (see protobuf.h).  Every read is checked against the end of
 * the current message before it happens; a message never reads outside its own payload because
 * toon_pb_open() sets the nested reader's end to the end of the field.
 */
#include "formats/protobuf.h"

#include <string.h>

void toon_pb_reader_init(struct toon_pb_reader *r, const uint8_t *data, size_t n_bytes)
{
    r->p = data;
    r->end = data ? data + n_bytes : data;
    r->depth = 0;
}

int toon_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (q >= end) return 0;
        uint8_t byte = *q++;
        /* The tenth byte may only carry the top bit of a 64-bit value. */
        if (i == 9 && byte > 1) return 0;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (!(byte & 0x80)) {
            *p = q;
            *out = v;
            return 1;
        }
    }
    return 0;
}

static uint64_t load_le(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

enum toon_status toon_pb_next(struct toon_pb_reader *r, struct toon_pb_field *out,
                              struct toon_err *err)
{
    memset(out, 0, sizeof *out);
    if (r->p >= r->end) return TOON_STATUS_OK;
    uint64_t key;
    if (!toon_pb_varint(&r->p, r->end, &key))
        return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: truncated or overlong field key");
    uint64_t num = key >> 3;
    unsigned wire = (unsigned)(key & 7);
    if (num == 0 || num > 0x1fffffff)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: invalid field number %llu",
                            (unsigned long long)num);
    out->num = (uint32_t)num;
    switch (wire) {
    case TOON_PB_WIRE_VARINT:
        if (!toon_pb_varint(&r->p, r->end, &out->u))
            return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: truncated varint in field %u",
                                out->num);
        break;
    case TOON_PB_WIRE_I64:
        if ((size_t)(r->end - r->p) < 8)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "protobuf: truncated 64-bit value in field %u", out->num);
        out->u = load_le(r->p, 8);
        r->p += 8;
        break;
    case TOON_PB_WIRE_I32:
        if ((size_t)(r->end - r->p) < 4)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "protobuf: truncated 32-bit value in field %u", out->num);
        out->u = load_le(r->p, 4);
        r->p += 4;
        break;
    case TOON_PB_WIRE_LEN: {
        uint64_t n;
        if (!toon_pb_varint(&r->p, r->end, &n))
            return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: truncated length of field %u",
                                out->num);
        size_t left = (size_t)(r->end - r->p);
        if (n > left)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "protobuf: field %u claims %llu bytes but only %zu remain",
                                out->num, (unsigned long long)n, left);
        out->b.p = r->p;
        out->b.n = (size_t)n;
        r->p += n;
        break;
    }
    case 3:
    case 4:
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "protobuf: groups are not supported (field %u)", out->num);
    default:
        return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: invalid wire type %u (field %u)",
                            wire, out->num);
    }
    out->wire = (enum toon_pb_wire)wire;
    return TOON_STATUS_OK;
}

enum toon_status toon_pb_open(const struct toon_pb_reader *r, const struct toon_pb_field *f,
                              struct toon_pb_reader *out, struct toon_err *err)
{
    if (f->wire != TOON_PB_WIRE_LEN)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "protobuf: field %u should be a message but has wire type %d", f->num,
                            (int)f->wire);
    if (r->depth + 1 > TOON_PB_MAX_DEPTH)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "protobuf: messages nested deeper than %d levels", TOON_PB_MAX_DEPTH);
    out->p = f->b.p;
    out->end = f->b.p + f->b.n;
    out->depth = r->depth + 1;
    return TOON_STATUS_OK;
}

static size_t elem_size(enum toon_pb_wire w)
{
    return w == TOON_PB_WIRE_I32 ? 4 : w == TOON_PB_WIRE_I64 ? 8 : 0;
}

enum toon_status toon_pb_packed_count(const struct toon_pb_field *f, enum toon_pb_wire elem_wire,
                                      size_t *out, struct toon_err *err)
{
    if (f->wire == elem_wire) {
        *out = 1;
        return TOON_STATUS_OK;
    }
    if (f->wire != TOON_PB_WIRE_LEN)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: field %u has wire type %d", f->num,
                            (int)f->wire);
    size_t es = elem_size(elem_wire);
    if (es) {
        if (f->b.n % es)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "protobuf: packed field %u has %zu bytes, not a multiple of %zu",
                                f->num, f->b.n, es);
        *out = f->b.n / es;
        return TOON_STATUS_OK;
    }
    size_t n = 0;
    const uint8_t *p = f->b.p, *end = f->b.p + f->b.n;
    while (p < end) {
        uint64_t v;
        if (!toon_pb_varint(&p, end, &v))
            return toon_err_set(err, TOON_STATUS_CORRUPT, "protobuf: bad varint in packed field %u",
                                f->num);
        n++;
    }
    *out = n;
    return TOON_STATUS_OK;
}

int toon_pb_packed_next(const struct toon_pb_field *f, enum toon_pb_wire elem_wire, size_t *pos,
                        uint64_t *out)
{
    if (f->wire == elem_wire) {
        if (*pos != 0) return 0;
        *pos = 1;
        *out = f->u;
        return 1;
    }
    if (f->wire != TOON_PB_WIRE_LEN || *pos >= f->b.n) return 0;
    size_t es = elem_size(elem_wire);
    if (es) {
        if (f->b.n - *pos < es) return 0;
        *out = load_le(f->b.p + *pos, (int)es);
        *pos += es;
        return 1;
    }
    const uint8_t *p = f->b.p + *pos;
    if (!toon_pb_varint(&p, f->b.p + f->b.n, out)) return 0;
    *pos = (size_t)(p - f->b.p);
    return 1;
}

int toon_pb_bytes_eq(struct toon_pb_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.n == n && (n == 0 || memcmp(b.p, s, n) == 0);
}
