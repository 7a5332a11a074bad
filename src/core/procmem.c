/* Resident memory of this process (see procmem.h). */
#include "core/procmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t v = 0, klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v * 1024;
}

size_t toon_proc_rss(void)
{
    return status_kb("VmRSS");
}

size_t toon_proc_peak_rss(void)
{
    return status_kb("VmHWM");
}
