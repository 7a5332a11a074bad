/*
 * The body shared by the decoder fuzz targets: the streaming image reader (src/image/codec.h)
 * on inputs of one format, with modest limits (4096 per side, 4 Mpx).  Opens, reads every row,
 * frees; aborts when memory leaks or when the heap exceeds the reader's own plan, so plan
 * honesty is fuzzed too.
 *
 * The heap is measured whole, by the heap meter linked into these targets (tests/heap_meter.h),
 * because libjpeg and libwebp allocate with plain malloc, out of sight of the counting
 * allocator.  The plan must hold for every input the probe accepts, including inputs the
 * decoder then fails on (libwebp may allocate a lot before it finds a stream incomplete).
 */
#ifndef TOON_FUZZ_DECODE_H
#define TOON_FUZZ_DECODE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "heap_meter.h"
#include "image/codec.h"

/* Opens and reads every row; the row buffer is allocated before the measurement starts. */
static inline void toon_fuzz_decode_rows(const uint8_t *data, size_t size,
                                         const struct toon_decode_limits *lim, uint8_t *row)
{
    struct toon_imgreader *r = NULL;
    if (toon_imgreader_open(data, size, lim, &r, NULL) != TOON_STATUS_OK) return;
    const struct toon_image_info *info = toon_imgreader_info(r);
    for (int y = 0; y < info->h; y++)
        if (toon_imgreader_read(r, row, 1, NULL) != TOON_STATUS_OK) break;
    toon_imgreader_free(r);
}

static inline int toon_fuzz_decode(const uint8_t *data, size_t size, enum toon_format format)
{
    if (toon_format_sniff(data, size) != format) return 0;
    if (!toon_heap_meter_active()) abort(); /* the property would check nothing */
    struct toon_decode_limits lim = {4096, 4096, 4u << 20};
    struct toon_image_info probe;
    if (toon_image_probe(data, size, &probe, NULL) != TOON_STATUS_OK) {
        size_t base = toon_alloc_current();
        uint8_t *row = malloc(3 * 4096);
        if (!row) abort();
        toon_fuzz_decode_rows(data, size, &lim, row);
        free(row);
        if (toon_alloc_current() != base) abort(); /* leak */
        return 0;
    }
    size_t plan = toon_imgreader_plan_bytes(&probe);
    uint8_t *row = malloc((size_t)probe.w * 3 + 1);
    if (!row) abort();
    size_t base = toon_alloc_current();
    size_t start = toon_heap_meter_start();
    toon_fuzz_decode_rows(data, size, &lim, row);
    size_t peak = toon_heap_meter_peak() - start;
    free(row);
    if (peak > plan) { /* the plan must be an upper bound */
        fprintf(stderr, "heap peak %zu > plan %zu for a %dx%d %s\n", peak, plan, probe.w, probe.h,
                toon_format_name(format));
        abort();
    }
    if (toon_alloc_current() != base) abort(); /* leak */
    return 0;
}

#endif
