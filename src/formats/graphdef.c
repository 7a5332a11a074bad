/*
 * The GraphDef reader (see graphdef.h and graphdef_reader.h): the node table, attributes and
 * tensors.  The generator is recognised in graphdef_generator.c.
 *
 * The file is parsed into a flat node table: each node keeps slices of its name, op and raw
 * NodeDef bytes, plus its data inputs resolved to node indices, and the table is indexed by
 * name (sorted) and by consumer (CSR), so that the recognition step can walk the graph both
 * ways in linear time.  Attributes and tensors are decoded on demand from the raw bytes.
 *
 * Message depth is bounded by the schema walk itself (GraphDef > NodeDef > attr entry >
 * AttrValue > TensorProto > TensorShapeProto > Dim) and by the protobuf reader's depth limit.
 * Tensor sizes are bounded by the bytes present in the file, except for TF's "fill" form (fewer
 * values than elements, the last one repeated), whose size is checked against the expected
 * shape before anything is allocated.
 */
#include "formats/graphdef.h"
#include "formats/graphdef_reader.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/protobuf.h"

#define MAX_TENSOR_ELEMS ((size_t)1 << 28)

/* TensorFlow protobuf field numbers (the .proto files in tensorflow/core/framework). */
enum {
    GRAPH_NODE = 1,
    NODE_NAME = 1,
    NODE_OP = 2,
    NODE_INPUT = 3,
    NODE_DEVICE = 4,
    NODE_ATTR = 5,
    MAP_KEY = 1,
    MAP_VALUE = 2,
    AV_LIST = 1,
    AV_S = 2,
    AV_I = 3,
    AV_F = 4,
    AV_B = 5,
    AV_TYPE = 6,
    AV_SHAPE = 7,
    AV_TENSOR = 8,
    LIST_I = 3,
    TENSOR_DTYPE = 1,
    TENSOR_SHAPE = 2,
    TENSOR_CONTENT = 4,
    TENSOR_FLOAT_VAL = 5,
    TENSOR_INT_VAL = 7,
    TENSOR_HALF_VAL = 13,
    SHAPE_DIM = 2,
    DIM_SIZE = 1,
};

/* ---- small helpers ------------------------------------------------------------------------ */

float toon_graphdef_half_to_float(uint16_t h)
{
    int sign = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    float v;
    if (e == 0)
        v = (float)m * (1.0f / 16777216.0f); /* subnormal: m * 2^-24 */
    else if (e == 31)
        v = m ? __builtin_nanf("") : __builtin_inff();
    else {
        uint32_t bits = (uint32_t)(e - 15 + 127) << 23 | (uint32_t)m << 13;
        memcpy(&v, &bits, sizeof v);
    }
    return sign ? -v : v;
}

static float bits_to_float(uint32_t bits)
{
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

/* A node or attribute name from the file, made safe for a one-line message. */
const char *toon_gd_safe(struct toon_pb_bytes b, char *buf, size_t size)
{
    size_t n = b.n < size - 1 ? b.n : size - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (b.p[i] >= 32 && b.p[i] < 127) ? (char)b.p[i] : '?';
    if (b.n > size - 1 && size > 4) memcpy(buf + size - 4, "...", 3);
    buf[n] = '\0';
    return buf;
}

struct toon_pb_bytes toon_gd_leaf(struct toon_pb_bytes name)
{
    size_t i = name.n;
    while (i > 0 && name.p[i - 1] != '/') i--;
    return (struct toon_pb_bytes){name.p + i, name.n - i};
}

int toon_gd_bytes_ends_with(struct toon_pb_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.n >= n && memcmp(b.p + b.n - n, s, n) == 0;
}

int toon_gd_op_is(const struct toon_gd_node *n, const char *op)
{
    return toon_pb_bytes_eq(n->op, op);
}

int toon_gd_input_of(const struct toon_gd_graph *g, int node, int k)
{
    const struct toon_gd_node *n = &g->nodes[node];
    return k < n->n_inputs ? g->inputs[n->first_input + k] : -1;
}

/* ---- parsing the node table ---------------------------------------------------------------- */

static enum toon_status grow(void **p, int *cap, int need, size_t elem, struct toon_err *err)
{
    if (need <= *cap) return TOON_STATUS_OK;
    if (need > INT_MAX / 2)
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "graph has too many nodes or inputs");
    int n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    size_t bytes;
    if (!toon_size_mul((size_t)n, elem, &bytes))
        return toon_err_set(err, TOON_STATUS_TOO_LARGE, "graph has too many nodes or inputs");
    void *q = toon_realloc(*p, bytes);
    if (!q) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading the graph");
    *p = q;
    *cap = n;
    return TOON_STATUS_OK;
}

static enum toon_status add_input(struct toon_gd_graph *g, struct toon_pb_bytes name,
                                  struct toon_err *err)
{
    enum toon_status st = grow((void **)&g->input_names, &g->cap_inputs, g->n_inputs + 1,
                               sizeof *g->input_names, err);
    if (st) return st;
    g->input_names[g->n_inputs++] = name;
    return TOON_STATUS_OK;
}

/* Checks the attribute map entry's structure once, so that later lookups cannot fail there. */
static enum toon_status check_attr_entry(const struct toon_pb_reader *node_r,
                                         const struct toon_pb_field *f, struct toon_err *err)
{
    struct toon_pb_reader r;
    enum toon_status st = toon_pb_open(node_r, f, &r, err);
    if (st) return st;
    for (;;) {
        struct toon_pb_field e;
        if ((st = toon_pb_next(&r, &e, err))) return st;
        if (!e.num) return TOON_STATUS_OK;
        if ((e.num == MAP_KEY || e.num == MAP_VALUE) && e.wire != TOON_PB_WIRE_LEN)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "an attribute entry has a field %u of the wrong type", e.num);
    }
}

static enum toon_status parse_node(struct toon_gd_graph *g, const struct toon_pb_reader *graph_r,
                                   const struct toon_pb_field *f, struct toon_err *err)
{
    struct toon_pb_reader r;
    enum toon_status st = toon_pb_open(graph_r, f, &r, err);
    if (st) return st;
    if ((st = grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes, err)))
        return st;
    struct toon_gd_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->raw = f->b;
    n->first_input = g->n_inputs;
    for (;;) {
        struct toon_pb_field e;
        if ((st = toon_pb_next(&r, &e, err))) return st;
        if (!e.num) break;
        if (e.num <= NODE_ATTR && e.wire != TOON_PB_WIRE_LEN)
            return toon_err_set(err, TOON_STATUS_CORRUPT,
                                "node %d: field %u should be length-delimited", g->n_nodes, e.num);
        if (e.num == NODE_NAME)
            n->name = e.b;
        else if (e.num == NODE_OP)
            n->op = e.b;
        else if (e.num == NODE_INPUT) {
            /* Control inputs ("^name") order execution only; they carry no data. */
            if (e.b.n > 0 && e.b.p[0] == '^') continue;
            if ((st = add_input(g, e.b, err))) return st;
        } else if (e.num == NODE_ATTR) {
            if ((st = check_attr_entry(&r, &e, err))) return st;
        }
    }
    n->n_inputs = g->n_inputs - n->first_input;
    g->n_nodes++;
    return TOON_STATUS_OK;
}

static int cmp_bytes(struct toon_pb_bytes a, struct toon_pb_bytes b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* qsort has no context argument: the array being sorted is set here for the duration.
 * Sorting happens under no lock, so each call uses its own array through a thread-local. */
static _Thread_local const struct toon_gd_node *sort_nodes;

static int cmp_by_name(const void *a, const void *b)
{
    return cmp_bytes(sort_nodes[*(const int *)a].name, sort_nodes[*(const int *)b].name);
}

int toon_gd_lookup(const struct toon_gd_graph *g, struct toon_pb_bytes name)
{
    int lo = 0, hi = g->n_nodes - 1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        int c = cmp_bytes(g->nodes[g->by_name[mid]].name, name);
        if (c == 0) return g->by_name[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int toon_gd_lookup_str(const struct toon_gd_graph *g, const char *name)
{
    return toon_gd_lookup(g, (struct toon_pb_bytes){(const uint8_t *)name, strlen(name)});
}

/* Splits "name:3" into the node name and port 3 ("name" is port 0). */
static struct toon_pb_bytes split_port(struct toon_pb_bytes s, int *port)
{
    *port = 0;
    size_t i = s.n;
    while (i > 0 && s.p[i - 1] >= '0' && s.p[i - 1] <= '9') i--;
    if (i > 0 && i < s.n && s.p[i - 1] == ':' && s.n - i <= 6) {
        int v = 0;
        for (size_t k = i; k < s.n; k++) v = v * 10 + (s.p[k] - '0');
        *port = v;
        return (struct toon_pb_bytes){s.p, i - 1};
    }
    return s;
}

void toon_gd_graph_free(struct toon_gd_graph *g)
{
    toon_free(g->nodes);
    toon_free(g->input_names);
    toon_free(g->inputs);
    toon_free(g->input_ports);
    toon_free(g->by_name);
    toon_free(g->cons_start);
    toon_free(g->cons);
    toon_free(g->scalar_state);
    toon_free(g->scalar_val);
    memset(g, 0, sizeof *g);
}

enum toon_status toon_gd_graph_parse(const uint8_t *data, size_t len, struct toon_gd_graph *g,
                                     struct toon_err *err)
{
    enum toon_status st;
    struct toon_pb_reader r;
    toon_pb_reader_init(&r, data, len);
    memset(g, 0, sizeof *g);
    for (;;) {
        struct toon_pb_field f;
        if ((st = toon_pb_next(&r, &f, err))) return st;
        if (!f.num) break;
        if (f.num == GRAPH_NODE) {
            if (f.wire != TOON_PB_WIRE_LEN)
                return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                                    "not a GraphDef: field 1 is a number, not a node (a "
                                    "SavedModel or another protobuf message?)");
            if ((st = parse_node(g, &r, &f, err))) return st;
        }
    }
    if (g->n_nodes == 0)
        return toon_err_set(err, TOON_STATUS_MODEL, "not a GraphDef: the file holds no nodes");

    size_t n = (size_t)g->n_nodes, ni = (size_t)g->n_inputs;
    g->by_name = toon_malloc(n * sizeof *g->by_name);
    g->inputs = toon_malloc((ni ? ni : 1) * sizeof *g->inputs);
    g->input_ports = toon_malloc((ni ? ni : 1) * sizeof *g->input_ports);
    g->cons_start = toon_calloc(n + 1, sizeof *g->cons_start);
    g->cons = toon_malloc((ni ? ni : 1) * sizeof *g->cons);
    g->scalar_state = toon_calloc(n, sizeof *g->scalar_state);
    g->scalar_val = toon_malloc(n * sizeof *g->scalar_val);
    if (!g->by_name || !g->inputs || !g->input_ports || !g->cons_start || !g->cons ||
        !g->scalar_state || !g->scalar_val)
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading the graph");

    for (int i = 0; i < g->n_nodes; i++) g->by_name[i] = i;
    sort_nodes = g->nodes;
    qsort(g->by_name, n, sizeof *g->by_name, cmp_by_name);
    sort_nodes = NULL;
    for (int i = 1; i < g->n_nodes; i++) {
        struct toon_pb_bytes a = g->nodes[g->by_name[i - 1]].name;
        if (cmp_bytes(a, g->nodes[g->by_name[i]].name) == 0) {
            char buf[160];
            return toon_err_set(err, TOON_STATUS_MODEL, "the graph has two nodes named \"%s\"",
                                toon_gd_safe(a, buf, sizeof buf));
        }
    }

    /* Resolve the inputs, then count and list every node's consumers. */
    for (int i = 0; i < g->n_inputs; i++) {
        int port;
        struct toon_pb_bytes name = split_port(g->input_names[i], &port);
        g->inputs[i] = toon_gd_lookup(g, name);
        g->input_ports[i] = port;
        if (g->inputs[i] >= 0) g->cons_start[g->inputs[i] + 1]++;
    }
    for (int i = 0; i < g->n_nodes; i++) g->cons_start[i + 1] += g->cons_start[i];
    int *fill = toon_malloc(n * sizeof *fill);
    if (!fill) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading the graph");
    memcpy(fill, g->cons_start, n * sizeof *fill);
    for (int i = 0; i < g->n_nodes; i++) {
        const struct toon_gd_node *nd = &g->nodes[i];
        for (int k = 0; k < nd->n_inputs; k++) {
            int src = g->inputs[nd->first_input + k];
            if (src >= 0) g->cons[fill[src]++] = i;
        }
    }
    toon_free(fill);
    return TOON_STATUS_OK;
}

/* ---- attributes ------------------------------------------------------------------------------ */

/* Finds attribute `key` of a node (the last entry wins, as in protobuf maps) and opens its
 * AttrValue.  *found is 0 when the node has no such attribute. */
static enum toon_status node_attr(const struct toon_gd_node *n, const char *key,
                                  struct toon_pb_reader *out, int *found, struct toon_err *err)
{
    struct toon_pb_reader r;
    toon_pb_reader_init(&r, n->raw.p, n->raw.n);
    r.depth = 1;
    *found = 0;
    enum toon_status st;
    for (;;) {
        struct toon_pb_field f;
        if ((st = toon_pb_next(&r, &f, err))) return st;
        if (!f.num) return TOON_STATUS_OK;
        if (f.num != NODE_ATTR) continue;
        struct toon_pb_reader e;
        if ((st = toon_pb_open(&r, &f, &e, err))) return st;
        struct toon_pb_field k = {0}, v = {0}, x;
        int has_v = 0;
        for (;;) {
            if ((st = toon_pb_next(&e, &x, err))) return st;
            if (!x.num) break;
            if (x.num == MAP_KEY) k = x;
            if (x.num == MAP_VALUE) v = x, has_v = 1;
        }
        if (k.num && toon_pb_bytes_eq(k.b, key)) {
            if (has_v) {
                if ((st = toon_pb_open(&e, &v, out, err))) return st;
            } else {
                toon_pb_reader_init(out, NULL, 0); /* an empty AttrValue */
                out->depth = e.depth + 1;
            }
            *found = 1;
        }
    }
}

/* The last occurrence of field `num` in a message; *found is 0 when absent. */
static enum toon_status msg_field(struct toon_pb_reader r, uint32_t num, struct toon_pb_field *out,
                                  int *found, struct toon_err *err)
{
    *found = 0;
    for (;;) {
        struct toon_pb_field f;
        enum toon_status st = toon_pb_next(&r, &f, err);
        if (st) return st;
        if (!f.num) return TOON_STATUS_OK;
        if (f.num == num) *out = f, *found = 1;
    }
}

/* Typed attribute getters.  Each sets *found (0: absent or of another kind). */
static enum toon_status attr_field(const struct toon_gd_node *n, const char *key, uint32_t num,
                                   enum toon_pb_wire wire, struct toon_pb_field *out,
                                   struct toon_pb_reader *av, int *found, struct toon_err *err)
{
    int has;
    enum toon_status st = node_attr(n, key, av, &has, err);
    if (st || !has) {
        *found = 0;
        return st;
    }
    if ((st = msg_field(*av, num, out, found, err))) return st;
    if (*found && out->wire != wire) *found = 0;
    return TOON_STATUS_OK;
}

enum toon_status toon_gd_attr_s(const struct toon_gd_node *n, const char *key,
                                struct toon_pb_bytes *out, int *found, struct toon_err *err)
{
    struct toon_pb_field f;
    struct toon_pb_reader av;
    enum toon_status st = attr_field(n, key, AV_S, TOON_PB_WIRE_LEN, &f, &av, found, err);
    if (!st && *found) *out = f.b;
    return st;
}

enum toon_status toon_gd_attr_type(const struct toon_gd_node *n, const char *key, int *out,
                                   int *found, struct toon_err *err)
{
    struct toon_pb_field f;
    struct toon_pb_reader av;
    enum toon_status st = attr_field(n, key, AV_TYPE, TOON_PB_WIRE_VARINT, &f, &av, found, err);
    if (!st && *found) *out = f.u > 1000 ? -1 : (int)f.u;
    return st;
}

/* A list(int) attribute such as `strides`; at most `max` values, *n_out counts them all. */
enum toon_status toon_gd_attr_ints(const struct toon_gd_node *n, const char *key, int64_t *out,
                                   int max, int *n_out, int *found, struct toon_err *err)
{
    struct toon_pb_field f;
    struct toon_pb_reader av, list;
    enum toon_status st = attr_field(n, key, AV_LIST, TOON_PB_WIRE_LEN, &f, &av, found, err);
    *n_out = 0;
    if (st || !*found) return st;
    if ((st = toon_pb_open(&av, &f, &list, err))) return st;
    for (;;) {
        struct toon_pb_field e;
        if ((st = toon_pb_next(&list, &e, err))) return st;
        if (!e.num) return TOON_STATUS_OK;
        if (e.num != LIST_I) continue;
        size_t count;
        if ((st = toon_pb_packed_count(&e, TOON_PB_WIRE_VARINT, &count, err))) return st;
        size_t pos = 0;
        uint64_t v;
        while (toon_pb_packed_next(&e, TOON_PB_WIRE_VARINT, &pos, &v)) {
            if (*n_out < max) out[*n_out] = (int64_t)v;
            if (*n_out < INT_MAX) (*n_out)++;
        }
    }
}

/* ---- tensors ----------------------------------------------------------------------------------
 */

static size_t dtype_size(int dtype)
{
    switch (dtype) {
    case TOON_TF_DT_FLOAT:
    case TOON_TF_DT_INT32:
        return 4;
    case TOON_TF_DT_HALF:
        return 2;
    case TOON_TF_DT_UINT8:
        return 1;
    default:
        return 0;
    }
}

const char *toon_gd_dtype_name(int dtype)
{
    switch (dtype) {
    case TOON_TF_DT_FLOAT:
        return "float32";
    case TOON_TF_DT_INT32:
        return "int32";
    case TOON_TF_DT_HALF:
        return "float16";
    case TOON_TF_DT_UINT8:
        return "uint8";
    case 2:
        return "float64";
    case 14:
        return "bfloat16";
    default:
        return "an unknown type";
    }
}

static enum toon_status shape_parse(const struct toon_pb_reader *parent,
                                    const struct toon_pb_field *f, struct toon_gd_tensor *t,
                                    const char *who, struct toon_err *err)
{
    struct toon_pb_reader r;
    enum toon_status st = toon_pb_open(parent, f, &r, err);
    if (st) return st;
    t->rank = 0;
    for (;;) {
        struct toon_pb_field e;
        if ((st = toon_pb_next(&r, &e, err))) return st;
        if (!e.num) return TOON_STATUS_OK;
        if (e.num != SHAPE_DIM) continue;
        if (t->rank == TOON_GD_MAX_RANK)
            return toon_err_set(err, TOON_STATUS_MODEL, "%s: tensor of rank over %d", who,
                                TOON_GD_MAX_RANK);
        struct toon_pb_reader d;
        if ((st = toon_pb_open(&r, &e, &d, err))) return st;
        struct toon_pb_field size;
        int found;
        if ((st = msg_field(d, DIM_SIZE, &size, &found, err))) return st;
        int64_t v = found && size.wire == TOON_PB_WIRE_VARINT ? (int64_t)size.u : 0;
        if (v < 0 || v > INT32_MAX)
            return toon_err_set(err, TOON_STATUS_MODEL, "%s: constant has dimension %lld", who,
                                (long long)v);
        t->dims[t->rank++] = v;
    }
}

/* Parses a TensorProto: dtype, shape, and where its values are. */
static enum toon_status tensor_parse(struct toon_pb_reader r, struct toon_gd_tensor *t,
                                     const char *who, struct toon_err *err)
{
    memset(t, 0, sizeof *t);
    t->msg = r;
    enum toon_status st;
    for (;;) {
        struct toon_pb_field f;
        if ((st = toon_pb_next(&r, &f, err))) return st;
        if (!f.num) break;
        size_t count;
        switch (f.num) {
        case TENSOR_DTYPE:
            if (f.wire == TOON_PB_WIRE_VARINT) t->dtype = f.u > 1000 ? -1 : (int)f.u;
            break;
        case TENSOR_SHAPE:
            if ((st = shape_parse(&r, &f, t, who, err))) return st;
            break;
        case TENSOR_CONTENT:
            if (f.wire == TOON_PB_WIRE_LEN) t->content = f.b;
            break;
        case TENSOR_FLOAT_VAL:
            if ((st = toon_pb_packed_count(&f, TOON_PB_WIRE_I32, &count, err))) return st;
            t->n_vals[0] += count;
            break;
        case TENSOR_INT_VAL:
            if ((st = toon_pb_packed_count(&f, TOON_PB_WIRE_VARINT, &count, err))) return st;
            t->n_vals[1] += count;
            break;
        case TENSOR_HALF_VAL:
            if ((st = toon_pb_packed_count(&f, TOON_PB_WIRE_VARINT, &count, err))) return st;
            t->n_vals[2] += count;
            break;
        default:
            break;
        }
    }
    size_t esize = dtype_size(t->dtype);
    if (!esize)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s: constant of type %s (%d)", who,
                            toon_gd_dtype_name(t->dtype), t->dtype);
    t->n_elems = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] && t->n_elems > MAX_TENSOR_ELEMS / (size_t)t->dims[i])
            return toon_err_set(err, TOON_STATUS_MODEL, "%s: constant is too large", who);
        t->n_elems *= (size_t)t->dims[i];
    }
    if (t->content.n) {
        if (t->content.n != t->n_elems * esize)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                "%s: constant holds %zu bytes for %zu elements of %s", who,
                                t->content.n, t->n_elems, toon_gd_dtype_name(t->dtype));
    } else {
        size_t nv = t->dtype == TOON_TF_DT_FLOAT  ? t->n_vals[0]
                    : t->dtype == TOON_TF_DT_HALF ? t->n_vals[2]
                                                  : t->n_vals[1];
        if (nv > t->n_elems)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                "%s: constant holds %zu values for %zu elements", who, nv,
                                t->n_elems);
    }
    return TOON_STATUS_OK;
}

static float content_value(const struct toon_gd_tensor *t, size_t i)
{
    const uint8_t *p = t->content.p + i * dtype_size(t->dtype);
    switch (t->dtype) {
    case TOON_TF_DT_FLOAT:
        return bits_to_float((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                             (uint32_t)p[3] << 24);
    case TOON_TF_DT_HALF:
        return toon_graphdef_half_to_float((uint16_t)(p[0] | p[1] << 8));
    case TOON_TF_DT_INT32:
        return (float)(int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                                (uint32_t)p[3] << 24);
    default:
        return (float)p[0];
    }
}

/* Reads every value of a tensor as float into out[n_elems]; the caller has checked n_elems.
 * TF's rules: tensor_content if present; else the *_val field, the last value repeated up to
 * the element count (one value and a shape is a fill); no values at all means zeros. */
enum toon_status toon_gd_tensor_read_f32(const struct toon_gd_tensor *t, float *out,
                                         struct toon_err *err)
{
    if (t->content.n) {
        for (size_t i = 0; i < t->n_elems; i++) out[i] = content_value(t, i);
        return TOON_STATUS_OK;
    }
    uint32_t num = t->dtype == TOON_TF_DT_FLOAT  ? TENSOR_FLOAT_VAL
                   : t->dtype == TOON_TF_DT_HALF ? TENSOR_HALF_VAL
                                                 : TENSOR_INT_VAL;
    enum toon_pb_wire ew = num == TENSOR_FLOAT_VAL ? TOON_PB_WIRE_I32 : TOON_PB_WIRE_VARINT;
    struct toon_pb_reader r = t->msg;
    size_t i = 0;
    for (;;) {
        struct toon_pb_field f;
        enum toon_status st = toon_pb_next(&r, &f, err);
        if (st) return st;
        if (!f.num) break;
        if (f.num != num) continue;
        size_t pos = 0;
        uint64_t v;
        while (i < t->n_elems && toon_pb_packed_next(&f, ew, &pos, &v)) {
            if (num == TENSOR_FLOAT_VAL)
                out[i++] = bits_to_float((uint32_t)v);
            else if (num == TENSOR_HALF_VAL)
                out[i++] = toon_graphdef_half_to_float((uint16_t)v);
            else if (t->dtype == TOON_TF_DT_UINT8)
                out[i++] = (float)(uint8_t)v;
            else
                out[i++] = (float)(int32_t)(uint32_t)v;
        }
    }
    float last = i ? out[i - 1] : 0.0f;
    for (; i < t->n_elems; i++) out[i] = last;
    return TOON_STATUS_OK;
}

/* Follows Identity/Cast/Snapshot nodes from `node` back to a Const; -1 if there is none. */
int toon_gd_resolve_const(const struct toon_gd_graph *g, int node)
{
    for (int hop = 0; node >= 0 && hop <= TOON_GD_MAX_CHAIN; hop++) {
        const struct toon_gd_node *n = &g->nodes[node];
        if (toon_gd_op_is(n, "Const")) return node;
        if (!(toon_gd_op_is(n, "Identity") || toon_gd_op_is(n, "Cast") ||
              toon_gd_op_is(n, "Snapshot")))
            return -1;
        node = toon_gd_input_of(g, node, 0);
    }
    return -1;
}

/* Follows Identity nodes back from `node`. */
int toon_gd_skip_identity(const struct toon_gd_graph *g, int node)
{
    for (int hop = 0;
         node >= 0 && hop <= TOON_GD_MAX_CHAIN && toon_gd_op_is(&g->nodes[node], "Identity"); hop++)
        node = toon_gd_input_of(g, node, 0);
    return node;
}

enum toon_status toon_gd_const_tensor(const struct toon_gd_graph *g, int node,
                                      struct toon_gd_tensor *t, const char *who,
                                      struct toon_err *err)
{
    struct toon_pb_reader av;
    struct toon_pb_field f;
    int found;
    enum toon_status st =
        attr_field(&g->nodes[node], "value", AV_TENSOR, TOON_PB_WIRE_LEN, &f, &av, &found, err);
    if (st) return st;
    if (!found) return toon_err_set(err, TOON_STATUS_MODEL, "%s: constant has no value", who);
    struct toon_pb_reader tr;
    if ((st = toon_pb_open(&av, &f, &tr, err))) return st;
    return tensor_parse(tr, t, who, err);
}

/* The value of a one-element numeric constant reached from `node`; 0 if it is not one. */
int toon_gd_const_scalar(const struct toon_gd_graph *g, int node, float *value)
{
    int c = toon_gd_resolve_const(g, node);
    if (c < 0) return 0;
    if (!g->scalar_state[c]) {
        struct toon_gd_tensor t;
        int ok = !toon_gd_const_tensor(g, c, &t, "", NULL) && t.n_elems == 1 &&
                 !toon_gd_tensor_read_f32(&t, &g->scalar_val[c], NULL);
        g->scalar_state[c] = ok ? 1 : -1;
    }
    *value = g->scalar_val[c];
    return g->scalar_state[c] == 1;
}
