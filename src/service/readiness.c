/*
 * Readiness (/readyz): ready means a job submitted now can complete.  That takes a loaded model,
 * a server that is not shutting down, an outputs directory that can really be written (checked
 * by creating a file, at most once a second: outputs.c) and, in scale-out mode, a reachable
 * Redis with at least one live worker.  Each "not ready" has a short reason code for machines
 * and a sentence for people.
 */
#include <stdio.h>

#include "service/internal.h"

/* Scale-out: the store answers and some worker has been seen lately. */
static const char *redis_ready(struct toon_service *svc, char *detail, size_t len)
{
    struct toon_err err = {""};
    struct toon_redis *c = NULL;
    enum toon_status st = toon_redis_get(&svc->pool, &c, &err);
    if (st == TOON_STATUS_OK) st = toon_redis_do(c, &err, "PING");
    toon_redis_put(&svc->pool, c); /* closes it if broken */
    if (st != TOON_STATUS_OK) {
        snprintf(detail, len, "%s", err.msg);
        return "redis-unreachable";
    }
    int n = toon_rjobs_live_workers(svc, &err);
    if (n < 0) {
        snprintf(detail, len, "%s", err.msg);
        return "redis-unreachable";
    }
    if (n == 0) {
        snprintf(detail, len,
                 "no worker is alive (none seen in the last %.0f s): start `toonify worker`",
                 TOON_WORKER_STALE_S);
        return "no-worker";
    }
    return NULL;
}

const char *toon_service_not_ready(struct toon_service *svc, char *detail, size_t len)
{
    if (svc->n_styles == 0) {
        snprintf(detail, len, "%s", svc->model_error);
        return "no-model";
    }
    pthread_mutex_lock(&svc->mu);
    int stopping = svc->stopping;
    pthread_mutex_unlock(&svc->mu);
    if (stopping) {
        snprintf(detail, len, "the server is shutting down");
        return "shutting-down";
    }
    if (!toon_outputs_writable(svc, detail, len)) return "outputs-not-writable";
    return svc->redis ? redis_ready(svc, detail, len) : NULL;
}
