/*
 * Where each input's cartoon goes, decided before any conversion starts, so that no output
 * ever replaces a user's file by accident.
 *
 * With one input and a file as OUTPUT, the cartoon goes there; into a directory, each input
 * gives OUTPUT/<its base name without extension>.<format's extension>.  Two inputs with the
 * same base name (a/x.png b/x.jpg) would write one file and lose the other, so the later ones
 * get x-2.png, x-3.png, ... (in the order given, never a name another input would take) and a
 * note on stderr.  An output that already exists is replaced, unless it is one of the inputs:
 * that is compared by identity (device and inode, as stat(2) gives them), not by spelling, so
 * ./dir/../dir/photo.png, hard links and symbolic links count too, and so does a file given
 * on stdin.  The identities are taken once, before the first conversion, so an earlier
 * output cannot hide a later input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

struct toon_cli_file_id {
    dev_t dev;
    ino_t ino;
    int known; /* 0: the input could not be stat'ed (it will fail to read anyway) */
};

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* The length of a base name without its extension (a leading dot is not one). */
static int stem_len(const char *base)
{
    const char *dot = strrchr(base, '.');
    return dot && dot != base ? (int)(dot - base) : (int)strlen(base);
}

static char *path_printf(const char *dir, const char *base, int stem, int k, const char *ext)
{
    size_t n = strlen(dir) + (size_t)stem + strlen(ext) + 32;
    char *p = malloc(n);
    if (!p) return NULL;
    const char *sep = dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/";
    if (k > 1)
        snprintf(p, n, "%s%s%.*s-%d.%s", dir, sep, stem, base, k, ext);
    else
        snprintf(p, n, "%s%s%.*s.%s", dir, sep, stem, base, ext);
    return p;
}

/* 1 if `p` is an earlier input's output, or (for a made-up name, is_natural 0) any input's
 * natural one: the first input with a name keeps it, the others take names nobody else would. */
static int taken(const struct toon_cli_outputs *o, char **natural, int i, const char *p,
                 int is_natural)
{
    for (int j = 0; j < i; j++)
        if (strcmp(o->path[j], p) == 0) return 1;
    for (int j = 0; j < o->n && !is_natural; j++)
        if (strcmp(natural[j], p) == 0) return 1;
    return 0;
}

static enum toon_status name_in_dir(struct toon_cli_outputs *o, char **natural, char **inputs,
                                    int i, const char *dir, const char *ext, struct toon_err *err)
{
    const char *base = base_name(inputs[i]);
    int stem = stem_len(base);
    char *p = natural[i];
    for (int k = 2; p && taken(o, natural, i, p, p == natural[i]); k++) {
        if (p != natural[i]) free(p);
        p = path_printf(dir, base, stem, k, ext);
    }
    if (!p) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory naming the outputs");
    if (p != natural[i])
        fprintf(stderr, "toonify: %s: another input also makes %s; writing %s\n", inputs[i],
                natural[i], p);
    o->path[i] = p == natural[i] ? strdup(p) : p;
    return o->path[i]
               ? TOON_STATUS_OK
               : toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory naming the outputs");
}

static void take_ids(struct toon_cli_outputs *o, char **inputs)
{
    for (int i = 0; i < o->n; i++) {
        struct stat st;
        int ok =
            strcmp(inputs[i], "-") == 0 ? fstat(STDIN_FILENO, &st) == 0 : stat(inputs[i], &st) == 0;
        o->id[i].known = ok;
        o->id[i].dev = ok ? st.st_dev : 0;
        o->id[i].ino = ok ? st.st_ino : 0;
    }
}

/* Every input's natural name in the directory, then the unique ones. */
static enum toon_status name_all_in_dir(struct toon_cli_outputs *o, char **inputs, const char *dir,
                                        const char *ext, struct toon_err *err)
{
    char **natural = calloc((size_t)o->n, sizeof *natural);
    enum toon_status st = TOON_STATUS_OK;
    if (!natural) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory");
    for (int i = 0; i < o->n; i++) {
        const char *base = base_name(inputs[i]);
        natural[i] = path_printf(dir, base, stem_len(base), 1, ext);
        if (!natural[i]) {
            st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory naming the outputs");
            goto fail;
        }
    }
    for (int i = 0; i < o->n && st == TOON_STATUS_OK; i++)
        st = name_in_dir(o, natural, inputs, i, dir, ext, err);
fail:
    for (int i = 0; i < o->n; i++) free(natural[i]);
    free(natural);
    return st;
}

enum toon_status toon_cli_outputs_plan(struct toon_cli_outputs *o, char **inputs, int n_in,
                                       const char *output, int to_dir, const char *ext,
                                       struct toon_err *err)
{
    memset(o, 0, sizeof *o);
    o->n = n_in;
    o->path = calloc((size_t)n_in, sizeof *o->path);
    o->id = calloc((size_t)n_in, sizeof *o->id);
    enum toon_status st = TOON_STATUS_OK;
    if (!o->path || !o->id) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory naming the outputs");
    } else if (to_dir) {
        st = name_all_in_dir(o, inputs, output, ext, err);
    } else if (!(o->path[0] = strdup(output))) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory naming the outputs");
    }
    if (st != TOON_STATUS_OK) {
        toon_cli_outputs_free(o);
        return st;
    }
    take_ids(o, inputs);
    return TOON_STATUS_OK;
}

enum toon_status toon_cli_outputs_check(const struct toon_cli_outputs *o, int i, char **inputs,
                                        struct toon_err *err)
{
    struct stat st;
    if (strcmp(o->path[i], "-") == 0 || stat(o->path[i], &st) != 0) return TOON_STATUS_OK;
    for (int j = 0; j < o->n; j++)
        if (o->id[j].known && o->id[j].dev == st.st_dev && o->id[j].ino == st.st_ino)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "the output %.200s is the input %.200s (the same file); not "
                                "replacing it: choose another output",
                                o->path[i], strcmp(inputs[j], "-") ? inputs[j] : "on stdin");
    return TOON_STATUS_OK;
}

void toon_cli_outputs_free(struct toon_cli_outputs *o)
{
    for (int i = 0; o->path && i < o->n; i++) free(o->path[i]);
    free(o->path);
    free(o->id);
    memset(o, 0, sizeof *o);
}
