/*
 * Jobs: preparation (probe, plan, admission decision, input spooled to disk), the table of known
 * jobs, the bounded FIFO queue, and the workers that run them.
 *
 * The queue is strict FIFO: a worker takes the head only when the head's planned peak fits next
 * to the jobs already running, so a big job is never starved by a stream of small ones.  A job
 * that fits when the process is idle (checked when it is submitted) always runs eventually: when
 * nothing else runs it is admitted even if the idle process has grown since.  Inputs are kept in
 * files under outputs/.work (mapped while the job runs) rather than in memory, so a full queue
 * costs disk, not RAM.  Results go to a temporary file renamed when complete, then a JSON sidecar
 * is written beside them (history.c), both fsynced, and only then is the job said to be done:
 * a result on disk is always whole, and a done job always has its sidecar.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/procmem.h"
#include "core/alloc.h"
#include "core/log.h"
#include "image/backend.h"
#include "service/internal.h"
#include "service/memory.h"

/* Finished jobs kept in memory (older ones stay on disk as history). */
#define MAX_JOBS_KEPT 2000

double toon_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

const char *toon_mb(size_t bytes, char *buf, size_t len)
{
    /* Binary units: limits are given as 64M or 8M meaning MiB, and said back exactly. */
    const size_t mib = (size_t)1 << 20, gib = (size_t)1 << 30;
    if (bytes >= gib && bytes % gib == 0)
        snprintf(buf, len, "%zu GiB", bytes / gib);
    else if (bytes >= mib && bytes % mib == 0)
        snprintf(buf, len, "%zu MiB", bytes / mib);
    else if (bytes >= mib)
        snprintf(buf, len, "%.1f MiB", (double)bytes / (double)mib);
    else
        snprintf(buf, len, "%zu bytes", bytes);
    return buf;
}

enum toon_status toon_random_id(char out[33], struct toon_err *err)
{
    unsigned char r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k < 0) {
            if (errno == EINTR) continue;
            return toon_err_set(err, TOON_STATUS_INTERNAL, "getrandom: %s", strerror(errno));
        }
        got += (size_t)k;
    }
    for (int i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
    return TOON_STATUS_OK;
}

const char *toon_job_state_name(enum toon_job_state s)
{
    switch (s) {
    case TOON_JOB_QUEUED:
        return "queued";
    case TOON_JOB_RUNNING:
        return "running";
    case TOON_JOB_DONE:
        return "done";
    case TOON_JOB_FAILED:
        return "failed";
    case TOON_JOB_CANCELLED:
        return "cancelled";
    }
    return "unknown";
}

int toon_job_ended(enum toon_job_state s)
{
    return s == TOON_JOB_DONE || s == TOON_JOB_FAILED || s == TOON_JOB_CANCELLED;
}

void toon_job_free(struct toon_job *j)
{
    if (!j) return;
    if (j->in_path[0]) unlink(j->in_path);
    toon_free(j);
}

void toon_job_fail(struct toon_job *j, enum toon_status st, const char *detail)
{
    j->state = st == TOON_STATUS_CANCELLED ? TOON_JOB_CANCELLED : TOON_JOB_FAILED;
    j->http_code = toon_status_http_code(st);
    snprintf(j->error, sizeof j->error, "%s", toon_status_str(st));
    snprintf(j->detail, sizeof j->detail, "%s", detail);
}

int toon_style_find(const struct toon_service *svc, const char *name)
{
    if (!name[0]) return svc->default_style;
    for (int i = 0; i < svc->n_styles; i++)
        if (strcmp(svc->styles[i].name, name) == 0) return i;
    return -1;
}

enum toon_status toon_job_write_error(int e, const char *what, struct toon_err *err)
{
    enum toon_status st = toon_status_from_errno(e);
    if (st == TOON_STATUS_NO_SPACE) return toon_err_set(err, st, "%s", TOON_DISK_FULL_DETAIL);
    return toon_err_set(err, st, "cannot store %s: %s", what, strerror(e));
}

static enum toon_status write_file(const char *path, const uint8_t *data, size_t len,
                                   struct toon_err *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return toon_job_write_error(errno, "the input", err);
    size_t off = 0;
    while (off < len) {
        ssize_t k = write(fd, data + off, len - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int e = k < 0 ? errno : ENOSPC;
            close(fd);
            unlink(path);
            return toon_job_write_error(e, "the input", err);
        }
        off += (size_t)k;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(path);
        return toon_job_write_error(e, "the input", err);
    }
    return TOON_STATUS_OK;
}

/* The conversion the job asked for, with its style's models: hd and official run the
 * compound pipeline (faces with the head model when face models were found), plain the
 * generator alone. */
void toon_job_bind_style(const struct toon_service *svc, struct toon_job *j)
{
    const struct toon_style *s = &svc->styles[j->style];
    struct toon_convert_params *cp = &j->params.cp;
    cp->head_model = s->head;
    cp->face_models = svc->faces;
    cp->alpha_path = s->alpha[0] ? s->alpha : NULL;
}

/* Decides whether the job fits, downgrading or refusing it when it cannot. */
static enum toon_status admit(struct toon_service *svc, struct toon_job *j,
                              const struct toon_model *m, struct toon_err *err)
{
    char b1[32], b2[32], b3[32];
    enum toon_status st =
        toon_admission_cost(svc, m, &j->info, &j->params.cp, j->in_bytes, &j->out_w, &j->out_h,
                            &j->plan_bytes, &j->cost_bytes, err);
    if (st != TOON_STATUS_OK) return st;
    /* Scale-out: what the biggest live worker can hold (everything while none is known: the
     * job waits for one).  Locally: this process's room. */
    char who[96] = "";
    size_t room = svc->redis ? toon_rjobs_room(svc, who, sizeof who) : toon_admission_room(svc);
    if (j->cost_bytes <= room) return TOON_STATUS_OK;
    int asked = j->out_w > j->out_h ? j->out_w : j->out_h;
    int fit = toon_admission_largest(svc, m, &j->info, &j->params.cp, j->in_bytes, room, asked);
    j->fit = fit;
    int downgrade = j->params.downgrade >= 0 ? j->params.downgrade : svc->cfg.downgrade;
    size_t total = svc->redis ? j->cost_bytes : j->cost_bytes + (svc->limit - room);
    /* Scale-out: the limit that matters is the biggest worker's room. */
    char limit_text[160];
    if (svc->redis)
        snprintf(limit_text, sizeof limit_text, "the biggest worker (%.60s) has room for %s", who,
                 toon_mb(room, b2, sizeof b2));
    else
        snprintf(limit_text, sizeof limit_text, "the memory limit is %s",
                 toon_mb(svc->limit, b2, sizeof b2));
    if (fit > 0 && downgrade) {
        j->params.cp.size = fit;
        st = toon_admission_cost(svc, m, &j->info, &j->params.cp, j->in_bytes, &j->out_w, &j->out_h,
                                 &j->plan_bytes, &j->cost_bytes, err);
        if (st != TOON_STATUS_OK) return st;
        j->downgraded = 1;
        snprintf(j->note, sizeof j->note, "ran at %d px instead of %d px: %d px needs %s, %s", fit,
                 asked, asked, toon_mb(total, b1, sizeof b1), limit_text);
        atomic_fetch_add(&svc->metrics.jobs_downgraded, 1);
        return TOON_STATUS_OK;
    }
    atomic_fetch_add(&svc->metrics.jobs_rejected_large, 1);
    if (svc->redis && fit > 0)
        return toon_err_set(err, TOON_STATUS_OVER_BUDGET,
                            "this %dx%d photo at %d px needs %s, %s; %d px would fit (size=%d), "
                            "or turn on downgrade",
                            j->info.w, j->info.h, asked, toon_mb(total, b1, sizeof b1), limit_text,
                            fit, fit);
    if (svc->redis)
        return toon_err_set(err, TOON_STATUS_OVER_BUDGET,
                            "this %dx%d photo at %d px needs %s, %s; no output size fits",
                            j->info.w, j->info.h, asked, toon_mb(total, b1, sizeof b1), limit_text);
    if (fit > 0)
        return toon_err_set(
            err, TOON_STATUS_OVER_BUDGET,
            "this %dx%d photo at %d px needs %s, the memory limit is %s (the server "
            "itself uses %s); %d px would fit (size=%d), or turn on downgrade",
            j->info.w, j->info.h, asked, toon_mb(total, b1, sizeof b1),
            toon_mb(svc->limit, b2, sizeof b2), toon_mb(svc->limit - room, b3, sizeof b3), fit,
            fit);
    return toon_err_set(err, TOON_STATUS_OVER_BUDGET,
                        "this %dx%d photo needs %s at %d px, the memory limit is %s; no output "
                        "size fits",
                        j->info.w, j->info.h, toon_mb(total, b1, sizeof b1), asked,
                        toon_mb(svc->limit, b2, sizeof b2));
}

enum toon_status toon_job_prepare(struct toon_service *svc, const struct toon_job_params *p,
                                  const uint8_t *data, size_t len, const char *filename,
                                  int keep_failed, struct toon_job **out, struct toon_err *err)
{
    *out = NULL;
    struct toon_job *j = toon_calloc(1, sizeof *j);
    if (!j) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    j->params = *p;
    j->requested_size = p->cp.size;
    j->t_submit = toon_now();
    j->refs = 1;
    j->in_bytes = len;
    snprintf(j->filename, sizeof j->filename, "%s", filename && *filename ? filename : "image");
    enum toon_status st = toon_random_id(j->id, err);
    if (st != TOON_STATUS_OK) goto fail;
    if (svc->n_styles == 0) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "%s", svc->model_error);
        goto fail;
    }
    j->style = toon_style_find(svc, p->style);
    if (j->style < 0) {
        char names[400] = "";
        for (int i = 0; i < svc->n_styles; i++) {
            size_t n = strlen(names);
            snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", svc->styles[i].name);
        }
        st = toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "unknown style '%s' (styles: %s)",
                          p->style, names);
        goto fail;
    }
    snprintf(j->style_name, sizeof j->style_name, "%s", svc->styles[j->style].name);
    if (len == 0) {
        st = toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                          "no image in the request (send the image as the body or as a "
                          "multipart file)");
        goto fail;
    }
    st = toon_probe(data, len, &j->info, err);
    if (st != TOON_STATUS_OK) {
        if (st == TOON_STATUS_UNSUPPORTED || st == TOON_STATUS_CORRUPT) {
            char why[512];
            snprintf(why, sizeof why, "%s", err ? err->msg : "");
            toon_err_set(err, st, "%.100s is not a photo toonify can read (PNG, JPEG or WebP): %s",
                         j->filename, why);
        }
        goto fail;
    }
    /* The decoder would refuse it when the job runs: refuse it now, before it takes a slot. */
    st = toon_limits_check(&j->info, &j->params.cp.limits, err);
    if (st != TOON_STATUS_OK) goto fail;
    toon_job_bind_style(svc, j);
    st = admit(svc, j, svc->styles[j->style].model, err);
    if (st != TOON_STATUS_OK) goto fail;
    snprintf(j->in_path, sizeof j->in_path, "%.4100s/%s.in", svc->work, j->id);
    st = write_file(j->in_path, data, len, err);
    if (st != TOON_STATUS_OK) {
        j->in_path[0] = 0;
        goto fail;
    }
    j->state = TOON_JOB_QUEUED;
    *out = j;
    return TOON_STATUS_OK;
fail:
    if (keep_failed && st != TOON_STATUS_NO_MEMORY) {
        toon_job_fail(j, st, err ? err->msg : toon_status_str(st));
        j->t_end = j->t_submit;
        *out = j;
        return st;
    }
    toon_job_free(j);
    return st;
}

static enum toon_status table_add(struct toon_service *svc, struct toon_job *j)
{
    if (svc->n_jobs == svc->cap_jobs) {
        /* Drop the oldest ended jobs nobody holds; their files stay on disk. */
        int k = 0;
        for (int i = 0; i < svc->n_jobs; i++) {
            struct toon_job *o = svc->jobs[i];
            if (svc->n_jobs - (i - k) > MAX_JOBS_KEPT / 2 && toon_job_ended(o->state) &&
                o->refs == 1) {
                toon_job_free(o);
                continue;
            }
            svc->jobs[k++] = o;
        }
        svc->n_jobs = k;
    }
    if (svc->n_jobs == svc->cap_jobs) {
        int cap = svc->cap_jobs ? svc->cap_jobs * 2 : 256;
        struct toon_job **nj = toon_realloc(svc->jobs, (size_t)cap * sizeof *nj);
        if (!nj) return TOON_STATUS_NO_MEMORY;
        svc->jobs = nj;
        svc->cap_jobs = cap;
    }
    svc->jobs[svc->n_jobs++] = j;
    return TOON_STATUS_OK;
}

enum toon_status toon_jobs_enqueue(struct toon_service *svc, struct toon_job **jobs, int n,
                                   struct toon_err *err)
{
    if (svc->redis) return toon_rjobs_submit(svc, jobs, n, err);
    int runnable = 0;
    for (int i = 0; i < n; i++) runnable += jobs[i]->state == TOON_JOB_QUEUED;
    pthread_mutex_lock(&svc->mu);
    enum toon_status st = TOON_STATUS_OK;
    if (svc->stopping) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "the server is shutting down");
    } else if (svc->n_queued + runnable > svc->cfg.queue_max) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY,
                          "the queue is full (%d waiting, %d running, room for %d); retry in a "
                          "few seconds",
                          svc->n_queued, svc->n_running, svc->cfg.queue_max);
        atomic_fetch_add(&svc->metrics.jobs_rejected_full, (unsigned long)runnable);
    } else if (svc->n_jobs + n > MAX_JOBS_KEPT * 4) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "too many jobs are held; retry later");
    }
    for (int i = 0; st == TOON_STATUS_OK && i < n; i++) {
        if (table_add(svc, jobs[i]) != TOON_STATUS_OK) {
            /* Only possible before anything was queued in practice; undo what was added. */
            svc->n_jobs -= i;
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        }
    }
    if (st != TOON_STATUS_OK) {
        pthread_mutex_unlock(&svc->mu);
        for (int i = 0; i < n; i++) {
            toon_job_free(jobs[i]);
            jobs[i] = NULL;
        }
        return st;
    }
    for (int i = 0; i < n; i++) {
        struct toon_job *j = jobs[i];
        atomic_fetch_add(&svc->metrics.jobs_submitted, 1);
        if (j->state != TOON_JOB_QUEUED) {
            atomic_fetch_add(&svc->metrics.jobs_failed, 1);
            continue;
        }
        j->next = NULL;
        if (svc->q_tail)
            svc->q_tail->next = j;
        else
            svc->q_head = j;
        svc->q_tail = j;
        svc->n_queued++;
    }
    pthread_cond_broadcast(&svc->cv_work);
    pthread_mutex_unlock(&svc->mu);
    return TOON_STATUS_OK;
}

void toon_jobs_add_restored(struct toon_service *svc, struct toon_job *j)
{
    pthread_mutex_lock(&svc->mu);
    if (table_add(svc, j) != TOON_STATUS_OK) toon_job_free(j);
    pthread_mutex_unlock(&svc->mu);
}

struct toon_job *toon_jobs_find(struct toon_service *svc, const char *id)
{
    struct toon_job *found = NULL;
    pthread_mutex_lock(&svc->mu);
    for (int i = svc->n_jobs - 1; i >= 0; i--)
        if (strcmp(svc->jobs[i]->id, id) == 0) {
            found = svc->jobs[i];
            found->refs++;
            break;
        }
    pthread_mutex_unlock(&svc->mu);
    return found;
}

int toon_jobs_forget(struct toon_service *svc, const char *id, char *out_name, size_t len)
{
    int found = 0;
    struct toon_job *j = NULL;
    pthread_mutex_lock(&svc->mu);
    for (int i = svc->n_jobs - 1; i >= 0 && !found; i--) {
        if (strcmp(svc->jobs[i]->id, id) != 0) continue;
        j = svc->jobs[i];
        found = toon_job_ended(j->state) ? 1 : -1;
        if (found < 0) break;
        snprintf(out_name, len, "%s", j->out_name);
        memmove(&svc->jobs[i], &svc->jobs[i + 1],
                (size_t)(svc->n_jobs - i - 1) * sizeof *svc->jobs);
        svc->n_jobs--;
    }
    int left = found > 0 ? --j->refs : 1;
    pthread_mutex_unlock(&svc->mu);
    if (left == 0) toon_job_free(j);
    return found;
}

void toon_job_release(struct toon_service *svc, struct toon_job *j)
{
    if (!j) return;
    pthread_mutex_lock(&svc->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&svc->mu);
    if (left == 0) toon_job_free(j);
}

static void queue_remove(struct toon_service *svc, struct toon_job *j)
{
    struct toon_job **pp = &svc->q_head, *prev = NULL;
    while (*pp && *pp != j) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp) return;
    *pp = j->next;
    if (svc->q_tail == j) svc->q_tail = prev;
    j->next = NULL;
    svc->n_queued--;
}

/* Caller holds mu. */
static void cancel_locked(struct toon_service *svc, struct toon_job *j, const char *why)
{
    if (j->state == TOON_JOB_QUEUED) {
        queue_remove(svc, j);
        toon_job_fail(j, TOON_STATUS_CANCELLED, why);
        j->t_end = toon_now();
        if (j->in_path[0]) {
            unlink(j->in_path);
            j->in_path[0] = 0;
        }
        atomic_fetch_add(&svc->metrics.jobs_cancelled, 1);
        pthread_cond_broadcast(&svc->cv_done);
    } else if (j->state == TOON_JOB_RUNNING) {
        j->cancel = 1;
    }
}

enum toon_job_state toon_job_cancel(struct toon_service *svc, struct toon_job *j)
{
    if (svc->redis) return toon_rjobs_cancel(svc, j);
    pthread_mutex_lock(&svc->mu);
    cancel_locked(svc, j, "cancelled by the client");
    enum toon_job_state s = j->state;
    pthread_mutex_unlock(&svc->mu);
    return s;
}

int toon_job_wait(struct toon_service *svc, struct toon_job *j, int timeout_s)
{
    if (svc->redis) return toon_rjobs_wait(svc, j, timeout_s);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_s;
    pthread_mutex_lock(&svc->mu);
    while (!toon_job_ended(j->state))
        if (pthread_cond_timedwait(&svc->cv_done, &svc->mu, &until) == ETIMEDOUT) break;
    int ended = toon_job_ended(j->state);
    pthread_mutex_unlock(&svc->mu);
    return ended;
}

int toon_jobs_retry_after(struct toon_service *svc)
{
    unsigned long done = atomic_load(&svc->metrics.jobs_done);
    double avg = done ? (double)atomic_load(&svc->metrics.job_run_us) / 1e6 / (double)done : 5.0;
    pthread_mutex_lock(&svc->mu);
    int waiting = svc->n_queued + svc->n_running;
    pthread_mutex_unlock(&svc->mu);
    double s = avg * (waiting > 0 ? waiting : 1) / (svc->cfg.workers > 0 ? svc->cfg.workers : 1);
    return s < 1 ? 1 : s > 300 ? 300 : (int)(s + 0.999);
}

/* ---- running a job ---- */

void toon_job_take_report(struct toon_job *j, const struct toon_convert_report *rep)
{
    j->used_bytes = rep->used_bytes;
    j->s_decode = rep->seconds_decode;
    j->s_network = rep->seconds_network;
    j->s_encode = rep->seconds_encode;
    if (rep->out_w) {
        j->out_w = rep->out_w;
        j->out_h = rep->out_h;
    }
}

struct run_ctx {
    struct toon_service *svc;
    struct toon_job *j;
    FILE *f;
    size_t written;
    int write_errno; /* of the first failed write */
    double last_sample;
};

static enum toon_status sink_file(void *ctx, const void *data, size_t n)
{
    struct run_ctx *r = ctx;
    if (fwrite(data, 1, n, r->f) != n) {
        if (!r->write_errno) r->write_errno = errno ? errno : EIO;
        return TOON_STATUS_IO;
    }
    r->written += n;
    return TOON_STATUS_OK;
}

static void on_progress(void *ctx, double fraction)
{
    struct run_ctx *r = ctx;
    double t = toon_now();
    size_t rss = 0;
    if (t - r->last_sample > 0.05 || fraction >= 1) {
        r->last_sample = t;
        rss = toon_proc_rss();
    }
    pthread_mutex_lock(&r->svc->mu);
    r->j->progress = fraction < 0 ? 0 : fraction > 1 ? 1 : fraction;
    if (rss > r->j->rss_peak) r->j->rss_peak = rss;
    pthread_mutex_unlock(&r->svc->mu);
}

/* The stem of a result's name: the second it was submitted in, as the original service named
 * its results; toon_outputs_claim adds _2, _3... when the second is taken. */
static void out_stem(const struct toon_job *j, char *buf, size_t len)
{
    time_t t = (time_t)j->t_submit;
    struct tm tm;
    localtime_r(&t, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", &tm);
    snprintf(buf, len, "outputs_%s", stamp);
}

/* Converts the mapped input into outputs/<name>: written under work/, flushed to the disk, then
 * linked into place under a name claimed atomically (toon_outputs_claim fills name[len]), so a
 * result in outputs/ is always whole and never replaces another.  A failed write is reported as
 * toon_job_write_error says (a full disk: 507, and no answer names a path). */
static enum toon_status write_result(struct run_ctx *r, const void *map, char *name, size_t len,
                                     struct toon_convert_report *rep, struct toon_err *err)
{
    struct toon_service *svc = r->svc;
    struct toon_job *j = r->j;
    char stem[64], tmp[4500];
    out_stem(j, stem, sizeof stem);
    snprintf(tmp, sizeof tmp, "%s/.%s.part", svc->work, j->id);
    r->f = fopen(tmp, "wb");
    if (!r->f) return toon_job_write_error(errno, "the result", err);
    struct toon_convert_params cp = j->params.cp;
    cp.progress = on_progress;
    cp.progress_ctx = r;
    cp.cancel = &j->cancel;
    enum toon_status st =
        toon_convert(svc->styles[j->style].model, map, j->in_bytes, &cp, sink_file, r, rep, err);
    if (st == TOON_STATUS_OK && !r->write_errno && (fflush(r->f) != 0 || fsync(fileno(r->f)) != 0))
        r->write_errno = errno;
    if (fclose(r->f) != 0 && st == TOON_STATUS_OK && !r->write_errno) r->write_errno = errno;
    r->f = NULL;
    if (r->write_errno && st != TOON_STATUS_CANCELLED)
        st = toon_job_write_error(r->write_errno, "the result", err);
    int e = st == TOON_STATUS_OK
                ? toon_outputs_claim(svc, tmp, stem, toon_format_ext(cp.format), name, len)
                : 0;
    if (e) st = toon_job_write_error(e, "the result", err);
    unlink(tmp);
    return st;
}

/* Writes the sidecar of a job whose result is in outputs/, from a copy of the job as it will be
 * published; a result without its sidecar is removed (it would not survive a restart), and the
 * job fails with the same answer as any other failed write. */
static enum toon_status save_sidecar(struct toon_service *svc, struct toon_job *j,
                                     struct toon_err *err)
{
    struct toon_job snap;
    pthread_mutex_lock(&svc->mu);
    snap = *j;
    pthread_mutex_unlock(&svc->mu);
    snap.state = TOON_JOB_DONE;
    snap.progress = 1;
    snap.next = NULL;
    enum toon_status st = toon_history_save(svc, &snap, err);
    if (st != TOON_STATUS_OK) {
        toon_outputs_remove(svc, snap.out_name);
    }
    return st;
}

/* Counts a job that has ended (its state is published). */
static void count_end(struct toon_service *svc, struct toon_job *j, enum toon_status st,
                      size_t written, const char *why)
{
    if (st == TOON_STATUS_OK) {
        atomic_fetch_add(&svc->metrics.jobs_done, 1);
        atomic_fetch_add(&svc->metrics.result_bytes, (unsigned long)written);
    } else if (st == TOON_STATUS_CANCELLED) {
        atomic_fetch_add(&svc->metrics.jobs_cancelled, 1);
    } else {
        atomic_fetch_add(&svc->metrics.jobs_failed, 1);
        toon_log(TOON_LOG_WARN, "job %s failed: %s", j->id, why);
    }
    atomic_fetch_add(&svc->metrics.job_run_us, (unsigned long)((j->t_end - j->t_start) * 1e6));
    atomic_fetch_add(&svc->metrics.job_queue_us, (unsigned long)((j->t_start - j->t_submit) * 1e6));
}

/* Runs a job.  It is published done only once its result and its sidecar are both on disk
 * (fsynced), so a client that sees "done" finds both, even after a crash; its input is kept
 * until then. */
static void run_job(struct toon_service *svc, struct toon_job *j)
{
    struct toon_err err = {""};
    enum toon_status st = TOON_STATUS_OK;
    struct run_ctx r = {svc, j, NULL, 0, 0, 0};
    struct toon_convert_report rep;
    memset(&rep, 0, sizeof rep);
    char name[128];
    void *map = MAP_FAILED;
    int fd = open(j->in_path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        st = toon_err_set(&err, TOON_STATUS_IO, "the uploaded file is gone: %s", strerror(errno));
        goto done;
    }
    map = mmap(NULL, j->in_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        st = toon_err_set(&err, TOON_STATUS_IO, "cannot map the upload: %s", strerror(errno));
        goto done;
    }
    st = write_result(&r, map, name, sizeof name, &rep, &err);
    munmap(map, j->in_bytes);
    size_t rss = toon_proc_rss();
    pthread_mutex_lock(&svc->mu);
    toon_job_take_report(j, &rep);
    if (rss > j->rss_peak) j->rss_peak = rss;
    j->t_end = toon_now();
    if (st == TOON_STATUS_OK) {
        snprintf(j->out_name, sizeof j->out_name, "%s", name);
        j->out_bytes = r.written;
    }
    pthread_mutex_unlock(&svc->mu);
    if (st == TOON_STATUS_OK) st = save_sidecar(svc, j, &err);
done:
    pthread_mutex_lock(&svc->mu);
    if (j->t_end == 0) j->t_end = toon_now();
    if (st == TOON_STATUS_OK) {
        j->state = TOON_JOB_DONE;
        j->progress = 1;
    } else {
        j->out_name[0] = 0;
        j->out_bytes = 0;
        toon_job_fail(j, st, err.msg);
    }
    unlink(j->in_path);
    j->in_path[0] = 0;
    pthread_mutex_unlock(&svc->mu);
    count_end(svc, j, st, r.written, err.msg);
}

static void *worker_main(void *arg)
{
    struct toon_service *svc = arg;
    toon_set_threads(svc->threads_per_worker);
    pthread_mutex_lock(&svc->mu);
    for (;;) {
        struct toon_job *j = svc->q_head;
        if (svc->stopping && !j) break;
        size_t room = svc->limit > svc->reserve + svc->baseline
                          ? svc->limit - svc->reserve - svc->baseline
                          : 0;
        if (!j || (svc->n_running > 0 && svc->reserved + j->cost_bytes > room)) {
            pthread_cond_wait(&svc->cv_work, &svc->mu);
            continue;
        }
        queue_remove(svc, j);
        j->state = TOON_JOB_RUNNING;
        j->t_start = toon_now();
        j->refs++;
        svc->n_running++;
        svc->reserved += j->cost_bytes;
        pthread_mutex_unlock(&svc->mu);

        run_job(svc, j);

        pthread_mutex_lock(&svc->mu);
        svc->n_running--;
        svc->reserved -= j->cost_bytes;
        if (svc->n_running == 0) {
            /* Give freed arenas back, then let the baseline follow the idle process up (never
             * down: the first measurement was taken before any job ran). */
            malloc_trim(0);
            size_t idle = toon_proc_rss() + TOON_LIBRARY_MARGIN;
            if (idle > svc->baseline) svc->baseline = idle;
        }
        pthread_cond_broadcast(&svc->cv_work);
        pthread_cond_broadcast(&svc->cv_done);
        pthread_mutex_unlock(&svc->mu);
        toon_job_release(svc, j);
        pthread_mutex_lock(&svc->mu);
    }
    pthread_mutex_unlock(&svc->mu);
    return NULL;
}

enum toon_status toon_jobs_start_workers(struct toon_service *svc, struct toon_err *err)
{
    svc->workers = toon_calloc((size_t)svc->cfg.workers, sizeof *svc->workers);
    if (!svc->workers) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    for (int i = 0; i < svc->cfg.workers; i++) {
        if (pthread_create(&svc->workers[i], NULL, worker_main, svc) != 0)
            return toon_err_set(err, TOON_STATUS_INTERNAL, "cannot start worker threads");
        svc->n_workers_started++;
    }
    return TOON_STATUS_OK;
}

void toon_jobs_stop_workers(struct toon_service *svc)
{
    pthread_mutex_lock(&svc->mu);
    svc->stopping = 1;
    while (svc->q_head) cancel_locked(svc, svc->q_head, "the server shut down before it ran");
    pthread_cond_broadcast(&svc->cv_work);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += svc->cfg.grace_s;
    while (svc->n_running > 0)
        if (pthread_cond_timedwait(&svc->cv_done, &svc->mu, &until) == ETIMEDOUT) break;
    for (int i = 0; i < svc->n_jobs; i++)
        if (svc->jobs[i]->state == TOON_JOB_RUNNING) svc->jobs[i]->cancel = 1;
    pthread_cond_broadcast(&svc->cv_work);
    pthread_mutex_unlock(&svc->mu);
    for (int i = 0; i < svc->n_workers_started; i++) pthread_join(svc->workers[i], NULL);
    svc->n_workers_started = 0;
}
