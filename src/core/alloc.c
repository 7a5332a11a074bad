/*
 * Counting allocator (see alloc.h).  Each block carries a 64-byte header holding its size and
 * its accounting scope, so toon_free() knows how much to subtract from whom, and the payload
 * stays 64-byte aligned.  Scopes are reference-counted by their blocks (and their child
 * scopes), so a block may outlive the work that allocated it.  The scope objects themselves
 * come from the C library, uncounted: a few dozen bytes per conversion.
 */
#include "core/alloc.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 64

struct toon_alloc_scope {
    atomic_size_t current, peak;
    atomic_long refs; /* the creator's, one per live block, one per child scope */
    struct toon_alloc_scope *parent;
};

/* What a block's header holds. */
struct header {
    size_t total;
    struct toon_alloc_scope *scope;
};
_Static_assert(sizeof(struct header) <= HEADER, "block header");

static atomic_size_t g_current;
static atomic_size_t g_peak;
static atomic_long g_fail_after;
static _Thread_local struct toon_alloc_scope *tl_scope;

static void raise_peak(atomic_size_t *peak_p, size_t now)
{
    size_t peak = atomic_load(peak_p);
    while (now > peak && !atomic_compare_exchange_weak(peak_p, &peak, now)) {
    }
}

static void scope_release(struct toon_alloc_scope *s)
{
    while (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        struct toon_alloc_scope *parent = s->parent;
        free(s);
        s = parent;
    }
}

static void account(struct toon_alloc_scope *scope, size_t n)
{
    raise_peak(&g_peak, atomic_fetch_add(&g_current, n) + n);
    if (scope) atomic_fetch_add(&scope->refs, 1);
    for (struct toon_alloc_scope *s = scope; s; s = s->parent)
        raise_peak(&s->peak, atomic_fetch_add(&s->current, n) + n);
}

static void discharge(struct toon_alloc_scope *scope, size_t n)
{
    atomic_fetch_sub(&g_current, n);
    for (struct toon_alloc_scope *s = scope; s; s = s->parent) atomic_fetch_sub(&s->current, n);
    scope_release(scope);
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
    struct header h = {total, tl_scope};
    memcpy(p, &h, sizeof h);
    account(h.scope, total);
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
    struct header h;
    memcpy(&h, base, sizeof h);
    free(base);
    discharge(h.scope, h.total);
}

void *toon_realloc(void *p, size_t n_bytes)
{
    if (!p) return toon_malloc(n_bytes);
    unsigned char *base = (unsigned char *)p - HEADER;
    struct header h;
    memcpy(&h, base, sizeof h);
    void *q = toon_malloc(n_bytes);
    if (!q) return NULL;
    size_t old = h.total - HEADER;
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

struct toon_alloc_scope *toon_alloc_scope_new(void)
{
    struct toon_alloc_scope *s = malloc(sizeof *s);
    if (!s) return NULL;
    atomic_init(&s->current, 0);
    atomic_init(&s->peak, 0);
    atomic_init(&s->refs, 1);
    s->parent = tl_scope;
    if (s->parent) atomic_fetch_add(&s->parent->refs, 1);
    return s;
}

void toon_alloc_scope_release(struct toon_alloc_scope *s)
{
    scope_release(s);
}

struct toon_alloc_scope *toon_alloc_scope_enter(struct toon_alloc_scope *s)
{
    struct toon_alloc_scope *prev = tl_scope;
    tl_scope = s;
    return prev;
}

struct toon_alloc_scope *toon_alloc_scope_current(void)
{
    return tl_scope;
}

size_t toon_alloc_scope_bytes(const struct toon_alloc_scope *s)
{
    return s ? atomic_load(&s->current) : 0;
}

size_t toon_alloc_scope_peak(const struct toon_alloc_scope *s)
{
    return s ? atomic_load(&s->peak) : 0;
}
