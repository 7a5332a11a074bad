/*
 * Parallel loops.  The engine runs on OpenMP because oneDNN (Debian's build) does too: one
 * pool of threads serves our loops and its convolutions, with no oversubscription.
 * toon_threads_default() is the number of CPUs this process may use (its affinity mask, so a
 * container's cpuset is respected).
 */
#ifndef TOON_CORE_PARALLEL_H
#define TOON_CORE_PARALLEL_H

int toon_threads_default(void);
void toon_threads_set(int n);
int toon_threads_get(void);

/* Calls fn(ctx, i) for i in [0, n), split over the current thread count, static schedule. */
void toon_parallel_for(int n, void (*fn)(void *ctx, int i), void *ctx);

#endif
