/*
 * /metrics: counters kept with atomics (updated from HTTP and worker threads without the lock)
 * and gauges read under the service lock when the page is rendered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/procmem.h"
#include "core/alloc.h"
#include "service/internal.h"
#include "service/memory.h"

struct buf {
    char *p;
    size_t n, cap;
    int bad;
};

__attribute__((format(printf, 2, 3))) static void put(struct buf *b, const char *fmt, ...)
{
    for (;;) {
        if (b->bad) return;
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->bad = 1;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        char *q = toon_realloc(b->p, b->cap * 2 + (size_t)k);
        if (!q) {
            b->bad = 1;
            return;
        }
        b->p = q;
        b->cap = b->cap * 2 + (size_t)k;
    }
}

static void metric(struct buf *b, const char *name, const char *type, const char *help,
                   double value)
{
    put(b, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, value);
}

int toon_metrics_render(struct toon_service *svc, char **out, size_t *len)
{
    struct toon_metrics *m = &svc->metrics;
    struct buf b = {toon_malloc(4096), 0, 4096, 0};
    if (!b.p) return 0;
    b.p[0] = 0;
    pthread_mutex_lock(&svc->mu);
    int queued = svc->n_queued, running = svc->n_running;
    size_t reserved = svc->reserved, baseline = svc->baseline;
    pthread_mutex_unlock(&svc->mu);

    put(&b, "# HELP toonify_http_requests_total HTTP requests answered, by status class.\n"
            "# TYPE toonify_http_requests_total counter\n");
    for (int c = 1; c <= 5; c++)
        put(&b, "toonify_http_requests_total{code=\"%dxx\"} %lu\n", c,
            atomic_load(&m->http_requests[c]));
    put(&b,
        "# HELP toonify_connections_closed_total Connections the server closed or refused to "
        "keep slow clients from holding it, by reason.\n"
        "# TYPE toonify_connections_closed_total counter\n"
        "toonify_connections_closed_total{reason=\"deadline\"} %lu\n"
        "toonify_connections_closed_total{reason=\"slowest\"} %lu\n"
        "toonify_connections_closed_total{reason=\"refused\"} %lu\n",
        atomic_load(&svc->conns.n_deadline), atomic_load(&svc->conns.n_evicted),
        atomic_load(&svc->conns.n_refused));
    metric(&b, "toonify_jobs_submitted_total", "counter", "Jobs accepted.",
           (double)atomic_load(&m->jobs_submitted));
    put(&b,
        "# HELP toonify_jobs_finished_total Jobs ended, by outcome.\n"
        "# TYPE toonify_jobs_finished_total counter\n"
        "toonify_jobs_finished_total{state=\"done\"} %lu\n"
        "toonify_jobs_finished_total{state=\"failed\"} %lu\n"
        "toonify_jobs_finished_total{state=\"cancelled\"} %lu\n",
        atomic_load(&m->jobs_done), atomic_load(&m->jobs_failed), atomic_load(&m->jobs_cancelled));
    put(&b,
        "# HELP toonify_jobs_rejected_total Jobs refused, by reason.\n"
        "# TYPE toonify_jobs_rejected_total counter\n"
        "toonify_jobs_rejected_total{reason=\"queue_full\"} %lu\n"
        "toonify_jobs_rejected_total{reason=\"too_large\"} %lu\n",
        atomic_load(&m->jobs_rejected_full), atomic_load(&m->jobs_rejected_large));
    metric(&b, "toonify_jobs_downgraded_total", "counter",
           "Jobs run at a smaller size than asked so that they fit in memory.",
           (double)atomic_load(&m->jobs_downgraded));
    metric(&b, "toonify_job_run_seconds_total", "counter", "Time spent converting.",
           (double)atomic_load(&m->job_run_us) / 1e6);
    metric(&b, "toonify_job_queue_seconds_total", "counter", "Time jobs waited in the queue.",
           (double)atomic_load(&m->job_queue_us) / 1e6);
    metric(&b, "toonify_result_bytes_total", "counter", "Bytes of results written.",
           (double)atomic_load(&m->result_bytes));
    metric(&b, "toonify_queue_length", "gauge", "Jobs waiting to run.", queued);
    metric(&b, "toonify_queue_capacity", "gauge", "Jobs the queue holds at most.",
           svc->cfg.queue_max);
    metric(&b, "toonify_jobs_running", "gauge", "Jobs converting now.", running);
    metric(&b, "toonify_workers", "gauge", "Conversions that may run at once.", svc->cfg.workers);
    metric(&b, "toonify_memory_rss_bytes", "gauge", "Resident set size of the process.",
           (double)toon_proc_rss());
    metric(&b, "toonify_memory_peak_rss_bytes", "gauge", "Peak resident set size of the process.",
           (double)toon_proc_peak_rss());
    metric(&b, "toonify_memory_limit_bytes", "gauge", "The memory limit the server detected.",
           (double)svc->limit);
    metric(&b, "toonify_memory_baseline_bytes", "gauge",
           "Memory of the idle process (models loaded).", (double)baseline);
    metric(&b, "toonify_memory_reserved_bytes", "gauge",
           "Sum of the planned peaks of the running jobs.", (double)reserved);
    metric(&b, "toonify_heap_bytes", "gauge", "Bytes held by the counting allocator.",
           (double)toon_alloc_current());
    metric(&b, "toonify_models_loaded", "gauge", "Styles loaded.", svc->n_styles);
    metric(&b, "toonify_uptime_seconds", "gauge", "Seconds since the server started.",
           toon_now() - svc->started);
    if (b.bad) {
        toon_free(b.p);
        return 0;
    }
    *out = b.p;
    *len = b.n;
    return 1;
}
