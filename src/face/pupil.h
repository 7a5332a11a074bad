/*
 * The pupil finder of the five points: DCT-Net's `source/utils.py` `find_pupil`
 * (spec/PIPELINE.md §5.3) with the OpenCV 4 operations it calls rewritten to give the same
 * bytes (cvtColor BGR2GRAY on 8 bits, equalizeHist, threshold's THRESH_OTSU choice,
 * fillConvexPoly with 8-connected edges and no sub-pixel shift).  Internal to toon_face; the
 * primitives are declared here for the tests that compare them with OpenCV.
 *
 * Pure functions of their arguments: any number of threads may call them at once.
 */
#ifndef TOON_FACE_PUPIL_H
#define TOON_FACE_PUPIL_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/toonify.h"

/* An eye box wider or taller than this is not refined (the eye fails, as an invalid box). */
#define TOON_PUPIL_MAX_EYE 1024
/* The most points an eye may have. */
#define TOON_PUPIL_MAX_POINTS 8

/* Bytes of the scratch buffer toon_pupil_find works in. */
size_t toon_pupil_scratch_bytes(void);

/*
 * The pupil of the eye whose landmarks are pts[0..n) (image pixels) in the RGB picture img,
 * in image pixels; with no dark pixel, the centre of the eye's box.  Returns 0 when the box
 * (integer truncation of the points' extremes, upper bounds exclusive) is empty, not inside
 * the picture or larger than TOON_PUPIL_MAX_EYE, or n is out of 3..TOON_PUPIL_MAX_POINTS:
 * the eye fails.
 */
int toon_pupil_find(const struct toon_image *img, const float (*pts)[2], int n, void *scratch,
                    float out[2]);

/* cv2.cvtColor(BGR2GRAY) of the w x h crop at (x0, y0) of the RGB img, into grey[h][w]: the
 * reference hands OpenCV BGR pixels, ours are RGB, so each weight meets the same colour. */
void toon_pupil_grey_crop(const struct toon_image *img, int x0, int y0, int w, int h,
                          uint8_t *grey);
/* cv2.equalizeHist of n 8-bit pixels, in place (only the histogram matters, not the shape). */
void toon_pupil_equalize_hist(uint8_t *px, size_t n);
/* The threshold cv2.threshold(..., THRESH_BINARY | THRESH_OTSU) picks for n 8-bit pixels. */
int toon_pupil_otsu_threshold(const uint8_t *px, size_t n);
/* cv2.fillConvexPoly(mask, pts, 1) on a w x h 8-bit mask (lineType 8, shift 0). */
void toon_pupil_fill_convex_poly(uint8_t *mask, int w, int h, const int (*pts)[2], int n);

#endif
