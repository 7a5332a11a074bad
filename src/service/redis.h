/*
 * A Redis connection for the scale-out mode (hiredis underneath): URL parsing, reconnection,
 * and replies checked into toon_status.
 *
 * A connection is used by one thread at a time.  When the server goes away (restarted, network
 * cut) the next command reconnects; a command whose connection breaks while it is in flight is
 * not sent again (it may have run), the caller gets TOON_STATUS_UNAVAILABLE and decides.  The
 * service's HTTP threads share a small pool of connections (toon_redis_pool_*).
 */
#ifndef TOON_SERVICE_REDIS_H
#define TOON_SERVICE_REDIS_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stddef.h>

#include "toonify/status.h"

struct toon_redis_url {
    char host[256];
    int port; /* default 6379 */
    int db;   /* default 0 */
    char password[256];
    char prefix[64]; /* key prefix, from ?prefix=NAME; default "toonify" */
};

/* Parses redis://[:password@]host[:port][/db][?prefix=NAME]. */
enum toon_status toon_redis_parse_url(const char *url, struct toon_redis_url *out,
                                      struct toon_err *err);

struct toon_redis {
    struct toon_redis_url url;
    redisContext *c;
    enum toon_status last;   /* of the last command: OK, UNAVAILABLE or INTERNAL */
    struct toon_redis *next; /* in a pool */
};

/* Connects (and authenticates, selects the database); the connection is kept for reuse. */
enum toon_status toon_redis_open(const struct toon_redis_url *url, struct toon_redis **out,
                                 struct toon_err *err);
void toon_redis_close(struct toon_redis *r);

/* Runs one command given as arguments (binary-safe; lens may be NULL for C strings).  Returns
 * the reply (free it with freeReplyObject) or NULL with err set: TOON_STATUS_UNAVAILABLE when
 * the server cannot be reached, TOON_STATUS_INTERNAL when it answered with an error. */
redisReply *toon_redis_argv(struct toon_redis *r, struct toon_err *err, int argc, const char **argv,
                            const size_t *lens);
/* The same with a printf-like format (hiredis's: %s, %b binary with length, %d ...). */
redisReply *toon_redis_cmd(struct toon_redis *r, struct toon_err *err, const char *fmt, ...);
/* Runs a command whose reply does not matter beyond success. */
enum toon_status toon_redis_do(struct toon_redis *r, struct toon_err *err, const char *fmt, ...);

/* A pool of connections for threads that come and go (the HTTP threads). */
struct toon_redis_pool {
    struct toon_redis_url url;
    pthread_mutex_t mu;
    struct toon_redis *free;
};
void toon_redis_pool_init(struct toon_redis_pool *p, const struct toon_redis_url *url);
void toon_redis_pool_destroy(struct toon_redis_pool *p);
/* A connection for this thread; give it back with toon_redis_put. */
enum toon_status toon_redis_get(struct toon_redis_pool *p, struct toon_redis **out,
                                struct toon_err *err);
void toon_redis_put(struct toon_redis_pool *p, struct toon_redis *r);

#endif
