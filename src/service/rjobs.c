/*
 * Jobs kept in Redis (`serve --redis`, `worker --redis`): the service's replicas and the workers
 * share them there, so any replica answers for any job and any worker runs any job.
 *
 * Keys (P = the URL's prefix, default "toonify"):
 *   P:queue          stream of {job: ID}, consumer group "workers"; an entry is acknowledged
 *                    and deleted when its job has ended, so the stream is the work not yet done
 *   P:job:ID         hash: state, json (the job as GET /api/v1/jobs/ID answers), cancel
 *   P:in:ID          the uploaded image, deleted when the job ends
 *   P:out:ID         the result; P:part:ID:WORKER while a worker writes it
 *   P:index          sorted set of job ids by submission time (listing, history)
 *   P:batch:ID       list of a batch's job ids, in order
 *   P:workers        hash worker -> JSON (memory room, last seen), for admission and status
 *   P:stats          hash of counters: done, failed, cancelled, reclaimed
 * Job, input, result and batch keys expire `result_ttl` seconds after they were last written.
 *
 * Every change of a job's state goes through a Lua script that first checks the state, so an
 * ended job never changes again: a worker that was presumed dead and comes back cannot
 * overwrite the result or state another worker wrote (a job never has two results).
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "service/internal.h"

/* Bytes moved per command when an image goes in or out of Redis: bounds the memory a transfer
 * needs (hiredis copies each command's arguments once). */
#define CHUNK ((size_t)1 << 20)

void toon_rkey(const struct toon_service *svc, char *buf, size_t len, const char *kind,
               const char *id)
{
    if (id)
        snprintf(buf, len, "%s:%s:%s", svc->rurl.prefix, kind, id);
    else
        snprintf(buf, len, "%s:%s", svc->rurl.prefix, kind);
}

/* ---- the state-changing scripts ---- */

/* KEYS: job.  ARGV: state, json, worker, start (1: one more attempt).  Returns 0 when the job
 * has ended (or expired) and must not change, 1 when updated, 2 when updated and a cancel was
 * asked for. */
static const char script_update[] =
    "local s = redis.call('HGET', KEYS[1], 'state')\n"
    "if not s or s == 'done' or s == 'failed' or s == 'cancelled' then return 0 end\n"
    "redis.call('HSET', KEYS[1], 'state', ARGV[1], 'json', ARGV[2], 'worker', ARGV[3])\n"
    "if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', 1) end\n"
    "if redis.call('HGET', KEYS[1], 'cancel') == '1' then return 2 end\n"
    "return 1\n";

/* KEYS: job, part, out, in, stats.  ARGV: state (done, failed, cancelled), json, ttl.  Returns
 * 1 when this call ended the job, 0 when it had ended already, -1 when it expired, -2 when a
 * done job's result is missing. */
static const char script_finish[] =
    "local s = redis.call('HGET', KEYS[1], 'state')\n"
    "if not s then redis.call('DEL', KEYS[2]) return -1 end\n"
    "if s == 'done' or s == 'failed' or s == 'cancelled' then\n"
    "  redis.call('DEL', KEYS[2]) return 0 end\n"
    "if ARGV[1] == 'done' then\n"
    "  if redis.call('EXISTS', KEYS[2]) == 0 then return -2 end\n"
    "  redis.call('RENAME', KEYS[2], KEYS[3])\n"
    "  redis.call('EXPIRE', KEYS[3], ARGV[3])\n"
    "else redis.call('DEL', KEYS[2]) end\n"
    "redis.call('HSET', KEYS[1], 'state', ARGV[1], 'json', ARGV[2])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
    "redis.call('DEL', KEYS[4])\n"
    "redis.call('HINCRBY', KEYS[5], ARGV[1], 1)\n"
    "return 1\n";

/* KEYS: job, in, stats.  ARGV: json of the cancelled job.  A queued job ends now (1); a running
 * one is flagged for its worker (2); an ended one is left alone (0). */
static const char script_cancel[] =
    "local s = redis.call('HGET', KEYS[1], 'state')\n"
    "if s == 'queued' then\n"
    "  redis.call('HSET', KEYS[1], 'state', 'cancelled', 'json', ARGV[1])\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  redis.call('HINCRBY', KEYS[3], 'cancelled', 1)\n"
    "  return 1 end\n"
    "if s == 'running' then redis.call('HSET', KEYS[1], 'cancel', '1') return 2 end\n"
    "return 0\n";

static char *job_text(const struct toon_service *svc, const struct toon_job *j)
{
    cJSON *o = toon_job_json(svc, j);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return text;
}

static long long int_reply(redisReply *rep)
{
    long long v = rep && rep->type == REDIS_REPLY_INTEGER ? rep->integer : -100;
    if (rep) freeReplyObject(rep);
    return v;
}

int toon_rjob_update(struct toon_service *svc, struct toon_redis *r, const struct toon_job *j,
                     int start, struct toon_err *err)
{
    char k[200];
    toon_rkey(svc, k, sizeof k, "job", j->id);
    char *text = job_text(svc, j);
    if (!text) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory"), -1;
    redisReply *rep =
        toon_redis_cmd(r, err, "EVAL %s 1 %s %s %s %s %s", script_update, k,
                       toon_job_state_name(j->state), text, j->worker, start ? "1" : "0");
    toon_free(text);
    if (!rep) return -1;
    long long v = int_reply(rep);
    return v >= 0 && v <= 2 ? (int)v : -1;
}

int toon_rjob_finish(struct toon_service *svc, struct toon_redis *r, const struct toon_job *j,
                     const char *part, struct toon_err *err)
{
    char kj[200], kp[300], ko[200], ki[200], ks[200], ttl[24];
    toon_rkey(svc, kj, sizeof kj, "job", j->id);
    toon_rkey(svc, ko, sizeof ko, "out", j->id);
    toon_rkey(svc, ki, sizeof ki, "in", j->id);
    toon_rkey(svc, ks, sizeof ks, "stats", NULL);
    snprintf(kp, sizeof kp, "%s", part ? part : "-");
    snprintf(ttl, sizeof ttl, "%d", svc->cfg.result_ttl_s);
    char *text = job_text(svc, j);
    if (!text) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory"), -3;
    redisReply *rep = toon_redis_cmd(r, err, "EVAL %s 5 %s %s %s %s %s %s %s %s", script_finish, kj,
                                     kp, ko, ki, ks, toon_job_state_name(j->state), text, ttl);
    toon_free(text);
    if (!rep) return -3;
    long long v = int_reply(rep);
    return v >= -2 && v <= 1 ? (int)v : -3;
}

/* ---- loading ---- */

/* Reads a job record into a new job (refs 1); *out is NULL when there is no such job. */
static enum toon_status load(struct toon_service *svc, struct toon_redis *r, const char *id,
                             struct toon_job **out, struct toon_err *err)
{
    *out = NULL;
    char k[200];
    toon_rkey(svc, k, sizeof k, "job", id);
    redisReply *rep = toon_redis_cmd(r, err, "HMGET %s state json attempts worker", k);
    if (!rep) return r->last;
    enum toon_status st = TOON_STATUS_OK;
    if (rep->type == REDIS_REPLY_ARRAY && rep->elements == 4 &&
        rep->element[1]->type == REDIS_REPLY_STRING) {
        cJSON *o = cJSON_ParseWithLength(rep->element[1]->str, rep->element[1]->len);
        struct toon_err why = {"not JSON"};
        struct toon_job *j = o ? toon_job_from_json(o, 1, &why) : NULL;
        cJSON_Delete(o);
        if (!j) {
            st = toon_err_set(err, TOON_STATUS_CORRUPT, "the record of job %.40s is unreadable: %s",
                              id, why.msg);
        } else {
            const redisReply *s = rep->element[0], *a = rep->element[2], *w = rep->element[3];
            if (s->type == REDIS_REPLY_STRING)
                for (int i = TOON_JOB_QUEUED; i <= TOON_JOB_CANCELLED; i++)
                    if (strcmp(s->str, toon_job_state_name((enum toon_job_state)i)) == 0)
                        j->state = (enum toon_job_state)i;
            if (a->type == REDIS_REPLY_STRING) j->attempts = atoi(a->str);
            if (w->type == REDIS_REPLY_STRING) snprintf(j->worker, sizeof j->worker, "%s", w->str);
            *out = j;
        }
    }
    freeReplyObject(rep);
    return st;
}

enum toon_status toon_rjobs_find(struct toon_service *svc, const char *id, struct toon_job **out,
                                 struct toon_err *err)
{
    *out = NULL;
    if (!toon_job_id_valid(id)) return TOON_STATUS_OK;
    struct toon_redis *r;
    enum toon_status st = toon_redis_get(&svc->pool, &r, err);
    if (st != TOON_STATUS_OK) return st;
    st = load(svc, r, id, out, err);
    toon_redis_put(&svc->pool, r);
    return st;
}

/* Copies a fresh reading of a job into the one the caller holds. */
static void refresh(struct toon_job *dst, const struct toon_job *src)
{
    int refs = dst->refs;
    *dst = *src;
    dst->refs = refs;
    dst->next = NULL;
    dst->in_path[0] = 0;
}

int toon_rjobs_wait(struct toon_service *svc, struct toon_job *j, int timeout_s)
{
    double until = toon_now() + timeout_s;
    for (;;) {
        struct toon_job *f = NULL;
        struct toon_err err;
        if (toon_rjobs_find(svc, j->id, &f, &err) == TOON_STATUS_OK && f) {
            refresh(j, f);
            toon_job_free(f);
        }
        if (toon_job_ended(j->state)) return 1;
        if (toon_now() >= until) return 0;
        usleep(200 * 1000);
    }
}

enum toon_job_state toon_rjobs_cancel(struct toon_service *svc, struct toon_job *j)
{
    struct toon_redis *r;
    struct toon_err err;
    if (toon_redis_get(&svc->pool, &r, &err) != TOON_STATUS_OK) return j->state;
    struct toon_job c = *j;
    toon_job_fail(&c, TOON_STATUS_CANCELLED, "cancelled by the client");
    c.t_end = toon_now();
    char kj[200], ki[200], ks[200];
    toon_rkey(svc, kj, sizeof kj, "job", j->id);
    toon_rkey(svc, ki, sizeof ki, "in", j->id);
    toon_rkey(svc, ks, sizeof ks, "stats", NULL);
    char *text = job_text(svc, &c);
    if (text) {
        redisReply *rep =
            toon_redis_cmd(r, &err, "EVAL %s 3 %s %s %s %s", script_cancel, kj, ki, ks, text);
        if (rep) freeReplyObject(rep);
        toon_free(text);
    }
    struct toon_job *f = NULL;
    if (load(svc, r, j->id, &f, &err) == TOON_STATUS_OK && f) {
        refresh(j, f);
        toon_job_free(f);
    }
    toon_redis_put(&svc->pool, r);
    return j->state;
}

/* ---- submitting ---- */

enum toon_status toon_rkey_put_file(struct toon_service *svc, struct toon_redis *r, const char *key,
                                    const char *path, struct toon_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return toon_err_set(err, TOON_STATUS_IO, "cannot read %s: %s", path, strerror(errno));
    uint8_t *buf = toon_malloc(CHUNK);
    enum toon_status st = buf ? toon_redis_do(r, err, "DEL %s", key)
                              : toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    size_t n;
    while (st == TOON_STATUS_OK && (n = fread(buf, 1, CHUNK, f)) > 0)
        st = toon_redis_do(r, err, "APPEND %s %b", key, buf, n);
    if (st == TOON_STATUS_OK && ferror(f))
        st = toon_err_set(err, TOON_STATUS_IO, "cannot read %s", path);
    if (st == TOON_STATUS_OK)
        st = toon_redis_do(r, err, "EXPIRE %s %d", key, svc->cfg.result_ttl_s);
    fclose(f);
    toon_free(buf);
    return st;
}

enum toon_status toon_rkey_read(struct toon_redis *r, const char *key, long long *len,
                                enum toon_status (*fn)(void *ctx, const void *data, size_t n),
                                void *ctx, struct toon_err *err)
{
    redisReply *rep = toon_redis_cmd(r, err, "STRLEN %s", key);
    if (!rep) return r->last;
    long long n = rep->type == REDIS_REPLY_INTEGER ? rep->integer : 0;
    freeReplyObject(rep);
    if (*len >= 0 && n != *len) n = 0; /* not what was expected: as good as gone */
    *len = n;
    if (n <= 0) return toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s is no longer in Redis", key);
    enum toon_status st = TOON_STATUS_OK;
    for (long long off = 0; st == TOON_STATUS_OK && off < n; off += (long long)CHUNK) {
        long long end = off + (long long)CHUNK < n ? off + (long long)CHUNK : n;
        rep = toon_redis_cmd(r, err, "GETRANGE %s %lld %lld", key, off, end - 1);
        if (!rep) return r->last;
        if (rep->type != REDIS_REPLY_STRING || (long long)rep->len != end - off)
            st = toon_err_set(err, TOON_STATUS_NOT_FOUND, "%s changed or expired while read", key);
        else
            st = fn(ctx, rep->str, rep->len);
        freeReplyObject(rep);
    }
    return st;
}

/* Queues the commands of one job's record inside MULTI. */
static enum toon_status record_job(struct toon_service *svc, struct toon_redis *r,
                                   const struct toon_job *j, struct toon_err *err)
{
    char kj[200], kq[200], kx[200], kb[200];
    toon_rkey(svc, kj, sizeof kj, "job", j->id);
    toon_rkey(svc, kq, sizeof kq, "queue", NULL);
    toon_rkey(svc, kx, sizeof kx, "index", NULL);
    char *text = job_text(svc, j);
    if (!text) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    enum toon_status st = toon_redis_do(r, err, "HSET %s state %s json %s cancel 0", kj,
                                        toon_job_state_name(j->state), text);
    toon_free(text);
    if (st == TOON_STATUS_OK) st = toon_redis_do(r, err, "EXPIRE %s %d", kj, svc->cfg.result_ttl_s);
    if (st == TOON_STATUS_OK && j->state == TOON_JOB_QUEUED)
        st = toon_redis_do(r, err, "XADD %s * job %s", kq, j->id);
    char score[32];
    snprintf(score, sizeof score, "%.6f", j->t_submit);
    if (st == TOON_STATUS_OK) st = toon_redis_do(r, err, "ZADD %s %s %s", kx, score, j->id);
    if (st == TOON_STATUS_OK && j->batch[0]) {
        toon_rkey(svc, kb, sizeof kb, "batch", j->batch);
        st = toon_redis_do(r, err, "RPUSH %s %s", kb, j->id);
        if (st == TOON_STATUS_OK)
            st = toon_redis_do(r, err, "EXPIRE %s %d", kb, svc->cfg.result_ttl_s);
    }
    return st;
}

/* Jobs are refused while no worker is alive (503 with Retry-After), rather than left waiting in
 * the queue: a synchronous /cartoonize would otherwise wait its whole timeout for a 504. */
static int no_worker(struct toon_service *svc, struct toon_err *err)
{
    if (toon_rjobs_live_workers(svc, err) != 0) return 0; /* some, or Redis will say below */
    toon_err_set(err, TOON_STATUS_UNAVAILABLE,
                 "no worker is alive to run the job (none seen in the last %.0f s); retry when "
                 "one is started",
                 TOON_WORKER_STALE_S);
    return 1;
}

enum toon_status toon_rjobs_submit(struct toon_service *svc, struct toon_job **jobs, int n,
                                   struct toon_err *err)
{
    struct toon_redis *r = NULL;
    int runnable = 0;
    for (int i = 0; i < n; i++) runnable += jobs[i]->state == TOON_JOB_QUEUED;
    enum toon_status st = toon_redis_get(&svc->pool, &r, err);
    if (st == TOON_STATUS_OK && runnable && no_worker(svc, err)) {
        toon_redis_put(&svc->pool, r);
        for (int i = 0; i < n; i++) {
            toon_job_free(jobs[i]);
            jobs[i] = NULL;
        }
        return TOON_STATUS_UNAVAILABLE;
    }
    char kq[200], kx[200];
    toon_rkey(svc, kq, sizeof kq, "queue", NULL);
    toon_rkey(svc, kx, sizeof kx, "index", NULL);
    if (st == TOON_STATUS_OK) {
        redisReply *rep = toon_redis_cmd(r, err, "XLEN %s", kq);
        long long waiting = rep ? int_reply(rep) : -1;
        if (waiting < 0) {
            st = r->last == TOON_STATUS_OK ? TOON_STATUS_INTERNAL : r->last;
        } else if (waiting + runnable > svc->cfg.queue_max) {
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY,
                              "the queue is full (%lld jobs waiting or running, room for %d); "
                              "retry in a few seconds",
                              waiting, svc->cfg.queue_max);
            atomic_fetch_add(&svc->metrics.jobs_rejected_full, (unsigned long)runnable);
        }
    }
    /* The inputs first, outside the transaction: they expire if the jobs never get recorded. */
    for (int i = 0; st == TOON_STATUS_OK && i < n; i++) {
        if (jobs[i]->state != TOON_JOB_QUEUED) continue;
        char k[200];
        toon_rkey(svc, k, sizeof k, "in", jobs[i]->id);
        st = toon_rkey_put_file(svc, r, k, jobs[i]->in_path, err);
    }
    /* Then every record and queue entry at once: all the jobs are accepted, or none. */
    if (st == TOON_STATUS_OK) st = toon_redis_do(r, err, "MULTI");
    for (int i = 0; st == TOON_STATUS_OK && i < n; i++) st = record_job(svc, r, jobs[i], err);
    if (st == TOON_STATUS_OK) {
        redisReply *rep = toon_redis_cmd(r, err, "EXEC");
        if (!rep || rep->type != REDIS_REPLY_ARRAY)
            st = toon_err_set(err, r->last == TOON_STATUS_OK ? TOON_STATUS_INTERNAL : r->last,
                              "Redis did not record the jobs");
        for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i++)
            if (rep->element[i]->type == REDIS_REPLY_ERROR)
                st = toon_err_set(err, TOON_STATUS_INTERNAL, "Redis: %.300s", rep->element[i]->str);
        if (rep) freeReplyObject(rep);
    } else if (r && r->c) {
        toon_redis_do(r, NULL, "DISCARD");
    }
    if (st == TOON_STATUS_OK) {
        char old[32];
        snprintf(old, sizeof old, "%.0f", toon_now() - svc->cfg.result_ttl_s);
        toon_redis_do(r, NULL, "ZREMRANGEBYSCORE %s -inf %s", kx, old);
    }
    toon_redis_put(&svc->pool, r);
    if (st == TOON_STATUS_UNAVAILABLE)
        toon_err_set(err, st, "the job store (Redis) is unreachable; retry in a few seconds");
    for (int i = 0; i < n; i++) {
        struct toon_job *j = jobs[i];
        if (j->in_path[0]) unlink(j->in_path);
        j->in_path[0] = 0;
        if (st != TOON_STATUS_OK) {
            toon_job_free(j);
            jobs[i] = NULL;
            continue;
        }
        atomic_fetch_add(&svc->metrics.jobs_submitted, 1);
        toon_job_release(svc, j); /* the reference a local table would have kept */
    }
    return st;
}

/* ---- reading many ---- */

/* Loads the jobs named in an array reply, in order, skipping expired ones. */
static int load_many(struct toon_service *svc, struct toon_redis *r, const redisReply *ids,
                     struct toon_job ***out, struct toon_err *err)
{
    *out = NULL;
    if (!ids || ids->type != REDIS_REPLY_ARRAY || ids->elements == 0) return 0;
    struct toon_job **list = toon_calloc(ids->elements, sizeof *list);
    if (!list) return -1;
    int n = 0;
    for (size_t i = 0; i < ids->elements; i++) {
        const redisReply *e = ids->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len != 32) continue;
        struct toon_job *j = NULL;
        if (load(svc, r, e->str, &j, err) != TOON_STATUS_OK && r->last != TOON_STATUS_OK) {
            for (int k = 0; k < n; k++) toon_job_free(list[k]);
            toon_free(list);
            return -1;
        }
        if (j) list[n++] = j;
    }
    *out = list;
    return n;
}

int toon_rjobs_batch(struct toon_service *svc, const char *id, struct toon_job ***out,
                     struct toon_err *err)
{
    *out = NULL;
    if (!toon_job_id_valid(id)) return 0;
    struct toon_redis *r;
    if (toon_redis_get(&svc->pool, &r, err) != TOON_STATUS_OK) return -1;
    char k[200];
    toon_rkey(svc, k, sizeof k, "batch", id);
    redisReply *rep = toon_redis_cmd(r, err, "LRANGE %s 0 -1", k);
    int n = rep ? load_many(svc, r, rep, out, err) : -1;
    if (rep) freeReplyObject(rep);
    toon_redis_put(&svc->pool, r);
    for (int i = 0; i < n; i++) (*out)[i]->index = i;
    return n;
}

cJSON *toon_rjobs_list(struct toon_service *svc, int done_only, int limit, struct toon_err *err)
{
    struct toon_redis *r;
    if (toon_redis_get(&svc->pool, &r, err) != TOON_STATUS_OK) return NULL;
    char k[200];
    toon_rkey(svc, k, sizeof k, "index", NULL);
    /* Finished jobs are most of the index; read a few more than asked when filtering. */
    redisReply *rep =
        toon_redis_cmd(r, err, "ZREVRANGE %s 0 %d", k, (done_only ? limit * 2 + 20 : limit) - 1);
    struct toon_job **list = NULL;
    int n = rep ? load_many(svc, r, rep, &list, err) : -1;
    if (rep) freeReplyObject(rep);
    toon_redis_put(&svc->pool, r);
    if (n < 0) return NULL;
    cJSON *arr = cJSON_CreateArray();
    int added = 0;
    for (int i = 0; i < n; i++) {
        if (arr && added < limit && (!done_only || list[i]->state == TOON_JOB_DONE)) {
            cJSON_AddItemToArray(arr, toon_job_json(svc, list[i]));
            added++;
        }
        toon_job_free(list[i]);
    }
    toon_free(list);
    return arr;
}

static enum toon_status to_file(void *ctx, const void *data, size_t n)
{
    return fwrite(data, 1, n, ctx) == n ? TOON_STATUS_OK : TOON_STATUS_IO;
}

enum toon_status toon_rjobs_fetch_result(struct toon_service *svc, const struct toon_job *j,
                                         char *path, size_t path_len, struct toon_err *err)
{
    char rid[33];
    enum toon_status st = toon_random_id(rid, err);
    if (st != TOON_STATUS_OK) return st;
    snprintf(path, path_len, "%s/%s.result", svc->work, rid);
    FILE *f = fopen(path, "wb");
    if (!f) return toon_job_write_error(errno, "the result", err);
    struct toon_redis *r;
    st = toon_redis_get(&svc->pool, &r, err);
    if (st == TOON_STATUS_OK) {
        char k[200];
        toon_rkey(svc, k, sizeof k, "out", j->id);
        long long len = -1;
        st = toon_rkey_read(r, k, &len, to_file, f, err);
        if (st == TOON_STATUS_NOT_FOUND)
            toon_err_set(err, st, "the result of job %s has expired (results are kept %d s)", j->id,
                         svc->cfg.result_ttl_s);
        else if (st == TOON_STATUS_IO)
            st = toon_job_write_error(errno, "the result", err);
        toon_redis_put(&svc->pool, r);
    }
    if (fclose(f) != 0 && st == TOON_STATUS_OK) st = toon_job_write_error(errno, "the result", err);
    if (st != TOON_STATUS_OK) unlink(path);
    return st;
}

/* ---- workers, as the replicas see them ---- */

/* Calls fn for every worker seen recently. */
static int each_worker(struct toon_service *svc, void (*fn)(void *, const cJSON *), void *ctx,
                       struct toon_err *err)
{
    struct toon_redis *r;
    if (toon_redis_get(&svc->pool, &r, err) != TOON_STATUS_OK) return -1;
    char k[200];
    toon_rkey(svc, k, sizeof k, "workers", NULL);
    redisReply *rep = toon_redis_cmd(r, err, "HGETALL %s", k);
    toon_redis_put(&svc->pool, r);
    if (!rep) return -1;
    int n = 0;
    double now = toon_now();
    for (size_t i = 1; rep->type == REDIS_REPLY_ARRAY && i < rep->elements; i += 2) {
        const redisReply *v = rep->element[i];
        if (v->type != REDIS_REPLY_STRING) continue;
        cJSON *o = cJSON_ParseWithLength(v->str, v->len);
        const cJSON *seen = cJSON_GetObjectItemCaseSensitive(o, "seen");
        if (cJSON_IsNumber(seen) && now - seen->valuedouble < TOON_WORKER_STALE_S) {
            fn(ctx, o);
            n++;
        }
        cJSON_Delete(o);
    }
    freeReplyObject(rep);
    return n;
}

struct room_ctx {
    size_t best;
    char who[96];
};

static void max_room(void *ctx, const cJSON *o)
{
    struct room_ctx *c = ctx;
    const cJSON *room = cJSON_GetObjectItemCaseSensitive(o, "room_bytes");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    if (cJSON_IsNumber(room) && room->valuedouble >= (double)c->best) {
        c->best = (size_t)room->valuedouble;
        snprintf(c->who, sizeof c->who, "%s", cJSON_IsString(name) ? name->valuestring : "?");
    }
}

size_t toon_rjobs_room(struct toon_service *svc, char *who, size_t who_len)
{
    struct room_ctx c = {0, ""};
    struct toon_err err;
    int n = each_worker(svc, max_room, &c, &err);
    if (who) snprintf(who, who_len, "%s", c.who);
    return n > 0 ? c.best : SIZE_MAX;
}

static void count_worker(void *ctx, const cJSON *o)
{
    (void)ctx;
    (void)o;
}

int toon_rjobs_live_workers(struct toon_service *svc, struct toon_err *err)
{
    return each_worker(svc, count_worker, NULL, err);
}

static void add_worker(void *ctx, const cJSON *o)
{
    cJSON_AddItemToArray(ctx, cJSON_Duplicate(o, 1));
}

cJSON *toon_rjobs_status(struct toon_service *svc)
{
    cJSON *o = cJSON_CreateObject();
    char where[300];
    snprintf(where, sizeof where, "%s:%d/%d", svc->rurl.host, svc->rurl.port, svc->rurl.db);
    cJSON_AddStringToObject(o, "server", where);
    cJSON_AddStringToObject(o, "prefix", svc->rurl.prefix);
    struct toon_err err = {""};
    cJSON *workers = cJSON_AddArrayToObject(o, "workers");
    int n = each_worker(svc, add_worker, workers, &err);
    struct toon_redis *r;
    if (n >= 0 && toon_redis_get(&svc->pool, &r, &err) == TOON_STATUS_OK) {
        char kq[200], ks[200];
        toon_rkey(svc, kq, sizeof kq, "queue", NULL);
        toon_rkey(svc, ks, sizeof ks, "stats", NULL);
        redisReply *rep = toon_redis_cmd(r, &err, "XLEN %s", kq);
        cJSON_AddNumberToObject(o, "unfinished", rep ? (double)int_reply(rep) : -1);
        rep = toon_redis_cmd(r, &err, "XPENDING %s workers", kq);
        if (rep && rep->type == REDIS_REPLY_ARRAY && rep->elements >= 1 &&
            rep->element[0]->type == REDIS_REPLY_INTEGER)
            cJSON_AddNumberToObject(o, "taken", (double)rep->element[0]->integer);
        if (rep) freeReplyObject(rep);
        rep = toon_redis_cmd(r, &err, "HGETALL %s", ks);
        cJSON *stats = cJSON_AddObjectToObject(o, "counts");
        for (size_t i = 0; rep && rep->type == REDIS_REPLY_ARRAY && i + 1 < rep->elements; i += 2)
            if (rep->element[i]->type == REDIS_REPLY_STRING &&
                rep->element[i + 1]->type == REDIS_REPLY_STRING)
                cJSON_AddNumberToObject(stats, rep->element[i]->str,
                                        atof(rep->element[i + 1]->str));
        if (rep) freeReplyObject(rep);
        toon_redis_put(&svc->pool, r);
    }
    cJSON_AddBoolToObject(o, "reachable", err.msg[0] == 0);
    if (err.msg[0]) cJSON_AddStringToObject(o, "error", err.msg);
    return o;
}

enum toon_status toon_rjobs_init(struct toon_service *svc, struct toon_err *err)
{
    toon_redis_pool_init(&svc->pool, &svc->rurl);
    svc->pool_ready = 1;
    struct toon_redis *r;
    enum toon_status st = toon_redis_get(&svc->pool, &r, err);
    if (st != TOON_STATUS_OK) return st;
    char kq[200];
    toon_rkey(svc, kq, sizeof kq, "queue", NULL);
    /* The group starts at the stream's beginning so no entry added before it is missed. */
    redisReply *rep = toon_redis_cmd(r, err, "XGROUP CREATE %s workers 0 MKSTREAM", kq);
    if (rep) {
        freeReplyObject(rep);
    } else if (r->last == TOON_STATUS_INTERNAL && strstr(err->msg, "BUSYGROUP")) {
        err->msg[0] = 0; /* it exists */
    } else {
        st = r->last;
    }
    toon_redis_put(&svc->pool, r);
    return st;
}
