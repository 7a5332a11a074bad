/*
 * Winograd convolution for the generator's 3x3 stride-1 layers (86% of its arithmetic).
 *
 * Along each row, F(4,3) (Lavin and Gray's minimal filtering with the points 0, +-1, +-2 and
 * infinity): four output pixels of a 1x3 convolution from six transformed input values and
 * six products instead of twelve.  Down the kernel's three rows the sum is direct, so a call
 * still computes one output row from three input rows and the streaming executor keeps its
 * one-row-at-a-time schedule.  Per tile of four output pixels:
 *
 *   V[xi][ky*cin + ci]  = (B^T d_ky,ci)[xi]           d: six input pixels of row ky
 *   M[xi][co]           = sum over ky, ci of V[xi][ky*cin + ci] * U[xi][ky*cin + ci][co]
 *   y[0..3][co]         = (A^T M[.][co]) + bias, leaky ReLU
 *
 * where U = G g is the weights' transform, computed once in double precision.  The sum over
 * (ky, ci) is one matrix product per xi with K = 3 * cin, done by a register-blocked
 * microkernel; that is half the multiply-adds of the direct convolution.  The transforms use
 * small integer coefficients (at most 8 in A^T, 5 in B^T), which keeps the rounding error to
 * a few units of the last place of the direct sum (tests/nn/test_conv.c bounds it).
 *
 * Work items are (output row, block of tiles) of fixed size, and every output value is
 * computed by the same instructions in the same order whichever item or thread computes it:
 * results do not depend on the thread count or on how rows are grouped into calls.
 */
#include "nn/conv_wino.h"

#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "nn/conv.h"

/* The weights' transform G (6x3) for F(4,3). */
static const double G[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

/* Tiles per work item: a multiple of the microkernel's (8 tiles with AVX-512, 6 with AVX2). */
static int tiles_per_item(int vl)
{
    return vl == 16 ? 16 : 12;
}

static int isa_vl(enum toon_wino_isa isa)
{
    return isa == TOON_WINO_AVX2 ? 8 : 16;
}

static int wino_supports(const struct toon_gen_conv *gc, enum toon_wino_isa isa, unsigned f)
{
    unsigned need = isa == TOON_WINO_AVX2     ? TOON_CPU_AVX2
                    : isa == TOON_WINO_AVX512 ? TOON_CPU_AVX512
                                              : TOON_CPU_AVX512_BF16;
    int vl = isa_vl(isa);
    return (f & need) && gc->k == 3 && gc->stride == 1 && gc->cin % vl == 0 &&
           gc->cout % (2 * vl) == 0;
}

static size_t scratch_floats(int cin, int cout, int vl)
{
    return (size_t)6 * tiles_per_item(vl) * (3 * (size_t)cin + cout);
}

static size_t u_bytes(int cin, int cout, enum toon_wino_isa isa)
{
    return (size_t)18 * cin * cout * (isa == TOON_WINO_AVX512_BF16 ? 2 : sizeof(float));
}

static size_t wino_plan_bytes(const struct toon_conv_shape *s, enum toon_wino_isa isa)
{
    size_t ov = toon_alloc_overhead();
    int vl = isa_vl(isa);
    return sizeof(struct toon_wino) + ov + u_bytes(s->cin, s->cout, isa) + ov +
           (size_t)s->cout * sizeof(float) + ov +
           (size_t)toon_conv_scratch_slots() * scratch_floats(s->cin, s->cout, vl) * sizeof(float) +
           ov;
}

static void wino_free(void *state)
{
    struct toon_wino *w = state;
    if (!w) return;
    toon_free(w->u);
    toon_free(w->bias);
    toon_free(w->scratch);
    toon_free(w);
}

static enum toon_status wino_new(const struct toon_conv_shape *s, const float *wt, const float *b,
                                 enum toon_wino_isa isa, void **out, struct toon_err *err)
{
    struct toon_gen_conv gc = {s->k, s->stride, s->cin, s->cout, NULL, NULL};
    int vl = isa_vl(isa);
    if (!wino_supports(&gc, isa, toon_cpu_features()))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "no Winograd kernel for this layer on this CPU");
    struct toon_wino *w = toon_calloc(1, sizeof *w);
    if (!w) goto oom;
    w->cin = s->cin, w->cout = s->cout, w->w_in = s->w_in, w->w_out = s->w_out;
    w->lrelu = s->lrelu;
    w->item = isa == TOON_WINO_AVX2     ? toon_wino_item__avx2
              : isa == TOON_WINO_AVX512 ? toon_wino_item__avx512
                                        : toon_wino_item__avx512bf16;
    w->tiles = (s->w_out + 3) / 4;
    w->tiles_per_item = tiles_per_item(vl);
    w->n_items = (w->tiles + w->tiles_per_item - 1) / w->tiles_per_item;
    w->n_scratch = toon_conv_scratch_slots();
    w->scratch_floats = scratch_floats(s->cin, s->cout, vl);
    const int cin = s->cin, cout = s->cout, K = 3 * cin, nr = 2 * vl, nblk = cout / nr;
    w->u = toon_malloc(u_bytes(cin, cout, isa));
    w->bias = toon_malloc((size_t)cout * sizeof(float));
    w->scratch = toon_malloc((size_t)w->n_scratch * w->scratch_floats * sizeof(float));
    if (!w->u || !w->bias || !w->scratch) goto oom;
    memcpy(w->bias, b, (size_t)cout * sizeof(float));
    /* U[xi][nb][ky * cin + ci][j] = sum_kx G[xi][kx] * w[co][ky][kx][ci], co = nb * nr + j. */
    for (int xi = 0; xi < 6; xi++)
        for (int co = 0; co < cout; co++)
            for (int ky = 0; ky < 3; ky++)
                for (int ci = 0; ci < cin; ci++) {
                    double acc = 0;
                    for (int kx = 0; kx < 3; kx++)
                        acc += G[xi][kx] * wt[(((size_t)co * 3 + ky) * 3 + kx) * cin + ci];
                    size_t kk = (size_t)ky * cin + ci, blk = ((size_t)xi * nblk + co / nr) * K;
                    if (isa == TOON_WINO_AVX512_BF16)
                        ((uint16_t *)w->u)[(blk + kk / 2 * 2) * nr + co % nr * 2 + kk % 2] =
                            toon_to_bf16((float)acc);
                    else
                        ((float *)w->u)[(blk + kk) * nr + co % nr] = (float)acc;
                }
    *out = w;
    return TOON_STATUS_OK;
oom:
    wino_free(w);
    return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory preparing a convolution");
}

static void run_item(void *ctx, int i, void *scratch)
{
    const struct toon_wino_call *a = ctx;
    const int per = a->w->n_items;
    a->w->item(a, i / per, i % per * a->w->tiles_per_item, scratch);
}

static void wino_run(void *state, const struct toon_conv_shape *s, const float *const *rows,
                     float *out)
{
    struct toon_wino *w = state;
    struct toon_wino_call a = {w, rows, out};
    toon_conv_items(s->rows_out * w->n_items, run_item, &a, w->scratch,
                    w->scratch_floats * sizeof(float), w->n_scratch);
}

/* The registry's descriptors (conv.h), one per instruction set. */
#define WINO_KERNEL(ID, NAME, ISA, BF16, SUFFIX)                                                   \
    static int supports_##SUFFIX(const struct toon_gen_conv *gc, unsigned cpu)                     \
    {                                                                                              \
        return wino_supports(gc, ISA, cpu);                                                        \
    }                                                                                              \
    static size_t plan_##SUFFIX(const struct toon_conv_shape *s)                                   \
    {                                                                                              \
        return wino_plan_bytes(s, ISA);                                                            \
    }                                                                                              \
    static enum toon_status new_##SUFFIX(const struct toon_conv_shape *s,                          \
                                         const struct toon_gen_conv *gc, void **state,             \
                                         struct toon_err *err)                                     \
    {                                                                                              \
        return wino_new(s, gc->w, gc->b, ISA, state, err);                                         \
    }                                                                                              \
    const struct toon_conv_kernel toon_conv_kernel_wino_##SUFFIX = {ID,                            \
                                                                    NAME,                          \
                                                                    TOON_KERNEL_CLASS_WIDE,        \
                                                                    BF16,                          \
                                                                    supports_##SUFFIX,             \
                                                                    plan_##SUFFIX,                 \
                                                                    new_##SUFFIX,                  \
                                                                    wino_run,                      \
                                                                    wino_free,                     \
                                                                    NULL,                          \
                                                                    NULL};

WINO_KERNEL(TOON_KERNEL_WINO_AVX512, "winograd-f32-avx512", TOON_WINO_AVX512, 0, f32__avx512)
WINO_KERNEL(TOON_KERNEL_WINO_AVX2, "winograd-f32-avx2", TOON_WINO_AVX2, 0, f32__avx2)
WINO_KERNEL(TOON_KERNEL_WINO_BF16, "winograd-bf16-avx512", TOON_WINO_AVX512_BF16, 1,
            bf16__avx512bf16)
