/* htcodec: the Part 1 code-block decoder compiled for CPUs with AVX2 (the
 * build gives *_avx2.c files -mavx2 -mbmi -mbmi2 -mlzcnt): the same source
 * as the plain C decoder, coding/t1_decode_impl.h, so the same output; the
 * passes use the BMI shifts and bit counts. */
#if defined(__x86_64__)
#include "coding/t1_decode_impl.h"

int htc_t1_decode_block_avx2(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                             uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
    return t1_decode_block(p, out, stride, undecoded_planes, scratch, scratch_size);
}
#endif
