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

/* X(name, message, message in Simplified Chinese, cli exit code, http code) */
#define TOON_STATUS_LIST(X)                                                                        \
    X(OK, "ok", "成功", 0, 200)                                                                    \
    X(INVALID_ARGUMENT, "invalid argument", "参数无效", 2, 400)                                    \
    X(IO, "input/output error", "输入/输出错误", 3, 500)                                           \
    X(NOT_FOUND, "not found", "未找到", 3, 404)                                                    \
    X(CORRUPT, "corrupt or truncated data", "数据已损坏或不完整", 4, 422)                          \
    X(UNSUPPORTED, "unsupported format", "不支持的格式", 4, 415)                                   \
    X(TOO_LARGE, "too large", "文件或图像过大", 5, 413)                                            \
    X(OVER_BUDGET, "over the memory budget", "超出内存预算", 5, 413)                               \
    X(NO_MEMORY, "out of memory", "内存不足", 6, 503)                                              \
    X(MODEL, "invalid model file", "模型文件无效", 7, 500)                                         \
    X(CANCELLED, "cancelled", "已取消", 8, 410)                                                    \
    X(INTERNAL, "internal error", "内部错误", 9, 500)                                              \
    X(UNAVAILABLE, "unavailable", "服务暂不可用", 10, 503)                                         \
    X(NO_SPACE, "insufficient storage", "存储空间不足", 3, 507)

enum toon_status {
#define TOON_STATUS_ENUM_(name, msg, msg_zh, cli, http) TOON_STATUS_##name,
    TOON_STATUS_LIST(TOON_STATUS_ENUM_)
#undef TOON_STATUS_ENUM_
        TOON_STATUS_COUNT_
};

/* A message for a person, filled by the function that failed. */
struct toon_err {
    char msg[512];
};

const char *toon_status_str(enum toon_status st);
/* The same message in Simplified Chinese (for the service's Accept-Language: zh). */
const char *toon_status_str_zh(enum toon_status st);
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
