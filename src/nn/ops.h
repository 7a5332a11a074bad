/*
 * The generator's element-wise and small-window operations on blocks of rows, exactly as
 * TensorFlow computes them (spec/PIPELINE.md §2): the legacy bilinear x2 upsample fused with
 * the skip addition, the residual addition, and the two halves of the guided filter.
 *
 * Every function computes output rows [r0, r1) of an image of height h; the input row
 * pointers are given as functions of the absolute row index (the executors keep rows in
 * sliding windows), and rows outside [0, h) read as zeros where the op needs context.
 * Each output element is computed independently in a fixed order, so results never depend on
 * the number of threads or on how rows are grouped.
 */
#ifndef TOON_NN_OPS_H
#define TOON_NN_OPS_H

/* Rows kept in a ring of `cap` slots: row r (which may be negative) lives in slot r mod cap.
 * The executor keeps only rows that are still needed; ops just address them. */
struct toon_rows {
    float *data; /* [cap + mirror][row_elems] */
    int cap;
    long row_elems;
};

static inline float *toon_rows_at(const struct toon_rows *rw, int r)
{
    int slot = r % rw->cap;
    if (slot < 0) slot += rw->cap;
    return rw->data + (long)slot * rw->row_elems;
}

/* dst[r] = upsample2x(src)[r] + skip[r]; src is (h/2) x (w/2) x c, dst and skip h x w x c. */
void toon_op_upadd(const struct toon_rows *src, int h_src, int w_src, const struct toon_rows *skip,
                   struct toon_rows *dst, int w, int c, int r0, int r1);
/* dst[r] += res[r] (w*c values per row). */
void toon_op_add(const struct toon_rows *res, struct toon_rows *dst, long n, int r0, int r1);

struct toon_gf_params {
    float eps, box_weight;
    int h, w; /* image size: the box filter's border normaliser needs it */
};
/* ab[r] = A[w][3] then b[w][3] from guide x and filter input y (both [w][3]). */
void toon_op_gf_ab(const struct toon_gf_params *p, const struct toon_rows *x,
                   const struct toon_rows *y, struct toon_rows *ab, int r0, int r1);
/* out[r] = box(A)/N * x + box(b)/N. */
void toon_op_gf_out(const struct toon_gf_params *p, const struct toon_rows *ab,
                    const struct toon_rows *x, struct toon_rows *out, int r0, int r1);

#endif
