/*
 * Tests of model directory scanning and the known-checksum table (src/formats/modeldir.c).
 * Every directory is built under test_tmp_dir() with empty placeholder files (scanning never
 * opens them) and removed at the end.
 */
#include <ftw.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/log.h"
#include "formats/modeldir.h"
#include "test.h"

static char root[512];

static const char *path_of(const char *rel)
{
    static char buf[4][1024];
    static int slot;
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", root, rel);
    return buf[slot];
}

static void make_dir(const char *rel)
{
    if (mkdir(path_of(rel), 0700) != 0) TEST_FAIL_("mkdir %s failed", path_of(rel));
}

static void touch(const char *rel)
{
    FILE *f = fopen(path_of(rel), "wb");
    if (!f) TEST_FAIL_("cannot create %s", path_of(rel));
    fputs("x", f);
    fclose(f);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void fresh_root(const char *name)
{
    snprintf(root, sizeof root, "%s/%s", test_tmp_dir(), name);
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (mkdir(root, 0700) != 0) TEST_FAIL_("mkdir %s failed", root);
}

static char log_text[4096];
static void capture_log(enum toon_log_level level, const char *msg, void *user)
{
    (void)level;
    (void)user;
    size_t n = strlen(log_text);
    snprintf(log_text + n, sizeof log_text - n, "%s\n", msg);
}

static void check_streq(const char *got, const char *want)
{
    if (strcmp(got, want) != 0) TEST_FAIL_("\"%s\" != \"%s\"", got, want);
}

static void test_single_style_dir(void)
{
    fresh_root("single");
    make_dir("anime");
    touch("anime/cartoon_h.pb");
    touch("anime/cartoon_bg.pb");
    touch("anime/detector.pb");
    touch("anime/keypoints.pb");
    touch("anime/alpha.jpg");
    touch("anime/README.md");
    touch("anime/cartoon_anime_h.pb"); /* the newer name wins */
    struct toon_modeldir md;
    struct toon_err err = {{0}};
    CHECK_OK(toon_modeldir_scan(path_of("anime"), &md, &err));
    CHECK_EQ(md.n_styles, 1);
    const struct toon_style_entry *e = &md.styles[0];
    check_streq(e->name, "anime");
    check_streq(e->head_path, path_of("anime/cartoon_h.pb"));
    check_streq(e->bg_path, path_of("anime/cartoon_bg.pb"));
    check_streq(e->detector_path, path_of("anime/detector.pb"));
    check_streq(e->keypoints_path, path_of("anime/keypoints.pb"));
    check_streq(e->alpha_path, path_of("anime/alpha.jpg"));
    check_streq(e->format, "graphdef");
    CHECK(toon_modeldir_find(&md, "anime") == e);
    CHECK(toon_modeldir_find(&md, "3d") == NULL);
    toon_modeldir_free(&md);

    /* A trailing slash and a final "." still name the style after the directory. */
    CHECK_OK(toon_modeldir_scan(path_of("anime/"), &md, &err));
    check_streq(md.styles[0].name, "anime");
    toon_modeldir_free(&md);
    CHECK_OK(toon_modeldir_scan(path_of("anime/."), &md, &err));
    check_streq(md.styles[0].name, "anime");
    toon_modeldir_free(&md);
}

static void test_old_names_and_partial(void)
{
    fresh_root("old");
    make_dir("old");
    touch("old/cartoon_anime_h.pb");
    touch("old/cartoon_anime_bg.pb");
    struct toon_modeldir md;
    struct toon_err err = {{0}};
    CHECK_OK(toon_modeldir_scan(path_of("old"), &md, &err));
    CHECK_EQ(md.n_styles, 1);
    check_streq(md.styles[0].head_path, path_of("old/cartoon_anime_h.pb"));
    check_streq(md.styles[0].bg_path, path_of("old/cartoon_anime_bg.pb"));
    check_streq(md.styles[0].detector_path, "");
    check_streq(md.styles[0].alpha_path, "");
    toon_modeldir_free(&md);

    /* Only the head generator: used for both, with a warning. */
    make_dir("half");
    touch("half/cartoon_h.pb");
    log_text[0] = '\0';
    toon_log_set_callback(capture_log, NULL);
    enum toon_status st = toon_modeldir_scan(path_of("half"), &md, &err);
    toon_log_set_callback(NULL, NULL);
    CHECK_OK(st);
    check_streq(md.styles[0].bg_path, path_of("half/cartoon_h.pb"));
    CHECK_STR_CONTAINS(log_text, "using it for both heads and backgrounds");
    toon_modeldir_free(&md);
}

static void test_collection(void)
{
    fresh_root("collection");
    make_dir("styles");
    make_dir("styles/anime");
    touch("styles/anime/cartoon_h.pb");
    touch("styles/anime/cartoon_bg.pb");
    make_dir("styles/3d");
    touch("styles/3d/cartoon_anime_h.pb");
    touch("styles/3d/cartoon_anime_bg.pb");
    touch("styles/3d/alpha.jpg");
    make_dir("styles/wb");
    touch("styles/wb/generator.tflite");
    make_dir("styles/empty");
    touch("styles/empty/notes.txt");
    make_dir("styles/.hidden");
    touch("styles/.hidden/cartoon_h.pb");
    touch("styles/whitebox_fp16.tflite");
    touch("styles/readme.txt");
    struct toon_modeldir md;
    struct toon_err err = {{0}};
    CHECK_OK(toon_modeldir_scan(path_of("styles"), &md, &err));
    CHECK_EQ(md.n_styles, 4);
    check_streq(md.styles[0].name, "3d");
    check_streq(md.styles[1].name, "anime");
    check_streq(md.styles[2].name, "wb");
    check_streq(md.styles[3].name, "whitebox_fp16");
    check_streq(md.styles[0].alpha_path, path_of("styles/3d/alpha.jpg"));
    check_streq(md.styles[2].format, "tflite");
    check_streq(md.styles[2].head_path, path_of("styles/wb/generator.tflite"));
    check_streq(md.styles[2].bg_path, md.styles[2].head_path);
    check_streq(md.styles[3].format, "tflite");
    check_streq(md.styles[3].bg_path, path_of("styles/whitebox_fp16.tflite"));
    toon_modeldir_free(&md);

    /* A subdirectory and a .tflite with the same style name are ambiguous. */
    touch("styles/anime.tflite");
    CHECK_EQ(toon_modeldir_scan(path_of("styles"), &md, &err), TOON_STATUS_INVALID_ARGUMENT);
    CHECK_STR_CONTAINS(err.msg, "two styles named \"anime\"");
    CHECK_EQ(md.n_styles, 0);
}

static void test_single_files_and_errors(void)
{
    fresh_root("files");
    touch("cartoon.tflite");
    touch("style.pb");
    touch("photo.jpg");
    make_dir("nothing");
    make_dir("two_tflite");
    touch("two_tflite/a.tflite");
    touch("two_tflite/b.tflite");
    struct toon_modeldir md;
    struct toon_err err = {{0}};
    CHECK_OK(toon_modeldir_scan(path_of("cartoon.tflite"), &md, &err));
    CHECK_EQ(md.n_styles, 1);
    check_streq(md.styles[0].name, "cartoon");
    check_streq(md.styles[0].format, "tflite");
    toon_modeldir_free(&md);
    CHECK_OK(toon_modeldir_scan(path_of("style.pb"), &md, &err));
    check_streq(md.styles[0].name, "style");
    check_streq(md.styles[0].format, "graphdef");
    toon_modeldir_free(&md);
    /* A directory with several .tflite files is a collection of them. */
    CHECK_OK(toon_modeldir_scan(path_of("two_tflite"), &md, &err));
    CHECK_EQ(md.n_styles, 2);
    check_streq(md.styles[0].name, "a");
    check_streq(md.styles[1].name, "b");
    toon_modeldir_free(&md);

    CHECK_EQ(toon_modeldir_scan(path_of("photo.jpg"), &md, &err), TOON_STATUS_UNSUPPORTED);
    CHECK_STR_CONTAINS(err.msg, "photo.jpg");
    CHECK_EQ(toon_modeldir_scan(path_of("nothing"), &md, &err), TOON_STATUS_NOT_FOUND);
    CHECK_STR_CONTAINS(err.msg, "no model found in");
    CHECK_STR_CONTAINS(err.msg, "cartoon_h.pb + cartoon_bg.pb");
    CHECK_EQ(toon_modeldir_scan(path_of("missing"), &md, &err), TOON_STATUS_NOT_FOUND);
    CHECK_EQ(toon_modeldir_scan("", &md, &err), TOON_STATUS_INVALID_ARGUMENT);
    toon_modeldir_free(NULL);
}

static void test_shared_models_dir(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/models", test_shared_dir());
    struct toon_modeldir md;
    struct toon_err err = {{0}};
    if (toon_modeldir_scan(dir, &md, &err) != TOON_STATUS_OK) TEST_FAIL_("%s", err.msg);
    CHECK_EQ(md.n_styles, 3);
    check_streq(md.styles[0].name, "whitebox_cartoon_gan_dr");
    check_streq(md.styles[1].name, "whitebox_cartoon_gan_fp16");
    check_streq(md.styles[2].name, "whitebox_cartoon_gan_int8");
    char hex[65];
    CHECK_OK(toon_sha256_file(md.styles[1].head_path, hex, &err));
    const char *what = toon_modeldir_known_file(hex);
    CHECK(what != NULL);
    CHECK_STR_CONTAINS(what, "fp16 TFLite");
    toon_modeldir_free(&md);
}

static void test_known_files(void)
{
    const char *gen = "bca966dd0000000000000000000000000000000000000000000000000024fe80";
    CHECK(strlen(gen) == 64);
    CHECK(toon_modeldir_known_file(gen) != NULL);
    CHECK_STR_CONTAINS(toon_modeldir_known_file(gen), "official DCT-Net generator");
    CHECK_STR_CONTAINS(toon_modeldir_known_file(
                           "BCA966DD0000000000000000000000000000000000000000000000000024FE80"),
                       "generator");
    CHECK_STR_CONTAINS(toon_modeldir_known_file(
                           "8e42012b11111111111111111111111111111111111111111111111111115ad4"),
                       "face detector");
    CHECK_STR_CONTAINS(toon_modeldir_known_file(
                           "80d03c93222222222222222222222222222222222222222222222222222246d6"),
                       "landmarks");
    CHECK(toon_modeldir_known_file(
              "bca966dd0000000000000000000000000000000000000000000000000024fe81") == NULL);
    CHECK(toon_modeldir_known_file("bca966dd24fe80") == NULL);
    CHECK(toon_modeldir_known_file(
              "bca966dd00000000000000000000000000000000000000000000000000zz4fe80") == NULL);
    CHECK(toon_modeldir_known_file(NULL) == NULL);
}

static void test_no_leaks(void)
{
    size_t base = toon_alloc_current();
    fresh_root("leaks");
    make_dir("s");
    make_dir("s/a");
    touch("s/a/cartoon_h.pb");
    touch("s/a/cartoon_bg.pb");
    touch("s/b.tflite");
    touch("s/a.tflite");
    struct toon_modeldir md;
    struct toon_err err;
    for (int i = 0; i < 3; i++) {
        enum toon_status st = toon_modeldir_scan(path_of("s"), &md, &err);
        CHECK_EQ(st, TOON_STATUS_INVALID_ARGUMENT); /* "a" twice */
    }
    unlink(path_of("s/a.tflite"));
    for (long n = 1; n < 40; n++) {
        toon_alloc_fail_after(n);
        enum toon_status st = toon_modeldir_scan(path_of("s"), &md, &err);
        toon_alloc_fail_after(0);
        if (st == TOON_STATUS_OK) {
            CHECK_EQ(md.n_styles, 2);
            toon_modeldir_free(&md);
            break;
        }
        CHECK_EQ(st, TOON_STATUS_NO_MEMORY);
    }
    CHECK_EQ(toon_alloc_current(), base);
    nftw(path_of(""), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
    nftw(test_tmp_dir(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct test_case tests[] = {
    {"single_style_dir", test_single_style_dir},
    {"old_names_and_partial", test_old_names_and_partial},
    {"collection", test_collection},
    {"single_files_and_errors", test_single_files_and_errors},
    {"shared_models_dir", test_shared_models_dir},
    {"known_files", test_known_files},
    {"no_leaks", test_no_leaks},
    {"cleanup", cleanup},
};
TEST_MAIN(tests)
