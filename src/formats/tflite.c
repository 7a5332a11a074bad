/*
 * The generic TFLite reader (see tflite.h): a walk over the FlatBuffer that checks every
 * reference and builds an index of the main subgraph's tensors and operators.
 *
 * Everything the view copies out of the file (names, quantisation parameters, operator index
 * arrays, graph inputs and outputs) lives in one pool allocation.  The parse runs twice: the
 * first pass validates and adds up the pool's size, the second fills it; so an open costs a
 * handful of allocations however large the graph.  FlatBuffers lets many objects share one
 * string or vector, so a small hostile file could ask for an enormous amount of copies; the
 * pool is therefore capped at twice the file size (an honest file copies each byte once).
 */
#include "formats/tflite.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/flatbuf.h"

#define MAX_DIMS         8
#define MAX_TENSORS      (1 << 18)
#define MAX_OPS          (1 << 18)
#define MAX_DEQUANT_HOPS 4

struct op_rec {
    struct toon_tflite_op op;
    int has_options;
    struct toon_fb_table options; /* valid when has_options */
};

struct toon_tflite {
    struct toon_fb fb;
    int n_tensors, n_ops, n_inputs, n_outputs;
    struct toon_tflite_tensor *tensors; /* [n_tensors] */
    struct op_rec *ops;                 /* [n_ops] */
    int32_t *producer;                  /* [n_tensors] op index or -1 */
    const int32_t *inputs;              /* [n_inputs], in the pool */
    const int32_t *outputs;             /* [n_outputs], in the pool */
    uint8_t *pool;                      /* copies of the file's variable-size data */
};

/* State of one parse pass. */
struct parse {
    struct toon_tflite *m;
    struct toon_fb_vec tensors, ops, buffers, opcodes;
    struct toon_fb_table graph;
    int filling;       /* 0: sizing pass, 1: copying into m->pool */
    size_t pool_bytes; /* used so far */
    size_t pool_limit;
};

static enum toon_status corrupt(struct toon_err *err, const char *what)
{
    return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt TFLite: %s", what);
}

/* Byte size of one element, or 0 for types without a fixed size (strings, resources, int4). */
static size_t elem_bytes(int type)
{
    switch (type) {
    case TOON_TFLITE_FLOAT32:
    case TOON_TFLITE_INT32:
        return 4;
    case TOON_TFLITE_FLOAT16:
    case TOON_TFLITE_INT16:
        return 2;
    case TOON_TFLITE_UINT8:
    case TOON_TFLITE_INT8:
    case TOON_TFLITE_BOOL:
        return 1;
    case TOON_TFLITE_INT64:
    case TOON_TFLITE_FLOAT64:
        return 8;
    case 8:
        return 8; /* COMPLEX64 */
    case 11:
        return 16; /* COMPLEX128 */
    case 12:
        return 8; /* UINT64 */
    case 15:
        return 4; /* UINT32 */
    case 16:
        return 2; /* UINT16 */
    default:
        return 0;
    }
}

/* prod(dims) into *out; 0 (failure) for a negative dim or on overflow. */
static int dims_product(const int *dims, int n_dims, size_t *out)
{
    size_t n = 1;
    for (int i = 0; i < n_dims; i++) {
        if (dims[i] < 0 || !toon_size_mul(n, (size_t)dims[i], &n)) return 0;
    }
    *out = n;
    return 1;
}

size_t toon_tflite_tensor_n_elems(const struct toon_tflite_tensor *t)
{
    size_t n;
    if (t->n_dims < 0 || t->n_dims > MAX_DIMS) return 0;
    return dims_product(t->dims, t->n_dims, &n) ? n : 0;
}

/* Copies a name from the file, with bytes outside printable ASCII replaced by '?' so that
 * names can go into one-line messages; at most cap - 1 bytes and a NUL. */
static void copy_name(char *dst, size_t cap, const uint8_t *src, size_t n)
{
    if (n > cap - 1) n = cap - 1;
    for (size_t i = 0; i < n; i++) dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
    dst[n] = '\0';
}

/* Reserves n_bytes (8-byte aligned) in the pool; *out is NULL in the sizing pass. */
static int pool_take(struct parse *p, size_t n_bytes, void **out)
{
    size_t n = (n_bytes + 7) & ~(size_t)7;
    if (n < n_bytes || n > p->pool_limit - p->pool_bytes) return -1;
    *out = p->filling ? p->m->pool + p->pool_bytes : NULL;
    p->pool_bytes += n;
    return 0;
}

/* Copies a vector of int32 tensor indices, each -1 (if allow_none) or a valid index. */
static enum toon_status copy_indices(struct parse *p, const struct toon_fb_vec *v, int allow_none,
                                     const int32_t **out, int *n_out, const char *what, int index,
                                     struct toon_err *err)
{
    int32_t *dst;
    if (v->n > INT_MAX || pool_take(p, v->n * sizeof *dst, (void **)&dst) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: %s %d: index list larger than the file allows", what,
                            index);
    for (size_t i = 0; i < v->n; i++) {
        int32_t t = toon_fb_load_i32(p->m->fb.data + v->pos + 4 * i);
        if (t < (allow_none ? -1 : 0) || t >= p->m->n_tensors)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "corrupt TFLite: %s %d refers to tensor %d, out of range (%d "
                                "tensors)",
                                what, index, (int)t, p->m->n_tensors);
        if (dst) dst[i] = t;
    }
    *out = dst;
    *n_out = (int)v->n;
    return TOON_STATUS_OK;
}

/* The constant data of buffer b (NULL, 0 when empty). */
static enum toon_status buffer_data(struct parse *p, int tensor, uint32_t b, const uint8_t **data,
                                    size_t *n_bytes, struct toon_err *err)
{
    const struct toon_fb *fb = &p->m->fb;
    *data = NULL;
    *n_bytes = 0;
    if (b == 0 && p->buffers.n == 0) return TOON_STATUS_OK; /* no buffer list: nothing stored */
    if (b >= p->buffers.n)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d buffer %u out of range (%zu buffers)",
                            tensor, (unsigned)b, p->buffers.n);
    struct toon_fb_table bt;
    struct toon_fb_vec v;
    uint64_t off, size;
    int r;
    if (toon_fb_vec_table(fb, &p->buffers, b, &bt) < 0 ||
        (r = toon_fb_field_vec(fb, &bt, 0, 1, &v)) < 0 ||
        toon_fb_uint(fb, &bt, 1, 8, 0, &off) < 0 || toon_fb_uint(fb, &bt, 2, 8, 0, &size) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt TFLite: buffer %u (of tensor %d)",
                            (unsigned)b, tensor);
    if (r == 1 && v.n > 0) {
        *data = fb->data + v.pos;
        *n_bytes = v.n;
    } else if (off > 1 && size > 0) {
        /* Large models keep buffers after the FlatBuffer, at an offset from the file start. */
        if (off > fb->len || size > fb->len - off)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "corrupt TFLite: buffer %u (of tensor %d) lies outside the file",
                                (unsigned)b, tensor);
        *data = fb->data + off;
        *n_bytes = (size_t)size;
    }
    return TOON_STATUS_OK;
}

static enum toon_status parse_quant(struct parse *p, int index, const struct toon_fb_table *q,
                                    struct toon_tflite_tensor *t, struct toon_err *err)
{
    const struct toon_fb *fb = &p->m->fb;
    struct toon_fb_vec sc = {0, 0}, zp = {0, 0};
    int64_t axis;
    if (toon_fb_field_vec(fb, q, 2, 4, &sc) < 0 || toon_fb_field_vec(fb, q, 3, 8, &zp) < 0 ||
        toon_fb_int(fb, q, 6, 4, 0, &axis) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d quantisation parameters", index);
    if (sc.n == 0) return TOON_STATUS_OK; /* min/max only, or custom: not dequantisable */
    if (zp.n != 0 && zp.n != sc.n)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d has %zu zero points for %zu scales", index,
                            zp.n, sc.n);
    if (sc.n > 1 && (axis < 0 || axis >= t->n_dims || (size_t)t->dims[axis] != sc.n))
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d has %zu scales that match no dimension "
                            "(axis %lld)",
                            index, sc.n, (long long)axis);
    float *scales;
    int64_t *zps;
    if (sc.n > INT_MAX || pool_take(p, sc.n * sizeof *scales, (void **)&scales) < 0 ||
        pool_take(p, sc.n * sizeof *zps, (void **)&zps) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d quantisation larger than the file allows",
                            index);
    if (scales) {
        for (size_t i = 0; i < sc.n; i++) {
            scales[i] = toon_fb_load_f32(fb->data + sc.pos + 4 * i);
            zps[i] = zp.n ? toon_fb_load_i64(fb->data + zp.pos + 8 * i) : 0;
        }
    }
    t->n_scales = (int)sc.n;
    t->scales = scales;
    t->zero_points = zps;
    t->quant_axis = sc.n > 1 ? (int)axis : 0;
    return TOON_STATUS_OK;
}

static enum toon_status parse_tensor(struct parse *p, int index, struct toon_err *err)
{
    const struct toon_fb *fb = &p->m->fb;
    struct toon_tflite_tensor *t = &p->m->tensors[index];
    struct toon_fb_table tt, q;
    struct toon_fb_vec shape = {0, 0};
    int64_t type;
    uint64_t buffer;
    const uint8_t *name = NULL;
    size_t n_name = 0;
    int has_q;
    enum toon_status st;

    memset(t, 0, sizeof *t);
    if (toon_fb_vec_table(fb, &p->tensors, (size_t)index, &tt) < 0 ||
        toon_fb_field_vec(fb, &tt, 0, 4, &shape) < 0 || toon_fb_int(fb, &tt, 1, 1, 0, &type) < 0 ||
        toon_fb_uint(fb, &tt, 2, 4, 0, &buffer) < 0 ||
        toon_fb_field_str(fb, &tt, 3, &name, &n_name) < 0 ||
        (has_q = toon_fb_field_table(fb, &tt, 4, &q)) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d: bad offset or field", index);

    char *copy, preview[64]; /* the name, shortened, for messages */
    copy_name(preview, sizeof preview, name, n_name);
    if (pool_take(p, n_name + 1, (void **)&copy) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d name larger than the file allows", index);
    if (copy) copy_name(copy, n_name + 1, name, n_name);
    t->name = copy;
    t->type = (int)type;

    if (shape.n > MAX_DIMS)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: tensor %d has %zu dimensions (at most %d)", index,
                            shape.n, MAX_DIMS);
    t->n_dims = (int)shape.n;
    for (int i = 0; i < t->n_dims; i++) t->dims[i] = toon_fb_load_i32(fb->data + shape.pos + 4 * i);

    if (has_q && (st = parse_quant(p, index, &q, t, err)) != TOON_STATUS_OK) return st;
    if ((st = buffer_data(p, index, (uint32_t)buffer, &t->data, &t->n_bytes, err)) !=
        TOON_STATUS_OK)
        return st;
    if (t->data && elem_bytes(t->type)) {
        size_t n, n_bytes;
        if (!dims_product(t->dims, t->n_dims, &n) ||
            !toon_size_mul(n, elem_bytes(t->type), &n_bytes))
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "corrupt TFLite: tensor %d (%s) has an invalid shape", index,
                                preview);
        if (n_bytes != t->n_bytes)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "corrupt TFLite: tensor %d (%s) has %zu bytes of data, its shape "
                                "needs %zu",
                                index, preview, t->n_bytes, n_bytes);
    }
    return TOON_STATUS_OK;
}

static enum toon_status parse_op(struct parse *p, int index, struct toon_err *err)
{
    const struct toon_fb *fb = &p->m->fb;
    struct op_rec *o = &p->m->ops[index];
    struct toon_fb_table ot, ct;
    struct toon_fb_vec ins = {0, 0}, outs = {0, 0};
    uint64_t opcode, opt_type;
    int64_t dep_code, code;
    int has_opt;
    enum toon_status st;

    memset(o, 0, sizeof *o);
    if (toon_fb_vec_table(fb, &p->ops, (size_t)index, &ot) < 0 ||
        toon_fb_uint(fb, &ot, 0, 4, 0, &opcode) < 0 || toon_fb_field_vec(fb, &ot, 1, 4, &ins) < 0 ||
        toon_fb_field_vec(fb, &ot, 2, 4, &outs) < 0 ||
        toon_fb_uint(fb, &ot, 3, 1, 0, &opt_type) < 0 ||
        (has_opt = toon_fb_field_table(fb, &ot, 4, &o->options)) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: operator %d: bad offset or field", index);
    if (opcode >= p->opcodes.n)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "corrupt TFLite: operator %d has opcode %llu, out of range (%zu "
                            "codes)",
                            index, (unsigned long long)opcode, p->opcodes.n);
    if (toon_fb_vec_table(fb, &p->opcodes, (size_t)opcode, &ct) < 0 ||
        toon_fb_int(fb, &ct, 0, 1, 0, &dep_code) < 0 || toon_fb_int(fb, &ct, 3, 4, 0, &code) < 0)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt TFLite: operator code %llu",
                            (unsigned long long)opcode);
    /* Old files store the code in the i8 field only, new ones in both (127 = "see the i32"). */
    o->op.builtin_code = (int)(dep_code > code ? dep_code : code);
    o->op.options_type = (int)opt_type;
    o->has_options = has_opt;
    if ((st = copy_indices(p, &ins, 1, &o->op.inputs, &o->op.n_inputs, "operator", index, err)) !=
        TOON_STATUS_OK)
        return st;
    if ((st = copy_indices(p, &outs, 1, &o->op.outputs, &o->op.n_outputs, "operator", index,
                           err)) != TOON_STATUS_OK)
        return st;
    for (int i = 0; i < o->op.n_outputs && p->filling; i++) {
        int32_t t = o->op.outputs[i];
        if (t < 0) continue;
        if (p->m->producer[t] >= 0)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "corrupt TFLite: tensor %d is written by operators %d and %d",
                                (int)t, (int)p->m->producer[t], index);
        p->m->producer[t] = index;
    }
    return TOON_STATUS_OK;
}

static enum toon_status parse_all(struct parse *p, struct toon_err *err)
{
    struct toon_tflite *m = p->m;
    struct toon_fb_vec gin = {0, 0}, gout = {0, 0};
    enum toon_status st;

    p->pool_bytes = 0;
    for (int i = 0; i < m->n_tensors; i++) m->producer[i] = -1;
    for (int i = 0; i < m->n_tensors; i++)
        if ((st = parse_tensor(p, i, err)) != TOON_STATUS_OK) return st;
    for (int i = 0; i < m->n_ops; i++)
        if ((st = parse_op(p, i, err)) != TOON_STATUS_OK) return st;
    if (toon_fb_field_vec(&m->fb, &p->graph, 1, 4, &gin) < 0 ||
        toon_fb_field_vec(&m->fb, &p->graph, 2, 4, &gout) < 0)
        return corrupt(err, "subgraph inputs or outputs");
    if ((st = copy_indices(p, &gin, 0, &m->inputs, &m->n_inputs, "graph input list", 0, err)) !=
        TOON_STATUS_OK)
        return st;
    return copy_indices(p, &gout, 0, &m->outputs, &m->n_outputs, "graph output list", 0, err);
}

enum toon_status toon_tflite_open(const uint8_t *data, size_t len, struct toon_tflite **out,
                                  struct toon_err *err)
{
    struct toon_tflite *m = NULL;
    struct parse p;
    struct toon_fb_table root;
    struct toon_fb_vec subgraphs;
    enum toon_status st;
    int r;

    *out = NULL;
    memset(&p, 0, sizeof p);
    if (!data || len < 8)
        return toon_err_set(err, TOON_STATUS_CORRUPT, "corrupt TFLite: file is %zu bytes", len);
    if (memcmp(data + 4, "TFL3", 4) != 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "not a TFLite file (no TFL3 identifier at byte 4)");

    m = toon_calloc(1, sizeof *m);
    if (!m) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening a TFLite file");
    m->fb.data = data;
    m->fb.len = len;
    p.m = m;

    if (toon_fb_root(&m->fb, &root) < 0) {
        st = corrupt(err, "bad root table");
        goto fail;
    }
    if ((r = toon_fb_field_vec(&m->fb, &root, 2, 4, &subgraphs)) < 0 ||
        toon_fb_field_vec(&m->fb, &root, 1, 4, &p.opcodes) < 0 ||
        toon_fb_field_vec(&m->fb, &root, 4, 4, &p.buffers) < 0) {
        st = corrupt(err, "bad model table");
        goto fail;
    }
    if (r == 0 || subgraphs.n == 0) {
        st = corrupt(err, "no subgraph");
        goto fail;
    }
    if (toon_fb_vec_table(&m->fb, &subgraphs, 0, &p.graph) < 0 ||
        toon_fb_field_vec(&m->fb, &p.graph, 0, 4, &p.tensors) < 0 ||
        toon_fb_field_vec(&m->fb, &p.graph, 3, 4, &p.ops) < 0) {
        st = corrupt(err, "bad subgraph table");
        goto fail;
    }
    if (p.tensors.n > MAX_TENSORS || p.ops.n > MAX_OPS) {
        st = toon_err_set(err, TOON_STATUS_TOO_LARGE,
                          "TFLite graph has %zu tensors and %zu operators (at most %d each)",
                          p.tensors.n, p.ops.n, MAX_TENSORS);
        goto fail;
    }
    m->n_tensors = (int)p.tensors.n;
    m->n_ops = (int)p.ops.n;
    m->tensors = toon_calloc(p.tensors.n ? p.tensors.n : 1, sizeof *m->tensors);
    m->ops = toon_calloc(p.ops.n ? p.ops.n : 1, sizeof *m->ops);
    m->producer = toon_calloc(p.tensors.n ? p.tensors.n : 1, sizeof *m->producer);
    if (!m->tensors || !m->ops || !m->producer) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening a TFLite file");
        goto fail;
    }

    /* Pass 1 validates and sizes the pool; pass 2 copies into it. */
    p.pool_limit = len > (SIZE_MAX - 65536) / 2 ? SIZE_MAX : 2 * len + 65536;
    p.filling = 0;
    if ((st = parse_all(&p, err)) != TOON_STATUS_OK) goto fail;
    m->pool = toon_malloc(p.pool_bytes ? p.pool_bytes : 1);
    if (!m->pool) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening a TFLite file");
        goto fail;
    }
    p.filling = 1;
    if ((st = parse_all(&p, err)) != TOON_STATUS_OK) goto fail;
    *out = m;
    return TOON_STATUS_OK;

fail:
    toon_tflite_free(m);
    return st;
}

void toon_tflite_free(struct toon_tflite *m)
{
    if (!m) return;
    toon_free(m->tensors);
    toon_free(m->ops);
    toon_free(m->producer);
    toon_free(m->pool);
    toon_free(m);
}

int toon_tflite_n_tensors(const struct toon_tflite *m)
{
    return m->n_tensors;
}

int toon_tflite_n_ops(const struct toon_tflite *m)
{
    return m->n_ops;
}

int toon_tflite_graph_inputs(const struct toon_tflite *m, const int32_t **out)
{
    *out = m->inputs;
    return m->n_inputs;
}

int toon_tflite_graph_outputs(const struct toon_tflite *m, const int32_t **out)
{
    *out = m->outputs;
    return m->n_outputs;
}

int toon_tflite_find_tensor(const struct toon_tflite *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0) return i;
    return -1;
}

enum toon_status toon_tflite_tensor(const struct toon_tflite *m, int index,
                                    struct toon_tflite_tensor *out, struct toon_err *err)
{
    if (index < 0 || index >= m->n_tensors)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "tensor %d out of range (%d tensors)", index, m->n_tensors);
    *out = m->tensors[index];
    return TOON_STATUS_OK;
}

enum toon_status toon_tflite_op(const struct toon_tflite *m, int index, struct toon_tflite_op *out,
                                struct toon_err *err)
{
    if (index < 0 || index >= m->n_ops)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "operator %d out of range (%d operators)", index, m->n_ops);
    *out = m->ops[index].op;
    return TOON_STATUS_OK;
}

int toon_tflite_producer(const struct toon_tflite *m, int tensor_index)
{
    if (tensor_index < 0 || tensor_index >= m->n_tensors) return -1;
    return m->producer[tensor_index];
}

int toon_tflite_const_source(const struct toon_tflite *m, int tensor_index)
{
    for (int hop = 0; hop <= MAX_DEQUANT_HOPS; hop++) {
        if (tensor_index < 0 || tensor_index >= m->n_tensors) return -1;
        if (m->tensors[tensor_index].data) return tensor_index;
        int op = m->producer[tensor_index];
        if (op < 0) return -1;
        const struct toon_tflite_op *o = &m->ops[op].op;
        if (o->builtin_code != TOON_TFLITE_OP_DEQUANTIZE || o->n_inputs < 1) return -1;
        tensor_index = o->inputs[0];
    }
    return -1;
}

/* Reads an option field; 0 when absent or malformed (then *out is untouched). */
static int option_field(const struct toon_tflite *m, int op_index, int field, size_t n_bytes,
                        int64_t *out)
{
    if (op_index < 0 || op_index >= m->n_ops || !m->ops[op_index].has_options) return 0;
    int index = field & 0xff;
    size_t pos;
    if (toon_fb_field(&m->fb, &m->ops[op_index].options, index, n_bytes, &pos) != 1) return 0;
    return toon_fb_int(&m->fb, &m->ops[op_index].options, index, n_bytes, 0, out) == 0;
}

int toon_tflite_op_option_int(const struct toon_tflite *m, int op_index, int field, int def)
{
    int n_bytes = (field >> 8) & 0xff;
    int64_t v;
    if (n_bytes != 1 && n_bytes != 2 && n_bytes != 4) return def;
    if (!option_field(m, op_index, field, (size_t)n_bytes, &v)) return def;
    return (int)v; /* at most 4 bytes: always fits */
}

float toon_tflite_op_option_float(const struct toon_tflite *m, int op_index, int field, float def)
{
    int index = field & 0xff;
    size_t pos;
    if (op_index < 0 || op_index >= m->n_ops || !m->ops[op_index].has_options) return def;
    if (toon_fb_field(&m->fb, &m->ops[op_index].options, index, 4, &pos) != 1) return def;
    return toon_fb_load_f32(m->fb.data + pos);
}

/* IEEE binary16 -> binary32, exact for every value including subnormals, inf and NaN. */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t bits;
    if (exp - 1 < 30) {
        bits = sign | (((uint32_t)(h & 0x7fffu) + 0x1c000u) << 13); /* normal: rebias by 112 */
    } else if (exp == 0x1f) {
        bits = sign | 0x7f800000u | ((uint32_t)(h & 0x3ffu) << 13);
    } else {
        float f = ldexpf((float)(h & 0x3ffu), -24); /* zero or subnormal */
        return sign ? -f : f;
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* The raw integer element i of an integer tensor. */
static int64_t int_elem(const struct toon_tflite_tensor *t, size_t i)
{
    const uint8_t *p = t->data;
    switch (t->type) {
    case TOON_TFLITE_INT8:
        return p[i] < 128 ? p[i] : (int64_t)p[i] - 256;
    case TOON_TFLITE_UINT8:
        return p[i];
    case TOON_TFLITE_INT16: {
        uint16_t u = toon_fb_load_u16(p + 2 * i);
        return u < 32768 ? u : (int64_t)u - 65536;
    }
    case TOON_TFLITE_INT32:
        return toon_fb_load_i32(p + 4 * i);
    default:
        return toon_fb_load_i64(p + 8 * i);
    }
}

enum toon_status toon_tflite_tensor_to_f32(const struct toon_tflite_tensor *t, float *out,
                                           struct toon_err *err)
{
    const char *name = t->name ? t->name : "";
    size_t n, n_bytes, eb = elem_bytes(t->type);
    if (!t->data)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "tensor %s has no constant data",
                            name);
    if (t->n_dims < 0 || t->n_dims > MAX_DIMS || !dims_product(t->dims, t->n_dims, &n) ||
        !toon_size_mul(n, eb, &n_bytes) || n_bytes != t->n_bytes)
        return toon_err_set(err, TOON_STATUS_CORRUPT,
                            "tensor %s: %zu bytes of data do not match its shape", name,
                            t->n_bytes);
    switch (t->type) {
    case TOON_TFLITE_FLOAT32:
        for (size_t i = 0; i < n; i++) out[i] = toon_fb_load_f32(t->data + 4 * i);
        return TOON_STATUS_OK;
    case TOON_TFLITE_FLOAT16:
        for (size_t i = 0; i < n; i++) out[i] = half_to_float(toon_fb_load_u16(t->data + 2 * i));
        return TOON_STATUS_OK;
    case TOON_TFLITE_INT8:
    case TOON_TFLITE_UINT8:
    case TOON_TFLITE_INT16:
    case TOON_TFLITE_INT32:
    case TOON_TFLITE_INT64:
        break;
    default:
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "tensor %s has type %d, which cannot be read as float", name, t->type);
    }

    /* Per channel: the tensor is [outer][n_scales][inner] around the channel axis. */
    size_t outer = 1, n_ch = 1, inner = n;
    if (t->n_scales > 1) {
        if (!t->scales || !t->zero_points || t->quant_axis < 0 || t->quant_axis >= t->n_dims ||
            t->dims[t->quant_axis] != t->n_scales)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "tensor %s: %d scales do not match its shape", name, t->n_scales);
        dims_product(t->dims, t->quant_axis, &outer);
        dims_product(t->dims + t->quant_axis + 1, t->n_dims - t->quant_axis - 1, &inner);
        n_ch = (size_t)t->n_scales;
    } else if (t->n_scales < 0 || (t->n_scales == 1 && (!t->scales || !t->zero_points))) {
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "tensor %s: scales missing", name);
    }
    if (n == 0) return TOON_STATUS_OK;
    size_t i = 0;
    for (size_t o = 0; o < outer; o++) {
        for (size_t c = 0; c < n_ch; c++) {
            float scale = t->n_scales ? t->scales[c] : 1.0f;
            double zp = t->n_scales ? (double)t->zero_points[c] : 0.0;
            /* In double then float, so no integer overflow whatever zero point the file holds. */
            for (size_t j = 0; j < inner; j++, i++)
                out[i] = (float)((double)int_elem(t, i) - zp) * scale;
        }
    }
    return TOON_STATUS_OK;
}
