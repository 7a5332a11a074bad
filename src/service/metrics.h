/* Counters of the service, exported in Prometheus text format at /metrics. */
#ifndef TOON_SERVICE_METRICS_H
#define TOON_SERVICE_METRICS_H

#include <stdatomic.h>
#include <stddef.h>

struct toon_metrics {
    atomic_ulong http_requests[6]; /* by class: [1] 1xx ... [5] 5xx */
    atomic_ulong jobs_submitted, jobs_done, jobs_failed, jobs_cancelled;
    atomic_ulong jobs_rejected_full;  /* 503: the queue was full */
    atomic_ulong jobs_rejected_large; /* 413: could never fit */
    atomic_ulong jobs_downgraded;
    atomic_ulong job_run_us;   /* sum of run times of finished jobs, microseconds */
    atomic_ulong job_queue_us; /* sum of their waits in the queue */
    atomic_ulong result_bytes; /* bytes of results written */
};

struct toon_service;
/* The text of /metrics; *out is toon_malloc'ed. */
int toon_metrics_render(struct toon_service *svc, char **out, size_t *len);

#endif
