/* htcodec: copies into buffers that the CPU will not read again soon. */
#include <string.h>

#include "internal.h"

#if defined(__x86_64__) || defined(_M_X64)
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
