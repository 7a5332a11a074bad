/*
 * Model directories: what `--models PATH` points at, turned into a sorted list of styles.
 *
 * A style is one generator for heads and one for backgrounds, plus the optional face models and
 * blending mask of the official DCT-Net directory layout (spec/PIPELINE.md §1):
 *
 *   cartoon_h.pb + cartoon_bg.pb      (older names cartoon_anime_h.pb, cartoon_anime_bg.pb)
 *   detector.pb, keypoints.pb, alpha.jpg   (optional)
 *
 * or a White-box `*.tflite` generator, used for both heads and backgrounds.  PATH may be:
 *   - a style directory: one style named after the directory.  A directory is one when it
 *     holds a generator .pb, or (at the top level: when no subdirectory is a style directory)
 *     exactly one .tflite file;
 *   - a directory of styles: each subdirectory that is a style directory is a style named after
 *     the subdirectory, and each .tflite file directly inside is a style named after the file
 *     without its extension (so `shared/models/` lists its three TFLite variants); only one
 *     level is searched;
 *   - a single .tflite or .pb file: one style named after the file without its extension.
 * Hidden entries and unrelated files are ignored; styles are sorted by name (strcmp).
 *
 * A style directory with only one of the head and background generators uses that one for both
 * and says so through toon_log (warning): the two files are the same network, and a user who
 * deleted one by mistake still gets a result rather than no style at all.  The .pb files are not
 * opened here (scanning is cheap); formats/graphdef.c reports what is wrong with them when the
 * style is loaded.
 *
 * The known-checksum table recognises the official files from the prefixes and suffixes of
 * their published sha256 values, and the shared White-box TFLite files from their full values.
 */
#ifndef TOON_FORMATS_MODELDIR_H
#define TOON_FORMATS_MODELDIR_H

#include "formats/sha256.h"
#include "toonify/status.h"

struct toon_style_entry {
    char name[64];             /* style name, e.g. "anime" */
    char head_path[4096];      /* generator for the aligned face crops */
    char bg_path[4096];        /* generator for the whole image; may equal head_path */
    char alpha_path[4096];     /* alpha.jpg, "" if absent */
    char detector_path[4096];  /* detector.pb, "" if absent */
    char keypoints_path[4096]; /* keypoints.pb, "" if absent */
    char format[16];           /* "graphdef" or "tflite" (of the generators) */
};

struct toon_modeldir {
    int n_styles;
    struct toon_style_entry *styles; /* [n_styles], sorted by name */
};

/* Scans PATH (see above).  On success `out` owns its array (toon_modeldir_free); finding no
 * style at all is TOON_STATUS_NOT_FOUND with a message saying what was expected. */
enum toon_status toon_modeldir_scan(const char *path, struct toon_modeldir *out,
                                    struct toon_err *err);
void toon_modeldir_free(struct toon_modeldir *md); /* NULL and empty are fine */

/* The style called `name`, or NULL. */
const struct toon_style_entry *toon_modeldir_find(const struct toon_modeldir *md, const char *name);

/* What a file with this sha256 (64 hex digits, any case) is, e.g. "official DCT-Net generator
 * (anime style)", or NULL if it is not a known file. */
const char *toon_modeldir_known_file(const char *sha256_hex);

#endif
