/*
 * The body shared by the decoder fuzz targets: the streaming image reader (src/image/codec.h)
 * on inputs of one format, with modest limits (4096 per side, 4 Mpx).  Opens, reads every row,
 * frees; aborts when memory leaks or when the counting allocator's peak exceeds the reader's
 * own plan, so plan honesty is fuzzed too.
 */
#ifndef TOON_FUZZ_DECODE_H
#define TOON_FUZZ_DECODE_H

#include <stdint.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "image/codec.h"

static inline int toon_fuzz_decode(const uint8_t *data, size_t size, enum toon_format format)
{
    if (toon_format_sniff(data, size) != format) return 0;
    struct toon_decode_limits lim = {4096, 4096, 4u << 20};
    struct toon_image_info probe;
    (void)toon_image_probe(data, size, &probe, NULL);
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct toon_imgreader *r = NULL;
    if (toon_imgreader_open(data, size, &lim, &r, NULL) == TOON_STATUS_OK) {
        const struct toon_image_info *info = toon_imgreader_info(r);
        uint8_t *row = malloc((size_t)info->w * 3);
        if (!row) abort();
        for (int y = 0; y < info->h; y++)
            if (toon_imgreader_read(r, row, 1, NULL) != TOON_STATUS_OK) break;
        free(row);
        size_t plan = toon_imgreader_plan_bytes(info);
        toon_imgreader_free(r);
        if (toon_alloc_peak() - base > plan) abort(); /* the plan must be an upper bound */
    }
    if (toon_alloc_current() != base) abort(); /* leak */
    return 0;
}

#endif
