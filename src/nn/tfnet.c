/*
 * The TFLite float interpreter for the face detectors (see tfnet.h).  Loading does all the
 * checking: after it, a run cannot meet an inconsistent shape.
 */
#include "nn/tfnet.h"

#include <string.h>

#include "core/alloc.h"
#include "nn/fnn.h"
#include "formats/tflite.h"

#define MAX_ELEMS ((size_t)1 << 26) /* any one activation: 256 MB of floats is not a face net */

struct tensor {
    int rank;
    int dims[4];
    size_t n;      /* elements */
    float *cdata;  /* constant data (fp32, owned), NULL for activations */
    int last_use;  /* index of the last op reading it; -1 none */
    int is_output; /* index into outputs + 1, or 0 */
};

struct op {
    int code;
    int in[3], out;
    int kh, kw, stride, same, act;
    int pads[4][2];
    int axis;
    int align_corners, half_pixel;
};

struct toon_tfnet {
    int n_tensors, n_ops, input, n_outputs;
    int outputs[4];
    struct tensor *t; /* [n_tensors] */
    struct op *ops;   /* [n_ops] */
    size_t bytes, run_bytes;
};

static enum toon_status bad(struct toon_err *err, int op, const char *what)
{
    return toon_err_set(err, TOON_STATUS_MODEL, "unsupported face detector: op %d: %s", op, what);
}

void toon_tfnet_free(struct toon_tfnet *net)
{
    if (!net) return;
    if (net->t)
        for (int i = 0; i < net->n_tensors; i++) toon_free(net->t[i].cdata);
    toon_free(net->t);
    toon_free(net->ops);
    toon_free(net);
}

/* Loads a constant tensor's values (following DEQUANTIZE) as fp32 into t->cdata. */
static enum toon_status load_const(const struct toon_tflite *m, int index, struct tensor *t,
                                   struct toon_err *err)
{
    if (t->cdata) return TOON_STATUS_OK;
    int src = toon_tflite_const_source(m, index);
    if (src < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "face detector: tensor %d is not a "
                            "constant",
                            index);
    struct toon_tflite_tensor tt;
    enum toon_status st = toon_tflite_tensor(m, src, &tt, err);
    if (st != TOON_STATUS_OK) return st;
    size_t n = toon_tflite_tensor_n_elems(&tt);
    if (n == 0 || n != t->n || n > MAX_ELEMS)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "face detector: constant %d has %zu values, "
                            "expected %zu",
                            index, n, t->n);
    t->cdata = toon_calloc(n + TOON_FNN_SLACK, sizeof(float));
    if (!t->cdata) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    return toon_tflite_tensor_to_f32(&tt, t->cdata, err);
}

/* Loads an integer constant (paddings, sizes) into out[n]. */
static enum toon_status load_ints(const struct toon_tflite *m, int index, int *out, size_t n,
                                  struct toon_err *err)
{
    int src = toon_tflite_const_source(m, index);
    struct toon_tflite_tensor tt;
    if (src < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "face detector: tensor %d is not a "
                            "constant",
                            index);
    enum toon_status st = toon_tflite_tensor(m, src, &tt, err);
    if (st != TOON_STATUS_OK) return st;
    if (tt.type != TOON_TFLITE_INT32 || toon_tflite_tensor_n_elems(&tt) != n || !tt.data ||
        tt.n_bytes < n * 4)
        return toon_err_set(err, TOON_STATUS_MODEL, "face detector: tensor %d is not %zu int32",
                            index, n);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *p = tt.data + 4 * i;
        out[i] = (int)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                       (uint32_t)p[3] << 24);
    }
    return TOON_STATUS_OK;
}

/* Repacks OHWI (or 1HWC for depthwise: already [kh][kw][c]) weights to [kh][kw][cin][cout]. */
static enum toon_status repack_ohwi(struct tensor *t, struct toon_err *err)
{
    int o = t->dims[0], kh = t->dims[1], kw = t->dims[2], ci = t->dims[3];
    float *r = toon_calloc(t->n + TOON_FNN_SLACK, sizeof(float));
    if (!r) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    for (int a = 0; a < o; a++)
        for (int y = 0; y < kh; y++)
            for (int x = 0; x < kw; x++)
                for (int c = 0; c < ci; c++)
                    r[(((size_t)y * kw + x) * ci + c) * o + a] =
                        t->cdata[(((size_t)a * kh + y) * kw + x) * ci + c];
    toon_free(t->cdata);
    t->cdata = r;
    t->rank = 0; /* marks the tensor as repacked; a second use as OHWI would be wrong */
    return TOON_STATUS_OK;
}

static int is_act(const struct toon_tfnet *net, int i)
{
    return i >= 0 && i < net->n_tensors && !net->t[i].cdata;
}

static int same_dims(const struct tensor *a, const int *dims, int rank)
{
    if (a->rank != rank) return 0;
    for (int i = 0; i < rank; i++)
        if (a->dims[i] != dims[i]) return 0;
    return 1;
}

/* Checks op k's output tensor against the shape this interpreter computes. */
static enum toon_status check_out(struct toon_tfnet *net, int k, const int *dims, int rank,
                                  struct toon_err *err)
{
    const struct tensor *o = &net->t[net->ops[k].out];
    if (!same_dims(o, dims, rank)) return bad(err, k, "output shape does not match the file");
    return TOON_STATUS_OK;
}

/* What each op's reader gets: the model, the net, the op's index, its operands as the file
 * gives them, and the op being filled in with its input x and its output o. */
struct op_ctx {
    const struct toon_tflite *m;
    struct toon_tfnet *net;
    int k;
    const struct toon_tflite_op *top;
    struct op *op;
    struct tensor *x, *o;
};

static int option(const struct op_ctx *c, int field, int dflt)
{
    return toon_tflite_op_option_int(c->m, c->k, field, dflt);
}

static enum toon_status read_dequantize(struct op_ctx *c, struct toon_err *err)
{
    /* Constants behind DEQUANTIZE are resolved at load; the op itself is a no-op then. */
    if (toon_tflite_const_source(c->m, c->op->out) < 0)
        return bad(err, c->k, "run-time DEQUANTIZE");
    return load_const(c->m, c->op->out, c->o, err);
}

/* Stride, padding, activation, depth multiplier and dilation of a (depthwise) convolution. */
static enum toon_status read_conv_options(struct op_ctx *c, int dw, struct toon_err *err)
{
    struct op *op = c->op;
    int fpad = dw ? TOON_TFLITE_DW_PADDING : TOON_TFLITE_CONV_PADDING;
    int fsw = dw ? TOON_TFLITE_DW_STRIDE_W : TOON_TFLITE_CONV_STRIDE_W;
    int fsh = dw ? TOON_TFLITE_DW_STRIDE_H : TOON_TFLITE_CONV_STRIDE_H;
    int fact = dw ? TOON_TFLITE_DW_ACTIVATION : TOON_TFLITE_CONV_ACTIVATION;
    int sw = option(c, fsw, 1), sh = option(c, fsh, 1);
    if (sw != sh || sw < 1 || sw > 4) return bad(err, c->k, "stride");
    op->stride = sw;
    op->same = option(c, fpad, 0) == 0;
    int act = option(c, fact, 0);
    if (act != 0 && act != 1 && act != 3) return bad(err, c->k, "activation");
    op->act = act == 0 ? TOON_FNN_ACT_NONE : act == 1 ? TOON_FNN_ACT_RELU : TOON_FNN_ACT_RELU6;
    if (dw && option(c, TOON_TFLITE_DW_DEPTH_MULTIPLIER, 1) != 1)
        return bad(err, c->k, "depth multiplier");
    if (option(c, dw ? TOON_TFLITE_DW_DILATION_W : TOON_TFLITE_CONV_DILATION_W, 1) != 1 ||
        option(c, dw ? TOON_TFLITE_DW_DILATION_H : TOON_TFLITE_CONV_DILATION_H, 1) != 1)
        return bad(err, c->k, "dilation");
    return TOON_STATUS_OK;
}

static enum toon_status read_conv(struct op_ctx *c, struct toon_err *err)
{
    struct op *op = c->op;
    const struct tensor *x = c->x;
    int k = c->k, dw = op->code == TOON_TFLITE_OP_DEPTHWISE_CONV_2D;
    enum toon_status st;
    if (c->top->n_inputs < 2 || !is_act(c->net, op->in[0]) || x->rank != 4 || x->dims[0] != 1)
        return bad(err, k, "convolution input must be [1,h,w,c]");
    struct tensor *w = &c->net->t[op->in[1]];
    if ((st = load_const(c->m, op->in[1], w, err)) != TOON_STATUS_OK) return st;
    if (w->rank != 4) return bad(err, k, "kernel must be 4-D (or is shared)");
    int cin = x->dims[3], cout = dw ? cin : w->dims[0];
    if (dw ? (w->dims[0] != 1 || w->dims[3] != cin) : w->dims[3] != cin)
        return bad(err, k, "kernel does not match the input channels");
    op->kh = w->dims[1];
    op->kw = w->dims[2];
    if (op->kh < 1 || op->kw < 1 || op->kh > 15 || op->kw > 15)
        return bad(err, k, "kernel size out of range");
    if (op->in[2] >= 0) {
        struct tensor *b = &c->net->t[op->in[2]];
        if ((st = load_const(c->m, op->in[2], b, err)) != TOON_STATUS_OK) return st;
        if (b->n != (size_t)cout) return bad(err, k, "bias size");
    }
    if ((st = read_conv_options(c, dw, err)) != TOON_STATUS_OK) return st;
    int pad, dims[4] = {1, 0, 0, cout};
    toon_fnn_out_size(x->dims[1], op->kh, op->stride, op->same, &dims[1], &pad);
    toon_fnn_out_size(x->dims[2], op->kw, op->stride, op->same, &dims[2], &pad);
    if (dims[1] < 1 || dims[2] < 1) return bad(err, k, "empty output");
    if (!dw && (st = repack_ohwi(w, err)) != TOON_STATUS_OK) return st;
    if (dw) w->rank = 0;
    return check_out(c->net, k, dims, 4, err);
}

static enum toon_status read_add(struct op_ctx *c, struct toon_err *err)
{
    const struct tensor *x = c->x;
    if (c->top->n_inputs != 2 || !is_act(c->net, c->op->in[0]) || !is_act(c->net, c->op->in[1]) ||
        !same_dims(&c->net->t[c->op->in[1]], x->dims, x->rank))
        return bad(err, c->k, "ADD needs two activations of one shape");
    int act = option(c, TOON_TFLITE_ARITH_ACTIVATION, 0);
    if (act > 1) return bad(err, c->k, "activation");
    c->op->act = act == 1 ? TOON_FNN_ACT_RELU : TOON_FNN_ACT_NONE;
    return check_out(c->net, c->k, x->dims, x->rank, err);
}

static enum toon_status read_relu(struct op_ctx *c, struct toon_err *err)
{
    if (!is_act(c->net, c->op->in[0])) return bad(err, c->k, "RELU of a constant");
    return check_out(c->net, c->k, c->x->dims, c->x->rank, err);
}

static enum toon_status read_max_pool(struct op_ctx *c, struct toon_err *err)
{
    struct op *op = c->op;
    const struct tensor *x = c->x;
    if (!is_act(c->net, op->in[0]) || x->rank != 4 || x->dims[0] != 1)
        return bad(err, c->k, "pool input must be [1,h,w,c]");
    op->kw = option(c, TOON_TFLITE_POOL_FILTER_W, 0);
    op->kh = option(c, TOON_TFLITE_POOL_FILTER_H, 0);
    op->stride = option(c, TOON_TFLITE_POOL_STRIDE_W, 0);
    op->same = option(c, TOON_TFLITE_POOL_PADDING, 0) == 0;
    if (op->kw < 1 || op->kw > 8 || op->kh < 1 || op->kh > 8 || op->stride < 1 || op->stride > 8 ||
        option(c, TOON_TFLITE_POOL_STRIDE_H, 0) != op->stride ||
        option(c, TOON_TFLITE_POOL_ACTIVATION, 0) != 0)
        return bad(err, c->k, "pool parameters");
    int pad, dims[4] = {1, 0, 0, x->dims[3]};
    toon_fnn_out_size(x->dims[1], op->kh, op->stride, op->same, &dims[1], &pad);
    toon_fnn_out_size(x->dims[2], op->kw, op->stride, op->same, &dims[2], &pad);
    if (dims[1] < 1 || dims[2] < 1) return bad(err, c->k, "empty output");
    return check_out(c->net, c->k, dims, 4, err);
}

static enum toon_status read_pad(struct op_ctx *c, struct toon_err *err)
{
    struct op *op = c->op;
    const struct tensor *x = c->x;
    int p[8], dims[4];
    enum toon_status st;
    if (c->top->n_inputs != 2 || !is_act(c->net, op->in[0]) || x->rank != 4)
        return bad(err, c->k, "PAD input must be 4-D");
    if ((st = load_ints(c->m, op->in[1], p, 8, err)) != TOON_STATUS_OK) return st;
    op->in[1] = -1;
    for (int i = 0; i < 4; i++) {
        if (p[2 * i] < 0 || p[2 * i + 1] < 0 || p[2 * i] > 4096 || p[2 * i + 1] > 4096)
            return bad(err, c->k, "padding out of range");
        op->pads[i][0] = p[2 * i];
        op->pads[i][1] = p[2 * i + 1];
        dims[i] = x->dims[i] + p[2 * i] + p[2 * i + 1];
    }
    if (dims[0] != 1) return bad(err, c->k, "batch padding");
    return check_out(c->net, c->k, dims, 4, err);
}

static enum toon_status read_reshape(struct op_ctx *c, struct toon_err *err)
{
    if (!is_act(c->net, c->op->in[0]) || c->o->n != c->x->n) return bad(err, c->k, "RESHAPE size");
    c->op->in[1] = -1; /* the shape operand, if any, is not read at run time */
    return TOON_STATUS_OK;
}

static enum toon_status read_concatenation(struct op_ctx *c, struct toon_err *err)
{
    const struct tensor *x = c->x;
    int dims[4];
    if (c->top->n_inputs != 2 || !is_act(c->net, c->op->in[0]) || !is_act(c->net, c->op->in[1]))
        return bad(err, c->k, "CONCATENATION of two activations only");
    const struct tensor *y = &c->net->t[c->op->in[1]];
    int axis = option(c, TOON_TFLITE_CONCAT_AXIS, 0);
    if (axis < 0) axis += x->rank;
    if (axis < 0 || axis >= x->rank || y->rank != x->rank ||
        option(c, TOON_TFLITE_CONCAT_ACTIVATION, 0) != 0)
        return bad(err, c->k, "concatenation axis");
    for (int i = 0; i < x->rank; i++) {
        if (i != axis && x->dims[i] != y->dims[i]) return bad(err, c->k, "concatenated shapes");
        dims[i] = i == axis ? x->dims[i] + y->dims[i] : x->dims[i];
    }
    c->op->axis = axis;
    return check_out(c->net, c->k, dims, x->rank, err);
}

static enum toon_status read_resize_bilinear(struct op_ctx *c, struct toon_err *err)
{
    struct op *op = c->op;
    const struct tensor *x = c->x;
    int sz[2] = {0, 0};
    enum toon_status st;
    if (c->top->n_inputs != 2 || !is_act(c->net, op->in[0]) || x->rank != 4 || x->dims[0] != 1)
        return bad(err, c->k, "RESIZE_BILINEAR input must be [1,h,w,c]");
    if ((st = load_ints(c->m, op->in[1], sz, 2, err)) != TOON_STATUS_OK) return st;
    op->in[1] = -1;
    if (sz[0] < 1 || sz[1] < 1 || sz[0] > 4096 || sz[1] > 4096)
        return bad(err, c->k, "resize size");
    op->align_corners = option(c, TOON_TFLITE_RESIZE_ALIGN_CORNERS, 0);
    op->half_pixel = option(c, TOON_TFLITE_RESIZE_HALF_PIXEL_CENTERS, 0);
    int dims[4] = {1, sz[0], sz[1], x->dims[3]};
    return check_out(c->net, c->k, dims, 4, err);
}

/* The operators this interpreter runs, and the reader that checks each at load. */
static const struct {
    int code;
    enum toon_status (*read)(struct op_ctx *c, struct toon_err *err);
} op_readers[] = {
    {TOON_TFLITE_OP_DEQUANTIZE, read_dequantize},
    {TOON_TFLITE_OP_CONV_2D, read_conv},
    {TOON_TFLITE_OP_DEPTHWISE_CONV_2D, read_conv},
    {TOON_TFLITE_OP_ADD, read_add},
    {TOON_TFLITE_OP_RELU, read_relu},
    {TOON_TFLITE_OP_MAX_POOL_2D, read_max_pool},
    {TOON_TFLITE_OP_PAD, read_pad},
    {TOON_TFLITE_OP_RESHAPE, read_reshape},
    {TOON_TFLITE_OP_CONCATENATION, read_concatenation},
    {TOON_TFLITE_OP_RESIZE_BILINEAR, read_resize_bilinear},
};

static enum toon_status read_op(const struct toon_tflite *m, struct toon_tfnet *net, int k,
                                struct toon_err *err)
{
    struct toon_tflite_op top;
    enum toon_status st = toon_tflite_op(m, k, &top, err);
    if (st != TOON_STATUS_OK) return st;
    struct op *op = &net->ops[k];
    memset(op, 0, sizeof *op);
    op->code = top.builtin_code;
    op->in[0] = op->in[1] = op->in[2] = -1;
    if (top.n_outputs != 1) return bad(err, k, "expected one output");
    if (top.n_inputs < 1 || top.n_inputs > 3) return bad(err, k, "unexpected input count");
    for (int i = 0; i < top.n_inputs; i++) op->in[i] = top.inputs[i];
    op->out = top.outputs[0];
    if (op->in[0] < 0) return bad(err, k, "missing input");
    struct op_ctx c = {m, net, k, &top, op, &net->t[op->in[0]], &net->t[op->out]};
    if (c.o->cdata) return bad(err, k, "writes a constant");
    for (size_t i = 0; i < sizeof op_readers / sizeof op_readers[0]; i++)
        if (op_readers[i].code == op->code) return op_readers[i].read(&c, err);
    return toon_err_set(err, TOON_STATUS_MODEL,
                        "unsupported face detector: op %d has operator code %d", k, op->code);
}

/* Simulates a run's allocations to find its peak. */
static size_t plan_run(const struct toon_tfnet *net)
{
    size_t cur = 0, peak = 0, ov = toon_alloc_overhead();
    for (int k = 0; k < net->n_ops; k++) {
        const struct op *op = &net->ops[k];
        if (op->code == TOON_TFLITE_OP_DEQUANTIZE) continue;
        cur += net->t[op->out].n * sizeof(float) + ov;
        if (cur > peak) peak = cur;
        for (int i = 0; i < 3; i++) {
            int t = op->in[i];
            int dup = (i > 0 && op->in[0] == t) || (i > 1 && op->in[1] == t);
            if (t >= 0 && !dup && t != net->input && !net->t[t].cdata && net->t[t].last_use == k)
                cur -= net->t[t].n * sizeof(float) + ov;
        }
        if (net->t[op->out].last_use < 0) cur -= net->t[op->out].n * sizeof(float) + ov;
    }
    return peak + (size_t)net->n_tensors * sizeof(float *) + ov;
}

enum toon_status toon_tfnet_load(const uint8_t *data, size_t len, struct toon_tfnet **out,
                                 struct toon_err *err)
{
    struct toon_tflite *m = NULL;
    struct toon_tfnet *net = NULL;
    enum toon_status st;
    *out = NULL;
    if ((st = toon_tflite_open(data, len, &m, err)) != TOON_STATUS_OK) return st;
    net = toon_calloc(1, sizeof *net);
    if (!net) goto oom;
    net->n_tensors = toon_tflite_n_tensors(m);
    net->n_ops = toon_tflite_n_ops(m);
    if (net->n_tensors < 2 || net->n_ops < 1) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "face detector: empty graph");
        goto fail;
    }
    net->t = toon_calloc((size_t)net->n_tensors, sizeof *net->t);
    net->ops = toon_calloc((size_t)net->n_ops, sizeof *net->ops);
    if (!net->t || !net->ops) goto oom;
    for (int i = 0; i < net->n_tensors; i++) {
        struct toon_tflite_tensor tt;
        if ((st = toon_tflite_tensor(m, i, &tt, err)) != TOON_STATUS_OK) goto fail;
        struct tensor *t = &net->t[i];
        t->last_use = -1;
        t->rank = tt.n_dims <= 4 ? tt.n_dims : 4;
        t->n = toon_tflite_tensor_n_elems(&tt);
        for (int d = 0; d < t->rank; d++) t->dims[d] = tt.dims[d];
        if (tt.n_dims > 4 || t->n == 0 || t->n > MAX_ELEMS) t->n = 0; /* unusable */
    }
    const int32_t *io;
    if (toon_tflite_graph_inputs(m, &io) != 1) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "face detector: expected one input");
        goto fail;
    }
    net->input = io[0];
    net->n_outputs = toon_tflite_graph_outputs(m, &io);
    if (net->n_outputs < 1 || net->n_outputs > 4) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "face detector: expected 1 to 4 outputs");
        goto fail;
    }
    for (int i = 0; i < net->n_outputs; i++) {
        net->outputs[i] = io[i];
        net->t[io[i]].is_output = i + 1;
    }
    const struct tensor *in = &net->t[net->input];
    if (in->rank != 4 || in->dims[0] != 1 || in->dims[3] != 3 || in->dims[1] < 8 ||
        in->dims[2] < 8 || in->dims[1] > 1024 || in->dims[2] > 1024) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "face detector: input must be [1,h,w,3]");
        goto fail;
    }
    for (int k = 0; k < net->n_ops; k++) {
        if ((st = read_op(m, net, k, err)) != TOON_STATUS_OK) goto fail;
        struct op *op = &net->ops[k];
        if (op->code == TOON_TFLITE_OP_DEQUANTIZE) continue;
        if (net->t[op->out].n == 0) {
            st = bad(err, k, "output of unknown size");
            goto fail;
        }
        for (int i = 0; i < 3; i++) {
            int t = op->in[i];
            if (t < 0) continue;
            if (!net->t[t].cdata && net->t[t].n == 0) {
                st = bad(err, k, "input of unknown size");
                goto fail;
            }
            net->t[t].last_use = k;
        }
        net->t[op->out].last_use = -1;
    }
    /* Every activation read must have been written earlier: check with a forward pass. */
    {
        unsigned char *ready = toon_calloc((size_t)net->n_tensors, 1);
        if (!ready) goto oom;
        ready[net->input] = 1;
        for (int k = 0; k < net->n_ops && st == TOON_STATUS_OK; k++) {
            const struct op *op = &net->ops[k];
            if (op->code == TOON_TFLITE_OP_DEQUANTIZE) continue;
            for (int i = 0; i < 3; i++)
                if (op->in[i] >= 0 && !net->t[op->in[i]].cdata && !ready[op->in[i]])
                    st = bad(err, k, "reads a tensor no earlier op wrote");
            if (ready[op->out] || op->out == net->input) st = bad(err, k, "rewrites a tensor");
            ready[op->out] = 1;
        }
        for (int i = 0; i < net->n_outputs && st == TOON_STATUS_OK; i++)
            if (!ready[net->outputs[i]] || net->t[net->outputs[i]].cdata)
                st = toon_err_set(err, TOON_STATUS_MODEL,
                                  "face detector: output %d is never "
                                  "written",
                                  i);
        toon_free(ready);
        if (st != TOON_STATUS_OK) goto fail;
    }
    net->bytes = sizeof *net + (size_t)net->n_tensors * sizeof *net->t +
                 (size_t)net->n_ops * sizeof *net->ops + 3 * toon_alloc_overhead();
    for (int i = 0; i < net->n_tensors; i++)
        if (net->t[i].cdata)
            net->bytes += (net->t[i].n + TOON_FNN_SLACK) * sizeof(float) + toon_alloc_overhead();
    net->run_bytes = plan_run(net);
    toon_tflite_free(m);
    *out = net;
    return TOON_STATUS_OK;
oom:
    st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
fail:
    toon_tflite_free(m);
    toon_tfnet_free(net);
    return st;
}

void toon_tfnet_input_size(const struct toon_tfnet *net, int *h, int *w, int *c)
{
    const struct tensor *t = &net->t[net->input];
    *h = t->dims[1];
    *w = t->dims[2];
    *c = t->dims[3];
}

int toon_tfnet_n_outputs(const struct toon_tfnet *net)
{
    return net->n_outputs;
}

size_t toon_tfnet_output_elems(const struct toon_tfnet *net, int i, int *last_dim)
{
    const struct tensor *t = &net->t[net->outputs[i]];
    if (last_dim) *last_dim = t->rank > 0 ? t->dims[t->rank - 1] : 1;
    return t->n;
}

size_t toon_tfnet_bytes(const struct toon_tfnet *net)
{
    return net->bytes;
}

size_t toon_tfnet_run_bytes(const struct toon_tfnet *net)
{
    return net->run_bytes;
}

static void run_op(const struct toon_tfnet *net, const struct op *op, float *const *buf)
{
    const struct tensor *x = &net->t[op->in[0]];
    const struct tensor *o = &net->t[op->out];
    const float *a = buf[op->in[0]];
    float *y = buf[op->out];
    switch (op->code) {
    case TOON_TFLITE_OP_CONV_2D:
        toon_fnn_conv(a, x->dims[1], x->dims[2], x->dims[3], net->t[op->in[1]].cdata,
                      op->in[2] >= 0 ? net->t[op->in[2]].cdata : NULL, op->kh, op->kw, o->dims[3],
                      op->stride, op->same, op->act, y);
        break;
    case TOON_TFLITE_OP_DEPTHWISE_CONV_2D:
        toon_fnn_dwconv(a, x->dims[1], x->dims[2], x->dims[3], net->t[op->in[1]].cdata,
                        op->in[2] >= 0 ? net->t[op->in[2]].cdata : NULL, op->kh, op->kw, op->stride,
                        op->same, op->act, y);
        break;
    case TOON_TFLITE_OP_ADD:
        toon_fnn_add(a, buf[op->in[1]], x->n, op->act, y);
        break;
    case TOON_TFLITE_OP_RELU:
        toon_fnn_relu(a, x->n, y);
        break;
    case TOON_TFLITE_OP_MAX_POOL_2D:
        toon_fnn_maxpool(a, x->dims[1], x->dims[2], x->dims[3], op->kh, op->kw, op->stride,
                         op->same, y);
        break;
    case TOON_TFLITE_OP_PAD: {
        memset(y, 0, o->n * sizeof(float));
        int h = x->dims[1], w = x->dims[2], c = x->dims[3];
        int ow = o->dims[2], oc = o->dims[3];
        for (int yy = 0; yy < h; yy++)
            for (int xx = 0; xx < w; xx++)
                memcpy(y + (((size_t)(yy + op->pads[1][0]) * ow + xx + op->pads[2][0]) * oc +
                            op->pads[3][0]),
                       a + ((size_t)yy * w + xx) * c, sizeof(float) * (size_t)c);
        break;
    }
    case TOON_TFLITE_OP_RESHAPE:
        memcpy(y, a, x->n * sizeof(float));
        break;
    case TOON_TFLITE_OP_CONCATENATION: {
        const struct tensor *z = &net->t[op->in[1]];
        size_t outer = 1, ia = 1, ib = 1;
        for (int i = 0; i < op->axis; i++) outer *= (size_t)x->dims[i];
        for (int i = op->axis; i < x->rank; i++) {
            ia *= (size_t)x->dims[i];
            ib *= (size_t)z->dims[i];
        }
        for (size_t i = 0; i < outer; i++) {
            memcpy(y + i * (ia + ib), a + i * ia, ia * sizeof(float));
            memcpy(y + i * (ia + ib) + ia, buf[op->in[1]] + i * ib, ib * sizeof(float));
        }
        break;
    }
    case TOON_TFLITE_OP_RESIZE_BILINEAR:
        toon_fnn_resize_bilinear(a, x->dims[1], x->dims[2], x->dims[3], o->dims[1], o->dims[2],
                                 op->align_corners, op->half_pixel, y);
        break;
    default:
        break;
    }
}

enum toon_status toon_tfnet_run(const struct toon_tfnet *net, const float *in, float *const *outs,
                                struct toon_err *err)
{
    enum toon_status st = TOON_STATUS_OK;
    float **buf = toon_calloc((size_t)net->n_tensors, sizeof *buf);
    if (!buf) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    buf[net->input] = (float *)in; /* read only: no op writes the input */
    for (int k = 0; k < net->n_ops; k++) {
        const struct op *op = &net->ops[k];
        if (op->code == TOON_TFLITE_OP_DEQUANTIZE) continue;
        buf[op->out] = toon_malloc(net->t[op->out].n * sizeof(float));
        if (!buf[op->out]) {
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
            break;
        }
        run_op(net, op, buf);
        const struct tensor *o = &net->t[op->out];
        if (o->is_output) memcpy(outs[o->is_output - 1], buf[op->out], o->n * sizeof(float));
        for (int i = 0; i < 3; i++) {
            int t = op->in[i];
            if (t >= 0 && t != net->input && !net->t[t].cdata && net->t[t].last_use == k) {
                toon_free(buf[t]);
                buf[t] = NULL;
            }
        }
        if (o->last_use < 0) {
            toon_free(buf[op->out]);
            buf[op->out] = NULL;
        }
    }
    for (int i = 0; i < net->n_tensors; i++)
        if (i != net->input) toon_free(buf[i]);
    toon_free(buf);
    return st;
}
