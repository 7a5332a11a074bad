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
enum toon_format {
    TOON_FORMAT_UNKNOWN,
    TOON_FORMAT_JPEG,
    TOON_FORMAT_PNG,
    TOON_FORMAT_WEBP,
    TOON_FORMAT_RAW, /* pixels, for toon_convert_pixels: never sniffed, never named */
};

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
const char *toon_format_ext(enum toon_format fmt); /* the usual extension: "png", "jpg", "webp" */

/* Sink for encoded bytes.  Returns TOON_STATUS_OK or an error that aborts the encode. */
typedef enum toon_status (*toon_write_fn)(void *ctx, const void *data, size_t n_bytes);

/* Whole images for bindings and tools: decode to RGB u8 (c = 3, stride = 3 * w, EXIF
 * orientation applied; lim may be NULL for the defaults), and encode RGB u8 of any stride
 * (quality as in toon_convert_params). */
enum toon_status toon_image_decode(const uint8_t *data, size_t len,
                                   const struct toon_decode_limits *lim, struct toon_image *out,
                                   struct toon_err *err);
enum toon_status toon_image_encode(const struct toon_image *img, enum toon_format fmt, int quality,
                                   toon_write_fn sink, void *sink_ctx, struct toon_err *err);

/* ---- models ------------------------------------------------------------------------------ */
/* A loaded generator (TFLite or TF GraphDef file): immutable, shareable between threads. */
struct toon_model;
enum toon_status toon_model_load(const char *path, struct toon_model **out, struct toon_err *err);
enum toon_status toon_model_load_memory(const uint8_t *data, size_t len, const char *name,
                                        struct toon_model **out, struct toon_err *err);
void toon_model_free(struct toon_model *m);
const char *toon_model_name(const struct toon_model *m); /* file name */
const char *
toon_model_description(const struct toon_model *m); /* "tflite, fp16 weights, eps 0.0050011" */
/* Heap bytes the loaded model holds (counted allocator). */
size_t toon_model_bytes(const struct toon_model *m);

/* ---- the generator ---------------------------------------------------------------------- */
enum toon_precision { TOON_PRECISION_FP32, TOON_PRECISION_FAST };
/* "fp32", "fast"; the precision of such a name: 0 when it is none (case matters). */
const char *toon_precision_name(enum toon_precision precision);
int toon_precision_from_name(const char *name, enum toon_precision *out);

struct toon_generator_params {
    enum toon_precision precision;
    int band_rows;   /* output rows per streaming step; default 16 */
    int whole_image; /* reference schedule: whole tensors, layer by layer (memory ~ area) */
};
struct toon_generator_params toon_generator_default_params(void);

/* Input rows for the generator: rows [y0, y0+n) of the image, [n][w][3] float BGR in [-1, 1]
 * (pixel / 127.5 - 1).  Output rows: the same layout, after the guided filter, not clipped. */
typedef enum toon_status (*toon_gen_src_fn)(void *ctx, int y0, int n, float *rows,
                                            struct toon_err *err);
typedef enum toon_status (*toon_gen_sink_fn)(void *ctx, int y0, int n, const float *rows,
                                             struct toon_err *err);

/* Runs the generator over an h x w image (any size; rows are requested and delivered in
 * order, each exactly once).  Uses the current thread count (toon_set_threads). */
enum toon_status toon_generator_run(const struct toon_model *m,
                                    const struct toon_generator_params *p, int h, int w,
                                    toon_gen_src_fn src, void *src_ctx, toon_gen_sink_fn sink,
                                    void *sink_ctx, struct toon_err *err);
/* Bytes toon_generator_run will add to the process at most for this size: its own allocations
 * (exactly) and a measured bound of what oneDNN allocates on its own. */
size_t toon_generator_plan_bytes(const struct toon_model *m, const struct toon_generator_params *p,
                                 int h, int w);
/* Convenience: whole float images in and out ([h][w][3] each). */
enum toon_status toon_generator_run_image(const struct toon_model *m,
                                          const struct toon_generator_params *p, int h, int w,
                                          const float *in, float *out, struct toon_err *err);

/* ---- face models (detector + 68-point landmarks), loaded from a directory ------------------ */
struct toon_face_models;
enum toon_status toon_face_models_load(const char *dir, struct toon_face_models **out,
                                       struct toon_err *err);
void toon_face_models_free(struct toon_face_models *fm);

/* ---- conversion: bytes of a photo in, bytes of a cartoon out ------------------------------ */
enum toon_mode {
    TOON_MODE_PLAIN,    /* the generator over the whole photo at the output size, streamed */
    TOON_MODE_OFFICIAL, /* the DCT-Net compound pipeline as the reference runs it (720 rule) */
    TOON_MODE_HD,       /* the compound pipeline at the output resolution, quirks fixed */
};
/* "plain", "official", "hd"; the mode of such a name: 0 when it is none (case matters). */
const char *toon_mode_name(enum toon_mode mode);
int toon_mode_from_name(const char *name, enum toon_mode *out);

struct toon_convert_params {
    enum toon_mode mode;
    const struct toon_model *head_model;        /* faces' generator; NULL: the main model */
    const struct toon_face_models *face_models; /* NULL: no face pass */
    const char *alpha_path; /* head blending mask (alpha.jpg); NULL: a generated one */
    int size;               /* longest side of the output in pixels; 0 keeps the input's size */
    float strength;         /* 0..1: blend of cartoon and photo, 1 = pure cartoon */
    enum toon_format format;
    int quality; /* JPEG/WebP quality 1..100, 0 = the codec's default */
    struct toon_generator_params gen;
    struct toon_decode_limits limits;
    /* Called with the fraction done (0..1), from the converting thread. */
    void (*progress)(void *ctx, double fraction);
    void *progress_ctx;
    /* Polled while converting; nonzero stops with TOON_STATUS_CANCELLED. */
    const volatile int *cancel;
};
struct toon_convert_params toon_convert_default_params(void); /* 1024 px, 0.7, PNG */

struct toon_convert_report {
    int in_w, in_h; /* as displayed (after EXIF orientation) */
    int out_w, out_h;
    size_t planned_bytes; /* bytes planned for the conversion (toon_convert_plan) */
    size_t used_bytes;    /* the counting allocator's peak during it */
    double seconds_total, seconds_decode, seconds_network, seconds_encode;
};

/* Reads the header only. */
enum toon_status toon_probe(const uint8_t *data, size_t len, struct toon_image_info *info,
                            struct toon_err *err);
/* The output size and the bytes toon_convert will add to the process for an image of this
 * header: everything it allocates, and an upper bound of what the libraries it calls allocate
 * on their own.  Callers add what the process already holds. */
enum toon_status toon_convert_plan(const struct toon_model *m, const struct toon_image_info *info,
                                   const struct toon_convert_params *p, int *out_w, int *out_h,
                                   size_t *bytes, struct toon_err *err);
/* The largest output size (longest side, at most upto) at which fixed + per_column * output
 * width + the plan fits in budget: 0 when none does.  The CLI's --max-memory refusal and the
 * service's admission both ask it, each with its own overheads. */
int toon_convert_largest_size(const struct toon_model *m, const struct toon_image_info *info,
                              const struct toon_convert_params *p, int upto, size_t budget,
                              size_t fixed, size_t per_column);
/* Decodes, cartoonises and encodes, streaming rows end to end; the encoded bytes go to sink.
 * report may be NULL. */
enum toon_status toon_convert(const struct toon_model *m, const uint8_t *data, size_t len,
                              const struct toon_convert_params *p, toon_write_fn sink,
                              void *sink_ctx, struct toon_convert_report *report,
                              struct toon_err *err);

/* ---- conversion: pixels in, pixels out (for bindings: numpy arrays, video frames) ---------- */
enum toon_channel_order { TOON_CHANNELS_RGB, TOON_CHANNELS_BGR };

/* As toon_convert, from the caller's pixels to a new image: `in` is 8-bit, c = 3, in `order`,
 * read row by row in place (never copied whole; it must not change during the call).  On
 * success `out` holds the cartoon in the same order, c = 3, stride = 3 * w (release with
 * toon_image_free); on failure it is empty.  p->format and p->quality are not used.  The
 * output image is the library's and is counted in the plan and the report; the input is the
 * caller's and is not.  The pixels are those toon_convert would encode for the same photo
 * decoded, so a PNG of `out` equals toon_convert's PNG. */
enum toon_status toon_convert_pixels(const struct toon_model *m, const struct toon_image *in,
                                     enum toon_channel_order order,
                                     const struct toon_convert_params *p, struct toon_image *out,
                                     struct toon_convert_report *report, struct toon_err *err);
/* toon_convert_plan for a w x h image given as pixels. */
enum toon_status toon_convert_pixels_plan(const struct toon_model *m, int w, int h,
                                          const struct toon_convert_params *p, int *out_w,
                                          int *out_h, size_t *bytes, struct toon_err *err);

/* ---- finding models ---------------------------------------------------------------------- */
/* The places models are looked for, in order: `model` alone when it is set; else
 * $TOONIFY_MODEL_DIR, ./models, PREFIX/share/toonify/models of the installation the program or
 * this library runs from, the models beside the program, ../shared/models of a checkout, and
 * the share/toonify/models of the prefix the library was built for.  Fills dirs[0..max) and
 * returns the count. */
int toon_model_search_dirs(const char *model, char dirs[][4096], int max);

/* What a conversion uses, found in the first of those places that has models. */
struct toon_model_paths {
    char style[64];
    char bg[4096], head[4096];      /* the style's generators (may be the same file) */
    char alpha[4096];               /* head blending mask, "" when the style has none */
    char dir[4096];                 /* the place the style was found */
    struct toon_face_models *faces; /* loaded; NULL when none were found or wanted */
};
/* Finds `style` (NULL: an official style, else the White-box fp16 file, else the first by
 * name) and, when want_faces, the face models in `faces_dir` (NULL: beside the style).  Face
 * models that are absent are not an error unless faces_dir names them; out->faces is the
 * caller's (toon_face_models_free).  TOON_STATUS_NOT_FOUND names the places looked at. */
enum toon_status toon_models_find(const char *model, const char *style, const char *faces_dir,
                                  int want_faces, struct toon_model_paths *out,
                                  struct toon_err *err);

/* ---- process-wide settings ---------------------------------------------------------------- */
void toon_set_threads(int n); /* 0 = the CPUs this process may use */
int toon_get_threads(void);
/* One line per kernel choice, e.g. "conv3x3: onednn-f32 (brgconv:avx512_core)". */
enum toon_status toon_describe_kernels(const struct toon_model *m, enum toon_precision prec,
                                       char *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
