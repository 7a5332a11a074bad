/*
 * Recognition of the DCT-Net generator in a GraphDef (see graphdef.h), on the node table of
 * graphdef_reader.h: the generator is found by name (the 18 slim scopes) and by structure (the
 * Conv2D that consumes each kernel, the guided filter's constants, the input normalisation and
 * the uint8 output), as tflite_generator.c does for TFLite files.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "formats/graphdef.h"
#include "formats/graphdef_reader.h"

#define MAX_ANY_SHAPE_ELEMS ((size_t)1 << 18) /* per kernel with TOON_GRAPHDEF_ANY_SHAPE */

struct reader {
    const struct toon_gd_graph *g;
    unsigned flags;
    const char *what; /* "the graph" or the file's name */
    char prefix[128];
    int prefix_len;
    struct toon_graphdef_info info;
    int n_fp16, n_fp32;
};

/* If `name` is <prefix>generator/<scope>/<kind> for a layer scope, returns the layer index and
 * the prefix length; else -1. */
static int match_scope(struct toon_pb_bytes name, const char *kind, size_t *prefix_len)
{
    size_t kl = strlen(kind);
    if (name.n < kl + 1 || !toon_gd_bytes_ends_with(name, kind) || name.p[name.n - kl - 1] != '/')
        return -1;
    size_t body = name.n - kl - 1; /* length without "/<kind>" */
    static const char gen[] = "generator/";
    const size_t gl = sizeof gen - 1;
    for (size_t pos = body >= gl ? body - gl : 0;; pos--) {
        if (pos + gl <= body && memcmp(name.p + pos, gen, gl) == 0 &&
            (pos == 0 || name.p[pos - 1] == '/')) {
            char scope[64];
            size_t sl = body - pos - gl;
            if (sl == 0 || sl >= sizeof scope) return -1;
            memcpy(scope, name.p + pos + gl, sl);
            scope[sl] = '\0';
            int idx = toon_gen_layer_index(scope);
            if (idx >= 0) *prefix_len = pos;
            return idx;
        }
        if (pos == 0) return -1;
    }
}

/* Finds the import prefix of the generator; refuses graphs holding several generators. */
static enum toon_status find_prefix(struct reader *rd, int *found, struct toon_err *err)
{
    const struct toon_gd_graph *g = rd->g;
    *found = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t pl;
        struct toon_pb_bytes name = g->nodes[i].name;
        if (match_scope(name, "weights", &pl) < 0) continue;
        if (!*found) {
            if (pl >= sizeof rd->prefix) {
                char buf[160];
                return toon_err_set(err, TOON_STATUS_MODEL,
                                    "%s: import prefix of \"%s\" is too long", rd->what,
                                    toon_gd_safe(name, buf, sizeof buf));
            }
            memcpy(rd->prefix, name.p, pl);
            rd->prefix[pl] = '\0';
            rd->prefix_len = (int)pl;
            *found = 1;
        } else if (pl != (size_t)rd->prefix_len || memcmp(name.p, rd->prefix, pl) != 0) {
            char buf[160];
            return toon_err_set(err, TOON_STATUS_MODEL,
                                "%s holds more than one generator (under \"%s\" and in \"%s\")",
                                rd->what, rd->prefix, toon_gd_safe(name, buf, sizeof buf));
        }
    }
    return TOON_STATUS_OK;
}

static int has_leaf(const struct toon_gd_graph *g, const char *s)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (toon_pb_bytes_eq(toon_gd_leaf(g->nodes[i].name), s)) return 1;
    return 0;
}

/* The graph has no generator: name what it is when that is clear, conservatively. */
static enum toon_status refuse_not_generator(const struct reader *rd, struct toon_err *err)
{
    const struct toon_gd_graph *g = rd->g;
    int boxes = has_leaf(g, "boxes"), scores = has_leaf(g, "scores");
    int num_det = has_leaf(g, "num_detections");
    int prediction = has_leaf(g, "prediction");
    int flag = has_leaf(g, "training_flag") || has_leaf(g, "images");
    if (num_det && (boxes || scores))
        return toon_err_set(err, TOON_STATUS_MODEL, "%s is a face detector graph, not a generator",
                            rd->what);
    if (prediction && flag && !boxes)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s is a face landmark (keypoints) graph, not a generator", rd->what);
    return toon_err_set(err, TOON_STATUS_MODEL,
                        "not a DCT-Net generator graph: no node named .../generator/%s/weights "
                        "in %s (%d nodes)",
                        toon_gen_layout[0].scope, rd->what, g->n_nodes);
}

/* Finds the Const behind <prefix>generator/<scope>/<kind>, explaining what is wrong if none. */
static enum toon_status find_const(struct reader *rd, const char *scope, const char *kind, int *out,
                                   struct toon_err *err)
{
    char name[256];
    snprintf(name, sizeof name, "%sgenerator/%s/%s", rd->prefix, scope, kind);
    int node = toon_gd_lookup_str(rd->g, name);
    if (node < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "not a DCT-Net generator graph: no node named %s", name);
    int c = toon_gd_resolve_const(rd->g, node);
    if (c < 0) {
        char op[64];
        const struct toon_gd_node *n = &rd->g->nodes[node];
        int variable = toon_gd_op_is(n, "VariableV2") || toon_gd_op_is(n, "Variable") ||
                       toon_gd_op_is(n, "VarHandleOp");
        return toon_err_set(err, TOON_STATUS_MODEL, "%s: %s is a %s node, not a constant%s",
                            rd->what, name, toon_gd_safe(n->op, op, sizeof op),
                            variable ? " (the graph is not frozen)" : "");
    }
    *out = c;
    return TOON_STATUS_OK;
}

/* Finds the Conv2D that consumes the kernel constant, directly or through Identity/Cast. */
static int find_conv(const struct toon_gd_graph *g, int kernel)
{
    int set[TOON_GD_MAX_CHAIN + 1], n_set = 1;
    set[0] = kernel;
    for (int s = 0; s < n_set; s++) {
        for (int c = g->cons_start[set[s]]; c < g->cons_start[set[s] + 1]; c++) {
            int user = g->cons[c];
            const struct toon_gd_node *u = &g->nodes[user];
            if (toon_gd_op_is(u, "Conv2D") && toon_gd_input_of(g, user, 1) == set[s]) return user;
            if ((toon_gd_op_is(u, "Identity") || toon_gd_op_is(u, "Cast")) &&
                toon_gd_input_of(g, user, 0) == set[s] && n_set <= TOON_GD_MAX_CHAIN) {
                int seen = 0;
                for (int k = 0; k < n_set; k++) seen |= set[k] == user;
                if (!seen) set[n_set++] = user;
            }
        }
    }
    return -1;
}

/* Stride, padding and data format of the Conv2D that applies layer `i`. */
static enum toon_status read_conv_attrs(struct reader *rd, int i, int kernel, int *stride,
                                        struct toon_err *err)
{
    const struct toon_gd_graph *g = rd->g;
    const char *scope = toon_gen_layout[i].scope;
    int conv = find_conv(g, kernel);
    if (conv < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s: %sgenerator/%s/weights feeds no Conv2D node", rd->what, rd->prefix,
                            scope);
    const struct toon_gd_node *n = &g->nodes[conv];
    char cname[160];
    toon_gd_safe(n->name, cname, sizeof cname);
    int64_t v[4];
    int count, found;
    enum toon_status st = toon_gd_attr_ints(n, "strides", v, 4, &count, &found, err);
    if (st) return st;
    if (!found || count != 4 || v[0] != 1 || v[3] != 1 || v[1] != v[2] || v[1] < 1 || v[1] > 16)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s: %s has no NHWC strides [1,s,s,1] (got %d values)", rd->what, cname,
                            found ? count : 0);
    *stride = (int)v[1];
    if ((st = toon_gd_attr_ints(n, "dilations", v, 4, &count, &found, err))) return st;
    if (found && count && (count != 4 || v[0] != 1 || v[1] != 1 || v[2] != 1 || v[3] != 1))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s: %s is dilated", rd->what, cname);
    struct toon_pb_bytes s;
    char sbuf[32];
    if ((st = toon_gd_attr_s(n, "padding", &s, &found, err))) return st;
    if (!found || !toon_pb_bytes_eq(s, "SAME"))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "%s: %s uses padding \"%s\"; the generator needs SAME", rd->what, cname,
                            found ? toon_gd_safe(s, sbuf, sizeof sbuf) : "");
    if ((st = toon_gd_attr_s(n, "data_format", &s, &found, err))) return st;
    if (found && !toon_pb_bytes_eq(s, "NHWC"))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "%s: %s uses data format %s; only NHWC is supported", rd->what, cname,
                            toon_gd_safe(s, sbuf, sizeof sbuf));
    return TOON_STATUS_OK;
}

static void count_dtype(struct reader *rd, int dtype)
{
    if (dtype == TOON_TF_DT_HALF)
        rd->n_fp16++;
    else
        rd->n_fp32++;
}

/* Reads layer i: the HWIO kernel into OHWI, the bias, the stride. */
static enum toon_status read_layer(struct reader *rd, int i, struct toon_gen_conv *conv,
                                   struct toon_err *err)
{
    const struct toon_gen_layer_desc *d = &toon_gen_layout[i];
    int any = (rd->flags & TOON_GRAPHDEF_ANY_SHAPE) != 0;
    int kn, bn;
    enum toon_status st;
    if ((st = find_const(rd, d->scope, "weights", &kn, err))) return st;
    if ((st = find_const(rd, d->scope, "biases", &bn, err))) return st;

    char who[200];
    snprintf(who, sizeof who, "%s: %sgenerator/%s/weights", rd->what, rd->prefix, d->scope);
    struct toon_gd_tensor kt, bt;
    if ((st = toon_gd_const_tensor(rd->g, kn, &kt, who, err))) return st;
    if (kt.dtype != TOON_TF_DT_FLOAT && kt.dtype != TOON_TF_DT_HALF)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s is %s, expected float32 or float16",
                            who, toon_gd_dtype_name(kt.dtype));
    if (kt.rank != 4 || kt.dims[0] != kt.dims[1] || kt.dims[0] < 1 || kt.dims[2] < 1 ||
        kt.dims[3] < 1)
        return toon_err_set(err, TOON_STATUS_MODEL, "%s is not a square HWIO kernel", who);
    int k = (int)kt.dims[0], cin = (int)kt.dims[2], cout = (int)kt.dims[3];
    if (any ? kt.n_elems > MAX_ANY_SHAPE_ELEMS : (k != d->k || cin != d->cin || cout != d->cout))
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s has shape [%d,%d,%d,%d], expected [%d,%d,%d,%d]", who, k, k, cin,
                            cout, d->k, d->k, d->cin, d->cout);
    count_dtype(rd, kt.dtype);

    snprintf(who, sizeof who, "%s: %sgenerator/%s/biases", rd->what, rd->prefix, d->scope);
    if ((st = toon_gd_const_tensor(rd->g, bn, &bt, who, err))) return st;
    if (bt.dtype != TOON_TF_DT_FLOAT && bt.dtype != TOON_TF_DT_HALF)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s is %s, expected float32 or float16",
                            who, toon_gd_dtype_name(bt.dtype));
    if (bt.rank != 1 || bt.dims[0] != cout)
        return toon_err_set(err, TOON_STATUS_MODEL, "%s does not hold %d values", who, cout);

    int stride = 0;
    if ((st = read_conv_attrs(rd, i, kn, &stride, err))) return st;

    float *hwio = toon_malloc(kt.n_elems * sizeof *hwio); /* [k][k][cin][cout] */
    conv->w = toon_malloc(kt.n_elems * sizeof *conv->w);  /* [cout][k][k][cin] */
    conv->b = toon_malloc((size_t)cout * sizeof *conv->b);
    if (!hwio || !conv->w || !conv->b) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading %s", who);
        goto fail;
    }
    if ((st = toon_gd_tensor_read_f32(&kt, hwio, err)) ||
        (st = toon_gd_tensor_read_f32(&bt, conv->b, err)))
        goto fail;
    for (int y = 0; y < k; y++)
        for (int x = 0; x < k; x++)
            for (int ci = 0; ci < cin; ci++)
                for (int co = 0; co < cout; co++)
                    conv->w[(((size_t)co * k + y) * k + x) * cin + ci] =
                        hwio[(((size_t)y * k + x) * cin + ci) * cout + co];
    conv->k = k;
    conv->cin = cin;
    conv->cout = cout;
    conv->stride = stride;
    st = TOON_STATUS_OK;
fail:
    toon_free(hwio);
    return st;
}

/* The guided filter's epsilon: a scalar constant added to the variance (a Sub).  Candidates
 * whose sum is the divisor of a RealDiv/Div (A = cov / (var + eps)) are preferred. */
static void find_eps(struct reader *rd, float *eps)
{
    const struct toon_gd_graph *g = rd->g;
    int best_strict = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct toon_gd_node *n = &g->nodes[i];
        if (!(toon_gd_op_is(n, "Add") || toon_gd_op_is(n, "AddV2")) || n->n_inputs != 2) continue;
        for (int side = 0; side < 2; side++) {
            float v;
            int other = toon_gd_skip_identity(g, toon_gd_input_of(g, i, 1 - side));
            if (other < 0 || !toon_gd_op_is(&g->nodes[other], "Sub")) continue;
            if (!toon_gd_const_scalar(g, toon_gd_input_of(g, i, side), &v)) continue;
            int strict = 0;
            for (int c = g->cons_start[i]; c < g->cons_start[i + 1]; c++) {
                const struct toon_gd_node *u = &g->nodes[g->cons[c]];
                if ((toon_gd_op_is(u, "RealDiv") || toon_gd_op_is(u, "Div")) &&
                    toon_gd_input_of(g, g->cons[c], 1) == i)
                    strict = 1;
            }
            if (!rd->info.eps_found || (strict && !best_strict)) {
                *eps = v;
                rd->info.eps_found = 1;
                best_strict = strict;
            } else if (strict == best_strict && v != *eps) {
                toon_log(TOON_LOG_WARN, "%s: several guided-filter epsilons (%g, %g); using %g",
                         rd->what, (double)*eps, (double)v, (double)*eps);
            }
        }
    }
}

/* The box filter's kernel value, from the DepthwiseConv2dNative constants (all uniform). */
static enum toon_status find_box(struct reader *rd, float *weight, int *radius,
                                 struct toon_err *err)
{
    const struct toon_gd_graph *g = rd->g;
    int last_const = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct toon_gd_node *n = &g->nodes[i];
        if (!toon_gd_op_is(n, "DepthwiseConv2dNative")) continue;
        char who[200], nb[160];
        snprintf(who, sizeof who, "%s: %s", rd->what, toon_gd_safe(n->name, nb, sizeof nb));
        int c = toon_gd_resolve_const(g, toon_gd_input_of(g, i, 1));
        if (c < 0 || c == last_const) continue;
        last_const = c;
        struct toon_gd_tensor t;
        enum toon_status st = toon_gd_const_tensor(g, c, &t, who, err);
        if (st) return st;
        /* A box kernel is [2r+1][2r+1][channels][1] with one value everywhere. */
        if (t.rank != 4 || t.dims[0] != 3 || t.dims[1] != 3 || t.dims[3] != 1 || t.dims[2] < 1 ||
            t.dims[2] > 64)
            return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                                "%s: the guided filter's box kernel is not [3,3,C<=64,1]", who);
        float *v = toon_malloc(t.n_elems * sizeof *v);
        if (!v) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        st = toon_gd_tensor_read_f32(&t, v, err);
        int uniform = 1;
        for (size_t k = 1; !st && k < t.n_elems; k++) uniform &= memcmp(&v[k], &v[0], 4) == 0;
        float v0 = v[0];
        toon_free(v);
        if (st) return st;
        if (!uniform)
            return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                                "%s is not a box filter (its kernel is not uniform)", who);
        if (!rd->info.box_found) {
            *weight = v0;
            *radius = 1;
            rd->info.box_found = 1;
        } else if (v0 != *weight) {
            toon_log(TOON_LOG_WARN, "%s: box kernels differ (%.9g, %.9g); using %.9g", rd->what,
                     (double)*weight, (double)v0, (double)*weight);
        }
    }
    return TOON_STATUS_OK;
}

/* Equal within float32 rounding of a constant written as a Python float. */
static int near(float a, float b)
{
    return fabsf(a - b) <= 1e-6f * fabsf(b) + 1e-9f;
}

/* If node i computes x*s + o with constants (x/127.5 as RealDiv/Div or Mul by 1/127.5; -1 as Sub
 * or Add), returns which of the two steps it is: 1 scale, 2 offset, 0 neither. */
static int norm_step(const struct toon_gd_graph *g, int i)
{
    const struct toon_gd_node *n = &g->nodes[i];
    float v;
    if ((toon_gd_op_is(n, "RealDiv") || toon_gd_op_is(n, "Div")) &&
        toon_gd_const_scalar(g, toon_gd_input_of(g, i, 1), &v) && near(v, 127.5f))
        return 1;
    if (toon_gd_op_is(n, "Mul") &&
        ((toon_gd_const_scalar(g, toon_gd_input_of(g, i, 1), &v) && near(v, 1 / 127.5f)) ||
         (toon_gd_const_scalar(g, toon_gd_input_of(g, i, 0), &v) && near(v, 1 / 127.5f))))
        return 1;
    if (toon_gd_op_is(n, "Sub") && toon_gd_const_scalar(g, toon_gd_input_of(g, i, 1), &v) &&
        near(v, 1.0f))
        return 2;
    if ((toon_gd_op_is(n, "Add") || toon_gd_op_is(n, "AddV2")) &&
        ((toon_gd_const_scalar(g, toon_gd_input_of(g, i, 1), &v) && near(v, -1.0f)) ||
         (toon_gd_const_scalar(g, toon_gd_input_of(g, i, 0), &v) && near(v, -1.0f))))
        return 2;
    return 0;
}

/* The input placeholder and the x/127.5 - 1 between it and the first convolution. */
static void find_input(struct reader *rd, int conv0)
{
    const struct toon_gd_graph *g = rd->g;
    int ph = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct toon_gd_node *n = &g->nodes[i];
        if (!toon_gd_op_is(n, "Placeholder")) continue;
        int dt, found;
        if (toon_gd_attr_type(n, "dtype", &dt, &found, NULL) || (found && dt != TOON_TF_DT_FLOAT))
            continue;
        if (ph < 0 || toon_pb_bytes_eq(toon_gd_leaf(n->name), "input_image")) ph = i;
    }
    if (ph < 0) return;
    toon_gd_safe(g->nodes[ph].name, rd->info.input_name, sizeof rd->info.input_name);

    /* Breadth-first from the placeholder, a few ops deep, the scale then the offset. */
    int queue[64], depth[64], n_q = 1, state = 0;
    queue[0] = ph;
    depth[0] = 0;
    for (int q = 0; q < n_q; q++) {
        int i = queue[q];
        if (i == conv0) {
            rd->info.input_normalised = state == 2;
            return;
        }
        int step = norm_step(g, i);
        if (step == state + 1) state = step;
        if (depth[q] >= 8) continue;
        /* A node read by thousands of others is not on the input path: look at a few. */
        int end = g->cons_start[i + 1] - g->cons_start[i] > 64 ? g->cons_start[i] + 64
                                                               : g->cons_start[i + 1];
        for (int c = g->cons_start[i]; c < end && n_q < 64; c++) {
            int seen = 0;
            for (int k = 0; k < n_q; k++) seen |= queue[k] == g->cons[c];
            if (seen) continue;
            queue[n_q] = g->cons[c];
            depth[n_q++] = depth[q] + 1;
        }
    }
}

/* The output node and the Cast to uint8 before it. */
static void find_output(struct reader *rd)
{
    const struct toon_gd_graph *g = rd->g;
    char name[160];
    snprintf(name, sizeof name, "%soutput_image", rd->prefix);
    int out = toon_gd_lookup_str(g, name);
    for (int i = 0; out < 0 && i < g->n_nodes; i++)
        if (toon_pb_bytes_eq(toon_gd_leaf(g->nodes[i].name), "output_image")) out = i;
    if (out < 0) return;
    toon_gd_safe(g->nodes[out].name, rd->info.output_name, sizeof rd->info.output_name);
    for (int hop = 0, i = out; i >= 0 && hop < 8; hop++, i = toon_gd_input_of(g, i, 0)) {
        int dt, found;
        if (toon_gd_op_is(&g->nodes[i], "Cast") &&
            !toon_gd_attr_type(&g->nodes[i], "DstT", &dt, &found, NULL) && found &&
            dt == TOON_TF_DT_UINT8) {
            rd->info.output_u8 = 1;
            return;
        }
    }
}

static enum toon_status recognise(struct reader *rd, struct toon_gen_weights *out,
                                  struct toon_err *err)
{
    int found;
    enum toon_status st = find_prefix(rd, &found, err);
    if (st) return st;
    if (!found) return refuse_not_generator(rd, err);
    snprintf(rd->info.prefix, sizeof rd->info.prefix, "%s", rd->prefix);

    for (int i = 0; i < TOON_GEN_N_CONV; i++)
        if ((st = read_layer(rd, i, &out->conv[i], err))) return st;

    out->gf_eps = 1e-2f;
    out->gf_box_weight = 1.0f / 9.0f;
    out->gf_radius = 1;
    find_eps(rd, &out->gf_eps);
    if ((st = find_box(rd, &out->gf_box_weight, &out->gf_radius, err))) return st;
    if (!rd->info.eps_found)
        toon_log(TOON_LOG_INFO,
                 "%s: no guided-filter epsilon found in the graph; using the exporter's default "
                 "1e-2",
                 rd->what);
    if (!rd->info.box_found)
        toon_log(TOON_LOG_WARN,
                 "%s: no guided-filter box kernel (DepthwiseConv2dNative) found; assuming 1/9",
                 rd->what);

    char conv0[256];
    snprintf(conv0, sizeof conv0, "%sgenerator/%s/weights", rd->prefix, toon_gen_layout[0].scope);
    find_input(rd,
               find_conv(rd->g, toon_gd_resolve_const(rd->g, toon_gd_lookup_str(rd->g, conv0))));
    find_output(rd);
    if (!rd->info.input_normalised)
        toon_log(TOON_LOG_INFO,
                 "%s: no x/127.5 - 1 normalisation found between the input and the generator",
                 rd->what);
    if (!rd->info.output_u8)
        toon_log(TOON_LOG_INFO, "%s: no Cast to uint8 found at output_image", rd->what);

    snprintf(out->format, sizeof out->format, "graphdef");
    snprintf(out->weight_type, sizeof out->weight_type, "%s",
             rd->n_fp16 && rd->n_fp32 ? "mixed"
             : rd->n_fp16             ? "fp16"
                                      : "fp32");
    if (rd->flags & TOON_GRAPHDEF_ANY_SHAPE) return TOON_STATUS_OK;
    return toon_gen_weights_check(out, err);
}

enum toon_status toon_graphdef_read_generator_ex(const uint8_t *data, size_t len, unsigned flags,
                                                 const char *what, struct toon_gen_weights *out,
                                                 struct toon_graphdef_info *info,
                                                 struct toon_err *err)
{
    struct toon_gd_graph g;
    struct reader rd;
    memset(&rd, 0, sizeof rd);
    memset(out, 0, sizeof *out);
    rd.g = &g;
    rd.flags = flags;
    rd.what = what && *what ? what : "the graph";
    enum toon_status st;
    memset(&g, 0, sizeof g);
    if (!data || len == 0) {
        st = toon_err_set(err, TOON_STATUS_MODEL, "%s is empty", rd.what);
        goto fail;
    }
    if (len >= 8 && memcmp(data + 4, "TFL3", 4) == 0) {
        st = toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                          "%s is a TFLite model, not a TensorFlow GraphDef", rd.what);
        goto fail;
    }
    if ((st = toon_gd_graph_parse(data, len, &g, err))) {
        if (err) {
            char msg[sizeof err->msg];
            memcpy(msg, err->msg, sizeof msg);
            toon_err_set(err, st, "%s: %s", rd.what, msg);
        }
        goto fail;
    }
    rd.info.n_nodes = g.n_nodes;
    if ((st = recognise(&rd, out, err))) goto fail;
    if (info) *info = rd.info;
    toon_gd_graph_free(&g);
    return TOON_STATUS_OK;
fail:
    if (info) {
        memset(info, 0, sizeof *info);
        info->n_nodes = g.n_nodes;
    }
    toon_gd_graph_free(&g);
    toon_gen_weights_free(out);
    return st;
}

enum toon_status toon_graphdef_read_generator(const uint8_t *data, size_t len,
                                              struct toon_gen_weights *out, struct toon_err *err)
{
    return toon_graphdef_read_generator_ex(data, len, 0, NULL, out, NULL, err);
}

enum toon_status toon_graphdef_read_generator_file(const char *path, struct toon_gen_weights *out,
                                                   struct toon_graphdef_info *info,
                                                   struct toon_err *err)
{
    memset(out, 0, sizeof *out);
    const char *base = strrchr(path, '/');
    base = base && base[1] ? base + 1 : path;
    FILE *f = fopen(path, "rb");
    if (!f)
        return toon_err_set(err, errno == ENOENT ? TOON_STATUS_NOT_FOUND : TOON_STATUS_IO,
                            "cannot open %s: %s", path, strerror(errno));
    uint8_t *data = NULL;
    enum toon_status st;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) {
        st = toon_err_set(err, TOON_STATUS_IO, "cannot read %s", path);
        goto fail;
    }
    if ((unsigned long)n > (1ul << 31)) {
        st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "%s is %ld bytes: too large for a model",
                          path, n);
        goto fail;
    }
    data = toon_malloc(n ? (size_t)n : 1);
    if (!data) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading %s", path);
        goto fail;
    }
    if (fread(data, 1, (size_t)n, f) != (size_t)n) {
        st = toon_err_set(err, TOON_STATUS_IO, "cannot read %s", path);
        goto fail;
    }
    st = toon_graphdef_read_generator_ex(data, (size_t)n, 0, base, out, info, err);
fail:
    fclose(f);
    toon_free(data);
    return st;
}
