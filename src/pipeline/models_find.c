/*
 * Where models are found (toonify.h, "finding models"): the search path and the choice of a
 * style and its face models.  The CLI, the service and the Python package all ask here, so an
 * installed library, a checkout and a container find models the same way.
 *
 * An installed program or library finds PREFIX/share/toonify/models from where it lies
 * (/proc/self/exe for the program, dladdr for this library, so a relocated prefix or a Python
 * process works); TOON_MODEL_PREFIX_DIR, set by the build to the configured prefix's, comes
 * last.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/path.h"
#include "formats/modeldir.h"
#include "toonify/toonify.h"

#ifndef TOON_MODEL_PREFIX_DIR
#define TOON_MODEL_PREFIX_DIR "/usr/local/share/toonify/models"
#endif

static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n + 2 < len) snprintf(buf + n, len - n, "%s%.*s", n ? ", " : "", (int)(len - n - 2), s);
}

/* Cuts the last component off a path in place ("" when none is left). */
static void cut_last(char *dir)
{
    char *slash = strrchr(dir, '/');
    *(slash ? slash : dir) = 0;
}

/* The parent of the directory holding this process's program ("" when unknown): PREFIX when
 * it runs from PREFIX/bin. */
static void exe_parent(char *dir, size_t len)
{
    ssize_t k = readlink("/proc/self/exe", dir, len - 1);
    dir[k > 0 ? k : 0] = 0;
    cut_last(dir);
    cut_last(dir);
}

/* Any object of this file, for dladdr. */
static const char anchor;

/* The parent of the directory holding the file this code was loaded from: the shared library,
 * or the program when linked statically ("" when unknown). */
static void lib_parent(char *dir, size_t len)
{
    Dl_info info;
    dir[0] = 0;
    if (!dladdr(&anchor, &info) || !info.dli_fname || info.dli_fname[0] != '/') return;
    snprintf(dir, len, "%s", info.dli_fname);
    cut_last(dir);
    cut_last(dir);
}

static void add_dir(char dirs[][4096], int *n, int max, const char *base, const char *rel)
{
    if (*n >= max || (base && !*base)) return;
    char path[4096];
    snprintf(path, sizeof path, "%.3800s%s", base ? base : "", rel);
    for (int i = 0; i < *n; i++)
        if (strcmp(dirs[i], path) == 0) return;
    snprintf(dirs[(*n)++], 4096, "%s", path);
}

int toon_model_search_dirs(const char *model, char dirs[][4096], int max)
{
    int n = 0;
    if (model && *model) {
        add_dir(dirs, &n, max, NULL, model);
        return n;
    }
    char exe[4096], lib[4096], exe_up[4096], lib_up[4096]; /* PREFIX, and the one above */
    exe_parent(exe, sizeof exe);
    lib_parent(lib, sizeof lib);
    snprintf(exe_up, sizeof exe_up, "%s", exe);
    cut_last(exe_up);
    snprintf(lib_up, sizeof lib_up, "%s", lib);
    cut_last(lib_up);
    const char *env = getenv("TOONIFY_MODEL_DIR");
    if (env && *env) add_dir(dirs, &n, max, NULL, env);
    add_dir(dirs, &n, max, NULL, "models");
    add_dir(dirs, &n, max, exe, "/share/toonify/models");
    add_dir(dirs, &n, max, lib, "/share/toonify/models");
    add_dir(dirs, &n, max, exe, "/models");
    add_dir(dirs, &n, max, lib, "/models");
    add_dir(dirs, &n, max, exe_up, "/shared/models");
    add_dir(dirs, &n, max, lib_up, "/shared/models");
    add_dir(dirs, &n, max, NULL, TOON_MODEL_PREFIX_DIR);
    return n;
}

/* The default style of a scanned directory: an official (GraphDef) style first, then the
 * White-box fp16 generator, then the first by name. */
static const struct toon_style_entry *default_style(const struct toon_modeldir *md)
{
    for (int i = 0; i < md->n_styles; i++)
        if (strcmp(md->styles[i].format, "graphdef") == 0) return &md->styles[i];
    for (int i = 0; i < md->n_styles; i++)
        if (strstr(md->styles[i].name, "fp16")) return &md->styles[i];
    return md->n_styles ? &md->styles[0] : NULL;
}

static void take_style(const struct toon_style_entry *e, const char *dir,
                       struct toon_model_paths *out)
{
    snprintf(out->style, sizeof out->style, "%s", e->name);
    snprintf(out->bg, sizeof out->bg, "%s", e->bg_path);
    snprintf(out->head, sizeof out->head, "%s", e->head_path);
    snprintf(out->alpha, sizeof out->alpha, "%s", e->alpha_path);
    snprintf(out->dir, sizeof out->dir, "%.4000s", toon_is_dir(dir) ? dir : ".");
}

/* The style in the first place that has models; NOT_FOUND names the places. */
static enum toon_status find_style(const char *model, const char *style,
                                   struct toon_model_paths *out, struct toon_err *err)
{
    char dirs[10][4096], tried[2048] = "";
    int n = toon_model_search_dirs(model, dirs, 10);
    for (int i = 0; i < n; i++) {
        struct toon_modeldir md = {0, NULL};
        struct toon_err scan_err;
        if ((!toon_is_file(dirs[i]) && !toon_is_dir(dirs[i])) ||
            toon_modeldir_scan(dirs[i], &md, &scan_err) != TOON_STATUS_OK) {
            append(tried, sizeof tried, dirs[i]);
            continue;
        }
        const struct toon_style_entry *e =
            style ? toon_modeldir_find(&md, style) : default_style(&md);
        if (e) take_style(e, dirs[i], out);
        if (!e && style) {
            char names[1024] = "";
            for (int k = 0; k < md.n_styles; k++) append(names, sizeof names, md.styles[k].name);
            toon_modeldir_free(&md);
            return toon_err_set(err, TOON_STATUS_NOT_FOUND, "no style '%s' in %s (styles: %s)",
                                style, dirs[i], names);
        }
        toon_modeldir_free(&md);
        if (e) return TOON_STATUS_OK;
    }
    return toon_err_set(err, TOON_STATUS_NOT_FOUND, "no model found (looked in %s)", tried);
}

/* Face models: faces_dir, else beside the generator (the style's place, or the directory of
 * a model file given by path). */
static enum toon_status find_faces(const char *model, const char *faces_dir,
                                   struct toon_model_paths *out, struct toon_err *err)
{
    char parent[4096];
    const char *cand = faces_dir ? faces_dir : out->dir;
    if (!faces_dir && model && toon_is_file(model)) {
        snprintf(parent, sizeof parent, "%s", model);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(parent, sizeof parent, ".");
        cand = parent;
    }
    struct toon_err face_err;
    enum toon_status st = toon_face_models_load(cand, &out->faces, &face_err);
    if (st == TOON_STATUS_OK || !faces_dir) return TOON_STATUS_OK;
    return toon_err_set(err, st, "face models: %s", face_err.msg);
}

enum toon_status toon_models_find(const char *model, const char *style, const char *faces_dir,
                                  int want_faces, struct toon_model_paths *out,
                                  struct toon_err *err)
{
    if (!out) return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "no output");
    memset(out, 0, sizeof *out);
    enum toon_status st = find_style(model, style, out, err);
    if (st != TOON_STATUS_OK || !want_faces) return st;
    return find_faces(model, faces_dir, out, err);
}
