/*
 * Direct convolution for few output channels (the generator's last layer, 7x7, 32 -> 3), written
 * once over a few vector macros and compiled per instruction set by conv_direct__avx512.c and
 * conv_direct__avx2.c.  Libraries vectorise over output channels, so 13 of 16 lanes idle here;
 * this kernel vectorises over input channels instead and reduces the lanes once per output value.
 *
 * PX output pixels share each weight load (AVX-512: 8 pixels, 24 accumulators, three weight
 * vectors and one input vector fill 28 of the 32 registers; AVX2: 4 pixels, 12 accumulators).
 * The accumulators are named variables, not an array, so that the compiler keeps them in
 * registers (with an array indexed in a loop it kept them on the stack: a load and a store per
 * FMA, 70 GFLOP/s).  Every output value sums its products lane by lane in the same order
 * (kernel row, kernel column, channel block) and reduces the lanes the same way, whichever path
 * computes it, so a pixel's bits do not depend on where the columns a call covers start.  See
 * conv.h for the contract.
 *
 * The including file defines VEC, VL, LOAD, ZERO, FMA(a, b, c) = a*b+c, REDUCE (the lanes' sum
 * in a fixed order), PX, PX_REP(m) (m(0) .. m(PX - 1)), and DIRECT_FN, the function's name.
 */
#include "nn/conv.h"

static inline float finish(VEC acc, float bias, int lrelu)
{
    float v = REDUCE(acc) + bias;
    return lrelu && v < 0 ? 0.2f * v : v;
}

#define ACC3(p) VEC a##p##0 = ZERO(), a##p##1 = ZERO(), a##p##2 = ZERO();

#define FMA3(p)                                                                                    \
    do {                                                                                           \
        VEC v_ = LOAD(ip + (size_t)(p)*step + c);                                                  \
        __asm__("" : "+v"(v_)); /* one load, not one folded into each of the three FMAs */         \
        a##p##0 = FMA(v_, w0, a##p##0);                                                            \
        a##p##1 = FMA(v_, w1, a##p##1);                                                            \
        a##p##2 = FMA(v_, w2, a##p##2);                                                            \
    } while (0);

#define STORE3(p)                                                                                  \
    do {                                                                                           \
        o[(size_t)(x + (p)) * 3 + 0] = finish(a##p##0, b[0], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 1] = finish(a##p##1, b[1], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 2] = finish(a##p##2, b[2], s->lrelu);                            \
    } while (0);

void DIRECT_FN(const struct toon_conv_shape *s, const float *w, const float *b,
               const float *const *rows, float *out, int row, int x0, int x1)
{
    const int k = s->k, cin = s->cin, st = s->stride, pad = s->pad_l;
    const size_t w_oc = (size_t)k * k * cin, step = (size_t)st * cin;
    float *o = out + (size_t)row * s->w_out * 3;
    int x = x0;
    while (x < x1) {
        int first = x * st - pad, last = (x + PX - 1) * st - pad + k - 1;
        if (x + PX <= x1 && first >= 0 && last < s->w_in) {
            PX_REP(ACC3)
            for (int kh = 0; kh < k; kh++) {
                const float *irow = rows[row * st + kh] + (size_t)first * cin;
                const float *wrow = w + (size_t)kh * k * cin;
                for (int kw = 0; kw < k; kw++) {
                    const float *ip = irow + (size_t)kw * cin;
                    const float *wp = wrow + (size_t)kw * cin;
                    for (int c = 0; c < cin; c += VL) {
                        VEC w0 = LOAD(wp + c), w1 = LOAD(wp + w_oc + c),
                            w2 = LOAD(wp + 2 * w_oc + c);
                        PX_REP(FMA3)
                    }
                }
            }
            PX_REP(STORE3)
            x += PX;
            continue;
        }
        /* One pixel near an edge or the end: the same sums, skipping the taps in the padding. */
        VEC a0 = ZERO(), a1 = a0, a2 = a0;
        for (int kh = 0; kh < k; kh++) {
            const float *irow = rows[row * st + kh];
            for (int kw = 0; kw < k; kw++) {
                int ix = first + kw;
                if (ix < 0 || ix >= s->w_in) continue;
                const float *ip = irow + (size_t)ix * cin;
                const float *wp = w + ((size_t)kh * k + kw) * cin;
                for (int c = 0; c < cin; c += VL) {
                    VEC v = LOAD(ip + c);
                    a0 = FMA(v, LOAD(wp + c), a0);
                    a1 = FMA(v, LOAD(wp + w_oc + c), a1);
                    a2 = FMA(v, LOAD(wp + 2 * w_oc + c), a2);
                }
            }
        }
        o[(size_t)x * 3 + 0] = finish(a0, b[0], s->lrelu);
        o[(size_t)x * 3 + 1] = finish(a1, b[1], s->lrelu);
        o[(size_t)x * 3 + 2] = finish(a2, b[2], s->lrelu);
        x++;
    }
}
