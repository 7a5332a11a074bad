/*
 * Response helpers over libmicrohttpd.  JSON bodies are printed by cJSON into the counting
 * allocator and handed to MHD with toon_free as their release callback; files are served from
 * their descriptors (MHD sends them with sendfile), so a large result never sits in memory.
 */
#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "service/http.h"
#include "service/internal.h"

static enum MHD_Result queue(struct toon_request *r, int code, struct MHD_Response *resp,
                             size_t len)
{
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->job_id[0]) MHD_add_response_header(resp, "X-Toonify-Job", r->job_id);
    r->code = code;
    r->bytes = len;
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned int)code, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Sends o (taken over) as the JSON body; on a 503 with retry set, also Retry-After. */
static enum MHD_Result send_json(struct toon_request *r, int code, cJSON *o, int retry)
{
    if (o && code >= 400 && toon_lang_wants_zh(toon_http_header(r, "Accept-Language")))
        toon_lang_localize(o);
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return toon_http_bytes(r, 500, "application/json",
                               "{\"error\":\"internal error\","
                               "\"detail\":\"out of memory\"}",
                               47, 0);
    size_t n = strlen(text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback(n, text, toon_free);
    if (!resp) {
        toon_free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    if (retry && code == 503) {
        char s[16];
        snprintf(s, sizeof s, "%d", toon_jobs_retry_after(r->svc));
        MHD_add_response_header(resp, "Retry-After", s);
    }
    return queue(r, code, resp, n);
}

enum MHD_Result toon_http_json(struct toon_request *r, int code, cJSON *o)
{
    return send_json(r, code, o, 0);
}

enum MHD_Result toon_http_error(struct toon_request *r, int code, const char *error,
                                const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", error);
    cJSON_AddStringToObject(o, "detail", detail ? detail : "");
    return toon_http_json(r, code, o);
}

enum MHD_Result toon_http_status(struct toon_request *r, enum toon_status st, const char *detail)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", toon_status_str(st));
    cJSON_AddStringToObject(o, "detail", detail ? detail : "");
    return send_json(r, toon_status_http_code(st), o, 1);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return;
        p += k;
        n -= (size_t)k;
    }
}

/* Reads and drops what the client still sends for at most 1 s or 1 MiB, so that closing the
 * socket with unread bytes (which makes the kernel send a reset) does not destroy the answer
 * before the client has read it. */
static void linger_drain(int fd)
{
    char buf[16384];
    size_t total = 0;
    double end = toon_now() + 1.0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    while (total < ((size_t)1 << 20) && toon_now() < end && poll(&p, 1, 100) >= 0) {
        if (!(p.revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (k <= 0) return;
        total += (size_t)k;
    }
}

enum MHD_Result toon_http_status_close(struct toon_request *r, enum toon_status st,
                                       const char *detail)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", toon_status_str(st));
    cJSON_AddStringToObject(o, "detail", detail ? detail : "");
    if (toon_lang_wants_zh(toon_http_header(r, "Accept-Language"))) toon_lang_localize(o);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    r->code = toon_status_http_code(st);
    if (!ci || !text) {
        toon_free(text);
        return MHD_NO;
    }
    char head[256];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nConnection: close\r\nContent-Type: application/json\r\n"
                     "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     r->code, MHD_get_reason_phrase_for((unsigned int)r->code), strlen(text));
    send_all(ci->connect_fd, head, (size_t)n);
    send_all(ci->connect_fd, text, strlen(text));
    r->bytes = strlen(text);
    toon_free(text);
    shutdown(ci->connect_fd, SHUT_WR);
    linger_drain(ci->connect_fd);
    return MHD_NO;
}

enum MHD_Result toon_http_bytes(struct toon_request *r, int code, const char *type,
                                const void *data, size_t len, int copy)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        len, (void *)(uintptr_t)data, copy ? MHD_RESPMEM_MUST_COPY : MHD_RESPMEM_PERSISTENT);
    if (!resp) return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", type);
    return queue(r, code, resp, len);
}

enum MHD_Result toon_http_fd(struct toon_request *r, int fd, const char *type,
                             const char *download_name)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return toon_http_error(r, 404, "not found", "the result file is missing on disk");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
    if (!resp) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    if (download_name) {
        char cd[300];
        snprintf(cd, sizeof cd, "attachment; filename=\"%.200s\"", download_name);
        MHD_add_response_header(resp, "Content-Disposition", cd);
    }
    return queue(r, 200, resp, (size_t)st.st_size);
}

enum MHD_Result toon_http_temp_file(struct toon_request *r, const char *path, const char *type,
                                    const char *download_name)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return toon_http_error(r, 404, "not found", "the result file is missing on disk");
    unlink(path);
    return toon_http_fd(r, fd, type, download_name);
}

const char *toon_http_header(struct toon_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}
