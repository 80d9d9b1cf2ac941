/* htcodec: AVX2 MagSgn row kernel of the HT cleanup pass: two quads (8
 * samples) at a time. The samples' bit counts m_n are summed (exclusive
 * prefix) into bit positions in the unstuffed MagSgn buffer, 64-bit words
 * are gathered there, shifted and masked; then v becomes the signed value.
 * Same results as htc_ht_magsgn_row_c, which handles the quads at the right
 * edge and single-row quads. */
#include <immintrin.h>

#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"

void htc_ht_magsgn_row_avx2(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                            uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                            uint32_t yin, uint32_t *vb)
{
    uint32_t i = 0;
    if (yin == 2) {
        const __m256i rho_shift = _mm256_setr_epi32(4, 5, 6, 7, 4, 5, 6, 7);
        const __m256i e1_shift = _mm256_setr_epi32(8, 9, 10, 11, 8, 9, 10, 11);
        const __m256i ek_shift = _mm256_setr_epi32(12, 13, 14, 15, 12, 13, 14, 15);
        const __m256i one = _mm256_set1_epi32(1);
        const __m256i ones64 = _mm256_set1_epi64x(-1);
        const __m256i seven = _mm256_set1_epi32(7);
        const __m256i low_half_total = _mm256_setr_epi32(0, 0, 0, 0, 3, 3, 3, 3);
        const __m256i high_mask = _mm256_setr_epi32(0, 0, 0, 0, -1, -1, -1, -1);
        const __m256i rows = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
        const __m256i pick_lo = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
        const __m128i pshift = _mm_cvtsi32_si128((int)p);
        size_t bitpos = *pos;
        /* pairs of quads whose 4 columns are all inside the block */
        for (; i + 1 < nq && 2 * i + 4 <= w; i += 2) {
            const __m256i qv = _mm256_setr_m128i(_mm_set1_epi32(q[i]), _mm_set1_epi32(q[i + 1]));
            const __m256i uv = _mm256_setr_m128i(_mm_set1_epi32(U[i]), _mm_set1_epi32(U[i + 1]));
            const __m256i sig = _mm256_and_si256(_mm256_srlv_epi32(qv, rho_shift), one);
            const __m256i e1 = _mm256_and_si256(_mm256_srlv_epi32(qv, e1_shift), one);
            const __m256i ek = _mm256_and_si256(_mm256_srlv_epi32(qv, ek_shift), one);
            const __m256i sigm = _mm256_sub_epi32(_mm256_setzero_si256(), sig);
            const __m256i m = _mm256_and_si256(_mm256_sub_epi32(uv, ek), sigm);
            /* inclusive prefix sum within each 128-bit half, then across */
            __m256i incl = _mm256_add_epi32(m, _mm256_slli_si256(m, 4));
            incl = _mm256_add_epi32(incl, _mm256_slli_si256(incl, 8));
            incl = _mm256_add_epi32(
                incl, _mm256_and_si256(_mm256_permutevar8x32_epi32(incl, low_half_total), high_mask));
            const __m256i excl =
                _mm256_add_epi32(_mm256_sub_epi32(incl, m), _mm256_set1_epi32((int)bitpos));
            const uint32_t total = (uint32_t)_mm256_extract_epi32(incl, 7);
            const __m256i byte_off = _mm256_srli_epi32(excl, 3);
            const __m256i bit_off = _mm256_and_si256(excl, seven);
            /* lanes 0-3 (quad i) and 4-7 (quad i + 1) as 64-bit words */
            const __m128i off_lo = _mm256_castsi256_si128(byte_off);
            const __m128i off_hi = _mm256_extracti128_si256(byte_off, 1);
            __m256i w_lo = _mm256_i32gather_epi64((const long long *)ms, off_lo, 1);
            __m256i w_hi = _mm256_i32gather_epi64((const long long *)ms, off_hi, 1);
            w_lo = _mm256_srlv_epi64(w_lo, _mm256_cvtepu32_epi64(_mm256_castsi256_si128(bit_off)));
            w_hi = _mm256_srlv_epi64(w_hi, _mm256_cvtepu32_epi64(_mm256_extracti128_si256(bit_off, 1)));
            const __m256i m_lo = _mm256_cvtepu32_epi64(_mm256_castsi256_si128(m));
            const __m256i m_hi = _mm256_cvtepu32_epi64(_mm256_extracti128_si256(m, 1));
            w_lo = _mm256_andnot_si256(_mm256_sllv_epi64(ones64, m_lo), w_lo);
            w_hi = _mm256_andnot_si256(_mm256_sllv_epi64(ones64, m_hi), w_hi);
            w_lo = _mm256_or_si256(w_lo, _mm256_sllv_epi64(
                                             _mm256_cvtepu32_epi64(_mm256_castsi256_si128(e1)), m_lo));
            w_hi = _mm256_or_si256(w_hi, _mm256_sllv_epi64(
                                             _mm256_cvtepu32_epi64(_mm256_extracti128_si256(e1, 1)), m_hi));
            /* back to 8 x 32 bits: v < 2^32 */
            const __m256i v = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(w_lo, pick_lo),
                                                 _mm256_permutevar8x32_epi32(w_hi, pick_lo), 0xF0);
            /* value: (((v >> 1) + 1) << p) where significant, sign from bit 0 */
            __m256i mag = _mm256_add_epi32(_mm256_srli_epi32(v, 1), one);
            mag = _mm256_and_si256(_mm256_sll_epi32(mag, pshift), sigm);
            const __m256i sign = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, one));
            const __m256i val = _mm256_sub_epi32(_mm256_xor_si256(mag, sign), sign);
            /* lanes TL BL TR BR of two quads -> row 0 (TL TR TL TR), row 1 */
            const __m256i r = _mm256_permutevar8x32_epi32(val, rows);
            _mm_storeu_si128((__m128i *)(o + 2 * i), _mm256_castsi256_si128(r));
            _mm_storeu_si128((__m128i *)(o + stride + 2 * i), _mm256_extracti128_si256(r, 1));
            const __m256i vbv =
                _mm256_permutevar8x32_epi32(_mm256_and_si256(_mm256_or_si256(v, one), sigm), rows);
            _mm_storeu_si128((__m128i *)(vb + 2 * i), _mm256_extracti128_si256(vbv, 1));
            bitpos += total;
        }
        *pos = bitpos;
    }
    if (i < nq)
        htc_ht_magsgn_row_c(ms, pos, q + i, U + i, nq - i, p, o + 2 * i, stride, w - 2 * i, yin,
                            vb + 2 * i);
}
