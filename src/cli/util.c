/* Helpers of the CLI: model discovery, process memory, byte sizes, logging to stderr. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"

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

/* The preferred generator in a directory: the official background model, else the White-box
 * fp16 TFLite, else any .tflite. */
static int model_in_dir(const char *dir, char *path, size_t len)
{
    static const char *preferred[] = {"cartoon_bg.pb", "cartoon_anime_bg.pb",
                                      "whitebox_cartoon_gan_fp16.tflite"};
    for (size_t i = 0; i < sizeof preferred / sizeof preferred[0]; i++) {
        snprintf(path, len, "%s/%s", dir, preferred[i]);
        if (is_file(path)) return 1;
    }
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    char best[1024] = "";
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 7 && strcmp(e->d_name + n - 7, ".tflite") == 0 && strstr(e->d_name, "cartoon") &&
            (!best[0] || strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", e->d_name);
    }
    closedir(d);
    if (!best[0]) return 0;
    snprintf(path, len, "%s/%s", dir, best);
    return 1;
}

static void append(char *buf, size_t len, const char *s)
{
    size_t n = strlen(buf);
    if (n < len) snprintf(buf + n, len - n, "%s%s", n ? ", " : "", s);
}

int toon_cli_find_model(const char *flag, char *path, size_t path_len, char *tried,
                        size_t tried_len)
{
    tried[0] = 0;
    if (flag && *flag) {
        if (is_file(flag)) {
            snprintf(path, path_len, "%s", flag);
            return 1;
        }
        if (is_dir(flag) && model_in_dir(flag, path, path_len)) return 1;
        append(tried, tried_len, flag);
        return 0;
    }
    char dirs[5][4096];
    int n = 0;
    const char *env = getenv("TOONIFY_MODEL_DIR");
    if (env && *env) snprintf(dirs[n++], sizeof dirs[0], "%s", env);
    snprintf(dirs[n++], sizeof dirs[0], "models");
    char exe[4096];
    ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (k > 0) {
        exe[k] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        snprintf(dirs[n++], sizeof dirs[0], "%.4000s/../models", exe);
        snprintf(dirs[n++], sizeof dirs[0], "%.4000s/../../shared/models", exe);
    }
    snprintf(dirs[n++], sizeof dirs[0], "/usr/local/share/toonify/models");
    for (int i = 0; i < n; i++) {
        if (is_dir(dirs[i]) && model_in_dir(dirs[i], path, path_len)) return 1;
        append(tried, tried_len, dirs[i]);
    }
    return 0;
}

static size_t status_kb(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    size_t v = 0, klen = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            v = strtoull(line + klen + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v * 1024;
}

size_t toon_cli_rss(void)
{
    return status_kb("VmRSS");
}

size_t toon_cli_peak_rss(void)
{
    return status_kb("VmHWM");
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
