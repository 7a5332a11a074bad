/* Helpers of the CLI: model discovery, process memory, byte sizes, logging to stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/procmem.h"
#include "cli/cli.h"

static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n < len) snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

int toon_cli_model_dirs(const char *flag, char dirs[][4096], int max)
{
    return toon_model_search_dirs(flag, dirs, max);
}

int toon_cli_resolve_models(const char *model_flag, const char *style, const char *face_flag,
                            int want_faces, struct toon_cli_models *out, char *msg, size_t len)
{
    memset(out, 0, sizeof *out);
    msg[0] = 0;
    struct toon_model_paths mp;
    struct toon_err err;
    if (toon_models_find(model_flag, style, face_flag, want_faces, &mp, &err) != TOON_STATUS_OK) {
        if (style || face_flag) {
            snprintf(msg, len, "%s", err.msg);
            return 0;
        }
        char dirs[10][4096]; /* nothing found: every place was looked at */
        int n = toon_model_search_dirs(model_flag, dirs, 10);
        for (int i = 0; i < n; i++) append(msg, len, dirs[i]);
        return 0;
    }
    snprintf(out->style, sizeof out->style, "%s", mp.style);
    snprintf(out->bg, sizeof out->bg, "%s", mp.bg);
    snprintf(out->head, sizeof out->head, "%s", mp.head);
    snprintf(out->alpha, sizeof out->alpha, "%s", mp.alpha);
    snprintf(out->dir, sizeof out->dir, "%s", mp.dir);
    out->faces = mp.faces;
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
