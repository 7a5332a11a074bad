/*
 * Status codes shared by every toonify module.
 *
 * One X-macro list generates the enum, the human-readable messages, and the mappings to CLI
 * exit codes and HTTP status codes, so the three can never drift apart.  Every fallible
 * function returns an `enum toon_status`; details for a person go into a `struct toon_err`
 * that the caller owns (there is no global error state).
 */
#ifndef TOONIFY_STATUS_H
#define TOONIFY_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, message, cli exit code, http code) */
#define TOON_STATUS_LIST(X)                                                                        \
    X(OK, "ok", 0, 200)                                                                            \
    X(INVALID_ARGUMENT, "invalid argument", 2, 400)                                                \
    X(IO, "input/output error", 3, 500)                                                            \
    X(NOT_FOUND, "not found", 3, 404)                                                              \
    X(CORRUPT, "corrupt or truncated data", 4, 422)                                                \
    X(UNSUPPORTED, "unsupported format", 4, 415)                                                   \
    X(TOO_LARGE, "too large", 5, 413)                                                              \
    X(OVER_BUDGET, "over the memory budget", 5, 413)                                               \
    X(NO_MEMORY, "out of memory", 6, 503)                                                          \
    X(MODEL, "invalid model file", 7, 500)                                                         \
    X(CANCELLED, "cancelled", 8, 410)                                                              \
    X(INTERNAL, "internal error", 9, 500)                                                          \
    X(UNAVAILABLE, "unavailable", 10, 503)                                                         \
    X(NO_SPACE, "insufficient storage", 3, 507)

enum toon_status {
#define TOON_STATUS_ENUM_(name, msg, cli, http) TOON_STATUS_##name,
    TOON_STATUS_LIST(TOON_STATUS_ENUM_)
#undef TOON_STATUS_ENUM_
        TOON_STATUS_COUNT_
};

/* A message for a person, filled by the function that failed. */
struct toon_err {
    char msg[512];
};

const char *toon_status_str(enum toon_status st);
int toon_status_exit_code(enum toon_status st);
int toon_status_http_code(enum toon_status st);

/* The status for a failed file operation's errno: TOON_STATUS_NO_SPACE for a full disk or quota
 * (ENOSPC, EDQUOT, EFBIG), else TOON_STATUS_IO. */
enum toon_status toon_status_from_errno(int e);

/* Formats into err (if err is not NULL) and returns st, so callers can `return toon_err_set(...)`.
 */
enum toon_status toon_err_set(struct toon_err *err, enum toon_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
