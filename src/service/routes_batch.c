/*
 * Batches: several images with the same parameters, one job each, sharing a batch id.  A batch
 * is not stored separately: its jobs carry its id (and their sidecars too), so a batch's
 * finished files survive an interrupted batch and a restart.  Files that cannot run (not an
 * image, could never fit) become failed jobs of the batch with their own message, so the rest
 * still runs, and the answer lists them under "failed"; the batch as a whole is refused only
 * when the queue has no room for it, or (scale-out) no worker is alive (503).
 * The ZIP holds the finished results, written by libzip to a temporary file and streamed.
 */
#include <cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "core/alloc.h"
#include "service/internal.h"
#include "service/routes.h"

/* The 202 answer: the batch's job ids in order, and the files refused at submission with their
 * own errors (they are failed jobs of the batch, and take no place in the queue). */
static cJSON *batch_answer(const char *batch, struct toon_job **jobs, int n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", batch);
    cJSON_AddNumberToObject(o, "total", n);
    cJSON *ids = cJSON_AddArrayToObject(o, "jobs");
    cJSON *failed = cJSON_AddArrayToObject(o, "failed");
    for (int i = 0; i < n; i++) {
        const struct toon_job *j = jobs[i];
        cJSON_AddItemToArray(ids, cJSON_CreateString(j->id));
        if (j->state != TOON_JOB_FAILED) continue;
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "index", j->index);
        cJSON_AddStringToObject(f, "id", j->id);
        cJSON_AddStringToObject(f, "filename", j->filename);
        cJSON_AddStringToObject(f, "error", j->error);
        cJSON_AddStringToObject(f, "detail", j->detail);
        cJSON_AddNumberToObject(f, "code", j->http_code);
        cJSON_AddItemToArray(failed, f);
    }
    return o;
}

enum MHD_Result toon_routes_batch_create(struct toon_request *r)
{
    struct toon_service *svc = r->svc;
    if (svc->n_styles == 0) return toon_http_error(r, 503, "no model", svc->model_error);
    struct toon_upload up;
    enum MHD_Result ret;
    if (!toon_routes_read_upload(r, svc->cfg.max_batch, &up, &ret)) return ret;
    char batch[33];
    struct toon_err err = {""};
    if (toon_random_id(batch, &err) != TOON_STATUS_OK) {
        toon_upload_free(&up);
        return toon_http_status(r, TOON_STATUS_INTERNAL, err.msg);
    }
    int n = up.n_files;
    struct toon_job **jobs = toon_calloc((size_t)n, sizeof *jobs);
    if (!jobs) {
        toon_upload_free(&up);
        return toon_http_status(r, TOON_STATUS_NO_MEMORY, "out of memory");
    }
    enum toon_status st = TOON_STATUS_OK;
    for (int i = 0; i < n; i++) {
        struct toon_err e = {""};
        enum toon_status js =
            toon_job_prepare(svc, &up.params, up.files[i].data, up.files[i].n_bytes,
                             up.files[i].filename, 1, &jobs[i], &e);
        if (!jobs[i]) {
            st = js;
            snprintf(err.msg, sizeof err.msg, "%s", e.msg);
            break;
        }
        memcpy(jobs[i]->batch, batch, sizeof batch);
        jobs[i]->index = i;
    }
    toon_upload_free(&up);
    cJSON *o = st == TOON_STATUS_OK ? batch_answer(batch, jobs, n) : NULL;
    if (st == TOON_STATUS_OK) st = toon_jobs_enqueue(svc, jobs, n, &err);
    if (st != TOON_STATUS_OK) {
        for (int i = 0; i < n; i++) toon_job_free(jobs[i]);
        toon_free(jobs);
        cJSON_Delete(o);
        return toon_http_status(r, st, err.msg);
    }
    toon_free(jobs);
    return toon_http_json(r, 202, o);
}

/* Calls fn for each job of the batch, in batch order; returns how many there are. Holds mu. */
static int batch_jobs(struct toon_service *svc, const char *id, struct toon_job ***out)
{
    int n = 0;
    for (int i = 0; i < svc->n_jobs; i++) n += strcmp(svc->jobs[i]->batch, id) == 0;
    *out = NULL;
    if (n == 0) return 0;
    struct toon_job **list = toon_malloc((size_t)n * sizeof *list);
    if (!list) return -1;
    int k = 0;
    for (int i = 0; i < svc->n_jobs; i++)
        if (strcmp(svc->jobs[i]->batch, id) == 0) {
            list[k++] = svc->jobs[i];
            svc->jobs[i]->refs++;
        }
    /* Insertion sort by index: batches are small. */
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && list[j - 1]->index > list[j]->index; j--) {
            struct toon_job *t = list[j];
            list[j] = list[j - 1];
            list[j - 1] = t;
        }
    *out = list;
    return n;
}

static void release_all(struct toon_service *svc, struct toon_job **list, int n)
{
    for (int i = 0; i < n; i++) toon_job_release(svc, list[i]);
    toon_free(list);
}

static enum MHD_Result batch_status(struct toon_request *r, const char *id, struct toon_job **list,
                                    int n)
{
    struct toon_service *svc = r->svc;
    int counts[5] = {0};
    double progress = 0;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", id);
    cJSON_AddNumberToObject(o, "total", n);
    cJSON *arr = cJSON_CreateArray();
    pthread_mutex_lock(&svc->mu);
    for (int i = 0; i < n; i++) {
        counts[list[i]->state]++;
        progress += toon_job_ended(list[i]->state) ? 1.0 : list[i]->progress;
        cJSON_AddItemToArray(arr, toon_job_json(svc, list[i]));
    }
    pthread_mutex_unlock(&svc->mu);
    int ended = counts[TOON_JOB_DONE] + counts[TOON_JOB_FAILED] + counts[TOON_JOB_CANCELLED];
    cJSON_AddStringToObject(o, "state", ended == n ? "done" : "running");
    cJSON_AddNumberToObject(o, "progress", n ? progress / n : 1.0);
    cJSON_AddNumberToObject(o, "queued", counts[TOON_JOB_QUEUED]);
    cJSON_AddNumberToObject(o, "running", counts[TOON_JOB_RUNNING]);
    cJSON_AddNumberToObject(o, "done", counts[TOON_JOB_DONE]);
    cJSON_AddNumberToObject(o, "failed", counts[TOON_JOB_FAILED]);
    cJSON_AddNumberToObject(o, "cancelled", counts[TOON_JOB_CANCELLED]);
    char url[96];
    snprintf(url, sizeof url, "/api/v1/batches/%s/zip", id);
    cJSON_AddStringToObject(o, "zip_url", url);
    cJSON_AddItemToObject(o, "jobs", arr);
    return toon_http_json(r, 200, o);
}

/* The name of a result inside the ZIP: its position, the uploaded name's stem, the format. */
static void zip_name(const struct toon_job *j, char *buf, size_t len)
{
    char stem[100];
    snprintf(stem, sizeof stem, "%.99s", j->filename);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
    for (char *p = stem; *p; p++)
        if (*p == '/' || *p == '\\' || *p == ':' || (unsigned char)*p < 32) *p = '_';
    snprintf(buf, len, "%03d_%s.%s", j->index + 1, stem, toon_format_ext(j->params.cp.format));
}

/* A ZIP source for a finished job's result: a file fetched from Redis (path), or the result in
 * outputs/, opened only when it is a regular file reached without a link.  NULL when missing. */
static zip_source_t *result_source(struct toon_service *svc, zip_t *z, const struct toon_job *j,
                                   const char *path)
{
    if (path) return access(path, R_OK) == 0 ? zip_source_file(z, path, 0, -1) : NULL;
    char name[128];
    pthread_mutex_lock(&svc->mu);
    snprintf(name, sizeof name, "%s", j->out_name);
    pthread_mutex_unlock(&svc->mu);
    struct stat st;
    int fd = toon_outputs_open(svc, name, &st);
    FILE *f = fd >= 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        if (fd >= 0) close(fd);
        return NULL;
    }
    zip_source_t *src = zip_source_filep(z, f, 0, -1); /* takes f over */
    if (!src) fclose(f);
    return src;
}

static enum MHD_Result batch_zip(struct toon_request *r, const char *id, struct toon_job **list,
                                 int n)
{
    struct toon_service *svc = r->svc;
    char tmp[4500], rid[33];
    if (toon_random_id(rid, NULL) != TOON_STATUS_OK)
        return toon_http_error(r, 500, "internal error", "no random bytes");
    snprintf(tmp, sizeof tmp, "%s/%s.zip", svc->work, rid);
    int zerr = 0;
    zip_t *z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
    if (!z) return toon_http_error(r, 500, "input/output error", "cannot create the ZIP file");
    int added = 0;
    /* Scale-out: the results are copied out of Redis into temporary files first. */
    char(*fetched)[4400] = svc->redis ? toon_calloc((size_t)n, sizeof *fetched) : NULL;
    if (svc->redis && !fetched) {
        zip_discard(z);
        unlink(tmp);
        return toon_http_status(r, TOON_STATUS_NO_MEMORY, "out of memory");
    }
    for (int i = 0; i < n; i++) {
        char path[4400], name[160];
        pthread_mutex_lock(&svc->mu);
        int done = list[i]->state == TOON_JOB_DONE;
        snprintf(path, sizeof path, "%s/%s", svc->outputs, list[i]->out_name);
        zip_name(list[i], name, sizeof name);
        pthread_mutex_unlock(&svc->mu);
        if (!done) continue;
        if (svc->redis) {
            struct toon_err e;
            if (toon_rjobs_fetch_result(svc, list[i], fetched[i], sizeof fetched[i], &e) !=
                TOON_STATUS_OK) {
                fetched[i][0] = 0;
                continue;
            }
            snprintf(path, sizeof path, "%s", fetched[i]);
        }
        zip_source_t *src = result_source(svc, z, list[i], svc->redis ? path : NULL);
        if (!src) continue;
        zip_int64_t idx = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
        if (idx < 0) {
            zip_source_free(src);
            continue;
        }
        /* Images are compressed already. */
        zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
        added++;
    }
    int closed = added > 0 && zip_close(z) == 0;
    if (!closed) zip_discard(z);
    for (int i = 0; fetched && i < n; i++)
        if (fetched[i][0]) unlink(fetched[i]);
    toon_free(fetched);
    if (added == 0) {
        unlink(tmp);
        return toon_http_error(r, 409, "not ready", "no result of this batch is finished yet");
    }
    if (!closed) {
        unlink(tmp);
        return toon_http_error(r, 500, "input/output error", "cannot write the ZIP file");
    }
    char dl[64];
    snprintf(dl, sizeof dl, "toonify_batch_%.8s.zip", id);
    return toon_http_temp_file(r, tmp, "application/zip", dl);
}

enum MHD_Result toon_routes_batch(struct toon_request *r, const char *id, const char *rest)
{
    struct toon_service *svc = r->svc;
    struct toon_job **list = NULL;
    int n;
    if (svc->redis) {
        struct toon_err err = {""};
        n = toon_rjobs_batch(svc, id, &list, &err);
        if (n < 0) return toon_http_status(r, TOON_STATUS_UNAVAILABLE, err.msg);
    } else {
        pthread_mutex_lock(&svc->mu);
        n = id[0] ? batch_jobs(svc, id, &list) : 0;
        pthread_mutex_unlock(&svc->mu);
        if (n < 0) return toon_http_status(r, TOON_STATUS_NO_MEMORY, "out of memory");
    }
    if (n == 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "no batch with id '%.64s'", id);
        return toon_http_error(r, 404, "not found", msg);
    }
    int get = !strcmp(r->method, "GET") || !strcmp(r->method, "HEAD");
    enum MHD_Result ret;
    if (!*rest && get) {
        ret = batch_status(r, id, list, n);
    } else if (!*rest && !strcmp(r->method, "DELETE")) {
        for (int i = 0; i < n; i++) toon_job_cancel(svc, list[i]);
        ret = batch_status(r, id, list, n);
    } else if (!strcmp(rest, "/zip") && get) {
        ret = batch_zip(r, id, list, n);
    } else {
        ret = toon_http_error(r, 404, "not found", "no such batch route");
    }
    release_all(svc, list, n);
    return ret;
}
