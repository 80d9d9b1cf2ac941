/* What the transform kernel tests share: a seeded xorshift generator (each
 * test defines TV_SEED before including this) and the kernel tables to
 * compare, plain C first, then each ISA the CPU has. */
#ifndef HTC_TRANSFORM_VARIANTS_H
#define HTC_TRANSFORM_VARIANTS_H

#include "cpu.h"
#include "transform/transform.h"

static uint64_t rng_state = TV_SEED;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

typedef struct Variant {
    const char *name;
    HtcTransformDSP dsp;
} Variant;
static Variant variants[4];
static int num_variants;

/* with_ref: the line-by-line reference table first (the one every other
 * table must match), as test_dwt wants. */
static void init_variants(int with_ref)
{
    const uint32_t hw = htc_cpu_flags();
    num_variants = 0;
    if (with_ref) {
        htc_transform_dsp_init_ref(&variants[num_variants].dsp);
        variants[num_variants++].name = "ref";
    }
    htc_transform_dsp_init(&variants[num_variants].dsp, 0);
    variants[num_variants++].name = "c";
    if (hw & HTC_CPU_AVX2) {
        htc_transform_dsp_init(&variants[num_variants].dsp, HTC_CPU_AVX2);
        variants[num_variants++].name = "avx2";
    }
    if ((hw & HTC_CPU_AVX512) && (hw & HTC_CPU_AVX2)) {
        htc_transform_dsp_init(&variants[num_variants].dsp, HTC_CPU_AVX2 | HTC_CPU_AVX512);
        variants[num_variants++].name = "avx512";
    }
}

#endif /* HTC_TRANSFORM_VARIANTS_H */
