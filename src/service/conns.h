/*
 * The table of open HTTP connections, and what keeps slow clients from holding them: a deadline
 * for each request's headers and body, a bound on connections per client address, and room kept
 * for new requests (/healthz above all) by closing the slowest reader when the table is nearly
 * full.
 *
 * libmicrohttpd's own timeout counts idle time only, so a client that sends a byte every few
 * seconds would keep its connection (and its thread) forever.  Here every connection carries a
 * deadline: `header_s` from its first byte until its headers are complete, `request_s` from the
 * same moment until its body is complete (on a kept-alive connection the first byte of the next
 * request is not seen, so its count starts when the previous request ended, plus idle_s).  Once the
 * whole request is in, it has no deadline (a synchronous conversion may take minutes).  A reaper
 * thread shuts down the sockets past their deadline; MHD then sees the end of the stream and
 * closes the connection the usual way.
 *
 * Thread safety: every function may be called from any thread; one mutex guards the table.  The
 * MHD callbacks (toon_conns_accept, toon_conns_notify) take the table as their closure.
 */
#ifndef TOON_SERVICE_CONNS_H
#define TOON_SERVICE_CONNS_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "toonify/status.h"

struct toon_conn;

struct toon_conns {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct toon_conn *slots; /* [n_slots] */
    int n_slots, n_live;
    int max, per_address, reserve; /* connections at most, per address, kept for newcomers */
    double idle_s, header_s, request_s;
    int stop, reaper_started;
    pthread_t reaper;
    atomic_ulong n_deadline, n_evicted, n_refused; /* for /metrics */
};

/* Sets up the table for `max` connections, `per_address` of them from one address (0: no
 * bound; loopback clients, i.e. a proxy on the same host, are never bounded), with the two
 * deadlines in seconds (a kept-alive connection's next request may start up to idle_s after the
 * last one ended); starts the reaper. */
enum toon_status toon_conns_init(struct toon_conns *t, int max, int per_address, double idle_s,
                                 double header_s, double request_s, struct toon_err *err);
/* Stops the reaper and frees the table (after MHD has stopped). */
void toon_conns_destroy(struct toon_conns *t);

/* MHD_OPTION_APPLY_POLICY: refuses an address over its bound; when the table is nearly full,
 * closes the slowest connection still sending its request to make room. */
enum MHD_Result toon_conns_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
/* MHD_OPTION_NOTIFY_CONNECTION: adds and removes connections. */
void toon_conns_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);

/* From the request handler: the headers are in (the body's deadline now applies), `n` more
 * bytes of body arrived, the whole request is in (no deadline until it is answered), and the
 * request has ended (the next one's headers are due within header_s). */
void toon_conns_headers_done(struct MHD_Connection *conn);
void toon_conns_body_bytes(struct MHD_Connection *conn, size_t n);
void toon_conns_request_in(struct MHD_Connection *conn);
void toon_conns_request_end(struct MHD_Connection *conn);

#endif
