/* htcodec: CPU feature detection (CPUID + XGETBV), once, with a mask from
 * the environment (HTC_CPUMASK) for tests. */
#include <stdatomic.h>
#include <stdlib.h>

#include "cpu.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t read_xcr0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

static uint32_t detect(void)
{
    uint32_t a, b, c, d, flags = 0;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return 0;
    if (c & bit_SSE4_1)
        flags |= HTC_CPU_SSE41;
    /* AVX state must be enabled by the OS (OSXSAVE, XCR0 bits 1 and 2). */
    if (!(c & bit_OSXSAVE) || !(c & bit_AVX) || !(c & bit_FMA))
        return flags;
    const uint64_t xcr0 = read_xcr0();
    if ((xcr0 & 6) != 6)
        return flags;
    if (__get_cpuid_max(0, NULL) < 7)
        return flags;
    __cpuid_count(7, 0, a, b, c, d);
    const int avx2 = (b & bit_AVX2) && (b & bit_BMI) && (b & bit_BMI2);
    if (avx2)
        flags |= HTC_CPU_AVX2;
    /* AVX-512 F, BW, VL, DQ and the opmask/ZMM state (XCR0 bits 5, 6, 7). */
    const uint32_t avx512 = bit_AVX512F | bit_AVX512BW | bit_AVX512VL | bit_AVX512DQ;
    if (avx2 && (b & avx512) == avx512 && (xcr0 & 0xe0) == 0xe0)
        flags |= HTC_CPU_AVX512;
    return flags;
}
#else
static uint32_t detect(void) { return 0; }
#endif

/* Bit 31 marks "computed"; no ISA uses it. */
#define CPU_KNOWN 0x80000000u

static _Atomic uint32_t cached_raw, cached_masked;

uint32_t htc_cpu_flags_raw(void)
{
    uint32_t v = atomic_load_explicit(&cached_raw, memory_order_relaxed);
    if (!(v & CPU_KNOWN)) {
        v = detect() | CPU_KNOWN; /* racing threads compute the same value */
        atomic_store_explicit(&cached_raw, v, memory_order_relaxed);
    }
    return v & ~CPU_KNOWN;
}

uint32_t htc_cpu_flags(void)
{
    uint32_t v = atomic_load_explicit(&cached_masked, memory_order_relaxed);
    if (!(v & CPU_KNOWN)) {
        v = htc_cpu_flags_raw();
        const char *env = getenv("HTC_CPUMASK");
        if (env && *env) {
            char *end;
            const unsigned long m = strtoul(env, &end, 0);
            if (*end == 0)
                v &= (uint32_t)m;
        }
        v |= CPU_KNOWN;
        atomic_store_explicit(&cached_masked, v, memory_order_relaxed);
    }
    return v & ~CPU_KNOWN;
}
