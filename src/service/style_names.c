/*
 * Readable style names for the page and /api/v1/status.  A style in a directory of its own may
 * name itself in toonify.json (or style.json) there: {"name": ..., "name_zh": ...}.  Otherwise
 * the model's file name is cleaned up the way the page used to do it on its own:
 * whitebox_cartoon_gan_dr -> "Whitebox cartoon GAN (dynamic range)".  The JSON is read like any
 * file beside the models: bounded, and ignored with a log line when it is not usable.
 */
#include <cJSON.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "service/internal.h"

#define MAX_STYLE_JSON_BYTES 16384

/* The quantisation suffixes of the White-box files, said in words. */
static const char *quant_words(const char *w)
{
    static const char *const q[][2] = {
        {"dr", "dynamic range"}, {"fp16", "FP16"}, {"int8", "INT8"}, {"fp32", "FP32"}};
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
        if (strcasecmp(w, q[i][0]) == 0) return q[i][1];
    return NULL;
}

static void append_word(char *buf, size_t len, const char *w, int first)
{
    char word[64];
    snprintf(word, sizeof word, "%.63s", w);
    int upper = !strcasecmp(word, "gan") || !strcasecmp(word, "dct") || !strcasecmp(word, "hd");
    for (char *p = word; *p; p++)
        *p = (char)(upper ? toupper((unsigned char)*p) : tolower((unsigned char)*p));
    if (first) word[0] = (char)toupper((unsigned char)word[0]);
    size_t n = strlen(buf);
    snprintf(buf + n, len - n, "%s%s", first ? "" : " ", word);
}

void toon_style_clean_name(const char *name, char *buf, size_t len)
{
    char words[16][64];
    int n = 0;
    const char *p = name;
    while (*p && n < 16) {
        size_t k = strcspn(p, "_- ");
        if (k > 0) snprintf(words[n++], sizeof words[0], "%.*s", (int)(k < 63 ? k : 63), p);
        p += k;
        if (*p) p++;
    }
    const char *quant = n > 1 ? quant_words(words[n - 1]) : NULL;
    if (quant) n--;
    buf[0] = 0;
    for (int i = 0; i < n; i++) append_word(buf, len, words[i], i == 0);
    if (quant) {
        size_t l = strlen(buf);
        snprintf(buf + l, len - l, " (%s)", quant);
    }
    if (!buf[0]) snprintf(buf, len, "%s", name);
}

/* Reads {"name", "name_zh"} from dir/file into the style; 1 if it named the style. */
static int read_names(struct toon_style *s, const char *dir, const char *file)
{
    char path[4200];
    snprintf(path, sizeof path, "%.4000s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char *text = toon_malloc(MAX_STYLE_JSON_BYTES + 1);
    size_t n = text ? fread(text, 1, MAX_STYLE_JSON_BYTES + 1, f) : 0;
    fclose(f);
    cJSON *o = n > 0 && n <= MAX_STYLE_JSON_BYTES ? (text[n] = 0, cJSON_Parse(text)) : NULL;
    toon_free(text);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(o, "name");
    const cJSON *zh = cJSON_GetObjectItemCaseSensitive(o, "name_zh");
    int ok = cJSON_IsString(name) && name->valuestring[0];
    if (ok) snprintf(s->display_name, sizeof s->display_name, "%s", name->valuestring);
    if (ok && cJSON_IsString(zh))
        snprintf(s->display_name_zh, sizeof s->display_name_zh, "%s", zh->valuestring);
    if (!ok) toon_log(TOON_LOG_WARN, "style %s: %s has no usable \"name\"", s->name, path);
    cJSON_Delete(o);
    return ok;
}

/* 1 if no other style's model lies in dir (the directory is this style's own). */
static int own_dir(const struct toon_service *svc, int self, const char *dir, size_t dlen)
{
    for (int i = 0; i < svc->n_styles; i++)
        if (i != self && strncmp(svc->styles[i].path, dir, dlen) == 0 &&
            svc->styles[i].path[dlen] == '/' && !strchr(svc->styles[i].path + dlen + 1, '/'))
            return 0;
    return 1;
}

void toon_styles_name(struct toon_service *svc)
{
    for (int i = 0; i < svc->n_styles; i++) {
        struct toon_style *s = &svc->styles[i];
        toon_style_clean_name(s->name, s->display_name, sizeof s->display_name);
        s->display_name_zh[0] = 0;
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", s->path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = 0;
        else
            snprintf(dir, sizeof dir, ".");
        if (!own_dir(svc, i, dir, strlen(dir))) continue;
        if (!read_names(s, dir, "toonify.json")) read_names(s, dir, "style.json");
    }
}
