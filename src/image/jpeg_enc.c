/*
 * JPEG encoder backend on libjpeg-turbo: baseline, 4:2:0, standard Huffman tables, so libjpeg
 * keeps only a few rows (no whole-image buffer) and bytes reach the sink as soon as each 64 KiB
 * output block fills.  A sink failure ends the libjpeg call through the error manager and is
 * returned as the sink's own status.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "core/alloc.h"
#include "image/backend.h"
#include "image/jpeg_err.h"

#define JPEG_OUT_BYTES 65536

struct jpeg_enc {
    struct jpeg_compress_struct cinfo;
    struct toon_jpeg_err jerr;
    struct jpeg_destination_mgr dest;
    int created;
    int w;
    uint8_t *out; /* [JPEG_OUT_BYTES] */
    toon_write_fn sink;
    void *sink_ctx;
    enum toon_status sink_st;
};

size_t toon_jpeg_enc_plan_bytes(int w, int h)
{
    (void)h;
    /* libjpeg: pools and tables (under 96 KiB), and per component a few MCU rows of samples
     * (colour-converted input, downsampled planes) and one MCU row of coefficient blocks:
     * measured at about 30 bytes per column, counted as 64 (tests/image/test_image_heap.c). */
    size_t lib = toon_plan_add(128 * 1024, toon_plan_mul((size_t)w + 64, 64));
    size_t ours =
        toon_plan_add(toon_plan_block(sizeof(struct jpeg_enc)), toon_plan_block(JPEG_OUT_BYTES));
    return toon_plan_add(lib, ours);
}

static enum toon_status enc_fail(struct jpeg_enc *e, struct toon_err *err)
{
    if (e->sink_st != TOON_STATUS_OK)
        return toon_err_set(err, e->sink_st, "writing JPEG output failed (%s)",
                            toon_status_str(e->sink_st));
    if (e->jerr.code == JERR_OUT_OF_MEMORY)
        return toon_err_set(err, TOON_STATUS_NO_MEMORY, "JPEG encoder out of memory: %s",
                            e->jerr.msg);
    return toon_err_set(err, TOON_STATUS_INTERNAL, "JPEG encoder: %s", e->jerr.msg);
}

static void dest_init(j_compress_ptr c)
{
    struct jpeg_enc *e = (struct jpeg_enc *)c;
    c->dest->next_output_byte = e->out;
    c->dest->free_in_buffer = JPEG_OUT_BYTES;
}

static void dest_flush(struct jpeg_enc *e, size_t n)
{
    if (n == 0) return;
    enum toon_status st = e->sink(e->sink_ctx, e->out, n);
    if (st != TOON_STATUS_OK) {
        e->sink_st = st;
        toon_jpeg_err_raise((j_common_ptr)&e->cinfo, "sink failed");
    }
}

static boolean dest_empty(j_compress_ptr c)
{
    struct jpeg_enc *e = (struct jpeg_enc *)c;
    dest_flush(e, JPEG_OUT_BYTES);
    dest_init(c);
    return TRUE;
}

static void dest_term(j_compress_ptr c)
{
    struct jpeg_enc *e = (struct jpeg_enc *)c;
    dest_flush(e, JPEG_OUT_BYTES - c->dest->free_in_buffer);
}

static void jpeg_enc_free(void *p)
{
    struct jpeg_enc *e = p;
    if (!e) return;
    if (e->created) jpeg_destroy_compress(&e->cinfo);
    toon_free(e->out);
    toon_free(e);
}

enum toon_status toon_jpeg_enc_open(int quality, int w, int h, toon_write_fn sink, void *sink_ctx,
                                    void **out, struct toon_err *err)
{
    *out = NULL;
    enum toon_status st;
    struct jpeg_enc *e = toon_calloc(1, sizeof *e);
    if (!e) return toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening JPEG encoder");
    e->out = toon_malloc(JPEG_OUT_BYTES);
    if (!e->out) {
        st = toon_err_set(err, TOON_STATUS_NO_MEMORY, "out of memory opening JPEG encoder");
        goto fail;
    }
    e->w = w;
    e->sink = sink;
    e->sink_ctx = sink_ctx;
    e->cinfo.err = toon_jpeg_err_init(&e->jerr, 0);
    if (setjmp(e->jerr.jmp)) {
        st = enc_fail(e, err);
        goto fail;
    }
    e->created = 1;
    jpeg_create_compress(&e->cinfo);
    e->dest.init_destination = dest_init;
    e->dest.empty_output_buffer = dest_empty;
    e->dest.term_destination = dest_term;
    e->cinfo.dest = &e->dest;
    e->cinfo.image_width = (JDIMENSION)w;
    e->cinfo.image_height = (JDIMENSION)h;
    e->cinfo.input_components = 3;
    e->cinfo.in_color_space = JCS_RGB;
    jpeg_set_defaults(&e->cinfo);
    jpeg_set_quality(&e->cinfo, quality, TRUE);
    e->cinfo.optimize_coding = FALSE; /* optimised tables need the whole image buffered */
    jpeg_start_compress(&e->cinfo, TRUE);
    *out = e;
    return TOON_STATUS_OK;
fail:
    jpeg_enc_free(e);
    return st;
}

static enum toon_status jpeg_enc_rows(void *p, const uint8_t *rows, int n, struct toon_err *err)
{
    struct jpeg_enc *e = p;
    if (setjmp(e->jerr.jmp)) return enc_fail(e, err);
    for (int i = 0; i < n; i++) {
        /* libjpeg's API takes non-const rows but only reads them. */
        JSAMPROW row = (JSAMPROW)(uintptr_t)(rows + (size_t)i * (size_t)e->w * 3);
        if (jpeg_write_scanlines(&e->cinfo, &row, 1) != 1)
            return toon_err_set(err, TOON_STATUS_INTERNAL, "JPEG encoder refused a row");
    }
    return TOON_STATUS_OK;
}

static enum toon_status jpeg_enc_finish(void *p, struct toon_err *err)
{
    struct jpeg_enc *e = p;
    if (setjmp(e->jerr.jmp)) return enc_fail(e, err);
    jpeg_finish_compress(&e->cinfo);
    return TOON_STATUS_OK;
}

const struct toon_encoder_ops toon_jpeg_enc_ops = {jpeg_enc_rows, jpeg_enc_finish, jpeg_enc_free};
