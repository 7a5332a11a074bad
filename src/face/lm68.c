/*
 * The face-api landmark net: the tensors it reads from its tfjs manifest (formats/tfjs.h)
 * and the forward pass built from fnn.h kernels.
 *
 * Network (face-api FaceLandmark68Net): four dense blocks, then a 7x7 average and a fully
 * connected layer.  In a block, out1 = relu(conv0(x)) at stride 2, out2 = sep1(out1),
 * out3 = sep2(relu(out1 + out2)), out4 = sep3(relu(out1 + out2 + out3)), and the block's output
 * is relu(out1 + out2 + out3 + out4); sepN is a 3x3 depthwise conv followed by a 1x1 conv with
 * bias.  Block 0's conv0 is a plain 3x3 conv.
 */
#include "face/lm68.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "nn/fnn.h"
#include "formats/tfjs.h"

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

#define N_WANT (N_BLOCKS * N_SEP * 3 + 2 - 1)

/* Fills the table of tensors the net needs; returns their count. */
static int build_wants(struct toon_lm68 *net, struct toon_tfjs_want *w)
{
    int n = 0;
    char name[40];
    for (int b = 0; b < N_BLOCKS; b++) {
        int cin = b == 0 ? 3 : block_ch[b - 1], c = block_ch[b];
        for (int k = 0; k < N_SEP; k++) {
            struct sep *s = &net->conv[b][k];
            int ci = k == 0 ? cin : c;
            if (b == 0 && k == 0) {
                toon_tfjs_want_set(&w[n++], "dense0/conv0/filters", 4, 3, 3, 3, c, &s->pw);
            } else {
                snprintf(name, sizeof name, "dense%d/conv%d/depthwise_filter", b, k);
                toon_tfjs_want_set(&w[n++], name, 4, 3, 3, ci, 1, &s->dw);
                snprintf(name, sizeof name, "dense%d/conv%d/pointwise_filter", b, k);
                toon_tfjs_want_set(&w[n++], name, 4, 1, 1, ci, c, &s->pw);
            }
            snprintf(name, sizeof name, "dense%d/conv%d/bias", b, k);
            toon_tfjs_want_set(&w[n++], name, 1, c, 0, 0, 0, &s->b);
        }
    }
    toon_tfjs_want_set(&w[n++], "fc/weights", 2, 256, 136, 0, 0, &net->fc_w);
    toon_tfjs_want_set(&w[n++], "fc/bias", 1, 136, 0, 0, 0, &net->fc_b);
    return n;
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

enum toon_status toon_lm68_load_memory(const char *json, size_t json_len, const uint8_t *bin,
                                       size_t bin_len, struct toon_lm68 **out, struct toon_err *err)
{
    struct toon_tfjs_want wants[N_WANT];
    size_t total;
    *out = NULL;
    struct toon_lm68 *net = toon_calloc(1, sizeof *net);
    if (!net) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    int n_wants = build_wants(net, wants);
    enum toon_status st =
        toon_tfjs_read(json, json_len, bin, bin_len, wants, n_wants, TOON_FNN_SLACK,
                       "landmark manifest", &net->pool, &total, err);
    if (st != TOON_STATUS_OK) {
        toon_lm68_free(net);
        return st;
    }
    net->bytes = sizeof *net + total * sizeof(float) + 2 * toon_alloc_overhead();
    *out = net;
    return TOON_STATUS_OK;
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
