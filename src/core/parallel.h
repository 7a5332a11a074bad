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

/* Called first thing in main(): makes OpenMP's idle threads sleep after a short spin.  libgomp's
 * default (300,000 spins) lets two busy processes on the same cores starve each other: two
 * 1024 px conversions at once took 6-123 s with it and 3.2-3.4 s with 1000 spins, while one
 * conversion alone measured the same either way (within this machine's noise).  libgomp reads
 * GOMP_SPINCOUNT when it is loaded, before main, so this sets it and executes the program
 * again, once; a setting the user made (GOMP_SPINCOUNT or OMP_WAIT_POLICY) is left alone, and
 * if the program cannot be executed again it just goes on. */
void toon_omp_tame_spinning(char **argv);

/* Calls fn(ctx, i) for i in [0, n), split over the current thread count, static schedule. */
void toon_parallel_for(int n, void (*fn)(void *ctx, int i), void *ctx);

#endif
