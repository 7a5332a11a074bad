/*
 * Parsing of job parameters from text (query strings, form fields).  Every value is checked
 * against its range here, before a job exists, so the HTTP layer can answer 400 with a message
 * that says which parameter is wrong and what it accepts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "service/params.h"

static const char *const known[] = {"size",  "strength",  "format", "quality",
                                    "style", "precision", "mode",   "downgrade"};

void toon_job_params_default(struct toon_job_params *p)
{
    memset(p, 0, sizeof *p);
    p->cp = toon_convert_default_params();
    p->cp.mode = TOON_MODE_HD;
    p->downgrade = -1;
}

int toon_job_params_known(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(name, known[i]) == 0) return 1;
    return 0;
}

/* The size when none is asked for: the reference pipeline gives back the input's size (0), the
 * other modes 1024 px on the long side. */
static int default_size(enum toon_mode mode)
{
    return mode == TOON_MODE_OFFICIAL ? 0 : toon_convert_default_params().size;
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

static int parse_bool(const char *s, int *out)
{
    if (!strcmp(s, "1") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
        !strcasecmp(s, "yes")) {
        *out = 1;
        return 1;
    }
    if (!strcmp(s, "0") || !strcasecmp(s, "false") || !strcasecmp(s, "off") ||
        !strcasecmp(s, "no")) {
        *out = 0;
        return 1;
    }
    return 0;
}

enum toon_status toon_job_params_set(struct toon_job_params *p, const char *name, const char *value,
                                     struct toon_err *err)
{
    long v;
    if (!value) value = "";
    if (strcmp(name, "size") == 0) {
        if (!parse_long(value, 0, 16384, &v))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "size '%.40s' is not a whole number of pixels from 0 to 16384",
                                value);
        p->cp.size = (int)v;
        p->size_given = 1;
    } else if (strcmp(name, "strength") == 0) {
        char *end;
        double d = strtod(value, &end);
        if (end == value || *end || !(d >= 0 && d <= 1))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "strength '%.40s' is not a number from 0 to 1", value);
        p->cp.strength = (float)d;
    } else if (strcmp(name, "format") == 0) {
        enum toon_format f = toon_format_from_name(value);
        if (f == TOON_FORMAT_UNKNOWN)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "format '%.40s' is not one of png, jpg, webp", value);
        p->cp.format = f;
    } else if (strcmp(name, "quality") == 0) {
        if (!parse_long(value, 0, 100, &v))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "quality '%.40s' is not a whole number from 1 to 100", value);
        p->cp.quality = (int)v;
    } else if (strcmp(name, "style") == 0) {
        size_t n = strlen(value);
        if (n >= sizeof p->style)
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT, "style name is too long");
        memcpy(p->style, value, n + 1);
    } else if (strcmp(name, "precision") == 0) {
        if (!toon_precision_from_name(value, &p->cp.gen.precision))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "precision '%.40s' is not fp32 or fast", value);
    } else if (strcmp(name, "mode") == 0) {
        if (!toon_mode_from_name(value, &p->cp.mode))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "mode '%.40s' is not hd, official or plain", value);
        if (!p->size_given) p->cp.size = default_size(p->cp.mode);
    } else if (strcmp(name, "downgrade") == 0) {
        int b;
        if (!parse_bool(value, &b))
            return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                                "downgrade '%.40s' is not true or false", value);
        p->downgrade = b;
    } else {
        return toon_err_set(err, TOON_STATUS_INVALID_ARGUMENT,
                            "unknown parameter '%.40s' (known: size, strength, format, quality, "
                            "style, precision, mode, downgrade)",
                            name);
    }
    return TOON_STATUS_OK;
}

const char *toon_format_mime(enum toon_format f)
{
    return f == TOON_FORMAT_JPEG   ? "image/jpeg"
           : f == TOON_FORMAT_WEBP ? "image/webp"
                                   : "image/png";
}
