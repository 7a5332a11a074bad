/*
 * Job parameters as they arrive over HTTP: query-string arguments or multipart form fields
 * (size, strength, format, quality, style, precision, mode, downgrade), checked one by one so a
 * bad value gets a one-line message naming the parameter and what is allowed.
 */
#ifndef TOON_SERVICE_PARAMS_H
#define TOON_SERVICE_PARAMS_H

#include "toonify/toonify.h"

struct toon_job_params {
    struct toon_convert_params cp; /* mode, size, strength, format, quality, precision */
    char style[64];                /* "" = the default style */
    int downgrade;                 /* -1 = the server's default, 0 off, 1 on */
    int size_given;                /* 1 once `size` is set: mode no longer changes it */
};

/* 1024 px, strength 0.7, PNG, fp32, default style, server's downgrade default.  Until a size
 * is given, mode=official makes it 0 (the input's size, as the reference pipeline gives back). */
void toon_job_params_default(struct toon_job_params *p);

/* Sets one parameter from its text.  Unknown names and bad values are
 * TOON_STATUS_INVALID_ARGUMENT with a message. */
enum toon_status toon_job_params_set(struct toon_job_params *p, const char *name, const char *value,
                                     struct toon_err *err);

/* 1 if `name` is a parameter toon_job_params_set knows. */
int toon_job_params_known(const char *name);

/* The MIME type of a format: "image/png", ... */
const char *toon_format_mime(enum toon_format f);

#endif
