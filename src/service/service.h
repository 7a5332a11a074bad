/*
 * `toonify serve`: the HTTP service and its page.
 *
 * The service loads every style it finds once (a loaded model is immutable and shared by the
 * workers), measures the process's baseline memory, and then accepts jobs over HTTP.  Jobs wait
 * in a bounded queue and a fixed set of worker threads runs them, each only when its planned peak
 * fits under the memory limit the service detected (see admission.h).  The HTTP side runs on
 * libmicrohttpd's own threads (one per connection), never on the workers.
 *
 * Lifetime: toon_service_new() loads and measures; toon_service_start() opens the socket and
 * starts the workers; toon_service_stop() shuts down gracefully (queued jobs are cancelled,
 * running ones get `grace_s` seconds to finish, then are cancelled; finished results stay on
 * disk); toon_service_free() releases everything.  All from one controlling thread.
 */
#ifndef TOON_SERVICE_SERVICE_H
#define TOON_SERVICE_SERVICE_H

#include <stddef.h>

#include "toonify/toonify.h"

struct toon_service_config {
    const char *host;      /* address to listen on, default "127.0.0.1" */
    int port;              /* default 7860; 0 = any free port (see toon_service_port) */
    const char *models;    /* a model file or directory of styles; NULL or "" = none found */
    const char *outputs;   /* results and their JSON sidecars; created if missing */
    int workers;           /* conversions at once, default 1 */
    int threads;           /* threads in all, divided between workers; 0 = the CPUs we may use */
    size_t memory_limit;   /* 0 = detect (cgroup v2, cgroup v1, physical memory) */
    int queue_max;         /* queued (not running) jobs at most, default 16 */
    size_t upload_max;     /* request body bytes at most, default 64 MiB */
    int timeout_s;         /* idle connection timeout, default 30 */
    int header_timeout_s;  /* a request's headers must be in this long after its first byte,
                              default 15 */
    int request_timeout_s; /* and its body this long after its first byte; default 0: 60 s, or
                              1 s per MiB of upload_max when that is longer */
    int max_connections;   /* open connections at most, default 64 */
    int per_address;       /* connections from one address at most, default 16 (0: no bound);
                              loopback clients (a local proxy) are not bounded */
    int sync_timeout_s;    /* how long POST /api/v1/cartoonize waits, default 600 */
    int grace_s;           /* how long shutdown lets running jobs finish, default 10 */
    int downgrade;         /* default for jobs that do not say: run at the largest size that fits */
    int max_batch;         /* files per batch at most, default 50 */
    int quiet;             /* no access log */
    /* Scale-out (`--redis`): jobs, their state and results live in Redis, run by `toonify
     * worker` processes; this process only answers HTTP.  NULL: the embedded queue. */
    const char *redis_url;
    int result_ttl_s;  /* how long jobs and results are kept in Redis, default 86400 */
    int claim_idle_ms; /* a job whose worker is silent this long is taken over, default 30000 */
    int note_after_s;  /* a job no worker can hold says so after this long, default 10 */
};
void toon_service_default_config(struct toon_service_config *cfg);

struct toon_service;

enum toon_status toon_service_new(const struct toon_service_config *cfg, struct toon_service **out,
                                  struct toon_err *err);
enum toon_status toon_service_start(struct toon_service *svc, struct toon_err *err);
int toon_service_port(const struct toon_service *svc); /* the port actually bound */
void toon_service_stop(struct toon_service *svc);
void toon_service_free(struct toon_service *svc);

/* `toonify worker --redis URL`: loads the styles like the service, then takes jobs from Redis
 * until *stop is set (by a signal handler); a running job is finished first (within grace_s,
 * then cancelled and left for another worker).  Returns when stopped. */
enum toon_status toon_worker_run(const struct toon_service_config *cfg, volatile int *stop,
                                 struct toon_err *err);

#endif
