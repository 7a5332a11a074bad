/* The URL routes of the service: the page, the API, health and metrics. */
#ifndef TOON_SERVICE_ROUTES_H
#define TOON_SERVICE_ROUTES_H

#include "service/http.h"
#include "service/multipart.h"
#include "service/params.h"

/* Answers a complete request (body mapped in r->body). */
enum MHD_Result toon_routes_dispatch(struct toon_request *r);

/* Batches (routes_batch.c). */
enum MHD_Result toon_routes_batch_create(struct toon_request *r);
enum MHD_Result toon_routes_batch(struct toon_request *r, const char *id, const char *rest);

/* Collects job parameters from the query string and multipart text fields, and the image
 * parts of a request (shared by jobs, cartoonize and batches). */
struct toon_upload {
    struct toon_job_params params;
    int n_files;
    struct toon_mpart *files; /* [n_files] slices of the body */
};
/* max_files: how many images are allowed.  On error the response has been queued and *ret
 * holds what to return. */
int toon_routes_read_upload(struct toon_request *r, int max_files, struct toon_upload *up,
                            enum MHD_Result *ret);
void toon_upload_free(struct toon_upload *up);

#endif
