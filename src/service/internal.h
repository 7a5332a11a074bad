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

#include "service/metrics.h"
#include "service/params.h"
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
    struct toon_model *head; /* the head generator when the style has its own, else NULL */
    char alpha[4096];        /* the style's alpha.jpg, "" when it has none */
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
    /* threads */
    pthread_t *workers;
    int n_workers_started;
    struct MHD_Daemon *mhd;
    int port;
    struct toon_metrics metrics;
};

/* ---- jobs.c ---- */
/* Makes a job for the image in data[len]: checks the style, probes, plans and decides (413 or
 * downgrade), writes the input under work/.  On failure the status and err say why; with
 * `keep_failed` a job that cannot run is still returned, FAILED, with its error (for batches). */
enum toon_status toon_job_prepare(struct toon_service *svc, const struct toon_job_params *p,
                                  const uint8_t *data, size_t len, const char *filename,
                                  int keep_failed, struct toon_job **out, struct toon_err *err);
/* Adds prepared jobs to the table, and the runnable ones to the queue, all or none: when the
 * queue has no room for them all it is TOON_STATUS_NO_MEMORY (503) and the jobs are freed. */
enum toon_status toon_jobs_enqueue(struct toon_service *svc, struct toon_job **jobs, int n,
                                   struct toon_err *err);
/* Finds a job by id and takes a reference (toon_job_release), or NULL. */
struct toon_job *toon_jobs_find(struct toon_service *svc, const char *id);
void toon_job_release(struct toon_service *svc, struct toon_job *j);
void toon_job_free(struct toon_job *j);
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
/* The inverse, for history: a job from a sidecar; NULL if the sidecar is not usable. */
struct toon_job *toon_job_from_json(const struct cJSON *o);

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

/* ---- history.c ---- */
/* Writes outputs/<name>.json beside the result (atomically). */
void toon_history_save(struct toon_service *svc, const struct toon_job *j);
/* Restores finished jobs from the sidecars in outputs/ (the newest `max` of them). */
void toon_history_load(struct toon_service *svc, int max);

/* ---- misc ---- */
double toon_now(void);                                    /* wall clock, epoch seconds */
const char *toon_mb(size_t bytes, char *buf, size_t len); /* "58.3 MB" */

#endif
