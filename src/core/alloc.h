/*
 * The counting allocator.  Every heap allocation of toonify goes through these functions so
 * that the current and high-water byte counts are known exactly: the planner's estimates are
 * tested against them, and the service reports them.  A test build can make the Nth
 * allocation fail (SQLite-style fault injection) to exercise every error path.
 *
 * All blocks are 64-byte aligned (one cache line, one AVX-512 vector).  Thread-safe.
 *
 * Accounting scopes give each piece of work (a conversion, a service job) its own counts when
 * several run at once.  A thread that has entered a scope charges its allocations to it, to the
 * scope it was created in, and so on up, as well as to the process.  Each block remembers its
 * scope, so freeing it from any thread, at any time, discharges the right ones; a scope lives
 * until it is released and its last block is freed.  The parallel loops (core/parallel.h) carry
 * the caller's scope into their threads.
 */
#ifndef TOON_CORE_ALLOC_H
#define TOON_CORE_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *toon_malloc(size_t n_bytes);
void *toon_calloc(size_t n, size_t size);
void *toon_realloc(void *p, size_t n_bytes);
void toon_free(void *p); /* toon_free(NULL) is a no-op */
char *toon_strdup(const char *s);

size_t toon_alloc_current(void);  /* bytes live now */
size_t toon_alloc_peak(void);     /* high-water mark since start or the last reset */
void toon_alloc_reset_peak(void); /* peak := current */
size_t toon_alloc_overhead(void); /* per-block bookkeeping bytes, for planners */

struct toon_alloc_scope;
/* A new scope inside the calling thread's current one (NULL when out of memory: then the work
 * runs uncounted, and the functions below take NULL as "no scope"). */
struct toon_alloc_scope *toon_alloc_scope_new(void);
/* Drops the creator's reference; the scope lives on while blocks charged to it do. */
void toon_alloc_scope_release(struct toon_alloc_scope *s);
/* Makes s the calling thread's current scope (NULL: none) and returns the previous one, which
 * the caller restores with the same function when it leaves. */
struct toon_alloc_scope *toon_alloc_scope_enter(struct toon_alloc_scope *s);
struct toon_alloc_scope *toon_alloc_scope_current(void);
size_t toon_alloc_scope_bytes(const struct toon_alloc_scope *s); /* live now */
size_t toon_alloc_scope_peak(const struct toon_alloc_scope *s);  /* high-water mark */

/* Fault injection: the n-th allocation from now (1-based) and all after it fail; 0 disables. */
void toon_alloc_fail_after(long n);

/* Overflow-checked size arithmetic: returns 0 and leaves *out alone on overflow. */
static inline int toon_size_mul(size_t a, size_t b, size_t *out)
{
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

#endif
