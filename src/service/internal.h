/*
 * The service's shared state: styles, memory figures, the job table and queue, the HTTP daemon.
 * One mutex (`mu`) guards every field marked "locked"; the rest is set before the threads start
 * and read-only afterwards.  Jobs are reference-counted so an HTTP thread can read one while a
 * worker finishes it.
 */
#ifndef TOON_SERVICE_INTERNAL_H
#define TOON_SERVICE_INTERNAL_H

#include <pthread.h>
#include <stddef.h>

#include "service/conns.h"
#include "service/metrics.h"
#include "service/params.h"
#include "service/redis.h"
#include "service/service.h"

/* Memory the process holds beyond what it measures when idle: the code and data of the
 * libraries that the first conversions bring in (oneDNN's generated kernels above all).  The
 * CLI measured 3-6 MB; the baseline adds the upper figure. */
#define TOON_LIBRARY_MARGIN ((size_t)6 << 20)

struct toon_style {
    char name[64];
    char path[4096];
    char description[160];
    struct toon_model *model;
    struct toon_model *head;   /* the head generator when the style has its own, else NULL */
    char alpha[4096];          /* the style's alpha.jpg, "" when it has none */
    char display_name[128];    /* for people (style_names.c) */
    char display_name_zh[128]; /* "" when the style's toonify.json gives none */
};

enum toon_job_state {
    TOON_JOB_QUEUED,
    TOON_JOB_RUNNING,
    TOON_JOB_DONE,
    TOON_JOB_FAILED,
    TOON_JOB_CANCELLED
};

struct toon_job {
    char id[33];        /* 128 random bits, hex */
    char batch[33];     /* "" unless part of a batch */
    int index;          /* position in its batch */
    char filename[128]; /* the uploaded file's name, for batches and the ZIP */
    struct toon_job_params params;
    int style; /* index into the service's styles; -1 for restored jobs */
    char style_name[64];
    int requested_size, downgraded;
    int fit;                     /* when refused: the largest size that fits, 0 if none */
    char note[256];              /* e.g. "ran at 2048 px: 4096 px needs 310 MB, ..." */
    struct toon_image_info info; /* of the input */
    size_t in_bytes;
    char in_path[4200]; /* the spooled input, removed when the job ends */
    int out_w, out_h;
    size_t cost_bytes; /* planned peak: convert plan + per-job margin + input */
    size_t plan_bytes; /* toon_convert_plan's figure alone */
    /* locked: */
    int refs;
    enum toon_job_state state;
    double progress;
    size_t used_bytes, rss_peak;     /* counting allocator's peak, process RSS peak while running */
    double t_submit, t_start, t_end; /* wall clock (epoch seconds) */
    double s_decode, s_network, s_encode;
    char out_name[128]; /* file name under outputs/ */
    size_t out_bytes;
    int http_code; /* of the failure */
    char error[64], detail[512];
    char worker[96]; /* scale-out: the worker running or that ran it */
    int attempts;    /* scale-out: how many times a worker started it */
    volatile int cancel;
    struct toon_job *next; /* in the queue */
};

struct toon_service {
    struct toon_service_config cfg;
    char outputs[4096];
    char work[4200]; /* outputs/.work: spooled uploads and job inputs */
    struct toon_style *styles;
    int n_styles, default_style;
    struct toon_face_models *faces; /* NULL: no face models found, faces are not cartoonised */
    char model_error[512];          /* why there is no style, for the page and /readyz */
    /* memory */
    size_t limit, reserve;
    char limit_source[4400];
    size_t baseline0; /* RSS after loading the models, plus the libraries' margin */
    int threads_per_worker;
    double started;
    /* locked: */
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    size_t baseline;        /* baseline0, raised when the idle process measures more */
    struct toon_job **jobs; /* [n_jobs], oldest first */
    int n_jobs, cap_jobs;
    struct toon_job *q_head, *q_tail;
    int n_queued, n_running;
    size_t reserved; /* sum of the running jobs' cost_bytes */
    int stopping;
    double writable_at;     /* when the outputs directory was last found writable or not */
    int writable_ok;        /* what that check found */
    char writable_why[512]; /* why not, when not */
    /* threads */
    pthread_t *workers;
    int n_workers_started;
    struct MHD_Daemon *mhd;
    struct toon_conns conns; /* deadlines and bounds over the daemon's connections */
    int port;
    struct toon_metrics metrics;
    /* scale-out: set when cfg.redis_url is */
    int redis;
    struct toon_redis_url rurl;
    struct toon_redis_pool pool;
    int pool_ready;
};

/* ---- jobs.c ---- */
/* Makes a job for the image in data[len]: checks the style, probes, plans and decides (413 or
 * downgrade), writes the input under work/.  On failure the status and err say why; with
 * `keep_failed` a job that cannot run is still returned, FAILED, with its error (for batches). */
enum toon_status toon_job_prepare(struct toon_service *svc, const struct toon_job_params *p,
                                  const uint8_t *data, size_t len, const char *filename,
                                  int keep_failed, struct toon_job **out, struct toon_err *err);
/* The index of a style by name ("" = the default), -1 if unknown. */
int toon_style_find(const struct toon_service *svc, const char *name);
/* Sets the conversion's mode and its style's head model, face models and mask (j->style set). */
void toon_job_bind_style(const struct toon_service *svc, struct toon_job *j);
/* Adds prepared jobs to the table, and the runnable ones to the queue, all or none: when the
 * queue has no room for them all it is TOON_STATUS_NO_MEMORY (503) and the jobs are freed. */
enum toon_status toon_jobs_enqueue(struct toon_service *svc, struct toon_job **jobs, int n,
                                   struct toon_err *err);
/* Finds a job by id and takes a reference (toon_job_release), or NULL. */
struct toon_job *toon_jobs_find(struct toon_service *svc, const char *id);
void toon_job_release(struct toon_service *svc, struct toon_job *j);
/* Takes an ended job out of the table (its files are the caller's to remove: out_name[len] is
 * filled, "" when it has no result).  1 when done, 0 when there is no such job, -1 when it is
 * still queued or running (nothing changed). */
int toon_jobs_forget(struct toon_service *svc, const char *id, char *out_name, size_t len);
void toon_job_free(struct toon_job *j);
/* The status and message for a failed write of `what` ("the input", "the result"): a full disk
 * is TOON_STATUS_NO_SPACE with TOON_DISK_FULL_DETAIL; no message names a path. */
enum toon_status toon_job_write_error(int e, const char *what, struct toon_err *err);
/* Ends a job as failed, or cancelled for TOON_STATUS_CANCELLED, with its error and detail. */
void toon_job_fail(struct toon_job *j, enum toon_status st, const char *detail);
/* Copies a conversion's figures (memory, timings, output size) into its job. */
void toon_job_take_report(struct toon_job *j, const struct toon_convert_report *rep);
/* Cancels a queued or running job; returns its state afterwards. */
enum toon_job_state toon_job_cancel(struct toon_service *svc, struct toon_job *j);
/* Waits (at most timeout_s) until the job has ended; returns 1 if it has. */
int toon_job_wait(struct toon_service *svc, struct toon_job *j, int timeout_s);
/* Adds a job restored from disk (history) to the table. */
void toon_jobs_add_restored(struct toon_service *svc, struct toon_job *j);
const char *toon_job_state_name(enum toon_job_state s);
int toon_job_ended(enum toon_job_state s);
/* Seconds a client should wait before retrying a refused job. */
int toon_jobs_retry_after(struct toon_service *svc);
/* The workers. */
enum toon_status toon_jobs_start_workers(struct toon_service *svc, struct toon_err *err);
void toon_jobs_stop_workers(struct toon_service *svc);
/* Fills 32 hex digits + NUL from 128 random bits. */
enum toon_status toon_random_id(char out[33], struct toon_err *err);

/* ---- job_json.c ---- (caller holds mu) */
struct cJSON;
struct cJSON *toon_job_json(const struct toon_service *svc, const struct toon_job *j);
/* The inverse: a job from its JSON (a history sidecar, or a job record in Redis); NULL if it is
 * not usable, and err says why.  Without any_state only finished jobs (history) are accepted.
 * The JSON is untrusted: every number must be finite, in its range, and whole where it counts
 * something, or the whole record is refused. */
struct toon_job *toon_job_from_json(const struct cJSON *o, int any_state, struct toon_err *err);
/* 1 if id is 32 lowercase hex digits. */
int toon_job_id_valid(const char *id);

/* ---- admission.c ---- */
/* Bytes a job needs beyond the plan: what the libraries allocate on their own per conversion
 * (grows with the width), measured. */
size_t toon_admission_margin(int out_w);
/* The planned peak of a job: plan + margin + input bytes.  Fills out_w, out_h, plan. */
enum toon_status toon_admission_cost(const struct toon_service *svc, const struct toon_model *m,
                                     const struct toon_image_info *info,
                                     const struct toon_convert_params *cp, size_t in_bytes,
                                     int *out_w, int *out_h, size_t *plan, size_t *cost,
                                     struct toon_err *err);
/* Bytes available to jobs when none runs: limit - reserve - baseline (0 if none). */
size_t toon_admission_room(struct toon_service *svc);
/* The largest size (longest side) whose cost fits `room`, 0 if none; at most `upto`. */
int toon_admission_largest(const struct toon_service *svc, const struct toon_model *m,
                           const struct toon_image_info *info, const struct toon_convert_params *cp,
                           size_t in_bytes, size_t room, int upto);

/* ---- rjobs.c: jobs kept in Redis (scale-out mode) ---- */
/* A worker not seen for this long is not counted for admission; after four times as long its
 * registration is removed (by any live worker). */
#define TOON_WORKER_STALE_S 15.0
/* "PREFIX:kind:id", or "PREFIX:kind" when id is NULL. */
void toon_rkey(const struct toon_service *svc, char *buf, size_t len, const char *kind,
               const char *id);
/* Copies a file into a key (replacing it), 1 MiB per command, and sets the key's TTL. */
enum toon_status toon_rkey_put_file(struct toon_service *svc, struct toon_redis *r, const char *key,
                                    const char *path, struct toon_err *err);
/* Reads a key 1 MiB per command into fn.  *len: the length expected (-1: any), set to the
 * key's; a missing key, or one of another length, is TOON_STATUS_NOT_FOUND. */
enum toon_status toon_rkey_read(struct toon_redis *r, const char *key, long long *len,
                                enum toon_status (*fn)(void *ctx, const void *data, size_t n),
                                void *ctx, struct toon_err *err);
/* Connects the pool and makes sure the queue's consumer group exists. */
enum toon_status toon_rjobs_init(struct toon_service *svc, struct toon_err *err);
/* The Redis sides of toon_jobs_enqueue, _find, _wait and _cancel. */
enum toon_status toon_rjobs_submit(struct toon_service *svc, struct toon_job **jobs, int n,
                                   struct toon_err *err);
/* *out is NULL when there is no such job (not an error). */
enum toon_status toon_rjobs_find(struct toon_service *svc, const char *id, struct toon_job **out,
                                 struct toon_err *err);
int toon_rjobs_wait(struct toon_service *svc, struct toon_job *j, int timeout_s);
enum toon_job_state toon_rjobs_cancel(struct toon_service *svc, struct toon_job *j);
/* A batch's jobs in order (each refs 1); the count, 0 if unknown, -1 on error. */
int toon_rjobs_batch(struct toon_service *svc, const char *id, struct toon_job ***out,
                     struct toon_err *err);
/* The newest jobs (or finished results) as a JSON array; NULL on error. */
struct cJSON *toon_rjobs_list(struct toon_service *svc, int done_only, int limit,
                              struct toon_err *err);
/* Copies a job's result out of Redis into a new file under work/ (path filled in). */
enum toon_status toon_rjobs_fetch_result(struct toon_service *svc, const struct toon_job *j,
                                         char *path, size_t path_len, struct toon_err *err);
/* The most memory a live worker has for one job (SIZE_MAX when no worker is known), and which
 * worker that is. */
size_t toon_rjobs_room(struct toon_service *svc, char *who, size_t who_len);
/* How many workers were seen in the last TOON_WORKER_STALE_S seconds; -1 with err when Redis
 * cannot be asked. */
int toon_rjobs_live_workers(struct toon_service *svc, struct toon_err *err);
/* Workers, queue length and counters for /api/v1/status. */
struct cJSON *toon_rjobs_status(struct toon_service *svc);
/* For workers: a state change of a job that has not ended (0: it has ended, 1: done, 2: done
 * and a cancel is asked for, -1: error), and the end of a job with its result in `part`
 * (1: this call ended it, 0: it had ended, -1: it expired, -2: result missing, -3: error). */
int toon_rjob_update(struct toon_service *svc, struct toon_redis *r, const struct toon_job *j,
                     int start, struct toon_err *err);
int toon_rjob_finish(struct toon_service *svc, struct toon_redis *r, const struct toon_job *j,
                     const char *part, struct toon_err *err);

/* ---- outputs.c: reading back the outputs directory, which is untrusted ---- */
struct stat;
/* Opens outputs/<name> for reading when it is a regular file reached without a link (and
 * without blocking); the descriptor, or -1 with errno (EINVAL: not a plain name or not a
 * regular file, ELOOP: a link). */
int toon_outputs_open(const struct toon_service *svc, const char *name, struct stat *st);
/* 1 if outputs/<name> is a result toon_outputs_open would serve. */
int toon_outputs_is_result(const struct toon_service *svc, const char *name);
/* Reads outputs/<name>, a regular file of at most max bytes, NUL-terminated into *out
 * (toon_free). */
enum toon_status toon_outputs_read_small(const struct toon_service *svc, const char *name,
                                         size_t max, char **out, struct toon_err *err);
/* Links the finished file tmp into outputs/ as <stem>.<ext>, or <stem>_2.<ext>, _3... when the
 * name is taken, and fills name[len].  The name is claimed with O_EXCL on its sidecar
 * (<stem>[_N].json, left empty for toon_history_save to replace) and the link never replaces a
 * file, so two results of the same second, of any formats, never share a name or a sidecar.
 * Returns 0, or the errno that stopped it (tmp is left for the caller to remove). */
int toon_outputs_claim(const struct toon_service *svc, const char *tmp, const char *stem,
                       const char *ext, char *name, size_t len);
/* Removes outputs/<name> and its sidecar (and thumbnail), each only when it is a regular file
 * (unlinked relative to the directory, never through a link). */
void toon_outputs_remove(const struct toon_service *svc, const char *name);
/* 1 if a file can be created and removed in outputs/ and outputs/.work right now (checked at
 * most once a second); else 0 and why says what failed. */
int toon_outputs_writable(struct toon_service *svc, char *why, size_t why_len);

/* ---- style_names.c ---- */
/* Fills every style's display names: from toonify.json or style.json in a directory that holds
 * only that style's model, else its file name cleaned up (toon_style_clean_name). */
void toon_styles_name(struct toon_service *svc);
/* "whitebox_cartoon_gan_dr" -> "Whitebox cartoon GAN (dynamic range)". */
void toon_style_clean_name(const char *name, char *buf, size_t len);

/* ---- thumbs.c: thumbnails of results, cached in outputs/.thumbs/ ---- */
/* The longest side of a thumbnail for a requested one: clamped to 64..512. */
int toon_thumb_side(long requested);
/* Upper bound of the heap making a thumbnail of this image takes (reader, resizer, writer). */
size_t toon_thumb_plan_bytes(const struct toon_image_info *info, int side);
/* Opens the thumbnail of outputs/<out_name> with this longest side, made and cached first when
 * missing (its plan reserved against the jobs' room: TOON_STATUS_NO_MEMORY when it does not
 * fit now).  *out_fd is the caller's on success. */
enum toon_status toon_thumb_open(struct toon_service *svc, const char *out_name, int side,
                                 int *out_fd, struct toon_err *err);
/* Removes every cached thumbnail of outputs/<out_name>. */
void toon_thumbs_remove(const struct toon_service *svc, const char *out_name);

/* ---- lang.c: answers in Chinese ---- */
/* 1 if an Accept-Language header (may be NULL) prefers Chinese to anything else. */
int toon_lang_wants_zh(const char *accept_language);
/* Turns an error body {"error", "detail"} into Chinese; a detail with no fixed translation
 * becomes the status's Chinese message and is kept in English as "detail_en". */
void toon_lang_localize(struct cJSON *o);

/* ---- readiness.c ---- */
/* NULL when a job submitted now can complete; else a reason code ("no-model", "shutting-down",
 * "outputs-not-writable", "redis-unreachable", "no-worker") and, in detail, a sentence. */
const char *toon_service_not_ready(struct toon_service *svc, char *detail, size_t len);

/* ---- history.c ---- */
/* Writes outputs/<name>.json beside the result, durably (fsync, rename, fsync of outputs/).
 * j is the caller's own copy of the job as it will be published (no lock is taken). */
enum toon_status toon_history_save(struct toon_service *svc, const struct toon_job *j,
                                   struct toon_err *err);
/* fsyncs a directory, so the names just renamed into it survive a crash. */
enum toon_status toon_fsync_dir(const char *dir, struct toon_err *err);
/* Restores finished jobs from the sidecars in outputs/ (the newest `max` of them). */
void toon_history_load(struct toon_service *svc, int max);

/* ---- misc ---- */
double toon_now(void); /* wall clock, epoch seconds */
/* Bytes in binary units: "64 MiB", "2 GiB", "58.3 MiB", "4000 bytes". */
const char *toon_mb(size_t bytes, char *buf, size_t len);
/* The detail of every answer for a full disk (upload, input, result, sidecar): one text, and no
 * path of the server's. */
#define TOON_DISK_FULL_DETAIL                                                                      \
    "the server's disk is full: the job could not be stored; try again later"

#endif
