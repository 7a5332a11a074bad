/*
 * Bilinear sampling and affine warps of images held in memory.
 *
 * The face path warps a photo into the 288x288 crop (toon_warp_affine_u8) and the compound
 * pipeline samples the cartoonised crop and its mask back into the photo; both read between
 * pixels with the one sampler here, so the arithmetic (float weights, the same order of
 * operations) is the same wherever it is used.  Neighbours outside the image read as the
 * border value.  Pure functions on caller memory: no allocation, any thread.
 */
#ifndef TOON_IMAGE_AFFINE_H
#define TOON_IMAGE_AFFINE_H

#include <stdint.h>

/* Where a point falls between pixels: its top-left neighbour and the fractions towards the
 * next pixel right (tx) and down (ty). */
struct toon_bilinear {
    int x0, y0;
    float tx, ty;
};

/* The neighbours and weights of point (x, y) (pixel centres at integers). */
void toon_bilinear_at(double x, double y, struct toon_bilinear *b);
/* Channel ch of a u8 image [h][w][c] (tight rows) at b, `border` outside the image. */
float toon_bilinear_u8(const uint8_t *src, int w, int h, int c, int ch, float border,
                       const struct toon_bilinear *b);
/* A float map [h][w] at b, `border` outside the map. */
float toon_bilinear_f32(const float *src, int w, int h, float border,
                        const struct toon_bilinear *b);

/* Inverse of a 2x3 affine matrix m = {a, b, tx, c, d, ty}; 0 when singular. */
int toon_affine_invert(const double m[6], double inv[6]);

/*
 * Warps: dst(x, y) = src(m * (x, y)), bilinear, border value `border` outside src.
 * u8 images with c channels, tight rows.
 */
void toon_warp_affine_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh,
                         const double m[6], uint8_t border);

#endif
