/*
 * Image resizing that reproduces OpenCV's cv2.resize on u8 images, as a pull-based stream.
 *
 * TOON_RESIZE_AREA is INTER_AREA (what the reference pipeline uses): exact block averages for
 * integer downscale factors, OpenCV's fractional cell weights for other downscales, and for
 * upscales OpenCV's bilinear-like emulation.  TOON_RESIZE_BILINEAR is INTER_LINEAR (half-pixel
 * centres, 11-bit fixed-point weights; an exact 2x downscale becomes AREA, as in OpenCV).
 * The arithmetic follows OpenCV's, rounding included, so results match to within one level and
 * are usually identical (tests/image compare against vectors made by cv2 itself).
 *
 * The resizer pulls source rows in order through a callback and keeps O(width) memory: one
 * source row and two resampled rows.  Thread-safety: one thread at a time per resizer.
 */
#ifndef TOON_IMAGE_RESIZE_H
#define TOON_IMAGE_RESIZE_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/toonify.h"

enum toon_resize_filter { TOON_RESIZE_AREA, TOON_RESIZE_BILINEAR };

/* Must deliver the next n source rows, in order.  rows: [n][sw][c]. */
typedef enum toon_status (*toon_rows_fn)(void *ctx, uint8_t *rows, int n, struct toon_err *err);

struct toon_resizer;

/* c is the number of interleaved u8 channels (1..16).  The source callback's errors are
 * returned unchanged by toon_resizer_read(). */
enum toon_status toon_resizer_new(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f,
                                  toon_rows_fn src, void *src_ctx, struct toon_resizer **out,
                                  struct toon_err *err);
/* The next n destination rows.  rows: [n][dw][c]. */
enum toon_status toon_resizer_read(struct toon_resizer *rz, uint8_t *rows, int n,
                                   struct toon_err *err);
void toon_resizer_free(struct toon_resizer *rz);
/* Upper bound of the heap a resizer holds. */
size_t toon_resizer_plan_bytes(int sw, int sh, int dw, int dh, int c, enum toon_resize_filter f);

/* Whole-image convenience built on the resizer: out gets dw x dh with src's channel count and a
 * tight stride. */
enum toon_status toon_image_resize(const struct toon_image *src, int dw, int dh,
                                   enum toon_resize_filter f, struct toon_image *out,
                                   struct toon_err *err);

#endif
