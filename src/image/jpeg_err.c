/*
 * libjpeg error manager that longjmps instead of exiting (see jpeg_err.h).  For the decoder,
 * warnings about corrupt or missing data are fatal: libjpeg pads a truncated file with grey and
 * only warns, and a grey image must never pass for a decoded one.  Warnings about metadata alone
 * (unknown JFIF version, bad ICC marker, stray bytes between segments, Adobe transform code) are
 * ignored.
 */
#include "image/jpeg_err.h"

#include <jerror.h>
#include <string.h>

static void on_error_exit(j_common_ptr c)
{
    struct toon_jpeg_err *e = (struct toon_jpeg_err *)c->err;
    e->code = c->err->msg_code;
    c->err->format_message(c, e->msg);
    longjmp(e->jmp, 1);
}

static void on_message_fatal(j_common_ptr c, int level)
{
    if (level >= 0) return; /* trace messages */
    switch (c->err->msg_code) {
    case JWRN_ADOBE_XFORM:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_JFIF_MAJOR:
    case JWRN_BOGUS_ICC:
        return;
    default:
        on_error_exit(c);
    }
}

static void on_message_ignore(j_common_ptr c, int level)
{
    (void)c;
    (void)level;
}

static void on_output(j_common_ptr c)
{
    (void)c; /* library code never prints */
}

struct jpeg_error_mgr *toon_jpeg_err_init(struct toon_jpeg_err *e, int fatal_warnings)
{
    struct jpeg_error_mgr *m = jpeg_std_error(&e->pub);
    m->error_exit = on_error_exit;
    m->emit_message = fatal_warnings ? on_message_fatal : on_message_ignore;
    m->output_message = on_output;
    e->code = 0;
    e->msg[0] = 0;
    return m;
}

void toon_jpeg_err_raise(j_common_ptr c, const char *msg)
{
    struct toon_jpeg_err *e = (struct toon_jpeg_err *)c->err;
    e->code = -1;
    snprintf(e->msg, sizeof e->msg, "%s", msg);
    longjmp(e->jmp, 1);
}
