/*
 * TensorFlow.js weights manifests: a JSON array of weight groups, each listing its tensors
 * (name, shape, dtype, optional uint8 quantisation), whose values lie one after another in a
 * separate .bin.  face-api's nets ship in this form (spec/MODELS.md).
 *
 * The manifest and the .bin are untrusted input: toon_tfjs_read() checks every field it
 * reads, that each tensor the caller wants is present exactly once with its expected shape,
 * and that the tensor sizes add up to the .bin's size; anything else is TOON_STATUS_MODEL with
 * a one-line message "bad <what>: ...".  Only float32 tensors, stored plain or as uint8 with a
 * scale and a minimum, are read.  cJSON's allocations go through the counting allocator.
 *
 * Thread-safety: toon_tfjs_read() installs cJSON's allocation hooks (the counting allocator,
 * the same for every caller); otherwise it touches only its arguments.
 */
#ifndef TOON_FORMATS_TFJS_H
#define TOON_FORMATS_TFJS_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

/* One tensor the caller needs: its name and shape (filled in by the caller) and where its
 * values land (filled in by toon_tfjs_read). */
struct toon_tfjs_want {
    char name[40];
    int rank, dims[4];
    float **dst;   /* set to the tensor's values, inside the pool */
    size_t offset; /* in floats, inside the pool */
    int found;
};

/* Fills one want; dims past rank are ignored. */
void toon_tfjs_want_set(struct toon_tfjs_want *w, const char *name, int rank, int d0, int d1,
                        int d2, int d3, float **dst);

/*
 * Reads the wanted tensors of the manifest json (json_len bytes, at most 16 MB) and its .bin
 * into one block from toon_malloc: each tensor starts at a multiple of 16 floats, the block
 * ends with slack more floats, *w->dst points at each tensor's values (dequantised; non-finite
 * float32 values read as 0).  Tensors the manifest holds but nobody wants are skipped.
 * *pool (free with toon_free) and *pool_floats are set on success only; `what` names the
 * manifest in messages ("landmark manifest").
 */
enum toon_status toon_tfjs_read(const char *json, size_t json_len, const uint8_t *bin,
                                size_t bin_len, struct toon_tfjs_want *wants, int n_wants,
                                size_t slack, const char *what, float **pool, size_t *pool_floats,
                                struct toon_err *err);

#endif
