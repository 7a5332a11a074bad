/*
 * EXIF orientation through libexif.  JPEG carries EXIF in an APP1 segment ("Exif\0\0" + TIFF),
 * PNG in an eXIf chunk and WebP in an EXIF chunk (bare TIFF, sometimes with the "Exif\0\0"
 * prefix too); all three end up here.  Only the orientation tag of IFD0 is used.
 *
 * libexif's allocations go through toon_malloc via an ExifMem whose callbacks charge a
 * per-thread budget: the input is capped at 64 KiB (the most a JPEG APP1 segment can hold) and
 * the heap libexif may hold at once at EXIF_HEAP_BUDGET, so a hostile EXIF block can neither
 * exhaust memory nor exceed what toon_exif_plan_bytes() promises.  An allocation refused by the
 * budget only makes libexif skip entries (IFD0, which holds the orientation, is loaded first,
 * and a camera's EXIF needs well under 100 KiB); one refused by toon_malloc (out of memory, or
 * fault injection) makes the whole call fail with TOON_STATUS_NO_MEMORY.
 */
#include <string.h>

#include <libexif/exif-data.h>
#include <libexif/exif-mem.h>
#include <libexif/exif-utils.h>

#include "core/alloc.h"
#include "image/backend.h"

#define EXIF_MAX_INPUT   65536u
#define EXIF_HEAP_BUDGET (512u << 10)
#define BLOCK_HEADER     16u /* our size prefix in front of every libexif block */

struct exif_heap {
    size_t used; /* bytes charged, bookkeeping included */
    int oom;     /* toon_malloc failed */
};

/* libexif's callbacks carry no context pointer, so the heap of the current call is per thread. */
static _Thread_local struct exif_heap *g_heap;

static void *exif_heap_alloc(ExifLong s)
{
    struct exif_heap *h = g_heap;
    size_t total = (size_t)s + BLOCK_HEADER;
    if (!h || toon_plan_block(total) > EXIF_HEAP_BUDGET - h->used) return NULL;
    unsigned char *p = toon_malloc(total);
    if (!p) {
        h->oom = 1;
        return NULL;
    }
    memset(p, 0, total); /* libexif expects zeroed blocks, like calloc */
    memcpy(p, &total, sizeof total);
    h->used += toon_plan_block(total);
    return p + BLOCK_HEADER;
}

static void exif_heap_free(void *p)
{
    if (!p) return;
    unsigned char *base = (unsigned char *)p - BLOCK_HEADER;
    size_t total;
    memcpy(&total, base, sizeof total);
    if (g_heap) g_heap->used -= toon_plan_block(total);
    toon_free(base);
}

static void *exif_heap_realloc(void *p, ExifLong s)
{
    if (!p) return exif_heap_alloc(s);
    size_t old_total;
    memcpy(&old_total, (unsigned char *)p - BLOCK_HEADER, sizeof old_total);
    void *q = exif_heap_alloc(s);
    if (!q) return NULL;
    size_t old = old_total - BLOCK_HEADER;
    memcpy(q, p, old < (size_t)s ? old : (size_t)s);
    exif_heap_free(p);
    return q;
}

size_t toon_exif_plan_bytes(void)
{
    /* The budget plus the block that holds the "Exif\0\0"-prefixed copy of the input. */
    return EXIF_HEAP_BUDGET + toon_plan_block(EXIF_MAX_INPUT + 6);
}

static int is_tiff_header(const uint8_t *d, size_t len)
{
    return len >= 4 && ((d[0] == 'I' && d[1] == 'I' && d[2] == 42 && d[3] == 0) ||
                        (d[0] == 'M' && d[1] == 'M' && d[2] == 0 && d[3] == 42));
}

enum toon_status toon_exif_orientation(const uint8_t *data, size_t len, int *out,
                                       struct toon_err *err)
{
    static const uint8_t exif_hdr[6] = {'E', 'x', 'i', 'f', 0, 0};
    *out = 1;
    if (!data || len < 6) return TOON_STATUS_OK;

    /* libexif wants the "Exif\0\0" prefix; a bare TIFF block gets one in a copy. */
    uint8_t *copy = NULL;
    const uint8_t *blob = data;
    size_t n = len;
    if (memcmp(data, exif_hdr, 6) != 0) {
        if (!is_tiff_header(data, len)) return TOON_STATUS_OK;
        n = len < EXIF_MAX_INPUT ? len : EXIF_MAX_INPUT;
        copy = toon_malloc(n + 6);
        if (!copy) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading EXIF");
        memcpy(copy, exif_hdr, 6);
        memcpy(copy + 6, data, n);
        blob = copy;
        n += 6;
    } else if (n > EXIF_MAX_INPUT) {
        n = EXIF_MAX_INPUT;
    }

    struct exif_heap heap = {0, 0};
    struct exif_heap *saved = g_heap;
    g_heap = &heap;
    ExifMem *mem = exif_mem_new(exif_heap_alloc, exif_heap_realloc, exif_heap_free);
    ExifData *ed = mem ? exif_data_new_mem(mem) : NULL;
    if (ed) {
        /* No fix-ups after loading (they add entries), and skip tags libexif does not know. */
        exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
        exif_data_set_option(ed, EXIF_DATA_OPTION_IGNORE_UNKNOWN_TAGS);
        exif_data_load_data(ed, blob, (unsigned int)n);
        ExifEntry *e = exif_content_get_entry(ed->ifd[EXIF_IFD_0], EXIF_TAG_ORIENTATION);
        if (e && e->format == EXIF_FORMAT_SHORT && e->components >= 1 && e->data && e->size >= 2) {
            int v = exif_get_short(e->data, exif_data_get_byte_order(ed));
            if (v >= 1 && v <= 8) *out = v;
        }
        exif_data_unref(ed);
    }
    if (mem) exif_mem_unref(mem);
    g_heap = saved;
    toon_free(copy);
    if (heap.oom || !mem || !ed) {
        *out = 1;
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading EXIF");
    }
    return TOON_STATUS_OK;
}
