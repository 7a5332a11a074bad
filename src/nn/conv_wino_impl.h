/*
 * The body of the Winograd 3x3 kernel (see conv_wino.c), written once over a small set of
 * vector macros and compiled per instruction set by conv_wino__avx512.c and conv_wino__avx2.c.
 *
 * The including file defines:
 *   VEC, VL (floats per vector), LOAD, STORE, SET1, ZERO, ADD, SUB, MUL, FMA(a, b, c) = a*b+c,
 *   MAX, MR (tiles per microkernel), MR_REP(m) (m(0) .. m(MR - 1)), and WINO_ITEM, the name
 *   of the function to define.
 * NR, the output channels per microkernel, is two vectors.  With WINO_BF16 defined (AVX-512
 * only), the transformed inputs are stored as bf16 (VELEM, STORE_V) and the microkernel takes
 * pairs of k with vdpbf16ps (fp32 accumulation), against weights packed as bf16 pairs.
 */
#include <stddef.h>
#include <string.h>

#include "nn/conv_wino.h"

#define NR (2 * VL)

/* Input transform of one tile, one kernel row: v[0..5] = B^T d. */
#define BT(d, v)                                                                                   \
    do {                                                                                           \
        VEC p4_ = SET1(4.0f), m4_ = SET1(-4.0f), m5_ = SET1(-5.0f), p2_ = SET1(2.0f);              \
        VEC d31_ = SUB(d[3], d[1]), d42_ = SUB(d[4], d[2]);                                        \
        v[0] = FMA(p4_, d[0], FMA(m5_, d[2], d[4]));                                               \
        v[1] = FMA(m4_, ADD(d[1], d[2]), ADD(d[3], d[4]));                                         \
        v[2] = FMA(p4_, SUB(d[1], d[2]), SUB(d[4], d[3]));                                         \
        v[3] = FMA(p2_, d31_, d42_);                                                               \
        v[4] = FMA(SET1(-2.0f), d31_, d42_);                                                       \
        v[5] = FMA(p4_, d[1], FMA(m5_, d[3], d[5]));                                               \
    } while (0)

/* One microkernel: C[MR][NR] = A[MR][K] (rows lda apart) * B[K][NR]. */
#define MK_DECL(i) VEC c##i##a = ZERO(), c##i##b = ZERO();
#define MK_STEP(i)                                                                                 \
    {                                                                                              \
        VEC a_ = SET1(A[(size_t)(i)*lda + k]);                                                     \
        c##i##a = FMA(a_, b0, c##i##a);                                                            \
        c##i##b = FMA(a_, b1, c##i##b);                                                            \
    }
#define MK_STORE(i)                                                                                \
    STORE(C + (size_t)(i)*ldc, c##i##a);                                                           \
    STORE(C + (size_t)(i)*ldc + VL, c##i##b);

/* Microkernels for MR tiles and, for a row's last few tiles, for 4, 2 and 1: every output
 * value is the same chain of fused multiply-adds over k in each of them, so its bits do not
 * depend on which one computes it. */
#define REP4(m) m(0) m(1) m(2) m(3)
#define REP2(m) m(0) m(1)
#define REP1(m) m(0)
#ifndef WINO_BF16
#define VELEM         float
#define STORE_V(p, v) STORE(p, v)
#define DEFINE_MICRO(name, REP)                                                                    \
    static inline void name(const float *restrict A, size_t lda, const void *restrict Bv, int K,   \
                            float *restrict C, size_t ldc)                                         \
    {                                                                                              \
        const float *restrict B = Bv;                                                              \
        REP(MK_DECL)                                                                               \
        for (int k = 0; k < K; k++) {                                                              \
            VEC b0 = LOAD(B + (size_t)k * NR), b1 = LOAD(B + (size_t)k * NR + VL);                 \
            REP(MK_STEP)                                                                           \
        }                                                                                          \
        REP(MK_STORE)                                                                              \
    }
#else
/* A: bf16 [MR][K]; B: bf16 [K / 2][NR][2]; per pair of k, one 32-bit broadcast of A. */
#define MK_STEP2(i)                                                                                \
    {                                                                                              \
        int pair_;                                                                                 \
        memcpy(&pair_, A + (size_t)(i)*lda + k, sizeof pair_);                                     \
        __m512bh a_ = (__m512bh)_mm512_set1_epi32(pair_);                                          \
        c##i##a = _mm512_dpbf16_ps(c##i##a, a_, b0);                                               \
        c##i##b = _mm512_dpbf16_ps(c##i##b, a_, b1);                                               \
    }
#define DEFINE_MICRO(name, REP)                                                                    \
    static inline void name(const VELEM *restrict A, size_t lda, const void *restrict Bv, int K,   \
                            float *restrict C, size_t ldc)                                         \
    {                                                                                              \
        const VELEM *restrict B = Bv;                                                              \
        REP(MK_DECL)                                                                               \
        for (int k = 0; k < K; k += 2) {                                                           \
            __m512bh b0 = (__m512bh)_mm512_loadu_si512(B + (size_t)k * NR);                        \
            __m512bh b1 = (__m512bh)_mm512_loadu_si512(B + (size_t)k * NR + 2 * VL);               \
            REP(MK_STEP2)                                                                          \
        }                                                                                          \
        REP(MK_STORE)                                                                              \
    }
#endif
DEFINE_MICRO(micro, MR_REP)
DEFINE_MICRO(micro4, REP4)
DEFINE_MICRO(micro2, REP2)
DEFINE_MICRO(micro1, REP1)

void WINO_ITEM(const struct toon_wino_call *a, int row, int t0, float *scratch)
{
    const struct toon_wino *w = a->w;
    const int cin = w->cin, cout = w->cout, T = w->tiles_per_item, K = 3 * cin;
    const int w_in = w->w_in, w_out = w->w_out;
    VELEM *V = (VELEM *)scratch;            /* [6][T][K] */
    float *M = scratch + (size_t)6 * T * K; /* [6][T][cout] */
    const size_t vs = (size_t)T * K, ms = (size_t)T * cout;
    const int n_tiles = w->tiles - t0 < T ? w->tiles - t0 : T; /* the row's last may hold fewer */

    /* 1. Input transform of the three input rows, tile by tile. */
    for (int t = 0; t < n_tiles; t++) {
        int x0 = 4 * (t0 + t) - 1; /* first input column of the tile (SAME padding: 1 left) */
        int inside = x0 >= 0 && x0 + 5 < w_in;
        for (int ky = 0; ky < 3; ky++) {
            const float *ir = a->rows[row + ky];
            VELEM *vp = V + (size_t)t * K + (size_t)ky * cin;
            for (int c = 0; c < cin; c += VL) {
                VEC d[6], v[6];
                if (inside) {
                    const float *p = ir + (size_t)x0 * cin + c;
                    for (int j = 0; j < 6; j++) d[j] = LOAD(p + (size_t)j * cin);
                } else {
                    for (int j = 0; j < 6; j++) {
                        int x = x0 + j;
                        d[j] = x >= 0 && x < w_in ? LOAD(ir + (size_t)x * cin + c) : ZERO();
                    }
                }
                BT(d, v);
                for (int xi = 0; xi < 6; xi++) STORE_V(vp + xi * vs + c, v[xi]);
            }
        }
    }

    /* 2. Six products, one per transformed position: M[xi] = V[xi] * U[xi]. */
    const int nblk = cout / NR;
    for (int xi = 0; xi < 6; xi++)
        for (int nb = 0; nb < nblk; nb++) {
            const VELEM *B = (const VELEM *)w->u + ((size_t)xi * nblk + nb) * K * NR;
            const VELEM *A = V + xi * vs;
            float *C = M + xi * ms + nb * NR;
            int t = 0;
            for (; t + MR <= n_tiles; t += MR)
                micro(A + (size_t)t * K, (size_t)K, B, K, C + (size_t)t * cout, (size_t)cout);
            for (; t + 4 <= n_tiles; t += 4)
                micro4(A + (size_t)t * K, (size_t)K, B, K, C + (size_t)t * cout, (size_t)cout);
            for (; t + 2 <= n_tiles; t += 2)
                micro2(A + (size_t)t * K, (size_t)K, B, K, C + (size_t)t * cout, (size_t)cout);
            for (; t < n_tiles; t++)
                micro1(A + (size_t)t * K, (size_t)K, B, K, C + (size_t)t * cout, (size_t)cout);
        }

    /* 3. Output transform, bias and leaky ReLU: y = A^T m, four pixels per tile. */
    float *orow = a->out + (size_t)row * w_out * cout;
    for (int t = 0; t < n_tiles; t++) {
        int x = 4 * (t0 + t);
        if (x >= w_out) break;
        int n = w_out - x < 4 ? w_out - x : 4;
        for (int c = 0; c < cout; c += VL) {
            const float *mp = M + (size_t)t * cout + c;
            VEC m0 = LOAD(mp), m1 = LOAD(mp + ms), m2 = LOAD(mp + 2 * ms), m3 = LOAD(mp + 3 * ms),
                m4 = LOAD(mp + 4 * ms), m5 = LOAD(mp + 5 * ms);
            VEC bias = LOAD(w->bias + c);
            VEC p12 = ADD(m1, m2), d12 = SUB(m1, m2), p34 = ADD(m3, m4), d34 = SUB(m3, m4);
            VEC y[4];
            y[0] = ADD(ADD(m0, p12), p34);
            y[1] = FMA(SET1(2.0f), d34, d12);
            y[2] = FMA(SET1(4.0f), p34, p12);
            y[3] = ADD(FMA(SET1(8.0f), d34, d12), m5);
            for (int j = 0; j < n; j++) {
                VEC v = ADD(y[j], bias);
                if (w->lrelu) v = MAX(v, MUL(SET1(0.2f), v));
                STORE(orow + (size_t)(x + j) * cout + c, v);
            }
        }
    }
}
