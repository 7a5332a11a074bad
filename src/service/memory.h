/*
 * The process's memory as the kernel sees it: the limit it lives under (cgroup v2 memory.max,
 * cgroup v1 memory.limit_in_bytes, of its own cgroup and every ancestor; else physical memory)
 * (its resident set: core/procmem.h).
 */
#ifndef TOON_SERVICE_MEMORY_H
#define TOON_SERVICE_MEMORY_H

#include <stddef.h>

/* The tightest limit found and where it came from ("cgroup v2 /sys/fs/...", "physical memory").
 * Returns the limit in bytes (never 0). */
size_t toon_memory_detect_limit(char *source, size_t source_len);

#endif
