/* Helpers of the CLI: model discovery, process memory, byte sizes, logging to stderr. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/procmem.h"
#include "cli/cli.h"
#include "formats/modeldir.h"

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n < len) snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
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

int toon_cli_model_dirs(const char *flag, char dirs[][4096], int max)
{
    int n = 0;
    if (flag && *flag) {
        snprintf(dirs[n++], 4096, "%s", flag);
        return n;
    }
    const char *env = getenv("TOONIFY_MODEL_DIR");
    if (env && *env && n < max) snprintf(dirs[n++], 4096, "%s", env);
    if (n < max) snprintf(dirs[n++], 4096, "models");
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        if (n < max) snprintf(dirs[n++], 4096, "%.4000s/../models", exe);
        if (n < max) snprintf(dirs[n++], 4096, "%.4000s/../../shared/models", exe);
    }
    if (n < max) snprintf(dirs[n++], 4096, "/usr/local/share/toonify/models");
    return n;
}

int toon_cli_resolve_models(const char *model_flag, const char *style, const char *face_flag,
                            int want_faces, struct toon_cli_models *out, char *msg, size_t len)
{
    memset(out, 0, sizeof *out);
    msg[0] = 0;
    char dirs[6][4096];
    int n = toon_cli_model_dirs(model_flag, dirs, 6);
    int found = 0;
    for (int i = 0; i < n && !found; i++) {
        struct toon_modeldir md = {0, NULL};
        struct toon_err err;
        if (!is_file(dirs[i]) && !is_dir(dirs[i])) {
            append(msg, len, dirs[i]);
            continue;
        }
        if (toon_modeldir_scan(dirs[i], &md, &err) != TOON_STATUS_OK) {
            append(msg, len, dirs[i]);
            continue;
        }
        const struct toon_style_entry *e =
            style ? toon_modeldir_find(&md, style) : default_style(&md);
        if (!e && style) {
            snprintf(msg, len, "no style '%s' in %s (styles:", style, dirs[i]);
            for (int k = 0; k < md.n_styles; k++) append(msg, len, md.styles[k].name);
            append(msg, len, ")");
            toon_modeldir_free(&md);
            return 0;
        }
        if (e) {
            snprintf(out->style, sizeof out->style, "%s", e->name);
            snprintf(out->bg, sizeof out->bg, "%s", e->bg_path);
            snprintf(out->head, sizeof out->head, "%s", e->head_path);
            snprintf(out->alpha, sizeof out->alpha, "%s", e->alpha_path);
            snprintf(out->dir, sizeof out->dir, "%.4000s", is_dir(dirs[i]) ? dirs[i] : ".");
            found = 1;
        }
        toon_modeldir_free(&md);
    }
    if (!found) return 0;
    if (!want_faces) return 1;
    /* Face models: the flag, else beside the generator (its directory or a face/ folder). */
    const char *cands[3] = {face_flag, face_flag ? NULL : out->dir, NULL};
    char parent[4096];
    if (!face_flag && model_flag && is_file(model_flag)) {
        snprintf(parent, sizeof parent, "%s", model_flag);
        char *slash = strrchr(parent, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(parent, sizeof parent, ".");
        cands[1] = parent;
    }
    for (int i = 0; i < 2; i++) {
        if (!cands[i]) continue;
        struct toon_face_models *fm = NULL;
        struct toon_err err;
        if (toon_face_models_load(cands[i], &fm, &err) == TOON_STATUS_OK) {
            out->faces = fm;
            return 1;
        }
        if (face_flag) {
            snprintf(msg, len, "face models: %s", err.msg);
            return 0;
        }
    }
    return 1;
}

size_t toon_cli_parse_bytes(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v <= 0) return 0;
    double mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024 * 1024;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'B' || *end == 'b') end++;
    if (*end == 'i' || *end == 'I') end++;
    if (*end) return 0;
    return (size_t)(v * mult);
}

const char *toon_cli_mb(size_t bytes, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f MB", (double)bytes / 1e6);
    return buf;
}

static int g_verbose;

static void log_stderr(enum toon_log_level level, const char *msg, void *user)
{
    (void)user;
    if (level <= TOON_LOG_WARN || g_verbose) fprintf(stderr, "toonify: %s\n", msg);
}

void toon_cli_log_to_stderr(int verbose)
{
    g_verbose = verbose;
    toon_log_set_callback(log_stderr, NULL);
}

int toon_cli_find_model(const char *flag, char *path, size_t path_len, char *tried,
                        size_t tried_len)
{
    struct toon_cli_models m;
    if (!toon_cli_resolve_models(flag, NULL, NULL, 0, &m, tried, tried_len)) return 0;
    snprintf(path, path_len, "%s", m.bg);
    return 1;
}
