/*
 * The routes: the embedded page, /healthz, /readyz, /metrics, and the JSON API under /api/v1
 * (jobs, the synchronous /cartoonize, status, history; batches are in routes_batch.c).
 *
 * Every error is JSON {"error": ..., "detail": ...} with the HTTP code of its toonify status
 * (toon_status_http_code): 400 bad parameter, 404 unknown id, 413 too large or over the memory
 * budget (with "fit_size", the largest size that would fit), 415 not an image, 422 corrupt
 * image, 503 queue full, no model or (scale-out) no live worker (with Retry-After).
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/procmem.h"
#include "core/alloc.h"
#include "service/assets.h"
#include "service/internal.h"
#include "service/memory.h"
#include "service/routes.h"

/* ---- reading uploads ---- */

struct arg_ctx {
    struct toon_upload *up;
    struct toon_err err;
    enum toon_status st;
};

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    (void)kind;
    struct arg_ctx *a = cls;
    if (a->st != TOON_STATUS_OK) return MHD_NO;
    if (strcmp(key, "filename") == 0 || strcmp(key, "download") == 0 || strcmp(key, "limit") == 0)
        return MHD_YES;
    a->st = toon_job_params_set(&a->up->params, key, value, &a->err);
    return a->st == TOON_STATUS_OK ? MHD_YES : MHD_NO;
}

struct part_ctx {
    struct toon_upload *up;
    int max_files;
};

static int is_file_field(const struct toon_mpart *p)
{
    return p->filename[0] || !strcmp(p->name, "file") || !strcmp(p->name, "files") ||
           !strcmp(p->name, "image") || !strcmp(p->name, "images") || !strcmp(p->name, "files[]");
}

static enum toon_status on_part(void *ctx, const struct toon_mpart *p, struct toon_err *err)
{
    struct part_ctx *c = ctx;
    struct toon_upload *up = c->up;
    if (is_file_field(p)) {
        if (up->n_files >= c->max_files)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                c->max_files == 1 ? "send one image per job (use /api/v1/batches "
                                                    "for several)"
                                                  : "too many files: at most %d per batch",
                                c->max_files);
        struct toon_mpart *nf =
            toon_realloc(up->files, (size_t)(up->n_files + 1) * sizeof *up->files);
        if (!nf) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        up->files = nf;
        up->files[up->n_files++] = *p;
        return TOON_STATUS_OK;
    }
    if (!toon_job_params_known(p->name)) return TOON_STATUS_OK; /* e.g. a submit button */
    char value[128];
    if (p->n_bytes >= sizeof value)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "form field '%s' is too long",
                            p->name);
    memcpy(value, p->data, p->n_bytes);
    value[p->n_bytes] = 0;
    return toon_job_params_set(&up->params, p->name, value, err);
}

void toon_upload_free(struct toon_upload *up)
{
    toon_free(up->files);
    up->files = NULL;
    up->n_files = 0;
}

int toon_routes_read_upload(struct toon_request *r, int max_files, struct toon_upload *up,
                            enum MHD_Result *ret)
{
    memset(up, 0, sizeof *up);
    toon_job_params_default(&up->params);
    struct arg_ctx a = {up, {""}, TOON_STATUS_OK};
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, on_arg, &a);
    if (a.st != TOON_STATUS_OK) {
        *ret = toon_http_status(r, a.st, a.err.msg);
        return 0;
    }
    const char *ct = toon_http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    struct toon_err err = {""};
    if (ct && strncasecmp(ct, "multipart/", 10) == 0) {
        char boundary[80];
        enum toon_status st = toon_multipart_boundary(ct, boundary, sizeof boundary, &err);
        struct part_ctx pc = {up, max_files};
        if (st == TOON_STATUS_OK)
            st = r->body ? toon_multipart_parse(r->body, r->body_len, boundary, 4 * max_files + 64,
                                                on_part, &pc, &err)
                         : toon_err_set(&err, TOON_STATUS_INVALID_ARGUMENT, "empty body");
        if (st != TOON_STATUS_OK) {
            toon_upload_free(up);
            *ret = toon_http_status(
                r, st == TOON_STATUS_UNSUPPORTED ? TOON_STATUS_INVALID_ARGUMENT : st, err.msg);
            return 0;
        }
    } else if (r->body_len > 0) {
        up->files = toon_calloc(1, sizeof *up->files);
        if (!up->files) {
            *ret = toon_http_status(r, TOON_STATUS_NO_MEMORY, "out of memory");
            return 0;
        }
        const char *fn = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "filename");
        snprintf(up->files[0].filename, sizeof up->files[0].filename, "%s", fn ? fn : "upload");
        up->files[0].data = r->body;
        up->files[0].n_bytes = r->body_len;
        up->n_files = 1;
    }
    if (up->n_files == 0) {
        toon_upload_free(up);
        *ret = toon_http_error(r, 400, "invalid argument",
                               "no image in the request: send it as the body (Content-Type: "
                               "image/png, image/jpeg or image/webp) or as a multipart file field");
        return 0;
    }
    return 1;
}

/* ---- helpers ---- */

static enum MHD_Result no_model(struct toon_request *r)
{
    return toon_http_error(r, 503, "no model", r->svc->model_error);
}

/* Answers the failure of a job that could not be prepared. */
static enum MHD_Result prepare_failed(struct toon_request *r, struct toon_job *j,
                                      enum toon_status st, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", toon_status_str(st));
    cJSON_AddStringToObject(o, "detail", detail);
    if (j && st == TOON_STATUS_OVER_BUDGET) cJSON_AddNumberToObject(o, "fit_size", j->fit);
    toon_job_free(j);
    return toon_http_json(r, toon_status_http_code(st), o);
}

static cJSON *job_json_locked(struct toon_service *svc, const struct toon_job *j)
{
    pthread_mutex_lock(&svc->mu);
    cJSON *o = toon_job_json(svc, j);
    pthread_mutex_unlock(&svc->mu);
    return o;
}

/* Prepares and queues one job from the request; on success *out holds a reference. */
static int submit_one(struct toon_request *r, struct toon_job **out, enum MHD_Result *ret)
{
    struct toon_service *svc = r->svc;
    if (svc->n_styles == 0) {
        *ret = no_model(r);
        return 0;
    }
    struct toon_upload up;
    if (!toon_routes_read_upload(r, 1, &up, ret)) return 0;
    struct toon_err err = {""};
    struct toon_job *j = NULL;
    enum toon_status st = toon_job_prepare(svc, &up.params, up.files[0].data, up.files[0].n_bytes,
                                           up.files[0].filename, 1, &j, &err);
    toon_upload_free(&up);
    if (st != TOON_STATUS_OK) {
        *ret = prepare_failed(r, j, st, err.msg);
        return 0;
    }
    j->refs++; /* ours, besides the table's */
    struct toon_job *list[1] = {j};
    st = toon_jobs_enqueue(svc, list, 1, &err);
    if (st != TOON_STATUS_OK) { /* enqueue freed it */
        *ret = toon_http_status(r, st, err.msg);
        return 0;
    }
    *out = j;
    return 1;
}

/* ---- the API ---- */

static enum MHD_Result api_status(struct toon_request *r)
{
    struct toon_service *svc = r->svc;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "version", TOONIFY_VERSION);
    cJSON_AddBoolToObject(o, "ready", svc->n_styles > 0);
    if (svc->model_error[0]) cJSON_AddStringToObject(o, "model_error", svc->model_error);
    pthread_mutex_lock(&svc->mu);
    int queued = svc->n_queued, running = svc->n_running;
    size_t reserved = svc->reserved, baseline = svc->baseline;
    pthread_mutex_unlock(&svc->mu);
    cJSON *m = cJSON_AddObjectToObject(o, "memory");
    cJSON_AddNumberToObject(m, "rss_bytes", (double)toon_proc_rss());
    cJSON_AddNumberToObject(m, "peak_rss_bytes", (double)toon_proc_peak_rss());
    cJSON_AddNumberToObject(m, "limit_bytes", (double)svc->limit);
    cJSON_AddStringToObject(m, "limit_source", svc->limit_source);
    cJSON_AddNumberToObject(m, "baseline_bytes", (double)baseline);
    cJSON_AddNumberToObject(m, "reserve_bytes", (double)svc->reserve);
    cJSON_AddNumberToObject(m, "reserved_bytes", (double)reserved);
    cJSON_AddNumberToObject(m, "heap_bytes", (double)toon_alloc_current());
    cJSON *q = cJSON_AddObjectToObject(o, "queue");
    cJSON_AddNumberToObject(q, "queued", queued);
    cJSON_AddNumberToObject(q, "running", running);
    cJSON_AddNumberToObject(q, "capacity", svc->cfg.queue_max);
    cJSON_AddNumberToObject(q, "workers", svc->cfg.workers);
    cJSON_AddNumberToObject(q, "threads_per_worker", svc->threads_per_worker);
    cJSON *styles = cJSON_AddArrayToObject(o, "styles");
    for (int i = 0; i < svc->n_styles; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", svc->styles[i].name);
        cJSON_AddStringToObject(s, "display_name", svc->styles[i].display_name);
        if (svc->styles[i].display_name_zh[0])
            cJSON_AddStringToObject(s, "display_name_zh", svc->styles[i].display_name_zh);
        cJSON_AddStringToObject(s, "description", svc->styles[i].description);
        cJSON_AddBoolToObject(s, "default", i == svc->default_style);
        cJSON_AddItemToArray(styles, s);
    }
    cJSON *l = cJSON_AddObjectToObject(o, "limits");
    cJSON_AddNumberToObject(l, "upload_max_bytes", (double)svc->cfg.upload_max);
    cJSON_AddNumberToObject(l, "max_batch", svc->cfg.max_batch);
    cJSON_AddNumberToObject(l, "sync_timeout_s", svc->cfg.sync_timeout_s);
    cJSON_AddBoolToObject(l, "downgrade", svc->cfg.downgrade);
    /* The decode limits every job is checked against (toon_job_params_default's). */
    struct toon_job_params dp;
    toon_job_params_default(&dp);
    int side = dp.cp.limits.max_w < dp.cp.limits.max_h ? dp.cp.limits.max_w : dp.cp.limits.max_h;
    cJSON_AddNumberToObject(l, "max_pixels", (double)dp.cp.limits.max_pixels);
    cJSON_AddNumberToObject(l, "max_side", side);
    cJSON *jn = cJSON_AddObjectToObject(o, "jobs");
    cJSON_AddNumberToObject(jn, "submitted", (double)atomic_load(&svc->metrics.jobs_submitted));
    cJSON_AddNumberToObject(jn, "done", (double)atomic_load(&svc->metrics.jobs_done));
    cJSON_AddNumberToObject(jn, "failed", (double)atomic_load(&svc->metrics.jobs_failed));
    cJSON_AddNumberToObject(jn, "cancelled", (double)atomic_load(&svc->metrics.jobs_cancelled));
    cJSON_AddNumberToObject(o, "uptime_s", toon_now() - svc->started);
    if (svc->redis) cJSON_AddItemToObject(o, "redis", toon_rjobs_status(svc));
    return toon_http_json(r, 200, o);
}

static int arg_int(struct toon_request *r, const char *name, int def, int lo, int hi)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (!v) return def;
    long x = strtol(v, NULL, 10);
    return x < lo ? lo : x > hi ? hi : (int)x;
}

/* GET /api/v1/history: finished results, newest first; GET /api/v1/jobs: every known job. */
static enum MHD_Result api_list(struct toon_request *r, int done_only)
{
    struct toon_service *svc = r->svc;
    int limit = arg_int(r, "limit", 50, 1, 1000);
    if (svc->redis) {
        struct toon_err err = {""};
        cJSON *items = toon_rjobs_list(svc, done_only, limit, &err);
        if (!items) return toon_http_status(r, TOON_STATUS_UNAVAILABLE, err.msg);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, done_only ? "items" : "jobs", items);
        return toon_http_json(r, 200, o);
    }
    cJSON *o = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(o, done_only ? "items" : "jobs");
    pthread_mutex_lock(&svc->mu);
    int n = 0;
    for (int i = svc->n_jobs - 1; i >= 0 && n < limit; i--) {
        struct toon_job *j = svc->jobs[i];
        if (done_only && j->state != TOON_JOB_DONE) continue;
        cJSON_AddItemToArray(items, toon_job_json(svc, j));
        n++;
    }
    pthread_mutex_unlock(&svc->mu);
    return toon_http_json(r, 200, o);
}

static enum MHD_Result api_job_create(struct toon_request *r)
{
    enum MHD_Result ret;
    struct toon_job *j;
    if (!submit_one(r, &j, &ret)) return ret;
    cJSON *o = job_json_locked(r->svc, j);
    toon_job_release(r->svc, j);
    return toon_http_json(r, 202, o);
}

static enum MHD_Result send_result(struct toon_request *r, struct toon_job *j, int attach)
{
    char path[4400], name[128];
    pthread_mutex_lock(&r->svc->mu);
    snprintf(path, sizeof path, "%s/%s", r->svc->outputs, j->out_name);
    snprintf(name, sizeof name, "%s", j->out_name);
    enum toon_format f = j->params.cp.format;
    snprintf(r->job_id, sizeof r->job_id, "%s", j->id);
    pthread_mutex_unlock(&r->svc->mu);
    if (r->svc->redis) {
        struct toon_err err = {""};
        enum toon_status st = toon_rjobs_fetch_result(r->svc, j, path, sizeof path, &err);
        if (st != TOON_STATUS_OK) return toon_http_status(r, st, err.msg);
        return toon_http_temp_file(r, path, toon_format_mime(f), attach ? name : NULL);
    }
    /* Only a regular file inside outputs/, reached without a link. */
    struct stat st;
    int fd = toon_outputs_open(r->svc, name, &st);
    if (fd < 0)
        return toon_http_error(r, 404, "not found",
                               "the result file is missing on disk, or is not a regular file");
    return toon_http_fd(r, fd, toon_format_mime(f), attach ? name : NULL);
}

/* ?thumb=N: a JPEG of the result, longest side N (thumbs.c).  Scale-out keeps results in Redis,
 * not in outputs/: there the result itself is sent. */
static enum MHD_Result send_thumb(struct toon_request *r, struct toon_job *j, long side)
{
    if (r->svc->redis) return send_result(r, j, 0);
    char name[128];
    pthread_mutex_lock(&r->svc->mu);
    snprintf(name, sizeof name, "%s", j->out_name);
    snprintf(r->job_id, sizeof r->job_id, "%s", j->id);
    pthread_mutex_unlock(&r->svc->mu);
    struct toon_err err = {""};
    int fd;
    enum toon_status st = toon_thumb_open(r->svc, name, toon_thumb_side(side), &fd, &err);
    if (st != TOON_STATUS_OK) return toon_http_status(r, st, err.msg);
    return toon_http_fd(r, fd, "image/jpeg", NULL);
}

static enum MHD_Result job_not_done(struct toon_request *r, struct toon_job *j)
{
    char msg[700];
    pthread_mutex_lock(&r->svc->mu);
    enum toon_job_state s = j->state;
    int code = j->http_code ? j->http_code : 500;
    if (s == TOON_JOB_CANCELLED) {
        /* Whatever code an older record carries: a cancelled job's result is gone for good. */
        code = toon_status_http_code(TOON_STATUS_CANCELLED);
        snprintf(msg, sizeof msg, "the job was cancelled: %s", j->detail);
    } else if (s == TOON_JOB_FAILED) {
        snprintf(msg, sizeof msg, "%s", j->detail);
    } else {
        snprintf(msg, sizeof msg, "the job is %s (%.0f%% done); poll /api/v1/jobs/%s",
                 toon_job_state_name(s), j->progress * 100, j->id);
    }
    char error[64];
    snprintf(error, sizeof error, "%s", j->error[0] ? j->error : "not ready");
    pthread_mutex_unlock(&r->svc->mu);
    if (s == TOON_JOB_QUEUED || s == TOON_JOB_RUNNING)
        return toon_http_error(r, 409, "not ready", msg);
    return toon_http_error(r, code, error, msg);
}

static enum MHD_Result api_job(struct toon_request *r, const char *id, const char *rest)
{
    struct toon_job *j = NULL;
    if (r->svc->redis) {
        struct toon_err err = {""};
        enum toon_status st = toon_rjobs_find(r->svc, id, &j, &err);
        if (st != TOON_STATUS_OK) return toon_http_status(r, st, err.msg);
    } else {
        j = toon_jobs_find(r->svc, id);
    }
    if (!j) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "no job with id '%.64s' (results older than the history kept "
                 "are no longer listed)",
                 id);
        return toon_http_error(r, 404, "not found", msg);
    }
    enum MHD_Result ret;
    int is_get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    if (!*rest && is_get) {
        ret = toon_http_json(r, 200, job_json_locked(r->svc, j));
    } else if (!*rest && !strcmp(r->method, "DELETE")) {
        toon_job_cancel(r->svc, j);
        ret = toon_http_json(r, 200, job_json_locked(r->svc, j));
    } else if (!strcmp(rest, "/result") && is_get) {
        pthread_mutex_lock(&r->svc->mu);
        int done = j->state == TOON_JOB_DONE;
        pthread_mutex_unlock(&r->svc->mu);
        const char *thumb = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, "thumb");
        ret = !done   ? job_not_done(r, j)
              : thumb ? send_thumb(r, j, strtol(thumb, NULL, 10))
                      : send_result(r, j, arg_int(r, "download", 0, 0, 1));
    } else if (!*rest || !strcmp(rest, "/result")) {
        ret = toon_http_error(r, 405, "method not allowed",
                              "use GET (or DELETE to cancel) on /api/v1/jobs/{id}");
    } else {
        ret = toon_http_error(r, 404, "not found", "no such route");
    }
    toon_job_release(r->svc, j);
    return ret;
}

/* DELETE /api/v1/history/{id}: forgets an ended job and removes its result, sidecar and
 * thumbnail from outputs/ (regular files only, relative to the directory). */
static enum MHD_Result api_history_delete(struct toon_request *r, const char *id)
{
    if (r->svc->redis)
        return toon_http_error(r, 405, "method not allowed",
                               "results are kept in Redis in scale-out mode; they expire on their "
                               "own");
    char name[128] = "";
    int found = toon_job_id_valid(id) ? toon_jobs_forget(r->svc, id, name, sizeof name) : 0;
    if (found == 0) return toon_http_error(r, 404, "not found", "no such result in the history");
    if (found < 0)
        return toon_http_error(r, 409, "not ready",
                               "the job is still queued or running; cancel it first");
    if (name[0]) toon_outputs_remove(r->svc, name);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "deleted", id);
    return toon_http_json(r, 200, o);
}

static enum MHD_Result api_cartoonize(struct toon_request *r)
{
    enum MHD_Result ret;
    struct toon_job *j;
    if (!submit_one(r, &j, &ret)) return ret;
    if (!toon_job_wait(r->svc, j, r->svc->cfg.sync_timeout_s)) {
        char msg[200];
        snprintf(msg, sizeof msg, "still running after %d s; poll /api/v1/jobs/%s",
                 r->svc->cfg.sync_timeout_s, j->id);
        toon_job_release(r->svc, j);
        return toon_http_error(r, 504, "timeout", msg);
    }
    pthread_mutex_lock(&r->svc->mu);
    int done = j->state == TOON_JOB_DONE;
    pthread_mutex_unlock(&r->svc->mu);
    if (!done) {
        ret = job_not_done(r, j);
    } else {
        ret = send_result(r, j, 0);
    }
    toon_job_release(r->svc, j);
    return ret;
}

/* 200 {"status": "ready"}, or 503 with the reason and a sentence (Retry-After included). */
static enum MHD_Result readyz(struct toon_request *r)
{
    char detail[700];
    const char *reason = toon_service_not_ready(r->svc, detail, sizeof detail);
    cJSON *o = cJSON_CreateObject();
    if (!reason) {
        cJSON_AddStringToObject(o, "status", "ready");
        return toon_http_json(r, 200, o);
    }
    cJSON_AddStringToObject(o, "status", "not ready");
    cJSON_AddStringToObject(o, "error", "not ready");
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "detail", detail);
    return toon_http_json(r, 503, o);
}

static enum MHD_Result serve_asset(struct toon_request *r)
{
    const struct toon_asset *a = toon_asset_find(r->url);
    if (!a) return toon_http_error(r, 404, "not found", "no such page or route");
    return toon_http_bytes(r, 200, a->content_type, a->data, a->n_bytes, 0);
}

static int starts(const char *s, const char *prefix, const char **rest)
{
    size_t n = strlen(prefix);
    if (strncmp(s, prefix, n) != 0) return 0;
    *rest = s + n;
    return 1;
}

/* Splits "{id}/rest" into id (at most 64 characters) and the rest. */
static void split_id(const char *s, char *id, size_t id_len, const char **rest)
{
    size_t n = strcspn(s, "/");
    snprintf(id, id_len, "%.*s", (int)(n < id_len - 1 ? n : id_len - 1), s);
    *rest = s + n;
}

enum MHD_Result toon_routes_dispatch(struct toon_request *r)
{
    const char *u = r->url, *rest;
    const char *m = r->method;
    int get = !strcmp(m, "GET") || !strcmp(m, "HEAD"), post = !strcmp(m, "POST");
    struct toon_service *svc = r->svc;
    if (!strcmp(u, "/healthz")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        return toon_http_json(r, 200, o);
    }
    if (!strcmp(u, "/readyz")) return readyz(r);
    if (!strcmp(u, "/metrics")) {
        char *text;
        size_t len;
        if (!toon_metrics_render(svc, &text, &len))
            return toon_http_error(r, 500, "internal error", "out of memory");
        struct MHD_Response *resp =
            MHD_create_response_from_buffer_with_free_callback(len, text, toon_free);
        if (!resp) {
            toon_free(text);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "text/plain; version=0.0.4");
        r->code = 200;
        r->bytes = len;
        enum MHD_Result ret = MHD_queue_response(r->conn, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (starts(u, "/api/v1/", &rest)) {
        char id[65];
        const char *tail;
        if (!strcmp(rest, "status") && get) return api_status(r);
        if (!strcmp(rest, "history") && get) return api_list(r, 1);
        if (!strcmp(rest, "jobs") && post) return api_job_create(r);
        if (!strcmp(rest, "jobs") && get) return api_list(r, 0);
        if (!strcmp(rest, "cartoonize") && post) return api_cartoonize(r);
        if (!strcmp(rest, "batches") && post) return toon_routes_batch_create(r);
        if (starts(rest, "jobs/", &tail)) {
            split_id(tail, id, sizeof id, &tail);
            return api_job(r, id, tail);
        }
        if (starts(rest, "history/", &tail) && !strcmp(m, "DELETE")) {
            split_id(tail, id, sizeof id, &tail);
            if (!*tail) return api_history_delete(r, id);
        }
        if (starts(rest, "batches/", &tail)) {
            split_id(tail, id, sizeof id, &tail);
            return toon_routes_batch(r, id, tail);
        }
        if (!strcmp(rest, "status") || !strcmp(rest, "history") || !strcmp(rest, "jobs") ||
            !strcmp(rest, "cartoonize") || !strcmp(rest, "batches"))
            return toon_http_error(r, 405, "method not allowed", "see the API in the README");
        return toon_http_error(r, 404, "not found", "no such API route");
    }
    if (get) return serve_asset(r);
    return toon_http_error(r, 405, "method not allowed", "only GET is served outside /api/v1");
}
