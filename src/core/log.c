/* The log callback (see log.h).  The default callback drops everything. */
#include "core/log.h"
#include "core/assert.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static toon_log_fn g_fn;
static void *g_user;

void toon_log_set_callback(toon_log_fn fn, void *user)
{
    g_fn = fn;
    g_user = user;
}

void toon_log(enum toon_log_level level, const char *fmt, ...)
{
    if (!g_fn) return;
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    g_fn(level, buf, g_user);
}

void toon_assert_fail(const char *cond, const char *file, int line)
{
    toon_log(TOON_LOG_ERROR, "bug: %s:%d: assertion failed: %s", file, line, cond);
    fprintf(stderr, "toonify: bug: %s:%d: assertion failed: %s\n", file, line, cond);
    abort();
}
