/*
 * Unit tests of the image codecs (src/image/codec.h): round trips through every format and PNG
 * and JPEG flavour, EXIF orientations from hand-built EXIF blocks, the shared astronaut photo,
 * corrupt and truncated files, decompression bombs and oversized headers, the memory of the
 * streaming reader (O(width) for baseline JPEG and PNG), plan_bytes against the counting
 * allocator, and allocation-failure injection (no leaks, TOON_STATUS_NO_MEMORY).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>
#include <sys/stat.h>
#include <webp/encode.h>

#include "core/alloc.h"
#include "image/codec.h"
#include "image_testutil.h"
#include "test.h"
#include "webp_forge.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* Decodes with default limits; fails the test on error. */
static struct toon_image decode_ok(const uint8_t *data, size_t len)
{
    struct toon_image img;
    struct toon_err err = {{0}};
    enum toon_status st = toon_image_decode(data, len, NULL, &img, &err);
    if (st != TOON_STATUS_OK) TEST_FAIL_("decode: %s (%s)", err.msg, toon_status_str(st));
    return img;
}

/* A JPEG written with libjpeg directly (progressive, grey or CMYK flavours). */
static uint8_t *jpeg_custom(const uint8_t *px, int w, int h, int comps, J_COLOR_SPACE cs,
                            int progressive, size_t *len)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&c, &buf, &size);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = cs;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    for (int y = 0; y < h; y++) {
        JSAMPROW row = (JSAMPROW)(uintptr_t)(px + (size_t)y * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = size;
    return buf;
}

/* A PNG written with spng directly, in any colour type, depth and interlacing. */
static uint8_t *png_custom(const void *px, size_t px_len, int w, int h, int color_type, int depth,
                           int interlace, struct spng_plte *plte, struct spng_trns *trns,
                           const uint8_t *exif, size_t exif_len, size_t *len)
{
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    CHECK(ctx != NULL);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {(uint32_t)w, (uint32_t)h, (uint8_t)depth,    (uint8_t)color_type,
                             0,           0,           (uint8_t)interlace};
    int r = spng_set_ihdr(ctx, &ihdr);
    if (!r && plte) r = spng_set_plte(ctx, plte);
    if (!r && trns) r = spng_set_trns(ctx, trns);
    if (!r && exif) {
        struct spng_exif e = {exif_len, (char *)(uintptr_t)exif};
        r = spng_set_exif(ctx, &e);
    }
    if (!r) r = spng_encode_image(ctx, px, px_len, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE);
    if (r) {
        spng_ctx_free(ctx);
        TEST_FAIL_("spng encode: %s", spng_strerror(r));
    }
    int error = 0;
    uint8_t *buf = spng_get_png_buffer(ctx, len, &error);
    spng_ctx_free(ctx);
    CHECK(buf != NULL && error == 0);
    return buf;
}

static uint8_t onto_white(unsigned v, unsigned a)
{
    return (uint8_t)((v * a + 255u * (255u - a) + 127u) / 255u);
}

/* ---- names, sniffing, limits ------------------------------------------------------------- */

static void test_names_and_sniff(void)
{
    CHECK_EQ(toon_format_from_name("png"), TOON_FORMAT_PNG);
    CHECK_EQ(toon_format_from_name("JPG"), TOON_FORMAT_JPEG);
    CHECK_EQ(toon_format_from_name("Jpeg"), TOON_FORMAT_JPEG);
    CHECK_EQ(toon_format_from_name("WEBP"), TOON_FORMAT_WEBP);
    CHECK_EQ(toon_format_from_name("gif"), TOON_FORMAT_UNKNOWN);
    CHECK_EQ(toon_format_from_name(NULL), TOON_FORMAT_UNKNOWN);
    CHECK(strcmp(toon_format_name(TOON_FORMAT_PNG), "png") == 0);
    CHECK(strcmp(toon_format_name(TOON_FORMAT_JPEG), "jpeg") == 0);
    CHECK(strcmp(toon_format_name(TOON_FORMAT_WEBP), "webp") == 0);
    CHECK(strcmp(toon_format_ext(TOON_FORMAT_JPEG), "jpg") == 0);
    CHECK(strcmp(toon_format_ext(TOON_FORMAT_WEBP), "webp") == 0);
    CHECK(strcmp(toon_format_ext(TOON_FORMAT_PNG), "png") == 0);
    struct toon_decode_limits lim = toon_decode_default_limits();
    CHECK_EQ(lim.max_w, 16384);
    CHECK_EQ(lim.max_h, 16384);
    CHECK_EQ(lim.max_pixels, 100000000);

    uint8_t rgb[8 * 8 * 3];
    tu_photo(rgb, 8, 8, 1);
    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    for (int i = 0; i < 3; i++) {
        struct toon_membuf mb = tu_encode(rgb, 8, 8, fmts[i], 0);
        CHECK_EQ(toon_format_sniff(mb.data, mb.len), fmts[i]);
        CHECK_EQ(toon_format_sniff(mb.data, 2), TOON_FORMAT_UNKNOWN);
        toon_free(mb.data);
    }
    CHECK_EQ(toon_format_sniff((const uint8_t *)"GIF89a", 6), TOON_FORMAT_UNKNOWN);

    struct toon_image img;
    struct toon_err err = {{0}};
    CHECK_EQ(toon_image_decode((const uint8_t *)"GIF89a......", 12, NULL, &img, &err),
             TOON_STATUS_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "unsupported format (not JPEG, PNG or WebP)");
}

/* ---- round trips ------------------------------------------------------------------------- */

static void test_roundtrip_each_format(void)
{
    int w = 67, h = 45;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 7);
    size_t base = toon_alloc_current();
    struct {
        enum toon_format fmt;
        int quality;
        double min_psnr;
    } cases[] = {{TOON_FORMAT_PNG, 0, 99.0},
                 {TOON_FORMAT_JPEG, 0, 30.0},
                 {TOON_FORMAT_JPEG, 50, 25.0},
                 {TOON_FORMAT_WEBP, 0, 28.0},
                 {TOON_FORMAT_WEBP, 100, 30.0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct toon_membuf mb = tu_encode(rgb, w, h, cases[i].fmt, cases[i].quality);
        struct toon_image_info info;
        struct toon_err err = {{0}};
        CHECK_OK(toon_image_probe(mb.data, mb.len, &info, &err));
        CHECK_EQ(info.format, cases[i].fmt);
        CHECK_EQ(info.w, w);
        CHECK_EQ(info.h, h);
        CHECK_EQ(info.orientation, 1);
        struct toon_image img = decode_ok(mb.data, mb.len);
        CHECK_EQ(img.w, w);
        CHECK_EQ(img.h, h);
        CHECK_EQ(img.c, 3);
        CHECK_EQ(img.stride, (size_t)w * 3);
        double p = tu_psnr(img.data, rgb, (size_t)w * h * 3);
        if (p < cases[i].min_psnr)
            TEST_FAIL_("%s q%d: PSNR %.1f < %.1f", toon_format_name(cases[i].fmt), cases[i].quality,
                       p, cases[i].min_psnr);
        toon_image_free(&img);
        toon_free(mb.data);
    }
    CHECK_EQ(toon_alloc_current(), base);
    free(rgb);
}

/* The writer fed in uneven chunks gives the same file as the whole-image helper, and the reader
 * read in uneven chunks gives the same rows as the whole-image decode. */
static void test_streaming_chunks(void)
{
    int w = 50, h = 37;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 3);
    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    for (int i = 0; i < 3; i++) {
        struct toon_membuf whole = tu_encode(rgb, w, h, fmts[i], 0);
        struct toon_membuf mb = {0};
        struct toon_imgwriter *wr = NULL;
        struct toon_err err = {{0}};
        CHECK_OK(toon_imgwriter_open(fmts[i], 0, w, h, toon_write_membuf, &mb, &wr, &err));
        for (int y = 0, n = 1; y < h; y += n, n = n % 5 + 1) {
            if (n > h - y) n = h - y;
            CHECK_OK(toon_imgwriter_write(wr, rgb + (size_t)y * w * 3, n, &err));
        }
        CHECK_OK(toon_imgwriter_finish(wr, &err));
        toon_imgwriter_free(wr);
        CHECK_EQ(mb.len, whole.len);
        CHECK(memcmp(mb.data, whole.data, mb.len) == 0);

        struct toon_image ref = decode_ok(mb.data, mb.len);
        struct toon_imgreader *r = NULL;
        CHECK_OK(toon_imgreader_open(mb.data, mb.len, NULL, &r, &err));
        uint8_t *rows = malloc((size_t)w * h * 3);
        for (int y = 0, n = 3; y < h; y += n, n = n % 4 + 1) {
            if (n > h - y) n = h - y;
            CHECK_OK(toon_imgreader_read(r, rows + (size_t)y * w * 3, n, &err));
        }
        CHECK_EQ(toon_imgreader_read(r, rows, 1, &err), TOON_STATUS_INVALID_ARGUMENT);
        CHECK(memcmp(rows, ref.data, (size_t)w * h * 3) == 0);
        toon_imgreader_free(r);
        free(rows);
        toon_image_free(&ref);
        toon_free(mb.data);
        toon_free(whole.data);
    }
    free(rgb);
}

static void test_png_flavours(void)
{
    int w = 23, h = 17;
    size_t n = (size_t)w * h;
    uint8_t *expect = malloc(n * 3);
    size_t len;

    /* grey 8-bit */
    uint8_t *g = malloc(n);
    for (size_t i = 0; i < n; i++) g[i] = (uint8_t)(i * 7);
    uint8_t *png =
        png_custom(g, n, w, h, SPNG_COLOR_TYPE_GRAYSCALE, 8, 0, NULL, NULL, NULL, 0, &len);
    struct toon_image img = decode_ok(png, len);
    for (size_t i = 0; i < n; i++) expect[3 * i] = expect[3 * i + 1] = expect[3 * i + 2] = g[i];
    CHECK(memcmp(img.data, expect, n * 3) == 0);
    toon_image_free(&img);
    free(png);

    /* grey with a tRNS colour key: that grey becomes white */
    struct spng_trns trns = {0};
    trns.gray = 14;
    png = png_custom(g, n, w, h, SPNG_COLOR_TYPE_GRAYSCALE, 8, 0, NULL, &trns, NULL, 0, &len);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n; i++) {
        uint8_t v = g[i] == 14 ? 255 : g[i];
        CHECK_EQ(img.data[3 * i], v);
        CHECK_EQ(img.data[3 * i + 2], v);
    }
    toon_image_free(&img);
    free(png);

    /* grey + alpha */
    uint8_t *ga = malloc(n * 2);
    for (size_t i = 0; i < n; i++) ga[2 * i] = (uint8_t)(i * 5), ga[2 * i + 1] = (uint8_t)(i * 3);
    png = png_custom(ga, n * 2, w, h, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 8, 0, NULL, NULL, NULL, 0,
                     &len);
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(png, len, &info, &err));
    CHECK_EQ(info.channels, 2);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n; i++) {
        uint8_t v = onto_white(ga[2 * i], ga[2 * i + 1]);
        CHECK_EQ(img.data[3 * i], v);
        CHECK_EQ(img.data[3 * i + 1], v);
    }
    toon_image_free(&img);
    free(png);

    /* RGBA onto white */
    uint8_t *rgba = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        rgba[4 * i] = (uint8_t)(i * 11), rgba[4 * i + 1] = (uint8_t)(200 - i);
        rgba[4 * i + 2] = (uint8_t)(i * 2), rgba[4 * i + 3] = (uint8_t)(i % 3 == 0 ? 0 : i * 13);
    }
    png = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 0, NULL, NULL, NULL, 0,
                     &len);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            expect[3 * i + k] = onto_white(rgba[4 * i + k], rgba[4 * i + 3]);
    CHECK(memcmp(img.data, expect, n * 3) == 0);
    toon_image_free(&img);
    free(png);

    /* RGBA, interlaced */
    png = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 1, NULL, NULL, NULL, 0,
                     &len);
    CHECK_OK(toon_image_probe(png, len, &info, &err));
    CHECK_EQ(info.progressive, 1);
    img = decode_ok(png, len);
    CHECK(memcmp(img.data, expect, n * 3) == 0);
    toon_image_free(&img);
    free(png);

    /* RGB 16-bit: the high byte is kept (within one level) */
    uint16_t *rgb16 = malloc(n * 3 * 2);
    for (size_t i = 0; i < n * 3; i++) rgb16[i] = (uint16_t)(i * 977u);
    png =
        png_custom(rgb16, n * 6, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 16, 0, NULL, NULL, NULL, 0, &len);
    CHECK_OK(toon_image_probe(png, len, &info, &err));
    CHECK_EQ(info.bit_depth, 16);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n * 3; i++) CHECK_NEAR(img.data[i], rgb16[i] / 257.0, 1.0);
    toon_image_free(&img);
    free(png);

    /* RGB 16-bit interlaced */
    png =
        png_custom(rgb16, n * 6, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 16, 1, NULL, NULL, NULL, 0, &len);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n * 3; i++) CHECK_NEAR(img.data[i], rgb16[i] / 257.0, 1.0);
    toon_image_free(&img);
    free(png);

    /* palette with per-entry alpha (tRNS) */
    struct spng_plte plte = {0};
    plte.n_entries = 16;
    for (int i = 0; i < 16; i++) {
        plte.entries[i].red = (uint8_t)(i * 16);
        plte.entries[i].green = (uint8_t)(255 - i * 16);
        plte.entries[i].blue = (uint8_t)(i * 7);
    }
    struct spng_trns ptrns = {0};
    ptrns.n_type3_entries = 8;
    for (int i = 0; i < 8; i++) ptrns.type3_alpha[i] = (uint8_t)(i * 36);
    uint8_t *idx = malloc(n);
    for (size_t i = 0; i < n; i++) idx[i] = (uint8_t)(i % 16);
    png = png_custom(idx, n, w, h, SPNG_COLOR_TYPE_INDEXED, 8, 0, &plte, &ptrns, NULL, 0, &len);
    CHECK_OK(toon_image_probe(png, len, &info, &err));
    CHECK_EQ(info.channels, 4);
    img = decode_ok(png, len);
    for (size_t i = 0; i < n; i++) {
        int k = idx[i];
        unsigned a = k < 8 ? ptrns.type3_alpha[k] : 255;
        CHECK_EQ(img.data[3 * i], onto_white(plte.entries[k].red, a));
        CHECK_EQ(img.data[3 * i + 1], onto_white(plte.entries[k].green, a));
        CHECK_EQ(img.data[3 * i + 2], onto_white(plte.entries[k].blue, a));
    }
    toon_image_free(&img);
    free(png);

    free(idx);
    free(rgb16);
    free(rgba);
    free(ga);
    free(g);
    free(expect);
}

static void test_jpeg_flavours(void)
{
    int w = 41, h = 29;
    size_t n = (size_t)w * h, len;
    uint8_t *rgb = malloc(n * 3);
    tu_photo(rgb, w, h, 11);

    /* progressive */
    uint8_t *jpg = jpeg_custom(rgb, w, h, 3, JCS_RGB, 1, &len);
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(jpg, len, &info, &err));
    CHECK_EQ(info.progressive, 1);
    CHECK_EQ(info.channels, 3);
    struct toon_image img = decode_ok(jpg, len);
    CHECK_INT(tu_psnr(img.data, rgb, n * 3), >, 30);
    toon_image_free(&img);
    free(jpg);

    /* baseline from libjpeg directly: not progressive */
    jpg = jpeg_custom(rgb, w, h, 3, JCS_RGB, 0, &len);
    CHECK_OK(toon_image_probe(jpg, len, &info, &err));
    CHECK_EQ(info.progressive, 0);
    free(jpg);

    /* greyscale */
    uint8_t *g = malloc(n);
    for (size_t i = 0; i < n; i++) g[i] = rgb[3 * i + 1];
    jpg = jpeg_custom(g, w, h, 1, JCS_GRAYSCALE, 0, &len);
    CHECK_OK(toon_image_probe(jpg, len, &info, &err));
    CHECK_EQ(info.channels, 1);
    img = decode_ok(jpg, len);
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(img.data[3 * i], img.data[3 * i + 1]);
        CHECK_EQ(img.data[3 * i], img.data[3 * i + 2]);
    }
    uint8_t *g3 = malloc(n * 3);
    for (size_t i = 0; i < n * 3; i++) g3[i] = g[i / 3];
    CHECK_INT(tu_psnr(img.data, g3, n * 3), >, 35);
    toon_image_free(&img);
    free(jpg);

    /* CMYK as Adobe writes it (inverted): stored (r, g, b, 255) is RGB (r, g, b) */
    uint8_t *cmyk = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        memcpy(cmyk + 4 * i, rgb + 3 * i, 3);
        cmyk[4 * i + 3] = 255;
    }
    jpg = jpeg_custom(cmyk, w, h, 4, JCS_CMYK, 0, &len);
    CHECK_OK(toon_image_probe(jpg, len, &info, &err));
    CHECK_EQ(info.channels, 4);
    img = decode_ok(jpg, len);
    CHECK_INT(tu_psnr(img.data, rgb, n * 3), >, 30);
    toon_image_free(&img);
    free(jpg);

    free(cmyk);
    free(g3);
    free(g);
    free(rgb);
}

/* ---- EXIF orientation -------------------------------------------------------------------- */

static void check_oriented(const uint8_t *data, size_t len, const struct toon_image *ref, int o)
{
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(data, len, &info, &err));
    CHECK_EQ(info.orientation, o);
    CHECK_EQ(info.file_w, ref->w);
    CHECK_EQ(info.file_h, ref->h);
    CHECK_EQ(info.w, o >= 5 ? ref->h : ref->w);
    CHECK_EQ(info.h, o >= 5 ? ref->w : ref->h);
    struct toon_image img = decode_ok(data, len);
    CHECK_EQ(img.w, info.w);
    CHECK_EQ(img.h, info.h);
    uint8_t *expect = malloc((size_t)ref->w * ref->h * 3);
    tu_orient(ref->data, ref->w, ref->h, o, expect);
    if (memcmp(img.data, expect, (size_t)ref->w * ref->h * 3) != 0)
        TEST_FAIL_("orientation %d: decoded pixels differ from the EXIF definition", o);
    free(expect);
    toon_image_free(&img);
}

static void test_exif_orientation_jpeg(void)
{
    int w = 24, h = 15;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 5);
    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 95);
    struct toon_image ref = decode_ok(mb.data, mb.len);
    size_t base = toon_alloc_current();
    for (int o = 1; o <= 8; o++)
        for (int be = 0; be < 2; be++) {
            size_t len;
            uint8_t *jpg = tu_jpeg_with_exif(mb.data, mb.len, o, be, &len);
            check_oriented(jpg, len, &ref, o);
            free(jpg);
        }
    /* Invalid orientation values count as 1. */
    size_t len;
    uint8_t *jpg = tu_jpeg_with_exif(mb.data, mb.len, 9, 0, &len);
    check_oriented(jpg, len, &ref, 1);
    free(jpg);
    jpg = tu_jpeg_with_exif(mb.data, mb.len, 0, 1, &len);
    check_oriented(jpg, len, &ref, 1);
    free(jpg);
    CHECK_EQ(toon_alloc_current(), base);
    toon_image_free(&ref);
    toon_free(mb.data);
    free(rgb);
}

static void test_exif_orientation_png_webp(void)
{
    int w = 21, h = 13;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 9);
    struct toon_image ref = {w, h, 3, (size_t)w * 3, rgb};
    uint8_t tiff[26];
    for (int o = 2; o <= 8; o += 3) {
        size_t tn = tu_tiff_orientation(tiff, o, o & 1), len;
        uint8_t *png = png_custom(rgb, (size_t)w * h * 3, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 8, 0,
                                  NULL, NULL, tiff, tn, &len);
        check_oriented(png, len, &ref, o);
        free(png);
    }

    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 90);
    struct toon_image wref = decode_ok(mb.data, mb.len);
    for (int o = 1; o <= 8; o++) {
        size_t tn = tu_tiff_orientation(tiff, o, 0), len;
        uint8_t *webp = tu_webp_vp8x(mb.data, mb.len, (uint32_t)w, (uint32_t)h, tiff, tn, &len);
        check_oriented(webp, len, &wref, o);
        free(webp);
    }
    toon_image_free(&wref);
    toon_free(mb.data);
    free(rgb);
}

/* ---- the shared photo -------------------------------------------------------------------- */

static void test_astronaut(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/images/astronaut.png", test_shared_dir());
    size_t len;
    uint8_t *data = test_read_file(path, &len);
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(data, len, &info, &err));
    CHECK_EQ(info.format, TOON_FORMAT_PNG);
    CHECK_EQ(info.w, 512);
    CHECK_EQ(info.h, 512);
    struct toon_image img = decode_ok(data, len);
    CHECK_EQ(img.w, 512);
    /* The same pixels as cv2.imread (FNV-1a of the RGB bytes, computed with Debian's
     * python3-opencv, which goes through libpng). */
    uint32_t fnv = 2166136261u;
    for (size_t i = 0; i < (size_t)512 * 512 * 3; i++) fnv = (fnv ^ img.data[i]) * 16777619u;
    CHECK_EQ(fnv, 0x3b2d33bbu);
    /* Re-encoding as PNG is lossless; JPEG and WebP stay close. */
    enum toon_format fmts[3] = {TOON_FORMAT_PNG, TOON_FORMAT_JPEG, TOON_FORMAT_WEBP};
    double min_psnr[3] = {99, 33, 30};
    for (int i = 0; i < 3; i++) {
        struct toon_membuf mb = tu_encode(img.data, 512, 512, fmts[i], 0);
        struct toon_image back = decode_ok(mb.data, mb.len);
        double p = tu_psnr(back.data, img.data, (size_t)512 * 512 * 3);
        if (p < min_psnr[i])
            TEST_FAIL_("%s: PSNR %.1f < %.1f", toon_format_name(fmts[i]), p, min_psnr[i]);
        toon_image_free(&back);
        toon_free(mb.data);
    }
    toon_image_free(&img);
    free(data);
}

/* ---- corrupt input ----------------------------------------------------------------------- */

static void check_one_line(const char *msg)
{
    CHECK(msg[0] != 0);
    CHECK(strchr(msg, '\n') == NULL);
}

/* Every truncation either fails with a clear message or (when only trailing metadata was cut)
 * decodes to exactly the full picture: never a padded or grey one. */
static void check_truncations(const uint8_t *data, size_t len, const char *what)
{
    struct toon_image full = decode_ok(data, len);
    size_t base = toon_alloc_current();
    int failures = 0;
    for (size_t cut = 0; cut < len; cut += (cut + 32 >= len ? 1 : len / 160 + 1)) {
        struct toon_image img;
        struct toon_err err = {{0}};
        enum toon_status st = toon_image_decode(data, cut, NULL, &img, &err);
        if (st == TOON_STATUS_OK) {
            if (img.w != full.w || img.h != full.h ||
                memcmp(img.data, full.data, (size_t)img.w * img.h * 3) != 0)
                TEST_FAIL_("%s cut at %zu of %zu decodes to a different picture", what, cut, len);
            toon_image_free(&img);
        } else {
            check_one_line(err.msg);
            failures++;
        }
        CHECK_EQ(toon_alloc_current(), base);
    }
    CHECK_INT(failures, >, 100);
    toon_image_free(&full);
}

static void test_truncated_files(void)
{
    int w = 48, h = 40;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 13);
    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    for (int i = 0; i < 3; i++) {
        struct toon_membuf mb = tu_encode(rgb, w, h, fmts[i], 0);
        check_truncations(mb.data, mb.len, toon_format_name(fmts[i]));
        toon_free(mb.data);
    }
    size_t len;
    uint8_t *jpg = jpeg_custom(rgb, w, h, 3, JCS_RGB, 1, &len);
    check_truncations(jpg, len, "progressive JPEG");
    free(jpg);
    uint8_t *png = png_custom(rgb, (size_t)w * h * 3, w, h, SPNG_COLOR_TYPE_TRUECOLOR, 8, 1, NULL,
                              NULL, NULL, 0, &len);
    check_truncations(png, len, "interlaced PNG");
    free(png);

    /* The messages name the reason. */
    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 0);
    struct toon_image img;
    struct toon_err err = {{0}};
    CHECK_EQ(toon_image_decode(mb.data, mb.len / 2, NULL, &img, &err), TOON_STATUS_CORRUPT);
    CHECK_STR_CONTAINS(err.msg, "truncated JPEG");
    CHECK_STR_CONTAINS(err.msg, "Premature end of JPEG file");
    toon_free(mb.data);
    mb = tu_encode(rgb, w, h, TOON_FORMAT_PNG, 0);
    CHECK_EQ(toon_image_decode(mb.data, mb.len / 2, NULL, &img, &err), TOON_STATUS_CORRUPT);
    CHECK_STR_CONTAINS(err.msg, "PNG");
    toon_free(mb.data);
    mb = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 0);
    CHECK_EQ(toon_image_decode(mb.data, mb.len / 2, NULL, &img, &err), TOON_STATUS_CORRUPT);
    CHECK_STR_CONTAINS(err.msg, "WebP");
    toon_free(mb.data);
    free(rgb);
}

static void test_byte_flips(void)
{
    int w = 40, h = 32;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 17);
    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    unsigned s = 12345;
    for (int i = 0; i < 3; i++) {
        struct toon_membuf mb = tu_encode(rgb, w, h, fmts[i], 0);
        size_t base = toon_alloc_current();
        uint8_t *copy = malloc(mb.len);
        int errors = 0;
        for (int iter = 0; iter < 400; iter++) {
            memcpy(copy, mb.data, mb.len);
            int flips = 1 + iter % 4;
            for (int f = 0; f < flips; f++) {
                s = s * 1103515245u + 12345u;
                size_t at = (s >> 8) % mb.len;
                s = s * 1103515245u + 12345u;
                copy[at] ^= (uint8_t)(1u << ((s >> 16) % 8));
            }
            struct toon_image img;
            struct toon_err err = {{0}};
            enum toon_status st = toon_image_decode(copy, mb.len, NULL, &img, &err);
            if (st == TOON_STATUS_OK) {
                CHECK(img.w > 0 && img.h > 0);
                /* PNG is checksummed: a flip it accepts (in data it never reads, such as IEND)
                 * must not change a pixel. */
                if (fmts[i] == TOON_FORMAT_PNG)
                    CHECK(img.w == w && img.h == h &&
                          memcmp(img.data, rgb, (size_t)w * h * 3) == 0);
                toon_image_free(&img);
            } else {
                check_one_line(err.msg);
                errors++;
            }
            if (toon_alloc_current() != base)
                TEST_FAIL_("%s flip iteration %d leaked %zu bytes (%s)", toon_format_name(fmts[i]),
                           iter, toon_alloc_current() - base, toon_status_str(st));
        }
        /* PNG's checksums catch nearly every flip; the others catch many. */
        CHECK_INT(errors, >, fmts[i] == TOON_FORMAT_PNG ? 380 : 40);
        free(copy);
        toon_free(mb.data);
    }
    free(rgb);
}

/* ---- oversized headers and bombs --------------------------------------------------------- */

/* Decoding must fail with TOO_LARGE before anything big is allocated. */
static void check_rejected(const uint8_t *data, size_t len, const struct toon_decode_limits *lim,
                           const char *expect_msg)
{
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct toon_image img;
    struct toon_err err = {{0}};
    enum toon_status st = toon_image_decode(data, len, lim, &img, &err);
    if (st != TOON_STATUS_TOO_LARGE)
        TEST_FAIL_("expected TOO_LARGE, got %s: %s", toon_status_str(st), err.msg);
    if (expect_msg) CHECK_STR_CONTAINS(err.msg, expect_msg);
    check_one_line(err.msg);
    CHECK_INT(toon_alloc_peak() - base, <, 64 * 1024);
    CHECK_EQ(toon_alloc_current(), base);
    struct toon_imgreader *r = NULL;
    CHECK_EQ(toon_imgreader_open(data, len, lim, &r, &err), TOON_STATUS_TOO_LARGE);
    CHECK(r == NULL);
}

static void test_oversized_headers(void)
{
    uint8_t rgb[16 * 16 * 3];
    tu_photo(rgb, 16, 16, 1);

    /* JPEG: the frame header (SOF0) patched to 65535x65535 and to 12000x12000 (144 Mpx). */
    struct toon_membuf mb = tu_encode(rgb, 16, 16, TOON_FORMAT_JPEG, 0);
    size_t sof = 0;
    for (size_t i = 2; i + 9 < mb.len; i++)
        if (mb.data[i] == 0xff && mb.data[i + 1] == 0xc0) {
            sof = i;
            break;
        }
    CHECK(sof > 0);
    mb.data[sof + 5] = 0xff, mb.data[sof + 6] = 0xff, mb.data[sof + 7] = 0xff;
    mb.data[sof + 8] = 0xff;
    check_rejected(mb.data, mb.len, NULL, "image is 65535x65535, the limit is 16384 per side");
    mb.data[sof + 5] = 12000 >> 8, mb.data[sof + 6] = 12000 & 255;
    mb.data[sof + 7] = 12000 >> 8, mb.data[sof + 8] = 12000 & 255;
    check_rejected(mb.data, mb.len, NULL, "the limit is 100.0 Mpx");
    struct toon_decode_limits small = {4000, 3000, 12000000};
    mb.data[sof + 5] = 0, mb.data[sof + 6] = 16, mb.data[sof + 7] = 4001 >> 8;
    mb.data[sof + 8] = 4001 & 255;
    check_rejected(mb.data, mb.len, &small, "image is 4001x16, the limit is 4000x3000");
    toon_free(mb.data);

    /* PNG: IHDR patched to 100000x100000 (with a valid CRC). */
    mb = tu_encode(rgb, 16, 16, TOON_FORMAT_PNG, 0);
    uint8_t *ihdr = mb.data + 12; /* "IHDR" + 13 bytes + CRC */
    uint32_t big = 100000;
    for (int k = 0; k < 2; k++) {
        ihdr[4 + 4 * k] = (uint8_t)(big >> 24), ihdr[5 + 4 * k] = (uint8_t)(big >> 16);
        ihdr[6 + 4 * k] = (uint8_t)(big >> 8), ihdr[7 + 4 * k] = (uint8_t)big;
    }
    uint32_t crc = tu_crc32(ihdr, 17);
    ihdr[17] = (uint8_t)(crc >> 24), ihdr[18] = (uint8_t)(crc >> 16);
    ihdr[19] = (uint8_t)(crc >> 8), ihdr[20] = (uint8_t)crc;
    check_rejected(mb.data, mb.len, NULL, "image is 100000x100000, the limit is 16384 per side");
    toon_free(mb.data);

    /* WebP: a VP8X canvas of 100000x100000 around a small picture, and a VP8 frame header
     * patched to 16383x16383 (268 Mpx). */
    mb = tu_encode(rgb, 16, 16, TOON_FORMAT_WEBP, 0);
    size_t len;
    uint8_t *webp = tu_webp_vp8x(mb.data, mb.len, 100000, 100000, NULL, 0, &len);
    check_rejected(webp, len, NULL, "image is 100000x100000, the limit is 16384 per side");
    free(webp);
    CHECK(memcmp(mb.data + 12, "VP8 ", 4) == 0);
    uint8_t *frame = mb.data + 20; /* 3-byte tag, start code, then 14-bit width and height */
    CHECK(frame[3] == 0x9d && frame[4] == 0x01 && frame[5] == 0x2a);
    frame[6] = 0xff, frame[7] = 0x3f, frame[8] = 0xff, frame[9] = 0x3f;
    check_rejected(mb.data, mb.len, NULL, "image is 16383x16383 (268.4 Mpx)");
    toon_free(mb.data);
}

/* A real decompression bomb: an 8192x8192 all-black PNG of a few dozen KB. */
static void test_png_bomb(void)
{
    int w = 8192, h = 8192;
    uint8_t *row = calloc((size_t)w, 1);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    spng_set_option(ctx, SPNG_IMG_COMPRESSION_LEVEL, 9);
    struct spng_ihdr ih = {(uint32_t)w, (uint32_t)h, 8, SPNG_COLOR_TYPE_GRAYSCALE, 0, 0, 0};
    spng_set_ihdr(ctx, &ih);
    CHECK_EQ(spng_encode_image(ctx, NULL, 0, SPNG_FMT_PNG,
                               SPNG_ENCODE_PROGRESSIVE | SPNG_ENCODE_FINALIZE),
             0);
    for (int y = 0; y < h; y++) {
        int r = spng_encode_row(ctx, row, (size_t)w);
        CHECK(r == 0 || (r == SPNG_EOI && y == h - 1));
    }
    size_t len;
    int error;
    uint8_t *png = spng_get_png_buffer(ctx, &len, &error);
    spng_ctx_free(ctx);
    free(row);
    CHECK(png != NULL);
    CHECK_INT(len, <, 200 * 1024);

    struct toon_decode_limits lim = {4096, 4096, 16u << 20};
    check_rejected(png, len, &lim, "image is 8192x8192, the limit is 4096 per side");
    lim = (struct toon_decode_limits){8192, 8192, (64u << 20) - 1};
    check_rejected(png, len, &lim, "(67.1 Mpx), the limit is 67.1 Mpx");

    /* Within the limits it streams: 200 rows with O(width) memory. */
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct toon_imgreader *r = NULL;
    struct toon_err err = {{0}};
    CHECK_OK(toon_imgreader_open(png, len, NULL, &r, &err));
    uint8_t *rows = malloc((size_t)w * 3 * 8);
    for (int y = 0; y < 200; y += 8) CHECK_OK(toon_imgreader_read(r, rows, 8, &err));
    CHECK_EQ(rows[0], 0);
    toon_imgreader_free(r);
    CHECK_INT(toon_alloc_peak() - base, <, 512 * 1024);
    CHECK_EQ(toon_alloc_current(), base);
    free(rows);
    free(png);
}

/* ---- memory: streaming peaks and plans --------------------------------------------------- */

/* Opens, reads every row in bands of 7 and frees; returns the peak of the counting allocator
 * above the start, and checks the reader's plan covers it. */
static size_t measure_reader(const uint8_t *data, size_t len)
{
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct toon_imgreader *r = NULL;
    struct toon_err err = {{0}};
    CHECK_OK(toon_imgreader_open(data, len, NULL, &r, &err));
    const struct toon_image_info *info = toon_imgreader_info(r);
    uint8_t *rows = malloc((size_t)info->w * 3 * 7);
    for (int y = 0; y < info->h; y += 7) {
        int n = info->h - y < 7 ? info->h - y : 7;
        CHECK_OK(toon_imgreader_read(r, rows, n, &err));
    }
    free(rows);
    size_t plan = toon_imgreader_plan_bytes(info);
    toon_imgreader_free(r);
    size_t peak = toon_alloc_peak() - base;
    CHECK_EQ(toon_alloc_current(), base);
    if (plan < peak) TEST_FAIL_("plan %zu < measured peak %zu", plan, peak);
    return peak;
}

static void test_streaming_reader_memory(void)
{
    int w = 640, h = 2400; /* the whole RGB picture would be 4.6 MB */
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 21);
    struct toon_membuf jpg = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 0);
    struct toon_membuf png = tu_encode(rgb, w, h, TOON_FORMAT_PNG, 0);
    size_t pj = measure_reader(jpg.data, jpg.len);
    size_t pp = measure_reader(png.data, png.len);
    /* Baseline JPEG: our part is a few structs (libjpeg's rows are malloc'd, see the heap test);
     * PNG: spng's context, zlib's window and a few rows. */
    CHECK_INT(pj, <, 16 * 1024);
    CHECK_INT(pp, <, 160 * 1024 + (size_t)w * 3 * 8);

    /* Same picture at twice the height: the peaks do not grow. */
    uint8_t *tall = malloc((size_t)w * h * 2 * 3);
    memcpy(tall, rgb, (size_t)w * h * 3);
    memcpy(tall + (size_t)w * h * 3, rgb, (size_t)w * h * 3);
    struct toon_membuf png2 = tu_encode(tall, w, 2 * h, TOON_FORMAT_PNG, 0);
    CHECK_INT(measure_reader(png2.data, png2.len), <=, pp + 4096);

    /* Orientation 6 on the JPEG needs the whole picture, and the plan says so. */
    size_t len;
    uint8_t *rot = tu_jpeg_with_exif(jpg.data, jpg.len, 6, 0, &len);
    size_t pr = measure_reader(rot, len);
    CHECK_INT(pr, >=, (size_t)w * h * 3);
    free(rot);
    /* Orientation 2 (a mirror) still streams. */
    rot = tu_jpeg_with_exif(jpg.data, jpg.len, 2, 1, &len);
    CHECK_INT(measure_reader(rot, len), <, 300 * 1024); /* libexif's parse included */
    free(rot);

    toon_free(png2.data);
    free(tall);
    toon_free(png.data);
    toon_free(jpg.data);
    free(rgb);
}

static void test_plans_cover_peaks(void)
{
    int w = 301, h = 203;
    size_t n = (size_t)w * h, len;
    uint8_t *rgb = malloc(n * 3);
    tu_photo(rgb, w, h, 23);
    uint8_t *rgba = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)i;
    }
    uint8_t tiff[26];
    size_t tn = tu_tiff_orientation(tiff, 8, 0);

    uint8_t *p = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 1, NULL, NULL,
                            tiff, tn, &len);
    measure_reader(p, len);
    free(p);
    p = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 0, NULL, NULL, NULL, 0,
                   &len);
    measure_reader(p, len);
    free(p);
    p = jpeg_custom(rgb, w, h, 3, JCS_RGB, 1, &len);
    measure_reader(p, len);
    free(p);

    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    for (int i = 0; i < 3; i++) {
        struct toon_membuf mb = tu_encode(rgb, w, h, fmts[i], 0);
        measure_reader(mb.data, mb.len);
        if (fmts[i] == TOON_FORMAT_WEBP) {
            p = tu_webp_vp8x(mb.data, mb.len, (uint32_t)w, (uint32_t)h, tiff, tn, &len);
            measure_reader(p, len);
            free(p);
        }
        toon_free(mb.data);

        /* The writer's plan covers its peak too (the sink's buffer is the caller's). */
        struct toon_membuf out = {0};
        out.data = toon_malloc(4u << 20);
        out.cap = 4u << 20;
        size_t base = toon_alloc_current();
        toon_alloc_reset_peak();
        struct toon_imgwriter *wr = NULL;
        struct toon_err err = {{0}};
        CHECK_OK(toon_imgwriter_open(fmts[i], 0, w, h, toon_write_membuf, &out, &wr, &err));
        for (int y = 0; y < h; y++)
            CHECK_OK(toon_imgwriter_write(wr, rgb + (size_t)y * w * 3, 1, &err));
        CHECK_OK(toon_imgwriter_finish(wr, &err));
        toon_imgwriter_free(wr);
        size_t peak = toon_alloc_peak() - base;
        CHECK_INT(toon_imgwriter_plan_bytes(fmts[i], w, h), >=, peak);
        CHECK_EQ(toon_alloc_current(), base);
        toon_free(out.data);
    }
    free(rgba);
    free(rgb);
}

/* ---- fault injection --------------------------------------------------------------------- */

/* For n = 1, 2, ... the n-th allocation fails: the decode reports NO_MEMORY and leaks nothing,
 * until n passes the number of allocations and it succeeds. */
static void check_decode_faults(const uint8_t *data, size_t len, const char *what)
{
    size_t base = toon_alloc_current();
    int n;
    for (n = 1; n < 5000; n++) {
        struct toon_image img;
        struct toon_err err = {{0}};
        toon_alloc_fail_after(n);
        enum toon_status st = toon_image_decode(data, len, NULL, &img, &err);
        toon_alloc_fail_after(0);
        if (st == TOON_STATUS_OK) {
            toon_image_free(&img);
            break;
        }
        if (st != TOON_STATUS_NO_MEMORY)
            TEST_FAIL_("%s, allocation %d failing: %s (%s)", what, n, toon_status_str(st), err.msg);
        check_one_line(err.msg);
        if (toon_alloc_current() != base)
            TEST_FAIL_("%s, allocation %d failing: leaked %zu bytes", what, n,
                       toon_alloc_current() - base);
    }
    CHECK_INT(n, >, 1);
    CHECK_INT(n, <, 5000);
}

static void check_encode_faults(const uint8_t *rgb, int w, int h, enum toon_format fmt)
{
    size_t base = toon_alloc_current();
    int n;
    struct toon_image img = {w, h, 3, (size_t)w * 3, (uint8_t *)(uintptr_t)rgb};
    for (n = 1; n < 5000; n++) {
        struct toon_membuf mb = {0};
        struct toon_err err = {{0}};
        toon_alloc_fail_after(n);
        enum toon_status st = toon_image_encode(&img, fmt, 0, toon_write_membuf, &mb, &err);
        toon_alloc_fail_after(0);
        toon_free(mb.data);
        if (st == TOON_STATUS_OK) break;
        /* The membuf sink reports its own failure as NO_MEMORY too. */
        if (st != TOON_STATUS_NO_MEMORY)
            TEST_FAIL_("%s, allocation %d failing: %s (%s)", toon_format_name(fmt), n,
                       toon_status_str(st), err.msg);
        CHECK_EQ(toon_alloc_current(), base);
    }
    CHECK_INT(n, >, 1);
    CHECK_INT(n, <, 5000);
}

static void test_fault_injection(void)
{
    int w = 37, h = 29;
    size_t n = (size_t)w * h, len;
    uint8_t *rgb = malloc(n * 3);
    tu_photo(rgb, w, h, 29);
    uint8_t *rgba = malloc(n * 4);
    for (size_t i = 0; i < n; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 3);
    }
    uint8_t tiff[26];
    size_t tn = tu_tiff_orientation(tiff, 6, 1);

    struct toon_membuf jpg = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 0);
    check_decode_faults(jpg.data, jpg.len, "JPEG");
    uint8_t *p = tu_jpeg_with_exif(jpg.data, jpg.len, 6, 0, &len);
    check_decode_faults(p, len, "JPEG with EXIF");
    free(p);
    toon_free(jpg.data);

    p = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 0, NULL, NULL, tiff, tn,
                   &len);
    check_decode_faults(p, len, "PNG RGBA with eXIf");
    free(p);
    p = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 1, NULL, NULL, NULL, 0,
                   &len);
    check_decode_faults(p, len, "interlaced PNG");
    free(p);

    struct toon_membuf webp = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 0);
    check_decode_faults(webp.data, webp.len, "WebP");
    p = tu_webp_vp8x(webp.data, webp.len, (uint32_t)w, (uint32_t)h, tiff, tn, &len);
    check_decode_faults(p, len, "WebP with EXIF");
    free(p);
    toon_free(webp.data);

    check_encode_faults(rgb, w, h, TOON_FORMAT_JPEG);
    check_encode_faults(rgb, w, h, TOON_FORMAT_PNG);
    check_encode_faults(rgb, w, h, TOON_FORMAT_WEBP);
    free(rgba);
    free(rgb);
}

/* ---- writer and reader API errors -------------------------------------------------------- */

static enum toon_status failing_sink(void *ctx, const void *data, size_t n)
{
    (void)data;
    size_t *budget = ctx;
    if (n > *budget) return TOON_STATUS_IO;
    *budget -= n;
    return TOON_STATUS_OK;
}

static void test_writer_errors(void)
{
    int w = 300, h = 200;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 31);
    struct toon_image img = {w, h, 3, (size_t)w * 3, rgb};
    size_t base = toon_alloc_current();
    enum toon_format fmts[3] = {TOON_FORMAT_JPEG, TOON_FORMAT_PNG, TOON_FORMAT_WEBP};
    for (int i = 0; i < 3; i++) {
        size_t budget = 100; /* the sink fails after 100 bytes */
        struct toon_err err = {{0}};
        CHECK_EQ(toon_image_encode(&img, fmts[i], 0, failing_sink, &budget, &err), TOON_STATUS_IO);
        check_one_line(err.msg);
        CHECK_EQ(toon_alloc_current(), base);

        struct toon_imgwriter *wr = NULL;
        struct toon_membuf mb = {0};
        CHECK_OK(toon_imgwriter_open(fmts[i], 0, w, h, toon_write_membuf, &mb, &wr, &err));
        CHECK_OK(toon_imgwriter_write(wr, rgb, 10, &err));
        CHECK_EQ(toon_imgwriter_finish(wr, &err), TOON_STATUS_INVALID_ARGUMENT);
        CHECK_EQ(toon_imgwriter_write(wr, rgb, h, &err), TOON_STATUS_INVALID_ARGUMENT);
        toon_imgwriter_free(wr);
        toon_free(mb.data);
        CHECK_EQ(toon_alloc_current(), base);
    }
    struct toon_imgwriter *wr = NULL;
    struct toon_membuf mb = {0};
    struct toon_err err = {{0}};
    CHECK_EQ(toon_imgwriter_open(TOON_FORMAT_WEBP, 0, 20000, 10, toon_write_membuf, &mb, &wr, &err),
             TOON_STATUS_TOO_LARGE);
    CHECK_EQ(toon_imgwriter_open(TOON_FORMAT_JPEG, 101, 10, 10, toon_write_membuf, &mb, &wr, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_imgwriter_open(TOON_FORMAT_UNKNOWN, 0, 10, 10, toon_write_membuf, &mb, &wr, &err),
             TOON_STATUS_UNSUPPORTED);
    CHECK_EQ(toon_imgwriter_open(TOON_FORMAT_PNG, 0, 0, 10, toon_write_membuf, &mb, &wr, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK(wr == NULL);

    /* toon_write_file */
    char path[512];
    snprintf(path, sizeof path, "%s/out.png", test_tmp_dir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK_OK(toon_image_encode(&img, TOON_FORMAT_PNG, 0, toon_write_file, f, &err));
    fclose(f);
    size_t len;
    uint8_t *data = test_read_file(path, &len);
    struct toon_image back = decode_ok(data, len);
    CHECK(memcmp(back.data, rgb, (size_t)w * h * 3) == 0);
    toon_image_free(&back);
    free(data);
    remove(path);
    free(rgb);
}

/* ---- WebP lossless ----------------------------------------------------------------------- */

static void test_webp_lossless(void)
{
    int w = 45, h = 31;
    size_t n = (size_t)w * h;
    uint8_t *rgb = malloc(n * 3), *rgba = malloc(n * 4);
    tu_photo(rgb, w, h, 37);
    for (size_t i = 0; i < n; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 7);
    }
    uint8_t *out = NULL;
    size_t len = WebPEncodeLosslessRGB(rgb, w, h, w * 3, &out);
    CHECK(len > 0);
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(out, len, &info, &err));
    CHECK_EQ(info.channels, 4); /* a lossless (ARGB) stream */
    struct toon_image img = decode_ok(out, len);
    CHECK(memcmp(img.data, rgb, n * 3) == 0);
    toon_image_free(&img);
    WebPFree(out);

    uint8_t *expect = malloc(n * 3);
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++)
            expect[3 * i + k] = onto_white(rgba[4 * i + k], rgba[4 * i + 3]);
    len = WebPEncodeLosslessRGBA(rgba, w, h, w * 4, &out);
    img = decode_ok(out, len);
    CHECK(memcmp(img.data, expect, n * 3) == 0);
    toon_image_free(&img);
    WebPFree(out);

    /* Lossy with a losslessly compressed alpha plane (an ALPH chunk). */
    len = WebPEncodeRGBA(rgba, w, h, w * 4, 95, &out);
    CHECK_OK(toon_image_probe(out, len, &info, &err));
    CHECK_EQ(info.channels, 4);
    img = decode_ok(out, len);
    CHECK_INT(tu_psnr(img.data, expect, n * 3), >, 28);
    toon_image_free(&img);
    WebPFree(out);
    free(expect);
    free(rgba);
    free(rgb);
}

/* Bits written least significant first, as VP8L reads them. */
struct bitwriter {
    uint8_t buf[256];
    size_t nbits;
};

static void put_bits(struct bitwriter *b, uint32_t v, int n)
{
    for (int i = 0; i < n; i++, b->nbits++)
        if (v >> i & 1) b->buf[b->nbits >> 3] |= (uint8_t)(1u << (b->nbits & 7));
}

/* A prefix code with one 8-bit symbol (decoded with zero bits). */
static void put_single_code(struct bitwriter *b, int symbol)
{
    put_bits(b, 1, 1); /* simple code */
    put_bits(b, 0, 1); /* one symbol */
    put_bits(b, 1, 1); /* 8-bit symbol */
    put_bits(b, (uint32_t)symbol, 8);
}

/* A lossless WebP whose entropy image names Huffman group `group` for every tile: libwebp 1.2
 * would allocate about 20 KB of tables per group before reading any of them. */
static uint8_t *webp_group_bomb(int w, int h, int group, size_t *len)
{
    struct bitwriter b = {{0}, 0};
    put_bits(&b, 0x2f, 8);
    put_bits(&b, (uint32_t)w - 1, 14);
    put_bits(&b, (uint32_t)h - 1, 14);
    put_bits(&b, 0, 1);                       /* no alpha */
    put_bits(&b, 0, 3);                       /* version */
    put_bits(&b, 0, 1);                       /* no transform */
    put_bits(&b, 0, 1);                       /* no colour cache */
    put_bits(&b, 1, 1);                       /* meta prefix codes */
    put_bits(&b, 0, 3);                       /* 4x4 tiles */
    put_bits(&b, 0, 1);                       /* the entropy image: no colour cache */
    put_single_code(&b, group & 0xff);        /* green: low byte of the group */
    put_single_code(&b, (group >> 8) & 0xff); /* red: high byte */
    put_single_code(&b, 0);                   /* blue */
    put_single_code(&b, 0);                   /* alpha */
    put_single_code(&b, 0);                   /* distance */
    size_t body = (b.nbits + 7) / 8 + 64;     /* and some bytes where the codes would go */
    uint8_t *d = calloc(1, 20 + body + 1);
    memcpy(d, "RIFF", 4);
    tu_put_le32(d + 4, (uint32_t)(12 + body + (body & 1)));
    memcpy(d + 8, "WEBPVP8L", 8);
    tu_put_le32(d + 16, (uint32_t)body);
    memcpy(d + 20, b.buf, (b.nbits + 7) / 8);
    *len = 20 + body + (body & 1);
    return d;
}

static void test_webp_huffman_bomb(void)
{
    size_t len;
    uint8_t *d = webp_group_bomb(1024, 1024, 60000, &len);
    size_t base = toon_alloc_current();
    toon_alloc_reset_peak();
    struct toon_image img;
    struct toon_err err = {{0}};
    CHECK_EQ(toon_image_decode(d, len, NULL, &img, &err), TOON_STATUS_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "uses 60001 Huffman groups");
    CHECK_INT(toon_alloc_peak() - base, <, 512 * 1024);
    CHECK_EQ(toon_alloc_current(), base);
    free(d);
    /* Within the allowance the file goes on to libwebp, which finds it incomplete. */
    d = webp_group_bomb(1024, 1024, 100, &len);
    CHECK_EQ(toon_image_decode(d, len, NULL, &img, &err), TOON_STATUS_CORRUPT);
    check_one_line(err.msg);
    free(d);
}

/* ---- fuzz seeds -------------------------------------------------------------------------- */

static void write_seed(const char *dir, const char *sub, const char *name, const uint8_t *data,
                       size_t len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(data, 1, len, f) == len);
    fclose(f);
    CHECK_INT(len, <, 20000);
}

/* Writes the seed corpora of fuzz/fuzz_decode_*.c into $TOON_IMAGE_CORPUS_DIR (normally
 * fuzz/corpus); without the variable this test does nothing. */
static void test_write_fuzz_corpus(void)
{
    const char *dir = getenv("TOON_IMAGE_CORPUS_DIR");
    if (!dir || !*dir) return;
    int w = 24, h = 16;
    size_t n = (size_t)w * h, len;
    uint8_t rgb[24 * 16 * 3], rgba[24 * 16 * 4], g[24 * 16], cmyk[24 * 16 * 4];
    tu_photo(rgb, w, h, 3);
    for (size_t i = 0; i < n; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i * 5);
        g[i] = rgb[3 * i];
        memcpy(cmyk + 4 * i, rgb + 3 * i, 3);
        cmyk[4 * i + 3] = 200;
    }
    uint8_t tiff[26];
    size_t tn = tu_tiff_orientation(tiff, 6, 0);

    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 50);
    write_seed(dir, "decode_jpeg", "baseline.jpg", mb.data, mb.len);
    uint8_t *p = tu_jpeg_with_exif(mb.data, mb.len, 6, 1, &len);
    write_seed(dir, "decode_jpeg", "exif6.jpg", p, len);
    free(p);
    toon_free(mb.data);
    p = jpeg_custom(rgb, w, h, 3, JCS_RGB, 1, &len);
    write_seed(dir, "decode_jpeg", "progressive.jpg", p, len);
    free(p);
    p = jpeg_custom(g, w, h, 1, JCS_GRAYSCALE, 0, &len);
    write_seed(dir, "decode_jpeg", "grey.jpg", p, len);
    free(p);
    p = jpeg_custom(cmyk, w, h, 4, JCS_CMYK, 1, &len);
    write_seed(dir, "decode_jpeg", "cmyk_progressive.jpg", p, len);
    free(p);

    mb = tu_encode(rgb, w, h, TOON_FORMAT_PNG, 0);
    write_seed(dir, "decode_png", "rgb.png", mb.data, mb.len);
    toon_free(mb.data);
    p = png_custom(rgba, n * 4, w, h, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 8, 1, NULL, NULL, tiff, tn,
                   &len);
    write_seed(dir, "decode_png", "rgba_interlaced_exif.png", p, len);
    free(p);
    uint16_t g16[24 * 16 * 2];
    for (size_t i = 0; i < n * 2; i++) g16[i] = (uint16_t)(i * 311);
    p = png_custom(g16, n * 4, w, h, SPNG_COLOR_TYPE_GRAYSCALE_ALPHA, 16, 0, NULL, NULL, NULL, 0,
                   &len);
    write_seed(dir, "decode_png", "grey_alpha16.png", p, len);
    free(p);
    struct spng_plte plte = {0};
    plte.n_entries = 4;
    for (int i = 0; i < 4; i++) plte.entries[i].red = (uint8_t)(60 * i);
    struct spng_trns trns = {0};
    trns.n_type3_entries = 2;
    trns.type3_alpha[0] = 10;
    uint8_t idx[24 * 16 / 4];
    for (size_t i = 0; i < sizeof idx; i++) idx[i] = (uint8_t)(i * 37);
    p = png_custom(idx, sizeof idx, w, h, SPNG_COLOR_TYPE_INDEXED, 2, 0, &plte, &trns, NULL, 0,
                   &len);
    write_seed(dir, "decode_png", "palette2_trns.png", p, len);
    free(p);

    mb = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 50);
    write_seed(dir, "decode_webp", "lossy.webp", mb.data, mb.len);
    p = tu_webp_vp8x(mb.data, mb.len, (uint32_t)w, (uint32_t)h, tiff, tn, &len);
    write_seed(dir, "decode_webp", "lossy_exif.webp", p, len);
    free(p);
    toon_free(mb.data);
    uint8_t *out = NULL;
    len = WebPEncodeLosslessRGBA(rgba, w, h, w * 4, &out);
    write_seed(dir, "decode_webp", "lossless_alpha.webp", out, len);
    WebPFree(out);
    len = WebPEncodeRGBA(rgba, w, h, w * 4, 60, &out);
    write_seed(dir, "decode_webp", "lossy_alpha.webp", out, len);
    WebPFree(out);
    p = webp_group_bomb(64, 64, 300, &len);
    write_seed(dir, "decode_webp", "huffman_groups.webp", p, len);
    free(p);
    /* Issue 15: libwebp decodes the last of two ALPH chunks and the first of two pictures; the
     * pre-scan checked the first ALPH chunk, and the lossless picture's stream only. */
    p = tw_webp_two_alph(1024, 1024, &len);
    write_seed(dir, "decode_webp", "two_alph_groups.webp", p, len);
    free(p);
    p = tw_webp_two_images(1024, 1024, &len);
    write_seed(dir, "decode_webp", "two_images_groups.webp", p, len);
    free(p);
}

static const struct test_case tests[] = {
    {"names_and_sniff", test_names_and_sniff},
    {"roundtrip_each_format", test_roundtrip_each_format},
    {"streaming_chunks", test_streaming_chunks},
    {"png_flavours", test_png_flavours},
    {"jpeg_flavours", test_jpeg_flavours},
    {"exif_orientation_jpeg", test_exif_orientation_jpeg},
    {"exif_orientation_png_webp", test_exif_orientation_png_webp},
    {"astronaut", test_astronaut},
    {"truncated_files", test_truncated_files},
    {"byte_flips", test_byte_flips},
    {"oversized_headers", test_oversized_headers},
    {"png_bomb", test_png_bomb},
    {"streaming_reader_memory", test_streaming_reader_memory},
    {"plans_cover_peaks", test_plans_cover_peaks},
    {"fault_injection", test_fault_injection},
    {"writer_errors", test_writer_errors},
    {"webp_lossless", test_webp_lossless},
    {"webp_huffman_bomb", test_webp_huffman_bomb},
    {"write_fuzz_corpus", test_write_fuzz_corpus},
};
TEST_MAIN(tests)
