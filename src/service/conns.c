/*
 * Deadlines, per-address bounds and room for newcomers over libmicrohttpd's connections (see
 * conns.h for the why).  The table has one slot per connection MHD may hold; a slot is taken
 * when MHD reports a connection started and freed when it reports it closed, which MHD does
 * before it closes the socket, so a descriptor in a live slot is always the connection's own
 * and the reaper can shut it down under the table's mutex.
 *
 * "Slowest" is the connection still sending its request with the fewest body bytes per second
 * since its request began (a connection still in its headers counts as one byte): an idle
 * keep-alive connection or a trickling client goes first, an upload in full flow last, and a
 * request that is entirely in (being handled or answered) never.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/alloc.h"
#include "core/log.h"
#include "service/conns.h"

enum phase { PHASE_HEADERS, PHASE_BODY, PHASE_IN };

struct toon_conn {
    struct toon_conns *t;
    struct MHD_Connection *mhd; /* NULL: the slot is free */
    int fd;
    struct sockaddr_storage addr;
    int bounded; /* counts against per_address (not loopback) */
    enum phase phase;
    double t_start;  /* the current request's first byte, or the previous one's end */
    double deadline; /* 0: none */
    size_t body_bytes;
};

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return ntohl(in->sin_addr.s_addr) == INADDR_LOOPBACK;
    }
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        static const unsigned char mapped_lo[16] = {0, 0, 0,    0,    0,   0, 0, 0,
                                                    0, 0, 0xff, 0xff, 127, 0, 0, 1};
        return IN6_IS_ADDR_LOOPBACK(a) || memcmp(a, mapped_lo, 16) == 0;
    }
    return 0;
}

static int same_host(const struct sockaddr_storage *a, const struct sockaddr *b)
{
    if (a->ss_family != b->sa_family) return 0;
    if (b->sa_family == AF_INET)
        return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
    if (b->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
                      &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
    return 0;
}

/* Shuts the socket down; MHD's thread for it sees the end of the stream and closes it. */
static void cut(struct toon_conn *c)
{
    c->deadline = 0;
    c->phase = PHASE_IN; /* not chosen twice */
    shutdown(c->fd, SHUT_RDWR);
}

/* Body bytes per second of a connection still sending its request; -1 for one that is not. */
static double rate(const struct toon_conn *c, double now)
{
    if (!c->mhd || c->phase == PHASE_IN) return -1;
    double age = now - c->t_start > 1e-3 ? now - c->t_start : 1e-3;
    return (double)(c->body_bytes + 1) / age;
}

static int evict_slowest(struct toon_conns *t)
{
    double now = mono_now(), best = -1;
    struct toon_conn *slowest = NULL;
    for (int i = 0; i < t->n_slots; i++) {
        double r = rate(&t->slots[i], now);
        if (r >= 0 && (!slowest || r < best)) {
            slowest = &t->slots[i];
            best = r;
        }
    }
    if (!slowest) return 0;
    cut(slowest);
    atomic_fetch_add(&t->n_evicted, 1);
    return 1;
}

enum MHD_Result toon_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)addrlen;
    struct toon_conns *t = cls;
    enum MHD_Result ok = MHD_YES;
    pthread_mutex_lock(&t->mu);
    if (t->per_address > 0 && !is_loopback(addr)) {
        int n = 0;
        for (int i = 0; i < t->n_slots; i++)
            if (t->slots[i].mhd && t->slots[i].bounded && same_host(&t->slots[i].addr, addr)) n++;
        if (n >= t->per_address) ok = MHD_NO;
    }
    /* Nearly full: make room by closing the slowest, else refuse before MHD's hard limit. */
    if (ok == MHD_YES && t->n_live >= t->max - t->reserve && !evict_slowest(t) &&
        t->n_live >= t->max - 1)
        ok = MHD_NO;
    pthread_mutex_unlock(&t->mu);
    if (ok == MHD_NO) atomic_fetch_add(&t->n_refused, 1);
    return ok;
}

static void conn_start(struct toon_conns *t, struct MHD_Connection *conn, void **ctx)
{
    const union MHD_ConnectionInfo *fd =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    const union MHD_ConnectionInfo *ad =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    pthread_mutex_lock(&t->mu);
    struct toon_conn *c = NULL;
    for (int i = 0; i < t->n_slots && !c; i++)
        if (!t->slots[i].mhd) c = &t->slots[i];
    if (c && fd) {
        memset(c, 0, sizeof *c);
        c->t = t;
        c->mhd = conn;
        c->fd = fd->connect_fd;
        if (ad && ad->client_addr) {
            size_t n = ad->client_addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                              : sizeof(struct sockaddr_in);
            memcpy(&c->addr, ad->client_addr, n);
            c->bounded = !is_loopback(ad->client_addr);
        }
        c->phase = PHASE_HEADERS;
        c->t_start = mono_now();
        c->deadline = c->t_start + t->header_s;
        t->n_live++;
        *ctx = c;
    }
    pthread_mutex_unlock(&t->mu);
}

void toon_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct toon_conns *t = cls;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn_start(t, conn, socket_context);
        return;
    }
    struct toon_conn *c = *socket_context;
    if (!c) return;
    pthread_mutex_lock(&t->mu);
    c->mhd = NULL;
    t->n_live--;
    pthread_mutex_unlock(&t->mu);
    *socket_context = NULL;
}

/* Runs fn on the connection's slot under the table's mutex (nothing when it has none). */
static void with_slot(struct MHD_Connection *conn, void (*fn)(struct toon_conn *c, size_t n),
                      size_t n)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct toon_conn *c = ci ? ci->socket_context : NULL;
    if (!c) return;
    pthread_mutex_lock(&c->t->mu);
    if (c->mhd == conn) fn(c, n);
    pthread_mutex_unlock(&c->t->mu);
}

static void on_headers(struct toon_conn *c, size_t n)
{
    (void)n;
    if (c->phase != PHASE_HEADERS) return;
    c->phase = PHASE_BODY;
    /* On a kept-alive connection t_start is the previous request's end: the body still gets
     * what is left of request_s after the headers' share. */
    double kept_alive = mono_now() + c->t->request_s - c->t->header_s;
    c->deadline = c->t_start + c->t->request_s;
    if (kept_alive > c->deadline) c->deadline = kept_alive;
}

static void on_body(struct toon_conn *c, size_t n)
{
    c->body_bytes += n;
}

static void on_in(struct toon_conn *c, size_t n)
{
    (void)n;
    if (c->phase == PHASE_BODY) {
        c->phase = PHASE_IN;
        c->deadline = 0;
    }
}

static void on_end(struct toon_conn *c, size_t n)
{
    (void)n;
    c->phase = PHASE_HEADERS;
    c->body_bytes = 0;
    c->t_start = mono_now();
    /* The next request's first byte may come up to idle_s later (a proxy's kept-alive
     * connection); MHD closes the connection if none does. */
    c->deadline = c->t_start + c->t->idle_s + c->t->header_s;
}

void toon_conns_headers_done(struct MHD_Connection *conn)
{
    with_slot(conn, on_headers, 0);
}

void toon_conns_body_bytes(struct MHD_Connection *conn, size_t n)
{
    with_slot(conn, on_body, n);
}

void toon_conns_request_in(struct MHD_Connection *conn)
{
    with_slot(conn, on_in, 0);
}

void toon_conns_request_end(struct MHD_Connection *conn)
{
    with_slot(conn, on_end, 0);
}

static void *reaper_main(void *arg)
{
    struct toon_conns *t = arg;
    pthread_mutex_lock(&t->mu);
    while (!t->stop) {
        double now = mono_now();
        for (int i = 0; i < t->n_slots; i++) {
            struct toon_conn *c = &t->slots[i];
            if (c->mhd && c->deadline > 0 && now > c->deadline) {
                cut(c);
                atomic_fetch_add(&t->n_deadline, 1);
            }
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&t->cv, &t->mu, &ts);
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

enum toon_status toon_conns_init(struct toon_conns *t, int max, int per_address, double idle_s,
                                 double header_s, double request_s, struct toon_err *err)
{
    memset(t, 0, sizeof *t);
    t->max = max > 4 ? max : 4;
    t->per_address = per_address;
    t->reserve = t->max / 8 > 2 ? t->max / 8 : 2;
    t->idle_s = idle_s;
    t->header_s = header_s;
    t->request_s = request_s > header_s ? request_s : header_s;
    t->n_slots = t->max;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    t->slots = toon_calloc((size_t)t->n_slots, sizeof *t->slots);
    if (!t->slots) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    int rc = pthread_create(&t->reaper, NULL, reaper_main, t);
    if (rc != 0)
        return toon_err_set(err, TOON_STATUS_INTERNAL, "cannot start a thread: %s", strerror(rc));
    t->reaper_started = 1;
    return TOON_STATUS_OK;
}

void toon_conns_destroy(struct toon_conns *t)
{
    if (t->reaper_started) {
        pthread_mutex_lock(&t->mu);
        t->stop = 1;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->reaper, NULL);
        t->reaper_started = 0;
    }
    if (t->slots) {
        toon_free(t->slots);
        t->slots = NULL;
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
    }
}
