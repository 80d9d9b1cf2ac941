/* htcodec: the two-phase HT cleanup pass (coding/ht_cleanup_impl.h)
 * compiled for CPUs with AVX2 (the build gives *_avx2.c files -mavx2
 * -mbmi -mbmi2 -mlzcnt): the same source as htc_ht_cleanup_cpu, so the
 * same output; the VLC phase's variable shifts and masks become single
 * BMI2 instructions (shrx, shlx, bzhi), which need no CL register: about
 * 11 % fewer instructions in that phase (callgrind, mammogram blocks). */
#if defined(__x86_64__)
#include "coding/ht_cleanup_impl.h"

int htc_ht_cleanup_cpu_avx2(const HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                            uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                            void *scratch)
{
    return ht_cleanup_cpu(dsp, seg, lcup, w, h, p, umax, out, stride, scratch);
}
#endif
