/*
 * Unit tests of the service's parsers: multipart/form-data bodies, job parameters, Redis URLs and
 * job records.  The HTTP behaviour end to end is tested by test_api.py against a real server,
 * the scale-out mode by test_scale_redis.py against real Redis and nginx.
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "service/internal.h"
#include "service/multipart.h"
#include "service/params.h"
#include "test.h"

struct parts {
    int n;
    char names[8][64], files[8][256];
    size_t lens[8];
    char first[64];
};

static enum toon_status collect(void *ctx, const struct toon_mpart *p, struct toon_err *err)
{
    (void)err;
    struct parts *ps = ctx;
    if (ps->n >= 8) return TOON_STATUS_INVALID_ARGUMENT;
    snprintf(ps->names[ps->n], 64, "%s", p->name);
    snprintf(ps->files[ps->n], 256, "%s", p->filename);
    ps->lens[ps->n] = p->n_bytes;
    if (ps->n == 0) snprintf(ps->first, sizeof ps->first, "%.*s", (int)p->n_bytes, p->data);
    ps->n++;
    return TOON_STATUS_OK;
}

static enum toon_status parse(const char *body, const char *boundary, struct parts *ps,
                              struct toon_err *err)
{
    memset(ps, 0, sizeof *ps);
    return toon_multipart_parse((const uint8_t *)body, strlen(body), boundary, 16, collect, ps,
                                err);
}

static void test_boundary(void)
{
    char b[80];
    struct toon_err err;
    CHECK_OK(toon_multipart_boundary("multipart/form-data; boundary=abc123", b, sizeof b, &err));
    CHECK(strcmp(b, "abc123") == 0);
    CHECK_OK(toon_multipart_boundary("multipart/form-data; charset=x; boundary=\"a b\"", b,
                                     sizeof b, &err));
    CHECK(strcmp(b, "a b") == 0);
    CHECK_EQ(toon_multipart_boundary("image/png", b, sizeof b, &err), TOON_STATUS_UNSUPPORTED);
    CHECK_EQ(toon_multipart_boundary("multipart/form-data", b, sizeof b, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_multipart_boundary("multipart/form-data; boundary=\"open", b, sizeof b, &err),
             TOON_STATUS_INVALID_ARGUMENT);
}

static void test_parts(void)
{
    struct parts ps;
    struct toon_err err;
    const char *body =
        "preamble\r\n--XX\r\n"
        "Content-Disposition: form-data; name=\"size\"\r\n\r\n"
        "256\r\n--XX\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".png\"\r\n"
        "Content-Type: image/png\r\n\r\n"
        "\x89PNG\r\n--X not a delimiter\r\n--XX--\r\nepilogue";
    CHECK_OK(parse(body, "XX", &ps, &err));
    CHECK_EQ(ps.n, 2);
    CHECK(strcmp(ps.names[0], "size") == 0 && strcmp(ps.first, "256") == 0);
    CHECK(strcmp(ps.names[1], "file") == 0);
    CHECK(strcmp(ps.files[1], "a \"b\".png") == 0);
    CHECK_EQ(ps.lens[1], strlen("\x89PNG\r\n--X not a delimiter"));
    /* The first delimiter may open the body. */
    CHECK_OK(parse("--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n--B--", "B", &ps,
                   &err));
    CHECK_EQ(ps.n, 1);
}

static void test_bad_bodies(void)
{
    struct parts ps;
    struct toon_err err;
    CHECK_EQ(parse("", "B", &ps, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(parse("--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nunterminated", "B",
                   &ps, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.msg, "not terminated");
    CHECK_EQ(parse("--B\r\nX-Other: 1\r\n\r\nv\r\n--B--", "B", &ps, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(parse("--B\r\nno colon here\r\n\r\nv\r\n--B--", "B", &ps, &err),
             TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(parse("--Bgarbage", "B", &ps, &err), TOON_STATUS_INVALID_ARGUMENT);
    /* Too many parts. */
    char many[4096] = "";
    for (int i = 0; i < 20; i++)
        strcat(many, "--B\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nv\r\n");
    strcat(many, "--B--");
    memset(&ps, 0, sizeof ps);
    CHECK_EQ(toon_multipart_parse((const uint8_t *)many, strlen(many), "B", 4, collect, &ps, &err),
             TOON_STATUS_INVALID_ARGUMENT);
}

static void test_params(void)
{
    struct toon_job_params p;
    struct toon_err err;
    toon_job_params_default(&p);
    CHECK_EQ(p.cp.size, 1024);
    CHECK_NEAR(p.cp.strength, 0.7, 1e-6);
    CHECK_EQ(p.downgrade, -1);
    CHECK_OK(toon_job_params_set(&p, "size", "2048", &err));
    CHECK_EQ(p.cp.size, 2048);
    CHECK_OK(toon_job_params_set(&p, "strength", "0.25", &err));
    CHECK_NEAR(p.cp.strength, 0.25, 1e-6);
    CHECK_OK(toon_job_params_set(&p, "format", "JPG", &err));
    CHECK_EQ(p.cp.format, TOON_FORMAT_JPEG);
    CHECK_OK(toon_job_params_set(&p, "precision", "fast", &err));
    CHECK_EQ(p.cp.gen.precision, TOON_PRECISION_FAST);
    CHECK_OK(toon_job_params_set(&p, "downgrade", "on", &err));
    CHECK_EQ(p.downgrade, 1);
    CHECK_EQ(p.cp.mode, TOON_MODE_HD); /* the service's default */
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
    CHECK_EQ(p.cp.mode, TOON_MODE_OFFICIAL);
    CHECK_OK(toon_job_params_set(&p, "mode", "plain", &err));
    CHECK_EQ(p.cp.mode, TOON_MODE_PLAIN);
    CHECK_EQ(toon_job_params_set(&p, "size", "-1", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.msg, "size");
    CHECK_EQ(toon_job_params_set(&p, "size", "12abc", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_job_params_set(&p, "strength", "nan", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_job_params_set(&p, "format", "gif", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_job_params_set(&p, "quality", "101", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_job_params_set(&p, "mode", "fast", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_job_params_set(&p, "bogus", "1", &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.msg, "unknown parameter");
    CHECK(toon_job_params_known("style") && !toon_job_params_known("bogus"));
}

/* Issue 15 (13): official mode gives back the input's size when no size is asked for, in
 * whatever order the parameters come; an explicit size, 0 included, is kept. */
/* The library's one table of mode and precision names, which the service and the CLI parse. */
static void test_mode_and_precision_names(void)
{
    for (int m = TOON_MODE_PLAIN; m <= TOON_MODE_HD; m++) {
        enum toon_mode back = (enum toon_mode) - 1;
        CHECK(toon_mode_from_name(toon_mode_name((enum toon_mode)m), &back));
        CHECK_EQ(back, m);
    }
    CHECK_STR_EQ(toon_mode_name(TOON_MODE_OFFICIAL), "official");
    enum toon_mode mode = TOON_MODE_HD;
    CHECK(!toon_mode_from_name("Official", &mode) && !toon_mode_from_name("", &mode));
    CHECK(!toon_mode_from_name(NULL, &mode));
    CHECK_EQ(mode, TOON_MODE_HD); /* untouched when the name is none */
    enum toon_precision prec = TOON_PRECISION_FP32;
    CHECK(toon_precision_from_name("fast", &prec) && prec == TOON_PRECISION_FAST);
    CHECK(toon_precision_from_name("fp32", &prec) && prec == TOON_PRECISION_FP32);
    CHECK(!toon_precision_from_name("bf16", &prec) && prec == TOON_PRECISION_FP32);
    CHECK_STR_EQ(toon_precision_name(TOON_PRECISION_FAST), "fast");
}

static void test_params_official_size(void)
{
    struct toon_job_params p;
    struct toon_err err;
    toon_job_params_default(&p);
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
    CHECK_EQ(p.cp.size, 0);
    CHECK_OK(toon_job_params_set(&p, "mode", "hd", &err));
    CHECK_EQ(p.cp.size, 1024);
    CHECK_OK(toon_job_params_set(&p, "size", "640", &err));
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
    CHECK_EQ(p.cp.size, 640);
    toon_job_params_default(&p);
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
    CHECK_OK(toon_job_params_set(&p, "size", "512", &err));
    CHECK_EQ(p.cp.size, 512);
    toon_job_params_default(&p);
    CHECK_OK(toon_job_params_set(&p, "size", "1024", &err));
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
    CHECK_EQ(p.cp.size, 1024);
}

static void test_redis_url(void)
{
    struct toon_redis_url u;
    struct toon_err err;
    CHECK_OK(toon_redis_parse_url("redis://127.0.0.1:6380/3", &u, &err));
    CHECK_STR_EQ(u.host, "127.0.0.1");
    CHECK_EQ(u.port, 6380);
    CHECK_EQ(u.db, 3);
    CHECK_STR_EQ(u.prefix, "toonify");
    CHECK_OK(toon_redis_parse_url("redis://:s3cret@cache.local?prefix=prod", &u, &err));
    CHECK_STR_EQ(u.host, "cache.local");
    CHECK_STR_EQ(u.password, "s3cret");
    CHECK_EQ(u.port, 6379);
    CHECK_STR_EQ(u.prefix, "prod");
    CHECK_OK(toon_redis_parse_url("localhost", &u, &err));
    CHECK_STR_EQ(u.host, "localhost");
    CHECK_EQ(toon_redis_parse_url("http://x", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.msg, "redis://");
    CHECK_EQ(toon_redis_parse_url("redis://h:0", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_redis_parse_url("redis://h:70000", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_redis_parse_url("redis://h/x", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_redis_parse_url("redis://h?db=1", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_EQ(toon_redis_parse_url("redis://h?prefix=a:b", &u, &err), TOON_STATUS_INVALID_ARGUMENT);
}

/* A job survives the trip through its JSON record (what replicas and workers exchange). */
static void test_job_record(void)
{
    struct toon_job j;
    memset(&j, 0, sizeof j);
    toon_job_params_default(&j.params);
    memcpy(j.id, "0123456789abcdef0123456789abcdef", 33);
    j.state = TOON_JOB_RUNNING;
    j.progress = 0.5;
    snprintf(j.filename, sizeof j.filename, "me.jpg");
    snprintf(j.style_name, sizeof j.style_name, "cartoon");
    snprintf(j.worker, sizeof j.worker, "host-1-0");
    j.params.cp.mode = TOON_MODE_OFFICIAL;
    j.attempts = 2;
    j.requested_size = 4096;
    j.params.cp.size = 2048;
    j.out_w = 2048;
    j.out_h = 1536;
    j.downgraded = 1;
    j.params.cp.strength = 0.4f;
    j.params.cp.format = TOON_FORMAT_WEBP;
    j.params.cp.quality = 80;
    j.params.cp.gen.precision = TOON_PRECISION_FAST;
    j.info.w = 4000;
    j.info.h = 3000;
    j.in_bytes = 123456;
    j.t_submit = 1795743736.5;
    cJSON *o = toon_job_json(NULL, &j);
    CHECK(o != NULL);
    struct toon_job *r = toon_job_from_json(o, 1, NULL);
    struct toon_job *done_only = toon_job_from_json(o, 0, NULL);
    cJSON_Delete(o);
    CHECK(r != NULL);
    CHECK(done_only == NULL); /* history takes finished jobs only */
    CHECK_STR_EQ(r->id, j.id);
    CHECK_EQ(r->state, TOON_JOB_RUNNING);
    CHECK_NEAR(r->progress, 0.5, 1e-9);
    CHECK_STR_EQ(r->worker, "host-1-0");
    CHECK_EQ(r->attempts, 2);
    CHECK_EQ(r->params.cp.mode, TOON_MODE_OFFICIAL);
    CHECK_EQ(r->requested_size, 4096);
    CHECK_EQ(r->params.cp.size, 2048); /* a downgraded job runs at the size admission chose */
    CHECK_NEAR(r->params.cp.strength, 0.4, 1e-6);
    CHECK_EQ(r->params.cp.format, TOON_FORMAT_WEBP);
    CHECK_EQ(r->params.cp.quality, 80);
    CHECK_EQ(r->params.cp.gen.precision, TOON_PRECISION_FAST);
    CHECK_EQ(r->in_bytes, 123456);
    CHECK_NEAR(r->t_submit, j.t_submit, 1e-3);
    toon_job_free(r);
    /* Bad ids and states are refused. */
    cJSON *bad = cJSON_Parse("{\"id\":\"../../etc\",\"state\":\"done\"}");
    CHECK(toon_job_from_json(bad, 1, NULL) == NULL);
    cJSON_Delete(bad);
    bad = cJSON_Parse("{\"id\":\"0123456789abcdef0123456789abcdef\",\"state\":\"weird\"}");
    CHECK(toon_job_from_json(bad, 1, NULL) == NULL);
    cJSON_Delete(bad);
}

/* Every number of a record is checked: finite, in range, whole where it counts something. */
static void test_job_record_numbers(void)
{
    static const char *const bad[] = {
        "\"output\": {\"file\": \"outputs_1.png\", \"bytes\": -1}",
        "\"output\": {\"file\": \"outputs_1.png\", \"bytes\": 1e30}",
        "\"output\": {\"file\": \"outputs_1.png\", \"w\": 1.5}",
        "\"output\": {\"file\": \"outputs_1.png\", \"bytes\": \"10\"}",
        "\"output\": {\"file\": \"outputs_1.png\"}, \"timings\": {\"finished\": 1e300}",
        "\"output\": {\"file\": \"outputs_1.png\"}, \"params\": {\"quality\": 1000}",
        "\"output\": {\"file\": \"outputs_1.png\"}, \"params\": {\"strength\": -0.5}",
        "\"output\": {\"file\": \"outputs_1.png\"}, \"index\": -3",
        "\"output\": {\"file\": \"outputs_1.png\"}, \"memory\": {\"rss_peak_bytes\": null}",
    };
    char text[512];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text,
                 "{\"id\": \"0123456789abcdef0123456789abcdef\", \"state\": \"done\", %s}", bad[i]);
        cJSON *o = cJSON_Parse(text);
        CHECK(o != NULL);
        struct toon_err err = {""};
        struct toon_job *j = toon_job_from_json(o, 0, &err);
        if (j) fprintf(stderr, "accepted: %s\n", text);
        CHECK(j == NULL);
        CHECK(strstr(err.msg, "bad number") != NULL);
        toon_job_free(j);
        cJSON_Delete(o);
    }
    /* The same fields in range are taken as they are. */
    cJSON *o = cJSON_Parse("{\"id\": \"0123456789abcdef0123456789abcdef\", \"state\": \"done\", "
                           "\"output\": {\"file\": \"outputs_1.png\", \"bytes\": 4096, \"w\": 64}, "
                           "\"timings\": {\"finished\": 1795743736.25}}");
    struct toon_job *j = toon_job_from_json(o, 0, NULL);
    cJSON_Delete(o);
    CHECK(j != NULL);
    CHECK_EQ(j->out_bytes, 4096);
    CHECK_EQ(j->out_w, 64);
    CHECK_NEAR(j->t_end, 1795743736.25, 1e-6);
    toon_job_free(j);
}

/* Sizes in binary units, exact when they are whole MiB or GiB (8M was printed as "8 MB"). */
static void test_sizes(void)
{
    char b[32];
    CHECK_STR_EQ(toon_mb((size_t)8 << 20, b, sizeof b), "8 MiB");
    CHECK_STR_EQ(toon_mb((size_t)64 << 20, b, sizeof b), "64 MiB");
    CHECK_STR_EQ(toon_mb((size_t)300 << 20, b, sizeof b), "300 MiB");
    CHECK_STR_EQ(toon_mb((size_t)2 << 30, b, sizeof b), "2 GiB");
    CHECK_STR_EQ(toon_mb((size_t)58300000, b, sizeof b), "55.6 MiB");
    CHECK_STR_EQ(toon_mb(4000, b, sizeof b), "4000 bytes");
}

/* A full disk is one status everywhere: 507, and its errno siblings with it. */
static void test_disk_full_status(void)
{
    CHECK_EQ(toon_status_http_code(toon_status_from_errno(ENOSPC)), 507);
    CHECK_EQ(toon_status_http_code(toon_status_from_errno(EDQUOT)), 507);
    CHECK_EQ(toon_status_from_errno(EACCES), TOON_STATUS_IO);
    struct toon_err err = {""};
    CHECK_EQ(toon_job_write_error(ENOSPC, "the result", &err), TOON_STATUS_NO_SPACE);
    CHECK_STR_EQ(err.msg, TOON_DISK_FULL_DETAIL);
    CHECK_EQ(toon_job_write_error(EACCES, "the result", &err), TOON_STATUS_IO);
    CHECK(strchr(err.msg, '/') == NULL);
}

/* Accept-Language picks Chinese only when a zh tag has the highest q (ties: the first). */
static void test_accept_language(void)
{
    CHECK_EQ(toon_lang_wants_zh(NULL), 0);
    CHECK_EQ(toon_lang_wants_zh(""), 0);
    CHECK_EQ(toon_lang_wants_zh("zh"), 1);
    CHECK_EQ(toon_lang_wants_zh("zh-CN,zh;q=0.9,en;q=0.8"), 1);
    CHECK_EQ(toon_lang_wants_zh("zh-Hans"), 1);
    CHECK_EQ(toon_lang_wants_zh("ZH-tw"), 1);
    CHECK_EQ(toon_lang_wants_zh("en-US,en;q=0.9,zh;q=0.8"), 0);
    CHECK_EQ(toon_lang_wants_zh("en;q=0.5, zh-CN"), 1);
    CHECK_EQ(toon_lang_wants_zh("zh;q=0"), 0);
    CHECK_EQ(toon_lang_wants_zh("en, zh"), 0);
    CHECK_EQ(toon_lang_wants_zh("zhx, en;q=0.1"), 0);
    CHECK_EQ(toon_lang_wants_zh("*"), 0);
}

/* Every status has a Chinese message; errors and fixed details are translated, dynamic details
 * fall back to the status's Chinese message with the English kept in detail_en. */
static void test_chinese_messages(void)
{
    for (int st = 0; st < TOON_STATUS_COUNT_; st++) {
        const char *zh = toon_status_str_zh((enum toon_status)st);
        CHECK(zh && zh[0] && strcmp(zh, toon_status_str((enum toon_status)st)) != 0);
    }
    CHECK_STR_EQ(toon_status_str_zh(TOON_STATUS_NOT_FOUND), "未找到");
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "not found");
    cJSON_AddStringToObject(o, "detail", "no such API route");
    toon_lang_localize(o);
    CHECK_STR_EQ(cJSON_GetObjectItem(o, "error")->valuestring, "未找到");
    CHECK_STR_EQ(cJSON_GetObjectItem(o, "detail")->valuestring, "没有这个 API 路径");
    CHECK(cJSON_GetObjectItem(o, "detail_en") == NULL);
    cJSON_Delete(o);
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "error", "over the memory budget");
    cJSON_AddStringToObject(o, "detail", "4096 px needs 310 MiB");
    toon_lang_localize(o);
    CHECK_STR_EQ(cJSON_GetObjectItem(o, "error")->valuestring, "超出内存预算");
    CHECK(strstr(cJSON_GetObjectItem(o, "detail")->valuestring, "超出内存预算") != NULL);
    CHECK_STR_EQ(cJSON_GetObjectItem(o, "detail_en")->valuestring, "4096 px needs 310 MiB");
    cJSON_Delete(o);
}

/* A thumbnail of a 4096 px PNG streams its rows: its plan is far below the decoded image; an
 * interlaced one must be decoded whole, and its plan counts that. */
static void test_thumb_plan(void)
{
    struct toon_image_info info = {0};
    info.format = TOON_FORMAT_PNG;
    info.w = info.file_w = 4096;
    info.h = info.file_h = 4096;
    info.orientation = 1;
    info.channels = 3;
    info.bit_depth = 8;
    size_t whole = (size_t)4096 * 4096 * 3;
    size_t streamed = toon_thumb_plan_bytes(&info, 256);
    printf("thumbnail of a 4096x4096 PNG: plan %zu bytes (the decoded image: %zu)\n", streamed,
           whole);
    CHECK(streamed > 0 && streamed < whole / 8);
    info.progressive = 1;
    CHECK(toon_thumb_plan_bytes(&info, 256) >= whole);
    CHECK_EQ(toon_thumb_side(10), 64);
    CHECK_EQ(toon_thumb_side(256), 256);
    CHECK_EQ(toon_thumb_side(100000), 512);
}

static const struct test_case tests[] = {
    {"boundary", test_boundary},
    {"parts", test_parts},
    {"bad_bodies", test_bad_bodies},
    {"params", test_params},
    {"params_official_size", test_params_official_size},
    {"mode_and_precision_names", test_mode_and_precision_names},
    {"redis_url", test_redis_url},
    {"job_record", test_job_record},
    {"job_record_numbers", test_job_record_numbers},
    {"sizes", test_sizes},
    {"disk_full_status", test_disk_full_status},
    {"accept_language", test_accept_language},
    {"chinese_messages", test_chinese_messages},
    {"thumb_plan", test_thumb_plan},
};
TEST_MAIN(tests)
