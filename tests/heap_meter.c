/*
 * The heap meter of heap_meter.h.  Live bytes are a signed count: blocks allocated before the
 * meter could see them (C library start-up, under a sanitizer before the hooks are installed)
 * may be freed during a measurement, and only differences from toon_heap_meter_start() mean
 * anything.
 */
#include "heap_meter.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__)
#define HEAP_METER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HEAP_METER_ASAN 1
#endif
#endif

static atomic_llong g_live, g_peak;

static void add_live(long long n)
{
    long long now = atomic_fetch_add(&g_live, n) + n;
    long long peak = atomic_load(&g_peak);
    while (now > peak && !atomic_compare_exchange_weak(&g_peak, &peak, now)) {
    }
}

size_t toon_heap_meter_current(void)
{
    long long now = atomic_load(&g_live);
    return now > 0 ? (size_t)now : 0;
}

size_t toon_heap_meter_start(void)
{
    long long now = atomic_load(&g_live);
    atomic_store(&g_peak, now);
    return now > 0 ? (size_t)now : 0;
}

size_t toon_heap_meter_peak(void)
{
    long long peak = atomic_load(&g_peak);
    return peak > 0 ? (size_t)peak : 0;
}

#ifdef HEAP_METER_ASAN
/* ---- under AddressSanitizer: its malloc and free hooks ------------------------------------ */
int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void *, size_t),
                                              void (*free_hook)(const volatile void *));
size_t __sanitizer_get_allocated_size(const volatile void *p);

static atomic_int g_installed;

static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    add_live((long long)n);
}

static void on_free(const volatile void *p)
{
    if (p) add_live(-(long long)__sanitizer_get_allocated_size(p));
}

__attribute__((constructor)) static void install_hooks(void)
{
    atomic_store(&g_installed, __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free) != 0);
}

int toon_heap_meter_active(void)
{
    return atomic_load(&g_installed);
}

#else
/* ---- plain build: the C library's malloc family, replaced ---------------------------------- */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_memalign(size_t align, size_t n);
extern void __libc_free(void *p);

int toon_heap_meter_active(void)
{
    return 1;
}

static void *counted(void *p)
{
    if (p) add_live((long long)malloc_usable_size(p));
    return p;
}

void *malloc(size_t n)
{
    return counted(__libc_malloc(n));
}

void *calloc(size_t n, size_t size)
{
    return counted(__libc_calloc(n, size));
}

void free(void *p)
{
    if (p) add_live(-(long long)malloc_usable_size(p));
    __libc_free(p);
}

void *realloc(void *p, size_t n)
{
    size_t old = p ? malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q || n == 0) {
        add_live(-(long long)old);
        counted(q);
    }
    return q;
}

void *aligned_alloc(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

void *memalign(size_t align, size_t n)
{
    return counted(__libc_memalign(align, n));
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = counted(__libc_memalign(align, n));
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
#endif
