/*
 * Fuzz target for what the scale-out mode reads from outside the process: the first byte picks
 * the parser.  Even: a job record as stored in Redis (JSON) is read back into a job, which is
 * then rendered again (what every replica and worker does with it).  Odd: the --redis URL.
 * Rejections are the expected outcome; crashes, sanitizer reports and leaks are bugs.
 */
#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "service/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) return 0;
    if (data[0] & 1) {
        char *url = toon_malloc(size);
        if (!url) return 0;
        memcpy(url, data + 1, size - 1);
        url[size - 1] = 0;
        struct toon_redis_url u;
        toon_redis_parse_url(url, &u, NULL);
        toon_free(url);
        return 0;
    }
    cJSON *o = cJSON_ParseWithLength((const char *)data + 1, size - 1);
    struct toon_job *j = o ? toon_job_from_json(o, 1, NULL) : NULL;
    cJSON_Delete(o);
    if (j) {
        cJSON *again = toon_job_json(NULL, j);
        char *text = again ? cJSON_PrintUnformatted(again) : NULL;
        cJSON_free(text);
        cJSON_Delete(again);
        toon_job_free(j);
    }
    return 0;
}
