/*
 * Tests of the protobuf reader (src/formats/protobuf.c), the GraphDef generator reader
 * (graphdef.c) and SHA-256 (sha256.c).
 *
 * We have no official DCT-Net .pb, so the graphs are written here by pbwrite.c, laid out like
 * the ModelScope exporter's, from the weights of the shared White-box TFLite file as read by the
 * TFLite reader: reading them back must give the same weights bit for bit (fp32) or after fp16
 * rounding (fp16 variant), whatever the encoding, prefix or op spelling.  Truncated and mutated
 * graphs must fail cleanly with a one-line message, graphs of the wrong kind must be named,
 * allocation failures must not leak.
 */
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "formats/graphdef.h"
#include "formats/protobuf.h"
#include "formats/sha256.h"
#include "formats/tflite.h"
#include "pbwrite.h"
#include "test.h"

/* ---- helpers ----------------------------------------------------------------------------------
 */

/* The reference weights: the shared fp16 White-box file through the TFLite reader. */
static void load_reference(struct toon_gen_weights *gw)
{
    size_t len;
    /* A missing shared model is a failure: test_read_file aborts the test. */
    unsigned char *buf = test_read_file(test_model_path("whitebox_cartoon_gan_fp16.tflite"), &len);
    struct toon_err err = {{0}};
    enum toon_status st = toon_tflite_read_generator(buf, len, gw, &err);
    free(buf);
    if (st != TOON_STATUS_OK) TEST_FAIL_("reading the TFLite reference: %s", err.msg);
}

static void write_graph(const struct toon_gen_weights *gw, const struct pbw_gen_opts *o,
                        struct pbw_buf *out)
{
    if (pbw_write_generator(gw, o, out) != 0) TEST_FAIL_("pbw_write_generator: out of memory");
}

static float fp16_round(float v)
{
    return toon_graphdef_half_to_float(pbw_float_to_half(v));
}

/* Checks that `got` holds the reference weights (exactly, or after fp16 rounding). */
static void check_same_weights(const struct toon_gen_weights *ref,
                               const struct toon_gen_weights *got, int fp16)
{
    for (int l = 0; l < TOON_GEN_N_CONV; l++) {
        const struct toon_gen_conv *a = &ref->conv[l], *b = &got->conv[l];
        CHECK_EQ(b->k, a->k);
        CHECK_EQ(b->stride, a->stride);
        CHECK_EQ(b->cin, a->cin);
        CHECK_EQ(b->cout, a->cout);
        size_t n = (size_t)a->k * a->k * a->cin * a->cout;
        for (size_t i = 0; i < n; i++) {
            float want = fp16 ? fp16_round(a->w[i]) : a->w[i];
            if (memcmp(&want, &b->w[i], 4) != 0)
                TEST_FAIL_("layer %d weight %zu: %.9g vs %.9g", l, i, (double)want,
                           (double)b->w[i]);
        }
        for (int i = 0; i < a->cout; i++) {
            float want = fp16 ? fp16_round(a->b[i]) : a->b[i];
            if (memcmp(&want, &b->b[i], 4) != 0)
                TEST_FAIL_("layer %d bias %d: %.9g vs %.9g", l, i, (double)want, (double)b->b[i]);
        }
    }
}

static void check_one_line(const struct toon_err *err)
{
    CHECK(err->msg[0] != '\0');
    CHECK(strchr(err->msg, '\n') == NULL);
}

/* Replaces every occurrence of `from` by `to` (same length) in a buffer. */
static int patch_all(uint8_t *data, size_t len, const char *from, const char *to)
{
    size_t n = strlen(from);
    int count = 0;
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(data + i, from, n) == 0) {
            memcpy(data + i, to, n);
            count++;
        }
    return count;
}

static uint32_t rng_state = 12345;
static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

/* Log capture, to check what the reader says about defaults. */
static char log_text[4096];
static void capture_log(enum toon_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
}

/* ---- SHA-256 ----------------------------------------------------------------------------------
 */

static void check_digest(const void *data, size_t n, const char *want)
{
    uint8_t d[32];
    char hex[65];
    toon_sha256(data, n, d);
    toon_sha256_hex(d, hex);
    if (strcmp(hex, want) != 0) TEST_FAIL_("sha256 of %zu bytes: %s, want %s", n, hex, want);
}

static void test_sha256_vectors(void)
{
    /* FIPS 180-4 examples (NIST CSRC "SHA256.pdf", "SHA2_Additional.pdf"). */
    check_digest("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_digest("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_digest(m448, strlen(m448),
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void test_sha256_long_and_incremental(void)
{
    const char *m896 = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmno"
                       "ijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_digest(m896, strlen(m896),
                 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
    /* One million 'a', fed in uneven pieces. */
    char *a = malloc(1000000);
    CHECK(a != NULL);
    memset(a, 'a', 1000000);
    check_digest(a, 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    struct toon_sha256 s;
    toon_sha256_init(&s);
    size_t done = 0, step = 1;
    while (done < 1000000) {
        size_t take = step < 1000000 - done ? step : 1000000 - done;
        toon_sha256_update(&s, a + done, take);
        done += take;
        step = step * 3 % 977 + 1;
    }
    free(a);
    uint8_t d[32];
    char hex[65];
    toon_sha256_final(&s, d);
    toon_sha256_hex(d, hex);
    CHECK(strcmp(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0") == 0);
    /* Lengths around the padding boundary (55, 56, 63, 64, 65 bytes) agree one-shot vs split. */
    uint8_t buf[130];
    for (int i = 0; i < 130; i++) buf[i] = (uint8_t)(i * 7 + 1);
    for (size_t n = 50; n < 130; n++) {
        uint8_t one[32], two[32];
        toon_sha256(buf, n, one);
        toon_sha256_init(&s);
        toon_sha256_update(&s, buf, n / 3);
        toon_sha256_update(&s, buf + n / 3, n - n / 3);
        toon_sha256_final(&s, two);
        CHECK(memcmp(one, two, 32) == 0);
    }
}

static void test_sha256_file(void)
{
    char hex[65];
    struct toon_err err = {{0}};
    CHECK_OK(toon_sha256_file(test_model_path("whitebox_cartoon_gan_fp16.tflite"), hex, &err));
    CHECK(strcmp(hex, "7ebaaf2c3e83eb8332f19b333da507aa43752d2b418df9e67808a77d8432de02") == 0);
    CHECK_EQ(toon_sha256_file("/nonexistent/file.pb", hex, &err), TOON_STATUS_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/file.pb");
}

/* ---- protobuf reader --------------------------------------------------------------------------
 */

static void test_protobuf_wire(void)
{
    struct toon_err err = {{0}};
    struct toon_pb_reader r;
    struct toon_pb_field f;
    /* field 1 varint 150, field 2 "hi", field 3 fixed32, field 4 fixed64 */
    const uint8_t msg[] = {0x08, 0x96, 0x01, 0x12, 0x02, 'h', 'i', 0x1d, 1, 2,   3,
                           4,    0x21, 1,    0,    0,    0,   0,   0,    0, 0x80};
    toon_pb_reader_init(&r, msg, sizeof msg);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(f.num, 1);
    CHECK_EQ(f.u, 150);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(f.num, 2);
    CHECK(toon_pb_bytes_eq(f.b, "hi"));
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(f.u, 0x04030201);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(f.u, 0x8000000000000001ull);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(f.num, 0);

    /* The largest varint, and overlong ones. */
    const uint8_t big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    const uint8_t *p = big;
    uint64_t v;
    CHECK(toon_pb_varint(&p, big + sizeof big, &v));
    CHECK(v == UINT64_MAX);
    const uint8_t over[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    p = over;
    CHECK(!toon_pb_varint(&p, over + sizeof over, &v));
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    p = eleven;
    CHECK(!toon_pb_varint(&p, eleven + sizeof eleven, &v));

    struct {
        const uint8_t bytes[4];
        size_t n;
        const char *msg;
    } bad[] = {
        {{0x0b, 0x0c}, 2, "groups"},        /* start group */
        {{0x0e}, 1, "wire type"},           /* wire type 6 */
        {{0x00, 0x00}, 2, "field number"},  /* field 0 */
        {{0x0a, 0x05, 'a'}, 3, "claims 5"}, /* length past the end */
        {{0x0d, 1, 2}, 3, "32-bit"},        /* truncated fixed32 */
        {{0x08, 0x80}, 2, "varint"},        /* truncated varint */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        toon_pb_reader_init(&r, bad[i].bytes, bad[i].n);
        CHECK_EQ(toon_pb_next(&r, &f, &err), TOON_STATUS_CORRUPT);
        CHECK_STR_CONTAINS(err.msg, bad[i].msg);
    }

    /* Packed and unpacked repeated values. */
    const uint8_t packed[] = {0x3a, 0x03, 0x01, 0x96, 0x01, 0x38, 0x07};
    toon_pb_reader_init(&r, packed, sizeof packed);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    size_t count, pos = 0;
    CHECK_OK(toon_pb_packed_count(&f, TOON_PB_WIRE_VARINT, &count, &err));
    CHECK_EQ(count, 2);
    CHECK(toon_pb_packed_next(&f, TOON_PB_WIRE_VARINT, &pos, &v) && v == 1);
    CHECK(toon_pb_packed_next(&f, TOON_PB_WIRE_VARINT, &pos, &v) && v == 150);
    CHECK(!toon_pb_packed_next(&f, TOON_PB_WIRE_VARINT, &pos, &v));
    CHECK_OK(toon_pb_next(&r, &f, &err));
    pos = 0;
    CHECK_OK(toon_pb_packed_count(&f, TOON_PB_WIRE_VARINT, &count, &err));
    CHECK_EQ(count, 1);
    CHECK(toon_pb_packed_next(&f, TOON_PB_WIRE_VARINT, &pos, &v) && v == 7);
    CHECK(!toon_pb_packed_next(&f, TOON_PB_WIRE_VARINT, &pos, &v));
    /* A packed fixed32 field whose size is not a multiple of 4. */
    const uint8_t odd[] = {0x2a, 0x03, 1, 2, 3};
    toon_pb_reader_init(&r, odd, sizeof odd);
    CHECK_OK(toon_pb_next(&r, &f, &err));
    CHECK_EQ(toon_pb_packed_count(&f, TOON_PB_WIRE_I32, &count, &err), TOON_STATUS_CORRUPT);
}

static void test_protobuf_depth_limit(void)
{
    /* 40 nested messages: field 1 { field 1 { ... } } */
    uint8_t buf[100];
    int depth = 40;
    size_t n = 0;
    for (int i = 0; i < depth; i++) {
        buf[n++] = 0x0a;
        buf[n++] = (uint8_t)(2 * (depth - 1 - i));
    }
    struct toon_err err = {{0}};
    struct toon_pb_reader r, sub;
    struct toon_pb_field f;
    toon_pb_reader_init(&r, buf, n);
    enum toon_status st = TOON_STATUS_OK;
    for (int i = 0; i < depth && st == TOON_STATUS_OK; i++) {
        CHECK_OK(toon_pb_next(&r, &f, &err));
        st = toon_pb_open(&r, &f, &sub, &err);
        r = sub;
    }
    CHECK_EQ(st, TOON_STATUS_CORRUPT);
    CHECK_STR_CONTAINS(err.msg, "nested deeper");
}

static void test_half_conversion(void)
{
    CHECK(toon_graphdef_half_to_float(0x3c00) == 1.0f);
    CHECK(toon_graphdef_half_to_float(0xc000) == -2.0f);
    CHECK(toon_graphdef_half_to_float(0x2f1c) == 0.111083984375f); /* fp16(1/9) */
    CHECK(toon_graphdef_half_to_float(0x0001) == 5.9604644775390625e-8f);
    CHECK(toon_graphdef_half_to_float(0x7bff) == 65504.0f);
    CHECK(isinf(toon_graphdef_half_to_float(0x7c00)));
    CHECK(isnan(toon_graphdef_half_to_float(0x7e00)));
    CHECK_EQ(pbw_float_to_half(1.0f / 9.0f), 0x2f1c);
    /* Every half value survives half -> float -> half. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff)) continue; /* NaNs */
        CHECK_EQ(pbw_float_to_half(toon_graphdef_half_to_float((uint16_t)h)), h);
    }
}

/* ---- reading generator graphs ------------------------------------------------------------------
 */

static void test_roundtrip_fp32(void)
{
    struct toon_gen_weights ref, got;
    load_reference(&ref);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    struct pbw_buf pb;
    write_graph(&ref, &o, &pb);
    struct toon_err err = {{0}};
    struct toon_graphdef_info info;
    enum toon_status st =
        toon_graphdef_read_generator_ex(pb.data, pb.len, 0, "cartoon_bg.pb", &got, &info, &err);
    pbw_buf_free(&pb);
    if (st) TEST_FAIL_("read: %s", err.msg);
    check_same_weights(&ref, &got, 0);
    CHECK(got.gf_eps == 1e-2f);
    CHECK(got.gf_box_weight == 1.0f / 9.0f);
    CHECK_EQ(got.gf_radius, 1);
    CHECK(strcmp(got.format, "graphdef") == 0);
    CHECK(strcmp(got.weight_type, "fp32") == 0);
    CHECK_EQ(got.conv[1].stride, 2);
    CHECK_EQ(got.conv[3].stride, 2);
    CHECK_EQ(got.conv[0].stride, 1);
    CHECK(strcmp(info.prefix, "model_bg/") == 0);
    CHECK(strcmp(info.input_name, "model_bg/input_image") == 0);
    CHECK(strcmp(info.output_name, "model_bg/output_image") == 0);
    CHECK(info.input_normalised && info.output_u8 && info.eps_found && info.box_found);
    CHECK_INT(info.n_nodes, >, 150);
    toon_gen_weights_free(&got);
    toon_gen_weights_free(&ref);
}

static void test_roundtrip_fp16(void)
{
    struct toon_gen_weights ref, got;
    load_reference(&ref);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    o.weight_dtype = TOON_TF_DT_HALF;
    for (int enc = 0; enc < 3; enc++) {
        /* tensor_content, then half_val, then Const -> Cast -> Conv2D without Identity */
        o.weight_enc = enc == 1 ? PBW_ENC_VALS : PBW_ENC_CONTENT;
        o.minimal = enc == 2;
        struct pbw_buf pb;
        write_graph(&ref, &o, &pb);
        struct toon_err err = {{0}};
        enum toon_status st = toon_graphdef_read_generator(pb.data, pb.len, &got, &err);
        pbw_buf_free(&pb);
        if (st) TEST_FAIL_("read (encoding %d): %s", enc, err.msg);
        check_same_weights(&ref, &got, 1);
        CHECK(strcmp(got.weight_type, "fp16") == 0);
        toon_gen_weights_free(&got);
    }
    toon_gen_weights_free(&ref);
}

/* Every spelling the writer knows reads back the same weights. */
static void test_roundtrip_variants(void)
{
    struct toon_gen_weights ref, got;
    load_reference(&ref);
    static const char *const prefixes[] = {"", "model_head/", "a/b/c/", "x/generator/"};
    for (int v = 0; v < 8; v++) {
        struct pbw_gen_opts o;
        pbw_gen_default_opts(&o);
        o.prefix = prefixes[v % 4];
        o.weight_enc = v < 4 ? PBW_ENC_VALS : PBW_ENC_VALS_UNPACKED;
        o.box_enc = v & 1 ? PBW_ENC_FILL : PBW_ENC_CONTENT;
        o.lrelu_maximum = v & 1;
        o.clip_minmax = (v >> 1) & 1;
        o.exporter_form = (v >> 2) & 1;
        o.minimal = v == 3 || v == 6; /* Conv2D reads the Const directly */
        struct pbw_buf pb;
        write_graph(&ref, &o, &pb);
        struct toon_err err = {{0}};
        struct toon_graphdef_info info;
        enum toon_status st =
            toon_graphdef_read_generator_ex(pb.data, pb.len, 0, NULL, &got, &info, &err);
        pbw_buf_free(&pb);
        if (st) TEST_FAIL_("variant %d: %s", v, err.msg);
        check_same_weights(&ref, &got, 0);
        CHECK(strcmp(info.prefix, o.prefix) == 0);
        CHECK(got.gf_eps == 1e-2f);
        CHECK(got.gf_box_weight == 1.0f / 9.0f);
        CHECK(info.input_normalised && info.output_u8);
        toon_gen_weights_free(&got);
    }
    toon_gen_weights_free(&ref);
}

static void test_guided_filter_constants(void)
{
    struct toon_gen_weights ref, got;
    load_reference(&ref);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    o.eps = 5e-3f;
    o.box = 0.111083984375f;
    struct pbw_buf pb;
    write_graph(&ref, &o, &pb);
    struct toon_err err = {{0}};
    CHECK_OK(toon_graphdef_read_generator(pb.data, pb.len, &got, &err));
    pbw_buf_free(&pb);
    CHECK(got.gf_eps == 5e-3f);
    CHECK(got.gf_box_weight == 0.111083984375f);
    toon_gen_weights_free(&got);

    /* Without a guided filter in the graph: the defaults, said in the log. */
    o.with_guided_filter = 0;
    write_graph(&ref, &o, &pb);
    log_text[0] = '\0';
    toon_log_set_callback(capture_log, NULL);
    struct toon_graphdef_info info;
    enum toon_status st =
        toon_graphdef_read_generator_ex(pb.data, pb.len, 0, "cartoon_h.pb", &got, &info, &err);
    toon_log_set_callback(NULL, NULL);
    pbw_buf_free(&pb);
    CHECK_OK(st);
    CHECK(got.gf_eps == 1e-2f);
    CHECK(got.gf_box_weight == 1.0f / 9.0f);
    CHECK(!info.eps_found && !info.box_found);
    CHECK_STR_CONTAINS(log_text, "cartoon_h.pb: no guided-filter epsilon found");
    toon_gen_weights_free(&got);
    toon_gen_weights_free(&ref);
}

static void test_wrong_graphs_named(void)
{
    struct pbw_buf pb;
    struct toon_gen_weights gw;
    struct toon_err err = {{0}};
    CHECK_EQ(pbw_write_detector_like(&pb), 0);
    CHECK_EQ(toon_graphdef_read_generator(pb.data, pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "is a face detector graph, not a generator");
    /* Through a file, the message names it. */
    char path[512];
    snprintf(path, sizeof path, "%s/detector.pb", test_tmp_dir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK_EQ(fwrite(pb.data, 1, pb.len, f), pb.len);
    fclose(f);
    pbw_buf_free(&pb);
    CHECK_EQ(toon_graphdef_read_generator_file(path, &gw, NULL, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "detector.pb is a face detector graph, not a generator");
    unlink(path);

    CHECK_EQ(pbw_write_keypoints_like(&pb), 0);
    CHECK_EQ(toon_graphdef_read_generator(pb.data, pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "face landmark (keypoints) graph");
    pbw_buf_free(&pb);

    /* Some other graph: no generator, no face model names. */
    struct pbw_node n;
    pbw_node_begin(&n, "input", "Placeholder");
    pbw_graph_add(&pb, &n);
    pbw_node_begin(&n, "output", "Identity");
    pbw_node_input(&n, "input");
    pbw_graph_add(&pb, &n);
    CHECK_EQ(toon_graphdef_read_generator(pb.data, pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg,
                       "not a DCT-Net generator graph: no node named .../generator/Conv/weights");
    pbw_buf_free(&pb);

    /* Not GraphDef at all. */
    const uint8_t saved_model[] = {0x08, 0x01, 0x12, 0x00};
    CHECK_EQ(toon_graphdef_read_generator(saved_model, sizeof saved_model, &gw, &err),
             TOON_STATUS_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "SavedModel");
    const uint8_t tflite[] = {0x1c, 0, 0, 0, 'T', 'F', 'L', '3', 0, 0};
    CHECK_EQ(toon_graphdef_read_generator(tflite, sizeof tflite, &gw, &err),
             TOON_STATUS_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "TFLite");
    CHECK_EQ(toon_graphdef_read_generator(tflite, 0, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "empty");
    const char *text = "node { name: \"a\" op: \"Const\" }";
    CHECK(toon_graphdef_read_generator((const uint8_t *)text, strlen(text), &gw, &err) != 0);
    check_one_line(&err);
    CHECK_EQ(toon_graphdef_read_generator_file("/nonexistent/cartoon_h.pb", &gw, NULL, &err),
             TOON_STATUS_NOT_FOUND);
}

/* Byte patches of a good graph: each breaks one thing and must be named. */
static void test_broken_generators(void)
{
    struct toon_gen_weights ref, gw;
    load_reference(&ref);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    struct pbw_buf pb;
    write_graph(&ref, &o, &pb);
    struct {
        const char *from, *to, *msg;
        enum toon_status st;
    } cases[] = {
        {"generator/Conv_9/weights", "generator/Conv_X/weights",
         "not a DCT-Net generator graph: no node named model_bg/generator/Conv_9/weights",
         TOON_STATUS_MODEL},
        {"generator/Conv_4/biases", "generator/Conv_4/biasez", "generator/Conv_4/biases",
         TOON_STATUS_MODEL},
        {"SAME", "VALI", "needs SAME", TOON_STATUS_UNSUPPORTED},
        {"NHWC", "NCHW", "only NHWC", TOON_STATUS_UNSUPPORTED},
        {"Conv2D", "Conv3D", "feeds no Conv2D", TOON_STATUS_MODEL},
        {"Identity", "Identitx", "feeds no Conv2D", TOON_STATUS_MODEL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *copy = malloc(pb.len);
        CHECK(copy != NULL);
        memcpy(copy, pb.data, pb.len);
        CHECK_INT(patch_all(copy, pb.len, cases[i].from, cases[i].to), >, 0);
        struct toon_err err = {{0}};
        enum toon_status st = toon_graphdef_read_generator(copy, pb.len, &gw, &err);
        free(copy);
        if (st != cases[i].st || !strstr(err.msg, cases[i].msg))
            TEST_FAIL_("patch %s -> %s: %s \"%s\"", cases[i].from, cases[i].to, toon_status_str(st),
                       err.msg);
    }

    /* Two generators in one file (protobuf concatenation merges the node lists). */
    struct pbw_buf other, both = {0};
    o.prefix = "model_head/";
    write_graph(&ref, &o, &other);
    both.data = malloc(pb.len + other.len);
    CHECK(both.data != NULL);
    memcpy(both.data, pb.data, pb.len);
    memcpy(both.data + pb.len, other.data, other.len);
    struct toon_err err = {{0}};
    CHECK_EQ(toon_graphdef_read_generator(both.data, pb.len + other.len, &gw, &err),
             TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "more than one generator");
    /* The same graph twice: duplicate node names. */
    free(both.data);
    both.data = malloc(2 * pb.len);
    CHECK(both.data != NULL);
    memcpy(both.data, pb.data, pb.len);
    memcpy(both.data + pb.len, pb.data, pb.len);
    CHECK_EQ(toon_graphdef_read_generator(both.data, 2 * pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "two nodes named");
    free(both.data);
    pbw_buf_free(&other);
    pbw_buf_free(&pb);

    /* Weights of the wrong shape: named with both shapes. */
    struct toon_gen_weights fake;
    CHECK_EQ(pbw_fake_weights(&fake, 1, 2, 7), 0);
    o.prefix = "";
    write_graph(&fake, &o, &pb);
    CHECK_EQ(toon_graphdef_read_generator(pb.data, pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "generator/Conv/weights has shape [1,1,3,2], expected [7,7,3,32]");
    /* The relaxed mode reads them. */
    CHECK_OK(toon_graphdef_read_generator_ex(pb.data, pb.len, TOON_GRAPHDEF_ANY_SHAPE, NULL, &gw,
                                             NULL, &err));
    check_same_weights(&fake, &gw, 0);
    toon_gen_weights_free(&gw);
    toon_gen_weights_free(&fake);
    pbw_buf_free(&pb);
    toon_gen_weights_free(&ref);
}

static void test_not_frozen(void)
{
    struct pbw_buf pb = {0};
    struct pbw_node n;
    pbw_node_begin(&n, "generator/Conv/weights", "VariableV2");
    pbw_node_attr_type(&n, "dtype", TOON_TF_DT_FLOAT);
    pbw_graph_add(&pb, &n);
    struct toon_gen_weights gw;
    struct toon_err err = {{0}};
    CHECK_EQ(toon_graphdef_read_generator(pb.data, pb.len, &gw, &err), TOON_STATUS_MODEL);
    CHECK_STR_CONTAINS(err.msg, "generator/Conv/weights is a VariableV2 node, not a constant "
                                "(the graph is not frozen)");
    pbw_buf_free(&pb);
}

/* Cut a graph short at many offsets: never a crash, always a one-line message. */
static void test_truncation(void)
{
    size_t base = toon_alloc_current();
    struct toon_gen_weights fake, gw;
    CHECK_EQ(pbw_fake_weights(&fake, 1, 2, 3), 0);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    o.minimal = 1;
    struct pbw_buf pb;
    write_graph(&fake, &o, &pb);
    struct toon_err err;
    int n_ok = 0;
    for (size_t cut = 0; cut < pb.len; cut++) {
        err.msg[0] = '\0';
        enum toon_status st = toon_graphdef_read_generator_ex(pb.data, cut, TOON_GRAPHDEF_ANY_SHAPE,
                                                              NULL, &gw, NULL, &err);
        if (st == TOON_STATUS_OK) {
            n_ok++;
            toon_gen_weights_free(&gw);
        } else {
            check_one_line(&err);
        }
    }
    /* Only cuts inside the trailing nodes that the reader does not need may succeed. */
    CHECK_INT(n_ok, <, (int)(pb.len / 10));
    pbw_buf_free(&pb);
    toon_gen_weights_free(&fake);

    /* The full-size graph, at a hundred offsets, strictly. */
    struct toon_gen_weights ref;
    load_reference(&ref);
    o.minimal = 0;
    write_graph(&ref, &o, &pb);
    for (int i = 0; i < 100; i++) {
        size_t cut = (size_t)((double)pb.len * i / 100.0) + (size_t)(rng() % 997);
        if (cut >= pb.len) cut = pb.len - 1;
        err.msg[0] = '\0';
        enum toon_status st = toon_graphdef_read_generator(pb.data, cut, &gw, &err);
        if (st == TOON_STATUS_OK)
            toon_gen_weights_free(&gw);
        else
            check_one_line(&err);
        if (cut < pb.len / 2) CHECK(st != TOON_STATUS_OK);
    }
    pbw_buf_free(&pb);
    toon_gen_weights_free(&ref);
    CHECK_EQ(toon_alloc_current(), base);
}

/* Random byte mutations: no crash, no leak, a message whenever it fails. */
static void test_mutations(void)
{
    size_t base = toon_alloc_current();
    struct toon_gen_weights fake, gw;
    CHECK_EQ(pbw_fake_weights(&fake, 1, 2, 5), 0);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    struct pbw_buf pb;
    write_graph(&fake, &o, &pb);
    uint8_t *copy = malloc(pb.len);
    CHECK(copy != NULL);
    int n_ok = 0;
    for (int iter = 0; iter < 6000; iter++) {
        memcpy(copy, pb.data, pb.len);
        int n_flips = 1 + (int)(rng() % 8);
        for (int k = 0; k < n_flips; k++) {
            size_t at = rng() % pb.len;
            uint32_t how = rng() % 4;
            copy[at] = how == 0   ? (uint8_t)rng()
                       : how == 1 ? (uint8_t)(copy[at] ^ (1u << (rng() % 8)))
                       : how == 2 ? 0xff
                                  : 0x00;
        }
        struct toon_err err = {{0}};
        enum toon_status st = toon_graphdef_read_generator_ex(
            copy, pb.len, iter & 1 ? TOON_GRAPHDEF_ANY_SHAPE : 0, NULL, &gw, NULL, &err);
        if (st == TOON_STATUS_OK) {
            n_ok++;
            toon_gen_weights_free(&gw);
        } else {
            check_one_line(&err);
        }
    }
    free(copy);
    pbw_buf_free(&pb);
    toon_gen_weights_free(&fake);
    CHECK_INT(n_ok, >, 0); /* flips inside weight values are harmless */
    CHECK_EQ(toon_alloc_current(), base);
}

/* Allocation failure at every step: NO_MEMORY (or OK), nothing leaked. */
static void test_alloc_failures(void)
{
    struct toon_gen_weights fake, gw;
    CHECK_EQ(pbw_fake_weights(&fake, 3, 4, 9), 0);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    struct pbw_buf pb;
    write_graph(&fake, &o, &pb);
    size_t base = toon_alloc_current();
    int saw_ok = 0;
    for (long n = 1; n < 200 && !saw_ok; n++) {
        struct toon_err err = {{0}};
        toon_alloc_fail_after(n);
        enum toon_status st = toon_graphdef_read_generator_ex(
            pb.data, pb.len, TOON_GRAPHDEF_ANY_SHAPE, NULL, &gw, NULL, &err);
        toon_alloc_fail_after(0);
        if (st == TOON_STATUS_OK) {
            saw_ok = 1;
            toon_gen_weights_free(&gw);
        } else {
            CHECK_EQ(st, TOON_STATUS_NO_MEMORY);
            check_one_line(&err);
        }
        CHECK_EQ(toon_alloc_current(), base);
    }
    CHECK(saw_ok);
    pbw_buf_free(&pb);
    toon_gen_weights_free(&fake);
}

static void test_read_generator_file(void)
{
    struct toon_gen_weights ref, got;
    load_reference(&ref);
    struct pbw_gen_opts o;
    pbw_gen_default_opts(&o);
    o.prefix = "";
    o.exporter_form = 1;
    struct pbw_buf pb;
    write_graph(&ref, &o, &pb);
    char path[512];
    snprintf(path, sizeof path, "%s/cartoon_h.pb", test_tmp_dir());
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK_EQ(fwrite(pb.data, 1, pb.len, f), pb.len);
    fclose(f);
    pbw_buf_free(&pb);
    struct toon_err err = {{0}};
    struct toon_graphdef_info info;
    enum toon_status st = toon_graphdef_read_generator_file(path, &got, &info, &err);
    unlink(path);
    if (st) TEST_FAIL_("%s", err.msg);
    check_same_weights(&ref, &got, 0);
    CHECK(strcmp(info.input_name, "input_image") == 0);
    CHECK(strcmp(info.output_name, "output_image") == 0);
    CHECK(info.output_u8 && info.input_normalised);
    toon_gen_weights_free(&got);
    toon_gen_weights_free(&ref);
}

static const struct test_case tests[] = {
    {"sha256_vectors", test_sha256_vectors},
    {"sha256_long_and_incremental", test_sha256_long_and_incremental},
    {"sha256_file", test_sha256_file},
    {"protobuf_wire", test_protobuf_wire},
    {"protobuf_depth_limit", test_protobuf_depth_limit},
    {"half_conversion", test_half_conversion},
    {"roundtrip_fp32", test_roundtrip_fp32},
    {"roundtrip_fp16", test_roundtrip_fp16},
    {"roundtrip_variants", test_roundtrip_variants},
    {"guided_filter_constants", test_guided_filter_constants},
    {"wrong_graphs_named", test_wrong_graphs_named},
    {"broken_generators", test_broken_generators},
    {"not_frozen", test_not_frozen},
    {"truncation", test_truncation},
    {"mutations", test_mutations},
    {"alloc_failures", test_alloc_failures},
    {"read_generator_file", test_read_generator_file},
};
TEST_MAIN(tests)
