/*
 * History: every finished result gets a JSON sidecar beside it in outputs/ (the job as GET
 * /api/v1/jobs/{id} shows it).  At start-up the sidecars are read back, so past results, their
 * ids and their batches stay viewable and downloadable after a restart.  Sidecars are untrusted
 * input (anyone may drop files in outputs/): they are size-limited, parsed with cJSON, and a
 * job is restored only when its id is 32 hex digits and its result file is a plain name that
 * exists in outputs/.
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
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

enum toon_status toon_history_save(struct toon_service *svc, const struct toon_job *j,
                                   struct toon_err *err)
{
    pthread_mutex_lock(&svc->mu);
    cJSON *o = toon_job_json(svc, j);
    pthread_mutex_unlock(&svc->mu);
    /* Written before the job is marked done (see run_job), for the job as it is once done. */
    if (o) cJSON_ReplaceItemInObject(o, "state", cJSON_CreateString("done"));
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    char path[4400], tmp[4500];
    sidecar_path(svc, j->out_name, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.part", path);
    errno = 0;
    FILE *f = fopen(tmp, "w");
    int ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    int e = errno ? errno : EIO;
    cJSON_free(text);
    if (ok) return TOON_STATUS_OK;
    unlink(tmp);
    toon_log(TOON_LOG_WARN, "cannot write the history sidecar %s: %s", path, strerror(e));
    return toon_job_write_error(e, "the job's history", err);
}

static char *read_small(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = toon_malloc(MAX_SIDECAR_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_SIDECAR_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf || n > MAX_SIDECAR_BYTES) {
        toon_free(buf);
        return NULL;
    }
    buf[n] = 0;
    return buf;
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
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", svc->outputs, e->d_name);
        char *text = read_small(path);
        cJSON *o = text ? cJSON_Parse(text) : NULL;
        toon_free(text);
        struct toon_job *j = o ? toon_job_from_json(o, 0) : NULL;
        cJSON_Delete(o);
        if (!j) continue;
        char result[4400];
        struct stat st;
        snprintf(result, sizeof result, "%s/%s", svc->outputs, j->out_name);
        if (stat(result, &st) != 0 || !S_ISREG(st.st_mode)) {
            toon_job_free(j);
            continue;
        }
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
