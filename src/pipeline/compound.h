/*
 * The DCT-Net compound pipeline (spec/PIPELINE.md): background generator over the working
 * image, faces detected, aligned to 288x288, cartoonised by the head generator and blended
 * back with a feathered mask, largest first.
 *
 * TOON_MODE_OFFICIAL reproduces the reference: working image with its short side <= 720
 * (area filter), background padded with white to (d/16 + 1) * 16, five points from 5 of the
 * 6 eye landmarks, integer landmarks, at most the 10 largest faces, boxes of 60 px or less
 * skipped, the result resized back with the area filter, and no resize at all when no face
 * was found.  TOON_MODE_HD works at the output size (p->size) with the quirks fixed: no
 * padding, all six eye points, and always the requested size.
 *
 * Memory: the working image and the result (u8, 3 bytes a pixel each) are the only whole
 * images; the background generator streams rows straight into the result, and the encoder
 * streams rows out of it.  toon_compound_plan() adds up every allocation of every stage, an
 * upper bound of what toon_compound_convert() allocates.
 *
 * The strength blend with the photo happens at the working resolution, before the final
 * resize.  Thread-safety: as toon_convert().
 */
#ifndef TOON_PIPELINE_COMPOUND_H
#define TOON_PIPELINE_COMPOUND_H

#include <stddef.h>
#include <stdint.h>

#include "image/codec.h"
#include "toonify/toonify.h"

enum toon_status toon_compound_convert(const struct toon_model *m, const uint8_t *data, size_t len,
                                       const struct toon_convert_params *p, toon_write_fn sink,
                                       void *sink_ctx, struct toon_convert_report *report,
                                       struct toon_err *err);
/* The same from encoded bytes or the caller's pixels (image/codec.h). */
enum toon_status toon_compound_convert_source(
    const struct toon_model *m, const struct toon_source *src, const struct toon_convert_params *p,
    toon_write_fn sink, void *sink_ctx, struct toon_convert_report *report, struct toon_err *err);
enum toon_status toon_compound_plan(const struct toon_model *m, const struct toon_image_info *info,
                                    const struct toon_convert_params *p, int *out_w, int *out_h,
                                    size_t *bytes, struct toon_err *err);

/* The working size of the compound pipeline for a displayed size and params. */
void toon_compound_work_size(const struct toon_image_info *info,
                             const struct toon_convert_params *p, int *w, int *h);

#endif
