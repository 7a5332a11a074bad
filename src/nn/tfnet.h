/*
 * A minimal float interpreter for small TFLite vision models (BlazeFace short and full range):
 * CONV_2D, DEPTHWISE_CONV_2D, ADD, RELU, MAX_POOL_2D, PAD, RESHAPE, CONCATENATION,
 * RESIZE_BILINEAR and DEQUANTIZE of constants, batch 1, NHWC.
 *
 * toon_tfnet_load() reads the graph through the bounds-checked TFLite view, dequantises every
 * constant to fp32 (weights repacked to [kh][kw][cin][cout]), recomputes every operator's
 * output shape and checks it against the file, and works out when each activation can be
 * freed.  A run then allocates each activation when it is produced and frees it after its
 * last reader; toon_tfnet_run_bytes() is the exact peak of that schedule.  The file's bytes are
 * not needed after loading.
 *
 * Thread-safety: a loaded net is immutable; runs may happen in parallel.
 */
#ifndef TOON_NN_TFNET_H
#define TOON_NN_TFNET_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

struct toon_tfnet;

enum toon_status toon_tfnet_load(const uint8_t *data, size_t len, struct toon_tfnet **out,
                                 struct toon_err *err);
void toon_tfnet_free(struct toon_tfnet *net);

/* The single input, [1][h][w][c]. */
void toon_tfnet_input_size(const struct toon_tfnet *net, int *h, int *w, int *c);
int toon_tfnet_n_outputs(const struct toon_tfnet *net);
/* Element count of output i and its last dimension. */
size_t toon_tfnet_output_elems(const struct toon_tfnet *net, int i, int *last_dim);
/* Heap bytes the loaded net holds, and the peak a run adds. */
size_t toon_tfnet_bytes(const struct toon_tfnet *net);
size_t toon_tfnet_run_bytes(const struct toon_tfnet *net);

/* in: [h][w][c]; outs[i]: toon_tfnet_output_elems(i) floats each, caller-owned. */
enum toon_status toon_tfnet_run(const struct toon_tfnet *net, const float *in, float *const *outs,
                                struct toon_err *err);

#endif
