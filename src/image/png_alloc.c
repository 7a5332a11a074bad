/* libspng allocator callbacks over toon_malloc, noting failures (see png_alloc.h). */
#include "image/png_alloc.h"

#include "core/alloc.h"

/* spng's callbacks carry no context pointer, hence a per-thread flag. */
static _Thread_local int g_png_oom;

static void *png_malloc(size_t n)
{
    void *p = toon_malloc(n);
    if (!p) g_png_oom = 1;
    return p;
}

static void *png_realloc(void *old, size_t n)
{
    void *p = toon_realloc(old, n);
    if (!p) g_png_oom = 1;
    return p;
}

static void *png_calloc(size_t n, size_t size)
{
    void *p = toon_calloc(n, size);
    if (!p) g_png_oom = 1;
    return p;
}

static struct spng_alloc g_png_alloc = {png_malloc, png_realloc, png_calloc, toon_free};

struct spng_alloc *toon_png_alloc(void)
{
    return &g_png_alloc;
}

void toon_png_oom_clear(void)
{
    g_png_oom = 0;
}

int toon_png_oom(void)
{
    return g_png_oom;
}
