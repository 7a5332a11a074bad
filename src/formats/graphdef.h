/*
 * Reads the generator of an official DCT-Net model (`cartoon_h.pb`, `cartoon_bg.pb`: TensorFlow
 * 1 frozen GraphDef files, spec/MODELS.md) into a `struct toon_gen_weights`.
 *
 * The graph is not executed: toonify has its own implementation of the network
 * (spec/PIPELINE.md §2).  The reader finds the 18 convolutions by their TF-slim names
 * `<prefix>generator/<scope>/weights` and `.../biases` under any import prefix (`model_bg/`...),
 * takes each stride, padding and data format from the Conv2D node that consumes the weights,
 * converts the kernels from TF's HWIO to OHWI, and reads the guided filter's epsilon (the scalar
 * added to the variance) and box-kernel value (the DepthwiseConv2dNative constant).  It also
 * recognises the in-graph normalisation (`input_image` -> x/127.5 - 1) and the uint8 output
 * (`output_image`) and reports them in `struct toon_graphdef_info`.
 *
 * Graphs that are not a generator are refused with a one-line message; the face detector and
 * landmark graphs of a DCT-Net directory (`detector.pb`, `keypoints.pb`) are named as such.
 *
 * The whole file must be in memory; nothing in it is trusted: every length, count and shape is
 * checked, and allocations are bounded by what the file actually holds.  The reader keeps no
 * pointer into the buffer once it returns.  Thread-safe (no global state except the log).
 */
#ifndef TOON_FORMATS_GRAPHDEF_H
#define TOON_FORMATS_GRAPHDEF_H

#include <stddef.h>
#include <stdint.h>

#include "formats/genweights.h"
#include "toonify/status.h"

/* TensorFlow DataType values the reader knows. */
enum toon_tf_dtype {
    TOON_TF_DT_FLOAT = 1,
    TOON_TF_DT_INT32 = 3,
    TOON_TF_DT_UINT8 = 4,
    TOON_TF_DT_HALF = 19,
};

/* What the reader recognised besides the weights (for logs and `toonify models`). */
struct toon_graphdef_info {
    int n_nodes;
    char prefix[128];      /* import prefix before "generator/", e.g. "model_bg/" ("" if none) */
    char input_name[256];  /* the float placeholder, e.g. "model_bg/input_image" ("" if none) */
    char output_name[256]; /* the node named like "output_image" ("" if none) */
    int input_normalised;  /* x/127.5 - 1 between the placeholder and the generator */
    int output_u8;         /* the output is a Cast to uint8 */
    int eps_found;         /* gf_eps came from the graph (else the default 1e-2) */
    int box_found;         /* gf_box_weight came from the graph (else 1/9) */
};

/* Flags for toon_graphdef_read_generator_ex(). */
enum {
    /* Accept convolutions of any (self-consistent) shape and skip toon_gen_weights_check().
     * For the fuzzer and tools that want to parse small synthetic graphs; a model loader never
     * sets it. */
    TOON_GRAPHDEF_ANY_SHAPE = 1u << 0,
};

/* Reads the generator weights of a frozen DCT-Net graph.  On success `out` owns its arrays
 * (release with toon_gen_weights_free()); on failure `out` holds nothing.  format "graphdef",
 * weight_type "fp32" or "fp16" after the weights' dtype. */
enum toon_status toon_graphdef_read_generator(const uint8_t *data, size_t len,
                                              struct toon_gen_weights *out, struct toon_err *err);

/* The same with flags and the recognition report (`info` may be NULL).  `what` names the input
 * in error messages ("cartoon_h.pb"; NULL for "the graph"). */
enum toon_status toon_graphdef_read_generator_ex(const uint8_t *data, size_t len, unsigned flags,
                                                 const char *what, struct toon_gen_weights *out,
                                                 struct toon_graphdef_info *info,
                                                 struct toon_err *err);

/* Reads a .pb file from disk and parses it; messages name the file ("detector.pb is a face
 * detector graph, not a generator"). */
enum toon_status toon_graphdef_read_generator_file(const char *path, struct toon_gen_weights *out,
                                                   struct toon_graphdef_info *info,
                                                   struct toon_err *err);

/* IEEE binary16 bits to float (exact). */
float toon_graphdef_half_to_float(uint16_t h);

#endif
