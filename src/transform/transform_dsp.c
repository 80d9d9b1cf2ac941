/* htcodec: the transform kernel tables: plain C, upgraded by ISA from the
 * CPU flags; the default table is made once for htc_cpu_flags(). */
#include <pthread.h>

#include "cpu.h"
#include "transform/transform.h"

void htc_transform_dsp_init_ref(HtcTransformDSP *dsp)
{
    htc_idwt53_init_c(dsp);
    htc_idwt97_init_c(dsp);
    htc_dequant_init_c(dsp);
    htc_colour_init_c(dsp);
    htc_convert_init_c(dsp);
}

void htc_transform_dsp_init(HtcTransformDSP *dsp, uint32_t flags)
{
    htc_transform_dsp_init_ref(dsp);
    htc_dwt_init_c(dsp);
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

/* One table per combination of the ISA bits that matter here. */
static HtcTransformDSP tables[4];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static uint32_t table_index(uint32_t flags)
{
    return (flags & HTC_CPU_AVX2 ? 1u : 0u) | (flags & HTC_CPU_AVX2 && flags & HTC_CPU_AVX512 ? 2u : 0u);
}

static void init_tables(void)
{
    static const uint32_t flags[4] = { 0, HTC_CPU_AVX2, 0, HTC_CPU_AVX2 | HTC_CPU_AVX512 };
    for (int i = 0; i < 4; i++)
        htc_transform_dsp_init(&tables[i], flags[i]);
}

const HtcTransformDSP *htc_transform_dsp_for(uint32_t cpu_mask)
{
    pthread_once(&tables_once, init_tables);
    return &tables[table_index(htc_cpu_flags() & cpu_mask)];
}

const HtcTransformDSP *htc_transform_dsp(void) { return htc_transform_dsp_for(HTC_CPU_ALL); }
