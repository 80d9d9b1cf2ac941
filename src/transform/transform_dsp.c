/* htcodec: the transform kernel tables: plain C, upgraded by ISA from the
 * CPU flags; the default table is made once for htc_cpu_flags(). */
#include <pthread.h>

#include "cpu.h"
#include "transform/transform.h"

void htc_transform_dsp_init(HtcTransformDSP *dsp, uint32_t flags)
{
    htc_idwt53_init_c(dsp);
    htc_idwt97_init_c(dsp);
    htc_dequant_init_c(dsp);
    htc_colour_init_c(dsp);
    htc_convert_init_c(dsp);
#if defined(__x86_64__)
    flags &= htc_cpu_flags_raw();
    if (flags & HTC_CPU_AVX2) {
        htc_dwt_init_avx2(dsp);
        htc_dequant_init_avx2(dsp);
        htc_colour_init_avx2(dsp);
        htc_convert_init_avx2(dsp);
    }
    if (flags & HTC_CPU_AVX512)
        htc_dwt_init_avx512(dsp);
#else
    (void)flags;
#endif
}

static HtcTransformDSP default_dsp;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void init_default(void) { htc_transform_dsp_init(&default_dsp, htc_cpu_flags()); }

const HtcTransformDSP *htc_transform_dsp(void)
{
    pthread_once(&default_once, init_default);
    return &default_dsp;
}
