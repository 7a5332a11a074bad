/*
 * Similarity alignment of the five points to the 288x288 template (spec/PIPELINE.md §5.4),
 * affine warps of u8 images, and the generated head mask.
 */
#include <math.h>
#include <string.h>

#include "face/face.h"

const float toon_face_template[5][2] = {
    {111.78f, 137.63f}, {179.74f, 137.25f}, {145.98f, 176.28f},
    {118.06f, 216.06f}, {174.34f, 215.75f},
};

int toon_face_similarity(const float (*src)[2], const float (*dst)[2], int n, double m[6])
{
    double msx = 0, msy = 0, mdx = 0, mdy = 0;
    for (int i = 0; i < n; i++) {
        msx += src[i][0];
        msy += src[i][1];
        mdx += dst[i][0];
        mdy += dst[i][1];
    }
    msx /= n;
    msy /= n;
    mdx /= n;
    mdy /= n;
    double num_a = 0, num_b = 0, den = 0;
    for (int i = 0; i < n; i++) {
        double sx = src[i][0] - msx, sy = src[i][1] - msy;
        double dx = dst[i][0] - mdx, dy = dst[i][1] - mdy;
        num_a += sx * dx + sy * dy;
        num_b += sx * dy - sy * dx;
        den += sx * sx + sy * sy;
    }
    if (!(den > 1e-9)) return 0;
    double a = num_a / den, b = num_b / den;
    if (!isfinite(a) || !isfinite(b) || a * a + b * b < 1e-12) return 0;
    m[0] = a;
    m[1] = -b;
    m[2] = mdx - (a * msx - b * msy);
    m[3] = b;
    m[4] = a;
    m[5] = mdy - (b * msx + a * msy);
    return 1;
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
            double fx = floor(sx), fy = floor(sy);
            int x0 = (int)fx, y0 = (int)fy;
            float tx = (float)(sx - fx), ty = (float)(sy - fy);
            uint8_t *o = dst + ((size_t)y * dw + x) * c;
            if (!(sx > -2 && sy > -2 && sx < sw + 1 && sy < sh + 1)) {
                memset(o, border, (size_t)c);
                continue;
            }
            for (int ch = 0; ch < c; ch++) {
                float v[4];
                for (int k = 0; k < 4; k++) {
                    int xx = x0 + (k & 1), yy = y0 + (k >> 1);
                    v[k] = xx >= 0 && yy >= 0 && xx < sw && yy < sh
                               ? src[((size_t)yy * sw + xx) * c + ch]
                               : border;
                }
                float top = v[0] + (v[1] - v[0]) * tx, bot = v[2] + (v[3] - v[2]) * tx;
                float r = top + (bot - top) * ty + 0.5f;
                o[ch] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
            }
        }
}

void toon_face_mask_generate(float *mask, int n)
{
    /* An ellipse around the template's face (eyes at y 137, mouth at 216, in 288), fully
     * opaque inside 80% of its radius and fading smoothly to zero at the edge. */
    double s = n / 288.0;
    double cx = 145.5 * s, cy = 163.0 * s, rx = 104.0 * s, ry = 128.0 * s;
    for (int y = 0; y < n; y++)
        for (int x = 0; x < n; x++) {
            double dx = (x - cx) / rx, dy = (y - cy) / ry;
            double d = sqrt(dx * dx + dy * dy);
            double t = (1.0 - d) / 0.2;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            mask[(size_t)y * n + x] = (float)(t * t * (3 - 2 * t));
        }
}
