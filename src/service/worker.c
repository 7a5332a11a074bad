/*
 * `toonify worker --redis URL`: runs the jobs that `serve --redis` replicas put in Redis.
 *
 * The process loads the styles and measures its memory like the service (same limit detection,
 * same baseline), then runs `workers` consumer threads of the stream's consumer group.  Each
 * thread takes one entry at a time, either a new one (XREADGROUP) or one whose worker went
 * silent for claim_idle_ms (XAUTOCLAIM: that worker died, the job runs again), and:
 *   - skips it when the job has ended (cancelled, or finished by a worker presumed dead);
 *   - leaves it for a bigger worker when its planned peak exceeds what this process can ever
 *     hold (it stays pending with its idle time set so others can take it at once), and after
 *     note_after_s says so in the job's note;
 *   - otherwise waits until it fits next to this process's running jobs, runs it with the same
 *     engine as the local service, writes the result under a key of its own and ends the job
 *     with one script (the first end wins: a job never has two results), then acknowledges.
 * The main thread registers the process in P:workers (its memory room, for the replicas'
 * admission) and, while jobs run, keeps their entries claimed (XCLAIM resets the idle time), so
 * a live worker's job is never taken over however long a stage lasts; it also carries cancel
 * requests to the running jobs.  On SIGTERM no new job is taken; running ones get grace_s, then
 * are cancelled and handed back.
 */
#include <cJSON.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "core/procmem.h"
#include "service/internal.h"

#define MAX_LEFT 32

struct worker;

struct slot {
    struct worker *w;
    char name[96]; /* consumer name: host-pid-index */
    pthread_t th;
    int started;
    struct toon_redis *r;
    char cursor[64];         /* XAUTOCLAIM's */
    double last_claim;       /* when it last looked for silent workers' entries */
    char left[MAX_LEFT][33]; /* jobs this process cannot hold (their notes are written) */
    int n_left;
    double last_progress;
    /* locked by w->mu: */
    char entry[64];       /* the stream entry being run, "" when none */
    struct toon_job *job; /* the job being run */
    int handed_back;      /* cancelled by a stop: give the job back, do not end it */
};

struct worker {
    struct toon_service *svc;
    volatile int *stop;
    char name[72]; /* host-pid: this process in P:workers */
    char kq[200];  /* the stream */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t reserved;
    int running;
    unsigned long done, failed;
    double last_prune;
    struct slot *slots;
    int n;
};

static size_t room_of(struct worker *w)
{
    return toon_admission_room(w->svc);
}

/* ---- stream entries ---- */

struct entry {
    char id[64];
    char job[33];
};

/* Reads one {job: ID} entry from an entry reply [id, [field, value, ...]]. */
static int parse_entry(const redisReply *e, struct entry *out)
{
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements < 2) return 0;
    const redisReply *id = e->element[0], *f = e->element[1];
    if (id->type != REDIS_REPLY_STRING || id->len >= sizeof out->id) return 0;
    snprintf(out->id, sizeof out->id, "%s", id->str);
    out->job[0] = 0;
    for (size_t i = 0; f->type == REDIS_REPLY_ARRAY && i + 1 < f->elements; i += 2)
        if (f->element[i]->type == REDIS_REPLY_STRING && !strcmp(f->element[i]->str, "job") &&
            f->element[i + 1]->type == REDIS_REPLY_STRING && f->element[i + 1]->len == 32)
            memcpy(out->job, f->element[i + 1]->str, 33);
    return 1;
}

static void ack(struct slot *s, const char *entry)
{
    struct toon_err err;
    toon_redis_do(s->r, &err, "XACK %s workers %s", s->w->kq, entry);
    toon_redis_do(s->r, &err, "XDEL %s %s", s->w->kq, entry);
}

/* Leaves a pending entry claimable by any other worker at once. */
static void leave(struct slot *s, const char *entry)
{
    struct toon_err err;
    toon_redis_do(s->r, &err, "XCLAIM %s workers %s 0 %s IDLE %d JUSTID", s->w->kq, s->name, entry,
                  s->w->svc->cfg.claim_idle_ms);
}

/* The next entry for this thread: a silent worker's first (once per interval), else a new one
 * (blocking up to a second).  0 when there is none. */
static int next_entry(struct slot *s, struct entry *e, int *claimed)
{
    struct worker *w = s->w;
    struct toon_err err = {""};
    double now = toon_now();
    double interval = w->svc->cfg.claim_idle_ms / 4000.0;
    if (interval > 1) interval = 1;
    if (now - s->last_claim >= interval) {
        redisReply *rep =
            toon_redis_cmd(s->r, &err, "XAUTOCLAIM %s workers %s %d %s COUNT 1", w->kq, s->name,
                           w->svc->cfg.claim_idle_ms, s->cursor[0] ? s->cursor : "0-0");
        int got = 0;
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 2) {
            const redisReply *cur = rep->element[0], *list = rep->element[1];
            if (cur->type == REDIS_REPLY_STRING)
                snprintf(s->cursor, sizeof s->cursor, "%s", cur->str);
            if (list->type == REDIS_REPLY_ARRAY && list->elements > 0)
                got = parse_entry(list->element[0], e);
            if (!strcmp(s->cursor, "0-0")) s->last_claim = now; /* a full pass is done */
        } else {
            s->last_claim = now;
        }
        if (rep) freeReplyObject(rep);
        if (got) {
            *claimed = 1;
            return 1;
        }
    }
    if (*w->stop) return 0;
    redisReply *rep = toon_redis_cmd(s->r, &err,
                                     "XREADGROUP GROUP workers %s COUNT 1 BLOCK 1000 "
                                     "STREAMS %s >",
                                     s->name, w->kq);
    if (!rep) {
        if (s->r->last == TOON_STATUS_INTERNAL && strstr(err.msg, "NOGROUP")) {
            toon_redis_do(s->r, NULL, "XGROUP CREATE %s workers 0 MKSTREAM", w->kq);
        } else {
            toon_log(TOON_LOG_WARN, "%s: %s", s->name, err.msg);
            sleep(1); /* Redis is away: try again shortly */
        }
        return 0;
    }
    int got = 0;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 1) {
        const redisReply *stream = rep->element[0];
        if (stream->type == REDIS_REPLY_ARRAY && stream->elements == 2 &&
            stream->element[1]->type == REDIS_REPLY_ARRAY && stream->element[1]->elements > 0)
            got = parse_entry(stream->element[1]->element[0], e);
    }
    freeReplyObject(rep);
    *claimed = 0;
    return got;
}

/* ---- running a job ---- */

static enum toon_status sink_file(void *ctx, const void *data, size_t n)
{
    return fwrite(data, 1, n, ctx) == n ? TOON_STATUS_OK : TOON_STATUS_IO;
}

static void on_progress(void *ctx, double fraction)
{
    struct slot *s = ctx;
    double t = toon_now();
    if (t - s->last_progress < 0.25 && fraction < 1) return;
    s->last_progress = t;
    struct toon_job *j = s->job;
    j->progress = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
    size_t rss = toon_proc_rss();
    if (rss > j->rss_peak) j->rss_peak = rss;
    struct toon_err err;
    int rc = toon_rjob_update(s->w->svc, s->r, j, 0, &err);
    if (rc == 0 || rc == 2) j->cancel = 1; /* ended elsewhere, or cancelled by a client */
}

struct filling {
    uint8_t *buf;
    size_t at;
};

static enum toon_status fill(void *ctx, const void *data, size_t n)
{
    struct filling *f = ctx;
    memcpy(f->buf + f->at, data, n); /* within the length STRLEN gave, checked equal to ours */
    f->at += n;
    return TOON_STATUS_OK;
}

/* Reads the job's input out of Redis into memory (the admission counted its bytes). */
static enum toon_status fetch_input(struct slot *s, const struct toon_job *j, uint8_t **out,
                                    size_t *len, struct toon_err *err)
{
    char k[200];
    toon_rkey(s->w->svc, k, sizeof k, "in", j->id);
    *out = NULL;
    struct filling f = {toon_malloc(j->in_bytes ? j->in_bytes : 1), 0};
    if (!f.buf) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    long long n = (long long)j->in_bytes;
    enum toon_status st = toon_rkey_read(s->r, k, &n, fill, &f, err);
    if (st == TOON_STATUS_NOT_FOUND)
        toon_err_set(err, st, "the uploaded image is no longer in Redis (expired?)");
    if (st != TOON_STATUS_OK) {
        toon_free(f.buf);
        return st;
    }
    *out = f.buf;
    *len = f.at;
    return TOON_STATUS_OK;
}

/* Ends the job in Redis (retrying while Redis is away, unless stopping); 1 if this call ended
 * it. */
static int finish(struct slot *s, struct toon_job *j, const char *result_path, const char *part)
{
    for (int attempt = 0;; attempt++) {
        struct toon_err err = {""};
        enum toon_status st = TOON_STATUS_OK;
        if (result_path) st = toon_rkey_put_file(s->w->svc, s->r, part, result_path, &err);
        int rc = st == TOON_STATUS_OK ? toon_rjob_finish(s->w->svc, s->r, j, part, &err) : -3;
        if (rc == -2 && result_path) continue; /* the part vanished (Redis restarted): again */
        if (rc >= -2) return rc == 1;
        toon_log(TOON_LOG_WARN, "%s: cannot end job %s yet: %s", s->name, j->id, err.msg);
        if (*s->w->stop && attempt > 10) return 0; /* another worker will run it again */
        sleep(1);
    }
}

static void note_waiting(struct slot *s, struct toon_job *j, size_t cost, size_t room)
{
    for (int i = 0; i < s->n_left; i++)
        if (!strcmp(s->left[i], j->id)) return;
    if (toon_now() - j->t_submit < s->w->svc->cfg.note_after_s) return;
    char b1[32], b2[32];
    snprintf(j->note, sizeof j->note,
             "waiting for a worker with room for %s: %.60s has %s (its memory limit is %.60s)",
             toon_mb(cost, b1, sizeof b1), s->w->name, toon_mb(room, b2, sizeof b2),
             s->w->svc->limit_source);
    struct toon_err err;
    if (toon_rjob_update(s->w->svc, s->r, j, 0, &err) < 0) return;
    memcpy(s->left[s->n_left % MAX_LEFT], j->id, 33);
    if (s->n_left < MAX_LEFT) s->n_left++;
    toon_log(TOON_LOG_INFO, "%s: job %s needs %s, more than this worker can hold (%s); left it",
             s->name, j->id, b1, b2);
}

/* Loads the job of an entry; NULL when it is gone or has ended (the entry is then done). */
static struct toon_job *load_job(struct slot *s, const struct entry *e, int claimed)
{
    struct toon_service *svc = s->w->svc;
    struct toon_err err = {""};
    struct toon_job *j = NULL;
    char k[200];
    toon_rkey(svc, k, sizeof k, "job", e->job);
    redisReply *rep = toon_redis_cmd(s->r, &err, "HMGET %s state json attempts", k);
    if (!rep) return NULL; /* Redis away: the entry stays pending and comes back */
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 3 &&
        rep->element[0]->type == REDIS_REPLY_STRING &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        const char *state = rep->element[0]->str;
        if (!strcmp(state, "queued") || !strcmp(state, "running")) {
            cJSON *o = cJSON_ParseWithLength(rep->element[1]->str, rep->element[1]->len);
            j = o ? toon_job_from_json(o, 1, NULL) : NULL;
            cJSON_Delete(o);
            if (j && rep->element[2]->type == REDIS_REPLY_STRING)
                j->attempts = atoi(rep->element[2]->str);
            if (j && claimed && !strcmp(state, "running")) {
                char ks[200];
                toon_rkey(svc, ks, sizeof ks, "stats", NULL);
                toon_redis_do(s->r, NULL, "HINCRBY %s reclaimed 1", ks);
                toon_log(TOON_LOG_INFO, "%s: taking over job %s from %s (silent for %d ms)",
                         s->name, j->id, j->worker[0] ? j->worker : "?", svc->cfg.claim_idle_ms);
            }
        }
    }
    freeReplyObject(rep);
    if (!j) ack(s, e->id); /* ended, expired or unreadable: nothing to run */
    return j;
}

/* A job whose style this worker lacks fails at once. */
static void fail_unknown_style(struct slot *s, const struct entry *e, struct toon_job *j)
{
    char msg[300];
    snprintf(msg, sizeof msg, "worker %s has no style '%s'", s->w->name, j->style_name);
    toon_job_fail(j, TOON_STATUS_INVALID_ARGUMENT, msg);
    j->t_end = toon_now();
    finish(s, j, NULL, NULL);
    ack(s, e->id);
}

/* Waits until the job's cost fits beside this process's other jobs (meanwhile the heartbeat
 * keeps its entry claimed) and reserves it; 0 when the worker is stopping instead. */
static int reserve(struct slot *s, const struct entry *e, struct toon_job *j, int fits, size_t cost)
{
    struct worker *w = s->w;
    pthread_mutex_lock(&w->mu);
    snprintf(s->entry, sizeof s->entry, "%s", e->id);
    s->job = j;
    s->handed_back = 0;
    while (fits && w->running > 0 && w->reserved + cost > room_of(w) && !*w->stop)
        pthread_cond_wait(&w->cv, &w->mu);
    if (*w->stop) {
        s->entry[0] = 0;
        s->job = NULL;
        pthread_mutex_unlock(&w->mu);
        return 0;
    }
    w->reserved += cost;
    w->running++;
    pthread_mutex_unlock(&w->mu);
    return 1;
}

/* Gives the reservation back; the last job out records the idle process's size. */
static void release(struct slot *s, size_t cost)
{
    struct worker *w = s->w;
    struct toon_service *svc = w->svc;
    pthread_mutex_lock(&w->mu);
    s->job = NULL;
    s->entry[0] = 0;
    w->reserved -= cost;
    w->running--;
    if (w->running == 0) {
        malloc_trim(0);
        size_t idle = toon_proc_rss() + TOON_LIBRARY_MARGIN;
        pthread_mutex_lock(&svc->mu);
        if (idle > svc->baseline) svc->baseline = idle;
        pthread_mutex_unlock(&svc->mu);
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Converts the input into the file tmp. */
static enum toon_status convert_to(struct slot *s, struct toon_job *j, const struct toon_model *m,
                                   const uint8_t *in, size_t in_len, const char *tmp,
                                   struct toon_err *err)
{
    FILE *f = fopen(tmp, "wb");
    if (!f) return toon_job_write_error(errno, "the result", err);
    struct toon_convert_params cp = j->params.cp;
    cp.progress = on_progress;
    cp.progress_ctx = s;
    cp.cancel = &j->cancel;
    struct toon_convert_report rep;
    memset(&rep, 0, sizeof rep);
    s->last_progress = 0;
    enum toon_status st = toon_convert(m, in, in_len, &cp, sink_file, f, &rep, err);
    if (fclose(f) != 0 && st == TOON_STATUS_OK) st = toon_job_write_error(errno, "the result", err);
    toon_job_take_report(j, &rep);
    return st;
}

/* Publishes a job that ended here: its result (from tmp) or its failure. */
static void publish(struct slot *s, struct toon_job *j, enum toon_status st, const char *tmp,
                    const struct toon_err *err)
{
    struct worker *w = s->w;
    j->t_end = toon_now();
    if (st != TOON_STATUS_OK) {
        toon_job_fail(j, st, err->msg);
        finish(s, j, NULL, NULL);
        w->failed++;
        if (st != TOON_STATUS_CANCELLED)
            toon_log(TOON_LOG_WARN, "%s: job %s failed: %s", s->name, j->id, err->msg);
        return;
    }
    j->state = TOON_JOB_DONE;
    j->progress = 1;
    /* Results are named by job, so a job run twice still has one name. */
    snprintf(j->out_name, sizeof j->out_name, "toonify_%s.%s", j->id,
             toon_format_ext(j->params.cp.format));
    struct stat sb;
    j->out_bytes = stat(tmp, &sb) == 0 ? (size_t)sb.st_size : 0;
    char part[300];
    toon_rkey(w->svc, part, sizeof part, "part", j->id);
    size_t pl = strlen(part);
    snprintf(part + pl, sizeof part - pl, ":%.100s", s->name);
    if (finish(s, j, tmp, part)) {
        w->done++;
        toon_log(TOON_LOG_INFO, "%s: job %s done in %.2f s", s->name, j->id, j->t_end - j->t_start);
    } else {
        toon_log(TOON_LOG_INFO, "%s: job %s had ended already; result dropped", s->name, j->id);
    }
}

/* What became of a claimed entry: acknowledged (the job ended, here or elsewhere), left
 * pending for another worker, or left pending because Redis went away. */
enum entry_outcome { ENTRY_ACK, ENTRY_LEFT, ENTRY_REDIS_AWAY };

/* Runs a reserved job whose record says it is running here: fetches the input, converts it
 * into tmp (a path of this worker's), publishes the result unless the worker was stopped
 * meanwhile. */
static enum entry_outcome run_job(struct slot *s, const struct entry *e, struct toon_job *j,
                                  enum toon_status st, char *tmp, size_t tmp_size,
                                  struct toon_err *err)
{
    struct worker *w = s->w;
    struct toon_service *svc = w->svc;
    uint8_t *in = NULL;
    size_t in_len = 0;
    if (st == TOON_STATUS_OK) st = fetch_input(s, j, &in, &in_len, err);
    if (st == TOON_STATUS_UNAVAILABLE) return ENTRY_REDIS_AWAY;
    snprintf(tmp, tmp_size, "%s/%.100s-%s.part", svc->work, s->name, j->id);
    if (st == TOON_STATUS_OK)
        st = convert_to(s, j, svc->styles[j->style].model, in, in_len, tmp, err);
    toon_free(in);
    size_t rss = toon_proc_rss();
    if (rss > j->rss_peak) j->rss_peak = rss;
    pthread_mutex_lock(&w->mu);
    int handed_back = s->handed_back;
    pthread_mutex_unlock(&w->mu);
    if (handed_back) { /* stopped before it ended: another worker runs it */
        j->state = TOON_JOB_QUEUED;
        j->progress = 0;
        snprintf(j->note, sizeof j->note,
                 "worker %.60s stopped while running it; waiting for another worker", s->name);
        toon_rjob_update(svc, s->r, j, 0, err);
        leave(s, e->id);
        return ENTRY_LEFT;
    }
    publish(s, j, st, tmp, err);
    return ENTRY_ACK;
}

static void run_entry(struct slot *s, const struct entry *e, int claimed)
{
    struct worker *w = s->w;
    struct toon_service *svc = w->svc;
    struct toon_job *j = load_job(s, e, claimed);
    if (!j) return;
    struct toon_err err = {""};
    j->style = toon_style_find(svc, j->style_name);
    if (j->style < 0) {
        fail_unknown_style(s, e, j);
        toon_job_free(j);
        return;
    }
    toon_job_bind_style(svc, j);
    size_t cost = 0, plan = 0;
    enum toon_status st =
        toon_admission_cost(svc, svc->styles[j->style].model, &j->info, &j->params.cp, j->in_bytes,
                            &j->out_w, &j->out_h, &plan, &cost, &err);
    size_t room = room_of(w);
    if (st == TOON_STATUS_OK && cost > room) {
        leave(s, e->id);
        note_waiting(s, j, cost, room);
        toon_job_free(j);
        return;
    }
    if (!reserve(s, e, j, st == TOON_STATUS_OK, cost)) {
        leave(s, e->id);
        toon_job_free(j);
        return;
    }
    j->cost_bytes = cost;
    j->plan_bytes = plan;
    j->state = TOON_JOB_RUNNING;
    j->t_start = toon_now();
    j->progress = 0;
    j->rss_peak = 0;
    snprintf(j->worker, sizeof j->worker, "%.90s", s->name);
    int rc = st == TOON_STATUS_OK ? toon_rjob_update(svc, s->r, j, 1, &err) : 1;
    j->attempts++;
    if (rc == 2) j->cancel = 1;
    char tmp[4400] = "";
    enum entry_outcome o = rc == 0  ? ENTRY_ACK /* it ended elsewhere */
                           : rc < 0 ? ENTRY_REDIS_AWAY
                                    : run_job(s, e, j, st, tmp, sizeof tmp, &err);
    if (o == ENTRY_ACK) ack(s, e->id);
    /* Else the entry stays pending: this worker's claim lapses and the job runs again. */
    if (o == ENTRY_REDIS_AWAY) toon_log(TOON_LOG_WARN, "%s: job %s: %s", s->name, j->id, err.msg);
    if (tmp[0]) unlink(tmp);
    release(s, cost);
    toon_job_free(j);
}

static void *slot_main(void *arg)
{
    struct slot *s = arg;
    toon_set_threads(s->w->svc->threads_per_worker);
    while (!*s->w->stop) {
        struct entry e;
        int claimed = 0;
        if (next_entry(s, &e, &claimed)) run_entry(s, &e, claimed);
    }
    return NULL;
}

/* ---- the main thread: registration, claims, cancels, stop ---- */

/* Removes the registrations of workers gone for good (killed: they could not say goodbye). */
static void prune(struct worker *w, struct toon_redis *r, const char *kw)
{
    struct toon_err err;
    redisReply *rep = toon_redis_cmd(r, &err, "HGETALL %s", kw);
    double now = toon_now();
    for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2) {
        const redisReply *k = rep->element[i], *v = rep->element[i + 1];
        if (k->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING) continue;
        cJSON *o = cJSON_ParseWithLength(v->str, v->len);
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(o, "seen");
        if (!cJSON_IsNumber(seen) || now - seen->valuedouble > 4 * TOON_WORKER_STALE_S) {
            toon_redis_do(r, &err, "HDEL %s %b", kw, k->str, k->len);
            toon_log(TOON_LOG_INFO, "%s: removed the registration of %s, silent for good", w->name,
                     k->str);
        }
        cJSON_Delete(o);
    }
    if (rep) freeReplyObject(rep);
}

static void heartbeat(struct worker *w, struct toon_redis *r)
{
    struct toon_service *svc = w->svc;
    struct toon_err err = {""};
    char kw[200];
    toon_rkey(svc, kw, sizeof kw, "workers", NULL);
    pthread_mutex_lock(&w->mu);
    int running = w->running;
    size_t reserved = w->reserved;
    unsigned long done = w->done, failed = w->failed;
    pthread_mutex_unlock(&w->mu);
    cJSON *o = cJSON_CreateObject();
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    cJSON_AddStringToObject(o, "name", w->name);
    cJSON_AddStringToObject(o, "host", host);
    cJSON_AddNumberToObject(o, "pid", getpid());
    cJSON_AddNumberToObject(o, "room_bytes", (double)room_of(w));
    cJSON_AddNumberToObject(o, "limit_bytes", (double)svc->limit);
    cJSON_AddStringToObject(o, "limit_source", svc->limit_source);
    cJSON_AddNumberToObject(o, "rss_bytes", (double)toon_proc_rss());
    cJSON_AddNumberToObject(o, "reserved_bytes", (double)reserved);
    cJSON_AddNumberToObject(o, "consumers", w->n);
    cJSON_AddNumberToObject(o, "threads_per_job", svc->threads_per_worker);
    cJSON_AddNumberToObject(o, "running", running);
    cJSON_AddNumberToObject(o, "done", (double)done);
    cJSON_AddNumberToObject(o, "failed", (double)failed);
    cJSON_AddNumberToObject(o, "seen", toon_now());
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (text) {
        toon_redis_do(r, &err, "HSET %s %s %s", kw, w->name, text);
        toon_free(text);
    }
    if (toon_now() - w->last_prune > TOON_WORKER_STALE_S) {
        prune(w, r, kw);
        w->last_prune = toon_now();
    }
    /* Keep the running jobs' entries claimed, and carry cancel requests to them. */
    for (int i = 0; i < w->n; i++) {
        struct slot *s = &w->slots[i];
        char entry[64], id[33] = "";
        pthread_mutex_lock(&w->mu);
        snprintf(entry, sizeof entry, "%s", s->entry);
        if (s->job) memcpy(id, s->job->id, 33);
        pthread_mutex_unlock(&w->mu);
        if (!entry[0]) continue;
        toon_redis_do(r, &err, "XCLAIM %s workers %s 0 %s JUSTID", w->kq, s->name, entry);
        char kj[200];
        toon_rkey(svc, kj, sizeof kj, "job", id);
        redisReply *rep = toon_redis_cmd(r, &err, "HGET %s cancel", kj);
        int cancel = rep && rep->type == REDIS_REPLY_STRING && !strcmp(rep->str, "1");
        if (rep) freeReplyObject(rep);
        pthread_mutex_lock(&w->mu);
        if (cancel && s->job && !strcmp(s->job->id, id)) s->job->cancel = 1;
        pthread_mutex_unlock(&w->mu);
    }
}

enum toon_status toon_worker_run(const struct toon_service_config *cfg, volatile int *stop,
                                 struct toon_err *err)
{
    if (!cfg->redis_url)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "a worker needs --redis URL");
    struct toon_service *svc = NULL;
    enum toon_status st = toon_service_new(cfg, &svc, err);
    if (st != TOON_STATUS_OK) return st;
    if (svc->n_styles == 0) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "%s", svc->model_error);
        toon_service_free(svc);
        return st;
    }
    st = toon_rjobs_init(svc, err);
    struct toon_redis *r = NULL;
    if (st == TOON_STATUS_OK) st = toon_redis_open(&svc->rurl, &r, err);
    if (st != TOON_STATUS_OK) {
        toon_service_free(svc);
        return st;
    }
    struct worker w;
    memset(&w, 0, sizeof w);
    w.svc = svc;
    w.stop = stop;
    char host[64] = "";
    gethostname(host, sizeof host - 1);
    snprintf(w.name, sizeof w.name, "%.60s-%d", host, (int)getpid());
    toon_rkey(svc, w.kq, sizeof w.kq, "queue", NULL);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    w.n = svc->cfg.workers;
    w.slots = toon_calloc((size_t)w.n, sizeof *w.slots);
    if (!w.slots) st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    /* The consumer threads leave signals to this one. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (int i = 0; st == TOON_STATUS_OK && i < w.n; i++) {
        struct slot *s = &w.slots[i];
        s->w = &w;
        snprintf(s->name, sizeof s->name, "%.72s-%d", w.name, i);
        st = toon_redis_open(&svc->rurl, &s->r, err);
        if (st == TOON_STATUS_OK && pthread_create(&s->th, NULL, slot_main, s) != 0)
            st = toon_err_set(err, TOON_STATUS_INTERNAL, "cannot start worker threads");
        s->started = st == TOON_STATUS_OK;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    char b1[32];
    if (st == TOON_STATUS_OK)
        toon_log(TOON_LOG_INFO,
                 "worker %s: %d consumer(s), %d thread(s) each, room for %s per job (limit: %s)",
                 w.name, w.n, svc->threads_per_worker, toon_mb(room_of(&w), b1, sizeof b1),
                 svc->limit_source);
    /* Heartbeats three times per claim timeout, at least once a second. */
    int beat_ms = svc->cfg.claim_idle_ms / 3 < 1000 ? svc->cfg.claim_idle_ms / 3 : 1000;
    double last = 0;
    while (st == TOON_STATUS_OK && !*stop) {
        if (toon_now() - last >= beat_ms / 1000.0) {
            heartbeat(&w, r);
            last = toon_now();
        }
        usleep(50 * 1000);
    }
    /* Stop: no new jobs (the threads see *stop); running ones get grace_s. */
    double until = toon_now() + svc->cfg.grace_s;
    for (;;) {
        pthread_mutex_lock(&w.mu);
        int running = w.running;
        pthread_mutex_unlock(&w.mu);
        if (!running) break;
        if (toon_now() >= until) {
            pthread_mutex_lock(&w.mu);
            for (int i = 0; i < w.n; i++)
                if (w.slots[i].job) {
                    w.slots[i].handed_back = 1;
                    w.slots[i].job->cancel = 1;
                }
            pthread_mutex_unlock(&w.mu);
        }
        heartbeat(&w, r);
        usleep(100 * 1000);
    }
    for (int i = 0; i < w.n; i++) {
        if (w.slots[i].started) pthread_join(w.slots[i].th, NULL);
        toon_redis_close(w.slots[i].r);
    }
    char kw[200];
    toon_rkey(svc, kw, sizeof kw, "workers", NULL);
    toon_redis_do(r, NULL, "HDEL %s %s", kw, w.name);
    toon_redis_close(r);
    toon_free(w.slots);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    toon_service_free(svc);
    return st;
}
