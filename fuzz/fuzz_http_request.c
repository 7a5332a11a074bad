/*
 * Fuzz target for the service's request parsing: the first line of the input is a Content-Type
 * header value, the second a query string ("k=v&k=v"), the rest the body.  The boundary is
 * taken from the Content-Type, the body parsed as multipart/form-data, and every text part and
 * query argument is fed to the job-parameter parser, as the server does.  The first line is
 * also read as an Accept-Language header value.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "service/internal.h"
#include "service/multipart.h"
#include "service/params.h"

static enum toon_status on_part(void *ctx, const struct toon_mpart *p, struct toon_err *err)
{
    struct toon_job_params *jp = ctx;
    if (p->filename[0] || !toon_job_params_known(p->name)) return TOON_STATUS_OK;
    char value[128];
    if (p->n_bytes >= sizeof value) return TOON_STATUS_OK;
    memcpy(value, p->data, p->n_bytes);
    value[p->n_bytes] = 0;
    toon_job_params_set(jp, p->name, value, err);
    return TOON_STATUS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl1 = memchr(data, '\n', size);
    if (!nl1) return 0;
    const uint8_t *nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - data));
    if (!nl2) return 0;
    char ctype[256], query[512];
    snprintf(ctype, sizeof ctype, "%.*s", (int)(nl1 - data < 255 ? nl1 - data : 255), data);
    size_t qn = (size_t)(nl2 - nl1 - 1);
    snprintf(query, sizeof query, "%.*s", (int)(qn < 511 ? qn : 511), nl1 + 1);
    (void)toon_lang_wants_zh(ctype);
    const uint8_t *body = nl2 + 1;
    size_t body_len = size - (size_t)(body - data);

    struct toon_job_params jp;
    struct toon_err err;
    toon_job_params_default(&jp);
    char *save = NULL;
    for (char *kv = strtok_r(query, "&", &save); kv; kv = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(kv, '=');
        if (eq) *eq = 0;
        toon_job_params_set(&jp, kv, eq ? eq + 1 : "", &err);
    }
    char boundary[80];
    if (toon_multipart_boundary(ctype, boundary, sizeof boundary, &err) == TOON_STATUS_OK)
        toon_multipart_parse(body, body_len, boundary, 64, on_part, &jp, &err);
    return 0;
}
