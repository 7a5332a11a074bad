/*
 * The small float kernels the face networks need (BlazeFace and the face-api landmark net):
 * NHWC convolutions with TensorFlow's SAME/VALID padding, depthwise convolutions, max pooling,
 * bilinear resizing with TF's conventions, and a few element-wise helpers.
 *
 * These networks are tiny (tens of millions of multiply-adds per call), so the kernels are
 * plain C written for the auto-vectoriser (the innermost loop runs over output channels with
 * weights stored [kh][kw][cin][cout]) and run on the calling thread.  Batch is always 1.
 * Thread-safety: the functions are pure.
 */
#ifndef TOON_NN_FNN_H
#define TOON_NN_FNN_H

#include <stddef.h>

/* Output size and leading padding of one spatial axis under TF padding rules. */
void toon_fnn_out_size(int in, int k, int stride, int same, int *out, int *pad_before);

/* Activations applied after a kernel. */
enum toon_fnn_act { TOON_FNN_ACT_NONE, TOON_FNN_ACT_RELU, TOON_FNN_ACT_RELU6 };

/* Slack (floats) that convolution weights and biases need after their last element: the
 * kernels load whole 16-float blocks and keep only the channels that exist. */
#define TOON_FNN_SLACK 16

/*
 * Convolution: in [h][w][cin], w [kh][kw][cin][cout], b [cout] (may be NULL), both followed
 * by TOON_FNN_SLACK readable floats; out [oh][ow][cout] with oh, ow from toon_fnn_out_size.
 */
void toon_fnn_conv(const float *in, int h, int w, int cin, const float *wt, const float *b, int kh,
                   int kw, int cout, int stride, int same, int act, float *out);
/* Depthwise convolution (multiplier 1): wt [kh][kw][c], b [c] (may be NULL). */
void toon_fnn_dwconv(const float *in, int h, int w, int c, const float *wt, const float *b, int kh,
                     int kw, int stride, int same, int act, float *out);
/* Max pooling; padded cells are ignored. */
void toon_fnn_maxpool(const float *in, int h, int w, int c, int kh, int kw, int stride, int same,
                      float *out);
/* TF ResizeBilinear: in [h][w][c] -> out [oh][ow][c]. */
void toon_fnn_resize_bilinear(const float *in, int h, int w, int c, int oh, int ow,
                              int align_corners, int half_pixel, float *out);
/* out[i] = act(a[i] + b[i]) for n elements (out may alias a or b). */
void toon_fnn_add(const float *a, const float *b, size_t n, int act, float *out);
void toon_fnn_relu(const float *in, size_t n, float *out);

#endif
