/*
 * One HTTP request as the routes see it, and the helpers that answer it (JSON, errors, files,
 * bytes).  The body of a POST has been spooled to a file and mapped: `body[body_len]`.
 */
#ifndef TOON_SERVICE_HTTP_H
#define TOON_SERVICE_HTTP_H

#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

struct toon_service;
struct cJSON;

struct toon_request {
    struct toon_service *svc;
    struct MHD_Connection *conn;
    char method[8];
    char url[512];
    /* The body, spooled to body_path while it arrives. */
    int fd;
    char body_path[4400];
    size_t body_len;
    const uint8_t *body; /* mapped at the end of the upload, [body_len] */
    char job_id[33];     /* sent as X-Toonify-Job when set */
    /* For the access log. */
    int code;
    size_t bytes;
    double t0;
};

/* Each helper queues the response and returns what the MHD handler must return. */
enum MHD_Result toon_http_json(struct toon_request *r, int code, struct cJSON *o);
enum MHD_Result toon_http_error(struct toon_request *r, int code, const char *error,
                                const char *detail);
/* The error for a status (code from toon_status_http_code), with a Retry-After for 503. */
enum MHD_Result toon_http_status(struct toon_request *r, enum toon_status st, const char *detail);
/* The same, while the body is still arriving (MHD accepts no response then): the answer is
 * written to the socket directly, with Connection: close, and the connection is closed without
 * reading the rest of the body.  Returns MHD_NO. */
enum MHD_Result toon_http_status_close(struct toon_request *r, enum toon_status st,
                                       const char *detail);
enum MHD_Result toon_http_bytes(struct toon_request *r, int code, const char *type,
                                const void *data, size_t len, int copy);
/* A file already open (taken over: closed when sent, or now on error); 404 unless regular.
 * download_name (may be NULL) sets Content-Disposition. */
enum MHD_Result toon_http_fd(struct toon_request *r, int fd, const char *type,
                             const char *download_name);
/* A file from disk, deleted now (the open descriptor keeps it readable). */
enum MHD_Result toon_http_temp_file(struct toon_request *r, const char *path, const char *type,
                                    const char *download_name);

/* A request header or query argument, or NULL. */
const char *toon_http_header(struct toon_request *r, const char *name);

#endif
