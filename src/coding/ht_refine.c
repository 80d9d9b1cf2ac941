/* htcodec: the HT SigProp and MagRef passes (ISO/IEC 15444-15 clauses 7.4,
 * 7.5) on the refinement segment: SigProp reads it forward from its first
 * byte, MagRef backward from its last. Both visit stripes of 4 rows,
 * column by column. SigProp codes, for each group of 4 columns of a stripe,
 * a significance bit for every insignificant sample with a significant
 * neighbour (samples that become significant count for the later ones of
 * the scan; the row below the stripe counts unless the vertically causal
 * mode is on), then the signs of the samples that became significant.
 * MagRef codes one bit for each sample the cleanup made significant.
 * Significance is kept as one nibble per column and stripe (bit r = row
 * 4s + r), so a group of 4 columns is a 16-bit mask, bit 4c + r. */
#include "hd.h"
#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "internal.h"

/* The neighbourhood word of a column: bit 0 the row above the stripe,
 * bits 1..4 the stripe's rows, bit 5 the row below. */
static HTC_HD inline uint32_t col_word(uint32_t above, uint32_t sig, uint32_t below)
{
    return above | sig << 1 | below << 5;
}

HTC_HD int htc_ht_refine(const uint8_t *seg, uint32_t len, uint32_t passes, uint32_t w, uint32_t h,
                  uint32_t p, int vcausal, int32_t *out, ptrdiff_t stride, void *scratch)
{
    /* Samples a new significant sample at row r of a column makes
     * candidates, relative to its column's bit 0: (c, r + 1), (c + 1,
     * r - 1 .. r + 1). A local table: the GPU build runs this code too. */
    const uint16_t new_sig_spread[4] = {0x32, 0x74, 0xE8, 0xC0};
    const uint32_t ns = (h + 3) / 4, sw = w + 8;
    /* cleanup significance per stripe (and a zero stripe below), with zero
     * columns around; the final significance of the row above the stripe;
     * SigProp's new significance of the stripe */
    uint8_t *sig = (uint8_t *)scratch;
    uint8_t *above = sig + (size_t)(ns + 1) * sw;
    uint8_t *nsig = above + sw;
    memset(sig, 0, (size_t)(ns + 1) * sw + 2 * (size_t)sw);
    const uint32_t half = 1u << (p - 1);
    /* SigProp without MagRef: plane p - 1 is decoded for the samples SigProp
     * makes significant, but not for those the cleanup did. The caller
     * reconstructs every sample at the middle of plane p - 1's interval; a
     * 1 in plane p - 2 moves the cleanup's samples to the middle of their
     * own (wider) interval, as reference decoders do. */
    const int32_t bias = passes < 2 && p >= 2 ? (int32_t)(half >> 1) : 0;
    for (uint32_t y = 0; y < h; y++) {
        int32_t *o = out + (ptrdiff_t)y * stride;
        uint8_t *sr = sig + (size_t)(y >> 2) * sw + 1;
        const uint32_t sh = y & 3;
        for (uint32_t x = 0; x < w; x++) {
            const int32_t nz = o[x] != 0, neg = o[x] >> 31;
            sr[x] |= (uint8_t)(nz << sh);
            o[x] = (int32_t)((uint32_t)o[x] + (uint32_t)(((bias ^ neg) - neg) & -nz));
        }
    }

    HtcHtFwd sp;
    htc_ht_fwd_init(&sp, seg, len, 0);
    for (uint32_t s = 0; s < ns; s++) {
        const uint32_t rows = HTC_MIN(h - 4 * s, 4);
        const uint32_t row_mask = (1u << rows) - 1;
        const uint8_t *cs = sig + (size_t)s * sw + 1;
        const uint8_t *nx = sig + (size_t)(s + 1) * sw + 1; /* next stripe, zero after the last */
        uint8_t *nw = nsig + 1, *ab = above + 1;
        memset(nsig, 0, sw);
        int32_t *orow = out + (ptrdiff_t)(4 * s) * stride;
        for (uint32_t g = 0; g < w; g += 4) {
            const uint32_t cols = HTC_MIN(w - g, 4);
            /* candidates from the significance known before this group */
            uint32_t words[6];
            for (int k = 0; k < 6; k++) {
                const ptrdiff_t x = (ptrdiff_t)g - 1 + k;
                const uint32_t below = vcausal ? 0 : nx[x] & 1;
                words[k] = col_word(ab[x], (uint32_t)(cs[x] | nw[x]), below);
            }
            uint32_t cs16 = 0, valid = 0, cand = 0;
            for (uint32_t c = 0; c < cols; c++) {
                const uint32_t hw = words[c] | words[c + 1] | words[c + 2];
                cand |= ((hw | hw >> 1 | hw >> 2) & 0xF) << (4 * c);
                cs16 |= (uint32_t)cs[g + c] << (4 * c);
                valid |= row_mask << (4 * c);
            }
            const uint32_t open = valid & ~cs16; /* insignificant samples */
            cand &= open;
            if (!cand)
                continue;
            /* significance bits in scan order (bit order), then signs */
            if (sp.n < 32)
                htc_ht_fwd_refill(&sp);
            uint64_t cwd = sp.acc;
            uint32_t used = 0, newsig = 0;
            while (cand) {
                const uint32_t b = htc_ctz32(cand);
                cand &= cand - 1;
                if ((cwd >> used++) & 1) {
                    newsig |= 1u << b;
                    cand |= ((uint32_t)new_sig_spread[b & 3] << (b & ~3u)) & open & ~newsig;
                }
            }
            for (uint32_t m = newsig; m; m &= m - 1) {
                const uint32_t b = htc_ctz32(m);
                const uint32_t neg = (cwd >> used++) & 1;
                orow[(ptrdiff_t)(b & 3) * stride + g + (b >> 2)] = neg ? -(int32_t)half : (int32_t)half;
            }
            sp.acc >>= used;
            sp.n -= used;
            for (uint32_t c = 0; c < cols; c++)
                nw[g + c] = (uint8_t)(newsig >> (4 * c) & 0xF);
        }
        for (uint32_t x = 0; x < w; x++)
            ab[x] = (uint8_t)((cs[x] | nw[x]) >> (rows - 1) & 1);
    }

    if (passes >= 2) {
        HtcHtRev mr;
        htc_ht_mrp_init(&mr, seg, len);
        for (uint32_t s = 0; s < ns; s++) {
            const uint8_t *cs = sig + (size_t)s * sw + 1;
            int32_t *orow = out + (ptrdiff_t)(4 * s) * stride;
            for (uint32_t x = 0; x < w; x++) {
                uint32_t m = cs[x];
                if (!m)
                    continue;
                if (mr.n < 4)
                    htc_ht_rev_refill(&mr);
                for (; m; m &= m - 1) {
                    const int32_t bit = (int32_t)(mr.acc & 1);
                    mr.acc >>= 1;
                    mr.n--;
                    int32_t *o = orow + (ptrdiff_t)htc_ctz32(m) * stride + x;
                    const int32_t neg = *o >> 31;
                    const int32_t add = (((int32_t)half ^ neg) - neg) & -bit;
                    *o = (int32_t)((uint32_t)*o + (uint32_t)add);
                }
            }
        }
    }
    return 0;
}
