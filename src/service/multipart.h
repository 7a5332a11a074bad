/*
 * A multipart/form-data parser (RFC 7578) over a body that is entirely in memory (the server
 * spools request bodies to a file and maps it).  Parts are handed to a callback as slices of
 * the body; nothing is copied.  Bounds-checked throughout: any malformed body is
 * TOON_STATUS_INVALID_ARGUMENT with a one-line message.
 */
#ifndef TOON_SERVICE_MULTIPART_H
#define TOON_SERVICE_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

struct toon_mpart {
    char name[64];          /* the form field's name ("" if none) */
    char filename[256];     /* "" when the part is not a file */
    char content_type[128]; /* "" when not given */
    const uint8_t *data;    /* [n_bytes], inside the body */
    size_t n_bytes;
};

/* The boundary from a Content-Type header value ("multipart/form-data; boundary=..."), 1..70
 * characters.  Not multipart, or no boundary: TOON_STATUS_UNSUPPORTED / INVALID_ARGUMENT. */
enum toon_status toon_multipart_boundary(const char *content_type, char *out, size_t out_len,
                                         struct toon_err *err);

/* Returns non-OK to stop parsing (that status is returned). */
typedef enum toon_status (*toon_mpart_fn)(void *ctx, const struct toon_mpart *part,
                                          struct toon_err *err);

/* Calls fn for each part in order; at most max_parts parts. */
enum toon_status toon_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                                      int max_parts, toon_mpart_fn fn, void *ctx,
                                      struct toon_err *err);

#endif
