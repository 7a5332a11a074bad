/* The bf16 direct kernel's work item (conv_span.c) with AVX512-BF16: stage, then multiply. */
#include <immintrin.h>
#include <string.h>

#include "nn/conv_span.h"

/* Rounds n floats times `scale` to bf16 (round to nearest even, vcvtneps2bf16). */
static void to_bf16_row(const float *src, size_t n, float scale, uint16_t *dst)
{
    const __m512 sc = _mm512_set1_ps(scale);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_mul_ps(_mm512_loadu_ps(src + i), sc);
        _mm256_storeu_si256((__m256i *)(dst + i), (__m256i)_mm512_cvtneps_pbh(v));
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, src + i), sc);
        _mm256_mask_storeu_epi16(dst + i, m, (__m256i)_mm512_cvtneps_pbh(v));
    }
}

/* Microkernels for 12, 4 and 1 pixels x 32 output channels.  A: the first pixel's span in the
 * staged row of kernel row 0 (the next pixel's starts lda elements on, the next kernel row's
 * rs elements on); B: the weights of one block of 32 output channels.  Every output value is
 * bias, then the pairs of kernel row 0, 1, ... in order, whichever microkernel computes it. */
#define DECL(i) __m512 c##i##a = bias0, c##i##b = bias1;
#define STEP(i)                                                                                    \
    {                                                                                              \
        int p_;                                                                                    \
        memcpy(&p_, a + (size_t)(i)*lda, sizeof p_);                                               \
        __m512bh a_ = (__m512bh)_mm512_set1_epi32(p_);                                             \
        c##i##a = _mm512_dpbf16_ps(c##i##a, a_, b0);                                               \
        c##i##b = _mm512_dpbf16_ps(c##i##b, a_, b1);                                               \
    }
#define FINISH(i)                                                                                  \
    if (lrelu) {                                                                                   \
        c##i##a = _mm512_max_ps(c##i##a, _mm512_mul_ps(slope, c##i##a));                           \
        c##i##b = _mm512_max_ps(c##i##b, _mm512_mul_ps(slope, c##i##b));                           \
    }                                                                                              \
    _mm512_storeu_ps(C + (size_t)(i)*ldc, c##i##a);                                                \
    _mm512_storeu_ps(C + (size_t)(i)*ldc + 16, c##i##b);

#define REP12(m) m(0) m(1) m(2) m(3) m(4) m(5) m(6) m(7) m(8) m(9) m(10) m(11)
#define REP4(m)  m(0) m(1) m(2) m(3)
#define REP1(m)  m(0)

#define DEFINE_MICRO(name, REP)                                                                    \
    static inline void name(const uint16_t *restrict A, size_t lda, size_t rs, int k, int P,       \
                            const uint16_t *restrict B, const float *bias, int lrelu,              \
                            float *restrict C, size_t ldc)                                         \
    {                                                                                              \
        const __m512 bias0 = _mm512_loadu_ps(bias), bias1 = _mm512_loadu_ps(bias + 16);            \
        const __m512 slope = _mm512_set1_ps(0.2f);                                                 \
        REP(DECL)                                                                                  \
        for (int kh = 0; kh < k; kh++) {                                                           \
            const uint16_t *a = A + (size_t)kh * rs;                                               \
            const uint16_t *bp = B + (size_t)kh * P * 64;                                          \
            for (int j = 0; j < P; j++, a += 2, bp += 64) {                                        \
                __m512bh b0 = (__m512bh)_mm512_loadu_si512(bp);                                    \
                __m512bh b1 = (__m512bh)_mm512_loadu_si512(bp + 32);                               \
                REP(STEP)                                                                          \
            }                                                                                      \
        }                                                                                          \
        REP(FINISH)                                                                                \
    }
DEFINE_MICRO(micro12, REP12)
DEFINE_MICRO(micro4, REP4)
DEFINE_MICRO(micro1, REP1)

void toon_span_item__avx512bf16(const struct toon_span *sp, const float *const *rows, float *out,
                                int row, int x0, int x1, uint16_t *scratch)
{
    const int k = sp->k, st = sp->stride, cin = sp->cin, cout = sp->cout, P = sp->pairs;
    const int n = x1 - x0;
    const size_t rs = sp->buf_elems;

    /* 1. Stage the columns the item reads, c0 .. c0 + ncols - 1, from each kernel row: bf16,
     * zeros for the padding and for the element a last odd pair reads past them. */
    const int c0 = x0 * st - sp->pad_l, ncols = (n - 1) * st + k;
    const int v0 = c0 < 0 ? 0 : c0, v1 = c0 + ncols < sp->w_in ? c0 + ncols : sp->w_in;
    for (int kh = 0; kh < k; kh++) {
        uint16_t *buf = scratch + (size_t)kh * rs;
        const float *src = rows[row * st + kh];
        memset(buf, 0, (size_t)(v0 - c0) * cin * sizeof *buf);
        to_bf16_row(src + (size_t)v0 * cin, (size_t)(v1 - v0) * cin, sp->in_scale,
                    buf + (size_t)(v0 - c0) * cin);
        size_t tail = (size_t)(ncols - (v1 - c0)) * cin + 1;
        memset(buf + (size_t)(v1 - c0) * cin, 0, tail * sizeof *buf);
    }

    /* 2. The products, 12 pixels at a time, then 4, then 1. */
    const size_t lda = (size_t)st * cin, wblk = (size_t)k * P * 64;
    float *orow = out + ((size_t)row * sp->w_out + x0) * cout;
    for (int ob = 0; ob < cout / 32; ob++) {
        const uint16_t *B = sp->wt + ob * wblk;
        const float *bias = sp->bias + ob * 32;
        int p = 0;
        for (; p + 12 <= n; p += 12)
            micro12(scratch + p * lda, lda, rs, k, P, B, bias, sp->lrelu,
                    orow + (size_t)p * cout + ob * 32, (size_t)cout);
        for (; p + 4 <= n; p += 4)
            micro4(scratch + p * lda, lda, rs, k, P, B, bias, sp->lrelu,
                   orow + (size_t)p * cout + ob * 32, (size_t)cout);
        for (; p < n; p++)
            micro1(scratch + p * lda, lda, rs, k, P, B, bias, sp->lrelu,
                   orow + (size_t)p * cout + ob * 32, (size_t)cout);
    }
}
