/*
 * Memory limit detection.  A process in a container is killed when its cgroup's usage passes the
 * cgroup's limit, whatever the machine has, so the limit that matters is the smallest one on
 * the path from the process's cgroup up to the root, in whichever hierarchy holds the memory
 * controller (v2: the unified line "0::/path"; v1: the line naming "memory").  Values of 2^60 and
 * above mean "no limit".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/procmem.h"
#include "service/memory.h"

#define NO_LIMIT ((unsigned long long)1 << 60)

static int read_u64(const char *path, unsigned long long *out)
{
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char buf[64] = "";
    int ok = fgets(buf, sizeof buf, f) != NULL;
    fclose(f);
    if (!ok) return 0;
    if (strncmp(buf, "max", 3) == 0) {
        *out = NO_LIMIT;
        return 1;
    }
    char *end;
    unsigned long long v = strtoull(buf, &end, 10);
    if (end == buf) return 0;
    *out = v;
    return 1;
}

/* The smallest value of `file` in dir `root` + `cg` and each of its ancestors. */
static unsigned long long min_up(const char *root, const char *cg, const char *file, char *where,
                                 size_t where_len)
{
    char path[4096];
    unsigned long long best = NO_LIMIT;
    char rel[2048];
    snprintf(rel, sizeof rel, "%s", cg);
    for (;;) {
        snprintf(path, sizeof path, "%s%s/%s", root, strcmp(rel, "/") == 0 ? "" : rel, file);
        unsigned long long v;
        if (read_u64(path, &v) && v < best) {
            best = v;
            snprintf(where, where_len, "%s", path);
        }
        char *slash = strrchr(rel, '/');
        if (!slash || slash == rel) {
            if (strcmp(rel, "/") == 0) break;
            snprintf(rel, sizeof rel, "/");
            continue;
        }
        *slash = 0;
    }
    return best;
}

size_t toon_memory_detect_limit(char *source, size_t source_len)
{
    unsigned long long best = NO_LIMIT;
    char where[4200] = "";
    FILE *f = fopen("/proc/self/cgroup", "r");
    if (f) {
        char line[2048];
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\n")] = 0;
            char *c1 = strchr(line, ':');
            char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
            if (!c2) continue;
            *c1 = *c2 = 0;
            const char *controllers = c1 + 1, *cg = c2 + 1;
            unsigned long long v = NO_LIMIT;
            char w[4200] = "";
            if (strcmp(line, "0") == 0 && !*controllers) {
                /* v2: unified at /sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid systems. */
                v = min_up("/sys/fs/cgroup", cg, "memory.max", w, sizeof w);
                if (v >= NO_LIMIT)
                    v = min_up("/sys/fs/cgroup/unified", cg, "memory.max", w, sizeof w);
            } else {
                char ctl[256];
                snprintf(ctl, sizeof ctl, ",%s,", controllers);
                if (strstr(ctl, ",memory,"))
                    v = min_up("/sys/fs/cgroup/memory", cg, "memory.limit_in_bytes", w, sizeof w);
            }
            if (v < best) {
                best = v;
                snprintf(where, sizeof where, "%s", w);
            }
        }
        fclose(f);
    }
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    unsigned long long phys = pages > 0 && page > 0 ? (unsigned long long)pages * page : NO_LIMIT;
    if (best < phys) {
        snprintf(source, source_len, "cgroup %s (%.3000s)",
                 strstr(where, "memory.max") ? "v2" : "v1", where);
        return (size_t)best;
    }
    snprintf(source, source_len, "physical memory");
    return (size_t)(phys < NO_LIMIT ? phys : ((unsigned long long)1 << 40));
}
