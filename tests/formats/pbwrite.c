/*
 * The test-only protobuf / GraphDef writer (see pbwrite.h).  The generator graph follows the
 * ModelScope DCT-Net exporter: `input_image` placeholder, x/127.5 - 1, the slim generator with
 * weights/read Identity nodes, the guided filter of White-box Cartoonization (depthwise 3x3 box
 * filters, eps added to the variance), clip, (y + 1) * 127.5 and a Cast to uint8.
 */
#include "pbwrite.h"

#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

enum { DT_FLOAT = 1, DT_INT32 = 3, DT_UINT8 = 4, DT_BOOL = 10, DT_HALF = 19 };

/* ---- buffers and wire format ------------------------------------------------------------------
 */

void pbw_buf_free(struct pbw_buf *b)
{
    toon_free(b->data);
    memset(b, 0, sizeof *b);
}

static void put(struct pbw_buf *b, const void *p, size_t n)
{
    if (b->oom || n == 0) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n) cap *= 2;
        uint8_t *q = toon_realloc(b->data, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->data = q;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void pbw_varint(struct pbw_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    int n = 0;
    do {
        tmp[n] = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v) tmp[n] |= 0x80;
        n++;
    } while (v);
    put(b, tmp, (size_t)n);
}

void pbw_tag(struct pbw_buf *b, uint32_t num, int wire)
{
    pbw_varint(b, (uint64_t)num << 3 | (unsigned)wire);
}

void pbw_field_varint(struct pbw_buf *b, uint32_t num, uint64_t v)
{
    pbw_tag(b, num, 0);
    pbw_varint(b, v);
}

static void put_u32(struct pbw_buf *b, uint32_t v)
{
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, t, 4);
}

static uint32_t f32_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    return u;
}

void pbw_field_f32(struct pbw_buf *b, uint32_t num, float v)
{
    pbw_tag(b, num, 5);
    put_u32(b, f32_bits(v));
}

void pbw_field_bytes(struct pbw_buf *b, uint32_t num, const void *p, size_t n)
{
    pbw_tag(b, num, 2);
    pbw_varint(b, n);
    put(b, p, n);
}

void pbw_field_str(struct pbw_buf *b, uint32_t num, const char *s)
{
    pbw_field_bytes(b, num, s, strlen(s));
}

void pbw_field_msg(struct pbw_buf *b, uint32_t num, const struct pbw_buf *msg)
{
    if (msg->oom) b->oom = 1;
    pbw_field_bytes(b, num, msg->data, msg->len);
}

uint16_t pbw_float_to_half(float v)
{
    uint32_t x = f32_bits(v);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    int e = (int)((x >> 23) & 0xff);
    uint32_t m = x & 0x7fffff;
    if (e == 255) return (uint16_t)(sign | 0x7c00 | (m ? 0x200 : 0));
    int he = e - 127 + 15;
    if (he >= 31) return (uint16_t)(sign | 0x7c00);
    if (he <= 0) {
        /* Subnormal or zero: shift the full significand, round to nearest even. */
        if (he < -10) return sign;
        uint32_t full = m | 0x800000;
        int shift = 14 - he;
        uint32_t hm = full >> shift, rest = full & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rest > half || (rest == half && (hm & 1))) hm++;
        return (uint16_t)(sign | hm);
    }
    uint32_t hm = m >> 13, rest = m & 0x1fff;
    uint32_t r = (uint32_t)he << 10 | hm;
    if (rest > 0x1000 || (rest == 0x1000 && (hm & 1))) r++; /* may carry into the exponent */
    return (uint16_t)(sign | r);
}

/* ---- nodes ------------------------------------------------------------------------------------
 */

void pbw_node_begin(struct pbw_node *n, const char *name, const char *op)
{
    memset(n, 0, sizeof *n);
    pbw_field_str(&n->buf, 1, name);
    pbw_field_str(&n->buf, 2, op);
}

void pbw_node_input(struct pbw_node *n, const char *input)
{
    pbw_field_str(&n->buf, 3, input);
}

/* attr map entry {1: key, 2: AttrValue} */
static void attr(struct pbw_node *n, const char *key, const struct pbw_buf *value)
{
    struct pbw_buf e = {0};
    pbw_field_str(&e, 1, key);
    pbw_field_msg(&e, 2, value);
    pbw_field_msg(&n->buf, 5, &e);
    pbw_buf_free(&e);
}

void pbw_node_attr_type(struct pbw_node *n, const char *key, int dtype)
{
    struct pbw_buf v = {0};
    pbw_field_varint(&v, 6, (uint64_t)dtype);
    attr(n, key, &v);
    pbw_buf_free(&v);
}

void pbw_node_attr_s(struct pbw_node *n, const char *key, const char *s)
{
    struct pbw_buf v = {0};
    pbw_field_str(&v, 2, s);
    attr(n, key, &v);
    pbw_buf_free(&v);
}

void pbw_node_attr_f(struct pbw_node *n, const char *key, float f)
{
    struct pbw_buf v = {0};
    pbw_field_f32(&v, 4, f);
    attr(n, key, &v);
    pbw_buf_free(&v);
}

void pbw_node_attr_i(struct pbw_node *n, const char *key, int64_t i)
{
    struct pbw_buf v = {0};
    pbw_field_varint(&v, 3, (uint64_t)i);
    attr(n, key, &v);
    pbw_buf_free(&v);
}

void pbw_node_attr_b(struct pbw_node *n, const char *key, int b)
{
    struct pbw_buf v = {0};
    pbw_field_varint(&v, 5, b ? 1 : 0);
    attr(n, key, &v);
    pbw_buf_free(&v);
}

void pbw_node_attr_ints(struct pbw_node *n, const char *key, const int64_t *vals, int count)
{
    struct pbw_buf packed = {0}, list = {0}, v = {0};
    for (int i = 0; i < count; i++) pbw_varint(&packed, (uint64_t)vals[i]);
    pbw_field_msg(&list, 3, &packed);
    pbw_field_msg(&v, 1, &list);
    attr(n, key, &v);
    pbw_buf_free(&packed);
    pbw_buf_free(&list);
    pbw_buf_free(&v);
}

static void shape_msg(struct pbw_buf *shape, const int64_t *dims, int rank)
{
    for (int i = 0; i < rank; i++) {
        struct pbw_buf d = {0};
        pbw_field_varint(&d, 1, (uint64_t)dims[i]);
        pbw_field_msg(shape, 2, &d);
        pbw_buf_free(&d);
    }
}

void pbw_node_attr_shape(struct pbw_node *n, const char *key, const int64_t *dims, int rank)
{
    struct pbw_buf shape = {0}, v = {0};
    shape_msg(&shape, dims, rank);
    pbw_field_msg(&v, 7, &shape);
    attr(n, key, &v);
    pbw_buf_free(&shape);
    pbw_buf_free(&v);
}

void pbw_node_attr_tensor(struct pbw_node *n, const char *key, const struct pbw_tensor *t)
{
    struct pbw_buf tp = {0}, shape = {0}, vals = {0}, v = {0};
    pbw_field_varint(&tp, 1, (uint64_t)t->dtype);
    shape_msg(&shape, t->dims, t->rank);
    pbw_field_msg(&tp, 2, &shape);
    size_t count = t->enc == PBW_ENC_FILL && t->n ? 1 : t->n;
    if (t->enc == PBW_ENC_CONTENT) {
        for (size_t i = 0; i < t->n; i++) {
            if (t->dtype == DT_HALF) {
                uint16_t h = pbw_float_to_half(t->f32[i]);
                uint8_t b2[2] = {(uint8_t)h, (uint8_t)(h >> 8)};
                put(&vals, b2, 2);
            } else {
                put_u32(&vals, t->dtype == DT_FLOAT ? f32_bits(t->f32[i]) : (uint32_t)t->i32[i]);
            }
        }
        pbw_field_msg(&tp, 4, &vals);
    } else if (t->enc == PBW_ENC_VALS_UNPACKED) {
        for (size_t i = 0; i < count; i++) {
            if (t->dtype == DT_FLOAT)
                pbw_field_f32(&tp, 5, t->f32[i]);
            else if (t->dtype == DT_HALF)
                pbw_field_varint(&tp, 13, pbw_float_to_half(t->f32[i]));
            else
                pbw_field_varint(&tp, 7, (uint64_t)(int64_t)t->i32[i]);
        }
    } else if (count) {
        for (size_t i = 0; i < count; i++) {
            if (t->dtype == DT_FLOAT)
                put_u32(&vals, f32_bits(t->f32[i]));
            else if (t->dtype == DT_HALF)
                pbw_varint(&vals, pbw_float_to_half(t->f32[i]));
            else
                pbw_varint(&vals, (uint64_t)(int64_t)t->i32[i]);
        }
        pbw_field_msg(&tp, t->dtype == DT_FLOAT ? 5 : t->dtype == DT_HALF ? 13 : 7, &vals);
    }
    pbw_field_msg(&v, 8, &tp);
    attr(n, key, &v);
    pbw_buf_free(&tp);
    pbw_buf_free(&shape);
    pbw_buf_free(&vals);
    pbw_buf_free(&v);
}

void pbw_graph_add(struct pbw_buf *graph, struct pbw_node *n)
{
    pbw_field_msg(graph, 1, &n->buf);
    pbw_buf_free(&n->buf);
}

void pbw_graph_versions(struct pbw_buf *graph)
{
    struct pbw_buf v = {0};
    pbw_field_varint(&v, 1, 27);
    pbw_field_msg(graph, 4, &v);
    pbw_buf_free(&v);
}

/* ---- graph-building shorthands ------------------------------------------------------------ */

struct gen_writer {
    struct pbw_buf *g;
    const struct pbw_gen_opts *o;
    char name[512]; /* scratch for the last node's full name */
    int n_lrelu, n_box, n_const;
};

static const char *full(struct gen_writer *w, char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s%s", w->o->prefix, name);
    return buf;
}

static void tensor_const(struct gen_writer *w, const char *name, const struct pbw_tensor *t)
{
    char fn[512];
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, name), "Const");
    pbw_node_attr_tensor(&n, "value", t);
    if (!w->o->minimal) pbw_node_attr_type(&n, "dtype", t->dtype);
    pbw_graph_add(w->g, &n);
}

static void scalar_const(struct gen_writer *w, const char *name, float v)
{
    struct pbw_tensor t = {.dtype = DT_FLOAT, .rank = 0, .f32 = &v, .n = 1, .enc = PBW_ENC_VALS};
    tensor_const(w, name, &t);
}

static void int_const(struct gen_writer *w, const char *name, const int32_t *v, int n, int rank)
{
    struct pbw_tensor t = {.dtype = DT_INT32,
                           .rank = rank,
                           .dims = {n},
                           .i32 = v,
                           .n = (size_t)n,
                           .enc = PBW_ENC_VALS};
    tensor_const(w, name, &t);
}

/* A node with `n_in` inputs (relative names) and the type attribute T = float. */
static void op(struct gen_writer *w, const char *name, const char *opname, int n_in,
               const char *in0, const char *in1, const char *in2)
{
    char fn[512];
    const char *ins[3] = {in0, in1, in2};
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, name), opname);
    for (int i = 0; i < n_in; i++) pbw_node_input(&n, full(w, fn, sizeof fn, ins[i]));
    if (!w->o->minimal) pbw_node_attr_type(&n, "T", DT_FLOAT);
    pbw_graph_add(w->g, &n);
}

static void strided_slice(struct gen_writer *w, const char *name, const char *in, int32_t b,
                          int32_t e, int shrink, int new_axis)
{
    char bn[256], en[256], sn[256], fn[512];
    int32_t bv = b, ev = e, sv = 1;
    snprintf(bn, sizeof bn, "%s/stack", name);
    snprintf(en, sizeof en, "%s/stack_1", name);
    snprintf(sn, sizeof sn, "%s/stack_2", name);
    int_const(w, bn, &bv, 1, 1);
    int_const(w, en, &ev, 1, 1);
    int_const(w, sn, &sv, 1, 1);
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, name), "StridedSlice");
    pbw_node_input(&n, full(w, fn, sizeof fn, in));
    pbw_node_input(&n, full(w, fn, sizeof fn, bn));
    pbw_node_input(&n, full(w, fn, sizeof fn, en));
    pbw_node_input(&n, full(w, fn, sizeof fn, sn));
    pbw_node_attr_type(&n, "T", DT_INT32);
    pbw_node_attr_type(&n, "Index", DT_INT32);
    pbw_node_attr_i(&n, "begin_mask", 0);
    pbw_node_attr_i(&n, "end_mask", 0);
    pbw_node_attr_i(&n, "ellipsis_mask", 0);
    pbw_node_attr_i(&n, "new_axis_mask", new_axis);
    pbw_node_attr_i(&n, "shrink_axis_mask", shrink);
    pbw_graph_add(w->g, &n);
}

static void shape_of(struct gen_writer *w, const char *name, const char *in)
{
    char fn[512];
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, name), "Shape");
    pbw_node_input(&n, full(w, fn, sizeof fn, in));
    pbw_node_attr_type(&n, "T", DT_FLOAT);
    pbw_node_attr_type(&n, "out_type", DT_INT32);
    pbw_graph_add(w->g, &n);
}

/* slim.convolution2d(x, cout, [k, k], stride) with weights/read and biases/read; returns the
 * BiasAdd's relative name in out. */
static void conv(struct gen_writer *w, const struct toon_gen_weights *gw, int layer, const char *in,
                 char *out, size_t out_size)
{
    const struct toon_gen_conv *c = &gw->conv[layer];
    const char *scope = toon_gen_layout[layer].scope;
    size_t n = (size_t)c->k * c->k * c->cin * c->cout;
    float *hwio = toon_malloc((n ? n : 1) * sizeof *hwio); /* [k][k][cin][cout] */
    if (!hwio) {
        w->g->oom = 1;
        return;
    }
    for (int y = 0; y < c->k; y++)
        for (int x = 0; x < c->k; x++)
            for (int ci = 0; ci < c->cin; ci++)
                for (int co = 0; co < c->cout; co++)
                    hwio[(((size_t)y * c->k + x) * c->cin + ci) * c->cout + co] =
                        c->w[(((size_t)co * c->k + y) * c->k + x) * c->cin + ci];
    int half = w->o->weight_dtype == DT_HALF;
    char wn[200], wr[256], bn[200], br[256], cn[256], fn[512], tmp[256];
    snprintf(wn, sizeof wn, "generator/%s/weights", scope);
    snprintf(bn, sizeof bn, "generator/%s/biases", scope);
    snprintf(wr, sizeof wr, "%s/read", wn);
    snprintf(br, sizeof br, "%s/read", bn);
    struct pbw_tensor t = {.dtype = half ? DT_HALF : DT_FLOAT,
                           .rank = 4,
                           .dims = {c->k, c->k, c->cin, c->cout},
                           .f32 = hwio,
                           .n = n,
                           .enc = w->o->weight_enc};
    tensor_const(w, wn, &t);
    struct pbw_tensor tb = {.dtype = t.dtype,
                            .rank = 1,
                            .dims = {c->cout},
                            .f32 = c->b,
                            .n = (size_t)c->cout,
                            .enc = w->o->weight_enc};
    tensor_const(w, bn, &tb);
    toon_free(hwio);
    /* The convolution reads <name>/read (an Identity), or the Const itself in minimal graphs;
     * half weights then go through a Cast to float, as in a mixed-precision export. */
    char *reads[2] = {wr, br};
    const char *consts[2] = {wn, bn};
    for (int i = 0; i < 2; i++) {
        struct pbw_node nd;
        if (w->o->minimal) {
            snprintf(reads[i], 256, "%s", consts[i]);
        } else {
            pbw_node_begin(&nd, full(w, fn, sizeof fn, reads[i]), "Identity");
            pbw_node_input(&nd, full(w, fn, sizeof fn, consts[i]));
            pbw_node_attr_type(&nd, "T", t.dtype);
            pbw_node_attr_s(&nd, "_class", "loc:@generator");
            pbw_graph_add(w->g, &nd);
        }
        if (half) {
            snprintf(tmp, sizeof tmp, "%.200s/Cast", reads[i]);
            pbw_node_begin(&nd, full(w, fn, sizeof fn, tmp), "Cast");
            pbw_node_input(&nd, full(w, fn, sizeof fn, reads[i]));
            pbw_node_attr_type(&nd, "SrcT", DT_HALF);
            pbw_node_attr_type(&nd, "DstT", DT_FLOAT);
            pbw_graph_add(w->g, &nd);
            snprintf(reads[i], 256, "%s", tmp);
        }
    }
    snprintf(cn, sizeof cn, "generator/%s/Conv2D", scope);
    struct pbw_node nd;
    pbw_node_begin(&nd, full(w, fn, sizeof fn, cn), "Conv2D");
    pbw_node_input(&nd, full(w, fn, sizeof fn, in));
    pbw_node_input(&nd, full(w, fn, sizeof fn, wr));
    pbw_node_attr_type(&nd, "T", DT_FLOAT);
    int64_t s = c->stride, strides[4] = {1, s, s, 1}, ones[4] = {1, 1, 1, 1};
    pbw_node_attr_ints(&nd, "strides", strides, 4);
    pbw_node_attr_s(&nd, "padding", "SAME");
    pbw_node_attr_s(&nd, "data_format", "NHWC");
    if (!w->o->minimal) {
        pbw_node_attr_ints(&nd, "dilations", ones, 4);
        pbw_node_attr_b(&nd, "use_cudnn_on_gpu", 1);
    }
    pbw_graph_add(w->g, &nd);
    snprintf(out, out_size, "generator/%s/BiasAdd", scope);
    pbw_node_begin(&nd, full(w, fn, sizeof fn, out), "BiasAdd");
    pbw_node_input(&nd, full(w, fn, sizeof fn, cn));
    pbw_node_input(&nd, full(w, fn, sizeof fn, br));
    pbw_node_attr_type(&nd, "T", DT_FLOAT);
    if (!w->o->minimal) pbw_node_attr_s(&nd, "data_format", "NHWC");
    pbw_graph_add(w->g, &nd);
}

/* tf.nn.leaky_relu(x, 0.2); `x` is replaced by the output's name. */
static void lrelu(struct gen_writer *w, char *x, size_t size)
{
    char name[64], mul[96], alpha[96];
    snprintf(name, sizeof name, w->n_lrelu ? "generator/LeakyRelu_%d" : "generator/LeakyRelu",
             w->n_lrelu);
    w->n_lrelu++;
    if (!w->o->lrelu_maximum) {
        char fn[512];
        struct pbw_node n;
        pbw_node_begin(&n, full(w, fn, sizeof fn, name), "LeakyRelu");
        pbw_node_input(&n, full(w, fn, sizeof fn, x));
        pbw_node_attr_type(&n, "T", DT_FLOAT);
        pbw_node_attr_f(&n, "alpha", 0.2f);
        pbw_graph_add(w->g, &n);
    } else {
        snprintf(alpha, sizeof alpha, "%s/alpha", name);
        snprintf(mul, sizeof mul, "%s/mul", name);
        scalar_const(w, alpha, 0.2f);
        op(w, mul, "Mul", 2, alpha, x, NULL);
        op(w, name, "Maximum", 2, mul, x, NULL);
    }
    snprintf(x, size, "%s", name);
}

/* tf.image.resize_bilinear(x, 2 * shape(x)[1:3]) then + skip. */
static void upsample_add(struct gen_writer *w, int idx, const char *x, const char *skip, char *out,
                         size_t size)
{
    char sh[128], ss[128], mul[128], two[128], rs[128];
    const char *sfx = idx ? "_1" : "";
    snprintf(sh, sizeof sh, "generator/Shape%s", sfx);
    snprintf(ss, sizeof ss, "generator/strided_slice%s", sfx);
    snprintf(mul, sizeof mul, "generator/mul%s", sfx);
    snprintf(two, sizeof two, "generator/mul%s/y", sfx);
    snprintf(rs, sizeof rs, "generator/ResizeBilinear%s", sfx);
    shape_of(w, sh, x);
    strided_slice(w, ss, sh, 1, 3, 0, 0);
    int32_t two_v = 2;
    int_const(w, two, &two_v, 1, 0);
    char fn[512];
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, mul), "Mul");
    pbw_node_input(&n, full(w, fn, sizeof fn, ss));
    pbw_node_input(&n, full(w, fn, sizeof fn, two));
    pbw_node_attr_type(&n, "T", DT_INT32);
    pbw_graph_add(w->g, &n);
    pbw_node_begin(&n, full(w, fn, sizeof fn, rs), "ResizeBilinear");
    pbw_node_input(&n, full(w, fn, sizeof fn, x));
    pbw_node_input(&n, full(w, fn, sizeof fn, mul));
    pbw_node_attr_type(&n, "T", DT_FLOAT);
    pbw_node_attr_b(&n, "align_corners", 0);
    pbw_node_attr_b(&n, "half_pixel_centers", 0);
    pbw_graph_add(w->g, &n);
    snprintf(out, size, "generator/add%s", sfx);
    op(w, out, "Add", 2, rs, skip, NULL);
}

/* tf_box_filter(x, 1): a depthwise 3x3 conv with a constant kernel of `box` values. */
static void box(struct gen_writer *w, const char *x, int channels, char *out, size_t size)
{
    char kn[128];
    float kv[9 * 64];
    int ch = channels < 64 ? channels : 64;
    for (int i = 0; i < 9 * ch; i++) kv[i] = w->o->box;
    snprintf(kn, sizeof kn, w->n_const ? "Const_%d" : "Const", w->n_const);
    w->n_const++;
    struct pbw_tensor t = {.dtype = DT_FLOAT,
                           .rank = 4,
                           .dims = {3, 3, ch, 1},
                           .f32 = kv,
                           .n = (size_t)(9 * ch),
                           .enc = w->o->box_enc};
    tensor_const(w, kn, &t);
    snprintf(out, size, w->n_box ? "depthwise_%d" : "depthwise", w->n_box);
    w->n_box++;
    char fn[512];
    struct pbw_node n;
    pbw_node_begin(&n, full(w, fn, sizeof fn, out), "DepthwiseConv2dNative");
    pbw_node_input(&n, full(w, fn, sizeof fn, x));
    pbw_node_input(&n, full(w, fn, sizeof fn, kn));
    pbw_node_attr_type(&n, "T", DT_FLOAT);
    int64_t ones[4] = {1, 1, 1, 1};
    pbw_node_attr_ints(&n, "strides", ones, 4);
    pbw_node_attr_s(&n, "padding", "SAME");
    pbw_node_attr_s(&n, "data_format", "NHWC");
    if (!w->o->minimal) pbw_node_attr_ints(&n, "dilations", ones, 4);
    pbw_graph_add(w->g, &n);
}

/* guided_filter(x, y, r=1, eps): writes the output's relative name into out. */
static void guided_filter(struct gen_writer *w, const char *x, const char *y, int channels,
                          char *out, size_t size)
{
    char fn[512], b[128];
    struct pbw_node n;
    /* N = box(ones([1, h, w, 1])) with h, w from tf.shape(x). */
    shape_of(w, "Shape", x);
    strided_slice(w, "strided_slice_1", "Shape", 1, 2, 1, 0);
    strided_slice(w, "strided_slice_2", "Shape", 2, 3, 1, 0);
    int32_t one = 1;
    int_const(w, "ones/shape/0", &one, 1, 0);
    int_const(w, "ones/shape/3", &one, 1, 0);
    pbw_node_begin(&n, full(w, fn, sizeof fn, "ones/shape"), "Pack");
    pbw_node_input(&n, full(w, fn, sizeof fn, "ones/shape/0"));
    pbw_node_input(&n, full(w, fn, sizeof fn, "strided_slice_1"));
    pbw_node_input(&n, full(w, fn, sizeof fn, "strided_slice_2"));
    pbw_node_input(&n, full(w, fn, sizeof fn, "ones/shape/3"));
    pbw_node_attr_type(&n, "T", DT_INT32);
    pbw_node_attr_i(&n, "N", 4);
    pbw_node_attr_i(&n, "axis", 0);
    pbw_graph_add(w->g, &n);
    scalar_const(w, "ones/Const", 1.0f);
    pbw_node_begin(&n, full(w, fn, sizeof fn, "ones"), "Fill");
    pbw_node_input(&n, full(w, fn, sizeof fn, "ones/shape"));
    pbw_node_input(&n, full(w, fn, sizeof fn, "ones/Const"));
    pbw_node_attr_type(&n, "T", DT_FLOAT);
    pbw_node_attr_type(&n, "index_type", DT_INT32);
    pbw_graph_add(w->g, &n);
    char nn[128];
    box(w, "ones", 1, nn, sizeof nn);

    box(w, x, channels, b, sizeof b);
    op(w, "truediv_1", "RealDiv", 2, b, nn, NULL); /* mean_x */
    box(w, y, channels, b, sizeof b);
    op(w, "truediv_2", "RealDiv", 2, b, nn, NULL); /* mean_y */
    op(w, "mul", "Mul", 2, x, y, NULL);
    box(w, "mul", channels, b, sizeof b);
    op(w, "truediv_3", "RealDiv", 2, b, nn, NULL);
    op(w, "mul_1", "Mul", 2, "truediv_1", "truediv_2", NULL);
    op(w, "sub_1", "Sub", 2, "truediv_3", "mul_1", NULL); /* cov_xy */
    op(w, "mul_2", "Mul", 2, x, x, NULL);
    box(w, "mul_2", channels, b, sizeof b);
    op(w, "truediv_4", "RealDiv", 2, b, nn, NULL);
    op(w, "mul_3", "Mul", 2, "truediv_1", "truediv_1", NULL);
    op(w, "sub_2", "Sub", 2, "truediv_4", "mul_3", NULL); /* var_x */
    scalar_const(w, "add/y", w->o->eps);
    op(w, "add", "Add", 2, "sub_2", "add/y", NULL);
    op(w, "truediv_5", "RealDiv", 2, "sub_1", "add", NULL); /* A */
    op(w, "mul_4", "Mul", 2, "truediv_5", "truediv_1", NULL);
    op(w, "sub_3", "Sub", 2, "truediv_2", "mul_4", NULL); /* b */
    box(w, "truediv_5", channels, b, sizeof b);
    op(w, "truediv_6", "RealDiv", 2, b, nn, NULL); /* mean_A */
    box(w, "sub_3", channels, b, sizeof b);
    op(w, "truediv_7", "RealDiv", 2, b, nn, NULL); /* mean_b */
    op(w, "mul_5", "Mul", 2, "truediv_6", x, NULL);
    snprintf(out, size, "add_1");
    op(w, out, "Add", 2, "mul_5", "truediv_7", NULL);
}

void pbw_gen_default_opts(struct pbw_gen_opts *o)
{
    memset(o, 0, sizeof *o);
    o->prefix = "model_bg/";
    o->weight_dtype = DT_FLOAT;
    o->weight_enc = PBW_ENC_CONTENT;
    o->box_enc = PBW_ENC_CONTENT;
    o->with_guided_filter = 1;
    o->eps = 1e-2f;
    o->box = 1.0f / 9.0f;
}

int pbw_write_generator(const struct toon_gen_weights *gw, const struct pbw_gen_opts *o,
                        struct pbw_buf *out)
{
    struct gen_writer w = {.g = out, .o = o};
    char fn[512], x[128], x0[128], x1[128], r[128], tmp[128];
    struct pbw_node n;
    memset(out, 0, sizeof *out);

    /* input_image [-1, -1, 3] -> [1, h, w, 3] -> x / 127.5 - 1 */
    pbw_node_begin(&n, full(&w, fn, sizeof fn, "input_image"), "Placeholder");
    pbw_node_attr_type(&n, "dtype", DT_FLOAT);
    int64_t in_shape[3] = {-1, -1, 3};
    pbw_node_attr_shape(&n, "shape", in_shape, 3);
    pbw_graph_add(out, &n);
    const char *expanded;
    if (o->exporter_form) {
        strided_slice(&w, "strided_slice", "input_image", 0, 0, 0, 1);
        expanded = "strided_slice";
    } else {
        int32_t zero = 0;
        int_const(&w, "ExpandDims/dim", &zero, 1, 0);
        pbw_node_begin(&n, full(&w, fn, sizeof fn, "ExpandDims"), "ExpandDims");
        pbw_node_input(&n, full(&w, fn, sizeof fn, "input_image"));
        pbw_node_input(&n, full(&w, fn, sizeof fn, "ExpandDims/dim"));
        pbw_node_attr_type(&n, "T", DT_FLOAT);
        pbw_node_attr_type(&n, "Tdim", DT_INT32);
        pbw_graph_add(out, &n);
        expanded = "ExpandDims";
    }
    scalar_const(&w, "truediv/y", 127.5f);
    op(&w, "truediv", "RealDiv", 2, expanded, "truediv/y", NULL);
    scalar_const(&w, "sub/y", 1.0f);
    op(&w, "sub", "Sub", 2, "truediv", "sub/y", NULL);

    /* The generator (spec/PIPELINE.md §2). */
    conv(&w, gw, 0, "sub", x0, sizeof x0);
    lrelu(&w, x0, sizeof x0);
    conv(&w, gw, 1, x0, x1, sizeof x1);
    lrelu(&w, x1, sizeof x1);
    conv(&w, gw, 2, x1, tmp, sizeof tmp);
    snprintf(x1, sizeof x1, "%s", tmp);
    lrelu(&w, x1, sizeof x1);
    conv(&w, gw, 3, x1, x, sizeof x);
    lrelu(&w, x, sizeof x);
    conv(&w, gw, 4, x, tmp, sizeof tmp);
    snprintf(x, sizeof x, "%s", tmp);
    lrelu(&w, x, sizeof x);
    for (int b = 0; b < 4; b++) {
        conv(&w, gw, 5 + 2 * b, x, r, sizeof r);
        lrelu(&w, r, sizeof r);
        conv(&w, gw, 6 + 2 * b, r, tmp, sizeof tmp);
        char add[64];
        snprintf(add, sizeof add, "generator/block_%d/add", b);
        op(&w, add, "Add", 2, tmp, x, NULL);
        snprintf(x, sizeof x, "%s", add);
    }
    conv(&w, gw, 13, x, tmp, sizeof tmp);
    snprintf(x, sizeof x, "%s", tmp);
    lrelu(&w, x, sizeof x);
    upsample_add(&w, 0, x, x1, tmp, sizeof tmp);
    conv(&w, gw, 14, tmp, x, sizeof x);
    lrelu(&w, x, sizeof x);
    conv(&w, gw, 15, x, tmp, sizeof tmp);
    snprintf(x, sizeof x, "%s", tmp);
    lrelu(&w, x, sizeof x);
    upsample_add(&w, 1, x, x0, tmp, sizeof tmp);
    conv(&w, gw, 16, tmp, x, sizeof x);
    lrelu(&w, x, sizeof x);
    conv(&w, gw, 17, x, tmp, sizeof tmp);
    snprintf(x, sizeof x, "%s", tmp);

    if (o->with_guided_filter) {
        guided_filter(&w, "sub", x, gw->conv[17].cout > 0 ? gw->conv[17].cout : 3, tmp, sizeof tmp);
        snprintf(x, sizeof x, "%s", tmp);
    }
    if (o->exporter_form) {
        strided_slice(&w, "strided_slice_3", x, 0, 1, 1, 0);
        snprintf(x, sizeof x, "strided_slice_3");
    }
    scalar_const(&w, "clip_by_value/Minimum/y", 0.999999f);
    scalar_const(&w, "clip_by_value/y", -0.999999f);
    if (o->clip_minmax) {
        op(&w, "clip_by_value/Minimum", "Minimum", 2, x, "clip_by_value/Minimum/y", NULL);
        op(&w, "clip_by_value", "Maximum", 2, "clip_by_value/Minimum", "clip_by_value/y", NULL);
    } else {
        op(&w, "clip_by_value", "ClipByValue", 3, x, "clip_by_value/y", "clip_by_value/Minimum/y");
    }
    scalar_const(&w, "add_2/y", 1.0f);
    op(&w, "add_2", "Add", 2, "clip_by_value", "add_2/y", NULL);
    scalar_const(&w, "mul_6/y", 127.5f);
    op(&w, "mul_6", "Mul", 2, "add_2", "mul_6/y", NULL);
    pbw_node_begin(&n, full(&w, fn, sizeof fn, o->exporter_form ? "output_image" : "Cast"), "Cast");
    pbw_node_input(&n, full(&w, fn, sizeof fn, "mul_6"));
    pbw_node_attr_type(&n, "SrcT", DT_FLOAT);
    pbw_node_attr_type(&n, "DstT", DT_UINT8);
    pbw_node_attr_b(&n, "Truncate", 0);
    pbw_graph_add(out, &n);
    if (!o->exporter_form) {
        pbw_node_begin(&n, full(&w, fn, sizeof fn, "Squeeze"), "Squeeze");
        pbw_node_input(&n, full(&w, fn, sizeof fn, "Cast"));
        pbw_node_attr_type(&n, "T", DT_UINT8);
        int64_t axis0 = 0;
        pbw_node_attr_ints(&n, "squeeze_dims", &axis0, 1);
        pbw_graph_add(out, &n);
        pbw_node_begin(&n, full(&w, fn, sizeof fn, "output_image"), "Identity");
        pbw_node_input(&n, full(&w, fn, sizeof fn, "Squeeze"));
        pbw_node_attr_type(&n, "T", DT_UINT8);
        pbw_graph_add(out, &n);
    }
    pbw_graph_versions(out);
    return out->oom ? -1 : 0;
}

/* ---- the other graphs of a DCT-Net directory ------------------------------------------------ */

/* A few nodes under tower_0/ with a tiny conv; `outputs` are Identity nodes named as given. */
static int face_graph(struct pbw_buf *out, const char *scope, const char *const *outputs, int n_out)
{
    struct gen_writer w;
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    o.prefix = "";
    memset(&w, 0, sizeof w);
    w.g = out;
    w.o = &o;
    memset(out, 0, sizeof *out);
    char fn[512], wn[128], cn[128];
    struct pbw_node n;
    pbw_node_begin(&n, "tower_0/images", "Placeholder");
    pbw_node_attr_type(&n, "dtype", DT_FLOAT);
    pbw_graph_add(out, &n);
    pbw_node_begin(&n, "training_flag", "Placeholder");
    pbw_node_attr_type(&n, "dtype", DT_BOOL);
    pbw_graph_add(out, &n);
    float kv[3 * 3 * 3 * 4];
    for (int i = 0; i < 108; i++) kv[i] = (float)(i % 7) * 0.125f - 0.375f;
    snprintf(wn, sizeof wn, "tower_0/%s/conv1/weights", scope);
    snprintf(cn, sizeof cn, "tower_0/%s/conv1/Conv2D", scope);
    struct pbw_tensor t = {.dtype = DT_FLOAT,
                           .rank = 4,
                           .dims = {3, 3, 3, 4},
                           .f32 = kv,
                           .n = 108,
                           .enc = PBW_ENC_CONTENT};
    tensor_const(&w, wn, &t);
    pbw_node_begin(&n, cn, "Conv2D");
    pbw_node_input(&n, "tower_0/images");
    pbw_node_input(&n, wn);
    pbw_node_attr_type(&n, "T", DT_FLOAT);
    int64_t strides[4] = {1, 2, 2, 1};
    pbw_node_attr_ints(&n, "strides", strides, 4);
    pbw_node_attr_s(&n, "padding", "SAME");
    pbw_graph_add(out, &n);
    for (int i = 0; i < n_out; i++) {
        pbw_node_begin(&n, full(&w, fn, sizeof fn, outputs[i]), "Identity");
        pbw_node_input(&n, cn);
        pbw_node_attr_type(&n, "T", DT_FLOAT);
        pbw_graph_add(out, &n);
    }
    pbw_graph_versions(out);
    return out->oom ? -1 : 0;
}

int pbw_write_detector_like(struct pbw_buf *out)
{
    static const char *const outs[] = {"tower_0/boxes", "tower_0/scores", "tower_0/num_detections"};
    return face_graph(out, "FaceBoxes", outs, 3);
}

int pbw_write_keypoints_like(struct pbw_buf *out)
{
    static const char *const outs[] = {"tower_0/prediction"};
    return face_graph(out, "ShuffleNetV2", outs, 1);
}

int pbw_fake_weights(struct toon_gen_weights *gw, int k, int channels, uint32_t seed)
{
    memset(gw, 0, sizeof *gw);
    uint32_t s = seed ? seed : 1;
    for (int i = 0; i < TOON_GEN_N_CONV; i++) {
        struct toon_gen_conv *c = &gw->conv[i];
        c->k = k;
        c->stride = toon_gen_layout[i].stride;
        c->cin = i == 0 ? 3 : channels;
        c->cout = i == TOON_GEN_N_CONV - 1 ? 3 : channels;
        size_t n = (size_t)k * k * c->cin * c->cout;
        c->w = toon_malloc(n * sizeof *c->w);
        c->b = toon_malloc((size_t)c->cout * sizeof *c->b);
        if (!c->w || !c->b) {
            toon_gen_weights_free(gw);
            return -1;
        }
        for (size_t j = 0; j < n; j++) {
            s = s * 1664525u + 1013904223u;
            c->w[j] = (float)(int)(s >> 20) / 4096.0f - 0.5f;
        }
        for (int j = 0; j < c->cout; j++) c->b[j] = (float)j * 0.25f;
    }
    gw->gf_eps = 1e-2f;
    gw->gf_box_weight = 1.0f / 9.0f;
    gw->gf_radius = 1;
    return 0;
}
