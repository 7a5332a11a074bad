/*
 * A job as JSON: what GET /api/v1/jobs/{id} answers, what the history sidecars hold, and (read
 * back) how finished jobs are restored after a restart.  One function each way keeps the two in
 * step.
 */
#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "service/internal.h"

cJSON *toon_job_json(const struct toon_service *svc, const struct toon_job *j)
{
    (void)svc;
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "id", j->id);
    cJSON_AddStringToObject(o, "state", toon_job_state_name(j->state));
    cJSON_AddNumberToObject(o, "progress", j->progress);
    if (j->batch[0]) {
        cJSON_AddStringToObject(o, "batch", j->batch);
        cJSON_AddNumberToObject(o, "index", j->index);
    }
    cJSON_AddStringToObject(o, "filename", j->filename);
    cJSON_AddStringToObject(o, "style", j->style_name);
    if (j->worker[0]) cJSON_AddStringToObject(o, "worker", j->worker);
    if (j->attempts) cJSON_AddNumberToObject(o, "attempts", j->attempts);

    cJSON *p = cJSON_AddObjectToObject(o, "params");
    cJSON_AddNumberToObject(p, "size", j->requested_size);
    cJSON_AddNumberToObject(p, "strength",
                            (double)((int)(j->params.cp.strength * 1000 + 0.5f)) / 1000.0);
    cJSON_AddStringToObject(p, "format", toon_format_ext(j->params.cp.format));
    cJSON_AddNumberToObject(p, "quality", j->params.cp.quality);
    cJSON_AddStringToObject(p, "precision", toon_precision_name(j->params.cp.gen.precision));
    cJSON_AddStringToObject(p, "mode", toon_mode_name(j->params.cp.mode));

    cJSON_AddNumberToObject(o, "size", j->out_w > j->out_h ? j->out_w : j->out_h);
    cJSON_AddBoolToObject(o, "downgraded", j->downgraded);
    if (j->note[0]) cJSON_AddStringToObject(o, "note", j->note);

    cJSON *in = cJSON_AddObjectToObject(o, "input");
    cJSON_AddNumberToObject(in, "w", j->info.w);
    cJSON_AddNumberToObject(in, "h", j->info.h);
    cJSON_AddStringToObject(in, "format",
                            j->info.format ? toon_format_name(j->info.format) : "unknown");
    cJSON_AddNumberToObject(in, "bytes", (double)j->in_bytes);

    cJSON *out = cJSON_AddObjectToObject(o, "output");
    cJSON_AddNumberToObject(out, "w", j->out_w);
    cJSON_AddNumberToObject(out, "h", j->out_h);
    cJSON_AddStringToObject(out, "format", toon_format_ext(j->params.cp.format));
    cJSON_AddNumberToObject(out, "scale",
                            j->info.w > 0 ? (double)j->out_w / (double)j->info.w : 0.0);
    if (j->out_name[0]) {
        char url[96];
        snprintf(url, sizeof url, "/api/v1/jobs/%s/result", j->id);
        cJSON_AddStringToObject(out, "file", j->out_name);
        cJSON_AddNumberToObject(out, "bytes", (double)j->out_bytes);
        cJSON_AddStringToObject(out, "url", url);
    }

    cJSON *m = cJSON_AddObjectToObject(o, "memory");
    cJSON_AddNumberToObject(m, "planned_bytes", (double)j->cost_bytes);
    cJSON_AddNumberToObject(m, "plan_heap_bytes", (double)j->plan_bytes);
    cJSON_AddNumberToObject(m, "measured_heap_bytes", (double)j->used_bytes);
    cJSON_AddNumberToObject(m, "rss_peak_bytes", (double)j->rss_peak);

    cJSON *t = cJSON_AddObjectToObject(o, "timings");
    cJSON_AddNumberToObject(t, "submitted", j->t_submit);
    if (j->t_start > 0) {
        cJSON_AddNumberToObject(t, "queued_s", j->t_start - j->t_submit);
        cJSON_AddNumberToObject(t, "started", j->t_start);
    }
    if (j->t_end > 0) cJSON_AddNumberToObject(t, "finished", j->t_end);
    if (j->t_end > 0 && j->t_start > 0) {
        cJSON_AddNumberToObject(t, "run_s", j->t_end - j->t_start);
        cJSON_AddNumberToObject(t, "decode_s", j->s_decode);
        cJSON_AddNumberToObject(t, "network_s", j->s_network);
        cJSON_AddNumberToObject(t, "encode_s", j->s_encode);
    }
    if (j->state == TOON_JOB_FAILED || j->state == TOON_JOB_CANCELLED) {
        cJSON *e = cJSON_AddObjectToObject(o, "error");
        cJSON_AddStringToObject(e, "error", j->error);
        cJSON_AddStringToObject(e, "detail", j->detail);
        cJSON_AddNumberToObject(e, "code", j->http_code);
    }
    return o;
}

/* Reads numbers out of untrusted JSON: each one must be finite, within its range and, where it
 * counts something, integral.  An absent number reads as 0; the first bad one is remembered
 * (a job with one is not used). */
struct num_reader {
    const cJSON *o;
    char bad[96]; /* "output.bytes = -1", "" while all is well */
};

static double num_in(struct num_reader *rd, const char *k1, const char *k2, double lo, double hi,
                     int integral)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(rd->o, k1);
    if (k2) x = cJSON_GetObjectItemCaseSensitive(x, k2);
    if (!x) return 0;
    double v = cJSON_IsNumber(x) ? x->valuedouble : NAN;
    if (isfinite(v) && v >= lo && v <= hi && (!integral || v == floor(v))) return v;
    if (rd->bad[0]) return 0;
    if (cJSON_IsNumber(x))
        snprintf(rd->bad, sizeof rd->bad, "%s%s%s = %.6g", k1, k2 ? "." : "", k2 ? k2 : "", v);
    else
        snprintf(rd->bad, sizeof rd->bad, "%s%s%s is not a number", k1, k2 ? "." : "",
                 k2 ? k2 : "");
    return 0;
}

/* A whole number in [0, hi]. */
static int int_in(struct num_reader *rd, const char *k1, const char *k2, int hi)
{
    return (int)num_in(rd, k1, k2, 0, hi, 1);
}

/* A byte count: a whole number that a double holds exactly. */
static size_t bytes_in(struct num_reader *rd, const char *k1, const char *k2)
{
    return (size_t)num_in(rd, k1, k2, 0, 9007199254740992.0, 1);
}

/* Epoch seconds, or seconds spent: no earlier than 1970, no later than the year 5000. */
static double seconds_in(struct num_reader *rd, const char *k1, const char *k2)
{
    return num_in(rd, k1, k2, 0, 1e11, 0);
}

static void str(const cJSON *o, const char *path1, const char *path2, char *out, size_t len)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, path1);
    if (path2) x = cJSON_GetObjectItemCaseSensitive(x, path2);
    snprintf(out, len, "%s", cJSON_IsString(x) ? x->valuestring : "");
}

int toon_job_id_valid(const char *id)
{
    if (strlen(id) != 32) return 0;
    for (int i = 0; i < 32; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

static int state_from_name(const char *s)
{
    static const enum toon_job_state all[] = {TOON_JOB_QUEUED, TOON_JOB_RUNNING, TOON_JOB_DONE,
                                              TOON_JOB_FAILED, TOON_JOB_CANCELLED};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, toon_job_state_name(all[i])) == 0) return (int)all[i];
    return -1;
}

/* The numbers of a job record (see toon_job_json); rd->bad says which one was wrong. */
static void job_numbers(struct toon_job *j, struct num_reader *rd)
{
    const int max_side = 1 << 20, max_index = 1 << 20;
    if (j->state != TOON_JOB_DONE) j->progress = num_in(rd, "progress", NULL, 0, 1, 0);
    j->attempts = int_in(rd, "attempts", NULL, max_index);
    if (j->state == TOON_JOB_FAILED || j->state == TOON_JOB_CANCELLED)
        j->http_code = int_in(rd, "error", "code", 599);
    j->index = int_in(rd, "index", NULL, max_index);
    j->requested_size = int_in(rd, "params", "size", max_side);
    int size = int_in(rd, "size", NULL, max_side);
    /* A downgraded job runs at the size admission chose, which "size" holds. */
    j->params.cp.size = j->downgraded ? size : j->requested_size;
    j->params.cp.strength = (float)num_in(rd, "params", "strength", 0, 1, 0);
    j->params.cp.quality = int_in(rd, "params", "quality", 100);
    j->info.w = int_in(rd, "input", "w", max_side);
    j->info.h = int_in(rd, "input", "h", max_side);
    j->in_bytes = bytes_in(rd, "input", "bytes");
    j->out_w = int_in(rd, "output", "w", max_side);
    j->out_h = int_in(rd, "output", "h", max_side);
    j->out_bytes = bytes_in(rd, "output", "bytes");
    j->cost_bytes = bytes_in(rd, "memory", "planned_bytes");
    j->plan_bytes = bytes_in(rd, "memory", "plan_heap_bytes");
    j->used_bytes = bytes_in(rd, "memory", "measured_heap_bytes");
    j->rss_peak = bytes_in(rd, "memory", "rss_peak_bytes");
    j->t_submit = seconds_in(rd, "timings", "submitted");
    j->t_start = seconds_in(rd, "timings", "started");
    j->t_end = seconds_in(rd, "timings", "finished");
    j->s_decode = seconds_in(rd, "timings", "decode_s");
    j->s_network = seconds_in(rd, "timings", "network_s");
    j->s_encode = seconds_in(rd, "timings", "encode_s");
}

/* The strings of a job record, each cut to its field's size. */
static void job_strings(struct toon_job *j, const cJSON *o)
{
    char fmt[16]; /* a format, precision or mode name */
    str(o, "worker", NULL, j->worker, sizeof j->worker);
    if (j->state == TOON_JOB_FAILED || j->state == TOON_JOB_CANCELLED) {
        str(o, "error", "error", j->error, sizeof j->error);
        str(o, "error", "detail", j->detail, sizeof j->detail);
    }
    str(o, "batch", NULL, j->batch, sizeof j->batch);
    str(o, "filename", NULL, j->filename, sizeof j->filename);
    str(o, "style", NULL, j->style_name, sizeof j->style_name);
    str(o, "note", NULL, j->note, sizeof j->note);
    str(o, "params", "format", fmt, sizeof fmt);
    j->params.cp.format = toon_format_from_name(fmt);
    if (j->params.cp.format == TOON_FORMAT_UNKNOWN) j->params.cp.format = TOON_FORMAT_PNG;
    str(o, "params", "precision", fmt, sizeof fmt);
    if (!toon_precision_from_name(fmt, &j->params.cp.gen.precision))
        j->params.cp.gen.precision = TOON_PRECISION_FP32;
    str(o, "params", "mode", fmt, sizeof fmt);
    if (!toon_mode_from_name(fmt, &j->params.cp.mode)) j->params.cp.mode = TOON_MODE_HD;
    str(o, "input", "format", fmt, sizeof fmt);
    j->info.format = toon_format_from_name(fmt);
}

struct toon_job *toon_job_from_json(const cJSON *o, int any_state, struct toon_err *err)
{
    char state[16], id[64], name[160];
    str(o, "state", NULL, state, sizeof state);
    str(o, "id", NULL, id, sizeof id);
    str(o, "output", "file", name, sizeof name);
    int s = state_from_name(state);
    if (s < 0 || !toon_job_id_valid(id)) {
        toon_err_set(err, TOON_STATUS_CORRUPT, "no valid id and state");
        return NULL;
    }
    if (!any_state && s != TOON_JOB_DONE) {
        toon_err_set(err, TOON_STATUS_CORRUPT, "the job is %s, not done", state);
        return NULL;
    }
    /* A finished job's file name is used as a path under outputs/. */
    if ((s == TOON_JOB_DONE || name[0]) &&
        (!name[0] || strchr(name, '/') || name[0] == '.' || strlen(name) >= 128)) {
        toon_err_set(err, TOON_STATUS_CORRUPT, "the result's name is not a plain file name");
        return NULL;
    }
    struct toon_job *j = toon_calloc(1, sizeof *j);
    if (!j) {
        toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        return NULL;
    }
    toon_job_params_default(&j->params);
    memcpy(j->id, id, 33);
    j->style = -1;
    j->refs = 1;
    j->state = (enum toon_job_state)s;
    j->progress = 1;
    memcpy(j->out_name, name, strlen(name) + 1); /* shorter than 128, checked above */
    j->downgraded = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "downgraded"));
    struct num_reader rd = {o, ""};
    job_numbers(j, &rd);
    if (rd.bad[0]) {
        toon_err_set(err, TOON_STATUS_CORRUPT, "bad number: %s", rd.bad);
        toon_free(j);
        return NULL;
    }
    job_strings(j, o);
    return j;
}
