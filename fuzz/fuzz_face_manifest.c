/*
 * Fuzz target for the face models' parsers.  The first byte picks the parser: even, the
 * face-api landmark manifest (bytes 1..3 give the .bin's length, little-endian, the rest is
 * the JSON; the .bin is zeros of that length); odd, the BlazeFace TFLite interpreter's loader
 * on the rest (and, when it loads, one run on a grey input).  Errors are the expected outcome;
 * crashes, sanitizer reports and leaks are bugs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "face/lm68.h"
#include "nn/tfnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_tfnet(const uint8_t *data, size_t size)
{
    struct toon_tfnet *net = NULL;
    if (toon_tfnet_load(data, size, &net, NULL) != TOON_STATUS_OK) return;
    int h, w, c;
    toon_tfnet_input_size(net, &h, &w, &c);
    float *in = toon_calloc((size_t)h * w * c, sizeof(float));
    float *outs[4] = {NULL, NULL, NULL, NULL};
    int ok = in != NULL;
    /* Outputs and inputs are bounded by the loader (1024^2 input, 2^26 elements a tensor). */
    for (int i = 0; i < toon_tfnet_n_outputs(net); i++) {
        outs[i] = toon_malloc(toon_tfnet_output_elems(net, i, NULL) * sizeof(float));
        if (!outs[i]) ok = 0;
    }
    if (ok && toon_tfnet_run_bytes(net) < ((size_t)64 << 20)) toon_tfnet_run(net, in, outs, NULL);
    for (int i = 0; i < 4; i++) toon_free(outs[i]);
    toon_free(in);
    toon_tfnet_free(net);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (data[0] & 1) {
        run_tfnet(data + 1, size - 1);
        return 0;
    }
    if (size < 4) return 0;
    size_t bin_len = (size_t)data[1] | (size_t)data[2] << 8 | (size_t)data[3] << 16;
    uint8_t *bin = toon_calloc(bin_len + 1, 1);
    if (!bin) return 0;
    struct toon_lm68 *net = NULL;
    if (toon_lm68_load_memory((const char *)data + 4, size - 4, bin, bin_len, &net, NULL) ==
        TOON_STATUS_OK)
        toon_lm68_free(net);
    toon_free(bin);
    return 0;
}
