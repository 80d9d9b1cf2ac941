/* htcodec: inverse RCT and ICT (G.2, G.3), AVX2; bit-identical to
 * src/transform/colour.c (same float operation order, no FMA). */
#include <immintrin.h>

#include "transform/transform.h"

static void rct_avx2(int32_t *c0, int32_t *c1, int32_t *c2, size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i y0 = _mm256_loadu_si256((const __m256i *)(c0 + i));
        const __m256i y1 = _mm256_loadu_si256((const __m256i *)(c1 + i));
        const __m256i y2 = _mm256_loadu_si256((const __m256i *)(c2 + i));
        const __m256i i1 = _mm256_sub_epi32(y0, _mm256_srai_epi32(_mm256_add_epi32(y2, y1), 2));
        _mm256_storeu_si256((__m256i *)(c0 + i), _mm256_add_epi32(y2, i1));
        _mm256_storeu_si256((__m256i *)(c1 + i), i1);
        _mm256_storeu_si256((__m256i *)(c2 + i), _mm256_add_epi32(y1, i1));
    }
    for (; i < n; i++) {
        const int32_t y0 = c0[i], y1 = c1[i], y2 = c2[i];
        const int32_t i1 = (int32_t)((uint32_t)y0 - (uint32_t)((int32_t)((uint32_t)y2 + (uint32_t)y1) >> 2));
        c0[i] = (int32_t)((uint32_t)y2 + (uint32_t)i1);
        c1[i] = i1;
        c2[i] = (int32_t)((uint32_t)y1 + (uint32_t)i1);
    }
}

static void ict_avx2(float *c0, float *c1, float *c2, size_t n)
{
    const __m256 kr = _mm256_set1_ps(1.402f), kg1 = _mm256_set1_ps(0.34413f);
    const __m256 kg2 = _mm256_set1_ps(0.71414f), kb = _mm256_set1_ps(1.772f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 y0 = _mm256_loadu_ps(c0 + i), y1 = _mm256_loadu_ps(c1 + i);
        const __m256 y2 = _mm256_loadu_ps(c2 + i);
        const __m256 g = _mm256_sub_ps(y0, _mm256_mul_ps(kg1, y1));
        _mm256_storeu_ps(c0 + i, _mm256_add_ps(y0, _mm256_mul_ps(kr, y2)));
        _mm256_storeu_ps(c1 + i, _mm256_sub_ps(g, _mm256_mul_ps(kg2, y2)));
        _mm256_storeu_ps(c2 + i, _mm256_add_ps(y0, _mm256_mul_ps(kb, y1)));
    }
    for (; i < n; i++) {
        const float y0 = c0[i], y1 = c1[i], y2 = c2[i];
        const float r2 = 1.402f * y2;
        const float g1 = 0.34413f * y1;
        const float g2 = 0.71414f * y2;
        const float b1 = 1.772f * y1;
        const float g = y0 - g1;
        c0[i] = y0 + r2;
        c1[i] = g - g2;
        c2[i] = y0 + b1;
    }
}

void htc_colour_init_avx2(HtcTransformDSP *dsp)
{
    dsp->rct = rct_avx2;
    dsp->ict = ict_avx2;
}
