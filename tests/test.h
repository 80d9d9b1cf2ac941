/* A tiny assertion helper for the C tests: CHECK counts, test_summary
 * prints "N passed, N failed" and gives the exit code. Exit 77 = skipped. */
#ifndef HTC_TEST_H
#define HTC_TEST_H

#include <stdio.h>

static int test_passed, test_failed;

#define CHECK(cond)                                                             \
    do {                                                                        \
        if (cond) {                                                             \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                       \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                      \
    do {                                                                        \
        long long test_a = (long long)(a), test_b = (long long)(b);             \
        if (test_a == test_b) {                                                 \
            test_passed++;                                                      \
        } else {                                                                \
            test_failed++;                                                      \
            fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__, \
                    #a, test_a, #b, test_b);                                    \
        }                                                                       \
    } while (0)

static inline int test_summary(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, test_passed, test_failed);
    return test_failed ? 1 : 0;
}

#define TESTDATA "../shared/testdata"

#endif
