/* Status messages and their mappings, generated from TOON_STATUS_LIST. */
#include "toonify/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

const char *toon_status_str(enum toon_status st)
{
    switch (st) {
#define X_(name, msg, msg_zh, cli, http)                                                           \
    case TOON_STATUS_##name:                                                                       \
        return msg;
        TOON_STATUS_LIST(X_)
#undef X_
    default:
        return "unknown status";
    }
}

const char *toon_status_str_zh(enum toon_status st)
{
    switch (st) {
#define X_(name, msg, msg_zh, cli, http)                                                           \
    case TOON_STATUS_##name:                                                                       \
        return msg_zh;
        TOON_STATUS_LIST(X_)
#undef X_
    default:
        return "未知状态";
    }
}

int toon_status_exit_code(enum toon_status st)
{
    switch (st) {
#define X_(name, msg, msg_zh, cli, http)                                                           \
    case TOON_STATUS_##name:                                                                       \
        return cli;
        TOON_STATUS_LIST(X_)
#undef X_
    default:
        return 9;
    }
}

int toon_status_http_code(enum toon_status st)
{
    switch (st) {
#define X_(name, msg, msg_zh, cli, http)                                                           \
    case TOON_STATUS_##name:                                                                       \
        return http;
        TOON_STATUS_LIST(X_)
#undef X_
    default:
        return 500;
    }
}

enum toon_status toon_err_set(struct toon_err *err, enum toon_status st, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

enum toon_status toon_status_from_errno(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EFBIG ? TOON_STATUS_NO_SPACE : TOON_STATUS_IO;
}
