/*
 * History: every finished result gets a JSON sidecar beside it in outputs/ (the job as GET
 * /api/v1/jobs/{id} shows it).  At start-up the sidecars are read back, so past results, their
 * ids and their batches stay viewable and downloadable after a restart.  Sidecars are untrusted
 * input (anyone may drop files in outputs/): they are read only when they are regular files
 * (no link, no FIFO; outputs.c) of a bounded size, parsed with cJSON, and a job is restored only
 * when its id is 32 hex digits, every number in it is in range, and its result is a regular
 * file in outputs/ under a plain name.  A sidecar that fails any of this is skipped with a log
 * line.  Sidecars are written durably (fsync, rename, fsync of the directory) before the job
 * they describe is said to be done (jobs.c).
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "service/internal.h"

#define MAX_SIDECAR_BYTES 65536

static void sidecar_path(const struct toon_service *svc, const char *out_name, char *buf,
                         size_t len)
{
    const char *dot = strrchr(out_name, '.');
    int stem = dot ? (int)(dot - out_name) : (int)strlen(out_name);
    snprintf(buf, len, "%s/%.*s.json", svc->outputs, stem, out_name);
}

/* Writes text to path durably: a temporary name, fsync, rename, fsync of the directory. */
static enum toon_status write_durably(const char *dir, const char *path, const char *text,
                                      struct toon_err *err)
{
    char tmp[4500];
    snprintf(tmp, sizeof tmp, "%s.part", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
        int e = errno;
        toon_log(TOON_LOG_WARN, "cannot write the history sidecar %s: %s", tmp, strerror(e));
        return toon_job_write_error(e, "the job's history", err);
    }
    size_t len = strlen(text), off = 0;
    int saved = 0;
    while (!saved && off < len) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0)
            saved = k < 0 ? errno : ENOSPC;
        else
            off += (size_t)k;
    }
    if (!saved && fsync(fd) != 0) saved = errno;
    if (close(fd) != 0 && !saved) saved = errno;
    if (!saved && rename(tmp, path) != 0) saved = errno;
    if (saved) {
        unlink(tmp);
        toon_log(TOON_LOG_WARN, "cannot write the history sidecar %s: %s", path, strerror(saved));
        return toon_job_write_error(saved, "the job's history", err);
    }
    return toon_fsync_dir(dir, err);
}

enum toon_status toon_fsync_dir(const char *dir, struct toon_err *err)
{
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int ok = dfd >= 0 && fsync(dfd) == 0;
    int saved = errno;
    if (dfd >= 0) close(dfd);
    if (!ok) {
        toon_log(TOON_LOG_WARN, "cannot sync %s: %s", dir, strerror(saved));
        return toon_job_write_error(saved, "the outputs directory", err);
    }
    return TOON_STATUS_OK;
}

enum toon_status toon_history_save(struct toon_service *svc, const struct toon_job *j,
                                   struct toon_err *err)
{
    cJSON *o = toon_job_json(svc, j);
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    char path[4400];
    sidecar_path(svc, j->out_name, path, sizeof path);
    enum toon_status st = write_durably(svc->outputs, path, text, err);
    cJSON_free(text);
    return st;
}

/* A finished job from outputs/<name>, a sidecar, or NULL with a log line saying why not. */
static struct toon_job *restore(struct toon_service *svc, const char *name)
{
    struct toon_err err = {""};
    char *text = NULL;
    struct toon_job *j = NULL;
    if (toon_outputs_read_small(svc, name, MAX_SIDECAR_BYTES, &text, &err) == TOON_STATUS_OK) {
        cJSON *o = cJSON_Parse(text);
        if (!o) toon_err_set(&err, TOON_STATUS_CORRUPT, "not JSON");
        j = o ? toon_job_from_json(o, 0, &err) : NULL;
        cJSON_Delete(o);
        toon_free(text);
    }
    if (j && !toon_outputs_is_result(svc, j->out_name)) {
        toon_err_set(&err, TOON_STATUS_NOT_FOUND, "its result %s is missing or not a regular file",
                     j->out_name);
        toon_job_free(j);
        j = NULL;
    }
    if (!j) toon_log(TOON_LOG_WARN, "history: skipping %s/%s: %s", svc->outputs, name, err.msg);
    return j;
}

static int by_end(const void *a, const void *b)
{
    const struct toon_job *x = *(struct toon_job *const *)a, *y = *(struct toon_job *const *)b;
    return x->t_end < y->t_end ? -1 : x->t_end > y->t_end ? 1 : strcmp(x->id, y->id);
}

void toon_history_load(struct toon_service *svc, int max)
{
    DIR *d = opendir(svc->outputs);
    if (!d) return;
    struct toon_job **found = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, "outputs_", 8) != 0 || len < 6 ||
            strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        struct toon_job *j = restore(svc, e->d_name);
        if (!j) continue;
        if (n == cap) {
            int nc = cap ? cap * 2 : 64;
            struct toon_job **nf = toon_realloc(found, (size_t)nc * sizeof *nf);
            if (!nf) {
                toon_job_free(j);
                break;
            }
            found = nf;
            cap = nc;
        }
        found[n++] = j;
    }
    closedir(d);
    if (n > 0) qsort(found, (size_t)n, sizeof *found, by_end);
    int first = n > max ? n - max : 0;
    for (int i = 0; i < n; i++) {
        if (i < first)
            toon_job_free(found[i]);
        else
            toon_jobs_add_restored(svc, found[i]);
    }
    toon_free(found);
    if (n - first > 0) toon_log(TOON_LOG_INFO, "history: %d results restored", n - first);
}
