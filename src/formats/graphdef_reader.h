/*
 * The GraphDef reader's node table, shared by the reader (graphdef.c) and the DCT-Net
 * recognition (graphdef_generator.c): formats/ only, not a public interface.
 *
 * A parsed graph keeps, for each node, slices of its name, op and raw NodeDef bytes (pointing
 * into the caller's buffer, which must outlive the table) and its data inputs resolved to node
 * indices; the table is indexed by name (sorted) and by consumer (CSR), so that the recognition
 * can walk the graph both ways in linear time.  Attributes and tensors are decoded on demand
 * from the raw bytes.  One thread at a time per table.
 */
#ifndef TOON_FORMATS_GRAPHDEF_READER_H
#define TOON_FORMATS_GRAPHDEF_READER_H

#include <stddef.h>
#include <stdint.h>

#include "formats/protobuf.h"
#include "toonify/status.h"

#define TOON_GD_MAX_RANK  8
#define TOON_GD_MAX_CHAIN 8 /* Identity/Cast hops followed to a constant */

struct toon_gd_node {
    struct toon_pb_bytes name, op;
    struct toon_pb_bytes raw;  /* the NodeDef message */
    int first_input, n_inputs; /* data inputs, into toon_gd_graph.inputs */
};

struct toon_gd_graph {
    struct toon_gd_node *nodes; /* [n_nodes] */
    int n_nodes, cap_nodes;
    struct toon_pb_bytes
        *input_names; /* [n_inputs] as written ("name:1"), control inputs dropped */
    int *inputs;      /* [n_inputs] node index of each data input, -1 if unknown */
    int *input_ports; /* [n_inputs] output port of that node */
    int n_inputs, cap_inputs;
    int *by_name;    /* [n_nodes] node indices sorted by name */
    int *cons_start; /* [n_nodes + 1] consumers of node i: cons[cons_start[i] .. cons_start[i+1]) */
    int *cons;       /* [n_inputs] */
    /* What toon_gd_const_scalar() learnt about each node, so that no constant is decoded twice:
     * 0 not looked at yet, 1 a one-element numeric constant (value in scalar_val), -1 not. */
    signed char *scalar_state; /* [n_nodes] */
    float *scalar_val;         /* [n_nodes] */
};

struct toon_gd_tensor {
    int dtype;
    int rank;
    int64_t dims[TOON_GD_MAX_RANK];
    size_t n_elems;
    struct toon_pb_bytes content; /* tensor_content, raw little-endian */
    struct toon_pb_reader msg;    /* the TensorProto, to walk the *_val fields again */
    size_t n_vals[3];             /* values in float_val, int_val, half_val */
};

/* A node or attribute name from the file, made safe for a one-line message. */
const char *toon_gd_safe(struct toon_pb_bytes b, char *buf, size_t size);
/* The last path component of a node name ("a/b/c" -> "c"). */
struct toon_pb_bytes toon_gd_leaf(struct toon_pb_bytes name);
int toon_gd_bytes_ends_with(struct toon_pb_bytes b, const char *s);
/* Whether node n's op is `op`. */
int toon_gd_op_is(const struct toon_gd_node *n, const char *op);
/* The node feeding data input k of `node`; -1 if none or unknown. */
int toon_gd_input_of(const struct toon_gd_graph *g, int node, int k);
/* The node called `name` (a port suffix ":N" allowed); -1 if none. */
int toon_gd_lookup(const struct toon_gd_graph *g, struct toon_pb_bytes name);
int toon_gd_lookup_str(const struct toon_gd_graph *g, const char *name);
/* Frees what toon_gd_graph_parse() allocated (a zeroed graph is fine). */
void toon_gd_graph_free(struct toon_gd_graph *g);
/* Parses a GraphDef into the node table g, indexed by name and by consumer.  Nothing in the
 * file is trusted; on failure g holds nothing. */
enum toon_status toon_gd_graph_parse(const uint8_t *data, size_t len, struct toon_gd_graph *g,
                                     struct toon_err *err);
/* Node attributes by key; *found 0 when the node has no such attribute. */
enum toon_status toon_gd_attr_s(const struct toon_gd_node *n, const char *key,
                                struct toon_pb_bytes *out, int *found, struct toon_err *err);
enum toon_status toon_gd_attr_type(const struct toon_gd_node *n, const char *key, int *out,
                                   int *found, struct toon_err *err);
/* A list(int) attribute such as `strides`; at most `max` values, *n_out counts them all. */
enum toon_status toon_gd_attr_ints(const struct toon_gd_node *n, const char *key, int64_t *out,
                                   int max, int *n_out, int *found, struct toon_err *err);
/* A TensorFlow DataType's name, for messages. */
const char *toon_gd_dtype_name(int dtype);
/* Reads every value of a tensor as float into out[n_elems]; the caller has checked n_elems.
 * TF's rules: tensor_content if present; else the *_val field, the last value repeated up to
 * the element count (one value and a shape is a fill); no values at all means zeros. */
enum toon_status toon_gd_tensor_read_f32(const struct toon_gd_tensor *t, float *out,
                                         struct toon_err *err);
/* Follows Identity/Cast/Snapshot nodes from `node` back to a Const; -1 if there is none. */
int toon_gd_resolve_const(const struct toon_gd_graph *g, int node);
/* Follows Identity nodes back from `node`. */
int toon_gd_skip_identity(const struct toon_gd_graph *g, int node);
/* The tensor of Const node `node` (its "value" attribute); `who` names it in messages. */
enum toon_status toon_gd_const_tensor(const struct toon_gd_graph *g, int node,
                                      struct toon_gd_tensor *t, const char *who,
                                      struct toon_err *err);
/* The value of a one-element numeric constant reached from `node`; 0 if it is not one. */
int toon_gd_const_scalar(const struct toon_gd_graph *g, int node, float *value);

#endif
