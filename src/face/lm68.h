/*
 * The face-api 68-point landmark net (spec/MODELS.md, "face-api 68-point landmarks"): a
 * tfjs weights manifest (JSON) plus a .bin of uint8-quantised tensors, and the network that
 * maps a 112x112 face crop to 68 (x, y) fractions of that crop.
 *
 * The manifest is untrusted input: toon_lm68_load_memory() checks every field it reads, that
 * each tensor the net needs is present exactly once with its expected shape, and that the
 * tensor sizes add up to the .bin's size; anything else is TOON_STATUS_MODEL with a one-line
 * message starting "bad landmark manifest:".
 *
 * Thread-safety: a loaded net is immutable; runs may happen in parallel.
 */
#ifndef TOON_FACE_LM68_H
#define TOON_FACE_LM68_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

#define TOON_LM68_INPUT 112

struct toon_lm68;

enum toon_status toon_lm68_load_memory(const char *json, size_t json_len, const uint8_t *bin,
                                       size_t bin_len, struct toon_lm68 **out,
                                       struct toon_err *err);
void toon_lm68_free(struct toon_lm68 *net);
size_t toon_lm68_bytes(const struct toon_lm68 *net);
/* Heap bytes one run allocates at most. */
size_t toon_lm68_run_bytes(void);

/* in: [112][112][3] normalised RGB ((x - mean) / 255); out: [136] = 68 (x, y) fractions. */
enum toon_status toon_lm68_run(const struct toon_lm68 *net, const float *in, float *out,
                               struct toon_err *err);

#endif
