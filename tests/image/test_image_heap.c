/*
 * The codecs' plan_bytes against everything they really allocate.  libjpeg and libwebp call
 * malloc directly, so the counting allocator cannot see them; this test measures the whole
 * process heap with the heap meter (tests/heap_meter.h) and checks that its peak during a decode
 * or an encode stays below the plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <spng.h>
#include <webp/encode.h>

#include "core/alloc.h"
#include "heap_meter.h"
#include "image/codec.h"
#include "image_testutil.h"
#include "test.h"
#include "webp_forge.h"

/* ---- measured operations ----------------------------------------------------------------- */

static void check_decode(const uint8_t *data, size_t len, const char *what)
{
    struct toon_image_info info;
    struct toon_err err = {{0}};
    CHECK_OK(toon_image_probe(data, len, &info, &err));
    size_t plan = toon_imgreader_plan_bytes(&info);
    size_t start = toon_heap_meter_start();
    struct toon_imgreader *r = NULL;
    CHECK_OK(toon_imgreader_open(data, len, NULL, &r, &err));
    uint8_t row[3 * 4096];
    CHECK(info.w <= 4096);
    for (int y = 0; y < info.h; y++) CHECK_OK(toon_imgreader_read(r, row, 1, &err));
    toon_imgreader_free(r);
    size_t peak = toon_heap_meter_peak() - start;
    fprintf(stderr, "  decode %-28s %5dx%-5d peak %9zu  plan %9zu  (%.2fx)\n", what, info.w, info.h,
            peak, plan, (double)plan / (double)(peak ? peak : 1));
    if (peak > plan) TEST_FAIL_("%s: heap peak %zu > plan %zu", what, peak, plan);
}

static enum toon_status null_sink(void *ctx, const void *data, size_t n)
{
    (void)ctx;
    (void)data;
    (void)n;
    return TOON_STATUS_OK;
}

static void check_encode(const uint8_t *rgb, int w, int h, enum toon_format fmt)
{
    size_t plan = toon_imgwriter_plan_bytes(fmt, w, h);
    size_t start = toon_heap_meter_start();
    struct toon_imgwriter *wr = NULL;
    struct toon_err err = {{0}};
    CHECK_OK(toon_imgwriter_open(fmt, 0, w, h, null_sink, NULL, &wr, &err));
    for (int y = 0; y < h; y++)
        CHECK_OK(toon_imgwriter_write(wr, rgb + (size_t)y * w * 3, 1, &err));
    CHECK_OK(toon_imgwriter_finish(wr, &err));
    toon_imgwriter_free(wr);
    size_t peak = toon_heap_meter_peak() - start;
    fprintf(stderr, "  encode %-28s %5dx%-5d peak %9zu  plan %9zu  (%.2fx)\n",
            toon_format_name(fmt), w, h, peak, plan, (double)plan / (double)(peak ? peak : 1));
    if (peak > plan)
        TEST_FAIL_("%s encoder: heap peak %zu > plan %zu", toon_format_name(fmt), peak, plan);
}

/* A JPEG with chosen sampling factors per component and optional progression. */
static uint8_t *jpeg_sampled(const uint8_t *px, int w, int h, int comps, J_COLOR_SPACE cs,
                             const int (*samp)[2], int progressive, size_t *len)
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
    jpeg_set_quality(&c, 90, TRUE);
    if (samp)
        for (int i = 0; i < comps; i++) {
            c.comp_info[i].h_samp_factor = samp[i][0];
            c.comp_info[i].v_samp_factor = samp[i][1];
        }
    if (progressive) jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    uint8_t *row = malloc((size_t)w * comps);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w * comps; x++)
            row[x] = px[((size_t)y * w * 3 + (size_t)x) % ((size_t)w * h * 3)];
        JSAMPROW rp = row;
        jpeg_write_scanlines(&c, &rp, 1);
    }
    free(row);
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *len = size;
    return buf;
}

static void test_jpeg_heap(void)
{
    int w = 2048, h = 1536;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 41);
    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_JPEG, 0);
    check_decode(mb.data, mb.len, "baseline 4:2:0");
    size_t len;
    uint8_t *p = tu_jpeg_with_exif(mb.data, mb.len, 6, 0, &len);
    check_decode(p, len, "baseline, orientation 6");
    free(p);
    toon_free(mb.data);

    static const int s444[3][2] = {{1, 1}, {1, 1}, {1, 1}};
    /* libjpeg allows at most 10 blocks per interleaved MCU. */
    static const int s41[3][2] = {{4, 2}, {1, 1}, {1, 1}};
    static const int s14[3][2] = {{1, 4}, {1, 1}, {1, 1}};
    static const int s44[4][2] = {{2, 2}, {1, 1}, {1, 1}, {2, 2}};
    static const int s4x4[1][2] = {{4, 4}};
    int pw = 1536, ph = 1024;
    p = jpeg_sampled(rgb, pw, ph, 3, JCS_RGB, NULL, 1, &len);
    check_decode(p, len, "progressive 4:2:0");
    free(p);
    p = jpeg_sampled(rgb, pw, ph, 3, JCS_RGB, s444, 1, &len);
    check_decode(p, len, "progressive 4:4:4");
    free(p);
    p = jpeg_sampled(rgb, pw, ph, 3, JCS_RGB, s41, 0, &len);
    check_decode(p, len, "baseline 4x1");
    free(p);
    p = jpeg_sampled(rgb, pw, ph, 3, JCS_RGB, s14, 1, &len);
    check_decode(p, len, "progressive 1x4");
    free(p);
    p = jpeg_sampled(rgb, pw, ph, 4, JCS_CMYK, s44, 1, &len);
    check_decode(p, len, "progressive CMYK 2x2");
    free(p);
    p = jpeg_sampled(rgb, 4000, 24, 4, JCS_CMYK, s44, 0, &len);
    check_decode(p, len, "baseline CMYK 2x2, wide");
    free(p);
    p = jpeg_sampled(rgb, pw, ph, 1, JCS_GRAYSCALE, NULL, 1, &len);
    check_decode(p, len, "progressive grey");
    free(p);
    p = jpeg_sampled(rgb, 4000, 40, 1, JCS_GRAYSCALE, s4x4, 0, &len);
    check_decode(p, len, "baseline grey 4x4, wide");
    free(p);
    p = jpeg_sampled(rgb, 4000, 40, 3, JCS_RGB, s444, 0, &len);
    check_decode(p, len, "baseline 4:4:4, wide");
    free(p);
    p = jpeg_sampled(rgb, 4000, 40, 3, JCS_RGB, s14, 0, &len);
    check_decode(p, len, "baseline 1x4, wide");
    free(p);
    p = jpeg_sampled(rgb, 17, 9, 4, JCS_CMYK, s44, 1, &len);
    check_decode(p, len, "progressive CMYK 2x2, tiny");
    free(p);

    check_encode(rgb, w, h, TOON_FORMAT_JPEG);
    check_encode(rgb, 37, 5, TOON_FORMAT_JPEG);
    free(rgb);
}

static void test_png_heap(void)
{
    int w = 2048, h = 1200;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 43);
    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_PNG, 0);
    check_decode(mb.data, mb.len, "RGB");
    toon_free(mb.data);

    /* RGBA 16-bit interlaced: spng's widest rows and a whole-image buffer. */
    int iw = 700, ih = 500;
    uint16_t *px = malloc((size_t)iw * ih * 8);
    for (size_t i = 0; i < (size_t)iw * ih * 4; i++)
        px[i] = (uint16_t)(rgb[i % ((size_t)w * h * 3)] * 257);
    spng_ctx *ctx = spng_ctx_new(SPNG_CTX_ENCODER);
    spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1);
    struct spng_ihdr ihdr = {
        (uint32_t)iw, (uint32_t)ih, 16, SPNG_COLOR_TYPE_TRUECOLOR_ALPHA, 0, 0, 1};
    spng_set_ihdr(ctx, &ihdr);
    CHECK_EQ(spng_encode_image(ctx, px, (size_t)iw * ih * 8, SPNG_FMT_PNG, SPNG_ENCODE_FINALIZE),
             0);
    size_t len;
    int error;
    uint8_t *png = spng_get_png_buffer(ctx, &len, &error);
    spng_ctx_free(ctx);
    free(px);
    check_decode(png, len, "RGBA16 interlaced");
    free(png);

    check_encode(rgb, w, h, TOON_FORMAT_PNG);
    check_encode(rgb, 5, 3, TOON_FORMAT_PNG);
    free(rgb);
}

static void test_webp_heap(void)
{
    int w = 1600, h = 1200;
    uint8_t *rgb = malloc((size_t)w * h * 3);
    tu_photo(rgb, w, h, 47);
    struct toon_membuf mb = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 0);
    check_decode(mb.data, mb.len, "lossy");
    toon_free(mb.data);

    int aw = 800, ah = 600;
    uint8_t *rgba = malloc((size_t)aw * ah * 4);
    for (size_t i = 0; i < (size_t)aw * ah; i++) {
        memcpy(rgba + 4 * i, rgb + 3 * i, 3);
        rgba[4 * i + 3] = (uint8_t)(i / 7);
    }
    uint8_t *out = NULL;
    size_t len = WebPEncodeRGBA(rgba, aw, ah, aw * 4, 90, &out);
    CHECK(len > 0);
    check_decode(out, len, "lossy + alpha");
    WebPFree(out);
    len = WebPEncodeLosslessRGBA(rgba, aw, ah, aw * 4, &out);
    CHECK(len > 0);
    check_decode(out, len, "lossless + alpha");
    WebPFree(out);
    len = WebPEncodeLosslessRGB(rgb, aw, ah, aw * 3, &out);
    CHECK(len > 0);
    check_decode(out, len, "lossless");
    WebPFree(out);
    free(rgba);

    check_encode(rgb, w, h, TOON_FORMAT_WEBP);
    check_encode(rgb, 9, 7, TOON_FORMAT_WEBP);

    /* Pure noise: the most tokens for the lossy encoder, the biggest codes for lossless. */
    unsigned s = 99;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        s = s * 1103515245u + 12345u;
        rgb[i] = (uint8_t)(s >> 16);
    }
    check_encode(rgb, w, h, TOON_FORMAT_WEBP);
    mb = tu_encode(rgb, w, h, TOON_FORMAT_WEBP, 100);
    check_decode(mb.data, mb.len, "lossy noise q100");
    toon_free(mb.data);
    len = WebPEncodeLosslessRGB(rgb, aw, ah, aw * 3, &out);
    CHECK(len > 0);
    check_decode(out, len, "lossless noise");
    WebPFree(out);
    check_encode(rgb, w, h, TOON_FORMAT_JPEG);
    check_encode(rgb, w, h, TOON_FORMAT_PNG);
    free(rgb);
}

/* A hostile file must be refused (`status`, a message naming `needle`) with its heap within the
 * plan whenever the probe accepted it, and small. */
static void check_refused(const uint8_t *d, size_t len, const char *what, enum toon_status status,
                          const char *needle)
{
    struct toon_image_info info;
    struct toon_err err = {{0}};
    enum toon_status probed = toon_image_probe(d, len, &info, &err);
    size_t plan = probed == TOON_STATUS_OK ? toon_imgreader_plan_bytes(&info) : 0;
    size_t start = toon_heap_meter_start();
    struct toon_imgreader *r = NULL;
    enum toon_status st = toon_imgreader_open(d, len, NULL, &r, &err);
    toon_imgreader_free(r);
    size_t peak = toon_heap_meter_peak() - start;
    fprintf(stderr, "  decode %s: %s (%s), peak %zu, plan %zu\n", what, toon_status_str(st),
            err.msg, peak, plan);
    if (probed == TOON_STATUS_OK && peak > plan)
        TEST_FAIL_("%s: heap peak %zu > plan %zu", what, peak, plan);
    CHECK_EQ(probed, status);
    CHECK_EQ(st, status);
    CHECK_STR_CONTAINS(err.msg, needle);
    CHECK_INT(peak, <, 256 * 1024); /* refused before anything sized by the picture exists */
}

/* Issue 15: a lossy WebP with two ALPH chunks, the first raw (compression method 0), the second
 * lossless and naming 4096 Huffman groups.  The pre-scan used to check only the first, while
 * libwebp decodes the last one before the picture and allocated 87 MB of Huffman tables under a
 * plan of 16 MB. */
static void test_webp_two_alph(void)
{
    size_t len;
    uint8_t *d = tw_webp_two_alph(1024, 1024, &len);
    check_refused(d, len, "two ALPH chunks, 1024x1024", TOON_STATUS_CORRUPT, "2 ALPH chunks");
    free(d);
}

/* The same ALPH chunk, alone, with a lossy picture and then a lossless one: the pre-scan checked
 * the lossless stream and skipped the ALPH, libwebp decoded the lossy picture and its alpha. */
static void test_webp_two_images(void)
{
    size_t len;
    uint8_t *d = tw_webp_two_images(1024, 1024, &len);
    check_refused(d, len, "VP8 and VP8L chunks, 1024x1024", TOON_STATUS_CORRUPT, "2 image chunks");
    free(d);
}

static void test_meter_active(void)
{
    CHECK(toon_heap_meter_active());
}

static const struct test_case tests[] = {
    {"meter_active", test_meter_active},   {"jpeg_heap", test_jpeg_heap},
    {"png_heap", test_png_heap},           {"webp_heap", test_webp_heap},
    {"webp_two_alph", test_webp_two_alph}, {"webp_two_images", test_webp_two_images},
};
TEST_MAIN(tests)
