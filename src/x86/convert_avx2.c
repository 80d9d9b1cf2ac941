/* htcodec: output conversion of contiguous rows, AVX2; bit-identical to
 * src/transform/convert.c: clamp (before the shift), add the shift
 * (wrapping), keep the low 8, 16 or 32 bits. Float rows: max(v, flo),
 * min(., fhi) (NaN gives flo, as MAXPS with flo second), round to nearest
 * even (the default MXCSR mode, as lrintf). */
#include <immintrin.h>
#include <math.h>
#include <string.h>

#include "transform/transform.h"

static inline int32_t clamp_shift(int32_t v, int32_t lo, int32_t hi, int32_t shift)
{
    v = v < lo ? lo : v > hi ? hi : v;
    return (int32_t)((uint32_t)v + (uint32_t)shift);
}

static inline int32_t round_clamp_shift(float v, float flo, float fhi, int32_t shift)
{
    float x = v > flo ? v : flo;
    x = x < fhi ? x : fhi;
    return (int32_t)((uint32_t)(int32_t)lrintf(x) + (uint32_t)shift);
}

/* 32 results (int32 lanes, low byte meant) to 32 bytes in order. */
static inline __m256i pack8(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i m = _mm256_set1_epi32(0xff);
    const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, m), _mm256_and_si256(b, m));
    const __m256i cd = _mm256_packus_epi32(_mm256_and_si256(c, m), _mm256_and_si256(d, m));
    const __m256i v = _mm256_packus_epi16(ab, cd);
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static inline __m256i pack16(__m256i a, __m256i b)
{
    const __m256i m = _mm256_set1_epi32(0xffff);
    const __m256i ab = _mm256_packus_epi32(_mm256_and_si256(a, m), _mm256_and_si256(b, m));
    return _mm256_permute4x64_epi64(ab, 0xd8);
}

#define CLAMP_I(p)                                                                      \
    _mm256_add_epi32(_mm256_min_epi32(_mm256_max_epi32(_mm256_loadu_si256((const __m256i *)(p)), \
                                                       vlo), vhi), vsh)
#define CLAMP_F(p)                                                                      \
    _mm256_add_epi32(_mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(_mm256_loadu_ps(p), vflo), \
                                                      vfhi)), vsh)

static void cvt_i32_8_avx2(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                           int32_t shift)
{
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(d + i), pack8(CLAMP_I(src + i), CLAMP_I(src + i + 8),
                                                      CLAMP_I(src + i + 16), CLAMP_I(src + i + 24)));
    for (; i < n; i++)
        d[i] = (uint8_t)clamp_shift(src[i], lo, hi, shift);
}

static void cvt_i32_16_avx2(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                            int32_t shift)
{
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst; /* rows need not be aligned */
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(d + 2 * i), pack16(CLAMP_I(src + i), CLAMP_I(src + i + 8)));
    for (; i < n; i++)
        {
            const uint16_t u = (uint16_t)clamp_shift(src[i], lo, hi, shift);
            memcpy(d + 2 * i, &u, 2);
        }
}

static void cvt_i32_32_avx2(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                            int32_t shift)
{
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst; /* rows need not be aligned */
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_si256((__m256i *)(d + 4 * i), CLAMP_I(src + i));
    for (; i < n; i++)
        {
            const uint32_t u = (uint32_t)clamp_shift(src[i], lo, hi, shift);
            memcpy(d + 4 * i, &u, 4);
        }
}

static void cvt_f32_8_avx2(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                           int32_t shift, float flo, float fhi)
{
    const __m256 vflo = _mm256_set1_ps(flo), vfhi = _mm256_set1_ps(fhi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst;
    size_t i = 0;
    for (; i + 32 <= n; i += 32)
        _mm256_storeu_si256((__m256i *)(d + i), pack8(CLAMP_F(src + i), CLAMP_F(src + i + 8),
                                                      CLAMP_F(src + i + 16), CLAMP_F(src + i + 24)));
    for (; i < n; i++)
        d[i] = (uint8_t)round_clamp_shift(src[i], flo, fhi, shift);
}

static void cvt_f32_16_avx2(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                            int32_t shift, float flo, float fhi)
{
    const __m256 vflo = _mm256_set1_ps(flo), vfhi = _mm256_set1_ps(fhi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst; /* rows need not be aligned */
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(d + 2 * i), pack16(CLAMP_F(src + i), CLAMP_F(src + i + 8)));
    for (; i < n; i++)
        {
            const uint16_t u = (uint16_t)round_clamp_shift(src[i], flo, fhi, shift);
            memcpy(d + 2 * i, &u, 2);
        }
}

static void cvt_f32_32_avx2(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                            int32_t shift, float flo, float fhi)
{
    const __m256 vflo = _mm256_set1_ps(flo), vfhi = _mm256_set1_ps(fhi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    uint8_t *d = dst; /* rows need not be aligned */
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_si256((__m256i *)(d + 4 * i), CLAMP_F(src + i));
    for (; i < n; i++)
        {
            const uint32_t u = (uint32_t)round_clamp_shift(src[i], flo, fhi, shift);
            memcpy(d + 4 * i, &u, 4);
        }
}

/* 16 results of one plane (two vectors of 8) as 16 ordered bytes. */
static inline __m128i bytes16(__m256i a, __m256i b)
{
    const __m256i m = _mm256_set1_epi32(0xff);
    const __m256i t = _mm256_permute4x64_epi64(
        _mm256_packus_epi32(_mm256_and_si256(a, m), _mm256_and_si256(b, m)), 0xd8);
    return _mm_packus_epi16(_mm256_castsi256_si128(t), _mm256_extracti128_si256(t, 1));
}

/* 16 pixels: planes r, g, b (16 bytes each) to 48 interleaved bytes. */
static inline void store_rgb16(uint8_t *d, __m128i r, __m128i g, __m128i b)
{
    /* For output byte j of block o: pixel (16o + j) / 3, channel (16o + j) % 3. */
    static const int8_t idx[3][3][16] = {
        { { 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1, 5 },
          { -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1, -1 },
          { -1, -1, 0, -1, -1, 1, -1, -1, 2, -1, -1, 3, -1, -1, 4, -1 } },
        { { -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10, -1 },
          { 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1, 10 },
          { -1, 5, -1, -1, 6, -1, -1, 7, -1, -1, 8, -1, -1, 9, -1, -1 } },
        { { -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1, -1 },
          { -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15, -1 },
          { 10, -1, -1, 11, -1, -1, 12, -1, -1, 13, -1, -1, 14, -1, -1, 15 } },
    };
    for (int o = 0; o < 3; o++) {
        const __m128i v = _mm_or_si128(
            _mm_or_si128(_mm_shuffle_epi8(r, _mm_loadu_si128((const __m128i *)idx[o][0])),
                         _mm_shuffle_epi8(g, _mm_loadu_si128((const __m128i *)idx[o][1]))),
            _mm_shuffle_epi8(b, _mm_loadu_si128((const __m128i *)idx[o][2])));
        _mm_storeu_si128((__m128i *)(d + 16 * o), v);
    }
}

static void cvt3_i32_8_avx2(const int32_t *s0, const int32_t *s1, const int32_t *s2, uint8_t *d,
                            size_t n, int32_t lo, int32_t hi, int32_t shift)
{
    const __m256i vlo = _mm256_set1_epi32(lo), vhi = _mm256_set1_epi32(hi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        store_rgb16(d + 3 * i, bytes16(CLAMP_I(s0 + i), CLAMP_I(s0 + i + 8)),
                    bytes16(CLAMP_I(s1 + i), CLAMP_I(s1 + i + 8)),
                    bytes16(CLAMP_I(s2 + i), CLAMP_I(s2 + i + 8)));
    for (; i < n; i++) {
        d[3 * i] = (uint8_t)clamp_shift(s0[i], lo, hi, shift);
        d[3 * i + 1] = (uint8_t)clamp_shift(s1[i], lo, hi, shift);
        d[3 * i + 2] = (uint8_t)clamp_shift(s2[i], lo, hi, shift);
    }
}

static void cvt3_f32_8_avx2(const float *s0, const float *s1, const float *s2, uint8_t *d,
                            size_t n, int32_t lo, int32_t hi, int32_t shift, float flo, float fhi)
{
    const __m256 vflo = _mm256_set1_ps(flo), vfhi = _mm256_set1_ps(fhi);
    const __m256i vsh = _mm256_set1_epi32(shift);
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        store_rgb16(d + 3 * i, bytes16(CLAMP_F(s0 + i), CLAMP_F(s0 + i + 8)),
                    bytes16(CLAMP_F(s1 + i), CLAMP_F(s1 + i + 8)),
                    bytes16(CLAMP_F(s2 + i), CLAMP_F(s2 + i + 8)));
    for (; i < n; i++) {
        d[3 * i] = (uint8_t)round_clamp_shift(s0[i], flo, fhi, shift);
        d[3 * i + 1] = (uint8_t)round_clamp_shift(s1[i], flo, fhi, shift);
        d[3 * i + 2] = (uint8_t)round_clamp_shift(s2[i], flo, fhi, shift);
    }
}

void htc_convert_init_avx2(HtcTransformDSP *dsp)
{
    dsp->cvt3_i32_8 = cvt3_i32_8_avx2;
    dsp->cvt3_f32_8 = cvt3_f32_8_avx2;
    dsp->cvt_i32_8 = cvt_i32_8_avx2;
    dsp->cvt_i32_16 = cvt_i32_16_avx2;
    dsp->cvt_i32_32 = cvt_i32_32_avx2;
    dsp->cvt_f32_8 = cvt_f32_8_avx2;
    dsp->cvt_f32_16 = cvt_f32_16_avx2;
    dsp->cvt_f32_32 = cvt_f32_32_avx2;
}
