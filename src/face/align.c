/*
 * Similarity alignment of the five points to the 288x288 template (spec/PIPELINE.md §5.4)
 * and the generated head mask.  The warp into the crop is image/affine.h's.
 */
#include <math.h>

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
