/* htcodec: AVX-512 MagSgn row kernel of the HT cleanup pass: four quads
 * (16 samples) at a time, as the AVX2 kernel does two. The bit counts m_n
 * are summed (exclusive prefix over the 16 lanes) into offsets in a window
 * of the unstuffed MagSgn buffer at the first quad's byte: two 64-byte
 * halves, loaded with masks so that only the dwords holding consumed bits
 * are read (the kernel reads no further than the C one). Each sample's
 * 32-bit field comes from two window dwords (two-table permutes). Same
 * results as htc_ht_magsgn_row_c; the AVX2 kernel takes the rest of a row. */
#include <immintrin.h>
#include <string.h>

#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"

/* x shifted up by k lanes (lane i gets x[i - k], zeros below). */
#define UP(x, k) _mm512_alignr_epi32((x), _mm512_setzero_si512(), 16 - (k))

void htc_ht_magsgn_row_avx512(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                              uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                              uint32_t yin, uint32_t *vb)
{
    uint32_t i = 0;
    {
        const __m512i quad_of = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3);
        const __m512i n4 = _mm512_setr_epi32(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3);
        const __m512i rho_shift = _mm512_add_epi32(n4, _mm512_set1_epi32(4));
        const __m512i e1_shift = _mm512_add_epi32(n4, _mm512_set1_epi32(8));
        const __m512i ek_shift = _mm512_add_epi32(n4, _mm512_set1_epi32(12));
        const __m512i one = _mm512_set1_epi32(1);
        const __m512i ones = _mm512_set1_epi32(-1);
        const __m512i c31 = _mm512_set1_epi32(31);
        const __m512i c32 = _mm512_set1_epi32(32);
        /* lanes TL BL TR BR of four quads -> row 0 (TL TR ...), row 1 */
        const __m512i rows =
            _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        const __m128i pshift = _mm_cvtsi32_si128((int)p);
        size_t bitpos = *pos;
        for (; i + 3 < nq && 2 * i + 8 <= w; i += 4) {
            uint64_t q4;
            uint32_t u4;
            memcpy(&q4, q + i, 8);
            memcpy(&u4, U + i, 4);
            const __m512i qv =
                _mm512_permutexvar_epi32(quad_of, _mm512_cvtepu16_epi32(_mm256_zextsi128_si256(_mm_cvtsi64_si128((long long)q4))));
            const __m512i uv =
                _mm512_permutexvar_epi32(quad_of, _mm512_cvtepu8_epi32(_mm_cvtsi32_si128((int)u4)));
            const __m512i sig = _mm512_and_si512(_mm512_srlv_epi32(qv, rho_shift), one);
            const __m512i e1 = _mm512_and_si512(_mm512_srlv_epi32(qv, e1_shift), one);
            const __m512i ek = _mm512_and_si512(_mm512_srlv_epi32(qv, ek_shift), one);
            const __m512i sigm = _mm512_sub_epi32(_mm512_setzero_si512(), sig);
            const __m512i m = _mm512_and_si512(_mm512_sub_epi32(uv, ek), sigm);
            /* inclusive prefix sums over the 16 lanes */
            __m512i incl = _mm512_add_epi32(m, UP(m, 1));
            incl = _mm512_add_epi32(incl, UP(incl, 2));
            incl = _mm512_add_epi32(incl, UP(incl, 4));
            incl = _mm512_add_epi32(incl, UP(incl, 8));
            const uint32_t total =
                (uint32_t)_mm_extract_epi32(_mm512_extracti32x4_epi32(incl, 3), 3);
            const uint32_t b0 = (uint32_t)(bitpos & 7);
            const uint8_t *base = ms + (bitpos >> 3);
            /* dwords holding bits [b0, b0 + total): at most 17 */
            const uint32_t ndw = (b0 + total + 31) >> 5;
            const __mmask16 m0 = (__mmask16)(ndw >= 16 ? 0xFFFF : (1u << ndw) - 1);
            const __mmask16 m1 = (__mmask16)(ndw > 16 ? (1u << (ndw - 16)) - 1 : 0);
            const __m512i win0 = _mm512_maskz_loadu_epi32(m0, base);
            const __m512i win1 = _mm512_maskz_loadu_epi32(m1, base + 64);
            const __m512i off =
                _mm512_add_epi32(_mm512_sub_epi32(incl, m), _mm512_set1_epi32((int)b0));
            const __m512i k = _mm512_srli_epi32(off, 5);
            const __m512i s = _mm512_and_si512(off, c31);
            const __m512i lo = _mm512_permutex2var_epi32(win0, k, win1);
            const __m512i hi = _mm512_permutex2var_epi32(win0, _mm512_add_epi32(k, one), win1);
            /* 32 bits from bit s of lo:hi (a count of 32 shifts in zeros) */
            __m512i v = _mm512_or_si512(_mm512_srlv_epi32(lo, s),
                                        _mm512_sllv_epi32(hi, _mm512_sub_epi32(c32, s)));
            v = _mm512_andnot_si512(_mm512_sllv_epi32(ones, m), v);
            v = _mm512_or_si512(v, _mm512_sllv_epi32(e1, m));
            /* value: (((v >> 1) + 1) << p) where significant, sign from bit 0 */
            __m512i mag = _mm512_add_epi32(_mm512_srli_epi32(v, 1), one);
            mag = _mm512_and_si512(_mm512_sll_epi32(mag, pshift), sigm);
            const __m512i sign = _mm512_sub_epi32(_mm512_setzero_si512(), _mm512_and_si512(v, one));
            const __m512i val = _mm512_sub_epi32(_mm512_xor_si512(mag, sign), sign);
            const __m512i r = _mm512_permutexvar_epi32(rows, val);
            _mm256_storeu_si256((__m256i *)(o + 2 * i), _mm512_castsi512_si256(r));
            if (yin == 2)
                _mm256_storeu_si256((__m256i *)(o + stride + 2 * i), _mm512_extracti64x4_epi64(r, 1));
            const __m512i vbv =
                _mm512_permutexvar_epi32(rows, _mm512_and_si512(_mm512_or_si512(v, one), sigm));
            _mm256_storeu_si256((__m256i *)(vb + 2 * i), _mm512_extracti64x4_epi64(vbv, 1));
            bitpos += total;
        }
        *pos = bitpos;
    }
    if (i < nq)
        htc_ht_magsgn_row_avx2(ms, pos, q + i, U + i, nq - i, p, o + 2 * i, stride, w - 2 * i, yin,
                               vb + 2 * i);
}

/* U of a row, sixteen quads a step. The exponents above were stored by
 * the MagSgn kernels moments before (32- and 16-byte stores at multiples
 * of 8 and 4 entries): they are read back in 16-byte pieces at multiples
 * of 4, which a store can forward to (a wider or shifted load spanning two
 * stores waits until they reach the cache), the neighbours' values moved
 * into place in registers; bit lengths from the exponent of a float
 * conversion rounded toward zero. */
static inline __m512i load16x4(const uint32_t *e)
{
    const __m256i lo = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)e)),
                                               _mm_loadu_si128((const __m128i *)(e + 4)), 1);
    const __m256i hi = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(e + 8))),
                                               _mm_loadu_si128((const __m128i *)(e + 12)), 1);
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

uint32_t htc_ht_u_row_avx512(const uint16_t *q, const uint8_t *u, const uint32_t *e_up,
                             uint32_t nq, uint32_t umax, uint8_t *U)
{
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i c126 = _mm512_set1_epi32(126);
    const __m512i c15 = _mm512_set1_epi32(15);
    const __m512i vmax = _mm512_set1_epi32((int)umax);
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, one);
    uint32_t bad = 0, i = 0;
    /* reads e_up from index 2 i - 1 to 2 i + 32 <= 2 nq */
    for (; i + 16 <= nq; i += 16) {
        const uint32_t *e = e_up + 2 * i;
        const __m512i a = load16x4(e), b = load16x4(e + 16);
        const __m512i ev = _mm512_permutex2var_epi32(a, even, b); /* e[2j] */
        const __m512i od = _mm512_permutex2var_epi32(a, odd, b);  /* e[2j + 1] */
        const __m512i left = _mm512_alignr_epi32(od, _mm512_set1_epi32((int)e[-1]), 15);
        const __m512i right = _mm512_alignr_epi32(_mm512_set1_epi32((int)e[32]), ev, 1);
        const __m512i x = _mm512_or_si512(_mm512_or_si512(_mm512_or_si512(ev, od), _mm512_or_si512(left, right)), one);
        const __m512i f = _mm512_castps_si512(
            _mm512_cvt_roundepu32_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
        const __m512i len = _mm512_sub_epi32(_mm512_srli_epi32(f, 23), c126);
        const __m512i k = _mm512_max_epi32(_mm512_sub_epi32(len, one), one);
        const __m512i qv = _mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(q + i)));
        const __m512i rho = _mm512_and_si512(_mm512_srli_epi32(qv, 4), c15);
        const __mmask16 multi = _mm512_test_epi32_mask(rho, _mm512_sub_epi32(rho, one));
        const __m512i uv = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(u + i)));
        const __m512i v = _mm512_add_epi32(uv, _mm512_mask_blend_epi32(multi, one, k));
        bad |= (uint32_t)_mm512_cmpgt_epu32_mask(v, vmax);
        _mm_storeu_si128((__m128i *)(U + i), _mm512_cvtepi32_epi8(v));
    }
    if (i < nq)
        bad |= htc_ht_u_row_avx2(q + i, u + i, e_up + 2 * i, nq - i, umax, U + i);
    return bad;
}
