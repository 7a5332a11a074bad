/*
 * Extraction of the DCT-Net / White-box generator from a TFLite file (see tflite.h and
 * spec/MODELS.md "The White-box generator TFLite").
 *
 * The converter renames and fuses tensors freely, so nothing is found by position: each
 * CONV_2D is identified by its kernel constant's name (`generator/<scope>/Conv2D`, reached
 * through a DEQUANTIZE in the fp16 file) and confirmed by its bias name, which contains
 * `generator/<scope>/biases`.  The guided filter's parameters come from the graph too: eps is
 * the one-element constant that an ADD adds (to the variance), and the box weight is the value
 * every depthwise kernel holds.  Weights of any storage (fp32, fp16, int8 per channel, int32
 * bias with its own scales) are dequantised to fp32 by toon_tflite_tensor_to_f32.  The network
 * code gets a struct toon_gen_weights and never sees the file.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/tflite.h"

#define N_DEPTHWISE      7
#define N_RESIZE         2
#define LEAKY_RELU_ALPHA 0.2f

#define NOT_GEN "not a DCT-Net generator: "

/* Bounds on the work a hostile file can cause: no generator name is longer than this, and
 * graphs with many more convolutions than 18 are rejected before any name is compared. */
#define MAX_NAME_BYTES 1024
#define MAX_CONV_OPS   (4 * TOON_GEN_N_CONV)

/* Does one ';'-separated part of name end in "generator/<scope>/<leaf>", the "generator"
 * starting the part or following a '/' (an import prefix such as "model_bg/")? */
static int name_has(const char *name, const char *scope, const char *leaf)
{
    char pat[128];
    int n_pat = snprintf(pat, sizeof pat, "generator/%s/%s", scope, leaf);
    if (n_pat <= 0 || (size_t)n_pat >= sizeof pat) return 0;
    const char *part = name;
    for (;;) {
        const char *end = strchr(part, ';');
        size_t n = end ? (size_t)(end - part) : strlen(part);
        if (n >= (size_t)n_pat) {
            const char *at = part + n - n_pat;
            if (memcmp(at, pat, (size_t)n_pat) == 0 && (at == part || at[-1] == '/')) return 1;
        }
        if (!end) return 0;
        part = end + 1;
    }
}

static const char *weight_type_name(int type)
{
    switch (type) {
    case TOON_TFLITE_FLOAT32:
        return "fp32";
    case TOON_TFLITE_FLOAT16:
        return "fp16";
    case TOON_TFLITE_INT8:
        return "int8";
    case TOON_TFLITE_UINT8:
        return "uint8";
    case TOON_TFLITE_INT16:
        return "int16";
    default:
        return "other";
    }
}

/* Dequantises tensor t into a new array of prod(dims) floats that must all be finite. */
static enum toon_status read_floats(const struct toon_tflite_tensor *t, const char *what,
                                    float **out, struct toon_err *err)
{
    size_t n = toon_tflite_tensor_n_elems(t), n_bytes;
    enum toon_status st;
    *out = NULL;
    if (!toon_size_mul(n ? n : 1, sizeof(float), &n_bytes))
        return toon_err_set(err, TOON_STATUS_CORRUPT, "%s is too large", what);
    float *v = toon_malloc(n_bytes);
    if (!v) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading %s", what);
    if ((st = toon_tflite_tensor_to_f32(t, v, err)) != TOON_STATUS_OK) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err ? err->msg : "");
        toon_free(v);
        return toon_err_set(err, st, "%s: %s", what, msg);
    }
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i])) {
            toon_free(v);
            return toon_err_set(err, TOON_STATUS_MODEL, "%s holds a non-finite value", what);
        }
    }
    *out = v;
    return TOON_STATUS_OK;
}

/* The constant tensor behind input `slot` of op (through a DEQUANTIZE), or -1. */
static int const_input(const struct toon_tflite *m, const struct toon_tflite_op *op, int slot)
{
    if (slot >= op->n_inputs) return -1;
    return toon_tflite_const_source(m, op->inputs[slot]);
}

/* Reads one identified convolution (layer li of toon_gen_layout) from operator op_index. */
static enum toon_status read_conv(const struct toon_tflite *m, int op_index, int li, int ki, int bi,
                                  struct toon_gen_conv *c, int *kernel_type, struct toon_err *err)
{
    const char *scope = toon_gen_layout[li].scope;
    struct toon_tflite_tensor k, b;
    char what[96];
    enum toon_status st;

    if (toon_tflite_tensor(m, ki, &k, err) != TOON_STATUS_OK ||
        toon_tflite_tensor(m, bi, &b, err) != TOON_STATUS_OK)
        return TOON_STATUS_INTERNAL; /* ki and bi come from toon_tflite_const_source */
    if (!name_has(b.name, scope, "biases"))
        return toon_err_set(err, TOON_STATUS_MODEL,
                            NOT_GEN "the bias of generator/%s is named '%.100s', expected "
                                    "generator/%s/biases",
                            scope, b.name, scope);

    /* TF SAME padding, square stride, no fused activation (the leaky ReLU is its own op). */
    int sw = toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_STRIDE_W, 1);
    int sh = toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_STRIDE_H, 1);
    struct toon_tflite_op op;
    toon_tflite_op(m, op_index, &op, NULL);
    if (op.options_type != TOON_TFLITE_OPTIONS_CONV_2D)
        return toon_err_set(err, TOON_STATUS_MODEL, "generator/%s has no convolution options",
                            scope);
    if (toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_PADDING, 0) != 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "generator/%s uses VALID padding, expected SAME", scope);
    if (sw != sh || sw < 1 || sw > 2)
        return toon_err_set(err, TOON_STATUS_MODEL, "generator/%s has stride %dx%d", scope, sw, sh);
    if (toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_ACTIVATION, 0) != 0 ||
        toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_DILATION_W, 1) != 1 ||
        toon_tflite_op_option_int(m, op_index, TOON_TFLITE_CONV_DILATION_H, 1) != 1)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "generator/%s has a fused activation or dilation", scope);

    /* Kernel OHWI [cout][k][k][cin], bias [cout]. */
    if (k.n_dims != 4 || k.dims[1] != k.dims[2] || k.dims[0] < 1 || k.dims[1] < 1 || k.dims[3] < 1)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "generator/%s kernel has an unexpected shape (%d dimensions)", scope,
                            k.n_dims);
    if (b.n_dims != 1 || b.dims[0] != k.dims[0])
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "generator/%s bias does not match its %d output channels", scope,
                            k.dims[0]);
    c->cout = k.dims[0];
    c->k = k.dims[1];
    c->cin = k.dims[3];
    c->stride = sw;
    snprintf(what, sizeof what, "generator/%s kernel", scope);
    if ((st = read_floats(&k, what, &c->w, err)) != TOON_STATUS_OK) return st;
    snprintf(what, sizeof what, "generator/%s bias", scope);
    if ((st = read_floats(&b, what, &c->b, err)) != TOON_STATUS_OK) return st;
    *kernel_type = k.type;
    return TOON_STATUS_OK;
}

/* Finds the 18 convolutions by name and reads them into gw. */
static enum toon_status read_convs(const struct toon_tflite *m, struct toon_gen_weights *gw,
                                   struct toon_err *err)
{
    int n_conv = 0, type0 = -1, mixed = 0;
    enum toon_status st;

    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        toon_tflite_op(m, i, &op, NULL);
        n_conv += op.builtin_code == TOON_TFLITE_OP_CONV_2D;
    }
    if (n_conv > MAX_CONV_OPS)
        return toon_err_set(err, TOON_STATUS_MODEL, NOT_GEN "%d CONV_2D operators, expected %d",
                            n_conv, TOON_GEN_N_CONV);

    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        struct toon_tflite_tensor k;
        toon_tflite_op(m, i, &op, NULL);
        if (op.builtin_code != TOON_TFLITE_OP_CONV_2D) continue;
        int ki = const_input(m, &op, 1), bi = const_input(m, &op, 2);
        if (ki < 0) continue; /* a convolution with computed weights: not one of ours */
        toon_tflite_tensor(m, ki, &k, NULL);
        if (strlen(k.name) > MAX_NAME_BYTES || !strstr(k.name, "generator/")) continue;

        /* The kernel name may list several scopes when tensors were fused; the bias decides. */
        int li = -1, n_cand = 0;
        for (int l = 0; l < TOON_GEN_N_CONV; l++) {
            if (!name_has(k.name, toon_gen_layout[l].scope, "Conv2D")) continue;
            struct toon_tflite_tensor b;
            int bias_ok = bi >= 0 && toon_tflite_tensor(m, bi, &b, NULL) == TOON_STATUS_OK &&
                          name_has(b.name, toon_gen_layout[l].scope, "biases");
            if (li < 0 || bias_ok) li = l;
            n_cand += bias_ok;
        }
        if (li < 0) continue;
        if (n_cand > 1)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN "convolution %d has an ambiguous kernel name '%.100s'", i,
                                k.name);
        if (bi < 0)
            return toon_err_set(err, TOON_STATUS_MODEL, NOT_GEN "generator/%s has no constant bias",
                                toon_gen_layout[li].scope);
        if (gw->conv[li].w)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN "two convolutions named generator/%s",
                                toon_gen_layout[li].scope);
        int type = -1;
        if ((st = read_conv(m, i, li, ki, bi, &gw->conv[li], &type, err)) != TOON_STATUS_OK)
            return st;
        if (type0 < 0) type0 = type;
        mixed |= type != type0;
    }
    for (int l = 0; l < TOON_GEN_N_CONV; l++)
        if (!gw->conv[l].w)
            return toon_err_set(err, TOON_STATUS_MODEL, NOT_GEN "no convolution named generator/%s",
                                toon_gen_layout[l].scope);
    if (n_conv != TOON_GEN_N_CONV)
        return toon_err_set(err, TOON_STATUS_MODEL, NOT_GEN "%d CONV_2D operators, expected %d",
                            n_conv, TOON_GEN_N_CONV);
    snprintf(gw->weight_type, sizeof gw->weight_type, "%s",
             mixed ? "mixed" : weight_type_name(type0));
    return TOON_STATUS_OK;
}

/* The depthwise box filters: all kernels [1][k][k][C] hold one value, about 1/k^2. */
static enum toon_status read_box_filter(const struct toon_tflite *m, struct toon_gen_weights *gw,
                                        struct toon_err *err)
{
    int n_dw = 0, k0 = 0;
    float w0 = 0;
    enum toon_status st;

    /* Counted first, so a file cannot make us dequantise one shared kernel a million times. */
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        toon_tflite_op(m, i, &op, NULL);
        n_dw += op.builtin_code == TOON_TFLITE_OP_DEPTHWISE_CONV_2D;
    }
    if (n_dw != N_DEPTHWISE)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            NOT_GEN "%d DEPTHWISE_CONV_2D operators, expected %d", n_dw,
                            N_DEPTHWISE);

    n_dw = 0;
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        struct toon_tflite_tensor k;
        toon_tflite_op(m, i, &op, NULL);
        if (op.builtin_code != TOON_TFLITE_OP_DEPTHWISE_CONV_2D) continue;
        n_dw++;
        int ki = const_input(m, &op, 1);
        if (ki < 0)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN "depthwise convolution %d has no constant kernel", i);
        toon_tflite_tensor(m, ki, &k, NULL);
        if (k.n_dims != 4 || k.dims[0] != 1 || k.dims[1] != k.dims[2] || k.dims[1] % 2 != 1)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN "depthwise kernel '%.100s' is not an odd square box",
                                k.name);
        if (op.options_type != TOON_TFLITE_OPTIONS_DEPTHWISE_CONV_2D ||
            toon_tflite_op_option_int(m, i, TOON_TFLITE_DW_PADDING, 0) != 0 ||
            toon_tflite_op_option_int(m, i, TOON_TFLITE_DW_STRIDE_W, 1) != 1 ||
            toon_tflite_op_option_int(m, i, TOON_TFLITE_DW_STRIDE_H, 1) != 1)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN "depthwise convolution %d is not a stride-1 SAME box "
                                        "filter",
                                i);
        float *v;
        if ((st = read_floats(&k, "a guided-filter box kernel", &v, err)) != TOON_STATUS_OK)
            return st;
        size_t n = toon_tflite_tensor_n_elems(&k);
        if (n_dw == 1) {
            k0 = k.dims[1];
            w0 = n ? v[0] : 0;
        }
        int same = k.dims[1] == k0;
        for (size_t j = 0; j < n; j++) same &= fabsf(v[j] - w0) <= 1e-6f * fabsf(w0);
        toon_free(v);
        if (!same || n == 0)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                NOT_GEN
                                "depthwise kernel '%.100s' is not a uniform box of the same "
                                "size as the others",
                                k.name);
    }
    /* A mean filter: k*k*w is 1 up to the storage's rounding (fp16(1/9)*9 = 0.99976). */
    if (!(fabsf(w0 * (float)(k0 * k0) - 1.0f) < 0.01f))
        return toon_err_set(err, TOON_STATUS_MODEL, NOT_GEN "box kernel value %g is not about 1/%d",
                            (double)w0, k0 * k0);
    gw->gf_box_weight = w0;
    gw->gf_radius = (k0 - 1) / 2;
    return TOON_STATUS_OK;
}

/* The guided filter's eps: the one ADD whose operand is a one-element constant. */
static enum toon_status read_eps(const struct toon_tflite *m, struct toon_gen_weights *gw,
                                 struct toon_err *err)
{
    int n_found = 0, eps_tensor = -1;
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        toon_tflite_op(m, i, &op, NULL);
        if (op.builtin_code != TOON_TFLITE_OP_ADD) continue;
        for (int s = 0; s < op.n_inputs && s < 2; s++) {
            struct toon_tflite_tensor t;
            int ci = const_input(m, &op, s);
            if (ci < 0) continue;
            toon_tflite_tensor(m, ci, &t, NULL);
            if (toon_tflite_tensor_n_elems(&t) != 1) continue;
            n_found++;
            eps_tensor = ci;
        }
    }
    if (n_found != 1)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            NOT_GEN "%d additions of a scalar constant, expected 1 (the guided "
                                    "filter's eps)",
                            n_found);
    struct toon_tflite_tensor t;
    float *v;
    enum toon_status st;
    toon_tflite_tensor(m, eps_tensor, &t, NULL);
    if ((st = read_floats(&t, "the guided filter's eps", &v, err)) != TOON_STATUS_OK) return st;
    gw->gf_eps = v[0];
    toon_free(v);
    return TOON_STATUS_OK;
}

/* The other operators the executor reimplements must behave as it assumes. */
static enum toon_status check_ops(const struct toon_tflite *m, struct toon_err *err)
{
    int n_resize = 0;
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        toon_tflite_op(m, i, &op, NULL);
        if (op.builtin_code == TOON_TFLITE_OP_RESIZE_BILINEAR) {
            n_resize++;
            if (toon_tflite_op_option_int(m, i, TOON_TFLITE_RESIZE_ALIGN_CORNERS, 0) != 0 ||
                toon_tflite_op_option_int(m, i, TOON_TFLITE_RESIZE_HALF_PIXEL_CENTERS, 0) != 0)
                return toon_err_set(err, TOON_STATUS_MODEL,
                                    NOT_GEN "RESIZE_BILINEAR %d uses align_corners or "
                                            "half_pixel_centers (the generator uses neither)",
                                    i);
        } else if (op.builtin_code == TOON_TFLITE_OP_LEAKY_RELU) {
            float a = toon_tflite_op_option_float(m, i, TOON_TFLITE_LEAKY_RELU_ALPHA, 0.0f);
            if (op.options_type != TOON_TFLITE_OPTIONS_LEAKY_RELU ||
                !(fabsf(a - LEAKY_RELU_ALPHA) < 1e-6f))
                return toon_err_set(err, TOON_STATUS_MODEL,
                                    NOT_GEN "LEAKY_RELU %d has slope %g, expected 0.2", i,
                                    (double)a);
        }
    }
    if (n_resize != N_RESIZE)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            NOT_GEN "%d RESIZE_BILINEAR operators, expected %d", n_resize,
                            N_RESIZE);
    return TOON_STATUS_OK;
}

enum toon_status toon_tflite_read_generator(const uint8_t *data, size_t len,
                                            struct toon_gen_weights *out, struct toon_err *err)
{
    struct toon_tflite *m = NULL;
    struct toon_gen_weights gw;
    enum toon_status st;

    memset(&gw, 0, sizeof gw);
    if ((st = toon_tflite_open(data, len, &m, err)) != TOON_STATUS_OK) goto fail;
    if ((st = read_convs(m, &gw, err)) != TOON_STATUS_OK) goto fail;
    if ((st = check_ops(m, err)) != TOON_STATUS_OK) goto fail;
    if ((st = read_box_filter(m, &gw, err)) != TOON_STATUS_OK) goto fail;
    if ((st = read_eps(m, &gw, err)) != TOON_STATUS_OK) goto fail;
    snprintf(gw.format, sizeof gw.format, "tflite");
    if ((st = toon_gen_weights_check(&gw, err)) != TOON_STATUS_OK) goto fail;
    toon_tflite_free(m);
    *out = gw;
    return TOON_STATUS_OK;

fail:
    toon_gen_weights_free(&gw);
    toon_tflite_free(m);
    return st;
}
