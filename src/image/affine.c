/*
 * Bilinear sampling and affine warps (see affine.h): the one sampler the face crop and the
 * blending of heads back into the photo share.
 */
#include "image/affine.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

void toon_bilinear_at(double x, double y, struct toon_bilinear *b)
{
    double fx = floor(x), fy = floor(y);
    b->x0 = (int)fx;
    b->y0 = (int)fy;
    b->tx = (float)(x - fx);
    b->ty = (float)(y - fy);
}

/* The four neighbours v (top-left, top-right, bottom-left, bottom-right) mixed by b. */
static float mix(const float v[4], const struct toon_bilinear *b)
{
    float top = v[0] + (v[1] - v[0]) * b->tx, bot = v[2] + (v[3] - v[2]) * b->tx;
    return top + (bot - top) * b->ty;
}

float toon_bilinear_u8(const uint8_t *src, int w, int h, int c, int ch, float border,
                       const struct toon_bilinear *b)
{
    float v[4];
    for (int k = 0; k < 4; k++) {
        int xx = b->x0 + (k & 1), yy = b->y0 + (k >> 1);
        v[k] =
            xx >= 0 && yy >= 0 && xx < w && yy < h ? src[((size_t)yy * w + xx) * c + ch] : border;
    }
    return mix(v, b);
}

float toon_bilinear_f32(const float *src, int w, int h, float border, const struct toon_bilinear *b)
{
    float v[4];
    for (int k = 0; k < 4; k++) {
        int xx = b->x0 + (k & 1), yy = b->y0 + (k >> 1);
        v[k] = xx >= 0 && yy >= 0 && xx < w && yy < h ? src[(size_t)yy * w + xx] : border;
    }
    return mix(v, b);
}

int toon_affine_invert(const double m[6], double inv[6])
{
    double det = m[0] * m[4] - m[1] * m[3];
    if (!(fabs(det) > 1e-12)) return 0;
    double id = 1.0 / det;
    inv[0] = m[4] * id;
    inv[1] = -m[1] * id;
    inv[3] = -m[3] * id;
    inv[4] = m[0] * id;
    inv[2] = -(inv[0] * m[2] + inv[1] * m[5]);
    inv[5] = -(inv[3] * m[2] + inv[4] * m[5]);
    return 1;
}

void toon_warp_affine_u8(const uint8_t *src, int sw, int sh, int c, uint8_t *dst, int dw, int dh,
                         const double m[6], uint8_t border)
{
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double sx = m[0] * x + m[1] * y + m[2], sy = m[3] * x + m[4] * y + m[5];
            uint8_t *o = dst + ((size_t)y * dw + x) * c;
            if (!(sx > -2 && sy > -2 && sx < sw + 1 && sy < sh + 1)) {
                memset(o, border, (size_t)c);
                continue;
            }
            struct toon_bilinear b;
            toon_bilinear_at(sx, sy, &b);
            for (int ch = 0; ch < c; ch++) {
                float r = toon_bilinear_u8(src, sw, sh, c, ch, border, &b) + 0.5f;
                o[ch] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            }
        }
}
