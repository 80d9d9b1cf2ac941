/* htcodec: copies into buffers that the CPU will not read again soon, and
 * cache lines written back before a DMA reads them. */
#include <string.h>

#include "internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#elif defined(__x86_64__) || defined(_M_X64)
#include <emmintrin.h>
#endif

/* The GPU path copies each chunk's codestreams into pinned memory that only
 * the device's DMA reads. Plain stores first read every destination line
 * (read for ownership): a third of the copy's memory traffic, and the host
 * side of a batch is bound by that traffic. Non-temporal stores write whole
 * lines without reading them. The fence makes the stores visible before the
 * caller starts a DMA from dst. */
void htc_copy_nt(void *dst, const void *src, size_t n)
{
#if defined(__x86_64__) || defined(_M_X64)
    uint8_t *d = (uint8_t *)dst;
    const uint8_t *s = (const uint8_t *)src;
    size_t head = (size_t)(-(uintptr_t)d & 63);
    if (head > n)
        head = n;
    memcpy(d, s, head);
    d += head;
    s += head;
    n -= head;
    for (; n >= 64; n -= 64, d += 64, s += 64) {
        const __m128i a = _mm_loadu_si128((const __m128i *)s);
        const __m128i b = _mm_loadu_si128((const __m128i *)(s + 16));
        const __m128i c = _mm_loadu_si128((const __m128i *)(s + 32));
        const __m128i e = _mm_loadu_si128((const __m128i *)(s + 48));
        _mm_stream_si128((__m128i *)d, a);
        _mm_stream_si128((__m128i *)(d + 16), b);
        _mm_stream_si128((__m128i *)(d + 32), c);
        _mm_stream_si128((__m128i *)(d + 48), e);
    }
    memcpy(d, s, n);
    _mm_sfence();
#else
    memcpy(dst, src, n);
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
/* Each line of [p, end) once, by an address inside the range: p, then
 * the start of each later line. */
#define NEXT_LINE(p) ((const uint8_t *)(((uintptr_t)(p) | 63) + 1))

__attribute__((target("clwb"))) static void writeback_clwb(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p = NEXT_LINE(p))
        _mm_clwb((void *)p);
    _mm_sfence();
}

__attribute__((target("clflushopt"))) static void writeback_clflushopt(const uint8_t *p, const uint8_t *end)
{
    for (; p < end; p = NEXT_LINE(p))
        _mm_clflushopt((void *)p);
    _mm_sfence();
}

/* 2: clwb, 1: clflushopt, 0: neither (CPUID leaf 7, EBX bits 24 and 23). */
static int writeback_kind(void)
{
    static int kind = -1;
    int k = __atomic_load_n(&kind, __ATOMIC_RELAXED);
    if (k < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        k = 0;
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d))
            k = (b >> 24 & 1) ? 2 : (b >> 23 & 1) ? 1 : 0;
        __atomic_store_n(&kind, k, __ATOMIC_RELAXED);
    }
    return k;
}
#endif

/* Lines the CPU has just written with plain stores sit modified in the
 * writing core's caches, and a DMA that reads them goes at half speed
 * (4x H200 host, 15 threads writing, then one DMA: 0.8 MB 21.7 GB/s, 8 MB
 * 21.9, against 40.2 and 53.5 once written back; bench/h2d_bw --dirty).
 * Writing the lines back first (clwb, which keeps them cached clean, or
 * clflushopt) gives the DMA its full speed. */
void htc_writeback(const void *p, size_t n)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (!n)
        return;
    const uint8_t *a = (const uint8_t *)p, *end = a + n;
    const int k = writeback_kind();
    if (k == 2)
        writeback_clwb(a, end);
    else if (k == 1)
        writeback_clflushopt(a, end);
#else
    (void)p;
    (void)n;
#endif
}
