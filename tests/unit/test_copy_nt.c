/* htc_copy_nt: the same bytes as memcpy for every size and alignment of
 * source and destination, and nothing written outside the destination.
 * htc_writeback (a cache hint before a DMA) leaves every byte as it was,
 * for every size and alignment, up to the ends of the buffer. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "test.h"

int main(void)
{
    static uint8_t src[4096 + 128], dst[4096 + 256];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(src); i++) {
        x = x * 1103515245u + 12345u;
        src[i] = (uint8_t)(x >> 16);
    }
    static const size_t sizes[] = { 0, 1, 2, 15, 16, 17, 63, 64, 65, 127, 128, 129, 191, 200, 1000, 4096 };
    int bad = 0;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        for (size_t so = 0; so < 70; so += 3)
            for (size_t dof = 0; dof < 70; dof++) {
                const size_t n = sizes[k];
                memset(dst, 0xA5, sizeof(dst));
                htc_copy_nt(dst + 64 + dof, src + so, n);
                if (memcmp(dst + 64 + dof, src + so, n))
                    bad++;
                for (size_t i = 0; i < sizeof(dst); i++)
                    if ((i < 64 + dof || i >= 64 + dof + n) && dst[i] != 0xA5) {
                        bad++;
                        break;
                    }
            }
    CHECK_EQ_INT(bad, 0);

    int changed = 0;
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++)
        for (size_t off = 0; off < 70; off++) {
            const size_t n = sizes[k];
            memcpy(dst, src, sizeof(dst) < sizeof(src) ? sizeof(dst) : sizeof(src));
            for (size_t i = off; i < off + n && i < sizeof(dst); i++)
                dst[i] ^= 0x5A; /* freshly written lines, as the sealed tables are */
            const size_t len = off + n <= sizeof(dst) ? n : sizeof(dst) - off;
            htc_writeback(dst + off, len);
            for (size_t i = 0; i < sizeof(dst) && i < sizeof(src); i++)
                if (dst[i] != (uint8_t)(src[i] ^ (i >= off && i < off + len ? 0x5A : 0))) {
                    changed++;
                    break;
                }
        }
    htc_writeback(src + sizeof(src) - 1, 1); /* the last byte alone */
    CHECK_EQ_INT(changed, 0);
    return test_summary("copy_nt");
}
