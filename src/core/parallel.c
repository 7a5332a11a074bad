/* Parallel loops over OpenMP (see parallel.h). */
#include "core/parallel.h"

#include <omp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
#pragma omp parallel for schedule(static) num_threads(nt)
    for (int i = 0; i < n; i++) fn(ctx, i);
}

void toon_omp_tame_spinning(char **argv)
{
    if (getenv("GOMP_SPINCOUNT") || getenv("OMP_WAIT_POLICY")) return;
    /* Under valgrind the new program would run outside it. */
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) return;
    if (setenv("GOMP_SPINCOUNT", "1000", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* Not executed again (no /proc): the default spinning stays. */
}
