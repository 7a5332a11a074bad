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

/* Both commands: worker = 0 for `serve`, 1 for `worker`. */
static int run(int argc, char **argv, int worker)
{
    const char *cmd = worker ? "toonify worker" : "toonify serve";
    const char *help = worker ? worker_usage : usage;
    struct toon_service_config cfg;
    toon_service_default_config(&cfg);
    const char *models = NULL;
    int verbose = 0;
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
    const char *work = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "p:m:o:w:t:qvh", longopts, NULL)) != -1) {
        if (in_list(worker ? serve_only : worker_only, c)) {
            const char *name = "?";
            for (const struct option *o = longopts; o->name; o++)
                if (o->val == c) {
                    name = o->name;
                    break;
                }
            fprintf(stderr, "%s: option --%s is for `toonify %s`\n", cmd, name,
                    worker ? "serve" : "worker");
            return 2;
        }
        switch (c) {
        case OPT_HOST:
            cfg.host = optarg;
            break;
        case 'p':
            if (!int_opt("port", optarg, 0, 65535, &cfg.port)) return 2;
            break;
        case 'm':
            models = optarg;
            break;
        case 'o':
            cfg.outputs = optarg;
            break;
        case 'w':
            if (!int_opt("workers", optarg, 1, 64, &cfg.workers)) return 2;
            break;
        case 't':
            if (!int_opt("threads", optarg, 1, 1024, &cfg.threads)) return 2;
            break;
        case OPT_MEM:
            if (!(cfg.memory_limit = toon_cli_parse_bytes(optarg))) {
                fprintf(stderr, "%s: invalid value '%s' for --memory-limit\n", cmd, optarg);
                return 2;
            }
            break;
        case OPT_QUEUE:
            if (!int_opt("queue", optarg, 0, 100000, &cfg.queue_max)) return 2;
            break;
        case OPT_UPLOAD:
            if (!(cfg.upload_max = toon_cli_parse_bytes(optarg))) {
                fprintf(stderr, "toonify serve: invalid value '%s' for --upload-limit\n", optarg);
                return 2;
            }
            break;
        case OPT_BATCH:
            if (!int_opt("max-batch", optarg, 1, 1000, &cfg.max_batch)) return 2;
            break;
        case OPT_TIMEOUT:
            if (!int_opt("timeout", optarg, 1, 86400, &cfg.timeout_s)) return 2;
            break;
        case OPT_HEADER_TIMEOUT:
            if (!int_opt("header-timeout", optarg, 1, 3600, &cfg.header_timeout_s)) return 2;
            break;
        case OPT_REQUEST_TIMEOUT:
            if (!int_opt("request-timeout", optarg, 1, 86400, &cfg.request_timeout_s)) return 2;
            break;
        case OPT_MAX_CONN:
            if (!int_opt("max-connections", optarg, 8, 100000, &cfg.max_connections)) return 2;
            break;
        case OPT_PER_ADDRESS:
            if (!int_opt("per-address", optarg, 0, 100000, &cfg.per_address)) return 2;
            break;
        case OPT_SYNC:
            if (!int_opt("sync-timeout", optarg, 1, 86400, &cfg.sync_timeout_s)) return 2;
            break;
        case OPT_GRACE:
            if (!int_opt("grace", optarg, 0, 86400, &cfg.grace_s)) return 2;
            break;
        case OPT_DOWNGRADE:
            cfg.downgrade = 1;
            break;
        case OPT_REDIS:
            cfg.redis_url = optarg;
            break;
        case OPT_TTL:
            if (!int_opt("result-ttl", optarg, 1, 365 * 86400, &cfg.result_ttl_s)) return 2;
            break;
        case OPT_CLAIM:
            if (!int_opt("claim-idle", optarg, 100, 86400000, &cfg.claim_idle_ms)) return 2;
            break;
        case OPT_NOTE:
            if (!int_opt("note-after", optarg, 0, 86400, &cfg.note_after_s)) return 2;
            break;
        case OPT_WORK:
            work = optarg;
            break;
        case 'q':
            cfg.quiet = 1;
            break;
        case 'v':
            verbose = 1;
            break;
        case 'h':
            fputs(help, stdout);
            return 0;
        default:
            fputs(help, stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n%s", cmd, argv[optind], help);
        return 2;
    }
    /* The URL may carry a password: $TOONIFY_REDIS_URL keeps it out of the process list. */
    if (!cfg.redis_url && getenv("TOONIFY_REDIS_URL") && *getenv("TOONIFY_REDIS_URL"))
        cfg.redis_url = getenv("TOONIFY_REDIS_URL");
    if (worker && !cfg.redis_url) {
        fprintf(stderr, "%s: --redis URL is required\n%s", cmd, help);
        return 2;
    }
    toon_cli_log_to_stderr(verbose);

    /* Without --models, the directory of the model `toonify` itself would use. */
    char path[4096], tried[2048];
    if (models) {
        cfg.models = models;
    } else if (toon_cli_find_model(NULL, path, sizeof path, tried, sizeof tried)) {
        char *slash = strrchr(path, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(path, sizeof path, ".");
        cfg.models = path;
    } else if (worker) {
        fprintf(stderr,
                "%s: no generator model found (looked in: %s).  Run "
                "tools/fetch-models.sh.\n",
                cmd, tried);
        return toon_status_exit_code(TOON_STATUS_MODEL);
    } else {
        fprintf(stderr,
                "toonify serve: no generator model found (looked in: %s); serving the "
                "page with instructions.  Run tools/fetch-models.sh.\n",
                tried);
    }
    if (worker) return run_worker(&cfg, work);

    /* Signals are taken by sigwait below: block them before any thread starts. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct toon_service *svc = NULL;
    struct toon_err err = {""};
    enum toon_status st = toon_service_new(&cfg, &svc, &err);
    if (st == TOON_STATUS_OK) st = toon_service_start(svc, &err);
    if (st != TOON_STATUS_OK) {
        fprintf(stderr, "toonify serve: %s\n", err.msg);
        toon_service_free(svc);
        return toon_status_exit_code(st);
    }
    fprintf(stderr, "toonify serve: listening on http://%s:%d/\n",
            strchr(cfg.host, ':') ? "[::1]" : cfg.host, toon_service_port(svc));
    int sig = 0;
    sigwait(&sigs, &sig);
    fprintf(stderr, "toonify serve: %s, shutting down (running jobs get %d s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", cfg.grace_s);
    toon_service_stop(svc);
    toon_service_free(svc);
    fprintf(stderr, "toonify serve: stopped\n");
    return 0;
}

int toon_cli_serve(int argc, char **argv)
{
    return run(argc, argv, 0);
}

int toon_cli_worker(int argc, char **argv)
{
    return run(argc, argv, 1);
}
