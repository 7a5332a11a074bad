/*
 * Direct convolution for few output channels (the generator's last layer, 7x7, 32 -> 3),
 * AVX2 with FMA.  Libraries vectorise over output channels, so most lanes idle here; this kernel
 * vectorises over input channels instead and reduces the lanes once per output value.  Four
 * output pixels share each weight load (12 accumulators).  See conv.h for the contract.
 */
#include <immintrin.h>

#include "nn/conv.h"

/* Horizontal sum in a fixed order: (lo + hi) halves, then pairs. */
static inline float hsum(__m256 v)
{
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
}

static inline float finish(__m256 acc, float bias, int lrelu)
{
    float v = hsum(acc) + bias;
    return lrelu && v < 0 ? 0.2f * v : v;
}

/* Accumulators are named variables so that they stay in registers (see __avx512.c). */
#define FMA3(p)                                                                                    \
    do {                                                                                           \
        __m256 v_ = _mm256_loadu_ps(ip + (size_t)(p)*step + c);                                    \
        a##p##0 = _mm256_fmadd_ps(v_, w0, a##p##0);                                                \
        a##p##1 = _mm256_fmadd_ps(v_, w1, a##p##1);                                                \
        a##p##2 = _mm256_fmadd_ps(v_, w2, a##p##2);                                                \
    } while (0)

#define STORE3(p)                                                                                  \
    do {                                                                                           \
        o[(size_t)(x + (p)) * 3 + 0] = finish(a##p##0, b[0], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 1] = finish(a##p##1, b[1], s->lrelu);                            \
        o[(size_t)(x + (p)) * 3 + 2] = finish(a##p##2, b[2], s->lrelu);                            \
    } while (0)

void toon_conv_direct_f32__avx2(const struct toon_conv_shape *s, const float *w, const float *b,
                                const float *const *rows, float *out, int row, int x0, int x1)
{
    const int k = s->k, cin = s->cin, st = s->stride, pad = s->pad_l;
    const size_t w_oc = (size_t)k * k * cin, step = (size_t)st * cin;
    float *o = out + (size_t)row * s->w_out * 3;
    int x = x0;
    while (x < x1) {
        int first = x * st - pad, last = (x + 3) * st - pad + k - 1;
        if (x + 4 <= x1 && first >= 0 && last < s->w_in) {
            __m256 a00 = _mm256_setzero_ps(), a01 = a00, a02 = a00, a10 = a00, a11 = a00, a12 = a00,
                   a20 = a00, a21 = a00, a22 = a00, a30 = a00, a31 = a00, a32 = a00;
            for (int kh = 0; kh < k; kh++) {
                const float *irow = rows[row * st + kh];
                for (int kw = 0; kw < k; kw++) {
                    const float *ip = irow + (size_t)(first + kw) * cin;
                    const float *wp = w + ((size_t)kh * k + kw) * cin;
                    for (int c = 0; c < cin; c += 8) {
                        __m256 w0 = _mm256_loadu_ps(wp + c);
                        __m256 w1 = _mm256_loadu_ps(wp + w_oc + c);
                        __m256 w2 = _mm256_loadu_ps(wp + 2 * w_oc + c);
                        FMA3(0);
                        FMA3(1);
                        FMA3(2);
                        FMA3(3);
                    }
                }
            }
            STORE3(0);
            STORE3(1);
            STORE3(2);
            STORE3(3);
            x += 4;
            continue;
        }
        /* One pixel near an edge: the same sums, skipping the taps in the padding. */
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0;
        for (int kh = 0; kh < k; kh++) {
            const float *irow = rows[row * st + kh];
            for (int kw = 0; kw < k; kw++) {
                int ix = first + kw;
                if (ix < 0 || ix >= s->w_in) continue;
                const float *ip = irow + (size_t)ix * cin;
                const float *wp = w + ((size_t)kh * k + kw) * cin;
                for (int c = 0; c < cin; c += 8) {
                    __m256 v = _mm256_loadu_ps(ip + c);
                    a0 = _mm256_fmadd_ps(v, _mm256_loadu_ps(wp + c), a0);
                    a1 = _mm256_fmadd_ps(v, _mm256_loadu_ps(wp + w_oc + c), a1);
                    a2 = _mm256_fmadd_ps(v, _mm256_loadu_ps(wp + 2 * w_oc + c), a2);
                }
            }
        }
        o[(size_t)x * 3 + 0] = finish(a0, b[0], s->lrelu);
        o[(size_t)x * 3 + 1] = finish(a1, b[1], s->lrelu);
        o[(size_t)x * 3 + 2] = finish(a2, b[2], s->lrelu);
        x++;
    }
}
