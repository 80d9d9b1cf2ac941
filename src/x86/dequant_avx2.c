/* htcodec: dequantisation kernels (E.1), AVX2; bit-identical to
 * src/transform/dequant.c. */
#include <immintrin.h>

#include "transform/transform.h"

static void dequant_rev_avx2(const int32_t *src, int32_t *dst, size_t n, int32_t half)
{
    const __m256i hv = _mm256_set1_epi32(half), zero = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(src + i));
        const __m256i nz = _mm256_andnot_si256(_mm256_cmpeq_epi32(q, zero), hv);
        const __m256i v = _mm256_add_epi32(_mm256_abs_epi32(q), nz);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_sign_epi32(v, q));
    }
    for (; i < n; i++) {
        const int32_t q = src[i];
        const uint32_t m = q < 0 ? 0u - (uint32_t)q : (uint32_t)q;
        const uint32_t v = m + (q ? (uint32_t)half : 0u);
        dst[i] = (int32_t)(q < 0 ? 0u - v : v);
    }
}

static void dequant_irr_avx2(const int32_t *src, float *dst, size_t n, float r, float delta)
{
    const __m256 rv = _mm256_set1_ps(r), dv = _mm256_set1_ps(delta);
    const __m256i zero = _mm256_setzero_si256(), sign = _mm256_set1_epi32(INT32_MIN);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i q = _mm256_loadu_si256((const __m256i *)(src + i));
        const __m256 a = _mm256_add_ps(_mm256_cvtepi32_ps(_mm256_abs_epi32(q)), rv);
        const __m256i v = _mm256_castps_si256(_mm256_mul_ps(a, dv));
        const __m256i s = _mm256_xor_si256(v, _mm256_and_si256(q, sign));
        const __m256i z = _mm256_andnot_si256(_mm256_cmpeq_epi32(q, zero), s);
        _mm256_storeu_si256((__m256i *)(dst + i), z);
    }
    for (; i < n; i++) {
        const int32_t q = src[i];
        const int32_t m = q < 0 ? (int32_t)(0u - (uint32_t)q) : q;
        const float a = (float)m + r;
        const float v = a * delta;
        dst[i] = q == 0 ? 0.0f : q < 0 ? -v : v;
    }
}

void htc_dequant_init_avx2(HtcTransformDSP *dsp)
{
    dsp->dequant_rev = dequant_rev_avx2;
    dsp->dequant_irr = dequant_irr_avx2;
}
