/*
 * Counting allocator (see alloc.h).  Each block carries a 64-byte header holding its size, so
 * toon_free() knows how much to subtract and the payload stays 64-byte aligned.
 */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 64

static atomic_size_t g_current;
static atomic_size_t g_peak;
static atomic_long g_fail_after;

static void account(size_t n)
{
    size_t now = atomic_fetch_add(&g_current, n) + n;
    size_t peak = atomic_load(&g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak, &peak, now)) {
    }
}

static int injected_failure(void)
{
    long n = atomic_load(&g_fail_after);
    if (n <= 0) return 0;
    if (n == 1) return 1; /* stays at 1: every later call fails too */
    atomic_fetch_sub(&g_fail_after, 1);
    return 0;
}

void *toon_malloc(size_t n_bytes)
{
    if (n_bytes > SIZE_MAX - 2 * HEADER || injected_failure()) return NULL;
    size_t total = (n_bytes + HEADER + 63) & ~(size_t)63;
    unsigned char *p = aligned_alloc(64, total);
    if (!p) return NULL;
    memcpy(p, &total, sizeof total);
    account(total);
    return p + HEADER;
}

void *toon_calloc(size_t n, size_t size)
{
    size_t bytes;
    if (!toon_size_mul(n, size, &bytes)) return NULL;
    void *p = toon_malloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void toon_free(void *p)
{
    if (!p) return;
    unsigned char *base = (unsigned char *)p - HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    atomic_fetch_sub(&g_current, total);
    free(base);
}

void *toon_realloc(void *p, size_t n_bytes)
{
    if (!p) return toon_malloc(n_bytes);
    unsigned char *base = (unsigned char *)p - HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    void *q = toon_malloc(n_bytes);
    if (!q) return NULL;
    size_t old = total - HEADER;
    memcpy(q, p, old < n_bytes ? old : n_bytes);
    toon_free(p);
    return q;
}

char *toon_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = toon_malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

size_t toon_alloc_current(void)
{
    return atomic_load(&g_current);
}

size_t toon_alloc_peak(void)
{
    return atomic_load(&g_peak);
}

void toon_alloc_reset_peak(void)
{
    atomic_store(&g_peak, atomic_load(&g_current));
}

size_t toon_alloc_overhead(void)
{
    return HEADER + 63;
}

void toon_alloc_fail_after(long n)
{
    atomic_store(&g_fail_after, n);
}
