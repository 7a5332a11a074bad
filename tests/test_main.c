/* Runner for tests/test.h. */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

jmp_buf test_jmp_;
int test_failed_;

int test_main_(const struct test_case *tests, int n_tests, int argc, char **argv)
{
    int passed = 0, failed = 0;
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        test_failed_ = 0;
        fprintf(stderr, "[ RUN  ] %s\n", tests[i].name);
        if (setjmp(test_jmp_) == 0) tests[i].fn();
        if (test_failed_) {
            fprintf(stderr, "[ FAIL ] %s\n", tests[i].name);
            failed++;
        } else {
            fprintf(stderr, "[  OK  ] %s\n", tests[i].name);
            passed++;
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

const char *test_shared_dir(void)
{
    const char *s = getenv("TOONIFY_SHARED");
    return s && *s ? s : TOON_SHARED_DIR;
}

const char *test_model_path(const char *file)
{
    static char buf[4096];
    const char *dir = getenv("TOONIFY_MODEL_DIR");
    if (dir && *dir) {
        snprintf(buf, sizeof buf, "%s/%s", dir, file);
        struct stat st;
        if (stat(buf, &st) == 0) return buf;
    }
    snprintf(buf, sizeof buf, "%s/models/%s", test_shared_dir(), file);
    return buf;
}

const char *test_tmp_dir(void)
{
    static char buf[256];
    if (!buf[0]) {
        snprintf(buf, sizeof buf, "/tmp/toonify-test-%d", (int)getpid());
        mkdir(buf, 0700);
    }
    return buf;
}

unsigned char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) TEST_FAIL_("cannot open %s (a required test file is missing)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        TEST_FAIL_("cannot read %s", path);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}
