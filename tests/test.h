/*
 * A very small test harness: each test file has a table of test functions and ends with
 * TEST_MAIN(table).  Assertions print both values and the line; a failing assertion ends the
 * current test function (the others still run).  `prog NAME` runs only the tests whose name
 * contains NAME.  The last line is "N passed, N failed".
 */
#ifndef TOON_TEST_H
#define TOON_TEST_H

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_case {
    const char *name;
    void (*fn)(void);
};

extern jmp_buf test_jmp_;
extern int test_failed_;

#define TEST_FAIL_(...)                                                                            \
    do {                                                                                           \
        fprintf(stderr, "  %s:%d: ", __FILE__, __LINE__);                                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fprintf(stderr, "\n");                                                                     \
        test_failed_ = 1;                                                                          \
        longjmp(test_jmp_, 1);                                                                     \
    } while (0)

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) TEST_FAIL_("CHECK(%s) failed", #cond);                                        \
    } while (0)
#define CHECK_INT(a, op, b)                                                                        \
    do {                                                                                           \
        long long a_ = (long long)(a), b_ = (long long)(b);                                        \
        if (!(a_ op b_)) TEST_FAIL_("%s %s %s: %lld vs %lld", #a, #op, #b, a_, b_);                \
    } while (0)
#define CHECK_EQ(a, b) CHECK_INT(a, ==, b)
#define CHECK_NEAR(a, b, tol)                                                                      \
    do {                                                                                           \
        double a_ = (double)(a), b_ = (double)(b);                                                 \
        if (!(fabs(a_ - b_) <= (tol)))                                                             \
            TEST_FAIL_("|%s - %s| <= %g: %.9g vs %.9g", #a, #b, (double)(tol), a_, b_);            \
    } while (0)
#define CHECK_OK(expr)                                                                             \
    do {                                                                                           \
        enum toon_status st_ = (expr);                                                             \
        if (st_ != TOON_STATUS_OK) TEST_FAIL_("%s -> %s", #expr, toon_status_str(st_));            \
    } while (0)
#define CHECK_STR_EQ(a, b)                                                                         \
    do {                                                                                           \
        const char *a_ = (a), *b_ = (b);                                                           \
        if (!a_ || strcmp(a_, b_) != 0)                                                            \
            TEST_FAIL_("%s == \"%s\": \"%s\"", #a, b_, a_ ? a_ : "(null)");                        \
    } while (0)
#define CHECK_STR_CONTAINS(hay, needle)                                                            \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (!h_ || !strstr(h_, n_))                                                                \
            TEST_FAIL_("\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", n_);                  \
    } while (0)

int test_main_(const struct test_case *tests, int n_tests, int argc, char **argv);
#define TEST_MAIN(table)                                                                           \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        return test_main_(table, (int)(sizeof table / sizeof table[0]), argc, argv);               \
    }

/* Paths: ../shared beside the checkout (override with TOONIFY_SHARED), model dir. */
const char *test_shared_dir(void);
const char *test_model_path(const char *file); /* static buffer, valid until next call */
const char *test_tmp_dir(void);
/* Reads a whole file; aborts the test with a clear message when it is missing. */
unsigned char *test_read_file(const char *path, size_t *len);

#endif
