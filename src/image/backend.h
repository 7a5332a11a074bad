/*
 * The format backends behind the generic reader and writer of codec.h (internal to src/image).
 *
 * A decoder backend is opened on the encoded bytes and reads only the header: it fills the
 * `struct toon_image_info` (stored size, orientation, channels) and checks the limits before it
 * allocates anything that grows with the image.  `start` then prepares pixel decoding and `rows`
 * delivers stored rows (not yet oriented) as RGB u8 with alpha composited onto white.  Backends
 * that decode the whole picture at once (WebP, interlaced PNG) also expose it through `whole`,
 * so the reader can rotate it without a second copy.
 *
 * An encoder backend takes RGB u8 rows and passes encoded bytes to the sink.
 *
 * The `_lib_bytes`/`_plan_bytes` functions bound the heap a backend holds, including the codec
 * library's own malloc calls, for toon_imgreader_plan_bytes() and toon_imgwriter_plan_bytes().
 */
#ifndef TOON_IMAGE_BACKEND_H
#define TOON_IMAGE_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "core/alloc.h"
#include "toonify/toonify.h"

struct toon_decoder_ops {
    /* Allocates the row state and begins decoding pixels. */
    enum toon_status (*start)(void *dec, struct toon_err *err);
    /* The next n stored rows.  rows: [n][file_w][3]. */
    enum toon_status (*rows)(void *dec, uint8_t *rows, int n, struct toon_err *err);
    /* After start: the whole stored image [file_h][file_w][3] when the backend keeps one, else
     * NULL.  May be NULL itself. */
    const uint8_t *(*whole)(void *dec);
    void (*free)(void *dec);
};

struct toon_encoder_ops {
    /* rows: [n][w][3] */
    enum toon_status (*rows)(void *enc, const uint8_t *rows, int n, struct toon_err *err);
    enum toon_status (*finish)(void *enc, struct toon_err *err);
    void (*free)(void *enc);
};

/* Decoder backends: lim may be NULL (probe: no limit check, and start is never called). */
enum toon_status toon_jpeg_dec_open(const uint8_t *data, size_t len,
                                    const struct toon_decode_limits *lim,
                                    struct toon_image_info *info, void **out, struct toon_err *err);
enum toon_status toon_png_dec_open(const uint8_t *data, size_t len,
                                   const struct toon_decode_limits *lim,
                                   struct toon_image_info *info, void **out, struct toon_err *err);
enum toon_status toon_webp_dec_open(const uint8_t *data, size_t len,
                                    const struct toon_decode_limits *lim,
                                    struct toon_image_info *info, void **out, struct toon_err *err);
extern const struct toon_decoder_ops toon_jpeg_dec_ops;
extern const struct toon_decoder_ops toon_png_dec_ops;
extern const struct toon_decoder_ops toon_webp_dec_ops;
/* Heap held by an open and started backend (ours and the library's), for this header. */
size_t toon_jpeg_dec_plan_bytes(const struct toon_image_info *info);
size_t toon_png_dec_plan_bytes(const struct toon_image_info *info);
size_t toon_webp_dec_plan_bytes(const struct toon_image_info *info);

/* The caller's pixels (TOON_FORMAT_RAW, src/image/raw.c): rows served in place, BGR swapped. */
enum toon_status toon_raw_dec_open(const struct toon_image *px, enum toon_channel_order order,
                                   const struct toon_decode_limits *lim,
                                   struct toon_image_info *info, void **out, struct toon_err *err);
extern const struct toon_decoder_ops toon_raw_dec_ops;
size_t toon_raw_dec_plan_bytes(void);

/* Encoder backends. */
enum toon_status toon_jpeg_enc_open(int quality, int w, int h, toon_write_fn sink, void *sink_ctx,
                                    void **out, struct toon_err *err);
enum toon_status toon_png_enc_open(int w, int h, toon_write_fn sink, void *sink_ctx, void **out,
                                   struct toon_err *err);
enum toon_status toon_webp_enc_open(int quality, int w, int h, toon_write_fn sink, void *sink_ctx,
                                    void **out, struct toon_err *err);
extern const struct toon_encoder_ops toon_jpeg_enc_ops;
extern const struct toon_encoder_ops toon_png_enc_ops;
extern const struct toon_encoder_ops toon_webp_enc_ops;
enum toon_status toon_raw_enc_open(int w, int h, toon_write_fn sink, void *sink_ctx, void **out,
                                   struct toon_err *err);
extern const struct toon_encoder_ops toon_raw_enc_ops;
size_t toon_raw_enc_plan_bytes(int w, int h);
size_t toon_jpeg_enc_plan_bytes(int w, int h);
size_t toon_png_enc_plan_bytes(int w, int h);
size_t toon_webp_enc_plan_bytes(int w, int h);

/* ---- shared helpers (image.c, exif.c) ---------------------------------------------------- */

/* Sets info->w/h from file_w/file_h and orientation (5..8 swap the sides). */
void toon_info_apply_orientation(struct toon_image_info *info);
/* Checks the displayed size against the limits: TOON_STATUS_TOO_LARGE with a one-line message. */
enum toon_status toon_limits_check(const struct toon_image_info *info,
                                   const struct toon_decode_limits *lim, struct toon_err *err);

/* The EXIF orientation (1..8) from an EXIF block: either "Exif\0\0" followed by a TIFF header
 * (JPEG APP1) or a bare TIFF header (PNG eXIf, WebP EXIF).  Unreadable or absent: 1.  Fails only
 * when an allocation fails (TOON_STATUS_NO_MEMORY). */
enum toon_status toon_exif_orientation(const uint8_t *data, size_t len, int *out,
                                       struct toon_err *err);
/* Upper bound of the heap libexif may hold while toon_exif_orientation() runs. */
size_t toon_exif_plan_bytes(void);

/* Composites RGBA u8 onto white into RGB u8; may run in place (dst == src).
 * src: [n][4], dst: [n][3]. */
void toon_rgba_onto_white(uint8_t *dst, const uint8_t *src, size_t n);

/* Saturating size arithmetic for planners: SIZE_MAX stands for "does not fit". */
static inline size_t toon_plan_add(size_t a, size_t b)
{
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}
static inline size_t toon_plan_mul(size_t a, size_t b)
{
    size_t r;
    return toon_size_mul(a, b, &r) ? r : SIZE_MAX;
}
/* Heap taken by one toon_malloc block of n bytes, bookkeeping included. */
static inline size_t toon_plan_block(size_t n)
{
    return toon_plan_add(n, toon_alloc_overhead());
}

#endif
