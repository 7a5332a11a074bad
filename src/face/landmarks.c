/*
 * The 68 landmarks of a detected face with the face-api net (spec/MODELS.md): the box is
 * padded to a centred square with zeros, resized to 112x112 (TF's legacy bilinear, as
 * face-api's resizeBilinear), normalised with face-api's mean, and the net's 68 fractions of
 * the square are mapped back to image pixels.  The crop is sampled straight from the image.
 */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "face/face.h"
#include "face/models.h"

size_t toon_face_landmarks_plan_bytes(const struct toon_face_models *fm)
{
    (void)fm;
    return (size_t)TOON_LM68_INPUT * TOON_LM68_INPUT * 3 * sizeof(float) + toon_alloc_overhead() +
           toon_lm68_run_bytes();
}

/* A pixel of the square crop: the image inside the box, zero in the padding and outside. */
static float crop_px(const struct toon_image *img, int bx0, int by0, int bx1, int by1, int x, int y,
                     int c)
{
    if (x < bx0 || y < by0 || x >= bx1 || y >= by1 || x < 0 || y < 0 || x >= img->w || y >= img->h)
        return 0.0f;
    return img->data[(size_t)y * img->stride + (size_t)x * 3 + (size_t)c];
}

enum toon_status toon_face_landmarks(const struct toon_face_models *fm,
                                     const struct toon_image *img, struct toon_face *face,
                                     int official, struct toon_err *err)
{
    static const float mean[3] = {122.782f, 117.001f, 104.298f};
    const int n = TOON_LM68_INPUT;
    int bx0 = (int)floorf(face->x0), by0 = (int)floorf(face->y0);
    int bx1 = (int)ceilf(face->x1), by1 = (int)ceilf(face->y1);
    int bw = bx1 - bx0, bh = by1 - by0;
    if (bw < 4 || bh < 4 || bw > 1 << 16 || bh > 1 << 16)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "face box too small or large");
    int side = bw > bh ? bw : bh;
    /* The centred square's origin in image pixels (face-api rounds the padding before). */
    int px = bx0 - (int)lroundf((float)(side - bw) * 0.5f);
    int py = by0 - (int)lroundf((float)(side - bh) * 0.5f);
    float *in = toon_malloc((size_t)n * n * 3 * sizeof(float));
    float out[136];
    if (!in) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    float scale = (float)side / (float)n;
    for (int oy = 0; oy < n; oy++) {
        float sy = (float)oy * scale;
        int y0 = (int)floorf(sy), y1 = y0 + 1 < side ? y0 + 1 : side - 1;
        float ty = sy - (float)y0;
        for (int ox = 0; ox < n; ox++) {
            float sx = (float)ox * scale;
            int x0 = (int)floorf(sx), x1 = x0 + 1 < side ? x0 + 1 : side - 1;
            float tx = sx - (float)x0;
            for (int c = 0; c < 3; c++) {
                float a = crop_px(img, bx0, by0, bx1, by1, px + x0, py + y0, c);
                float b = crop_px(img, bx0, by0, bx1, by1, px + x1, py + y0, c);
                float d = crop_px(img, bx0, by0, bx1, by1, px + x0, py + y1, c);
                float e = crop_px(img, bx0, by0, bx1, by1, px + x1, py + y1, c);
                float top = a + (b - a) * tx, bot = d + (e - d) * tx;
                in[((size_t)oy * n + ox) * 3 + c] = (top + (bot - top) * ty - mean[c]) / 255.0f;
            }
        }
    }
    enum toon_status st = toon_lm68_run(fm->lm, in, out, err);
    toon_free(in);
    if (st != TOON_STATUS_OK) return st;
    for (int i = 0; i < 68; i++) {
        float x = (float)px + out[2 * i] * (float)side;
        float y = (float)py + out[2 * i + 1] * (float)side;
        if (official) { /* the reference stores landmarks as integers */
            x = truncf(x);
            y = truncf(y);
        }
        face->lm[i][0] = x;
        face->lm[i][1] = y;
    }
    face->has_landmarks = 1;
    return TOON_STATUS_OK;
}
