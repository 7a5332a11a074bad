/*
 * Image codecs: a streaming decoder ("reader") and a streaming encoder ("writer") for JPEG, PNG
 * and WebP, built on libjpeg-turbo, libspng and libwebp.
 *
 * The reader hands out RGB u8 rows top to bottom with the EXIF orientation already applied and
 * any alpha composited onto white.  Dimensions are read from the header and checked against the
 * caller's limits before any pixel buffer exists.  For baseline JPEG and non-interlaced PNG with
 * orientation 1 (or 2, a plain mirror) it keeps only O(width) memory; progressive JPEG,
 * interlaced PNG, WebP and rotated images are decoded whole internally.  The writer takes RGB u8
 * rows and streams JPEG and PNG to a sink as they come; WebP is buffered and encoded at the end.
 *
 * Every `_plan_bytes` function returns an upper bound of the heap the object holds at once,
 * including what the codec library allocates with plain malloc, so the memory planner can decide
 * before any work starts.
 *
 * Lifetime: `_open` makes the object, `_free` releases it (`_free(NULL)` is a no-op); the input
 * bytes given to toon_imgreader_open() must outlive the reader.  Thread-safety: each reader or
 * writer belongs to one thread at a time; different objects may be used in parallel.
 * Error messages are one line and do not name the file: callers prepend it.
 */
#ifndef TOON_IMAGE_CODEC_H
#define TOON_IMAGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "toonify/toonify.h"

/* The format announced by the first bytes (magic numbers), or TOON_FORMAT_UNKNOWN. */
enum toon_format toon_format_sniff(const uint8_t *data, size_t len);

/* Reads only the header: format, stored and displayed size, orientation, channels.  Allocates
 * nothing that grows with the image. */
enum toon_status toon_image_probe(const uint8_t *data, size_t len, struct toon_image_info *info,
                                  struct toon_err *err);

/* ---- streaming decoder ------------------------------------------------------------------ */
struct toon_imgreader;

/* lim may be NULL for toon_decode_default_limits(). */
enum toon_status toon_imgreader_open(const uint8_t *data, size_t len,
                                     const struct toon_decode_limits *lim,
                                     struct toon_imgreader **out, struct toon_err *err);
const struct toon_image_info *toon_imgreader_info(const struct toon_imgreader *r);
/* The next n rows, top to bottom, as RGB u8, EXIF orientation applied.
 * rows: [n][info.w][3]. */
enum toon_status toon_imgreader_read(struct toon_imgreader *r, uint8_t *rows, int n,
                                     struct toon_err *err);
void toon_imgreader_free(struct toon_imgreader *r);
/* Upper bound of the heap bytes a reader holds at once for this image, the codec library's own
 * allocations included. */
size_t toon_imgreader_plan_bytes(const struct toon_image_info *info);

/* What a conversion reads: encoded bytes, or the caller's pixels (toon_convert_pixels), which
 * a reader serves in place as a stream of RGB rows (info.format TOON_FORMAT_RAW, orientation 1;
 * the limits apply to their size as to a header's). */
struct toon_source {
    const uint8_t *data; /* encoded bytes, when pixels is NULL */
    size_t len;
    const struct toon_image *pixels; /* c = 3, rows `stride` apart */
    enum toon_channel_order order;
};
enum toon_status toon_imgreader_open_source(const struct toon_source *src,
                                            const struct toon_decode_limits *lim,
                                            struct toon_imgreader **out, struct toon_err *err);

/* TOON_FORMAT_RAW as written: this header, then h rows of w * 3 bytes, RGB.  Its sink collects
 * the whole image, so the writer's plan counts that image (toon_convert_pixels). */
struct toon_raw_header {
    char magic[4]; /* "RAW8" */
    int32_t w, h;
};

/* Whole-image convenience built on the reader: RGB u8, c = 3, stride = 3 * w. */
enum toon_status toon_image_decode(const uint8_t *data, size_t len,
                                   const struct toon_decode_limits *lim, struct toon_image *out,
                                   struct toon_err *err);

/* ---- streaming encoder ------------------------------------------------------------------ */
struct toon_imgwriter;

/* quality 1..100, 0 = the format's default (JPEG 92, WebP 90); PNG is lossless and ignores it.
 * The sink receives the encoded bytes in order; it must stay valid until finish or free. */
enum toon_status toon_imgwriter_open(enum toon_format fmt, int quality, int w, int h,
                                     toon_write_fn sink, void *sink_ctx,
                                     struct toon_imgwriter **out, struct toon_err *err);
/* rows: [n][w][3] RGB u8.  Exactly h rows in total, then finish. */
enum toon_status toon_imgwriter_write(struct toon_imgwriter *wr, const uint8_t *rows, int n,
                                      struct toon_err *err);
enum toon_status toon_imgwriter_finish(struct toon_imgwriter *wr, struct toon_err *err);
void toon_imgwriter_free(struct toon_imgwriter *wr);
/* Upper bound of the heap bytes a writer holds at once, the codec library's included. */
size_t toon_imgwriter_plan_bytes(enum toon_format fmt, int w, int h);

/* Whole-image convenience: img must be RGB (c = 3), any stride. */
enum toon_status toon_image_encode(const struct toon_image *img, enum toon_format fmt, int quality,
                                   toon_write_fn sink, void *sink_ctx, struct toon_err *err);

/* ---- sinks ------------------------------------------------------------------------------ */
/* file is a FILE* opened for writing; a short write returns TOON_STATUS_IO. */
enum toon_status toon_write_file(void *file, const void *data, size_t n);

/* A growing memory buffer; start it zeroed and toon_free(data) when done. */
struct toon_membuf {
    uint8_t *data; /* [cap], the first len bytes written */
    size_t len, cap;
};
enum toon_status toon_write_membuf(void *membuf, const void *data, size_t n);

#endif
