/*
 * The GraphDef reader (see graphdef.h).
 *
 * It works in two steps.  First the file is parsed into a flat node table: each node keeps
 * slices of its name, op and raw NodeDef bytes, plus its data inputs resolved to node indices,
 * and the table is indexed by name (sorted) and by consumer (CSR), so that the recognition step
 * can walk the graph both ways in linear time.  Attributes and tensors are decoded on demand
 * from the raw bytes.  Second, the generator is recognised by name (the 18 slim scopes) and by
 * structure (the Conv2D that consumes each kernel, the guided filter's constants, the input
 * normalisation and the uint8 output).
 *
 * Message depth is bounded by the schema walk itself (GraphDef > NodeDef > attr entry >
 * AttrValue > TensorProto > TensorShapeProto > Dim) and by the protobuf reader's depth limit.
 * Tensor sizes are bounded by the bytes present in the file, except for TF's "fill" form (fewer
 * values than elements, the last one repeated), whose size is checked against the expected
 * shape before anything is allocated.
 */
#include "formats/graphdef.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "formats/protobuf.h"

#define MAX_RANK            8
#define MAX_TENSOR_ELEMS    ((size_t)1 << 28)
#define MAX_ANY_SHAPE_ELEMS ((size_t)1 << 18) /* per kernel with TOON_GRAPHDEF_ANY_SHAPE */
#define MAX_CHAIN           8                 /* Identity/Cast hops followed to a constant */

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

struct gd_node {
    struct toon_pb_bytes name, op;
    struct toon_pb_bytes raw;  /* the NodeDef message */
    int first_input, n_inputs; /* data inputs, into gd_graph.inputs */
};

struct gd_graph {
    struct gd_node *nodes; /* [n_nodes] */
    int n_nodes, cap_nodes;
    struct toon_pb_bytes
        *input_names; /* [n_inputs] as written ("name:1"), control inputs dropped */
    int *inputs;      /* [n_inputs] node index of each data input, -1 if unknown */
    int *input_ports; /* [n_inputs] output port of that node */
    int n_inputs, cap_inputs;
    int *by_name;    /* [n_nodes] node indices sorted by name */
    int *cons_start; /* [n_nodes + 1] consumers of node i: cons[cons_start[i] .. cons_start[i+1]) */
    int *cons;       /* [n_inputs] */
    /* What const_scalar() learnt about each node, so that no constant is decoded twice:
     * 0 not looked at yet, 1 a one-element numeric constant (value in scalar_val), -1 not. */
    signed char *scalar_state; /* [n_nodes] */
    float *scalar_val;         /* [n_nodes] */
};

struct gd_tensor {
    int dtype;
    int rank;
    int64_t dims[MAX_RANK];
    size_t n_elems;
    struct toon_pb_bytes content; /* tensor_content, raw little-endian */
    struct toon_pb_reader msg;    /* the TensorProto, to walk the *_val fields again */
    size_t n_vals[3];             /* values in float_val, int_val, half_val */
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
static const char *safe(struct toon_pb_bytes b, char *buf, size_t size)
{
    size_t n = b.n < size - 1 ? b.n : size - 1;
    for (size_t i = 0; i < n; i++) buf[i] = (b.p[i] >= 32 && b.p[i] < 127) ? (char)b.p[i] : '?';
    if (b.n > size - 1 && size > 4) memcpy(buf + size - 4, "...", 3);
    buf[n] = '\0';
    return buf;
}

static struct toon_pb_bytes leaf(struct toon_pb_bytes name)
{
    size_t i = name.n;
    while (i > 0 && name.p[i - 1] != '/') i--;
    return (struct toon_pb_bytes){name.p + i, name.n - i};
}

static int bytes_ends_with(struct toon_pb_bytes b, const char *s)
{
    size_t n = strlen(s);
    return b.n >= n && memcmp(b.p + b.n - n, s, n) == 0;
}

static int op_is(const struct gd_node *n, const char *op)
{
    return toon_pb_bytes_eq(n->op, op);
}

static int input_of(const struct gd_graph *g, int node, int k)
{
    const struct gd_node *n = &g->nodes[node];
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

static enum toon_status add_input(struct gd_graph *g, struct toon_pb_bytes name,
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

static enum toon_status parse_node(struct gd_graph *g, const struct toon_pb_reader *graph_r,
                                   const struct toon_pb_field *f, struct toon_err *err)
{
    struct toon_pb_reader r;
    enum toon_status st = toon_pb_open(graph_r, f, &r, err);
    if (st) return st;
    if ((st = grow((void **)&g->nodes, &g->cap_nodes, g->n_nodes + 1, sizeof *g->nodes, err)))
        return st;
    struct gd_node *n = &g->nodes[g->n_nodes];
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
static _Thread_local const struct gd_node *sort_nodes;

static int cmp_by_name(const void *a, const void *b)
{
    return cmp_bytes(sort_nodes[*(const int *)a].name, sort_nodes[*(const int *)b].name);
}

static int lookup(const struct gd_graph *g, struct toon_pb_bytes name)
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

static int lookup_str(const struct gd_graph *g, const char *name)
{
    return lookup(g, (struct toon_pb_bytes){(const uint8_t *)name, strlen(name)});
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

static void graph_free(struct gd_graph *g)
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

static enum toon_status graph_parse(const uint8_t *data, size_t len, struct gd_graph *g,
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
                                safe(a, buf, sizeof buf));
        }
    }

    /* Resolve the inputs, then count and list every node's consumers. */
    for (int i = 0; i < g->n_inputs; i++) {
        int port;
        struct toon_pb_bytes name = split_port(g->input_names[i], &port);
        g->inputs[i] = lookup(g, name);
        g->input_ports[i] = port;
        if (g->inputs[i] >= 0) g->cons_start[g->inputs[i] + 1]++;
    }
    for (int i = 0; i < g->n_nodes; i++) g->cons_start[i + 1] += g->cons_start[i];
    int *fill = toon_malloc(n * sizeof *fill);
    if (!fill) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory reading the graph");
    memcpy(fill, g->cons_start, n * sizeof *fill);
    for (int i = 0; i < g->n_nodes; i++) {
        const struct gd_node *nd = &g->nodes[i];
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
static enum toon_status node_attr(const struct gd_node *n, const char *key,
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
static enum toon_status attr_field(const struct gd_node *n, const char *key, uint32_t num,
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

static enum toon_status attr_s(const struct gd_node *n, const char *key, struct toon_pb_bytes *out,
                               int *found, struct toon_err *err)
{
    struct toon_pb_field f;
    struct toon_pb_reader av;
    enum toon_status st = attr_field(n, key, AV_S, TOON_PB_WIRE_LEN, &f, &av, found, err);
    if (!st && *found) *out = f.b;
    return st;
}

static enum toon_status attr_type(const struct gd_node *n, const char *key, int *out, int *found,
                                  struct toon_err *err)
{
    struct toon_pb_field f;
    struct toon_pb_reader av;
    enum toon_status st = attr_field(n, key, AV_TYPE, TOON_PB_WIRE_VARINT, &f, &av, found, err);
    if (!st && *found) *out = f.u > 1000 ? -1 : (int)f.u;
    return st;
}

/* A list(int) attribute such as `strides`; at most `max` values, *n_out counts them all. */
static enum toon_status attr_ints(const struct gd_node *n, const char *key, int64_t *out, int max,
                                  int *n_out, int *found, struct toon_err *err)
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

static const char *dtype_name(int dtype)
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
                                    const struct toon_pb_field *f, struct gd_tensor *t,
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
        if (t->rank == MAX_RANK)
            return toon_err_set(err, TOON_STATUS_MODEL, "%s: tensor of rank over %d", who,
                                MAX_RANK);
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
static enum toon_status tensor_parse(struct toon_pb_reader r, struct gd_tensor *t, const char *who,
                                     struct toon_err *err)
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
                            dtype_name(t->dtype), t->dtype);
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
                                t->content.n, t->n_elems, dtype_name(t->dtype));
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

static float content_value(const struct gd_tensor *t, size_t i)
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
static enum toon_status tensor_read_f32(const struct gd_tensor *t, float *out, struct toon_err *err)
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
static int resolve_const(const struct gd_graph *g, int node)
{
    for (int hop = 0; node >= 0 && hop <= MAX_CHAIN; hop++) {
        const struct gd_node *n = &g->nodes[node];
        if (op_is(n, "Const")) return node;
        if (!(op_is(n, "Identity") || op_is(n, "Cast") || op_is(n, "Snapshot"))) return -1;
        node = input_of(g, node, 0);
    }
    return -1;
}

/* Follows Identity nodes back from `node`. */
static int skip_identity(const struct gd_graph *g, int node)
{
    for (int hop = 0; node >= 0 && hop <= MAX_CHAIN && op_is(&g->nodes[node], "Identity"); hop++)
        node = input_of(g, node, 0);
    return node;
}

static enum toon_status const_tensor(const struct gd_graph *g, int node, struct gd_tensor *t,
                                     const char *who, struct toon_err *err)
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
static int const_scalar(const struct gd_graph *g, int node, float *value)
{
    int c = resolve_const(g, node);
    if (c < 0) return 0;
    if (!g->scalar_state[c]) {
        struct gd_tensor t;
        int ok = !const_tensor(g, c, &t, "", NULL) && t.n_elems == 1 &&
                 !tensor_read_f32(&t, &g->scalar_val[c], NULL);
        g->scalar_state[c] = ok ? 1 : -1;
    }
    *value = g->scalar_val[c];
    return g->scalar_state[c] == 1;
}

/* ---- recognition ------------------------------------------------------------------------------
 */

struct reader {
    const struct gd_graph *g;
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
    if (name.n < kl + 1 || !bytes_ends_with(name, kind) || name.p[name.n - kl - 1] != '/')
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
    const struct gd_graph *g = rd->g;
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
                                    safe(name, buf, sizeof buf));
            }
            memcpy(rd->prefix, name.p, pl);
            rd->prefix[pl] = '\0';
            rd->prefix_len = (int)pl;
            *found = 1;
        } else if (pl != (size_t)rd->prefix_len || memcmp(name.p, rd->prefix, pl) != 0) {
            char buf[160];
            return toon_err_set(err, TOON_STATUS_MODEL,
                                "%s holds more than one generator (under \"%s\" and in \"%s\")",
                                rd->what, rd->prefix, safe(name, buf, sizeof buf));
        }
    }
    return TOON_STATUS_OK;
}

static int has_leaf(const struct gd_graph *g, const char *s)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (toon_pb_bytes_eq(leaf(g->nodes[i].name), s)) return 1;
    return 0;
}

/* The graph has no generator: name what it is when that is clear, conservatively. */
static enum toon_status refuse_not_generator(const struct reader *rd, struct toon_err *err)
{
    const struct gd_graph *g = rd->g;
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
    int node = lookup_str(rd->g, name);
    if (node < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "not a DCT-Net generator graph: no node named %s", name);
    int c = resolve_const(rd->g, node);
    if (c < 0) {
        char op[64];
        const struct gd_node *n = &rd->g->nodes[node];
        int variable = op_is(n, "VariableV2") || op_is(n, "Variable") || op_is(n, "VarHandleOp");
        return toon_err_set(err, TOON_STATUS_MODEL, "%s: %s is a %s node, not a constant%s",
                            rd->what, name, safe(n->op, op, sizeof op),
                            variable ? " (the graph is not frozen)" : "");
    }
    *out = c;
    return TOON_STATUS_OK;
}

/* Finds the Conv2D that consumes the kernel constant, directly or through Identity/Cast. */
static int find_conv(const struct gd_graph *g, int kernel)
{
    int set[MAX_CHAIN + 1], n_set = 1;
    set[0] = kernel;
    for (int s = 0; s < n_set; s++) {
        for (int c = g->cons_start[set[s]]; c < g->cons_start[set[s] + 1]; c++) {
            int user = g->cons[c];
            const struct gd_node *u = &g->nodes[user];
            if (op_is(u, "Conv2D") && input_of(g, user, 1) == set[s]) return user;
            if ((op_is(u, "Identity") || op_is(u, "Cast")) && input_of(g, user, 0) == set[s] &&
                n_set <= MAX_CHAIN) {
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
    const struct gd_graph *g = rd->g;
    const char *scope = toon_gen_layout[i].scope;
    int conv = find_conv(g, kernel);
    if (conv < 0)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s: %sgenerator/%s/weights feeds no Conv2D node", rd->what, rd->prefix,
                            scope);
    const struct gd_node *n = &g->nodes[conv];
    char cname[160];
    safe(n->name, cname, sizeof cname);
    int64_t v[4];
    int count, found;
    enum toon_status st = attr_ints(n, "strides", v, 4, &count, &found, err);
    if (st) return st;
    if (!found || count != 4 || v[0] != 1 || v[3] != 1 || v[1] != v[2] || v[1] < 1 || v[1] > 16)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "%s: %s has no NHWC strides [1,s,s,1] (got %d values)", rd->what, cname,
                            found ? count : 0);
    *stride = (int)v[1];
    if ((st = attr_ints(n, "dilations", v, 4, &count, &found, err))) return st;
    if (found && count && (count != 4 || v[0] != 1 || v[1] != 1 || v[2] != 1 || v[3] != 1))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s: %s is dilated", rd->what, cname);
    struct toon_pb_bytes s;
    char sbuf[32];
    if ((st = attr_s(n, "padding", &s, &found, err))) return st;
    if (!found || !toon_pb_bytes_eq(s, "SAME"))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "%s: %s uses padding \"%s\"; the generator needs SAME", rd->what, cname,
                            found ? safe(s, sbuf, sizeof sbuf) : "");
    if ((st = attr_s(n, "data_format", &s, &found, err))) return st;
    if (found && !toon_pb_bytes_eq(s, "NHWC"))
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                            "%s: %s uses data format %s; only NHWC is supported", rd->what, cname,
                            safe(s, sbuf, sizeof sbuf));
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
    struct gd_tensor kt, bt;
    if ((st = const_tensor(rd->g, kn, &kt, who, err))) return st;
    if (kt.dtype != TOON_TF_DT_FLOAT && kt.dtype != TOON_TF_DT_HALF)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s is %s, expected float32 or float16",
                            who, dtype_name(kt.dtype));
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
    if ((st = const_tensor(rd->g, bn, &bt, who, err))) return st;
    if (bt.dtype != TOON_TF_DT_FLOAT && bt.dtype != TOON_TF_DT_HALF)
        return toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s is %s, expected float32 or float16",
                            who, dtype_name(bt.dtype));
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
    if ((st = tensor_read_f32(&kt, hwio, err)) || (st = tensor_read_f32(&bt, conv->b, err)))
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
    const struct gd_graph *g = rd->g;
    int best_strict = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct gd_node *n = &g->nodes[i];
        if (!(op_is(n, "Add") || op_is(n, "AddV2")) || n->n_inputs != 2) continue;
        for (int side = 0; side < 2; side++) {
            float v;
            int other = skip_identity(g, input_of(g, i, 1 - side));
            if (other < 0 || !op_is(&g->nodes[other], "Sub")) continue;
            if (!const_scalar(g, input_of(g, i, side), &v)) continue;
            int strict = 0;
            for (int c = g->cons_start[i]; c < g->cons_start[i + 1]; c++) {
                const struct gd_node *u = &g->nodes[g->cons[c]];
                if ((op_is(u, "RealDiv") || op_is(u, "Div")) && input_of(g, g->cons[c], 1) == i)
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
    const struct gd_graph *g = rd->g;
    int last_const = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct gd_node *n = &g->nodes[i];
        if (!op_is(n, "DepthwiseConv2dNative")) continue;
        char who[200], nb[160];
        snprintf(who, sizeof who, "%s: %s", rd->what, safe(n->name, nb, sizeof nb));
        int c = resolve_const(g, input_of(g, i, 1));
        if (c < 0 || c == last_const) continue;
        last_const = c;
        struct gd_tensor t;
        enum toon_status st = const_tensor(g, c, &t, who, err);
        if (st) return st;
        /* A box kernel is [2r+1][2r+1][channels][1] with one value everywhere. */
        if (t.rank != 4 || t.dims[0] != 3 || t.dims[1] != 3 || t.dims[3] != 1 || t.dims[2] < 1 ||
            t.dims[2] > 64)
            return toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                                "%s: the guided filter's box kernel is not [3,3,C<=64,1]", who);
        float *v = toon_malloc(t.n_elems * sizeof *v);
        if (!v) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        st = tensor_read_f32(&t, v, err);
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
static int norm_step(const struct gd_graph *g, int i)
{
    const struct gd_node *n = &g->nodes[i];
    float v;
    if ((op_is(n, "RealDiv") || op_is(n, "Div")) && const_scalar(g, input_of(g, i, 1), &v) &&
        near(v, 127.5f))
        return 1;
    if (op_is(n, "Mul") && ((const_scalar(g, input_of(g, i, 1), &v) && near(v, 1 / 127.5f)) ||
                            (const_scalar(g, input_of(g, i, 0), &v) && near(v, 1 / 127.5f))))
        return 1;
    if (op_is(n, "Sub") && const_scalar(g, input_of(g, i, 1), &v) && near(v, 1.0f)) return 2;
    if ((op_is(n, "Add") || op_is(n, "AddV2")) &&
        ((const_scalar(g, input_of(g, i, 1), &v) && near(v, -1.0f)) ||
         (const_scalar(g, input_of(g, i, 0), &v) && near(v, -1.0f))))
        return 2;
    return 0;
}

/* The input placeholder and the x/127.5 - 1 between it and the first convolution. */
static void find_input(struct reader *rd, int conv0)
{
    const struct gd_graph *g = rd->g;
    int ph = -1;
    for (int i = 0; i < g->n_nodes; i++) {
        const struct gd_node *n = &g->nodes[i];
        if (!op_is(n, "Placeholder")) continue;
        int dt, found;
        if (attr_type(n, "dtype", &dt, &found, NULL) || (found && dt != TOON_TF_DT_FLOAT)) continue;
        if (ph < 0 || toon_pb_bytes_eq(leaf(n->name), "input_image")) ph = i;
    }
    if (ph < 0) return;
    safe(g->nodes[ph].name, rd->info.input_name, sizeof rd->info.input_name);

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
    const struct gd_graph *g = rd->g;
    char name[160];
    snprintf(name, sizeof name, "%soutput_image", rd->prefix);
    int out = lookup_str(g, name);
    for (int i = 0; out < 0 && i < g->n_nodes; i++)
        if (toon_pb_bytes_eq(leaf(g->nodes[i].name), "output_image")) out = i;
    if (out < 0) return;
    safe(g->nodes[out].name, rd->info.output_name, sizeof rd->info.output_name);
    for (int hop = 0, i = out; i >= 0 && hop < 8; hop++, i = input_of(g, i, 0)) {
        int dt, found;
        if (op_is(&g->nodes[i], "Cast") && !attr_type(&g->nodes[i], "DstT", &dt, &found, NULL) &&
            found && dt == TOON_TF_DT_UINT8) {
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
    find_input(rd, find_conv(rd->g, resolve_const(rd->g, lookup_str(rd->g, conv0))));
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
    struct gd_graph g;
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
    if ((st = graph_parse(data, len, &g, err))) {
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
    graph_free(&g);
    return TOON_STATUS_OK;
fail:
    if (info) {
        memset(info, 0, sizeof *info);
        info->n_nodes = g.n_nodes;
    }
    graph_free(&g);
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
