/*
 * libjpeg error handling shared by the JPEG decoder and encoder (internal to src/image).
 *
 * libjpeg reports fatal errors through error_exit(), which must not return: ours records the
 * message code, formats the text and longjmps back to the entry point that called into libjpeg
 * (each one does `if (setjmp(e->jmp)) ...` first).  Nothing is ever printed.
 */
#ifndef TOON_IMAGE_JPEG_ERR_H
#define TOON_IMAGE_JPEG_ERR_H

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

struct toon_jpeg_err {
    struct jpeg_error_mgr pub;
    jmp_buf jmp;
    int code; /* libjpeg message code of the failure, or -1 for one of ours */
    char msg[JMSG_LENGTH_MAX];
};

/* Sets up e and returns its jpeg_error_mgr for cinfo->err.  When fatal_warnings is set,
 * corrupt-data warnings fail like errors (see jpeg_dec.c). */
struct jpeg_error_mgr *toon_jpeg_err_init(struct toon_jpeg_err *e, int fatal_warnings);

/* Fails the current libjpeg call with our own message (code -1). */
void toon_jpeg_err_raise(j_common_ptr c, const char *msg);

#endif
