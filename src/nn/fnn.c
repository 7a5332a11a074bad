/*
 * Plain-C kernels for the face networks (see fnn.h).  They run on the calling thread: the
 * layers are so small that splitting them costs more than it saves, so callers parallelise
 * over whole network runs instead.  The innermost loops run over channels so the compiler
 * vectorises them.
 */
#include "nn/fnn.h"

#include <float.h>
#include <math.h>
#include <string.h>

void toon_fnn_out_size(int in, int k, int stride, int same, int *out, int *pad_before)
{
    if (same) {
        int o = (in + stride - 1) / stride;
        int total = (o - 1) * stride + k - in;
        if (total < 0) total = 0;
        *out = o;
        *pad_before = total / 2;
    } else {
        *out = in >= k ? (in - k) / stride + 1 : 0;
        *pad_before = 0;
    }
}

static inline float activate(float v, int act)
{
    if (act == TOON_FNN_ACT_RELU) return v > 0 ? v : 0;
    if (act == TOON_FNN_ACT_RELU6) return v < 0 ? 0 : v > 6 ? 6 : v;
    return v;
}

struct conv_job {
    const float *in, *wt, *b;
    int h, w, cin, kh, kw, cout, stride, act;
    int oh, ow, pt, pl;
    float *out;
};

/* Blocks of OB output channels are accumulated in registers; PB pixels share each weight
 * load in 1x1 layers.  Weights and biases must have OB floats of slack after their end
 * (fnn.h): the last block loads whole vectors and stores only the channels that exist. */
#define OB 16
#define PB 4

/* Compiled for AVX-512, AVX2 and the baseline; the loader picks one for the CPU. */
#define TOON_FNN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* Eight floats in a vector register (GCC/Clang vector extension; SSE pairs on old CPUs). */
typedef float v8f __attribute__((vector_size(32)));

/* Unaligned vector load (a macro: passing vectors by value would tie the ABI to the ISA). */
#define LOAD8(v, p) memcpy(&(v), (p), sizeof(v8f))

/* Stores n <= OB channels of the block (a0, a1), activated. */
static inline void store_block(float *o, const v8f *a0, const v8f *a1, int n, int act)
{
    float tmp[OB];
    memcpy(tmp, a0, sizeof *a0);
    memcpy(tmp + 8, a1, sizeof *a1);
    for (int t = 0; t < n; t++) o[t] = activate(tmp[t], act);
}

/* All output channels of one pixel. */
TOON_FNN_CLONES
static void conv_pixel(const struct conv_job *j, int oy, int ox)
{
    float *o = j->out + ((size_t)oy * j->ow + ox) * j->cout;
    for (int oc0 = 0; oc0 < j->cout; oc0 += OB) {
        v8f a0 = {0}, a1 = {0};
        if (j->b) {
            LOAD8(a0, j->b + oc0);
            LOAD8(a1, j->b + oc0 + 8);
        }
        for (int ky = 0; ky < j->kh; ky++) {
            int iy = oy * j->stride - j->pt + ky;
            if (iy < 0 || iy >= j->h) continue;
            for (int kx = 0; kx < j->kw; kx++) {
                int ix = ox * j->stride - j->pl + kx;
                if (ix < 0 || ix >= j->w) continue;
                const float *src = j->in + ((size_t)iy * j->w + ix) * j->cin;
                const float *wk = j->wt + ((size_t)ky * j->kw + kx) * j->cin * j->cout + oc0;
                for (int ic = 0; ic < j->cin; ic++) {
                    const float *wr = wk + (size_t)ic * j->cout;
                    v8f w0, w1;
                    LOAD8(w0, wr);
                    LOAD8(w1, wr + 8);
                    a0 += src[ic] * w0;
                    a1 += src[ic] * w1;
                }
            }
        }
        int nb = j->cout - oc0 < OB ? j->cout - oc0 : OB;
        store_block(o + oc0, &a0, &a1, nb, j->act);
    }
}

/* A 1x1 stride-1 convolution is a matrix product: out[p][o] = in[p][:] . wt[:][o]. */
TOON_FNN_CLONES
static void conv1x1(const struct conv_job *j)
{
    size_t n_pix = (size_t)j->oh * j->ow;
    int cin = j->cin, cout = j->cout;
    size_t p = 0;
    for (; p + PB <= n_pix; p += PB) {
        const float *src = j->in + p * cin;
        for (int oc0 = 0; oc0 < cout; oc0 += OB) {
            v8f a0[PB], a1[PB];
            v8f b0 = {0}, b1 = {0};
            if (j->b) {
                LOAD8(b0, j->b + oc0);
                LOAD8(b1, j->b + oc0 + 8);
            }
            for (int q = 0; q < PB; q++) {
                a0[q] = b0;
                a1[q] = b1;
            }
            for (int ic = 0; ic < cin; ic++) {
                const float *wr = j->wt + (size_t)ic * cout + oc0;
                v8f w0, w1;
                LOAD8(w0, wr);
                LOAD8(w1, wr + 8);
                for (int q = 0; q < PB; q++) {
                    float v = src[(size_t)q * cin + ic];
                    a0[q] += v * w0;
                    a1[q] += v * w1;
                }
            }
            int nb = cout - oc0 < OB ? cout - oc0 : OB;
            for (int q = 0; q < PB; q++)
                store_block(j->out + (p + q) * cout + oc0, &a0[q], &a1[q], nb, j->act);
        }
    }
    for (; p < n_pix; p++) conv_pixel(j, (int)(p / j->ow), (int)(p % j->ow));
}

void toon_fnn_conv(const float *in, int h, int w, int cin, const float *wt, const float *b, int kh,
                   int kw, int cout, int stride, int same, int act, float *out)
{
    struct conv_job j = {in, wt, b, h, w, cin, kh, kw, cout, stride, act, 0, 0, 0, 0, out};
    toon_fnn_out_size(h, kh, stride, same, &j.oh, &j.pt);
    toon_fnn_out_size(w, kw, stride, same, &j.ow, &j.pl);
    if (kh == 1 && kw == 1 && stride == 1) {
        conv1x1(&j);
        return;
    }
    for (int oy = 0; oy < j.oh; oy++)
        for (int ox = 0; ox < j.ow; ox++) conv_pixel(&j, oy, ox);
}

TOON_FNN_CLONES
static void dwconv_row(void *ctx, int oy)
{
    const struct conv_job *j = ctx;
    int c = j->cin;
    for (int ox = 0; ox < j->ow; ox++) {
        float *o = j->out + ((size_t)oy * j->ow + ox) * c;
        if (j->b)
            memcpy(o, j->b, sizeof(float) * (size_t)c);
        else
            memset(o, 0, sizeof(float) * (size_t)c);
        for (int ky = 0; ky < j->kh; ky++) {
            int iy = oy * j->stride - j->pt + ky;
            if (iy < 0 || iy >= j->h) continue;
            for (int kx = 0; kx < j->kw; kx++) {
                int ix = ox * j->stride - j->pl + kx;
                if (ix < 0 || ix >= j->w) continue;
                const float *src = j->in + ((size_t)iy * j->w + ix) * c;
                const float *wk = j->wt + ((size_t)ky * j->kw + kx) * c;
                for (int ch = 0; ch < c; ch++) o[ch] += src[ch] * wk[ch];
            }
        }
        if (j->act != TOON_FNN_ACT_NONE)
            for (int ch = 0; ch < c; ch++) o[ch] = activate(o[ch], j->act);
    }
}

void toon_fnn_dwconv(const float *in, int h, int w, int c, const float *wt, const float *b, int kh,
                     int kw, int stride, int same, int act, float *out)
{
    struct conv_job j = {in, wt, b, h, w, c, kh, kw, c, stride, act, 0, 0, 0, 0, out};
    toon_fnn_out_size(h, kh, stride, same, &j.oh, &j.pt);
    toon_fnn_out_size(w, kw, stride, same, &j.ow, &j.pl);
    for (int oy = 0; oy < j.oh; oy++) dwconv_row(&j, oy);
}

void toon_fnn_maxpool(const float *in, int h, int w, int c, int kh, int kw, int stride, int same,
                      float *out)
{
    int oh, ow, pt, pl;
    toon_fnn_out_size(h, kh, stride, same, &oh, &pt);
    toon_fnn_out_size(w, kw, stride, same, &ow, &pl);
    for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
            float *o = out + ((size_t)oy * ow + ox) * c;
            for (int ch = 0; ch < c; ch++) o[ch] = -FLT_MAX;
            for (int ky = 0; ky < kh; ky++) {
                int iy = oy * stride - pt + ky;
                if (iy < 0 || iy >= h) continue;
                for (int kx = 0; kx < kw; kx++) {
                    int ix = ox * stride - pl + kx;
                    if (ix < 0 || ix >= w) continue;
                    const float *src = in + ((size_t)iy * w + ix) * c;
                    for (int ch = 0; ch < c; ch++) o[ch] = src[ch] > o[ch] ? src[ch] : o[ch];
                }
            }
        }
}

/* Source coordinate, lower and upper neighbour and weight for one output index (TF rules). */
static void bilinear_tap(int o, int in, int out, int align_corners, int half_pixel, int *lo,
                         int *hi, float *t)
{
    float scale =
        align_corners && out > 1 ? (float)(in - 1) / (float)(out - 1) : (float)in / (float)out;
    float s = half_pixel ? ((float)o + 0.5f) * scale - 0.5f : (float)o * scale;
    if (s < 0) s = 0;
    int l = (int)floorf(s);
    if (l > in - 1) l = in - 1;
    *lo = l;
    *hi = l + 1 < in ? l + 1 : in - 1;
    *t = s - (float)l;
}

void toon_fnn_resize_bilinear(const float *in, int h, int w, int c, int oh, int ow,
                              int align_corners, int half_pixel, float *out)
{
    for (int oy = 0; oy < oh; oy++) {
        int y0, y1;
        float ty;
        bilinear_tap(oy, h, oh, align_corners, half_pixel, &y0, &y1, &ty);
        for (int ox = 0; ox < ow; ox++) {
            int x0, x1;
            float tx;
            bilinear_tap(ox, w, ow, align_corners, half_pixel, &x0, &x1, &tx);
            const float *a = in + ((size_t)y0 * w + x0) * c, *b = in + ((size_t)y0 * w + x1) * c;
            const float *d = in + ((size_t)y1 * w + x0) * c, *e = in + ((size_t)y1 * w + x1) * c;
            float *o = out + ((size_t)oy * ow + ox) * c;
            for (int ch = 0; ch < c; ch++) {
                float top = a[ch] + (b[ch] - a[ch]) * tx;
                float bot = d[ch] + (e[ch] - d[ch]) * tx;
                o[ch] = top + (bot - top) * ty;
            }
        }
    }
}

void toon_fnn_add(const float *a, const float *b, size_t n, int act, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = activate(a[i] + b[i], act);
}

void toon_fnn_relu(const float *in, size_t n, float *out)
{
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : 0;
}
