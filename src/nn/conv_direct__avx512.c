/*
 * Direct convolution for few output channels (the generator's last layer, 7x7, 32 -> 3),
 * AVX-512.  Libraries vectorise over output channels, so 13 of 16 lanes idle here; this kernel
 * vectorises over input channels instead and reduces the lanes once per output value.
 *
 * Eight output pixels share each weight load: 24 accumulators, three weight vectors and one
 * input vector fill 28 of the 32 registers.  The accumulators are named variables, not an
 * array, so that the compiler keeps them in registers (with an array indexed in a loop it
 * kept them on the stack: a load and a store per FMA, 70 GFLOP/s).  Every output value sums
 * its products lane by lane in the same order (kernel row, kernel column, channel block) and
 * reduces the lanes the same way, whichever path computes it, so a pixel's bits do not depend
 * on where the columns a call covers start.  See conv.h for the contract.
 */
#include <immintrin.h>

#include "nn/conv.h"

static inline float finish(__m512 acc, float bias, int lrelu)
{
    float v = _mm512_reduce_add_ps(acc) + bias;
    return lrelu && v < 0 ? 0.2f * v : v;
}

#define FMA3(p)                                                                                    \
    do {                                                                                           \
        __m512 v_ = _mm512_loadu_ps(ip + (size_t)(p)*step + c);                                    \
        __asm__("" : "+v"(v_)); /* one load, not one folded into each of the three FMAs */         \
        a##p##0 = _mm512_fmadd_ps(v_, w0, a##p##0);                                                \
        a##p##1 = _mm512_fmadd_ps(v_, w1, a##p##1);                                                \
        a##p##2 = _mm512_fmadd_ps(v_, w2, a##p##2);                                                \
    } while (0)

#define STORE3(p)                                                                                  \
    do {                                                                                           \
        o[(size_t)(x + (p)) * 3 + 0] = finish(a##p##0, b[0], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 1] = finish(a##p##1, b[1], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 2] = finish(a##p##2, b[2], s->lrelu);                            \
    } while (0)

void toon_conv_direct_f32__avx512(const struct toon_conv_shape *s, const float *w, const float *b,
                                  const float *const *rows, float *out, int row, int x0, int x1)
{
    const int k = s->k, cin = s->cin, st = s->stride, pad = s->pad_l;
    const size_t w_oc = (size_t)k * k * cin, step = (size_t)st * cin;
    float *o = out + (size_t)row * s->w_out * 3;
    int x = x0;
    while (x < x1) {
        int first = x * st - pad, last = (x + 7) * st - pad + k - 1;
        if (x + 8 <= x1 && first >= 0 && last < s->w_in) {
            __m512 a00 = _mm512_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00,
                   a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00, a40 = a00,
                   a41 = a00, a42 = a00, a50 = a00, a51 = a00, a52 = a00, a60 = a00, a61 = a00,
                   a62 = a00, a70 = a00, a71 = a00, a72 = a00;
            for (int kh = 0; kh < k; kh++) {
                const float *irow = rows[row * st + kh] + (size_t)first * cin;
                const float *wrow = w + (size_t)kh * k * cin;
                for (int kw = 0; kw < k; kw++) {
                    const float *ip = irow + (size_t)kw * cin;
                    const float *wp = wrow + (size_t)kw * cin;
                    for (int c = 0; c < cin; c += 16) {
                        __m512 w0 = _mm512_loadu_ps(wp + c);
                        __m512 w1 = _mm512_loadu_ps(wp + w_oc + c);
                        __m512 w2 = _mm512_loadu_ps(wp + 2 * w_oc + c);
                        FMA3(0);
                        FMA3(1);
                        FMA3(2);
                        FMA3(3);
                        FMA3(4);
                        FMA3(5);
                        FMA3(6);
                        FMA3(7);
                    }
                }
            }
            STORE3(0);
            STORE3(1);
            STORE3(2);
            STORE3(3);
            STORE3(4);
            STORE3(5);
            STORE3(6);
            STORE3(7);
            x += 8;
            continue;
        }
        /* One pixel near an edge or the end: the same sums, skipping the taps in the padding. */
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0;
        for (int kh = 0; kh < k; kh++) {
            const float *irow = rows[row * st + kh];
            for (int kw = 0; kw < k; kw++) {
                int ix = first + kw;
                if (ix < 0 || ix >= s->w_in) continue;
                const float *ip = irow + (size_t)ix * cin;
                const float *wp = w + ((size_t)kh * k + kw) * cin;
                for (int c = 0; c < cin; c += 16) {
                    __m512 v = _mm512_loadu_ps(ip + c);
                    a0 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wp + c), a0);
                    a1 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wp + w_oc + c), a1);
                    a2 = _mm512_fmadd_ps(v, _mm512_loadu_ps(wp + 2 * w_oc + c), a2);
                }
            }
        }
        o[(size_t)x * 3 + 0] = finish(a0, b[0], s->lrelu);
        o[(size_t)x * 3 + 1] = finish(a1, b[1], s->lrelu);
        o[(size_t)x * 3 + 2] = finish(a2, b[2], s->lrelu);
        x++;
    }
}
