/* htcodec: the HT SigProp and MagRef passes (ISO/IEC 15444-15 clauses 7.4,
 * 7.5) on the refinement segment: SigProp reads it forward from its first
 * byte, MagRef backward from its last. Both visit stripes of 4 rows,
 * column by column; SigProp codes the significance bits of a group of 4
 * columns, then the signs of the samples that became significant. */
#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "internal.h"

int htc_ht_refine(const uint8_t *seg, uint32_t len, uint32_t passes, uint32_t w, uint32_t h,
                  uint32_t p, int vcausal, int32_t *out, ptrdiff_t stride, void *scratch)
{
    const uint32_t ns = (h + 3) / 4, sw = w + 2;
    /* cleanup significance: one nibble per column and stripe (bit r = row
     * 4s + r), a zero column on each side and a zero stripe below */
    uint8_t *sig = scratch;
    uint8_t *above = sig + (size_t)(ns + 1) * sw; /* final significance of the row above */
    uint8_t *nsig = above + sw;                   /* SigProp's new significance */
    memset(sig, 0, (size_t)(ns + 1) * sw + 2 * (size_t)sw);
    for (uint32_t y = 0; y < h; y++) {
        const int32_t *o = out + (ptrdiff_t)y * stride;
        uint8_t *sr = sig + (size_t)(y >> 2) * sw + 1;
        const uint8_t bit = (uint8_t)(1u << (y & 3));
        for (uint32_t x = 0; x < w; x++)
            if (o[x])
                sr[x] |= bit;
    }
    const uint32_t half = 1u << (p - 1);

    HtcHtFwd sp;
    htc_ht_fwd_init(&sp, seg, len, 0);
    for (uint32_t s = 0; s < ns; s++) {
        const uint32_t rows = HTC_MIN(h - 4 * s, 4);
        const uint8_t *cs = sig + (size_t)s * sw + 1;
        const uint8_t *below = sig + (size_t)(s + 1) * sw + 1;
        uint8_t *nw = nsig + 1, *ab = above + 1;
        memset(nsig, 0, sw);
        int32_t *orow = out + (ptrdiff_t)(4 * s) * stride;
        for (uint32_t g = 0; g < w; g += 4) {
            const uint32_t ge = HTC_MIN(g + 4, w);
            for (uint32_t x = g; x < ge; x++) {
                for (uint32_t r = 0; r < rows; r++) {
                    if (cs[x] >> r & 1)
                        continue;
                    uint32_t nb = 0;
                    for (int dx = -1; dx <= 1; dx++) {
                        const uint32_t f = (uint32_t)(cs[(int)x + dx] | nw[(int)x + dx]);
                        nb |= r ? f >> (r - 1) & 7 : f & 3;
                        if (r == 0)
                            nb |= ab[(int)x + dx];
                        if (r == 3 && !vcausal)
                            nb |= below[(int)x + dx] & 1;
                    }
                    if (nb && htc_ht_fwd_get(&sp, 1))
                        nw[x] |= (uint8_t)(1u << r);
                }
            }
            for (uint32_t x = g; x < ge; x++)
                for (uint32_t r = 0; r < rows; r++)
                    if (nw[x] >> r & 1)
                        orow[(ptrdiff_t)r * stride + x] =
                            htc_ht_fwd_get(&sp, 1) ? -(int32_t)half : (int32_t)half;
        }
        for (uint32_t x = 0; x < w; x++)
            ab[x] = (uint8_t)((cs[x] | nw[x]) >> (rows - 1) & 1);
    }

    if (passes < 2 && p >= 2) {
        /* SigProp without MagRef: plane p - 1 is decoded for the samples
         * SigProp made significant, but not for those the cleanup did. The
         * caller reconstructs every sample at the middle of plane p - 1's
         * interval; a 1 in plane p - 2 moves the cleanup's samples to the
         * middle of their own (wider) interval, as reference decoders do. */
        const int32_t quarter = (int32_t)(half >> 1);
        for (uint32_t s = 0; s < ns; s++) {
            const uint32_t rows = HTC_MIN(h - 4 * s, 4);
            const uint8_t *cs = sig + (size_t)s * sw + 1;
            int32_t *orow = out + (ptrdiff_t)(4 * s) * stride;
            for (uint32_t x = 0; x < w; x++)
                for (uint32_t r = 0; r < rows; r++)
                    if (cs[x] >> r & 1) {
                        int32_t *o = orow + (ptrdiff_t)r * stride + x;
                        *o = *o < 0 ? *o - quarter : *o + quarter;
                    }
        }
    }

    if (passes >= 2) {
        HtcHtRev mr;
        htc_ht_mrp_init(&mr, seg, len);
        for (uint32_t s = 0; s < ns; s++) {
            const uint32_t rows = HTC_MIN(h - 4 * s, 4);
            const uint8_t *cs = sig + (size_t)s * sw + 1;
            int32_t *orow = out + (ptrdiff_t)(4 * s) * stride;
            for (uint32_t x = 0; x < w; x++) {
                if (!cs[x])
                    continue;
                for (uint32_t r = 0; r < rows; r++) {
                    if (!(cs[x] >> r & 1))
                        continue;
                    if (mr.n < 1)
                        htc_ht_rev_refill(&mr);
                    const uint32_t bit = htc_ht_rev_peek(&mr) & 1;
                    htc_ht_rev_skip(&mr, 1);
                    if (bit) {
                        int32_t *o = orow + (ptrdiff_t)r * stride + x;
                        *o = *o < 0 ? *o - (int32_t)half : *o + (int32_t)half;
                    }
                }
            }
        }
    }
    return 0;
}
