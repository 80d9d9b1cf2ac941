/* htc command line: a small SHA-256 (FIPS 180-4) for bench checksums. */
#ifndef HTC_TOOLS_SHA256_H
#define HTC_TOOLS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct HtcSha256 {
    uint32_t h[8];
    uint64_t length;     /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;         /* bytes waiting in block */
} HtcSha256;

void htc_sha256_init(HtcSha256 *c);
void htc_sha256_update(HtcSha256 *c, const void *data, size_t size);
/* Writes the 32-byte digest. */
void htc_sha256_final(HtcSha256 *c, uint8_t digest[32]);
/* Writes the digest as 64 lower-case hex digits and a NUL. */
void htc_sha256_hex(const uint8_t digest[32], char hex[65]);

#endif
