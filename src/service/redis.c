/* Redis connections: see redis.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/alloc.h"
#include "service/redis.h"

/* A command never waits longer than this for its reply (XREADGROUP blocks for less). */
#define COMMAND_TIMEOUT_S 15

enum toon_status toon_redis_parse_url(const char *url, struct toon_redis_url *out,
                                      struct toon_err *err)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    snprintf(out->prefix, sizeof out->prefix, "toonify");
    const char *s = url;
    if (strncmp(s, "redis://", 8) == 0)
        s += 8;
    else if (strstr(s, "://"))
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "'%.200s' is not a redis:// URL (redis://[:password@]host[:port][/db])",
                            url);
    const char *at = strchr(s, '@');
    if (at) {
        const char *colon = memchr(s, ':', (size_t)(at - s));
        const char *pw = colon ? colon + 1 : s;
        size_t n = (size_t)(at - pw);
        if (n >= sizeof out->password)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "the Redis password is too long");
        memcpy(out->password, pw, n);
        s = at + 1;
    }
    size_t hn = strcspn(s, ":/?");
    if (hn >= sizeof out->host)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "the Redis host name is too long");
    memcpy(out->host, s, hn);
    if (!out->host[0]) snprintf(out->host, sizeof out->host, "127.0.0.1");
    s += hn;
    if (*s == ':') {
        char *end;
        long port = strtol(s + 1, &end, 10);
        if (end == s + 1 || port < 1 || port > 65535)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "bad port in Redis URL '%.200s'",
                                url);
        out->port = (int)port;
        s = end;
    }
    if (*s == '/') {
        char *end;
        long db = strtol(s + 1, &end, 10);
        if (end != s + 1) {
            if (db < 0 || db > 1000000)
                return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                    "bad database number in Redis URL '%.200s'", url);
            out->db = (int)db;
        }
        s = end;
    }
    if (*s == '?') {
        if (strncmp(s, "?prefix=", 8) != 0)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "unknown option in Redis URL '%.200s' (only ?prefix=NAME)", url);
        s += 8;
        size_t n = strlen(s);
        if (n == 0 || n >= sizeof out->prefix || strpbrk(s, " :{}"))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "bad key prefix in Redis URL '%.200s' (1-63 characters, no "
                                "spaces, ':' or braces)",
                                url);
        memcpy(out->prefix, s, n + 1);
        s += n;
    }
    if (*s)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "cannot parse Redis URL '%.200s'",
                            url);
    return TOON_STATUS_OK;
}

static void drop(struct toon_redis *r)
{
    if (r->c) redisFree(r->c);
    r->c = NULL;
}

static enum toon_status connect_now(struct toon_redis *r, struct toon_err *err)
{
    r->last = TOON_STATUS_UNAVAILABLE;
    struct timeval tv = {5, 0};
    r->c = redisConnectWithTimeout(r->url.host, r->url.port, tv);
    if (!r->c || r->c->err) {
        enum toon_status st =
            toon_err_set(err, TOON_STATUS_UNAVAILABLE, "cannot reach Redis at %s:%d: %s",
                         r->url.host, r->url.port, r->c ? r->c->errstr : "out of memory");
        drop(r);
        return st;
    }
    struct timeval ctv = {COMMAND_TIMEOUT_S, 0};
    redisSetTimeout(r->c, ctv);
    redisReply *rep = NULL;
    if (r->url.password[0]) {
        rep = redisCommand(r->c, "AUTH %s", r->url.password);
        if (!rep || rep->type == REDIS_REPLY_ERROR) goto refused;
        freeReplyObject(rep);
    }
    if (r->url.db) {
        rep = redisCommand(r->c, "SELECT %d", r->url.db);
        if (!rep || rep->type == REDIS_REPLY_ERROR) goto refused;
        freeReplyObject(rep);
    }
    return TOON_STATUS_OK;
refused:;
    enum toon_status st =
        toon_err_set(err, rep ? TOON_STATUS_INVALID_ARGUMENT : TOON_STATUS_UNAVAILABLE,
                     "Redis at %s:%d: %s", r->url.host, r->url.port, rep ? rep->str : r->c->errstr);
    if (rep) freeReplyObject(rep);
    drop(r);
    r->last = st;
    return st;
}

enum toon_status toon_redis_open(const struct toon_redis_url *url, struct toon_redis **out,
                                 struct toon_err *err)
{
    *out = NULL;
    struct toon_redis *r = toon_calloc(1, sizeof *r);
    if (!r) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    r->url = *url;
    enum toon_status st = connect_now(r, err);
    if (st != TOON_STATUS_OK) {
        toon_free(r);
        return st;
    }
    *out = r;
    return TOON_STATUS_OK;
}

void toon_redis_close(struct toon_redis *r)
{
    if (!r) return;
    drop(r);
    toon_free(r);
}

/* The reply, or NULL and err.  A connection that failed is dropped; the next call reconnects. */
static redisReply *checked(struct toon_redis *r, redisReply *rep, struct toon_err *err)
{
    if (!rep) {
        r->last = TOON_STATUS_UNAVAILABLE;
        toon_err_set(err, TOON_STATUS_UNAVAILABLE, "lost the connection to Redis at %s:%d: %s",
                     r->url.host, r->url.port, r->c ? r->c->errstr : "closed");
        drop(r);
        return NULL;
    }
    if (rep->type == REDIS_REPLY_ERROR) {
        /* LOADING: the server is reading its AOF after a restart; try again shortly. */
        enum toon_status st =
            strncmp(rep->str, "LOADING", 7) == 0 ? TOON_STATUS_UNAVAILABLE : TOON_STATUS_INTERNAL;
        r->last = st;
        toon_err_set(err, st, "Redis: %.400s", rep->str);
        freeReplyObject(rep);
        return NULL;
    }
    r->last = TOON_STATUS_OK;
    return rep;
}

redisReply *toon_redis_argv(struct toon_redis *r, struct toon_err *err, int argc, const char **argv,
                            const size_t *lens)
{
    if (!r->c && connect_now(r, err) != TOON_STATUS_OK) return NULL;
    return checked(r, redisCommandArgv(r->c, argc, argv, lens), err);
}

redisReply *toon_redis_cmd(struct toon_redis *r, struct toon_err *err, const char *fmt, ...)
{
    if (!r->c && connect_now(r, err) != TOON_STATUS_OK) return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = redisvCommand(r->c, fmt, ap);
    va_end(ap);
    return checked(r, rep, err);
}

enum toon_status toon_redis_do(struct toon_redis *r, struct toon_err *err, const char *fmt, ...)
{
    if (!r->c && connect_now(r, err) != TOON_STATUS_OK) return r->last;
    va_list ap;
    va_start(ap, fmt);
    redisReply *rep = checked(r, redisvCommand(r->c, fmt, ap), err);
    va_end(ap);
    if (!rep) return r->last;
    freeReplyObject(rep);
    return TOON_STATUS_OK;
}

void toon_redis_pool_init(struct toon_redis_pool *p, const struct toon_redis_url *url)
{
    p->url = *url;
    pthread_mutex_init(&p->mu, NULL);
    p->free = NULL;
}

void toon_redis_pool_destroy(struct toon_redis_pool *p)
{
    while (p->free) {
        struct toon_redis *r = p->free;
        p->free = r->next;
        toon_redis_close(r);
    }
    pthread_mutex_destroy(&p->mu);
}

enum toon_status toon_redis_get(struct toon_redis_pool *p, struct toon_redis **out,
                                struct toon_err *err)
{
    pthread_mutex_lock(&p->mu);
    struct toon_redis *r = p->free;
    if (r) p->free = r->next;
    pthread_mutex_unlock(&p->mu);
    if (r) {
        r->next = NULL;
        *out = r;
        return TOON_STATUS_OK;
    }
    return toon_redis_open(&p->url, out, err);
}

void toon_redis_put(struct toon_redis_pool *p, struct toon_redis *r)
{
    if (!r) return;
    if (!r->c) { /* broken: do not keep it */
        toon_redis_close(r);
        return;
    }
    pthread_mutex_lock(&p->mu);
    r->next = p->free;
    p->free = r;
    pthread_mutex_unlock(&p->mu);
}
