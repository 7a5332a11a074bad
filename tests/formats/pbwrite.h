/*
 * A small protobuf and TensorFlow GraphDef writer, for tests and tools only (the library reads
 * GraphDef and never writes it).  We have no official DCT-Net .pb file, so the tests write frozen
 * generator graphs laid out like the ModelScope exporter's (spec/MODELS.md) from weights they
 * read elsewhere, and check that formats/graphdef.c reads the same weights back.
 *
 * Buffers grow through toon_realloc; a failed allocation sets `oom` and later writes do nothing,
 * so callers check once at the end.
 */
#ifndef TOON_TESTS_PBWRITE_H
#define TOON_TESTS_PBWRITE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/genweights.h"

struct pbw_buf {
    uint8_t *data; /* [len] */
    size_t len, cap;
    int oom;
};
void pbw_buf_free(struct pbw_buf *b);

/* Wire-format primitives. */
void pbw_varint(struct pbw_buf *b, uint64_t v);
void pbw_tag(struct pbw_buf *b, uint32_t num, int wire);
void pbw_field_varint(struct pbw_buf *b, uint32_t num, uint64_t v);
void pbw_field_f32(struct pbw_buf *b, uint32_t num, float v);
void pbw_field_bytes(struct pbw_buf *b, uint32_t num, const void *p, size_t n);
void pbw_field_str(struct pbw_buf *b, uint32_t num, const char *s);
void pbw_field_msg(struct pbw_buf *b, uint32_t num, const struct pbw_buf *msg);

/* How a tensor's values are written. */
enum pbw_enc {
    PBW_ENC_CONTENT,       /* tensor_content, raw little-endian */
    PBW_ENC_VALS,          /* float_val / half_val / int_val, packed */
    PBW_ENC_VALS_UNPACKED, /* one field per value */
    PBW_ENC_FILL,          /* the first value only: TF repeats it over the shape */
};

/* A constant tensor to write: `f32` (for DT_FLOAT and DT_HALF) or `i32` (DT_INT32). */
struct pbw_tensor {
    int dtype; /* 1 float, 3 int32, 19 half */
    int rank;
    int64_t dims[8];
    const float *f32;   /* [n] */
    const int32_t *i32; /* [n] */
    size_t n;
    enum pbw_enc enc;
};

/* A NodeDef under construction: begin, add inputs then attributes, then pbw_graph_add(). */
struct pbw_node {
    struct pbw_buf buf;
};
void pbw_node_begin(struct pbw_node *n, const char *name, const char *op);
void pbw_node_input(struct pbw_node *n, const char *input);
void pbw_node_attr_type(struct pbw_node *n, const char *key, int dtype);
void pbw_node_attr_s(struct pbw_node *n, const char *key, const char *s);
void pbw_node_attr_f(struct pbw_node *n, const char *key, float v);
void pbw_node_attr_i(struct pbw_node *n, const char *key, int64_t v);
void pbw_node_attr_b(struct pbw_node *n, const char *key, int v);
void pbw_node_attr_ints(struct pbw_node *n, const char *key, const int64_t *v, int count);
void pbw_node_attr_shape(struct pbw_node *n, const char *key, const int64_t *dims, int rank);
void pbw_node_attr_tensor(struct pbw_node *n, const char *key, const struct pbw_tensor *t);
/* Appends the node to a GraphDef buffer and frees the node's buffer. */
void pbw_graph_add(struct pbw_buf *graph, struct pbw_node *n);
/* Appends the GraphDef `versions` field (producer 27, as TF 1.15 writes). */
void pbw_graph_versions(struct pbw_buf *graph);

/* float -> IEEE binary16 bits, round to nearest even. */
uint16_t pbw_float_to_half(float v);

/* Options of the generator graph (pbw_gen_default_opts: the ModelScope export). */
struct pbw_gen_opts {
    const char *prefix; /* import-like prefix of every node, e.g. "model_bg/" or "" */
    int weight_dtype;   /* 1 float32, 19 float16 (Const half + Cast to float) */
    enum pbw_enc weight_enc;
    enum pbw_enc box_enc; /* the box-filter kernels: CONTENT or FILL */
    int lrelu_maximum;    /* 0: LeakyRelu op; 1: Maximum(x, 0.2 * x) */
    int clip_minmax;      /* 0: ClipByValue; 1: Minimum then Maximum */
    int exporter_form;    /* 1: StridedSlice new axis and the uint8 Cast named output_image,
                             as the ModelScope exporter; 0: ExpandDims ... Squeeze, Identity */
    int with_guided_filter;
    int minimal; /* 1: leave out optional attributes and the weights/read Identity
                    nodes (Conv2D reads the Const directly): small fuzz seeds */
    float eps;   /* 1e-2 */
    float box;   /* 1/9 */
};
void pbw_gen_default_opts(struct pbw_gen_opts *o);

/* Writes a frozen generator graph holding gw's weights (any shapes: the fuzz corpus uses tiny
 * ones).  Returns 0 on success, -1 when out of memory. */
int pbw_write_generator(const struct toon_gen_weights *gw, const struct pbw_gen_opts *o,
                        struct pbw_buf *out);

/* Graphs laid out like the other two .pb files of a DCT-Net directory (names only, tiny
 * weights): a FaceBoxes detector and a landmark network. */
int pbw_write_detector_like(struct pbw_buf *out);
int pbw_write_keypoints_like(struct pbw_buf *out);

/* Fills gw with small deterministic fake weights of the given kernel size and channel count
 * for every layer (shapes deliberately not the real ones); free with toon_gen_weights_free. */
int pbw_fake_weights(struct toon_gen_weights *gw, int k, int channels, uint32_t seed);

#endif
