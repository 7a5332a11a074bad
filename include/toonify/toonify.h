/*
 * toonify public API: turn photos of people into cartoons with the DCT-Net generator.
 *
 * Lifetime: every object made by a `_new` or `_load` function is released by its `_free` function;
 * `_free(NULL)` is a no-op.  Thread-safety: a loaded `struct toon_model` is immutable and may be
 * shared by any number of threads; every other object belongs to one thread at a time.
 * Library code never prints and never exits; messages go to the log callback.
 */
#ifndef TOONIFY_TOONIFY_H
#define TOONIFY_TOONIFY_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TOONIFY_VERSION "0.1.0"

/* ---- logging ---------------------------------------------------------------------------- */
enum toon_log_level { TOON_LOG_ERROR, TOON_LOG_WARN, TOON_LOG_INFO, TOON_LOG_DEBUG };
typedef void (*toon_log_fn)(enum toon_log_level level, const char *msg, void *user);
void toon_log_set_callback(toon_log_fn fn, void *user);

/* ---- images ------------------------------------------------------------------------------ */
enum toon_format { TOON_FORMAT_UNKNOWN, TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP };

/* An 8-bit interleaved image; rows are `stride` bytes apart.  Owned by whoever filled it;
 * release with toon_image_free(). */
struct toon_image {
    int w, h, c;   /* c is 3 (RGB) unless stated otherwise */
    size_t stride; /* bytes per row */
    uint8_t *data; /* [h][stride] */
};
void toon_image_free(struct toon_image *img);

/* Everything a decoder learns from the header, before any pixel is decoded. */
struct toon_image_info {
    enum toon_format format;
    int w, h;           /* as displayed: after EXIF orientation */
    int file_w, file_h; /* as stored */
    int orientation;    /* EXIF orientation 1..8 (1 when absent) */
    int channels;       /* in the file: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
    int bit_depth;      /* 8 or 16 */
    int progressive;    /* progressive JPEG / interlaced PNG: needs a whole-image buffer */
};

/* Limits checked against the header before any pixel buffer is allocated. */
struct toon_decode_limits {
    int max_w, max_h;    /* per side */
    uint64_t max_pixels; /* w*h */
};
struct toon_decode_limits toon_decode_default_limits(void); /* 16384 per side, 100 Mpx */

enum toon_format toon_format_from_name(const char *name); /* "png", "jpg", "jpeg", "webp" */
const char *toon_format_name(enum toon_format fmt);

/* Sink for encoded bytes.  Returns TOON_STATUS_OK or an error that aborts the encode. */
typedef enum toon_status (*toon_write_fn)(void *ctx, const void *data, size_t n_bytes);

#ifdef __cplusplus
}
#endif
#endif
