/*
 * The service's life cycle and its HTTP front: loading the styles, measuring the baseline,
 * starting libmicrohttpd (one thread per connection, so a synchronous conversion can block its
 * own connection without holding up the others) and the workers, and shutting all of it down.
 *
 * Request bodies are spooled to a file under outputs/.work as they arrive, never held in memory,
 * and refused with 413 as soon as they pass the upload limit (before the body when Content-Length
 * says so, else the moment the count passes it, and the rest is not read).  Idle connections are
 * closed by MHD after the configured timeout; conns.c gives each request a deadline, bounds the
 * connections per address and keeps room for new ones.  Every answered request is logged to
 * stderr on one line (unless quiet) and counted for /metrics.
 */
#include <arpa/inet.h>
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/procmem.h"
#include "core/alloc.h"
#include "core/log.h"
#include "formats/modeldir.h"
#include "service/http.h"
#include "service/internal.h"
#include "service/memory.h"
#include "service/routes.h"

void toon_service_default_config(struct toon_service_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 7860;
    cfg->outputs = "outputs";
    cfg->workers = 1;
    cfg->queue_max = 16;
    cfg->upload_max = (size_t)64 << 20;
    cfg->timeout_s = 30;
    cfg->header_timeout_s = 15;
    cfg->max_connections = 64;
    cfg->per_address = 16;
    cfg->sync_timeout_s = 600;
    cfg->grace_s = 10;
    cfg->max_batch = 50;
    cfg->result_ttl_s = 86400;
    cfg->claim_idle_ms = 30000;
    cfg->note_after_s = 10;
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) return 0;
            *p = '/';
        }
    return mkdir(buf, 0777) == 0 || errno == EEXIST;
}

/* Loads every style under cfg->models; a missing or empty directory leaves the service up,
 * not ready, with a message for the page. */
static void load_styles(struct toon_service *svc)
{
    const char *how = "Install one with tools/fetch-models.sh (or tools/setup.sh), then start "
                      "the server with --models DIR or TOONIFY_MODEL_DIR=DIR.";
    if (!svc->cfg.models || !*svc->cfg.models) {
        snprintf(svc->model_error, sizeof svc->model_error, "No generator model is installed. %s",
                 how);
        return;
    }
    struct toon_modeldir md;
    struct toon_err err = {""};
    if (toon_modeldir_scan(svc->cfg.models, &md, &err) != TOON_STATUS_OK) {
        snprintf(svc->model_error, sizeof svc->model_error, "No usable model in %.200s: %.100s %s",
                 svc->cfg.models, err.msg, how);
        return;
    }
    svc->styles = toon_calloc((size_t)md.n_styles, sizeof *svc->styles);
    for (int i = 0; svc->styles && i < md.n_styles; i++) {
        struct toon_style *s = &svc->styles[svc->n_styles];
        struct toon_model *m = NULL;
        if (toon_model_load(md.styles[i].bg_path, &m, &err) != TOON_STATUS_OK) {
            toon_log(TOON_LOG_WARN, "style %s: %s", md.styles[i].name, err.msg);
            snprintf(svc->model_error, sizeof svc->model_error, "%.300s", err.msg);
            continue;
        }
        struct toon_model *head = NULL;
        if (strcmp(md.styles[i].head_path, md.styles[i].bg_path) != 0 &&
            toon_model_load(md.styles[i].head_path, &head, &err) != TOON_STATUS_OK) {
            toon_log(TOON_LOG_WARN, "style %s: %s (the background model serves the faces)",
                     md.styles[i].name, err.msg);
            head = NULL;
        }
        snprintf(s->name, sizeof s->name, "%s", md.styles[i].name);
        snprintf(s->path, sizeof s->path, "%s", md.styles[i].bg_path);
        snprintf(s->description, sizeof s->description, "%s", toon_model_description(m));
        snprintf(s->alpha, sizeof s->alpha, "%s", md.styles[i].alpha_path);
        s->model = m;
        s->head = head;
        svc->n_styles++;
    }
    toon_modeldir_free(&md);
    toon_styles_name(svc);
    /* Face models beside the styles (DIR or DIR/face): without them, faces are not re-done. */
    if (toon_face_models_load(svc->cfg.models, &svc->faces, &err) != TOON_STATUS_OK) {
        toon_log(TOON_LOG_WARN, "no face models in %s (%s): faces get the background pass only",
                 svc->cfg.models, err.msg);
        svc->faces = NULL;
    }
    if (svc->n_styles == 0) return;
    svc->model_error[0] = 0;
    /* The default style: the one the CLI would pick from a directory, else the first. */
    static const char *preferred[] = {"cartoon", "whitebox_cartoon_gan_fp16"};
    for (size_t k = 0; k < sizeof preferred / sizeof preferred[0]; k++)
        for (int i = 0; i < svc->n_styles; i++)
            if (strcmp(svc->styles[i].name, preferred[k]) == 0) {
                svc->default_style = i;
                return;
            }
}

static void *cjson_malloc(size_t n)
{
    return toon_malloc(n);
}

enum toon_status toon_service_new(const struct toon_service_config *cfg, struct toon_service **out,
                                  struct toon_err *err)
{
    static cJSON_Hooks hooks = {cjson_malloc, toon_free};
    cJSON_InitHooks(&hooks);
    /* A fixed mmap threshold: glibc otherwise raises it after the first big free, and the
     * conversions' large buffers then stay in the arenas after a job, so the process would hold
     * more than the plans say.  With it, every buffer over 256 KiB goes back to the kernel when
     * freed. */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    struct toon_service *svc = toon_calloc(1, sizeof *svc);
    if (!svc) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    svc->cfg = *cfg;
    if (svc->cfg.workers < 1) svc->cfg.workers = 1;
    if (svc->cfg.queue_max < 0) svc->cfg.queue_max = 0;
    if (svc->cfg.max_batch < 1) svc->cfg.max_batch = 1;
    pthread_mutex_init(&svc->mu, NULL);
    pthread_cond_init(&svc->cv_work, NULL);
    pthread_cond_init(&svc->cv_done, NULL);
    svc->started = toon_now();
    enum toon_status st;
    if (cfg->redis_url) {
        st = toon_redis_parse_url(cfg->redis_url, &svc->rurl, err);
        if (st != TOON_STATUS_OK) goto fail;
        svc->redis = 1;
        if (svc->cfg.result_ttl_s < 1) svc->cfg.result_ttl_s = 86400;
        if (svc->cfg.claim_idle_ms < 100) svc->cfg.claim_idle_ms = 30000;
    }
    snprintf(svc->outputs, sizeof svc->outputs, "%s", cfg->outputs ? cfg->outputs : "outputs");
    snprintf(svc->work, sizeof svc->work, "%s/.work", svc->outputs);
    if (!mkdir_p(svc->outputs) || !mkdir_p(svc->work)) {
        st = toon_err_set(err, TOON_STATUS_IO, "cannot create %s: %s", svc->work, strerror(errno));
        goto fail;
    }
    /* Leftovers of a previous run (spooled bodies, inputs, partial results) are garbage. */
    char cmd_dir[4400];
    snprintf(cmd_dir, sizeof cmd_dir, "%s", svc->work);
    DIR *d = opendir(cmd_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' && (!e->d_name[1] || !strcmp(e->d_name, ".."))) continue;
            char p[4700];
            snprintf(p, sizeof p, "%s/%s", cmd_dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }

    int ncpu = cfg->threads > 0 ? cfg->threads : toon_get_threads();
    svc->threads_per_worker = ncpu / svc->cfg.workers > 0 ? ncpu / svc->cfg.workers : 1;
    toon_set_threads(svc->threads_per_worker);
    load_styles(svc);

    char src[4400];
    size_t detected = toon_memory_detect_limit(src, sizeof src);
    svc->limit = detected;
    snprintf(svc->limit_source, sizeof svc->limit_source, "%s", src);
    if (cfg->memory_limit && cfg->memory_limit < detected) {
        svc->limit = cfg->memory_limit;
        snprintf(svc->limit_source, sizeof svc->limit_source, "--memory-limit");
    }
    /* Kept free for the HTTP threads, uploads in flight and response buffers. */
    svc->reserve = svc->limit / 32 > ((size_t)16 << 20) ? svc->limit / 32 : (size_t)16 << 20;
    svc->baseline0 = toon_proc_rss() + TOON_LIBRARY_MARGIN;
    svc->baseline = svc->baseline0;
    if (!svc->redis) toon_history_load(svc, 500); /* scale-out: history is in Redis */
    *out = svc;
    return TOON_STATUS_OK;
fail:
    toon_service_free(svc);
    return st;
}

int toon_service_port(const struct toon_service *svc)
{
    return svc->port;
}

/* ---- the HTTP front ---- */

/* 413 for a body over the upload limit.  Mid-body (a chunked upload, or a Content-Length that
 * lied) the rest is not read: the answer goes out and the connection is closed. */
static enum MHD_Result refuse_too_large(struct toon_request *r, int mid_body)
{
    char msg[160], b[32];
    snprintf(msg, sizeof msg, "the upload is larger than the limit of %s",
             toon_mb(r->svc->cfg.upload_max, b, sizeof b));
    return mid_body ? toon_http_status_close(r, TOON_STATUS_TOO_LARGE, msg)
                    : toon_http_status(r, TOON_STATUS_TOO_LARGE, msg);
}

/* The first call for a request: its headers are in.  Bodies over the limit by their
 * Content-Length are refused now; others get a spool file under work/. */
static enum MHD_Result request_begin(struct toon_service *svc, struct MHD_Connection *conn,
                                     const char *url, const char *method, void **con_cls)
{
    struct toon_request *r = toon_calloc(1, sizeof *r);
    if (!r) return MHD_NO;
    r->svc = svc;
    r->conn = conn;
    r->fd = -1;
    r->t0 = toon_now();
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->url, sizeof r->url, "%s", url);
    *con_cls = r;
    toon_conns_headers_done(conn);
    if (strcmp(method, "POST") != 0 && strcmp(method, "PUT") != 0) return MHD_YES;
    const char *cl =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && strtoull(cl, NULL, 10) > svc->cfg.upload_max) return refuse_too_large(r, 0);
    char id[33];
    if (toon_random_id(id, NULL) != TOON_STATUS_OK) return MHD_NO;
    snprintf(r->body_path, sizeof r->body_path, "%s/%s.body", svc->work, id);
    r->fd = open(r->body_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (r->fd < 0) {
        enum toon_status st = toon_status_from_errno(errno);
        r->body_path[0] = 0;
        return toon_http_status(r, st,
                                st == TOON_STATUS_NO_SPACE ? TOON_DISK_FULL_DETAIL
                                                           : "cannot spool the upload to disk");
    }
    return MHD_YES;
}

/* A piece of the body: appended to the spool file.  Past the limit, or when the disk is full,
 * the request is answered at once and the rest is not read. */
static enum MHD_Result request_body(struct toon_request *r, const char *data, size_t n)
{
    toon_conns_body_bytes(r->conn, n);
    if (r->fd < 0) return MHD_YES;
    if (r->body_len + n > r->svc->cfg.upload_max) return refuse_too_large(r, 1);
    size_t off = 0;
    while (off < n) {
        ssize_t k = write(r->fd, data + off, n - off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            enum toon_status st = toon_status_from_errno(k < 0 ? errno : ENOSPC);
            return toon_http_status_close(r, st,
                                          st == TOON_STATUS_NO_SPACE
                                              ? TOON_DISK_FULL_DETAIL
                                              : "cannot spool the upload to disk");
        }
        off += (size_t)k;
    }
    r->body_len += n;
    return MHD_YES;
}

/* The whole request is in: the body is mapped and the routes answer. */
static enum MHD_Result request_end(struct toon_request *r)
{
    toon_conns_request_in(r->conn);
    void *map = NULL;
    if (r->fd >= 0 && r->body_len > 0) {
        map = mmap(NULL, r->body_len, PROT_READ, MAP_PRIVATE, r->fd, 0);
        if (map == MAP_FAILED) return toon_http_status(r, TOON_STATUS_IO, "cannot map the upload");
        r->body = map;
    }
    enum MHD_Result ret = toon_routes_dispatch(r);
    if (map) munmap(map, r->body_len);
    r->body = NULL;
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct toon_request *r = *con_cls;
    if (!r) return request_begin(cls, conn, url, method, con_cls);
    if (r->code) { /* answered before the body was in: nothing more is read */
        *upload_data_size = 0;
        return MHD_NO;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        return request_body(r, upload_data, n);
    }
    return request_end(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    struct toon_service *svc = cls;
    struct toon_request *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    if (r->fd >= 0) close(r->fd);
    if (r->body_path[0]) unlink(r->body_path);
    toon_conns_request_end(r->conn);
    int cls_i = r->code / 100;
    if (cls_i >= 1 && cls_i <= 5) atomic_fetch_add(&svc->metrics.http_requests[cls_i], 1);
    if (!svc->cfg.quiet) {
        char addr[64] = "-";
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;
            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr,
                          sizeof addr);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
                          addr, sizeof addr);
        }
        fprintf(stderr, "%s \"%s %.200s\" %d %zu %.3fs%s\n", addr, r->method, r->url, r->code,
                r->bytes, toon_now() - r->t0,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
    }
    toon_free(r);
}

/* Seconds a request's body may take from its first byte: the configured figure, else 60 s or
 * 1 s per MiB of the upload limit when that is longer (a client slower than 1 MiB/s with a
 * maximal upload still gets through). */
static double request_timeout(const struct toon_service_config *cfg)
{
    if (cfg->request_timeout_s > 0) return cfg->request_timeout_s;
    double per_mib = (double)(cfg->upload_max >> 20);
    return per_mib > 60 ? per_mib : 60;
}

enum toon_status toon_service_start(struct toon_service *svc, struct toon_err *err)
{
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char port[16];
    snprintf(port, sizeof port, "%d", svc->cfg.port);
    int rc = getaddrinfo(svc->cfg.host, port, &hints, &ai);
    if (rc != 0 || !ai)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "cannot resolve host '%s': %s",
                            svc->cfg.host, gai_strerror(rc));
    unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                         MHD_USE_ITC | MHD_USE_POLL;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    /* Scale-out: `toonify worker` processes run the jobs; this one only answers HTTP. */
    enum toon_status st =
        svc->redis ? toon_rjobs_init(svc, err) : toon_jobs_start_workers(svc, err);
    if (st != TOON_STATUS_OK) {
        freeaddrinfo(ai);
        return st;
    }
    st = toon_conns_init(&svc->conns, svc->cfg.max_connections, svc->cfg.per_address,
                         svc->cfg.timeout_s, svc->cfg.header_timeout_s, request_timeout(&svc->cfg),
                         err);
    if (st != TOON_STATUS_OK) {
        freeaddrinfo(ai);
        return st;
    }
    /* MHD's own per-address bound would count a local proxy's connections as one client's:
     * toon_conns_accept bounds the others, and keeps room for newcomers below the limit. */
    svc->mhd = MHD_start_daemon(
        flags, (uint16_t)svc->cfg.port, toon_conns_accept, &svc->conns, on_request, svc,
        MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)svc->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)svc->conns.max,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)1 << 20, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        svc, MHD_OPTION_NOTIFY_CONNECTION, toon_conns_notify, &svc->conns, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!svc->mhd)
        return toon_err_set(err, TOON_STATUS_IO, "cannot listen on %s:%d (in use?)", svc->cfg.host,
                            svc->cfg.port);
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(svc->mhd, MHD_DAEMON_INFO_BIND_PORT);
    svc->port = di ? di->port : svc->cfg.port;
    return TOON_STATUS_OK;
}

void toon_service_stop(struct toon_service *svc)
{
    if (svc->mhd) {
        MHD_socket s = MHD_quiesce_daemon(svc->mhd);
        if (s != MHD_INVALID_SOCKET) close(s);
    }
    toon_jobs_stop_workers(svc);
    if (svc->mhd) MHD_stop_daemon(svc->mhd);
    svc->mhd = NULL;
    toon_conns_destroy(&svc->conns);
}

void toon_service_free(struct toon_service *svc)
{
    if (!svc) return;
    if (svc->mhd || svc->n_workers_started) toon_service_stop(svc);
    toon_conns_destroy(&svc->conns);
    for (int i = 0; i < svc->n_jobs; i++) toon_job_free(svc->jobs[i]);
    toon_free(svc->jobs);
    for (int i = 0; i < svc->n_styles; i++) {
        toon_model_free(svc->styles[i].model);
        toon_model_free(svc->styles[i].head);
    }
    toon_face_models_free(svc->faces);
    if (svc->pool_ready) toon_redis_pool_destroy(&svc->pool);
    toon_free(svc->styles);
    toon_free(svc->workers);
    pthread_mutex_destroy(&svc->mu);
    pthread_cond_destroy(&svc->cv_work);
    pthread_cond_destroy(&svc->cv_done);
    toon_free(svc);
}
