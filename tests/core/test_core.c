/* Unit tests of src/core: the counting allocator, fault injection, statuses, CPU features. */
#include <pthread.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/parallel.h"
#include "core/path.h"
#include "test.h"
#include "toonify/status.h"

static void test_alloc_counts_and_peak(void)
{
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    void *a = toon_malloc(1000);
    void *b = toon_malloc(5000);
    CHECK(a && b);
    CHECK(((uintptr_t)a & 63) == 0);
    CHECK_INT(toon_alloc_current(), >=, base + 6000);
    size_t peak = toon_alloc_peak();
    toon_free(b);
    CHECK_INT(toon_alloc_current(), <, base + 6000);
    CHECK_EQ(toon_alloc_peak(), peak);
    toon_free(a);
    CHECK_EQ(toon_alloc_current(), base);
    toon_free(NULL);
}

struct scoped_alloc {
    struct toon_alloc_scope *scope;
    void *block;
};

static void *alloc_in_scope(void *arg)
{
    struct scoped_alloc *a = arg;
    struct toon_alloc_scope *prev = toon_alloc_scope_enter(a->scope);
    a->block = toon_malloc(3000);
    toon_alloc_scope_enter(prev);
    return NULL;
}

static void *free_block(void *arg)
{
    toon_free(arg);
    return NULL;
}

/* Scopes count their own allocations and their children's, whichever thread frees them. */
static void test_alloc_scopes(void)
{
    struct toon_alloc_scope *job = toon_alloc_scope_new();
    CHECK(job != NULL);
    struct toon_alloc_scope *prev = toon_alloc_scope_enter(job);
    CHECK(toon_alloc_scope_current() == job);
    void *a = toon_malloc(1000);
    struct toon_alloc_scope *inner = toon_alloc_scope_new(); /* a child of job */
    toon_alloc_scope_enter(inner);
    void *b = toon_malloc(5000);
    toon_alloc_scope_enter(job);
    CHECK_INT(toon_alloc_scope_bytes(inner), >=, 5000);
    CHECK_INT(toon_alloc_scope_bytes(job), >=, 6000);
    toon_alloc_scope_enter(prev);
    /* Allocations outside the scope are not its. */
    void *c = toon_malloc(70000);
    CHECK_INT(toon_alloc_scope_peak(job), <, 70000);
    toon_free(c);
    /* Another thread's allocation inside a scope, freed by a third one. */
    struct scoped_alloc sa = {inner, NULL};
    pthread_t t;
    CHECK_EQ(pthread_create(&t, NULL, alloc_in_scope, &sa), 0);
    pthread_join(t, NULL);
    CHECK(sa.block != NULL);
    CHECK_INT(toon_alloc_scope_bytes(inner), >=, 8000);
    size_t peak = toon_alloc_scope_peak(job);
    CHECK_INT(peak, >=, 9000);
    CHECK_EQ(pthread_create(&t, NULL, free_block, sa.block), 0);
    pthread_join(t, NULL);
    toon_free(b);
    CHECK_INT(toon_alloc_scope_bytes(inner), ==, 0);
    CHECK_EQ(toon_alloc_scope_peak(job), peak);
    /* A block outlives its released scopes (ASan would see a use after free otherwise). */
    toon_alloc_scope_release(inner);
    toon_alloc_scope_release(job);
    toon_free(a);
    CHECK(toon_alloc_scope_current() == prev);
}

static void alloc_and_free(void *ctx, int i)
{
    (void)ctx;
    toon_free(toon_malloc((size_t)1000 * (i + 1)));
}

/* The parallel loops charge their threads' allocations to the caller's scope. */
static void test_parallel_for_carries_scope(void)
{
    toon_threads_set(2);
    struct toon_alloc_scope *s = toon_alloc_scope_new();
    struct toon_alloc_scope *prev = toon_alloc_scope_enter(s);
    toon_parallel_for(64, alloc_and_free, NULL);
    toon_alloc_scope_enter(prev);
    CHECK_INT(toon_alloc_scope_peak(s), >=, 64000);
    CHECK_EQ(toon_alloc_scope_bytes(s), 0);
    toon_alloc_scope_release(s);
}

static void test_alloc_fault_injection(void)
{
    toon_alloc_fail_after(2);
    void *a = toon_malloc(10);
    void *b = toon_malloc(10);
    void *c = toon_malloc(10);
    toon_alloc_fail_after(0);
    CHECK(a != NULL);
    CHECK(b == NULL);
    CHECK(c == NULL);
    toon_free(a);
    CHECK(toon_calloc(SIZE_MAX / 2, 4) == NULL);
}

static void test_status_maps(void)
{
    CHECK_EQ(toon_status_exit_code(TOON_STATUS_OK), 0);
    CHECK_EQ(toon_status_http_code(TOON_STATUS_TOO_LARGE), 413);
    CHECK_STR_CONTAINS(toon_status_str(TOON_STATUS_CORRUPT), "corrupt");
    struct toon_err err;
    CHECK_EQ(toon_err_set(&err, TOON_STATUS_IO, "x=%d", 5), TOON_STATUS_IO);
    CHECK_STR_CONTAINS(err.msg, "x=5");
}

static void test_cpu_cap(void)
{
    unsigned det = toon_cpu_features_detected();
    CHECK_EQ(toon_cpu_cap(det, "none"), 0);
    CHECK_EQ(toon_cpu_cap(det, "avx2") & ~(unsigned)TOON_CPU_AVX2, 0);
    CHECK_EQ(toon_cpu_cap(det, NULL), det);
    CHECK_EQ(toon_cpu_cap(det, ""), det);
    /* The process's features: the cap its environment set at start, read once. */
    CHECK_EQ(toon_cpu_features(), toon_cpu_cap(det, getenv("TOONIFY_ISA")));
    if (det & TOON_CPU_AVX512) CHECK(det & TOON_CPU_AVX2);
}

static void add_one(void *ctx, int i)
{
    ((int *)ctx)[i] += i;
}

static void test_path_kinds(void)
{
    CHECK(toon_is_dir("/") && !toon_is_file("/"));
    CHECK(toon_is_file("/proc/self/status") && !toon_is_dir("/proc/self/status"));
    CHECK(!toon_is_file("/nonexistent/x") && !toon_is_dir("/nonexistent/x"));
    CHECK(!toon_is_file("/dev/null")); /* a device is not a regular file */
}

static void test_parallel_for_covers_all(void)
{
    int v[1000] = {0};
    toon_threads_set(2);
    toon_parallel_for(1000, add_one, v);
    for (int i = 0; i < 1000; i++) CHECK_EQ(v[i], i);
    CHECK_INT(toon_threads_default(), >=, 1);
}

static const struct test_case tests[] = {
    {"alloc_counts_and_peak", test_alloc_counts_and_peak},
    {"alloc_fault_injection", test_alloc_fault_injection},
    {"alloc_scopes", test_alloc_scopes},
    {"parallel_for_carries_scope", test_parallel_for_carries_scope},
    {"status_maps", test_status_maps},
    {"cpu_cap", test_cpu_cap},
    {"parallel_for_covers_all", test_parallel_for_covers_all},
    {"path_kinds", test_path_kinds},
};
TEST_MAIN(tests)
