/* Parallel loops over OpenMP (see parallel.h). */
#include "core/parallel.h"

#include <omp.h>
#include <sched.h>

#include "core/alloc.h"

static int g_threads;

int toon_threads_default(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
    return omp_get_num_procs();
}

void toon_threads_set(int n)
{
    g_threads = n > 0 ? n : toon_threads_default();
    omp_set_num_threads(g_threads);
}

int toon_threads_get(void)
{
    if (!g_threads) toon_threads_set(0);
    return g_threads;
}

void toon_parallel_for(int n, void (*fn)(void *ctx, int i), void *ctx)
{
    int nt = toon_threads_get();
    if (nt <= 1 || n <= 1) {
        for (int i = 0; i < n; i++) fn(ctx, i);
        return;
    }
    /* The caller's accounting scope goes with the work into the pool's threads. */
    struct toon_alloc_scope *scope = toon_alloc_scope_current();
#pragma omp parallel num_threads(nt)
    {
        struct toon_alloc_scope *prev = toon_alloc_scope_enter(scope);
#pragma omp for schedule(static)
        for (int i = 0; i < n; i++) fn(ctx, i);
        toon_alloc_scope_enter(prev);
    }
}
