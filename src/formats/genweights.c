/* The generator's fixed layout and the checks every model reader applies (see genweights.h). */
#include "formats/genweights.h"

#include <string.h>

#include "core/alloc.h"

const struct toon_gen_layer_desc toon_gen_layout[TOON_GEN_N_CONV] = {
    {"Conv", 7, 1, 3, 32, 1},
    {"Conv_1", 3, 2, 32, 32, 1},
    {"Conv_2", 3, 1, 32, 64, 1},
    {"Conv_3", 3, 2, 64, 64, 1},
    {"Conv_4", 3, 1, 64, 128, 1},
    {"block_0/conv1", 3, 1, 128, 128, 1},
    {"block_0/conv2", 3, 1, 128, 128, 0},
    {"block_1/conv1", 3, 1, 128, 128, 1},
    {"block_1/conv2", 3, 1, 128, 128, 0},
    {"block_2/conv1", 3, 1, 128, 128, 1},
    {"block_2/conv2", 3, 1, 128, 128, 0},
    {"block_3/conv1", 3, 1, 128, 128, 1},
    {"block_3/conv2", 3, 1, 128, 128, 0},
    {"Conv_5", 3, 1, 128, 64, 1},
    {"Conv_6", 3, 1, 64, 64, 1},
    {"Conv_7", 3, 1, 64, 32, 1},
    {"Conv_8", 3, 1, 32, 32, 1},
    {"Conv_9", 7, 1, 32, 3, 0},
};

int toon_gen_layer_index(const char *scope)
{
    for (int i = 0; i < TOON_GEN_N_CONV; i++)
        if (strcmp(toon_gen_layout[i].scope, scope) == 0) return i;
    return -1;
}

enum toon_status toon_gen_weights_check(const struct toon_gen_weights *gw, struct toon_err *err)
{
    for (int i = 0; i < TOON_GEN_N_CONV; i++) {
        const struct toon_gen_layer_desc *d = &toon_gen_layout[i];
        const struct toon_gen_conv *c = &gw->conv[i];
        if (!c->w || !c->b)
            return toon_err_set(err, TOON_STATUS_MODEL, "generator/%s is missing", d->scope);
        if (c->k != d->k || c->cin != d->cin || c->cout != d->cout || c->stride != d->stride)
            return toon_err_set(err, TOON_STATUS_MODEL,
                                "generator/%s has shape k=%d stride=%d %d->%d, expected k=%d "
                                "stride=%d %d->%d",
                                d->scope, c->k, c->stride, c->cin, c->cout, d->k, d->stride, d->cin,
                                d->cout);
    }
    if (!(gw->gf_eps > 0 && gw->gf_eps < 1))
        return toon_err_set(err, TOON_STATUS_MODEL, "guided filter epsilon %g is out of range",
                            (double)gw->gf_eps);
    return TOON_STATUS_OK;
}

void toon_gen_weights_free(struct toon_gen_weights *gw)
{
    if (!gw) return;
    for (int i = 0; i < TOON_GEN_N_CONV; i++) {
        toon_free(gw->conv[i].w);
        toon_free(gw->conv[i].b);
        gw->conv[i].w = gw->conv[i].b = NULL;
    }
}
