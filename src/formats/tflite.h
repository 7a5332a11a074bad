/*
 * A read-only view of a TFLite model file (spec/MODELS.md, "Reading TFLite"), and the
 * extraction of the DCT-Net / White-box generator's weights from one.
 *
 * toon_tflite_open() walks the FlatBuffer, checks every offset, length, index and buffer
 * size, and keeps a small index of the main subgraph's tensors and operators; the accessors
 * below then cannot fail on a model that opened.  Model files are untrusted input: any
 * inconsistency is a TOON_STATUS_CORRUPT error whose message starts with "corrupt TFLite:"
 * and names the tensor or operator at fault.
 *
 * Lifetime: the view does not copy the file.  Tensor data pointers point into the caller's
 * buffer, which must outlive the view; names, shapes, quantisation parameters and operator
 * index arrays are copies owned by the view.  Thread-safety: a view is immutable after open,
 * so any number of threads may read it at once.
 *
 * Only subgraph 0 (the main graph) is indexed; models with control flow are not needed here.
 */
#ifndef TOON_FORMATS_TFLITE_H
#define TOON_FORMATS_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/genweights.h"
#include "toonify/status.h"

/* Tensor element types (TFLite's TensorType). */
enum toon_tflite_type {
    TOON_TFLITE_FLOAT32 = 0,
    TOON_TFLITE_FLOAT16 = 1,
    TOON_TFLITE_INT32 = 2,
    TOON_TFLITE_UINT8 = 3,
    TOON_TFLITE_INT64 = 4,
    TOON_TFLITE_STRING = 5,
    TOON_TFLITE_BOOL = 6,
    TOON_TFLITE_INT16 = 7,
    TOON_TFLITE_INT8 = 9,
    TOON_TFLITE_FLOAT64 = 10,
};

/* Builtin operator codes (TFLite's BuiltinOperator) that toonify's readers look for. */
enum toon_tflite_opcode {
    TOON_TFLITE_OP_ADD = 0,
    TOON_TFLITE_OP_CONCATENATION = 2,
    TOON_TFLITE_OP_CONV_2D = 3,
    TOON_TFLITE_OP_DEPTHWISE_CONV_2D = 4,
    TOON_TFLITE_OP_DEQUANTIZE = 6,
    TOON_TFLITE_OP_MAX_POOL_2D = 17,
    TOON_TFLITE_OP_MUL = 18,
    TOON_TFLITE_OP_RELU = 19,
    TOON_TFLITE_OP_RESHAPE = 22,
    TOON_TFLITE_OP_RESIZE_BILINEAR = 23,
    TOON_TFLITE_OP_PAD = 34,
    TOON_TFLITE_OP_SUB = 41,
    TOON_TFLITE_OP_DIV = 42,
    TOON_TFLITE_OP_LEAKY_RELU = 98,
    TOON_TFLITE_OP_QUANTIZE = 114,
};

/* Which table an operator's builtin_options holds (TFLite's BuiltinOptions union). */
enum toon_tflite_options_type {
    TOON_TFLITE_OPTIONS_NONE = 0,
    TOON_TFLITE_OPTIONS_CONV_2D = 1,
    TOON_TFLITE_OPTIONS_DEPTHWISE_CONV_2D = 2,
    TOON_TFLITE_OPTIONS_POOL_2D = 5,
    TOON_TFLITE_OPTIONS_CONCATENATION = 10,
    TOON_TFLITE_OPTIONS_ADD = 11,
    TOON_TFLITE_OPTIONS_RESIZE_BILINEAR = 15,
    TOON_TFLITE_OPTIONS_RESHAPE = 17,
    TOON_TFLITE_OPTIONS_MUL = 21,
    TOON_TFLITE_OPTIONS_PAD = 22,
    TOON_TFLITE_OPTIONS_SUB = 28,
    TOON_TFLITE_OPTIONS_DIV = 29,
    TOON_TFLITE_OPTIONS_LEAKY_RELU = 75,
};

/*
 * A scalar field of a builtin-options table: its field index and its width in bytes, in one
 * int (FlatBuffers does not record widths, the schema does).  The constants name the fields
 * the readers use; TOON_TFLITE_OPT(index, n_bytes) builds any other.
 */
#define TOON_TFLITE_OPT(index, n_bytes) ((index) | ((n_bytes) << 8))
enum toon_tflite_option {
    /* Conv2DOptions; padding 0 = SAME, 1 = VALID; activation 0 = none, 1 = relu, 3 = relu6 */
    TOON_TFLITE_CONV_PADDING = TOON_TFLITE_OPT(0, 1),
    TOON_TFLITE_CONV_STRIDE_W = TOON_TFLITE_OPT(1, 4),
    TOON_TFLITE_CONV_STRIDE_H = TOON_TFLITE_OPT(2, 4),
    TOON_TFLITE_CONV_ACTIVATION = TOON_TFLITE_OPT(3, 1),
    TOON_TFLITE_CONV_DILATION_W = TOON_TFLITE_OPT(4, 4), /* default 1 */
    TOON_TFLITE_CONV_DILATION_H = TOON_TFLITE_OPT(5, 4), /* default 1 */
    /* DepthwiseConv2DOptions */
    TOON_TFLITE_DW_PADDING = TOON_TFLITE_OPT(0, 1),
    TOON_TFLITE_DW_STRIDE_W = TOON_TFLITE_OPT(1, 4),
    TOON_TFLITE_DW_STRIDE_H = TOON_TFLITE_OPT(2, 4),
    TOON_TFLITE_DW_DEPTH_MULTIPLIER = TOON_TFLITE_OPT(3, 4),
    TOON_TFLITE_DW_ACTIVATION = TOON_TFLITE_OPT(4, 1),
    TOON_TFLITE_DW_DILATION_W = TOON_TFLITE_OPT(5, 4), /* default 1 */
    TOON_TFLITE_DW_DILATION_H = TOON_TFLITE_OPT(6, 4), /* default 1 */
    /* Pool2DOptions (MAX_POOL_2D, AVERAGE_POOL_2D) */
    TOON_TFLITE_POOL_PADDING = TOON_TFLITE_OPT(0, 1),
    TOON_TFLITE_POOL_STRIDE_W = TOON_TFLITE_OPT(1, 4),
    TOON_TFLITE_POOL_STRIDE_H = TOON_TFLITE_OPT(2, 4),
    TOON_TFLITE_POOL_FILTER_W = TOON_TFLITE_OPT(3, 4),
    TOON_TFLITE_POOL_FILTER_H = TOON_TFLITE_OPT(4, 4),
    TOON_TFLITE_POOL_ACTIVATION = TOON_TFLITE_OPT(5, 1),
    /* ConcatenationOptions */
    TOON_TFLITE_CONCAT_AXIS = TOON_TFLITE_OPT(0, 4),
    TOON_TFLITE_CONCAT_ACTIVATION = TOON_TFLITE_OPT(1, 1),
    /* AddOptions, MulOptions, SubOptions, DivOptions */
    TOON_TFLITE_ARITH_ACTIVATION = TOON_TFLITE_OPT(0, 1),
    /* ResizeBilinearOptions (fields 0 and 1 are deprecated sizes) */
    TOON_TFLITE_RESIZE_ALIGN_CORNERS = TOON_TFLITE_OPT(2, 1),
    TOON_TFLITE_RESIZE_HALF_PIXEL_CENTERS = TOON_TFLITE_OPT(3, 1),
    /* LeakyReluOptions (a float: use toon_tflite_op_option_float) */
    TOON_TFLITE_LEAKY_RELU_ALPHA = TOON_TFLITE_OPT(0, 4),
};

struct toon_tflite; /* opaque view over a caller-owned byte buffer (no copy) */

/* Opens a view of len bytes at data (which must outlive it).  *out is NULL on failure. */
enum toon_status toon_tflite_open(const uint8_t *data, size_t len, struct toon_tflite **out,
                                  struct toon_err *err);
void toon_tflite_free(struct toon_tflite *m); /* NULL is a no-op */

int toon_tflite_n_tensors(const struct toon_tflite *m);
int toon_tflite_n_ops(const struct toon_tflite *m);
/* The graph's input and output tensor indices; returns the count, *out owned by m. */
int toon_tflite_graph_inputs(const struct toon_tflite *m, const int32_t **out);
int toon_tflite_graph_outputs(const struct toon_tflite *m, const int32_t **out);
/* Index of the first tensor with exactly this name, or -1. */
int toon_tflite_find_tensor(const struct toon_tflite *m, const char *name);

struct toon_tflite_tensor {
    const char *name; /* NUL-terminated copy owned by m ("" when the file has none); bytes
                         outside printable ASCII read as '?' (TF names are ASCII) */
    int type;         /* enum toon_tflite_type */
    int n_dims;
    int dims[8];                /* [n_dims]; a scalar has n_dims 0 */
    const uint8_t *data;        /* constant buffer in the caller's bytes, NULL if none */
    size_t n_bytes;             /* == prod(dims) * element size for the fixed-size types */
    int n_scales;               /* 0: not quantised; 1: per tensor; > 1: per channel */
    const float *scales;        /* [n_scales], owned by m */
    const int64_t *zero_points; /* [n_scales], owned by m (zeros when the file has none) */
    int quant_axis; /* the channel axis when n_scales > 1 (dims[quant_axis] == n_scales) */
};
/* Fills *out for tensor index (0 <= index < n_tensors). */
enum toon_status toon_tflite_tensor(const struct toon_tflite *m, int index,
                                    struct toon_tflite_tensor *out, struct toon_err *err);

struct toon_tflite_op {
    int builtin_code; /* max(deprecated_builtin_code, builtin_code): enum toon_tflite_opcode */
    int n_inputs;
    const int32_t *inputs; /* [n_inputs] tensor indices, -1 = none (owned by m) */
    int n_outputs;
    const int32_t *outputs; /* [n_outputs] */
    int options_type;       /* enum toon_tflite_options_type, 0 when the op has no options */
};
enum toon_status toon_tflite_op(const struct toon_tflite *m, int index, struct toon_tflite_op *out,
                                struct toon_err *err);
/* The operator that writes tensor index, or -1 (a constant or a graph input). */
int toon_tflite_producer(const struct toon_tflite *m, int tensor_index);
/*
 * The constant behind a tensor: the tensor itself when it has data, or, when it is the output
 * of a DEQUANTIZE (fp16 or int8 weights stored compactly), the constant that op reads.
 * Returns that tensor's index, or -1 when the tensor is computed at run time.
 */
int toon_tflite_const_source(const struct toon_tflite *m, int tensor_index);

/*
 * Reads a scalar field of the op's builtin_options table; field is a toon_tflite_option
 * constant (index and width).  Returns def when the op has no options table or the field is
 * absent; 1-byte fields are read as signed (enums) and bools are 0/1 either way.  Callers
 * should check the op's options_type first.
 */
int toon_tflite_op_option_int(const struct toon_tflite *m, int op_index, int field, int def);
float toon_tflite_op_option_float(const struct toon_tflite *m, int op_index, int field, float def);

/* Number of elements, prod(dims), of a tensor (1 for a scalar; 0 when a dimension is unknown,
 * i.e. negative, or the product overflows). */
size_t toon_tflite_tensor_n_elems(const struct toon_tflite_tensor *t);
/*
 * A constant -> float32: FLOAT32 and FLOAT16 as is; INT8, UINT8, INT16, INT32 and INT64 as
 * (q - zero_point) * scale, per tensor or per channel along quant_axis (no scales: the plain
 * integer value).  out has prod(dims) floats.  Other types and tensors without data fail.
 */
enum toon_status toon_tflite_tensor_to_f32(const struct toon_tflite_tensor *t, float *out,
                                           struct toon_err *err);

/*
 * Extracts the DCT-Net / White-box generator (spec/MODELS.md "The White-box generator
 * TFLite") from a TFLite file: the 18 convolutions found by their kernel and bias names,
 * dequantised to fp32 in OHWI order, their strides from the options, the guided filter's eps
 * and box-kernel value; then the operator inventory and toon_gen_weights_check.  Any other
 * graph fails with TOON_STATUS_MODEL and a message starting "not a DCT-Net generator:".
 * On success *out owns its arrays (toon_gen_weights_free); on failure it is left untouched.
 */
enum toon_status toon_tflite_read_generator(const uint8_t *data, size_t len,
                                            struct toon_gen_weights *out, struct toon_err *err);

#endif
