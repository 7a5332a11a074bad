/*
 * multipart/form-data: "--B\r\n" headers "\r\n\r\n" data "\r\n--B" ... "\r\n--B--".  The parser
 * finds each delimiter with memmem over the mapped body, reads the part's headers (only
 * Content-Disposition and Content-Type matter), and hands the data slice to the caller.  Header
 * blocks are limited to 8 KiB and parameter values to the sizes of struct toon_mpart's fields,
 * so a hostile body cannot make it allocate or read out of bounds.
 */
#include <string.h>
#include <strings.h>

#include "service/multipart.h"

#define MAX_HEADER_BLOCK 8192

enum toon_status toon_multipart_boundary(const char *content_type, char *out, size_t out_len,
                                         struct toon_err *err)
{
    if (!content_type || strncasecmp(content_type, "multipart/form-data", 19) != 0)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "not multipart/form-data");
    const char *p = content_type + 19;
    while (*p) {
        while (*p == ';' || *p == ' ' || *p == '\t') p++;
        if (strncasecmp(p, "boundary=", 9) == 0) {
            p += 9;
            size_t n = 0;
            int quoted = *p == '"';
            if (quoted) p++;
            while (p[n] && (quoted ? p[n] != '"' : (p[n] != ';' && p[n] != ' '))) n++;
            if (quoted && p[n] != '"')
                return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                    "multipart boundary has no closing quote");
            if (n < 1 || n > 70 || n + 1 > out_len)
                return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                    "multipart boundary must be 1 to 70 characters");
            memcpy(out, p, n);
            out[n] = 0;
            return TOON_STATUS_OK;
        }
        while (*p && *p != ';') p++;
    }
    return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "multipart body without a boundary");
}

/* Copies a header parameter's value (`key="value"` or `key=value`) from [s, e) into out.
 * Returns 1 if the parameter was found. */
static int header_param(const char *s, const char *e, const char *key, char *out, size_t out_len)
{
    size_t klen = strlen(key);
    const char *p = s;
    while (p < e) {
        while (p < e && (*p == ';' || *p == ' ' || *p == '\t')) p++;
        if ((size_t)(e - p) > klen && strncasecmp(p, key, klen) == 0 && p[klen] == '=') {
            p += klen + 1;
            size_t n = 0;
            if (p < e && *p == '"') {
                p++;
                while (p + n < e && p[n] != '"') {
                    if (p[n] == '\\' && p + n + 1 < e) n++;
                    n++;
                }
            } else {
                while (p + n < e && p[n] != ';' && p[n] != ' ') n++;
            }
            size_t k = 0;
            for (size_t i = 0; i < n && k + 1 < out_len; i++) {
                if (p[i] == '\\' && i + 1 < n) i++;
                out[k++] = p[i];
            }
            out[k] = 0;
            return 1;
        }
        /* Skip to the next ';' outside quotes. */
        int q = 0;
        while (p < e && (q || *p != ';')) {
            if (*p == '"') q = !q;
            p++;
        }
    }
    return 0;
}

static enum toon_status parse_headers(const uint8_t *h, size_t n, struct toon_mpart *part,
                                      struct toon_err *err)
{
    const char *s = (const char *)h, *end = s + n;
    int disposition = 0;
    while (s < end) {
        const char *eol = memmem(s, (size_t)(end - s), "\r\n", 2);
        if (!eol) eol = end;
        const char *colon = memchr(s, ':', (size_t)(eol - s));
        if (colon) {
            size_t klen = (size_t)(colon - s);
            const char *v = colon + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            if (klen == 19 && strncasecmp(s, "Content-Disposition", 19) == 0) {
                if ((size_t)(eol - v) < 9 || strncasecmp(v, "form-data", 9) != 0)
                    return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                        "multipart part is not form-data");
                disposition = 1;
                header_param(v + 9, eol, "name", part->name, sizeof part->name);
                header_param(v + 9, eol, "filename", part->filename, sizeof part->filename);
            } else if (klen == 12 && strncasecmp(s, "Content-Type", 12) == 0) {
                size_t vl = (size_t)(eol - v);
                if (vl >= sizeof part->content_type) vl = sizeof part->content_type - 1;
                memcpy(part->content_type, v, vl);
                part->content_type[vl] = 0;
            }
        } else if (eol > s) {
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "multipart part header without ':'");
        }
        s = eol + 2;
    }
    if (!disposition)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "multipart part without Content-Disposition");
    return TOON_STATUS_OK;
}

enum toon_status toon_multipart_parse(const uint8_t *body, size_t len, const char *boundary,
                                      int max_parts, toon_mpart_fn fn, void *ctx,
                                      struct toon_err *err)
{
    char delim[80]; /* "\r\n--" + boundary */
    size_t blen = strlen(boundary);
    if (blen < 1 || blen > 70)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "bad multipart boundary");
    memcpy(delim, "\r\n--", 4);
    memcpy(delim + 4, boundary, blen);
    size_t dlen = blen + 4;

    /* The first delimiter may start the body (no preceding CRLF). */
    size_t pos;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) {
        pos = dlen - 2;
    } else {
        const uint8_t *d = memmem(body, len, delim, dlen);
        if (!d) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "multipart body is empty");
        pos = (size_t)(d - body) + dlen;
    }
    int n_parts = 0;
    for (;;) {
        /* After a delimiter: "--" ends the body, else optional whitespace and CRLF. */
        if (len - pos >= 2 && body[pos] == '-' && body[pos + 1] == '-') break;
        while (pos < len && (body[pos] == ' ' || body[pos] == '\t')) pos++;
        if (len - pos < 2 || body[pos] != '\r' || body[pos + 1] != '\n')
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "multipart body is truncated or malformed");
        pos += 2;
        size_t limit = len - pos < MAX_HEADER_BLOCK ? len - pos : MAX_HEADER_BLOCK;
        const uint8_t *hend;
        if (limit >= 2 && body[pos] == '\r' && body[pos + 1] == '\n')
            hend = body + pos; /* no headers at all */
        else
            hend = memmem(body + pos, limit, "\r\n\r\n", 4);
        if (!hend)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "multipart part headers are missing or too long");
        struct toon_mpart part;
        memset(&part, 0, sizeof part);
        enum toon_status st = parse_headers(body + pos, (size_t)(hend - (body + pos)), &part, err);
        if (st != TOON_STATUS_OK) return st;
        pos = (size_t)(hend - body) + (hend == body + pos ? 2 : 4);
        const uint8_t *d = memmem(body + pos, len - pos, delim, dlen);
        if (!d)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "multipart part is not terminated (truncated upload?)");
        if (++n_parts > max_parts)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "more than %d multipart parts",
                                max_parts);
        part.data = body + pos;
        part.n_bytes = (size_t)(d - (body + pos));
        st = fn(ctx, &part, err);
        if (st != TOON_STATUS_OK) return st;
        pos = (size_t)(d - body) + dlen;
    }
    return TOON_STATUS_OK;
}
