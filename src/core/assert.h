/* TOON_ASSERT: for bugs only.  Bad input, environment and resource problems return a status. */
#ifndef TOON_CORE_ASSERT_H
#define TOON_CORE_ASSERT_H

void toon_assert_fail(const char *cond, const char *file, int line) __attribute__((noreturn));

#define TOON_ASSERT(cond)                                                                          \
    do {                                                                                           \
        if (!(cond)) toon_assert_fail(#cond, __FILE__, __LINE__);                                  \
    } while (0)

#endif
