/* htcodec: the Part 1 code-block decoder's entry points: the plain C build
 * of coding/t1_decode_impl.h, and the choice between it and the x86 build
 * (x86/t1_avx2.c) by the CPU flags (HTC_CPUMASK turns the latter off). */
#include "cpu.h"
#include "coding/t1_decode_impl.h"

int htc_t1_decode_block_c(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                          uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
    return t1_decode_block(p, out, stride, undecoded_planes, scratch, scratch_size);
}

int htc_t1_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                        uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
#if defined(__x86_64__)
    if (htc_cpu_flags() & HTC_CPU_AVX2)
        return htc_t1_decode_block_avx2(p, out, stride, undecoded_planes, scratch, scratch_size);
#endif
    return t1_decode_block(p, out, stride, undecoded_planes, scratch, scratch_size);
}
