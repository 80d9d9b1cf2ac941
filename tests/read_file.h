/* Reads a whole file into memory from malloc: NULL (and *size 0) when it
 * cannot be opened or read, or is empty. Shared by the tests and the
 * bench tools. */
#ifndef HTC_TEST_READ_FILE_H
#define HTC_TEST_READ_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static inline uint8_t *htc_test_read_file(const char *path, size_t *size)
{
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    const long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = n > 0 ? malloc((size_t)n) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b)
        *size = (size_t)n;
    return b;
}

#endif /* HTC_TEST_READ_FILE_H */
