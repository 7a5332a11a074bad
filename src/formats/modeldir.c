/*
 * Model directory scanning and the known-checksum table (see modeldir.h).  Only directory
 * entries and file types are looked at; no model file is opened.
 */
#include "core/path.h"
#include "formats/modeldir.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/alloc.h"
#include "core/log.h"

#define MAX_STYLES 4096

/* ---- known files ------------------------------------------------------------------------------
 */

struct known_file {
    const char *head; /* leading hex digits */
    const char *tail; /* trailing hex digits */
    const char *what;
};

/* spec/PIPELINE.md §1 publishes only the ends of the official checksums (from the public LFS
 * pointers); the shared White-box files are listed in full in shared/models/SHA256SUMS. */
static const struct known_file k_known[] = {
    {"bca966dd", "24fe80", "official DCT-Net generator (anime style)"},
    {"8e42012b", "5ad4", "official DCT-Net face detector (FaceBoxes)"},
    {"80d03c93", "46d6", "official DCT-Net 68-point landmarks (keypoints.pb)"},
    {"7ebaaf2c3e83eb8332f19b333da507aa43752d2b418df9e67808a77d8432de02", "",
     "White-box Cartoonization generator, fp16 TFLite (CC BY-NC-SA 4.0)"},
    {"eea087546bfe1dd951c01713af5fbc527c5a351ccf2db3a166e202db5eb5c90b", "",
     "White-box Cartoonization generator, int8-weight TFLite (CC BY-NC-SA 4.0)"},
    {"3a9e937524838ce1b39907b4bd4b1ea7b0d7fa145d77cecb5990fb8f54195e36", "",
     "White-box Cartoonization generator, full int8 TFLite (CC BY-NC-SA 4.0)"},
};

const char *toon_modeldir_known_file(const char *sha256_hex)
{
    if (!sha256_hex || strlen(sha256_hex) != 64) return NULL;
    char hex[65];
    for (int i = 0; i < 64; i++) {
        if (!isxdigit((unsigned char)sha256_hex[i])) return NULL;
        hex[i] = (char)tolower((unsigned char)sha256_hex[i]);
    }
    hex[64] = '\0';
    for (size_t k = 0; k < sizeof k_known / sizeof k_known[0]; k++) {
        const struct known_file *f = &k_known[k];
        size_t hl = strlen(f->head), tl = strlen(f->tail);
        if (memcmp(hex, f->head, hl) == 0 && memcmp(hex + 64 - tl, f->tail, tl) == 0)
            return f->what;
    }
    return NULL;
}

/* ---- scanning ---------------------------------------------------------------------------------
 */

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), e = strlen(ext);
    return n > e && strcasecmp(name + n - e, ext) == 0;
}

static enum toon_status join(char *out, size_t size, const char *dir, const char *name,
                             struct toon_err *err)
{
    size_t dl = strlen(dir);
    int slash = dl > 0 && dir[dl - 1] == '/';
    int n = snprintf(out, size, "%s%s%s", dir, slash ? "" : "/", name);
    if (n < 0 || (size_t)n >= size)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "path too long: %s/%s", dir, name);
    return TOON_STATUS_OK;
}

static enum toon_status set_name(struct toon_style_entry *e, const char *name, size_t len,
                                 struct toon_err *err)
{
    if (len == 0 || len >= sizeof e->name)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "style name \"%.*s\" is empty or longer than %zu characters",
                            (int)(len < 80 ? len : 80), name, sizeof e->name - 1);
    memcpy(e->name, name, len);
    e->name[len] = '\0';
    return TOON_STATUS_OK;
}

/* The name of a path's last component ("a/b/" -> "b").  Only "." and ".." (or "/") are resolved
 * through realpath, so that a symbolic link keeps the name the user gave it. */
static void base_name(const char *path, char *out, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/') start--;
    size_t len = n - start;
    const char *p = path;
    char real[PATH_MAX];
    if ((len == 1 && p[start] == '.') || (len == 2 && memcmp(p + start, "..", 2) == 0) ||
        (len == 1 && p[start] == '/')) {
        if (realpath(path, real)) {
            p = real;
            n = strlen(p);
            start = n;
            while (start > 0 && p[start - 1] != '/') start--;
            len = n - start;
        }
    }
    if (len >= size) len = size - 1;
    memcpy(out, p + start, len);
    out[len] = '\0';
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The entries of a directory, sorted, hidden ones skipped.  Caller frees each and the array. */
static enum toon_status list_dir(const char *path, char ***out, int *n_out, struct toon_err *err)
{
    *out = NULL;
    *n_out = 0;
    DIR *d = opendir(path);
    if (!d)
        return toon_err_set(err, errno == ENOENT ? TOON_STATUS_NOT_FOUND : TOON_STATUS_IO,
                            "cannot open directory %s: %s", path, strerror(errno));
    char **names = NULL;
    int n = 0, cap = 0;
    enum toon_status st = TOON_STATUS_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            if (cap >= 1 << 20) {
                st = toon_err_set(err, TOON_STATUS_TOO_LARGE, "%s has too many entries", path);
                goto fail;
            }
            int ncap = cap ? cap * 2 : 32;
            char **q = toon_realloc(names, (size_t)ncap * sizeof *q);
            if (!q) goto oom;
            names = q;
            cap = ncap;
        }
        if (!(names[n] = toon_strdup(e->d_name))) goto oom;
        n++;
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_names);
    *out = names;
    *n_out = n;
    return TOON_STATUS_OK;
oom:
    st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory listing %s", path);
fail:
    closedir(d);
    for (int i = 0; i < n; i++) toon_free(names[i]);
    toon_free(names);
    return st;
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) toon_free(names[i]);
    toon_free(names);
}

/* What makes a directory a style directory. */
enum style_kind { STYLE_NONE, STYLE_PB, STYLE_TFLITE };

/* Fills `e` from a style directory; *kind is STYLE_NONE when it holds no generator. */
static enum toon_status scan_style_dir(const char *dir, struct toon_style_entry *e,
                                       enum style_kind *kind, struct toon_err *err)
{
    static const char *const head_names[] = {"cartoon_h.pb", "cartoon_anime_h.pb"};
    static const char *const bg_names[] = {"cartoon_bg.pb", "cartoon_anime_bg.pb"};
    char path[4096];
    enum toon_status st;
    memset(e, 0, sizeof *e);
    *kind = STYLE_NONE;
    for (int i = 0; i < 2 && !e->head_path[0]; i++) {
        if ((st = join(path, sizeof path, dir, head_names[i], err))) return st;
        if (toon_is_file(path)) memcpy(e->head_path, path, sizeof path);
    }
    for (int i = 0; i < 2 && !e->bg_path[0]; i++) {
        if ((st = join(path, sizeof path, dir, bg_names[i], err))) return st;
        if (toon_is_file(path)) memcpy(e->bg_path, path, sizeof path);
    }
    if (e->head_path[0] || e->bg_path[0]) {
        snprintf(e->format, sizeof e->format, "graphdef");
        if (!e->head_path[0] || !e->bg_path[0]) {
            toon_log(TOON_LOG_WARN, "%s has only %s; using it for both heads and backgrounds", dir,
                     e->head_path[0] ? "the head generator" : "the background generator");
            if (!e->head_path[0]) memcpy(e->head_path, e->bg_path, sizeof e->head_path);
            if (!e->bg_path[0]) memcpy(e->bg_path, e->head_path, sizeof e->bg_path);
        }
    } else {
        /* No .pb generator: exactly one .tflite makes this a White-box style directory. */
        char **names;
        int n, n_tflite = 0;
        if ((st = list_dir(dir, &names, &n, err))) return st;
        for (int i = 0; i < n; i++) {
            if (!has_ext(names[i], ".tflite")) continue;
            if ((st = join(path, sizeof path, dir, names[i], err))) {
                free_names(names, n);
                return st;
            }
            if (!toon_is_file(path)) continue;
            if (n_tflite++ == 0) memcpy(e->head_path, path, sizeof path);
        }
        free_names(names, n);
        if (n_tflite != 1) {
            e->head_path[0] = '\0';
            return TOON_STATUS_OK;
        }
        memcpy(e->bg_path, e->head_path, sizeof e->bg_path);
        snprintf(e->format, sizeof e->format, "tflite");
    }
    static const struct {
        const char *file;
        size_t offset;
    } extras[] = {
        {"alpha.jpg", offsetof(struct toon_style_entry, alpha_path)},
        {"detector.pb", offsetof(struct toon_style_entry, detector_path)},
        {"keypoints.pb", offsetof(struct toon_style_entry, keypoints_path)},
    };
    for (size_t i = 0; i < sizeof extras / sizeof extras[0]; i++) {
        if ((st = join(path, sizeof path, dir, extras[i].file, err))) return st;
        if (toon_is_file(path)) memcpy((char *)e + extras[i].offset, path, sizeof path);
    }
    *kind = e->format[0] == 'g' ? STYLE_PB : STYLE_TFLITE;
    return TOON_STATUS_OK;
}

/* A style made of one generator file (used for heads and backgrounds). */
static enum toon_status file_style(const char *path, const char *file_name,
                                   struct toon_style_entry *e, struct toon_err *err)
{
    memset(e, 0, sizeof *e);
    if (strlen(path) >= sizeof e->head_path)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "path too long: %s", path);
    const char *dot = strrchr(file_name, '.');
    enum toon_status st =
        set_name(e, file_name, dot ? (size_t)(dot - file_name) : strlen(file_name), err);
    if (st) return st;
    snprintf(e->head_path, sizeof e->head_path, "%s", path);
    snprintf(e->bg_path, sizeof e->bg_path, "%s", path);
    snprintf(e->format, sizeof e->format, "%s",
             has_ext(file_name, ".tflite") ? "tflite" : "graphdef");
    return TOON_STATUS_OK;
}

static enum toon_status push(struct toon_modeldir *md, int *cap, const struct toon_style_entry *e,
                             struct toon_err *err)
{
    if (md->n_styles == *cap) {
        if (*cap >= MAX_STYLES)
            return toon_err_set(err, TOON_STATUS_TOO_LARGE, "more than %d styles", MAX_STYLES);
        int ncap = *cap ? *cap * 2 : 8;
        struct toon_style_entry *q = toon_realloc(md->styles, (size_t)ncap * sizeof *q);
        if (!q) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory scanning models");
        md->styles = q;
        *cap = ncap;
    }
    md->styles[md->n_styles++] = *e;
    return TOON_STATUS_OK;
}

static int cmp_styles(const void *a, const void *b)
{
    return strcmp(((const struct toon_style_entry *)a)->name,
                  ((const struct toon_style_entry *)b)->name);
}

/* A directory of styles: subdirectories that are style directories, and .tflite files.
 * *n_dirs counts the styles that came from subdirectories. */
static enum toon_status scan_collection(const char *path, struct toon_modeldir *md, int *n_dirs,
                                        struct toon_err *err)
{
    *n_dirs = 0;
    char **names;
    int n, cap = 0;
    enum toon_status st = list_dir(path, &names, &n, err);
    if (st) return st;
    struct toon_style_entry *e = toon_malloc(sizeof *e);
    char *sub = toon_malloc(4096);
    if (!e || !sub) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory scanning models");
        goto fail;
    }
    for (int i = 0; i < n; i++) {
        if ((st = join(sub, 4096, path, names[i], err))) goto fail;
        if (toon_is_dir(sub)) {
            enum style_kind kind;
            struct toon_err sub_err;
            if (scan_style_dir(sub, e, &kind, &sub_err)) {
                /* One unreadable subdirectory (lost+found, say) does not hide the others. */
                toon_log(TOON_LOG_WARN, "skipping %s: %s", sub, sub_err.msg);
                continue;
            }
            if (kind == STYLE_NONE) continue;
            if ((st = set_name(e, names[i], strlen(names[i]), err))) goto fail;
            ++*n_dirs;
        } else if (has_ext(names[i], ".tflite") && toon_is_file(sub)) {
            if ((st = file_style(sub, names[i], e, err))) goto fail;
        } else {
            continue;
        }
        if ((st = push(md, &cap, e, err))) goto fail;
    }
    if (md->n_styles > 1) qsort(md->styles, (size_t)md->n_styles, sizeof *md->styles, cmp_styles);
    for (int i = 1; i < md->n_styles; i++)
        if (strcmp(md->styles[i - 1].name, md->styles[i].name) == 0) {
            st = toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                              "%s has two styles named \"%s\" (a directory and a .tflite file)",
                              path, md->styles[i].name);
            goto fail;
        }
    st = TOON_STATUS_OK;
fail:
    toon_free(e);
    toon_free(sub);
    free_names(names, n);
    return st;
}

enum toon_status toon_modeldir_scan(const char *path, struct toon_modeldir *out,
                                    struct toon_err *err)
{
    memset(out, 0, sizeof *out);
    if (!path || !*path)
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no model path given");
    struct stat sb;
    if (stat(path, &sb) != 0)
        return toon_err_set(err, errno == ENOENT ? TOON_STATUS_NOT_FOUND : TOON_STATUS_IO,
                            "cannot open models at %s: %s", path, strerror(errno));
    enum toon_status st;
    int cap = 0;
    struct toon_style_entry *e = toon_malloc(sizeof *e);
    if (!e) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory scanning models");
    char name[256];
    base_name(path, name, sizeof name);
    if (S_ISREG(sb.st_mode)) {
        if (!has_ext(path, ".tflite") && !has_ext(path, ".pb")) {
            st = toon_err_set(err, TOON_STATUS_UNSUPPORTED,
                              "%s is neither a model directory nor a .tflite or .pb generator",
                              path);
            goto fail;
        }
        if ((st = file_style(path, name, e, err)) || (st = push(out, &cap, e, err))) goto fail;
    } else if (S_ISDIR(sb.st_mode)) {
        /* Generator .pb files make PATH one style.  Otherwise it is a collection, unless it
         * holds no style subdirectory and exactly one .tflite: then that is its style. */
        enum style_kind kind;
        int n_dirs = 0;
        if ((st = scan_style_dir(path, e, &kind, err))) goto fail;
        if (kind != STYLE_PB && (st = scan_collection(path, out, &n_dirs, err))) goto fail;
        if (kind == STYLE_PB || (kind == STYLE_TFLITE && n_dirs == 0)) {
            toon_modeldir_free(out);
            cap = 0;
            if ((st = set_name(e, name, strlen(name), err)) || (st = push(out, &cap, e, err)))
                goto fail;
        }
        if (out->n_styles == 0) {
            st = toon_err_set(err, TOON_STATUS_NOT_FOUND,
                              "no model found in %s: expected cartoon_h.pb + cartoon_bg.pb, a "
                              ".tflite generator, or subdirectories holding them",
                              path);
            goto fail;
        }
    } else {
        st = toon_err_set(err, TOON_STATUS_UNSUPPORTED, "%s is not a file or directory", path);
        goto fail;
    }
    toon_free(e);
    return TOON_STATUS_OK;
fail:
    toon_free(e);
    toon_modeldir_free(out);
    return st;
}

void toon_modeldir_free(struct toon_modeldir *md)
{
    if (!md) return;
    toon_free(md->styles);
    md->styles = NULL;
    md->n_styles = 0;
}

const struct toon_style_entry *toon_modeldir_find(const struct toon_modeldir *md, const char *name)
{
    for (int i = 0; md && name && i < md->n_styles; i++)
        if (strcmp(md->styles[i].name, name) == 0) return &md->styles[i];
    return NULL;
}
