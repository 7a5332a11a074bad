/* Shared pieces of the `toonify` command: subcommands, model discovery, process memory. */
#ifndef TOON_CLI_H
#define TOON_CLI_H

#include <stddef.h>

#include "toonify/toonify.h"

/* Called first thing in main(): makes OpenMP's idle threads sleep after a short spin.  libgomp's
 * default (300,000 spins) lets two busy processes on the same cores starve each other: two
 * 1024 px conversions at once took 6-123 s with it and 3.2-3.4 s with 1000 spins, while one
 * conversion alone measured the same either way (within this machine's noise).  libgomp reads
 * GOMP_SPINCOUNT when it is loaded, before main, so this sets it and executes the program
 * again, once; a setting the user made (GOMP_SPINCOUNT or OMP_WAIT_POLICY) is left alone, and
 * if the program cannot be executed again it just goes on (omp_spin.c). */
void toon_cli_omp_tame_spinning(char **argv);

int toon_cli_convert(int argc, char **argv);
int toon_cli_info(int argc, char **argv);
int toon_cli_identify(int argc, char **argv);
int toon_cli_models(int argc, char **argv);
int toon_cli_serve(int argc, char **argv);
int toon_cli_worker(int argc, char **argv);
int toon_cli_faces(int argc, char **argv);

/* Reads a whole file, or stdin for "-" (at most 1 GiB); *data is malloc'ed. */
enum toon_status toon_cli_read_file(const char *path, uint8_t **data, size_t *len,
                                    struct toon_err *err);

/* Where models are looked for: the --model value (a file or a directory) alone, else
 * $TOONIFY_MODEL_DIR and the rest of toon_model_search_dirs (toonify.h).  Returns the count. */
int toon_cli_model_dirs(const char *flag, char dirs[][4096], int max);

/* The default style's background generator (see toon_cli_resolve_models). */
int toon_cli_find_model(const char *flag, char *path, size_t path_len, char *tried,
                        size_t tried_len);

/* What a conversion uses: the style's generators and mask, and the face models. */
struct toon_cli_models {
    char style[64];
    char bg[4096], head[4096], alpha[4096]; /* alpha "" when the style has none */
    char dir[4096];                         /* the directory the style was found in */
    struct toon_face_models *faces;         /* NULL: none found (or not wanted) */
};
/* Finds the style (default: an official one, else the White-box fp16 file, else the first)
 * in the first place that has models, and the face models beside it (or in face_flag).
 * Returns 1, or 0 with what went wrong (or the places looked at) in msg. */
int toon_cli_resolve_models(const char *model_flag, const char *style, const char *face_flag,
                            int want_faces, struct toon_cli_models *out, char *msg, size_t len);

/* Where each input's cartoon goes (outputs.c): OUTPUT, or OUTPUT/<stem>.<ext> made unique,
 * and the inputs' identities (device, inode) so that no output replaces an input. */
struct toon_cli_file_id;
struct toon_cli_outputs {
    int n;
    char **path;                 /* [n] input i's output ("-": stdout) */
    struct toon_cli_file_id *id; /* [n] input i's identity, taken when planned */
};
/* Names every input's output (a note on stderr for each name made unique).  With to_dir 0,
 * n_in is 1 and the output is `output`. */
enum toon_status toon_cli_outputs_plan(struct toon_cli_outputs *o, char **inputs, int n_in,
                                       const char *output, int to_dir, const char *ext,
                                       struct toon_err *err);
/* TOON_STATUS_INVALID_ARGUMENT, with a message, when input i's output exists and is one of
 * the inputs (the same device and inode, however spelt). */
enum toon_status toon_cli_outputs_check(const struct toon_cli_outputs *o, int i, char **inputs,
                                        struct toon_err *err);
void toon_cli_outputs_free(struct toon_cli_outputs *o);

/* "64M", "1.5G", "300000000" -> bytes; 0 on error. */
size_t toon_cli_parse_bytes(const char *s);
/* Formats bytes as "58.3 MB". */
const char *toon_cli_mb(size_t bytes, char *buf, size_t len);

void toon_cli_log_to_stderr(int verbose);

#endif
