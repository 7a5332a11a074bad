/*
 * Fuzz target for the TF GraphDef reader (src/formats/graphdef.c, graphdef_generator.c,
 * protobuf.c): every input is read twice, once strictly (a model loader's path) and once with
 * TOON_GRAPHDEF_ANY_SHAPE so that graphs with tiny fake weights (the seed corpus) reach the
 * guided-filter and normalisation recognition too.  A crash, sanitizer report, leak, an error
 * without a message or a multi-line message is a bug; the recognised weights, when any, must be
 * self-consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "formats/graphdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(enum toon_status st, const struct toon_err *err, struct toon_gen_weights *gw)
{
    if (st != TOON_STATUS_OK) {
        if (!err->msg[0] || strchr(err->msg, '\n')) __builtin_trap();
        for (int i = 0; i < TOON_GEN_N_CONV; i++)
            if (gw->conv[i].w || gw->conv[i].b) __builtin_trap();
        return;
    }
    for (int i = 0; i < TOON_GEN_N_CONV; i++) {
        const struct toon_gen_conv *c = &gw->conv[i];
        if (!c->w || !c->b || c->k < 1 || c->cin < 1 || c->cout < 1 || c->stride < 1)
            __builtin_trap();
        /* Touch the last element of each array: ASan catches a short allocation. */
        volatile float last = c->w[(size_t)c->k * c->k * c->cin * c->cout - 1] + c->b[c->cout - 1];
        (void)last;
    }
    toon_gen_weights_free(gw);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t before = toon_alloc_current();
    struct toon_gen_weights gw;
    struct toon_graphdef_info info;
    struct toon_err err;
    err.msg[0] = '\0';
    check(toon_graphdef_read_generator(data, size, &gw, &err), &err, &gw);
    err.msg[0] = '\0';
    check(toon_graphdef_read_generator_ex(data, size, TOON_GRAPHDEF_ANY_SHAPE, "fuzz.pb", &gw,
                                          &info, &err),
          &err, &gw);
    if (toon_alloc_current() != before) __builtin_trap();
    return 0;
}
