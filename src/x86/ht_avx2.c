/* htcodec: AVX2 MagSgn row kernel of the HT cleanup pass: two quads (8
 * samples) at a time. The samples' bit counts m_n are summed (exclusive
 * prefix, per quad) into bit offsets in a 256-bit window of the unstuffed
 * MagSgn buffer loaded at each quad's first byte; each sample's 32-bit field
 * is assembled from two window dwords (permutes, no gathers), masked, and
 * becomes the signed value. Same results as htc_ht_magsgn_row_c, which
 * handles the quads at the right edge. */
#include <immintrin.h>

#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"

void htc_ht_magsgn_row_avx2(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                            uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                            uint32_t yin, uint32_t *vb)
{
    uint32_t i = 0;
    {
        const __m256i rho_shift = _mm256_setr_epi32(4, 5, 6, 7, 4, 5, 6, 7);
        const __m256i e1_shift = _mm256_setr_epi32(8, 9, 10, 11, 8, 9, 10, 11);
        const __m256i ek_shift = _mm256_setr_epi32(12, 13, 14, 15, 12, 13, 14, 15);
        const __m256i one = _mm256_set1_epi32(1);
        const __m256i ones = _mm256_set1_epi32(-1);
        const __m256i c31 = _mm256_set1_epi32(31);
        const __m256i c32 = _mm256_set1_epi32(32);
        const __m256i rows = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
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
            /* inclusive prefix sums within each quad */
            __m256i incl = _mm256_add_epi32(m, _mm256_slli_si256(m, 4));
            incl = _mm256_add_epi32(incl, _mm256_slli_si256(incl, 8));
            const uint32_t total_a = (uint32_t)_mm256_extract_epi32(incl, 3);
            const uint32_t total_b = (uint32_t)_mm256_extract_epi32(incl, 7);
            const size_t pos_a = bitpos, pos_b = bitpos + total_a;
            /* each quad's bits from a 256-bit window at its first byte */
            const __m256i win_a = _mm256_loadu_si256((const __m256i *)(ms + (pos_a >> 3)));
            const __m256i win_b = _mm256_loadu_si256((const __m256i *)(ms + (pos_b >> 3)));
            const __m256i off = _mm256_add_epi32(
                _mm256_sub_epi32(incl, m),
                _mm256_setr_m128i(_mm_set1_epi32((int)(pos_a & 7)), _mm_set1_epi32((int)(pos_b & 7))));
            const __m256i k = _mm256_srli_epi32(off, 5);
            const __m256i s = _mm256_and_si256(off, c31);
            const __m256i k1 = _mm256_add_epi32(k, one);
            const __m256i lo = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(win_a, k),
                                                  _mm256_permutevar8x32_epi32(win_b, k), 0xF0);
            const __m256i hi = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(win_a, k1),
                                                  _mm256_permutevar8x32_epi32(win_b, k1), 0xF0);
            /* 32 bits from bit s of lo:hi (a count of 32 shifts in zeros) */
            __m256i v = _mm256_or_si256(_mm256_srlv_epi32(lo, s),
                                        _mm256_sllv_epi32(hi, _mm256_sub_epi32(c32, s)));
            v = _mm256_andnot_si256(_mm256_sllv_epi32(ones, m), v);
            v = _mm256_or_si256(v, _mm256_sllv_epi32(e1, m));
            /* value: (((v >> 1) + 1) << p) where significant, sign from bit 0 */
            __m256i mag = _mm256_add_epi32(_mm256_srli_epi32(v, 1), one);
            mag = _mm256_and_si256(_mm256_sll_epi32(mag, pshift), sigm);
            const __m256i sign = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(v, one));
            const __m256i val = _mm256_sub_epi32(_mm256_xor_si256(mag, sign), sign);
            /* lanes TL BL TR BR of two quads -> row 0 (TL TR TL TR), row 1 */
            const __m256i r = _mm256_permutevar8x32_epi32(val, rows);
            _mm_storeu_si128((__m128i *)(o + 2 * i), _mm256_castsi256_si128(r));
            if (yin == 2)
                _mm_storeu_si128((__m128i *)(o + stride + 2 * i), _mm256_extracti128_si256(r, 1));
            const __m256i vbv =
                _mm256_permutevar8x32_epi32(_mm256_and_si256(_mm256_or_si256(v, one), sigm), rows);
            _mm_storeu_si128((__m128i *)(vb + 2 * i), _mm256_extracti128_si256(vbv, 1));
            bitpos = pos_b + total_b;
        }
        *pos = bitpos;
    }
    if (i < nq)
        htc_ht_magsgn_row_c(ms, pos, q + i, U + i, nq - i, p, o + 2 * i, stride, w - 2 * i, yin,
                            vb + 2 * i);
}

/* U of a row, eight quads a step. The exponents above were stored by the
 * MagSgn kernels moments before: they are read back in 16-byte pieces at
 * multiples of 4 entries, which a store can forward to (see the AVX-512
 * kernel), the neighbours' values moved into place in registers; bit
 * lengths from the float exponent of the 16-bit halves (exact in a
 * float). */
uint32_t htc_ht_u_row_avx2(const uint16_t *q, const uint8_t *u, const uint32_t *e_up, uint32_t nq,
                           uint32_t umax, uint8_t *U)
{
    const __m256i one = _mm256_set1_epi32(1);
    const __m256i lo16 = _mm256_set1_epi32(0xFFFF);
    const __m256i c126 = _mm256_set1_epi32(126);
    const __m256i c110 = _mm256_set1_epi32(110); /* 126 - 16 */
    const __m256i c15 = _mm256_set1_epi32(15);
    const __m256i vmax = _mm256_set1_epi32((int)umax);
    const __m256i up1 = _mm256_setr_epi32(7, 0, 1, 2, 3, 4, 5, 6);
    const __m256i down1 = _mm256_setr_epi32(1, 2, 3, 4, 5, 6, 7, 0);
    const __m256i bytes = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                           -1, 0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                           -1, -1);
    uint32_t bad = 0, i = 0;
    /* reads e_up from index 2 i - 1 to 2 i + 16 <= 2 nq */
    for (; i + 8 <= nq; i += 8) {
        const uint32_t *e = e_up + 2 * i;
        const __m256i a = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)e)),
                                                  _mm_loadu_si128((const __m128i *)(e + 4)), 1);
        const __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(e + 8))),
                                                  _mm_loadu_si128((const __m128i *)(e + 12)), 1);
        /* e[2j] and e[2j + 1] of quads i .. i + 7 */
        const __m256i ev = _mm256_permute4x64_epi64(
            _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0x88)), 0xD8);
        const __m256i od = _mm256_permute4x64_epi64(
            _mm256_castps_si256(_mm256_shuffle_ps(_mm256_castsi256_ps(a), _mm256_castsi256_ps(b), 0xDD)), 0xD8);
        const __m256i left = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(od, up1),
                                                _mm256_set1_epi32((int)e[-1]), 0x01);
        const __m256i right = _mm256_blend_epi32(_mm256_permutevar8x32_epi32(ev, down1),
                                                 _mm256_set1_epi32((int)e[16]), 0x80);
        const __m256i x = _mm256_or_si256(
            _mm256_or_si256(_mm256_or_si256(ev, od), _mm256_or_si256(left, right)), one);
        const __m256i hi = _mm256_srli_epi32(x, 16);
        const __m256i fh = _mm256_castps_si256(_mm256_cvtepi32_ps(hi));
        const __m256i fl = _mm256_castps_si256(_mm256_cvtepi32_ps(_mm256_and_si256(x, lo16)));
        const __m256i lenh = _mm256_sub_epi32(_mm256_srli_epi32(fh, 23), c110);
        const __m256i lenl = _mm256_sub_epi32(_mm256_srli_epi32(fl, 23), c126);
        const __m256i hz = _mm256_cmpeq_epi32(hi, _mm256_setzero_si256());
        const __m256i len = _mm256_blendv_epi8(lenh, lenl, hz);
        __m256i k = _mm256_max_epi32(_mm256_sub_epi32(len, one), one);
        const __m256i qv = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(q + i)));
        const __m256i rho = _mm256_and_si256(_mm256_srli_epi32(qv, 4), c15);
        const __m256i single =
            _mm256_cmpeq_epi32(_mm256_and_si256(rho, _mm256_sub_epi32(rho, one)),
                               _mm256_setzero_si256());
        k = _mm256_blendv_epi8(k, one, single);
        const __m256i uv = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(u + i)));
        const __m256i v = _mm256_add_epi32(uv, k);
        bad |= (uint32_t)_mm256_movemask_epi8(_mm256_cmpgt_epi32(v, vmax));
        const __m256i bb = _mm256_shuffle_epi8(v, bytes);
        _mm_storel_epi64((__m128i *)(U + i),
                         _mm_unpacklo_epi32(_mm256_castsi256_si128(bb), _mm256_extracti128_si256(bb, 1)));
    }
    if (i < nq)
        bad |= htc_ht_u_row_c(q + i, u + i, e_up + 2 * i, nq - i, umax, U + i);
    return bad;
}
