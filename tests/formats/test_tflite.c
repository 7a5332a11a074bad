/*
 * Tests of the TFLite reader (src/formats/tflite.c, flatbuf.c) and the generator extraction
 * (tflite_generator.c): the three shared White-box files, weights checked against values
 * computed independently, the files checked against each other, hand-built FlatBuffers for
 * the generic accessors and the rejections, truncated and mutated files (no crash, always a
 * one-line error), and allocation failures (NO_MEMORY, no leak).
 *
 * The hand-built models come from a tiny forward-writing FlatBuffer builder below.  With
 * TOON_TFLITE_WRITE_CORPUS=<dir> in the environment, the "write_corpus" test also writes the
 * fuzz seed corpus (fuzz/corpus/tflite/) from the same builders.
 */
#include <stdint.h>

#include "core/alloc.h"
#include "formats/tflite.h"
#include "test.h"

/* ---------------------------------------------------------------- model files */

static unsigned char *load_model(const char *file, size_t *len)
{
    /* A missing shared model is a failure: test_read_file aborts the test. */
    return test_read_file(test_model_path(file), len);
}

/* Reads a generator and fails the test unless it is OK. */
static void read_gen(const char *file, struct toon_gen_weights *gw)
{
    size_t len;
    unsigned char *buf = load_model(file, &len);
    struct toon_err err = {{0}};
    enum toon_status st = toon_tflite_read_generator(buf, len, gw, &err);
    free(buf);
    if (st != TOON_STATUS_OK) TEST_FAIL_("%s: %s: %s", file, toon_status_str(st), err.msg);
}

/* Index of w[o][y][x][i] in an OHWI kernel of conv c. */
static size_t ohwi(const struct toon_gen_conv *c, int o, int y, int x, int i)
{
    return (((size_t)o * c->k + y) * c->k + x) * c->cin + i;
}

/*
 * Expected values were computed by an independent Python script (numpy, its own FlatBuffer
 * walk written from the schema: kernel and bias found through the operators and DEQUANTIZE
 * ops, float16 via numpy, int8 / int32 as (q - zero_point) * scale per channel in float64
 * and rounded to float32), printed with %.9g.  The script is at the end of this file.
 */
struct weight_pick {
    int layer, o, y, x, i;
    float fp16, int8; /* the _dr and _int8 files hold the same int8 kernels */
};
static const struct weight_pick picks[] = {
    {0, 0, 0, 0, 0, -0.00846099854f, -0.00861428492f},
    {0, 31, 6, 6, 2, 0.0346374512f, 0.0345281884f},
    {1, 7, 1, 2, 19, -0.0392456055f, -0.0386859886f},
    {9, 5, 1, 2, 77, -0.0603027344f, -0.0608042255f},  /* block_2/conv1 */
    {17, 2, 3, 4, 31, 0.00952148438f, 0.00999562163f}, /* Conv_9 */
    {13, 63, 2, 0, 127, 0.0161895752f, 0.015935706f},  /* Conv_5 */
};
struct bias_pick {
    int layer, o;
    float fp16, dr, int8; /* fp16; fp32 in _dr; int32 with scales in _int8 */
};
static const struct bias_pick bias_picks[] = {
    {0, 0, -0.208740234f, -0.208724812f, -0.208726764f},
    {1, 31, 0.00933074951f, 0.00933019258f, 0.0093247937f},
    {17, 2, 0.0252838135f, 0.0252781063f, 0.0252952818f},
    {12, 100, -0.00691986084f, -0.00692044524f, -0.00692182453f}, /* block_3/conv2 */
};

static void check_layout(const struct toon_gen_weights *gw)
{
    for (int l = 0; l < TOON_GEN_N_CONV; l++) {
        CHECK_EQ(gw->conv[l].k, toon_gen_layout[l].k);
        CHECK_EQ(gw->conv[l].stride, toon_gen_layout[l].stride);
        CHECK_EQ(gw->conv[l].cin, toon_gen_layout[l].cin);
        CHECK_EQ(gw->conv[l].cout, toon_gen_layout[l].cout);
    }
    CHECK_EQ(gw->conv[1].stride, 2);
    CHECK_EQ(gw->conv[3].stride, 2);
    CHECK_EQ(gw->conv[17].k, 7);
    CHECK_EQ(gw->gf_radius, 1);
    CHECK(strcmp(gw->format, "tflite") == 0);
}

static void test_fp16_generator(void)
{
    struct toon_gen_weights gw;
    read_gen("whitebox_cartoon_gan_fp16.tflite", &gw);
    check_layout(&gw);
    CHECK(strcmp(gw.weight_type, "fp16") == 0);
    /* fp16(5e-3) and fp16(1/9), exactly. */
    CHECK_NEAR(gw.gf_eps, 0.00500106812f, 0);
    CHECK_NEAR(gw.gf_eps, 0.0050011, 1e-7);
    CHECK_NEAR(gw.gf_box_weight, 0.111083984375f, 0);
    for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
        const struct weight_pick *q = &picks[p];
        const struct toon_gen_conv *c = &gw.conv[q->layer];
        CHECK_NEAR(c->w[ohwi(c, q->o, q->y, q->x, q->i)], q->fp16, 0); /* fp16 -> fp32: exact */
    }
    for (size_t p = 0; p < sizeof bias_picks / sizeof bias_picks[0]; p++)
        CHECK_NEAR(gw.conv[bias_picks[p].layer].b[bias_picks[p].o], bias_picks[p].fp16, 0);
    toon_gen_weights_free(&gw);
}

static void check_int8_file(const char *file, int bias_column)
{
    struct toon_gen_weights gw;
    read_gen(file, &gw);
    check_layout(&gw);
    CHECK(strcmp(gw.weight_type, "int8") == 0);
    CHECK_NEAR(gw.gf_eps, 0.005, 1e-8); /* fp32 5e-3 in _dr, 127 * 3.937008e-05 in _int8 */
    CHECK_NEAR(gw.gf_box_weight, 1.0 / 9.0, 1e-7);
    for (size_t p = 0; p < sizeof picks / sizeof picks[0]; p++) {
        const struct weight_pick *q = &picks[p];
        const struct toon_gen_conv *c = &gw.conv[q->layer];
        CHECK_NEAR(c->w[ohwi(c, q->o, q->y, q->x, q->i)], q->int8, 1e-6 * fabsf(q->int8));
    }
    for (size_t p = 0; p < sizeof bias_picks / sizeof bias_picks[0]; p++) {
        float want = bias_column ? bias_picks[p].int8 : bias_picks[p].dr;
        CHECK_NEAR(gw.conv[bias_picks[p].layer].b[bias_picks[p].o], want, 1e-6 * fabsf(want));
    }
    toon_gen_weights_free(&gw);
}

static void test_dr_generator(void)
{
    check_int8_file("whitebox_cartoon_gan_dr.tflite", 0);
}

static void test_int8_generator(void)
{
    check_int8_file("whitebox_cartoon_gan_int8.tflite", 1);
}

/*
 * The int8 files are quantised versions of the fp16 network.  Measured (same Python script):
 * per layer, correlation with the fp16 kernel 0.99987 (Conv_9) to 0.99997, max |difference|
 * 0.40% of the layer's largest weight (half an int8 step with per-channel scales), RMS
 * difference 0.8-1.6% of the RMS weight; biases differ by at most 7.1e-5.
 */
static void test_files_agree(void)
{
    struct toon_gen_weights ref, q[2];
    read_gen("whitebox_cartoon_gan_fp16.tflite", &ref);
    read_gen("whitebox_cartoon_gan_dr.tflite", &q[0]);
    read_gen("whitebox_cartoon_gan_int8.tflite", &q[1]);
    for (int f = 0; f < 2; f++) {
        for (int l = 0; l < TOON_GEN_N_CONV; l++) {
            const struct toon_gen_conv *a = &ref.conv[l], *b = &q[f].conv[l];
            size_t n = (size_t)a->cout * a->k * a->k * a->cin;
            double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, maxa = 0, maxd = 0;
            for (size_t i = 0; i < n; i++) {
                double x = a->w[i], y = b->w[i];
                sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
                maxa = fmax(maxa, fabs(x));
                maxd = fmax(maxd, fabs(x - y));
            }
            double cov = sab / n - sa / n * sb / n;
            double corr = cov / sqrt((saa / n - sa / n * sa / n) * (sbb / n - sb / n * sb / n));
            CHECK_INT(corr * 1e6, >, 999800);      /* > 0.9998 */
            CHECK_INT(maxd / maxa * 1e6, <, 4500); /* < 0.45% */
            for (int o = 0; o < a->cout; o++) CHECK_NEAR(a->b[o], b->b[o], 1e-4);
        }
        CHECK_NEAR(q[f].gf_eps, ref.gf_eps, 2e-6);
    }
    toon_gen_weights_free(&ref);
    toon_gen_weights_free(&q[0]);
    toon_gen_weights_free(&q[1]);
}

/* The generic view of the fp16 file: counts, graph I/O, producers, options. */
static void test_reader_fp16(void)
{
    size_t len;
    unsigned char *buf = load_model("whitebox_cartoon_gan_fp16.tflite", &len);
    struct toon_tflite *m = NULL;
    struct toon_err err = {{0}};
    enum toon_status st = toon_tflite_open(buf, len, &m, &err);
    if (st != TOON_STATUS_OK) {
        free(buf);
        TEST_FAIL_("open: %s", err.msg);
    }
    CHECK_EQ(toon_tflite_n_tensors(m), 151);
    CHECK_EQ(toon_tflite_n_ops(m), 106);
    int count[128] = {0};
    for (int i = 0; i < toon_tflite_n_ops(m); i++) {
        struct toon_tflite_op op;
        CHECK_OK(toon_tflite_op(m, i, &op, &err));
        if (op.builtin_code >= 0 && op.builtin_code < 128) count[op.builtin_code]++;
    }
    CHECK_EQ(count[TOON_TFLITE_OP_DEQUANTIZE], 42);
    CHECK_EQ(count[TOON_TFLITE_OP_CONV_2D], 18);
    CHECK_EQ(count[TOON_TFLITE_OP_LEAKY_RELU], 13);
    CHECK_EQ(count[TOON_TFLITE_OP_ADD], 8);
    CHECK_EQ(count[TOON_TFLITE_OP_DEPTHWISE_CONV_2D], 7);
    CHECK_EQ(count[TOON_TFLITE_OP_DIV], 7);
    CHECK_EQ(count[TOON_TFLITE_OP_MUL], 6);
    CHECK_EQ(count[TOON_TFLITE_OP_SUB], 3);
    CHECK_EQ(count[TOON_TFLITE_OP_RESIZE_BILINEAR], 2);

    const int32_t *io;
    CHECK_EQ(toon_tflite_graph_inputs(m, &io), 1);
    struct toon_tflite_tensor t;
    CHECK_OK(toon_tflite_tensor(m, io[0], &t, &err));
    CHECK(strcmp(t.name, "input_photo") == 0);
    CHECK_EQ(t.type, TOON_TFLITE_FLOAT32);
    CHECK_EQ(t.n_dims, 4);
    CHECK_EQ(t.dims[1], 224);
    CHECK_EQ(t.dims[3], 3);
    CHECK(t.data == NULL);
    CHECK_EQ(toon_tflite_graph_outputs(m, &io), 1);
    CHECK_OK(toon_tflite_tensor(m, io[0], &t, &err));
    CHECK(strcmp(t.name, "final_output") == 0);

    /* Conv_1's kernel reaches its CONV_2D through a DEQUANTIZE. */
    int k = toon_tflite_find_tensor(m, "generator/Conv_1/Conv2D");
    CHECK_INT(k, >=, 0);
    CHECK_OK(toon_tflite_tensor(m, k, &t, &err));
    CHECK_EQ(t.type, TOON_TFLITE_FLOAT16);
    CHECK_EQ(t.n_bytes, 32 * 3 * 3 * 32 * 2);
    CHECK_EQ(t.n_scales, 0);
    int conv1 = -1;
    for (int i = 0; i < toon_tflite_n_ops(m) && conv1 < 0; i++) {
        struct toon_tflite_op op;
        toon_tflite_op(m, i, &op, NULL);
        if (op.builtin_code == TOON_TFLITE_OP_CONV_2D && op.n_inputs == 3 &&
            toon_tflite_const_source(m, op.inputs[1]) == k)
            conv1 = i;
    }
    CHECK_INT(conv1, >=, 0);
    struct toon_tflite_op op;
    CHECK_OK(toon_tflite_op(m, conv1, &op, &err));
    CHECK_EQ(op.options_type, TOON_TFLITE_OPTIONS_CONV_2D);
    int dq = toon_tflite_producer(m, op.inputs[1]);
    CHECK_INT(dq, >=, 0);
    struct toon_tflite_op dqop;
    CHECK_OK(toon_tflite_op(m, dq, &dqop, &err));
    CHECK_EQ(dqop.builtin_code, TOON_TFLITE_OP_DEQUANTIZE);
    CHECK_EQ(dqop.inputs[0], k);
    CHECK_EQ(toon_tflite_producer(m, k), -1);
    CHECK_EQ(toon_tflite_op_option_int(m, conv1, TOON_TFLITE_CONV_STRIDE_W, 0), 2);
    CHECK_EQ(toon_tflite_op_option_int(m, conv1, TOON_TFLITE_CONV_STRIDE_H, 0), 2);
    CHECK_EQ(toon_tflite_op_option_int(m, conv1, TOON_TFLITE_CONV_PADDING, 0),
             0); /* absent: SAME */
    CHECK_EQ(toon_tflite_op_option_int(m, conv1, TOON_TFLITE_CONV_DILATION_W, 1), 1);
    /* The activation input is computed: no constant behind it. */
    CHECK_EQ(toon_tflite_const_source(m, op.inputs[0]), -1);

    /* Out-of-range requests are errors, not crashes. */
    CHECK(toon_tflite_tensor(m, 151, &t, &err) == TOON_STATUS_INVALID_ARGUMENT);
    CHECK(toon_tflite_op(m, -1, &op, &err) == TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_tflite_op_option_int(m, 1000, TOON_TFLITE_CONV_STRIDE_W, 7), 7);
    CHECK_EQ(toon_tflite_producer(m, -5), -1);
    CHECK_EQ(toon_tflite_find_tensor(m, "no such tensor"), -1);
    toon_tflite_free(m);
    toon_tflite_free(NULL);
    free(buf);
}

/* ---------------------------------------------------------------- a tiny FlatBuffer builder */

/*
 * Writes front to back: a parent table is written first with its reference slots, children
 * after it, and the slots are patched (FlatBuffers offsets point forward, vtable offsets may
 * point either way).  Every table field is a 4-byte slot; 1-byte fields are read from the
 * slot's low byte, which is where a little-endian u32 puts them.
 */
struct fbb {
    uint8_t *buf;
    size_t len, cap;
};

static size_t fbb_alloc(struct fbb *b, size_t n)
{
    n = (n + 3) & ~(size_t)3;
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 256;
        b->buf = realloc(b->buf, b->cap);
        if (!b->buf) abort();
    }
    size_t pos = b->len;
    memset(b->buf + pos, 0, n);
    b->len += n;
    return pos;
}

static void put_u16(struct fbb *b, size_t pos, uint16_t v)
{
    b->buf[pos] = (uint8_t)v;
    b->buf[pos + 1] = (uint8_t)(v >> 8);
}

static void put_u32(struct fbb *b, size_t pos, uint32_t v)
{
    for (int i = 0; i < 4; i++) b->buf[pos + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* A table of n 4-byte fields, all present; returns its position.  Field f is at +4+4f. */
static size_t fbb_table(struct fbb *b, int n)
{
    size_t vt = fbb_alloc(b, 4 + 2 * (size_t)n);
    size_t t = fbb_alloc(b, 4 + 4 * (size_t)n);
    put_u16(b, vt, (uint16_t)(4 + 2 * n));
    put_u16(b, vt + 2, (uint16_t)(4 + 4 * n));
    for (int f = 0; f < n; f++) put_u16(b, vt + 4 + 2 * f, (uint16_t)(4 + 4 * f));
    put_u32(b, t, (uint32_t)(t - vt));
    return t;
}

static size_t slot(size_t table, int field)
{
    return table + 4 + 4 * (size_t)field;
}

/* Marks a field absent (its vtable entry 0). */
static void fbb_absent(struct fbb *b, size_t table, int field)
{
    size_t vt = table - (b->buf[table] | (size_t)b->buf[table + 1] << 8);
    put_u16(b, vt + 4 + 2 * (size_t)field, 0);
}

static void fbb_ref(struct fbb *b, size_t from, size_t to)
{
    put_u32(b, from, (uint32_t)(to - from));
}

/* A vector of n elements of elem bytes (copied from data unless NULL); returns its position. */
static size_t fbb_vec(struct fbb *b, size_t n, size_t elem, const void *data)
{
    size_t v = fbb_alloc(b, 4 + n * elem + 1);
    put_u32(b, v, (uint32_t)n);
    if (data && n) memcpy(b->buf + v + 4, data, n * elem);
    return v;
}

static void fbb_ref_vec(struct fbb *b, size_t from, size_t n, size_t elem, const void *data)
{
    fbb_ref(b, from, fbb_vec(b, n, elem, data));
}

/* A model description for the builder. */
struct tb_tensor {
    const char *name;
    int type, n_dims, dims[4];
    const void *data; /* NULL: no buffer */
    size_t n_bytes;
    int n_scales;
    const float *scales;
    const int64_t *zero_points; /* NULL: field absent */
    int axis;
    int buffer; /* when > 0, written instead of the real buffer index (corruption tests) */
};
struct tb_op {
    int code, n_in, in[3], n_out, out[1];
    int opt_type, n_opt;
    uint32_t opt[6]; /* option slots: ints, bytes in the low byte, floats as bits */
};
struct tb_model {
    struct tb_tensor t[160];
    struct tb_op o[80];
    int n_t, n_o, input, output;
};

static uint8_t *tb_build(const struct tb_model *md, size_t *len)
{
    struct fbb b = {0};
    size_t root = fbb_alloc(&b, 8);
    memcpy(b.buf + 4, "TFL3", 4);
    size_t model = fbb_table(&b, 5);
    fbb_ref(&b, root, model);
    put_u32(&b, slot(model, 0), 3);
    fbb_absent(&b, model, 3);

    /* One operator code per operator keeps opcode_index == op index. */
    size_t codes = fbb_vec(&b, (size_t)md->n_o, 4, NULL);
    fbb_ref(&b, slot(model, 1), codes);
    for (int i = 0; i < md->n_o; i++) {
        size_t c = fbb_table(&b, 4);
        fbb_ref(&b, codes + 4 + 4 * (size_t)i, c);
        put_u32(&b, slot(c, 0), (uint32_t)(md->o[i].code < 127 ? md->o[i].code : 127));
        fbb_absent(&b, c, 1);
        fbb_absent(&b, c, 2);
        put_u32(&b, slot(c, 3), (uint32_t)md->o[i].code);
    }

    /* Buffer 0 is empty; tensor i with data uses buffer i + 1. */
    size_t bufs = fbb_vec(&b, (size_t)md->n_t + 1, 4, NULL);
    fbb_ref(&b, slot(model, 4), bufs);
    for (int i = 0; i <= md->n_t; i++) {
        size_t bt = fbb_table(&b, 1);
        fbb_ref(&b, bufs + 4 + 4 * (size_t)i, bt);
        const struct tb_tensor *t = i ? &md->t[i - 1] : NULL;
        if (t && t->data)
            fbb_ref_vec(&b, slot(bt, 0), t->n_bytes, 1, t->data);
        else
            fbb_absent(&b, bt, 0);
    }

    size_t subs = fbb_vec(&b, 1, 4, NULL);
    fbb_ref(&b, slot(model, 2), subs);
    size_t sg = fbb_table(&b, 5);
    fbb_ref(&b, subs + 4, sg);
    fbb_absent(&b, sg, 4);
    int32_t io = md->input;
    fbb_ref_vec(&b, slot(sg, 1), 1, 4, &io);
    io = md->output;
    fbb_ref_vec(&b, slot(sg, 2), 1, 4, &io);

    size_t tv = fbb_vec(&b, (size_t)md->n_t, 4, NULL);
    fbb_ref(&b, slot(sg, 0), tv);
    for (int i = 0; i < md->n_t; i++) {
        const struct tb_tensor *t = &md->t[i];
        size_t tt = fbb_table(&b, 5);
        fbb_ref(&b, tv + 4 + 4 * (size_t)i, tt);
        fbb_ref_vec(&b, slot(tt, 0), (size_t)t->n_dims, 4, t->dims);
        put_u32(&b, slot(tt, 1), (uint32_t)t->type);
        put_u32(&b, slot(tt, 2),
                t->buffer > 0 ? (uint32_t)t->buffer
                : t->data     ? (uint32_t)i + 1
                              : 0);
        fbb_ref_vec(&b, slot(tt, 3), strlen(t->name), 1, t->name);
        if (t->n_scales) {
            size_t q = fbb_table(&b, 7);
            fbb_ref(&b, slot(tt, 4), q);
            for (int f = 0; f < 6; f++)
                if (f != 2 && f != 3) fbb_absent(&b, q, f);
            fbb_ref_vec(&b, slot(q, 2), (size_t)t->n_scales, 4, t->scales);
            if (t->zero_points)
                fbb_ref_vec(&b, slot(q, 3), (size_t)t->n_scales, 8, t->zero_points);
            else
                fbb_absent(&b, q, 3);
            put_u32(&b, slot(q, 6), (uint32_t)t->axis);
        } else {
            fbb_absent(&b, tt, 4);
        }
    }

    size_t ov = fbb_vec(&b, (size_t)md->n_o, 4, NULL);
    fbb_ref(&b, slot(sg, 3), ov);
    for (int i = 0; i < md->n_o; i++) {
        const struct tb_op *o = &md->o[i];
        size_t ot = fbb_table(&b, 5);
        fbb_ref(&b, ov + 4 + 4 * (size_t)i, ot);
        put_u32(&b, slot(ot, 0), (uint32_t)i);
        fbb_ref_vec(&b, slot(ot, 1), (size_t)o->n_in, 4, o->in);
        fbb_ref_vec(&b, slot(ot, 2), (size_t)o->n_out, 4, o->out);
        put_u32(&b, slot(ot, 3), (uint32_t)o->opt_type);
        if (o->n_opt) {
            size_t opt = fbb_table(&b, o->n_opt);
            fbb_ref(&b, slot(ot, 4), opt);
            for (int f = 0; f < o->n_opt; f++) put_u32(&b, slot(opt, f), o->opt[f]);
        } else {
            fbb_absent(&b, ot, 4);
        }
    }
    *len = b.len;
    return b.buf;
}

static int tb_tensor(struct tb_model *md, const char *name, int type, int n_dims, int d0, int d1,
                     int d2, int d3)
{
    struct tb_tensor *t = &md->t[md->n_t];
    memset(t, 0, sizeof *t);
    t->name = name;
    t->type = type;
    t->n_dims = n_dims;
    t->dims[0] = d0, t->dims[1] = d1, t->dims[2] = d2, t->dims[3] = d3;
    return md->n_t++;
}

static int tb_const(struct tb_model *md, const char *name, int type, int n_dims, int d0, int d1,
                    int d2, int d3, const void *data, size_t n_bytes)
{
    int i = tb_tensor(md, name, type, n_dims, d0, d1, d2, d3);
    md->t[i].data = data;
    md->t[i].n_bytes = n_bytes;
    return i;
}

static struct tb_op *tb_op(struct tb_model *md, int code, int in0, int in1, int in2, int out)
{
    struct tb_op *o = &md->o[md->n_o++];
    memset(o, 0, sizeof *o);
    o->code = code;
    o->in[0] = in0, o->in[1] = in1, o->in[2] = in2;
    o->n_in = in2 != -2 ? 3 : in1 != -2 ? 2 : 1;
    o->out[0] = out;
    o->n_out = 1;
    return o;
}

static void tb_conv_options(struct tb_op *o, int opt_type, int stride)
{
    /* Conv2DOptions / DepthwiseConv2DOptions: padding SAME, strides, then 1 (activation none
     * for conv, depth multiplier 1 for depthwise), no further fields. */
    o->opt_type = opt_type;
    o->n_opt = 4;
    o->opt[0] = 0;
    o->opt[1] = o->opt[2] = (uint32_t)stride;
    o->opt[3] = opt_type == TOON_TFLITE_OPTIONS_CONV_2D ? 0 : 1;
}

/* ---------------------------------------------------------------- hand-built models */

static const uint16_t box_fp16[9] = {0x2F1C, 0x2F1C, 0x2F1C, 0x2F1C, 0x2F1C,
                                     0x2F1C, 0x2F1C, 0x2F1C, 0x2F1C}; /* fp16(1/9) */
static const uint16_t one_fp16[1] = {0x3C00};
static const float eps_f32[1] = {0.005f};
static const int32_t resize_size[2] = {16, 16};

/*
 * A graph with the generator's names and operator inventory but 1x1 single-channel weights:
 * it passes every check up to the layer shapes.  Variants break one thing each.
 */
enum mini_variant {
    MINI_OK,
    MINI_NO_CONV9,
    MINI_BAD_BIAS_NAME,
    MINI_VALID_PADDING,
    MINI_ALIGN_CORNERS,
    MINI_ALPHA,
    MINI_TWO_EPS,
    MINI_BOX_VALUE,
};

static char mini_names[TOON_GEN_N_CONV][2][64];

static uint8_t *build_mini_generator(enum mini_variant v, size_t *len)
{
    static struct tb_model md;
    static const uint16_t bad_box[9] = {0x3C00, 0x3C00, 0x3C00, 0x3C00, 0x3C00,
                                        0x3C00, 0x3C00, 0x3C00, 0x3C00};
    memset(&md, 0, sizeof md);
    int x = tb_tensor(&md, "input_photo", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
    md.input = x;
    for (int l = 0; l < TOON_GEN_N_CONV; l++) {
        const char *scope = toon_gen_layout[l].scope;
        if (v == MINI_NO_CONV9 && l == 17) scope = "Conv_10";
        snprintf(mini_names[l][0], sizeof mini_names[l][0], "generator/%s/Conv2D", scope);
        snprintf(mini_names[l][1], sizeof mini_names[l][1], "generator/%s/%s", scope,
                 v == MINI_BAD_BIAS_NAME && l == 4 ? "bias" : "biases");
        int k = tb_const(&md, mini_names[l][0], TOON_TFLITE_FLOAT16, 4, 1, 1, 1, 1, one_fp16, 2);
        if (l % 6 == 0) { /* some kernels reach the conv through a DEQUANTIZE, as in the file */
            int kd = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 1, 1, 1);
            tb_op(&md, TOON_TFLITE_OP_DEQUANTIZE, k, -2, -2, kd);
            k = kd;
        }
        int b = tb_const(&md, mini_names[l][1], TOON_TFLITE_FLOAT32, 1, 1, 0, 0, 0, eps_f32, 4);
        int y = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
        struct tb_op *o = tb_op(&md, TOON_TFLITE_OP_CONV_2D, x, k, b, y);
        tb_conv_options(o, TOON_TFLITE_OPTIONS_CONV_2D, toon_gen_layout[l].stride);
        if (v == MINI_VALID_PADDING && l == 2) o->opt[0] = 1;
        x = y;
        if (l == 0 || l == 16) {
            y = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
            o = tb_op(&md, TOON_TFLITE_OP_LEAKY_RELU, x, -2, -2, y);
            o->opt_type = TOON_TFLITE_OPTIONS_LEAKY_RELU;
            o->n_opt = 1;
            o->opt[0] = f32_bits(v == MINI_ALPHA && l == 16 ? 0.1f : 0.2f);
            x = y;
        }
    }
    int size = tb_const(&md, "size", TOON_TFLITE_INT32, 1, 2, 0, 0, 0, resize_size, 8);
    for (int r = 0; r < 2; r++) {
        int y = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
        struct tb_op *o = tb_op(&md, TOON_TFLITE_OP_RESIZE_BILINEAR, x, size, -2, y);
        o->opt_type = TOON_TFLITE_OPTIONS_RESIZE_BILINEAR;
        o->n_opt = 4;
        o->opt[2] = v == MINI_ALIGN_CORNERS && r == 1;
        x = y;
    }
    int box = tb_const(&md, "depthwise1", TOON_TFLITE_FLOAT16, 4, 1, 3, 3, 1,
                       v == MINI_BOX_VALUE ? bad_box : box_fp16, 18);
    for (int d = 0; d < 7; d++) {
        int y = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
        struct tb_op *o = tb_op(&md, TOON_TFLITE_OP_DEPTHWISE_CONV_2D, x, box, -1, y);
        tb_conv_options(o, TOON_TFLITE_OPTIONS_DEPTHWISE_CONV_2D, 1);
        x = y;
    }
    for (int a = 0; a < (v == MINI_TWO_EPS ? 2 : 1); a++) {
        int e = tb_const(&md, "add/y", TOON_TFLITE_FLOAT32, 0, 0, 0, 0, 0, eps_f32, 4);
        int y = tb_tensor(&md, "", TOON_TFLITE_FLOAT32, 4, 1, 16, 16, 1);
        tb_op(&md, TOON_TFLITE_OP_ADD, x, e, -2, y);
        x = y;
    }
    md.output = x;
    return tb_build(&md, len);
}

/* A valid model that is not a generator: one DEQUANTIZE'd fp16 kernel and one CONV_2D. */
static uint8_t *build_tiny_conv(size_t *len)
{
    static struct tb_model md;
    static const float bias[1] = {0.5f};
    memset(&md, 0, sizeof md);
    int x = tb_tensor(&md, "image", TOON_TFLITE_FLOAT32, 4, 1, 8, 8, 1);
    int k = tb_const(&md, "conv/kernel", TOON_TFLITE_FLOAT16, 4, 1, 3, 3, 1, box_fp16, 18);
    int kd = tb_tensor(&md, "conv/kernel_dequantize", TOON_TFLITE_FLOAT32, 4, 1, 3, 3, 1);
    int b = tb_const(&md, "conv/bias", TOON_TFLITE_FLOAT32, 1, 1, 0, 0, 0, bias, 4);
    int y = tb_tensor(&md, "out", TOON_TFLITE_FLOAT32, 4, 1, 8, 8, 1);
    tb_op(&md, TOON_TFLITE_OP_DEQUANTIZE, k, -2, -2, kd);
    tb_conv_options(tb_op(&md, TOON_TFLITE_OP_CONV_2D, x, kd, b, y), TOON_TFLITE_OPTIONS_CONV_2D,
                    1);
    md.input = x;
    md.output = y;
    return tb_build(&md, len);
}

/* The generic accessors on values known by construction. */
enum tiny_variant { TINY_OK, TINY_BAD_BUFFER, TINY_SHORT_DATA, TINY_BAD_INPUT, TINY_BAD_AXIS };

static uint8_t *build_quant_model(enum tiny_variant v, size_t *len)
{
    static struct tb_model md;
    static const int8_t w8[6] = {-3, 0, 5, 127, -128, 1};
    static const float w_scales[2] = {0.5f, 0.25f};
    static const int64_t w_zps[2] = {0, 1};
    static const uint16_t h[3] = {0x3C00, 0x0001, 0xC000}; /* 1, 2^-24 (subnormal), -2 */
    static const uint8_t u8[2] = {0, 255};
    static const float u_scale[1] = {0.1f};
    static const int64_t u_zp[1] = {128};
    memset(&md, 0, sizeof md);
    int x = tb_tensor(&md, "in", TOON_TFLITE_FLOAT32, 4, 1, 2, 2, 3);
    int w =
        tb_const(&md, "w_i8", TOON_TFLITE_INT8, 4, 2, 1, 1, 3, w8, v == TINY_SHORT_DATA ? 5 : 6);
    md.t[w].n_scales = 2;
    md.t[w].scales = w_scales;
    md.t[w].zero_points = w_zps;
    md.t[w].axis = v == TINY_BAD_AXIS ? 3 : 0;
    int hh = tb_const(&md, "h", TOON_TFLITE_FLOAT16, 1, 3, 0, 0, 0, h, 6);
    if (v == TINY_BAD_BUFFER) md.t[hh].buffer = 99;
    int u = tb_const(&md, "u8_pt", TOON_TFLITE_UINT8, 1, 2, 0, 0, 0, u8, 2);
    md.t[u].n_scales = 1;
    md.t[u].scales = u_scale;
    md.t[u].zero_points = u_zp;
    int dq = tb_tensor(&md, "dq", TOON_TFLITE_FLOAT32, 1, 3, 0, 0, 0);
    int y = tb_tensor(&md, "out", TOON_TFLITE_FLOAT32, 4, 1, 1, 1, 2);
    tb_op(&md, TOON_TFLITE_OP_DEQUANTIZE, hh, -2, -2, dq);
    struct tb_op *o = tb_op(&md, TOON_TFLITE_OP_CONV_2D, x, w, v == TINY_BAD_INPUT ? 99 : -1, y);
    o->opt_type = TOON_TFLITE_OPTIONS_CONV_2D;
    o->n_opt = 4;
    o->opt[0] = 1; /* VALID */
    o->opt[1] = 2;
    o->opt[2] = 3;
    o->opt[3] = 1; /* RELU */
    md.input = x;
    md.output = y;
    return tb_build(&md, len);
}

static void test_handbuilt_reader(void)
{
    size_t len;
    uint8_t *buf = build_quant_model(TINY_OK, &len);
    struct toon_tflite *m = NULL;
    struct toon_err err = {{0}};
    enum toon_status st = toon_tflite_open(buf, len, &m, &err);
    if (st != TOON_STATUS_OK) {
        free(buf);
        TEST_FAIL_("open: %s", err.msg);
    }
    CHECK_EQ(toon_tflite_n_tensors(m), 6);
    CHECK_EQ(toon_tflite_n_ops(m), 2);
    struct toon_tflite_tensor t;
    float f[8];

    CHECK_OK(toon_tflite_tensor(m, toon_tflite_find_tensor(m, "w_i8"), &t, &err));
    CHECK_EQ(t.n_scales, 2);
    CHECK_EQ(t.quant_axis, 0);
    CHECK_EQ(toon_tflite_tensor_n_elems(&t), 6);
    CHECK_OK(toon_tflite_tensor_to_f32(&t, f, &err));
    const float want_w[6] = {-1.5f, 0.0f, 2.5f, 31.5f, -32.25f, 0.0f};
    for (int i = 0; i < 6; i++) CHECK_NEAR(f[i], want_w[i], 0);

    int h = toon_tflite_find_tensor(m, "h");
    CHECK_OK(toon_tflite_tensor(m, h, &t, &err));
    CHECK_EQ(t.type, TOON_TFLITE_FLOAT16);
    CHECK_OK(toon_tflite_tensor_to_f32(&t, f, &err));
    CHECK_NEAR(f[0], 1.0, 0);
    CHECK_NEAR(f[1], ldexp(1.0, -24), 0);
    CHECK_NEAR(f[2], -2.0, 0);

    CHECK_OK(toon_tflite_tensor(m, toon_tflite_find_tensor(m, "u8_pt"), &t, &err));
    CHECK_OK(toon_tflite_tensor_to_f32(&t, f, &err));
    CHECK_NEAR(f[0], -12.8, 1e-5);
    CHECK_NEAR(f[1], 12.7, 1e-5);

    /* A tensor without data cannot be converted. */
    CHECK_OK(toon_tflite_tensor(m, toon_tflite_find_tensor(m, "in"), &t, &err));
    CHECK(t.data == NULL);
    CHECK(toon_tflite_tensor_to_f32(&t, f, &err) != TOON_STATUS_OK);

    int dq = toon_tflite_find_tensor(m, "dq");
    CHECK_EQ(toon_tflite_producer(m, dq), 0);
    CHECK_EQ(toon_tflite_const_source(m, dq), h);
    CHECK_EQ(toon_tflite_const_source(m, toon_tflite_find_tensor(m, "out")), -1);

    struct toon_tflite_op op;
    CHECK_OK(toon_tflite_op(m, 1, &op, &err));
    CHECK_EQ(op.builtin_code, TOON_TFLITE_OP_CONV_2D);
    CHECK_EQ(op.n_inputs, 3);
    CHECK_EQ(op.inputs[2], -1);
    CHECK_EQ(op.n_outputs, 1);
    CHECK_EQ(toon_tflite_op_option_int(m, 1, TOON_TFLITE_CONV_PADDING, 0), 1);
    CHECK_EQ(toon_tflite_op_option_int(m, 1, TOON_TFLITE_CONV_STRIDE_W, 0), 2);
    CHECK_EQ(toon_tflite_op_option_int(m, 1, TOON_TFLITE_CONV_STRIDE_H, 0), 3);
    CHECK_EQ(toon_tflite_op_option_int(m, 1, TOON_TFLITE_CONV_ACTIVATION, 0), 1);
    /* Fields past the table's vtable are absent: the default comes back. */
    CHECK_EQ(toon_tflite_op_option_int(m, 1, TOON_TFLITE_CONV_DILATION_H, 1), 1);
    CHECK_EQ(toon_tflite_op_option_int(m, 0, TOON_TFLITE_CONV_STRIDE_W, 9), 9);
    CHECK_NEAR(toon_tflite_op_option_float(m, 0, TOON_TFLITE_LEAKY_RELU_ALPHA, 0.5f), 0.5, 0);
    toon_tflite_free(m);
    free(buf);
}

static void expect_open_error(enum tiny_variant v, enum toon_status want, const char *msg)
{
    size_t len;
    uint8_t *buf = build_quant_model(v, &len);
    struct toon_tflite *m = (struct toon_tflite *)&len; /* must be reset to NULL */
    struct toon_err err = {{0}};
    enum toon_status st = toon_tflite_open(buf, len, &m, &err);
    free(buf);
    CHECK(m == NULL);
    CHECK_EQ(st, want);
    CHECK_STR_CONTAINS(err.msg, msg);
}

static void test_corrupt_models(void)
{
    expect_open_error(TINY_BAD_BUFFER, TOON_STATUS_CORRUPT,
                      "corrupt TFLite: tensor 2 buffer 99 out of range");
    expect_open_error(TINY_SHORT_DATA, TOON_STATUS_CORRUPT,
                      "tensor 1 (w_i8) has 5 bytes of data, its shape needs 6");
    expect_open_error(TINY_BAD_INPUT, TOON_STATUS_CORRUPT,
                      "operator 1 refers to tensor 99, out of range");
    expect_open_error(TINY_BAD_AXIS, TOON_STATUS_CORRUPT, "tensor 1 has 2 scales that match");

    struct toon_tflite *m;
    struct toon_err err = {{0}};
    const uint8_t junk[16] = "PNG is not TFL3";
    CHECK_EQ(toon_tflite_open(junk, sizeof junk, &m, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "not a TFLite file");
    CHECK_EQ(toon_tflite_open(junk, 5, &m, &err), TOON_STATUS_CORRUPT);
    CHECK_EQ(toon_tflite_open(NULL, 0, &m, &err), TOON_STATUS_CORRUPT);
    uint8_t hdr[8] = {0xf0, 0xff, 0xff, 0x7f, 'T', 'F', 'L', '3'};
    CHECK_EQ(toon_tflite_open(hdr, sizeof hdr, &m, &err), TOON_STATUS_CORRUPT);
    CHECK_STR_CONTAINS(err.msg, "corrupt TFLite: bad root table");
}

static void expect_gen_error(const uint8_t *buf, size_t len, enum toon_status want, const char *msg)
{
    struct toon_gen_weights gw, untouched;
    struct toon_err err = {{0}};
    memset(&gw, 0x5a, sizeof gw);
    memset(&untouched, 0x5a, sizeof untouched);
    size_t before = toon_alloc_current();
    enum toon_status st = toon_tflite_read_generator(buf, len, &gw, &err);
    CHECK_EQ(toon_alloc_current(), before);
    CHECK_EQ(st, want);
    CHECK_STR_CONTAINS(err.msg, msg);
    CHECK(!strchr(err.msg, '\n'));
    CHECK(memcmp(&gw, &untouched, sizeof gw) == 0); /* left as it was on failure */
}

static void test_not_a_generator(void)
{
    size_t len;
    uint8_t *buf = build_tiny_conv(&len);
    expect_gen_error(buf, len, TOON_STATUS_MODEL,
                     "not a DCT-Net generator: no convolution named generator/Conv");
    free(buf);

    struct {
        enum mini_variant v;
        enum toon_status st;
        const char *msg;
    } cases[] = {
        /* Everything about the graph is right but the layer shapes. */
        {MINI_OK, TOON_STATUS_MODEL, "generator/Conv has shape k=1 stride=1 1->1, expected k=7"},
        {MINI_NO_CONV9, TOON_STATUS_MODEL, "no convolution named generator/Conv_9"},
        {MINI_BAD_BIAS_NAME, TOON_STATUS_MODEL, "the bias of generator/Conv_4 is named"},
        {MINI_VALID_PADDING, TOON_STATUS_MODEL, "generator/Conv_2 uses VALID padding"},
        {MINI_ALIGN_CORNERS, TOON_STATUS_MODEL, "uses align_corners or half_pixel_centers"},
        {MINI_ALPHA, TOON_STATUS_MODEL, "has slope 0.1, expected 0.2"},
        {MINI_TWO_EPS, TOON_STATUS_MODEL, "2 additions of a scalar constant"},
        {MINI_BOX_VALUE, TOON_STATUS_MODEL, "box kernel value 1 is not about 1/9"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        buf = build_mini_generator(cases[i].v, &len);
        CHECK_INT(len, <, 20000); /* also the fuzz seed: keep it small */
        expect_gen_error(buf, len, cases[i].st, cases[i].msg);
        free(buf);
    }
}

/* ---------------------------------------------------------------- damaged files */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Reads the generator from damaged bytes: OK, or one clear line of error.  No leak. */
static int try_damaged(const uint8_t *buf, size_t len, const char *how, size_t where)
{
    struct toon_gen_weights gw;
    struct toon_err err = {{0}};
    size_t before = toon_alloc_current();
    enum toon_status st = toon_tflite_read_generator(buf, len, &gw, &err);
    if (st == TOON_STATUS_OK) toon_gen_weights_free(&gw);
    if (toon_alloc_current() != before) TEST_FAIL_("%s at %zu: leak", how, where);
    if (st == TOON_STATUS_OK) return 1;
    if (st == TOON_STATUS_NO_MEMORY || st == TOON_STATUS_INTERNAL || !err.msg[0] ||
        strchr(err.msg, '\n'))
        TEST_FAIL_("%s at %zu: %s: \"%s\"", how, where, toon_status_str(st), err.msg);
    return 0;
}

/* Marks the bytes of tensor data and of tensor names: changing those only changes weights
 * or names, so the mutation tests aim mostly at the rest (offsets, vtables, shapes, types,
 * buffer and tensor indices, lengths). */
static uint8_t *data_mask(const uint8_t *buf, size_t len)
{
    struct toon_tflite *m;
    struct toon_err err;
    uint8_t *mask = calloc(len, 1);
    if (!mask || toon_tflite_open(buf, len, &m, &err) != TOON_STATUS_OK) abort();
    for (int i = 0; i < toon_tflite_n_tensors(m); i++) {
        struct toon_tflite_tensor t;
        toon_tflite_tensor(m, i, &t, NULL);
        if (t.data) memset(mask + (t.data - buf), 1, t.n_bytes);
        size_t n = strlen(t.name);
        const uint8_t *at = n ? memmem(buf, len, t.name, n) : NULL;
        if (at) memset(mask + (at - buf), 1, n);
    }
    toon_tflite_free(m);
    return mask;
}

/* A random position outside tensor data (the FlatBuffer structure), or anywhere 1 time in 8. */
static size_t pick_pos(const uint8_t *mask, size_t len)
{
    for (;;) {
        size_t p = (size_t)(rng() % len);
        if (!mask[p] || rng() % 8 == 0) return p;
    }
}

static void test_truncated(void)
{
    size_t len;
    unsigned char *buf = load_model("whitebox_cartoon_gan_fp16.tflite", &len);
    uint8_t *mask = data_mask(buf, len);
    int n_ok = 0, n = 0;
    /* Every length up to 1 KB, every 97th byte of the rest, and 300 random ones near the
     * structure.  The tail of the file is structure, so short cuts fail there too. */
    for (size_t cut = 0; cut < len; cut += cut < 1024 ? 1 : 97, n++)
        n_ok += try_damaged(buf, cut, "truncation", cut);
    for (int i = 0; i < 300; i++, n++) {
        size_t cut = pick_pos(mask, len);
        n_ok += try_damaged(buf, cut, "truncation", cut);
    }
    for (size_t cut = len - 64; cut < len; cut++, n++)
        n_ok += try_damaged(buf, cut, "truncation", cut);
    fprintf(stderr, "  %d truncations, %d still read (the cut fell after every referenced byte)\n",
            n, n_ok);
    free(mask);
    free(buf);
}

static void test_mutated(void)
{
    size_t len;
    unsigned char *buf = load_model("whitebox_cartoon_gan_fp16.tflite", &len);
    uint8_t *mask = data_mask(buf, len);
    /* Each mutation that still reads costs a full extraction (~5 ms), so the unit run does
     * 1000 of each kind; the "slow" ctest entry sets TOON_TFLITE_MUTATIONS much higher. */
    const char *env = getenv("TOON_TFLITE_MUTATIONS");
    int n_each = env && atoi(env) > 0 ? atoi(env) : 1000;
    int n_ok = 0, n = 0;
    for (int i = 0; i < n_each; i++, n++) { /* single bit flips */
        size_t p = pick_pos(mask, len);
        uint8_t old = buf[p];
        buf[p] ^= (uint8_t)(1u << (rng() % 8));
        n_ok += try_damaged(buf, len, "bit flip", p);
        buf[p] = old;
    }
    for (int i = 0; i < n_each; i++, n++) { /* random or extreme u32 overwrites */
        size_t p = pick_pos(mask, len - 4);
        uint8_t old[4];
        memcpy(old, buf + p, 4);
        static const uint32_t extreme[] = {0,          1,          0x7fffffff, 0x80000000,
                                           0xffffffff, 0xfffffffc, 4,          0x10000};
        uint32_t v = rng() % 2 ? (uint32_t)rng() : extreme[rng() % 8];
        memcpy(buf + p, &v, 4);
        n_ok += try_damaged(buf, len, "u32 overwrite", p);
        memcpy(buf + p, old, 4);
    }
    fprintf(stderr, "  %d mutations, %d still read as a generator\n", n, n_ok);
    free(mask);
    free(buf);
}

/* Mutations of the small hand-built generator reach the later checks more often. */
static void test_mutated_mini(void)
{
    size_t len;
    uint8_t *buf = build_mini_generator(MINI_OK, &len);
    for (int i = 0; i < 5000; i++) {
        size_t p = (size_t)(rng() % (len - 4));
        uint8_t old[4];
        memcpy(old, buf + p, 4);
        if (i % 2) {
            buf[p] ^= (uint8_t)(1u << (rng() % 8));
        } else {
            uint32_t v = (uint32_t)rng() >> (rng() % 32);
            memcpy(buf + p, &v, 4);
        }
        try_damaged(buf, len, "mini mutation", p);
        memcpy(buf + p, old, 4);
    }
    free(buf);
}

/* Every allocation failing in turn: NO_MEMORY, nothing leaked, then success. */
static void test_alloc_failures(void)
{
    size_t len;
    unsigned char *buf = load_model("whitebox_cartoon_gan_dr.tflite", &len);
    size_t before = toon_alloc_current();
    int n;
    for (n = 1; n < 1000; n++) {
        struct toon_gen_weights gw;
        struct toon_err err = {{0}};
        toon_alloc_fail_after(n);
        enum toon_status st = toon_tflite_read_generator(buf, len, &gw, &err);
        toon_alloc_fail_after(0);
        if (st == TOON_STATUS_OK) {
            toon_gen_weights_free(&gw);
            break;
        }
        if (st != TOON_STATUS_NO_MEMORY) {
            free(buf);
            TEST_FAIL_("allocation %d failing gave %s: %s", n, toon_status_str(st), err.msg);
        }
        CHECK_STR_CONTAINS(err.msg, "out of memory");
        CHECK_EQ(toon_alloc_current(), before);
    }
    free(buf);
    CHECK_INT(n, >, 20); /* the open's and each layer's allocations were all exercised */
    CHECK_INT(n, <, 1000);
    CHECK_EQ(toon_alloc_current(), before);
}

/* Writes the fuzz seed corpus when TOON_TFLITE_WRITE_CORPUS names a directory. */
static void write_file(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len) TEST_FAIL_("cannot write %s", path);
    fclose(f);
}

static void test_write_corpus(void)
{
    const char *dir = getenv("TOON_TFLITE_WRITE_CORPUS");
    if (!dir || !*dir) return;
    size_t len;
    uint8_t *buf = build_mini_generator(MINI_OK, &len);
    write_file(dir, "mini_generator.tflite", buf, len);
    write_file(dir, "mini_generator_prefix.tflite", buf, len / 3);
    free(buf);
    buf = build_mini_generator(MINI_TWO_EPS, &len);
    write_file(dir, "mini_generator_two_eps.tflite", buf, len);
    free(buf);
    buf = build_tiny_conv(&len);
    write_file(dir, "tiny_conv.tflite", buf, len);
    free(buf);
    buf = build_quant_model(TINY_OK, &len);
    write_file(dir, "quant.tflite", buf, len);
    free(buf);
    /* The mini generator with a few words overwritten (no bytes of the shared model files go
     * into the corpus: they are third-party). */
    buf = build_mini_generator(MINI_OK, &len);
    for (int i = 0; i < 6; i++) {
        uint32_t v = (uint32_t)rng();
        memcpy(buf + (size_t)(rng() % (len - 4)), &v, 4);
    }
    write_file(dir, "mini_generator_mutated.tflite", buf, len);
    free(buf);
}

static const struct test_case tests[] = {
    {"fp16_generator", test_fp16_generator}, {"dr_generator", test_dr_generator},
    {"int8_generator", test_int8_generator}, {"files_agree", test_files_agree},
    {"reader_fp16", test_reader_fp16},       {"handbuilt_reader", test_handbuilt_reader},
    {"corrupt_models", test_corrupt_models}, {"not_a_generator", test_not_a_generator},
    {"truncated", test_truncated},           {"mutated", test_mutated},
    {"mutated_mini", test_mutated_mini},     {"alloc_failures", test_alloc_failures},
    {"write_corpus", test_write_corpus},
};

TEST_MAIN(tests)

// clang-format off
/*
 * Appendix: the script that computed the expected weights above (python3 with numpy;
 * run as `python3 vec.py ../shared/models/whitebox_cartoon_gan_<fp16|dr|int8>.tflite`).
 *
 * import struct, sys, numpy as np
 * b = open(sys.argv[1], 'rb').read()
 * u16 = lambda o: struct.unpack_from('<H', b, o)[0]
 * u32 = lambda o: struct.unpack_from('<I', b, o)[0]
 * def fld(t, i):  # position of field i of the table at t, or None
 *     vt = t - struct.unpack_from('<i', b, t)[0]
 *     off = u16(vt + 4 + 2 * i) if 4 + 2 * i < u16(vt) else 0
 *     return t + off if off else None
 * ref = lambda p: p + u32(p)
 * def vec(t, i, fmt):
 *     p = fld(t, i)
 *     if p is None: return []
 *     v = ref(p); n = u32(v)
 *     if not fmt: return [ref(v + 4 + 4 * k) for k in range(n)]
 *     return list(struct.unpack_from('<%d%s' % (n, fmt), b, v + 4))
 * def scal(t, i, fmt, d=0):
 *     return d if fld(t, i) is None else struct.unpack_from('<' + fmt, b, fld(t, i))[0]
 * root = ref(0)
 * codes = [max(scal(c, 0, 'b'), scal(c, 3, 'i')) for c in vec(root, 1, None)]
 * bufs = vec(root, 4, None)
 * sg = vec(root, 2, None)[0]
 * T = []
 * for t in vec(sg, 0, None):
 *     shape, ty, name = vec(t, 0, 'i'), scal(t, 1, 'b'), bytes(vec(t, 3, 'B')).decode()
 *     data = bytes(vec(bufs[scal(t, 2, 'I')], 0, 'B'))
 *     q = ref(fld(t, 4)) if fld(t, 4) else None
 *     sc = np.array(vec(q, 2, 'f') if q else [], np.float64)
 *     zp = np.array(vec(q, 3, 'q') if q else [], np.float64)
 *     ax = scal(q, 6, 'i') if q else 0
 *     if not data: a = None
 *     elif ty == 1: a = np.frombuffer(data, '<f2').astype(np.float32).reshape(shape)
 *     elif ty == 0: a = np.frombuffer(data, '<f4').reshape(shape)
 *     else:
 *         a = np.frombuffer(data, {9: 'i1', 2: '<i4'}[ty]).astype(np.float64).reshape(shape)
 *         if len(sc) > 1:  # (q - zero_point) * scale, per channel along axis ax
 *             bs = [1] * len(shape); bs[ax] = -1
 *             a = ((a - zp.reshape(bs)) * sc.reshape(bs)).astype(np.float32)
 *         elif len(sc):
 *             a = ((a - zp[0]) * sc[0]).astype(np.float32)
 *     T.append((name, a))
 * ops = [(codes[scal(o, 0, 'I')], vec(o, 1, 'i'), vec(o, 2, 'i')) for o in vec(sg, 3, None)]
 * prod = {t: (c, i) for c, i, o in ops for t in o}
 * def const(t):
 *     while T[t][1] is None: c, i = prod[t]; assert c == 6; t = i[0]
 *     return T[t]
 * W = {}
 * for c, i, o in ops:
 *     if c == 3:
 *         (kn, k), (bn, bb) = const(i[1]), const(i[2])
 *         s = kn[len('generator/'):-len('/Conv2D')]
 *         assert kn == 'generator/%s/Conv2D' % s and 'generator/%s/biases' % s in bn
 *         W[s] = (k, bb)
 * for s, idx in [('Conv', (0, 0, 0, 0)), ('Conv', (31, 6, 6, 2)), ('Conv_1', (7, 1, 2, 19)),
 *                ('block_2/conv1', (5, 1, 2, 77)), ('Conv_9', (2, 3, 4, 31)),
 *                ('Conv_5', (63, 2, 0, 127))]:
 *     print('w %s%s = %.9g' % (s, idx, W[s][0][idx]))
 * for s, o in [('Conv', 0), ('Conv_1', 31), ('Conv_9', 2), ('block_3/conv2', 100)]:
 *     print('b %s[%d] = %.9g' % (s, o, W[s][1][o]))
 */
// clang-format on
