/*
 * A bounds-checked reader of the protobuf wire format, just enough for TensorFlow GraphDef
 * files (formats/graphdef.c).  There is no schema and no code generation: the caller walks the
 * fields of one message at a time with toon_pb_next() and opens nested messages with
 * toon_pb_open(), which carries a depth counter so that hostile nesting cannot recurse without
 * bound.  Nothing is copied: every length-delimited field points into the caller's buffer, which
 * must outlive the reader.
 *
 * Wire types accepted: 0 varint, 1 fixed 64-bit, 2 length-delimited, 5 fixed 32-bit.  Groups
 * (3 and 4, deprecated since proto2) and the reserved types 6 and 7 are rejected, as are field
 * number 0, varints longer than 10 bytes and lengths that run past the end of the message.
 *
 * Thread-safety: a reader is a plain value owned by one thread; readers over the same bytes
 * may be used from several threads at once.
 */
#ifndef TOON_FORMATS_PROTOBUF_H
#define TOON_FORMATS_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

#define TOON_PB_MAX_DEPTH 32

enum toon_pb_wire {
    TOON_PB_WIRE_VARINT = 0,
    TOON_PB_WIRE_I64 = 1,
    TOON_PB_WIRE_LEN = 2,
    TOON_PB_WIRE_I32 = 5,
};

/* A slice of bytes inside the input buffer (not NUL-terminated). */
struct toon_pb_bytes {
    const uint8_t *p;
    size_t n;
};

struct toon_pb_reader {
    const uint8_t *p, *end;
    int depth; /* nesting level of this message: 0 for the top-level one */
};

/* One field as read from the wire. */
struct toon_pb_field {
    uint32_t num;           /* field number; 0 after the last field */
    enum toon_pb_wire wire; /* wire type */
    uint64_t u;             /* the value of varint, I64 and I32 fields */
    struct toon_pb_bytes b; /* the payload of LEN fields */
};

void toon_pb_reader_init(struct toon_pb_reader *r, const uint8_t *data, size_t n_bytes);

/* Reads the next field.  At the end of the message it returns OK with out->num == 0. */
enum toon_status toon_pb_next(struct toon_pb_reader *r, struct toon_pb_field *out,
                              struct toon_err *err);

/* Opens the payload of a LEN field of r as a nested message (one level deeper).  Fails when the
 * field is not length-delimited or the depth limit is reached. */
enum toon_status toon_pb_open(const struct toon_pb_reader *r, const struct toon_pb_field *f,
                              struct toon_pb_reader *out, struct toon_err *err);

/* Decodes one varint from [*p, end), advancing *p.  Returns 0 on truncation or overlong input. */
int toon_pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

/* Packed repeated scalars.  A repeated numeric field arrives either packed (one LEN field holding
 * the values back to back) or unpacked (one field per value); these count and read the values
 * of one field in both forms.  `elem_wire` is the wire type of one element (VARINT, I32, I64). */
enum toon_status toon_pb_packed_count(const struct toon_pb_field *f, enum toon_pb_wire elem_wire,
                                      size_t *out, struct toon_err *err);
/* Reads value `*pos` onwards: call repeatedly with the same *pos (start at 0) until it returns
 * 0.  For an unpacked field, the single value is returned once. */
int toon_pb_packed_next(const struct toon_pb_field *f, enum toon_pb_wire elem_wire, size_t *pos,
                        uint64_t *out);

/* Equality of a slice and a C string. */
int toon_pb_bytes_eq(struct toon_pb_bytes b, const char *s);

#endif
