/*
 * The weights of the DCT-Net / White-box generator (spec/PIPELINE.md §2), independent of the
 * file format they came from.  Every model reader (TFLite, TF GraphDef) fills this struct and
 * checks it against toon_gen_layout[]; the network code in src/nn/ only ever sees this.
 *
 * The 18 convolutions, in execution order:
 *   0 Conv (x0)  1 Conv_1  2 Conv_2 (x1)  3 Conv_3  4 Conv_4
 *   5..12 block_0/conv1, block_0/conv2, ..., block_3/conv2
 *   13 Conv_5  14 Conv_6  15 Conv_7  16 Conv_8  17 Conv_9
 */
#ifndef TOON_FORMATS_GENWEIGHTS_H
#define TOON_FORMATS_GENWEIGHTS_H

#include "toonify/status.h"

#define TOON_GEN_N_CONV 18

struct toon_gen_layer_desc {
    const char *scope; /* TF variable scope under "generator/", e.g. "Conv_1", "block_0/conv1" */
    int k, stride, cin, cout;
    int lrelu; /* leaky ReLU (slope 0.2) after the conv */
};
extern const struct toon_gen_layer_desc toon_gen_layout[TOON_GEN_N_CONV];

struct toon_gen_conv {
    int k, stride, cin, cout;
    float *w; /* [cout][k][k][cin] (OHWI), dequantised to fp32, owned (toon_malloc) */
    float *b; /* [cout] */
};

struct toon_gen_weights {
    struct toon_gen_conv conv[TOON_GEN_N_CONV];
    float gf_eps;         /* guided filter epsilon, from the file (fp16 5e-3 -> 0.0050011) */
    float gf_box_weight;  /* the box-filter kernel value as stored (fp16(1/9) = 0.111083984375) */
    int gf_radius;        /* 1 */
    char format[16];      /* "tflite" or "graphdef" */
    char weight_type[16]; /* "fp32", "fp16" or "int8" as stored in the file */
};

/* Index of a scope name in toon_gen_layout ("Conv_3" -> 3), or -1. */
int toon_gen_layer_index(const char *scope);
/* Checks that every conv is present with the layout's shape; err names the first bad one. */
enum toon_status toon_gen_weights_check(const struct toon_gen_weights *gw, struct toon_err *err);
void toon_gen_weights_free(struct toon_gen_weights *gw); /* frees the arrays, not gw itself */

#endif
