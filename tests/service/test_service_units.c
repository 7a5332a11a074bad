/*
 * Unit tests of the service's request parsers: multipart/form-data bodies and job parameters.
 * The HTTP behaviour end to end is tested by test_api.py against a real server.
 */
#include <string.h>

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
    CHECK_OK(toon_job_params_set(&p, "mode", "official", &err));
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

static const struct test_case tests[] = {
    {"boundary", test_boundary},
    {"parts", test_parts},
    {"bad_bodies", test_bad_bodies},
    {"params", test_params},
};
TEST_MAIN(tests)
