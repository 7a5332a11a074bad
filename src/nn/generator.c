/*
 * The generator executor (see generator.h).
 *
 * The network is a small graph of nodes (input, 18 convolutions, two upsample+skip nodes and
 * the two halves of the guided filter).  Each node keeps the rows it has produced, [lo, hi),
 * in a ring of `cap` row slots.  Work is pulled: produce(node, end) makes sure rows below
 * `end` exist, computing the node's rows in fixed chunks (which first pulls the rows those
 * chunks read from the node's inputs).  Rows outside [0, h) are explicit zero rows, so no
 * kernel ever pads vertically.
 *
 * A node may forget a row once every consumer has moved past it: each consumer records, per
 * input, the lowest row its next chunk will read (`need`), and a new row may overwrite the
 * slot of any row below the smallest need.  Convolutions read their input rows as one
 * contiguous block, so the first `mirror` slots of a ring are also copied just past its end:
 * a block of up to mirror + 1 rows is then contiguous wherever it starts, and nothing is ever
 * moved.  How many rows each ring must hold is found by a dry run of the very same schedule
 * before anything is allocated; that dry run is also the memory plan.
 *
 * The whole-image schedule produces node after node completely; nothing is dropped, so the
 * windows hold whole tensors.  The chunks and their inputs are the same in both schedules.
 */
#include "nn/generator.h"

#include <string.h>

#include "core/alloc.h"
#include "core/assert.h"
#include "nn/ops.h"

enum node_kind { NODE_INPUT, NODE_CONV, NODE_UPADD, NODE_GF_AB, NODE_GF_OUT };

/* Node 23 computes x0 (Conv) a second time, for the skip into the last upsample: holding the
 * 32-channel x0 rows for the ~60 rows the decoder lags behind would cost 60 * w * 128 bytes
 * (16 MB at 2048 px), while the 3-channel input rows it is recomputed from cost a tenth of
 * that, for 3.8% more arithmetic.  Both copies use the same prepared kernel: same bits. */
enum { N_NODES = 24, MAX_IN = 3, NODE_OUT = 22, NODE_IN = 0, NODE_X0_SKIP = 23 };
enum { MAX_CHUNK = 8, MAX_ROWS_IN = (MAX_CHUNK - 1) * 2 + 7 }; /* (chunk - 1) * stride + k */

struct node {
    enum node_kind kind;
    int h, w, c;      /* output geometry */
    int in[MAX_IN];   /* input nodes, -1 when unused; conv: in[1] is the residual */
    int layer;        /* conv: index into toon_gen_layout */
    int chunk;        /* rows computed per step */
    int need[MAX_IN]; /* lowest row of in[i] that this node's next chunk reads */
    struct toon_conv *conv;
    int shared_conv; /* conv belongs to another node (same layer computed twice) */
    /* the ring of rows [lo, hi) */
    float *data; /* [cap + mirror][w][c] */
    int cap, mirror, lo, hi;
    int max_rows; /* dry run: the most rows this ring ever had to hold */
};

struct toon_genx {
    struct node nodes[N_NODES];
    const struct toon_gen_weights *gw;
    struct toon_genx_params p;
    int h, w;   /* image size */
    int hp, wp; /* network size: multiples of 4 */
    int dry;
    int n_runs;      /* runs so far: a run after the first starts by rewinding the windows */
    int out_need;    /* the driver's need on the output node */
    float *last_row; /* [wp][3]: the image's last input row, repeated into the bottom padding */
    struct toon_gf_params gf;
    toon_gen_src_fn src;
    void *src_ctx;
    struct toon_err *err;
};

static long row_elems(const struct node *n)
{
    return (long)n->w * n->c;
}

static struct toon_rows window(struct node *n)
{
    struct toon_rows r = {n->data, n->cap, row_elems(n)};
    return r;
}

/* Rows per step: at least 512 pixels per kernel call keeps both cores busy (oneDNN splits a
 * call's pixels between threads; measured 200-220 GFLOP/s from a single row of 512-2048 px
 * on every layer shape), and no more, because every extra row a layer computes ahead of its
 * consumer is carried by the layers below it and, above all, by the skip connection x1,
 * which must hold every row in flight.  An executor run by one thread splits nothing: one
 * row per call, the least memory (12 MB instead of 30 at 288 px, the heads' size), measured
 * as fast as 128-512 px per call there. */
static int chunk_for(const struct toon_genx *g, const struct node *n)
{
    if (g->p.one_thread) return 1;
    int c = (512 + n->w - 1) / (n->w > 0 ? n->w : 1);
    return c < 1 ? 1 : c > MAX_CHUNK ? MAX_CHUNK : c;
}

static int conv_pad_top(const struct node *n, const struct node *in)
{
    const struct toon_gen_layer_desc *d = &toon_gen_layout[n->layer];
    int total = (n->h - 1) * d->stride + d->k - in->h;
    return total > 0 ? total / 2 : 0;
}

/* Rows [*a, *b) of input slot i that node n reads to compute its rows [r0, r1). */
static void in_range(const struct toon_genx *g, const struct node *n, int i, int r0, int r1, int *a,
                     int *b)
{
    const struct node *in = &g->nodes[n->in[i]];
    switch (n->kind) {
    case NODE_CONV:
        if (i == 0) {
            const struct toon_gen_layer_desc *d = &toon_gen_layout[n->layer];
            int p = conv_pad_top(n, in);
            *a = r0 * d->stride - p;
            *b = (r1 - 1) * d->stride - p + d->k;
        } else { /* residual */
            *a = r0;
            *b = r1;
        }
        return;
    case NODE_UPADD:
        if (i == 0) {
            *a = r0 / 2;
            *b = (r1 - 1) / 2 + 2 < in->h ? (r1 - 1) / 2 + 2 : in->h;
        } else {
            *a = r0;
            *b = r1;
        }
        return;
    case NODE_GF_AB:
        *a = r0 - 1;
        *b = r1 + 1;
        return;
    case NODE_GF_OUT:
        *a = i == 0 ? r0 - 1 : r0;
        *b = i == 0 ? r1 + 1 : r1;
        return;
    case NODE_INPUT:
        break;
    }
    *a = *b = r0;
}

static int n_inputs(const struct node *n)
{
    int k = 0;
    while (k < MAX_IN && n->in[k] >= 0) k++;
    return k;
}

/* The lowest row of node id that anybody still needs. */
static int keep_from(const struct toon_genx *g, int id)
{
    int keep = id == NODE_OUT ? g->out_need : 1 << 30;
    for (int m = 0; m < N_NODES; m++)
        for (int i = 0; i < n_inputs(&g->nodes[m]); i++)
            if (g->nodes[m].in[i] == id && g->nodes[m].need[i] < keep) keep = g->nodes[m].need[i];
    return keep;
}

/* Forgets the rows nobody needs any more, so that n_new rows can follow; in the dry run,
 * records how many rows the ring must hold. */
static void make_room(struct toon_genx *g, int id, int n_new)
{
    struct node *n = &g->nodes[id];
    int keep = keep_from(g, id);
    if (keep > n->hi) keep = n->hi;
    if (keep < n->lo) keep = n->lo;
    if (g->dry && n->hi + n_new - keep > n->max_rows) n->max_rows = n->hi + n_new - keep;
    n->lo = keep;
}

/* Copies the rows of [r0, r1) that sit in the first `mirror` slots just past the ring. */
static void mirror_rows(struct node *n, int r0, int r1)
{
    if (!n->mirror || !n->data) return;
    struct toon_rows w = window(n);
    size_t bytes = (size_t)row_elems(n) * sizeof(float);
    for (int r = r0; r < r1; r++) {
        float *row = toon_rows_at(&w, r);
        long slot = (row - n->data) / row_elems(n);
        if (slot < n->mirror) memcpy(n->data + (n->cap + slot) * row_elems(n), row, bytes);
    }
}

static void zero_rows(struct node *n, int r0, int r1)
{
    if (!n->data) return;
    struct toon_rows w = window(n);
    for (int r = r0; r < r1; r++)
        memset(toon_rows_at(&w, r), 0, (size_t)row_elems(n) * sizeof(float));
    mirror_rows(n, r0, r1);
}

/* Input rows: from the caller, padded to the network width and height by repetition. */
static enum toon_status compute_input(struct toon_genx *g, struct node *n, int r0, int r1)
{
    struct toon_rows w = window(n);
    for (int r = r0; r < r1; r++) {
        float *row = toon_rows_at(&w, r);
        if (r < g->h) {
            enum toon_status st = g->src(g->src_ctx, r, 1, row, g->err);
            if (st != TOON_STATUS_OK) return st;
            for (int x = g->w; x < g->wp; x++)
                memcpy(row + x * 3, row + (g->w - 1) * 3, 3 * sizeof(float));
            if (r == g->h - 1) memcpy(g->last_row, row, (size_t)g->wp * 3 * sizeof(float));
        } else {
            memcpy(row, g->last_row, (size_t)g->wp * 3 * sizeof(float));
        }
    }
    return TOON_STATUS_OK;
}

static enum toon_status compute(struct toon_genx *g, int id, int r0, int r1)
{
    struct node *n = &g->nodes[id];
    int rv = r1 < n->h ? r1 : n->h; /* rows below rv are real, the rest zero */
    if (g->dry) return TOON_STATUS_OK;
    struct toon_rows out = window(n);
    switch (n->kind) {
    case NODE_INPUT: {
        enum toon_status st = compute_input(g, n, r0, rv);
        if (st != TOON_STATUS_OK) return st;
        break;
    }
    case NODE_CONV: {
        struct toon_rows iw = window(&g->nodes[n->in[0]]);
        const float *rows[MAX_ROWS_IN]; /* the input rows this chunk reads, wherever they are */
        int a, b;
        in_range(g, n, 0, r0, r1, &a, &b);
        TOON_ASSERT(b - a <= MAX_ROWS_IN);
        for (int r = a; r < b; r++) rows[r - a] = toon_rows_at(&iw, r);
        toon_conv_run(n->conv, rows, toon_rows_at(&out, r0));
        if (n->in[1] >= 0) {
            struct toon_rows rw = window(&g->nodes[n->in[1]]);
            toon_op_add(&rw, &out, row_elems(n), r0, rv);
        }
        break;
    }
    case NODE_UPADD: {
        struct node *src = &g->nodes[n->in[0]];
        struct toon_rows sw = window(src), kw = window(&g->nodes[n->in[1]]);
        toon_op_upadd(&sw, src->h, src->w, &kw, &out, n->w, n->c, r0, rv);
        break;
    }
    case NODE_GF_AB: {
        struct toon_rows xw = window(&g->nodes[n->in[0]]), yw = window(&g->nodes[n->in[1]]);
        toon_op_gf_ab(&g->gf, &xw, &yw, &out, r0, rv);
        break;
    }
    case NODE_GF_OUT: {
        struct toon_rows aw = window(&g->nodes[n->in[0]]), xw = window(&g->nodes[n->in[1]]);
        toon_op_gf_out(&g->gf, &aw, &xw, &out, r0, rv);
        break;
    }
    }
    mirror_rows(n, r0, rv > r0 ? rv : r0);
    zero_rows(n, rv > r0 ? rv : r0, r1);
    return TOON_STATUS_OK;
}

/* Makes rows below `end` of node id exist (rows >= h are zeros). */
static enum toon_status produce(struct toon_genx *g, int id, int end)
{
    struct node *n = &g->nodes[id];
    while (n->hi < end) {
        int r0 = n->hi, r1 = r0 + n->chunk;
        if (r0 >= n->h) { /* past the bottom: zero rows only */
            r1 = end;
        } else {
            for (int i = 0; i < n_inputs(n); i++) {
                int a, b;
                in_range(g, n, i, r0, r1, &a, &b);
                n->need[i] = a;
                enum toon_status st = produce(g, n->in[i], b);
                if (st != TOON_STATUS_OK) return st;
            }
        }
        make_room(g, id, r1 - r0);
        n->hi = r1;
        if (r0 >= n->h) {
            zero_rows(n, r0, r1);
        } else {
            enum toon_status st = compute(g, id, r0, r1);
            if (st != TOON_STATUS_OK) return st;
            for (int i = 0; i < n_inputs(n); i++) {
                int a, b;
                in_range(g, n, i, r1, r1 + n->chunk, &a, &b);
                n->need[i] = a;
            }
        }
    }
    return TOON_STATUS_OK;
}

/* ---- graph construction --------------------------------------------------------------- */

static void set_node(struct node *n, enum node_kind kind, int layer, int in0, int in1, int in2)
{
    memset(n, 0, sizeof *n);
    n->kind = kind;
    n->layer = layer;
    n->in[0] = in0;
    n->in[1] = in1;
    n->in[2] = in2;
}

/* Every window starts at the lowest row its consumers' first chunks read (zero rows). */
static void start_windows(struct toon_genx *g)
{
    struct node *N = g->nodes;
    for (int id = 0; id < N_NODES; id++) {
        N[id].lo = 0;
        N[id].hi = 0;
    }
    for (int m = 0; m < N_NODES; m++) {
        for (int i = 0; i < n_inputs(&N[m]); i++) {
            int a, b;
            in_range(g, &N[m], i, 0, N[m].chunk, &a, &b);
            N[m].need[i] = a;
            if (a < N[N[m].in[i]].lo) N[N[m].in[i]].lo = a;
        }
    }
    g->out_need = 0;
}

static void build_graph(struct toon_genx *g)
{
    struct node *N = g->nodes;
    set_node(&N[0], NODE_INPUT, -1, -1, -1, -1);
    for (int l = 0; l <= 13; l++) { /* Conv .. Conv_4, the residual blocks, Conv_5 */
        int res = -1;
        if (l >= 5 && l <= 12 && (l - 5) % 2 == 1) res = l - 1; /* block_k/conv2 + block input */
        set_node(&N[l + 1], NODE_CONV, l, l, res, -1);
    }
    set_node(&N[15], NODE_UPADD, -1, 14, 3, -1); /* up(Conv_5) + x1 */
    set_node(&N[16], NODE_CONV, 14, 15, -1, -1);
    set_node(&N[17], NODE_CONV, 15, 16, -1, -1);
    set_node(&N[18], NODE_UPADD, -1, 17, NODE_X0_SKIP, -1); /* up(Conv_7) + x0 */
    set_node(&N[19], NODE_CONV, 16, 18, -1, -1);
    set_node(&N[20], NODE_CONV, 17, 19, -1, -1);
    set_node(&N[21], NODE_GF_AB, -1, 0, 20, -1);
    set_node(&N[22], NODE_GF_OUT, -1, 21, 0, -1);
    set_node(&N[NODE_X0_SKIP], NODE_CONV, 0, 0, -1, -1);
    N[NODE_X0_SKIP].shared_conv = 1;

    for (int id = 0; id < N_NODES; id++) {
        struct node *n = &N[id];
        struct node *in = n->in[0] >= 0 ? &N[n->in[0]] : NULL;
        switch (n->kind) {
        case NODE_INPUT:
            n->h = g->hp, n->w = g->wp, n->c = 3;
            break;
        case NODE_CONV: {
            const struct toon_gen_layer_desc *d = &toon_gen_layout[n->layer];
            n->h = (in->h + d->stride - 1) / d->stride;
            n->w = (in->w + d->stride - 1) / d->stride;
            n->c = d->cout;
            break;
        }
        case NODE_UPADD:
            n->h = in->h * 2, n->w = in->w * 2, n->c = in->c;
            break;
        case NODE_GF_AB:
            n->h = in->h, n->w = in->w, n->c = 6;
            break;
        case NODE_GF_OUT:
            n->h = in->h, n->w = in->w, n->c = 3;
            break;
        }
        n->chunk = chunk_for(g, n);
    }
    start_windows(g);
    for (int id = 0; id < N_NODES; id++) N[id].max_rows = -N[id].lo;
}

/* Runs the schedule; in the dry run nothing is computed and only window sizes are recorded. */
static enum toon_status schedule(struct toon_genx *g, toon_gen_sink_fn sink, void *sink_ctx)
{
    struct node *out = &g->nodes[NODE_OUT];
    if (g->p.whole) {
        for (int id = 0; id < N_NODES; id++) {
            enum toon_status st = produce(g, id, g->nodes[id].h);
            if (st != TOON_STATUS_OK) return st;
        }
    }
    int band = g->p.band_rows;
    for (int y = 0; y < g->h; y += band) {
        int y1 = y + band < g->h ? y + band : g->h;
        enum toon_status st = produce(g, NODE_OUT, y1);
        if (st != TOON_STATUS_OK) return st;
        if (!g->dry) {
            struct toon_rows w = window(out);
            for (int r = y; r < y1; r++) {
                st = sink(sink_ctx, r, 1, toon_rows_at(&w, r), g->err);
                if (st != TOON_STATUS_OK) return st;
            }
        }
        g->out_need = y1;
    }
    return TOON_STATUS_OK;
}

static void init(struct toon_genx *g, const struct toon_gen_weights *gw, int h, int w,
                 const struct toon_genx_params *p)
{
    memset(g, 0, sizeof *g);
    g->gw = gw;
    g->p = *p;
    if (g->p.band_rows <= 0) g->p.band_rows = 16;
    g->h = h;
    g->w = w;
    g->hp = (h + 3) / 4 * 4;
    g->wp = (w + 3) / 4 * 4;
    g->gf.eps = gw->gf_eps;
    g->gf.box_weight = gw->gf_box_weight;
    g->gf.h = g->hp;
    g->gf.w = g->wp;
    build_graph(g);
}

/* Which layers the fast path asks for bf16 products: all but the encoder's two 3x3 stride-1
 * layers (Conv_2, Conv_4, 7% of the arithmetic); the last layer keeps its fp32 direct kernel
 * whatever it asks (conv.c).  Conv_2 and Conv_4 would run on the bf16 Winograd kernel,
 * whose rounding errors are about six times a direct bf16 sum's (its output transform multiplies
 * them by up to 8), and errors made early are carried through everything after them: with them
 * in bf16 the worst pixel of the test images was 7-10 levels off (the target allows 8), without
 * them 6.  The encoder's other layers (the first 7x7 and the two stride-2 layers) take the direct
 * bf16 kernel (bench/PRECISION.md has the measurements). */
enum { FIRST_WINO_BF16_LAYER = 5 };

static int fast_layer(const struct toon_genx_params *p, int layer)
{
    const struct toon_gen_layer_desc *d = &toon_gen_layout[layer];
    return p->fast && (layer >= FIRST_WINO_BF16_LAYER || d->k != 3 || d->stride != 1);
}

static enum toon_kernel kernel_for(const struct toon_genx *g, int layer)
{
    if (g->p.force_ref) return TOON_KERNEL_REF;
    return toon_conv_choose(&g->gw->conv[layer], fast_layer(&g->p, layer));
}

/* Window capacities from a dry run, with one spare chunk so windows shift less often. */
static void plan_windows(struct toon_genx *g)
{
    g->dry = 1;
    schedule(g, NULL, NULL);
    for (int id = 0; id < N_NODES; id++) {
        struct node *n = &g->nodes[id];
        /* Chunks start at multiples of the chunk, so a chunk never wraps around the ring. */
        n->cap = (n->max_rows + n->chunk - 1) / n->chunk * n->chunk;
        n->mirror = 0;
        for (int m = 0; m < N_NODES; m++) {
            const struct node *c = &g->nodes[m];
            if (c->kind == NODE_CONV && c->in[0] == id) {
                int span =
                    toon_conv_span(&g->gw->conv[c->layer], c->chunk, kernel_for(g, c->layer));
                if (span - 1 > n->mirror) n->mirror = span - 1;
            }
        }
    }
    /* Back to the initial state for the real run. */
    struct toon_genx_params p = g->p;
    int caps[N_NODES], mirrors[N_NODES];
    for (int id = 0; id < N_NODES; id++) {
        caps[id] = g->nodes[id].cap;
        mirrors[id] = g->nodes[id].mirror;
    }
    init(g, g->gw, g->h, g->w, &p);
    for (int id = 0; id < N_NODES; id++) {
        g->nodes[id].cap = caps[id];
        g->nodes[id].mirror = mirrors[id];
    }
}

size_t toon_genx_plan_bytes(const struct toon_gen_weights *gw, int h, int w,
                            const struct toon_genx_params *p)
{
    if (h < 1 || w < 1) return 0;
    struct toon_genx *g = toon_malloc(sizeof *g); /* too big for the stack of a worker */
    if (!g) return 0;
    init(g, gw, h, w, p);
    plan_windows(g);
    size_t ov = toon_alloc_overhead();
    size_t total = 2 * (sizeof *g + ov);             /* the executor, and this planning copy */
    total += (size_t)g->wp * 3 * sizeof(float) + ov; /* last_row */
    for (int id = 0; id < N_NODES; id++) {
        struct node *n = &g->nodes[id];
        total += (size_t)(n->cap + n->mirror) * (size_t)row_elems(n) * sizeof(float) + ov;
        if (n->kind == NODE_CONV && !n->shared_conv)
            total += toon_conv_plan_bytes(&gw->conv[n->layer], g->nodes[n->in[0]].w, n->chunk,
                                          kernel_for(g, n->layer));
    }
    toon_free(g);
    return total;
}

size_t toon_genx_plan_native_bytes(int h, int w, const struct toon_genx_params *p)
{
    (void)h;
    if (p->force_ref) return 0;
    int f32 = 0, bf16 = 0; /* which oneDNN kernels the layers take (the weights do not matter) */
    for (int l = 0; l < TOON_GEN_N_CONV; l++) {
        const struct toon_gen_layer_desc *d = &toon_gen_layout[l];
        struct toon_gen_conv gc = {d->k, d->stride, d->cin, d->cout, NULL, NULL};
        const struct toon_conv_kernel *k =
            toon_conv_kernel_get(toon_conv_choose(&gc, fast_layer(p, l)));
        if (k->kclass != TOON_KERNEL_CLASS_ONEDNN) continue;
        f32 |= !k->bf16;
        bf16 |= k->bf16;
    }
    return toon_dnnl_native_bytes(w, f32, bf16);
}

enum toon_status toon_genx_new(const struct toon_gen_weights *gw, int h, int w,
                               const struct toon_genx_params *p, struct toon_genx **out,
                               struct toon_err *err)
{
    if (h < 1 || w < 1)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "image size %dx%d is empty", w, h);
    enum toon_status st = TOON_STATUS_NO_MEMORY;
    struct toon_genx *g = toon_malloc(sizeof *g);
    if (!g) return toon_err_set(err, st, "out of memory for the generator");
    init(g, gw, h, w, p);
    plan_windows(g);
    if (!(g->last_row = toon_malloc((size_t)g->wp * 3 * sizeof(float)))) {
        toon_err_set(err, st, "out of memory for the generator");
        goto fail;
    }
    for (int id = 0; id < N_NODES; id++) {
        struct node *n = &g->nodes[id];
        size_t bytes;
        if (!toon_size_mul((size_t)(n->cap + n->mirror), (size_t)row_elems(n) * sizeof(float),
                           &bytes) ||
            !(n->data = toon_malloc(bytes))) {
            toon_err_set(err, st, "out of memory for the generator's rows (%dx%d)", w, h);
            goto fail;
        }
        zero_rows(n, n->lo, 0); /* the zero rows above the image */
        if (n->kind == NODE_CONV && n->shared_conv) {
            n->conv = g->nodes[1].conv; /* the Conv layer's kernel (node 1 is prepared first) */
        } else if (n->kind == NODE_CONV) {
            st = toon_conv_new(&gw->conv[n->layer], toon_gen_layout[n->layer].lrelu,
                               g->nodes[n->in[0]].w, n->chunk, kernel_for(g, n->layer), &n->conv,
                               err);
            if (st != TOON_STATUS_OK) goto fail;
        }
    }
    *out = g;
    return TOON_STATUS_OK;
fail:
    toon_genx_free(g);
    return st;
}

void toon_genx_free(struct toon_genx *g)
{
    if (!g) return;
    toon_free(g->last_row);
    for (int id = 0; id < N_NODES; id++) {
        toon_free(g->nodes[id].data);
        if (!g->nodes[id].shared_conv) toon_conv_free(g->nodes[id].conv);
    }
    toon_free(g);
}

enum toon_status toon_genx_run(struct toon_genx *g, toon_gen_src_fn src, void *src_ctx,
                               toon_gen_sink_fn sink, void *sink_ctx, struct toon_err *err)
{
    g->src = src;
    g->src_ctx = src_ctx;
    g->err = err;
    g->dry = 0;
    if (g->n_runs++ > 0) { /* back to the first row: the same windows, zero rows on top */
        start_windows(g);
        for (int id = 0; id < N_NODES; id++) zero_rows(&g->nodes[id], g->nodes[id].lo, 0);
    }
    return schedule(g, sink, sink_ctx);
}

static const struct toon_conv *layer_conv(const struct toon_genx *g, int layer)
{
    for (int id = 0; id < N_NODES; id++)
        if (g->nodes[id].kind == NODE_CONV && g->nodes[id].layer == layer) return g->nodes[id].conv;
    return NULL;
}

enum toon_kernel toon_genx_kernel(const struct toon_genx *g, int layer)
{
    return toon_conv_kernel(layer_conv(g, layer));
}

const char *toon_genx_kernel_impl(const struct toon_genx *g, int layer)
{
    return toon_conv_impl(layer_conv(g, layer));
}

int toon_genx_input_lag(const struct toon_genx *g)
{
    /* The input ring holds every row read and not yet forgotten, and the rows of one output
     * band are returned after the band is complete: ring size plus band bounds the lag. */
    return g->nodes[NODE_IN].cap + g->p.band_rows;
}

int toon_genx_plan_input_lag(const struct toon_gen_weights *gw, int h, int w,
                             const struct toon_genx_params *p)
{
    struct toon_genx *g = toon_malloc(sizeof *g);
    if (!g) return 0;
    init(g, gw, h, w, p);
    plan_windows(g);
    int lag = toon_genx_input_lag(g);
    toon_free(g);
    return lag;
}

void toon_gen_pack_bgr(const uint8_t *rgb, size_t n, float *bgr)
{
    for (size_t i = 0; i < n; i++) {
        bgr[i * 3 + 0] = rgb[i * 3 + 2] / 127.5f - 1.0f;
        bgr[i * 3 + 1] = rgb[i * 3 + 1] / 127.5f - 1.0f;
        bgr[i * 3 + 2] = rgb[i * 3 + 0] / 127.5f - 1.0f;
    }
}
