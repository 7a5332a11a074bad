/*
 * `toonify serve`: the HTTP service and its page, and `toonify worker`: the job runner of the
 * scale-out mode (both in src/service).  This file only turns options into a configuration,
 * finds the models the way the converter does, and waits for SIGINT or SIGTERM to shut down
 * gracefully.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "service/service.h"

static const char usage[] =
    "usage: toonify serve [options]\n"
    "\n"
    "Serves the toonify page and its HTTP API (see the README).\n"
    "\n"
    "options:\n"
    "      --host ADDR         address to listen on (default 127.0.0.1)\n"
    "  -p, --port N            port (default 7860; 0 = any free port)\n"
    "  -m, --models PATH       a model file or a directory of styles (default: as `toonify`\n"
    "                          finds its model: $TOONIFY_MODEL_DIR, ./models, ...);\n"
    "      --model PATH        the same option (the converter's spelling)\n"
    "  -o, --outputs DIR       where results and their history go (default ./outputs)\n"
    "  -w, --workers N         conversions at once (default 1)\n"
    "  -t, --threads N         threads in all, shared by the workers (default: the CPUs)\n"
    "      --memory-limit SIZE memory limit (default: the cgroup's, else physical memory)\n"
    "      --queue N           jobs that may wait (default 16); more get 503\n"
    "      --upload-limit SIZE largest request body (default 64M)\n"
    "      --max-batch N       files per batch at most (default 50)\n"
    "      --timeout S         close connections idle for S seconds (default 30)\n"
    "      --header-timeout S  a request's headers must arrive within S seconds of its first\n"
    "                          byte (default 15), else the connection is closed\n"
    "      --request-timeout S and its body within S seconds of its first byte (default 60,\n"
    "                          or 1 s per MiB of --upload-limit when that is more)\n"
    "      --max-connections N open connections at most (default 64); near the limit the\n"
    "                          slowest request still arriving is closed to make room\n"
    "      --per-address N     connections from one client address at most (default 16; 0 =\n"
    "                          no bound); 127.0.0.1 and ::1, a local proxy, are not bounded\n"
    "      --sync-timeout S    how long /api/v1/cartoonize waits (default 600)\n"
    "      --grace S           on SIGTERM, let running jobs finish for S seconds (default 10)\n"
    "      --downgrade         run jobs that do not fit at the largest size that does\n"
    "      --redis URL         scale out: keep jobs in Redis (redis://host:port[/db]\n"
    "                          [?prefix=NAME]) for `toonify worker` processes to run; any\n"
    "                          number of replicas can serve the same URL behind a balancer\n"
    "                          (or $TOONIFY_REDIS_URL)\n"
    "      --result-ttl S      with --redis: keep jobs and results S seconds (default 86400)\n"
    "  -q, --quiet             no access log\n"
    "  -v, --verbose           log more\n"
    "  -h, --help              this text\n";

static const char worker_usage[] =
    "usage: toonify worker --redis URL [options]\n"
    "\n"
    "Runs the jobs that `toonify serve --redis URL` replicas queue in Redis (see the README).\n"
    "Jobs are taken only when their planned memory fits this process's limit; one that never\n"
    "can is left for a bigger worker.  A job whose worker dies is taken over by another.\n"
    "\n"
    "options:\n"
    "      --redis URL         redis://[:password@]host[:port][/db][?prefix=NAME] (required;\n"
    "                          or $TOONIFY_REDIS_URL, which keeps a password out of ps)\n"
    "  -m, --models PATH       a model file or a directory of styles (as `toonify serve`);\n"
    "      --model PATH        the same option\n"
    "  -w, --workers N         jobs at once (default 1)\n"
    "  -t, --threads N         threads in all, shared by the jobs (default: the CPUs)\n"
    "      --memory-limit SIZE memory limit (default: the cgroup's, else physical memory)\n"
    "      --work DIR          temporary files (default: a new directory under $TMPDIR)\n"
    "      --claim-idle MS     take over a job whose worker was silent this long (default\n"
    "                          30000; every worker of a queue should use the same value)\n"
    "      --note-after S      say in a job's note, after S seconds, that it waits for a\n"
    "                          worker with more memory (default 10)\n"
    "      --result-ttl S      keep results S seconds (default 86400)\n"
    "      --grace S           on SIGTERM, let running jobs finish for S seconds, then hand\n"
    "                          them back (default 10)\n"
    "  -v, --verbose           log more\n"
    "  -h, --help              this text\n"
    "\n"
    "exit codes: 0 stopped by SIGINT/SIGTERM, 2 bad arguments, 7 no model, 10 Redis\n"
    "unreachable at start.\n";

static int int_opt(const char *name, const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "toonify: invalid value '%s' for --%s (%d..%d)\n", s, name, lo, hi);
        return 0;
    }
    *out = (int)v;
    return 1;
}

static volatile int worker_stop;

static int in_list(const int *list, int c)
{
    for (; *list; list++)
        if (*list == c) return 1;
    return 0;
}

static void on_stop_signal(int sig);

/* `toonify worker`: temporary files in --work or a directory of its own, removed at exit. */
static int run_worker(struct toon_service_config *cfg, const char *work)
{
    char dir[4096];
    if (work) {
        snprintf(dir, sizeof dir, "%s", work);
    } else {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/toonify-worker.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir)) {
            fprintf(stderr, "toonify worker: cannot create %s: %s\n", dir, strerror(errno));
            return toon_status_exit_code(TOON_STATUS_IO);
        }
    }
    cfg->outputs = dir;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    struct toon_err err = {""};
    enum toon_status st = toon_worker_run(cfg, &worker_stop, &err);
    if (!work) { /* ours: empty it and remove it */
        char sub[4200];
        snprintf(sub, sizeof sub, "%s/.work", dir);
        rmdir(sub);
        rmdir(dir);
    }
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify worker: %s\n", err.msg);
        return toon_status_exit_code(st);
    }
    fprintf(stderr, "toonify worker: stopped\n");
    return 0;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    worker_stop = 1;
}

enum {
    OPT_HOST = 256,
    OPT_MEM,
    OPT_QUEUE,
    OPT_UPLOAD,
    OPT_BATCH,
    OPT_TIMEOUT,
    OPT_SYNC,
    OPT_GRACE,
    OPT_DOWNGRADE,
    OPT_REDIS,
    OPT_TTL,
    OPT_CLAIM,
    OPT_NOTE,
    OPT_WORK,
    OPT_HEADER_TIMEOUT,
    OPT_REQUEST_TIMEOUT,
    OPT_MAX_CONN,
    OPT_PER_ADDRESS
};

static const struct option longopts[] = {
    {"host", required_argument, 0, OPT_HOST},
    {"port", required_argument, 0, 'p'},
    {"models", required_argument, 0, 'm'},
    {"model", required_argument, 0, 'm'},
    {"outputs", required_argument, 0, 'o'},
    {"workers", required_argument, 0, 'w'},
    {"threads", required_argument, 0, 't'},
    {"memory-limit", required_argument, 0, OPT_MEM},
    {"queue", required_argument, 0, OPT_QUEUE},
    {"upload-limit", required_argument, 0, OPT_UPLOAD},
    {"max-batch", required_argument, 0, OPT_BATCH},
    {"timeout", required_argument, 0, OPT_TIMEOUT},
    {"sync-timeout", required_argument, 0, OPT_SYNC},
    {"grace", required_argument, 0, OPT_GRACE},
    {"downgrade", no_argument, 0, OPT_DOWNGRADE},
    {"redis", required_argument, 0, OPT_REDIS},
    {"result-ttl", required_argument, 0, OPT_TTL},
    {"claim-idle", required_argument, 0, OPT_CLAIM},
    {"note-after", required_argument, 0, OPT_NOTE},
    {"work", required_argument, 0, OPT_WORK},
    {"header-timeout", required_argument, 0, OPT_HEADER_TIMEOUT},
    {"request-timeout", required_argument, 0, OPT_REQUEST_TIMEOUT},
    {"max-connections", required_argument, 0, OPT_MAX_CONN},
    {"per-address", required_argument, 0, OPT_PER_ADDRESS},
    {"quiet", no_argument, 0, 'q'},
    {"verbose", no_argument, 0, 'v'},
    {"help", no_argument, 0, 'h'},
    {0, 0, 0, 0},
};

/* The integer options: the configuration field each sets and its range. */
static const struct int_option {
    int val;
    const char *name;
    int lo, hi;
    size_t field;
} int_options[] = {
    {'p', "port", 0, 65535, offsetof(struct toon_service_config, port)},
    {'w', "workers", 1, 64, offsetof(struct toon_service_config, workers)},
    {'t', "threads", 1, 1024, offsetof(struct toon_service_config, threads)},
    {OPT_QUEUE, "queue", 0, 100000, offsetof(struct toon_service_config, queue_max)},
    {OPT_BATCH, "max-batch", 1, 1000, offsetof(struct toon_service_config, max_batch)},
    {OPT_TIMEOUT, "timeout", 1, 86400, offsetof(struct toon_service_config, timeout_s)},
    {OPT_HEADER_TIMEOUT, "header-timeout", 1, 3600,
     offsetof(struct toon_service_config, header_timeout_s)},
    {OPT_REQUEST_TIMEOUT, "request-timeout", 1, 86400,
     offsetof(struct toon_service_config, request_timeout_s)},
    {OPT_MAX_CONN, "max-connections", 8, 100000,
     offsetof(struct toon_service_config, max_connections)},
    {OPT_PER_ADDRESS, "per-address", 0, 100000, offsetof(struct toon_service_config, per_address)},
    {OPT_SYNC, "sync-timeout", 1, 86400, offsetof(struct toon_service_config, sync_timeout_s)},
    {OPT_GRACE, "grace", 0, 86400, offsetof(struct toon_service_config, grace_s)},
    {OPT_TTL, "result-ttl", 1, 365 * 86400, offsetof(struct toon_service_config, result_ttl_s)},
    {OPT_CLAIM, "claim-idle", 100, 86400000, offsetof(struct toon_service_config, claim_idle_ms)},
    {OPT_NOTE, "note-after", 0, 86400, offsetof(struct toon_service_config, note_after_s)},
};

/* Options that mean something to one of the two commands only. */
static const int serve_only[] = {'p',
                                 'o',
                                 'q',
                                 OPT_HOST,
                                 OPT_QUEUE,
                                 OPT_UPLOAD,
                                 OPT_BATCH,
                                 OPT_TIMEOUT,
                                 OPT_SYNC,
                                 OPT_DOWNGRADE,
                                 OPT_HEADER_TIMEOUT,
                                 OPT_REQUEST_TIMEOUT,
                                 OPT_MAX_CONN,
                                 OPT_PER_ADDRESS,
                                 0};
static const int worker_only[] = {OPT_CLAIM, OPT_NOTE, OPT_WORK, 0};

/* What the command line says, for either command (worker = 0 for `serve`, 1 for `worker`). */
struct serve_args {
    int worker;
    const char *cmd, *help;
    struct toon_service_config cfg;
    const char *models, *work;
    int verbose;
};

static const char *long_name(int c)
{
    for (const struct option *o = longopts; o->name; o++)
        if (o->val == c) return o->name;
    return "?";
}

/* One option other than the integer ones: -1 to go on, else the exit code. */
static int take_option(struct serve_args *a, int c)
{
    switch (c) {
    case OPT_HOST:
        a->cfg.host = optarg;
        return -1;
    case 'm':
        a->models = optarg;
        return -1;
    case 'o':
        a->cfg.outputs = optarg;
        return -1;
    case OPT_MEM:
    case OPT_UPLOAD: {
        size_t v = toon_cli_parse_bytes(optarg);
        if (!v) {
            fprintf(stderr, "%s: invalid value '%s' for --%s\n", a->cmd, optarg, long_name(c));
            return 2;
        }
        *(c == OPT_MEM ? &a->cfg.memory_limit : &a->cfg.upload_max) = v;
        return -1;
    }
    case OPT_DOWNGRADE:
        a->cfg.downgrade = 1;
        return -1;
    case OPT_REDIS:
        a->cfg.redis_url = optarg;
        return -1;
    case OPT_WORK:
        a->work = optarg;
        return -1;
    case 'q':
        a->cfg.quiet = 1;
        return -1;
    case 'v':
        a->verbose = 1;
        return -1;
    case 'h':
        fputs(a->help, stdout);
        return 0;
    default:
        fputs(a->help, stderr);
        return 2;
    }
}

/* The command line into *a: -1 to go on, else the exit code. */
static int parse_args(struct serve_args *a, int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:m:o:w:t:qvh", longopts, NULL)) != -1) {
        if (in_list(a->worker ? serve_only : worker_only, c)) {
            fprintf(stderr, "%s: option --%s is for `toonify %s`\n", a->cmd, long_name(c),
                    a->worker ? "serve" : "worker");
            return 2;
        }
        const struct int_option *io = NULL;
        for (size_t i = 0; i < sizeof int_options / sizeof int_options[0]; i++)
            if (int_options[i].val == c) io = &int_options[i];
        if (io) {
            int *field = (int *)((char *)&a->cfg + io->field);
            if (!int_opt(io->name, optarg, io->lo, io->hi, field)) return 2;
            continue;
        }
        int rc = take_option(a, c);
        if (rc >= 0) return rc;
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n%s", a->cmd, argv[optind], a->help);
        return 2;
    }
    /* The URL may carry a password: $TOONIFY_REDIS_URL keeps it out of the process list. */
    const char *env_url = getenv("TOONIFY_REDIS_URL");
    if (!a->cfg.redis_url && env_url && *env_url) a->cfg.redis_url = env_url;
    if (a->worker && !a->cfg.redis_url) {
        fprintf(stderr, "%s: --redis URL is required\n%s", a->cmd, a->help);
        return 2;
    }
    return -1;
}

/* Without --models, the directory of the model `toonify` itself would use (into path).  A
 * worker cannot go on without one; the service serves its page with instructions.  -1 to go
 * on, else the exit code. */
static int choose_models(struct serve_args *a, char *path, size_t path_size)
{
    char tried[2048];
    if (a->models) {
        a->cfg.models = a->models;
    } else if (toon_cli_find_model(NULL, path, path_size, tried, sizeof tried)) {
        char *slash = strrchr(path, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(path, path_size, ".");
        a->cfg.models = path;
    } else if (a->worker) {
        fprintf(stderr,
                "%s: no generator model found (looked in: %s).  Run "
                "tools/fetch-models.sh.\n",
                a->cmd, tried);
        return toon_status_exit_code(TOON_STATUS_MODEL);
    } else {
        fprintf(stderr,
                "toonify serve: no generator model found (looked in: %s); serving the "
                "page with instructions.  Run tools/fetch-models.sh.\n",
                tried);
    }
    return -1;
}

/* `toonify serve`: runs the service until SIGINT or SIGTERM, then stops it gracefully. */
static int serve(const struct toon_service_config *cfg)
{
    /* Signals are taken by sigwait below: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct toon_service *svc = NULL;
    struct toon_err err = {""};
    enum toon_status st = toon_service_new(cfg, &svc, &err);
    if (st == TOON_STATUS_OK) st = toon_service_start(svc, &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify serve: %s\n", err.msg);
        toon_service_free(svc);
        return toon_status_exit_code(st);
    }
    fprintf(stderr, "toonify serve: listening on http://%s:%d/\n",
            strchr(cfg->host, ':') ? "[::1]" : cfg->host, toon_service_port(svc));
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "toonify serve: %s, shutting down (running jobs get %d s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", cfg->grace_s);
    toon_service_stop(svc);
    toon_service_free(svc);
    fprintf(stderr, "toonify serve: stopped\n");
    return 0;
}

static int run(int argc, char **argv, int worker)
{
    struct serve_args a = {.worker = worker,
                           .cmd = worker ? "toonify worker" : "toonify serve",
                           .help = worker ? worker_usage : usage};
    toon_service_default_config(&a.cfg);
    int rc = parse_args(&a, argc, argv);
    if (rc >= 0) return rc;
    toon_cli_log_to_stderr(a.verbose);
    char path[4096];
    rc = choose_models(&a, path, sizeof path);
    if (rc >= 0) return rc;
    return worker ? run_worker(&a.cfg, a.work) : serve(&a.cfg);
}

int toon_cli_serve(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int toon_cli_worker(int argc, char **argv)
{
    return run(argc, argv, 1);
}
