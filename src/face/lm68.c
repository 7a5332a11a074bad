/*
 * The face-api landmark net: manifest parsing (cJSON, allocations routed to the counting
 * allocator), dequantisation, and the forward pass built from fnn.h kernels.
 *
 * Network (face-api FaceLandmark68Net): four dense blocks, then a 7x7 average and a fully
 * connected layer.  In a block, out1 = relu(conv0(x)) at stride 2, out2 = sep1(out1),
 * out3 = sep2(relu(out1 + out2)), out4 = sep3(relu(out1 + out2 + out3)), and the block's output
 * is relu(out1 + out2 + out3 + out4); sepN is a 3x3 depthwise conv followed by a 1x1 conv with
 * bias.  Block 0's conv0 is a plain 3x3 conv.
 */
#include "face/lm68.h"

#include <cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "face/fnn.h"

#define N_BLOCKS 4
#define N_SEP    4 /* conv0..conv3 per block */

static const int block_ch[N_BLOCKS] = {32, 64, 128, 256};

struct sep {
    float *dw; /* [3][3][cin] (absent for block 0's conv0) */
    float *pw; /* [cin][cout] (block 0 conv0: [3][3][3][32]) */
    float *b;  /* [cout] */
};

struct toon_lm68 {
    struct sep conv[N_BLOCKS][N_SEP];
    float *fc_w; /* [256][136] */
    float *fc_b; /* [136] */
    float *pool; /* every tensor above points into this one block */
    size_t bytes;
};

/* One expected tensor: its name, shape and where its values go. */
struct want {
    char name[40];
    int rank, dims[4];
    float **dst;
    size_t offset; /* in floats, inside the pool */
    int found;
};

#define N_WANT (N_BLOCKS * N_SEP * 3 + 2 - 1)

static void set_want(struct want *w, const char *name, int rank, int d0, int d1, int d2, int d3,
                     float **dst)
{
    snprintf(w->name, sizeof w->name, "%s", name);
    w->rank = rank;
    w->dims[0] = d0;
    w->dims[1] = d1;
    w->dims[2] = d2;
    w->dims[3] = d3;
    w->dst = dst;
    w->found = 0;
}

static size_t want_elems(const struct want *w)
{
    size_t n = 1;
    for (int i = 0; i < w->rank; i++) n *= (size_t)w->dims[i];
    return n;
}

/* Fills the table of tensors the net needs; returns their count. */
static int build_wants(struct toon_lm68 *net, struct want *w)
{
    int n = 0;
    char name[40];
    for (int b = 0; b < N_BLOCKS; b++) {
        int cin = b == 0 ? 3 : block_ch[b - 1], c = block_ch[b];
        for (int k = 0; k < N_SEP; k++) {
            struct sep *s = &net->conv[b][k];
            int ci = k == 0 ? cin : c;
            if (b == 0 && k == 0) {
                set_want(&w[n++], "dense0/conv0/filters", 4, 3, 3, 3, c, &s->pw);
            } else {
                snprintf(name, sizeof name, "dense%d/conv%d/depthwise_filter", b, k);
                set_want(&w[n++], name, 4, 3, 3, ci, 1, &s->dw);
                snprintf(name, sizeof name, "dense%d/conv%d/pointwise_filter", b, k);
                set_want(&w[n++], name, 4, 1, 1, ci, c, &s->pw);
            }
            snprintf(name, sizeof name, "dense%d/conv%d/bias", b, k);
            set_want(&w[n++], name, 1, c, 0, 0, 0, &s->b);
        }
    }
    set_want(&w[n++], "fc/weights", 2, 256, 136, 0, 0, &net->fc_w);
    set_want(&w[n++], "fc/bias", 1, 136, 0, 0, 0, &net->fc_b);
    return n;
}

static void *hook_malloc(size_t n)
{
    return toon_malloc(n);
}

static void hook_free(void *p)
{
    toon_free(p);
}

void toon_lm68_free(struct toon_lm68 *net)
{
    if (!net) return;
    toon_free(net->pool);
    toon_free(net);
}

size_t toon_lm68_bytes(const struct toon_lm68 *net)
{
    return net->bytes;
}

static enum toon_status bad(struct toon_err *err, const char *what, const char *name)
{
    return toon_err_set(err, TOON_STATUS_MODEL, "bad landmark manifest: %s%s%s", what,
                        name ? ": " : "", name ? name : "");
}

/* A JSON number that is a whole number in [lo, hi]. */
static int json_int(const cJSON *j, int lo, int hi, int *out)
{
    if (!cJSON_IsNumber(j)) return 0;
    double v = j->valuedouble;
    if (!(v >= lo && v <= hi) || v != floor(v)) return 0;
    *out = (int)v;
    return 1;
}

/* Checks one manifest entry and, in the filling pass, dequantises it from bin. */
static enum toon_status read_entry(const cJSON *e, struct want *wants, int n_wants,
                                   const uint8_t *bin, size_t bin_len, size_t *pos, float *pool,
                                   struct toon_err *err)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *quant = cJSON_GetObjectItemCaseSensitive(e, "quantization");
    if (!cJSON_IsString(name) || !name->valuestring) return bad(err, "entry without a name", NULL);
    const char *nm = name->valuestring;
    if (!cJSON_IsArray(shape)) return bad(err, "no shape", nm);
    if (!cJSON_IsString(dtype) || strcmp(dtype->valuestring, "float32") != 0)
        return bad(err, "dtype is not float32", nm);
    int rank = cJSON_GetArraySize(shape), dims[4];
    if (rank < 0 || rank > 4) return bad(err, "rank out of range", nm);
    size_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (!json_int(cJSON_GetArrayItem(shape, i), 0, 1 << 20, &dims[i]))
            return bad(err, "bad dimension", nm);
        if (!toon_size_mul(n, (size_t)dims[i], &n) || n > ((size_t)1 << 28))
            return bad(err, "tensor too large", nm);
    }
    /* Quantised uint8 (q * scale + min) or plain float32. */
    int q8 = 0;
    double scale = 1, mn = 0;
    if (quant) {
        const cJSON *qd = cJSON_GetObjectItemCaseSensitive(quant, "dtype");
        const cJSON *qs = cJSON_GetObjectItemCaseSensitive(quant, "scale");
        const cJSON *qm = cJSON_GetObjectItemCaseSensitive(quant, "min");
        if (!cJSON_IsObject(quant) || !cJSON_IsString(qd) || strcmp(qd->valuestring, "uint8") ||
            !cJSON_IsNumber(qs) || !cJSON_IsNumber(qm) || !isfinite(qs->valuedouble) ||
            !isfinite(qm->valuedouble))
            return bad(err, "unsupported quantization (only uint8 with scale and min)", nm);
        q8 = 1;
        scale = qs->valuedouble;
        mn = qm->valuedouble;
    }
    size_t n_bytes = q8 ? n : n * 4;
    if (n_bytes > bin_len - *pos) return bad(err, "tensors run past the end of the .bin", nm);
    const uint8_t *src = bin + *pos;
    *pos += n_bytes;
    struct want *w = NULL;
    for (int i = 0; i < n_wants; i++)
        if (strcmp(wants[i].name, nm) == 0) w = &wants[i];
    if (!w) return TOON_STATUS_OK; /* a tensor the net does not use: skipped */
    if (!pool) {
        if (w->found) return bad(err, "tensor listed twice", nm);
        w->found = 1;
        if (rank != w->rank) return bad(err, "unexpected shape", nm);
        for (int i = 0; i < rank; i++)
            if (dims[i] != w->dims[i]) return bad(err, "unexpected shape", nm);
        return TOON_STATUS_OK;
    }
    float *dst = pool + w->offset;
    for (size_t i = 0; i < n; i++) {
        if (q8) {
            dst[i] = (float)(src[i] * scale + mn);
        } else {
            uint32_t u = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                         (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
            float f;
            memcpy(&f, &u, 4);
            dst[i] = isfinite(f) ? f : 0.0f;
        }
    }
    return TOON_STATUS_OK;
}

/* One pass over every entry of every group. */
static enum toon_status walk(const cJSON *root, struct want *wants, int n_wants, const uint8_t *bin,
                             size_t bin_len, float *pool, struct toon_err *err)
{
    size_t pos = 0;
    if (!cJSON_IsArray(root)) return bad(err, "not a JSON array of weight groups", NULL);
    const cJSON *g;
    cJSON_ArrayForEach(g, root)
    {
        const cJSON *ws = cJSON_GetObjectItemCaseSensitive(g, "weights");
        if (!cJSON_IsObject(g) || !cJSON_IsArray(ws))
            return bad(err, "group without weights", NULL);
        const cJSON *e;
        cJSON_ArrayForEach(e, ws)
        {
            if (!cJSON_IsObject(e)) return bad(err, "weight entry is not an object", NULL);
            enum toon_status st = read_entry(e, wants, n_wants, bin, bin_len, &pos, pool, err);
            if (st != TOON_STATUS_OK) return st;
        }
    }
    if (pos != bin_len)
        return toon_err_set(err, TOON_STATUS_MODEL,
                            "bad landmark manifest: tensors add up to %zu bytes, the .bin has %zu",
                            pos, bin_len);
    return TOON_STATUS_OK;
}

enum toon_status toon_lm68_load_memory(const char *json, size_t json_len, const uint8_t *bin,
                                       size_t bin_len, struct toon_lm68 **out, struct toon_err *err)
{
    struct want wants[N_WANT];
    enum toon_status st;
    cJSON *root = NULL;
    *out = NULL;
    struct toon_lm68 *net = toon_calloc(1, sizeof *net);
    if (!net) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    int n_wants = build_wants(net, wants);
    cJSON_Hooks hooks = {hook_malloc, hook_free};
    cJSON_InitHooks(&hooks);
    if (json_len > ((size_t)1 << 24)) {
        st = bad(err, "manifest larger than 16 MB", NULL);
        goto fail;
    }
    root = cJSON_ParseWithLength(json, json_len);
    if (!root) {
        st = bad(err, "not valid JSON", NULL);
        goto fail;
    }
    if ((st = walk(root, wants, n_wants, bin, bin_len, NULL, err)) != TOON_STATUS_OK) goto fail;
    size_t total = 0;
    for (int i = 0; i < n_wants; i++) {
        if (!wants[i].found) {
            st = bad(err, "missing tensor", wants[i].name);
            goto fail;
        }
        wants[i].offset = total;
        total += (want_elems(&wants[i]) + 15) & ~(size_t)15;
    }
    total += TOON_FNN_SLACK;
    net->pool = toon_malloc(total * sizeof(float));
    if (!net->pool) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
        goto fail;
    }
    if ((st = walk(root, wants, n_wants, bin, bin_len, net->pool, err)) != TOON_STATUS_OK)
        goto fail;
    for (int i = 0; i < n_wants; i++) *wants[i].dst = net->pool + wants[i].offset;
    net->bytes = sizeof *net + total * sizeof(float) + 2 * toon_alloc_overhead();
    cJSON_Delete(root);
    *out = net;
    return TOON_STATUS_OK;
fail:
    cJSON_Delete(root);
    toon_lm68_free(net);
    return st;
}

/* Largest activation: 56 x 56 x 32 floats; a block keeps out1..out4 and a scratch. */
#define ACT_FLOATS (56 * 56 * 32)
#define N_BUFS     6

size_t toon_lm68_run_bytes(void)
{
    return N_BUFS * (ACT_FLOATS * sizeof(float) + toon_alloc_overhead());
}

/* y = pw(dw(x)) + b at stride s; tmp holds the depthwise result. */
static void sep_conv(const struct sep *s, const float *x, int h, int w, int cin, int cout,
                     int stride, float *tmp, float *y)
{
    int oh, ow, pad;
    toon_fnn_dwconv(x, h, w, cin, s->dw, NULL, 3, 3, stride, 1, TOON_FNN_ACT_NONE, tmp);
    toon_fnn_out_size(h, 3, stride, 1, &oh, &pad);
    toon_fnn_out_size(w, 3, stride, 1, &ow, &pad);
    toon_fnn_conv(tmp, oh, ow, cin, s->pw, s->b, 1, 1, cout, 1, 1, TOON_FNN_ACT_NONE, y);
}

enum toon_status toon_lm68_run(const struct toon_lm68 *net, const float *in, float *out,
                               struct toon_err *err)
{
    float *buf[N_BUFS] = {0};
    enum toon_status st = TOON_STATUS_OK;
    for (int i = 0; i < N_BUFS; i++) {
        buf[i] = toon_malloc(ACT_FLOATS * sizeof(float));
        if (!buf[i]) {
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
            goto fail;
        }
    }
    /* buf[0]: block input, buf[1..4]: out1..out4, buf[5]: scratch. */
    int h = TOON_LM68_INPUT, w = TOON_LM68_INPUT, cin = 3;
    const float *x = in;
    for (int b = 0; b < N_BLOCKS; b++) {
        int c = block_ch[b], oh = h / 2, ow = w / 2;
        size_t n = (size_t)oh * ow * c;
        float *o1 = buf[1], *o2 = buf[2], *o3 = buf[3], *o4 = buf[4], *t = buf[5];
        if (b == 0)
            toon_fnn_conv(x, h, w, cin, net->conv[0][0].pw, net->conv[0][0].b, 3, 3, c, 2, 1,
                          TOON_FNN_ACT_RELU, o1);
        else {
            sep_conv(&net->conv[b][0], x, h, w, cin, c, 2, t, o1);
            toon_fnn_relu(o1, n, o1);
        }
        sep_conv(&net->conv[b][1], o1, oh, ow, c, c, 1, t, o2);
        toon_fnn_add(o1, o2, n, TOON_FNN_ACT_RELU, buf[0]);
        sep_conv(&net->conv[b][2], buf[0], oh, ow, c, c, 1, t, o3);
        for (size_t i = 0; i < n; i++) {
            float v = o1[i] + o2[i] + o3[i];
            buf[0][i] = v > 0 ? v : 0;
        }
        sep_conv(&net->conv[b][3], buf[0], oh, ow, c, c, 1, t, o4);
        for (size_t i = 0; i < n; i++) {
            float v = o1[i] + o2[i] + o3[i] + o4[i];
            buf[0][i] = v > 0 ? v : 0;
        }
        x = buf[0];
        h = oh;
        w = ow;
        cin = c;
    }
    /* 7x7 average (VALID, so the whole 7x7 map), then the fully connected layer. */
    float avg[256];
    for (int ch = 0; ch < 256; ch++) avg[ch] = 0;
    for (int i = 0; i < 49; i++)
        for (int ch = 0; ch < 256; ch++) avg[ch] += x[i * 256 + ch];
    for (int ch = 0; ch < 256; ch++) avg[ch] /= 49.0f;
    for (int o = 0; o < 136; o++) out[o] = net->fc_b[o];
    for (int ch = 0; ch < 256; ch++)
        for (int o = 0; o < 136; o++) out[o] += avg[ch] * net->fc_w[ch * 136 + o];
fail:
    for (int i = 0; i < N_BUFS; i++) toon_free(buf[i]);
    return st;
}
