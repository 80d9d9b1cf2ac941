/* htcodec: the Part 1 code-block decoder (T.800 Annex D): significance
 * propagation, magnitude refinement and cleanup passes over stripes of four
 * rows, with every code-block style flag (BYPASS, RESET, TERMALL, VCAUSAL,
 * PTERM, SEGSYM) and codeword segments spread over quality layers.
 *
 * Magnitudes are built in out[] as positive values, signs are kept in the
 * flags and applied at the end. */
#include <string.h>

#include "internal.h"
#include "coding/block.h"
#include "coding/mq_decoder.h"
#include "coding/t1_tables.h"

#if defined(__GNUC__)
#define T1_INLINE static inline __attribute__((always_inline))
#else
#define T1_INLINE static inline
#endif

enum { PASS_SP, PASS_MR, PASS_CU };

typedef struct T1 {
    uint16_t *flags;           /* flags of coefficient (0, 0); border around */
    ptrdiff_t fs;              /* flags stride: width + 2 */
    int32_t *out;
    ptrdiff_t os;
    uint32_t w, h;
    uint32_t vcausal;
    const uint8_t *zc;         /* zero-coding table of the band */
    HtcMq mq;
    uint8_t ctx[HTC_T1_NUM_CTX];
} T1;

/* Marks a coefficient significant and tells its eight neighbours. With the
 * vertically causal style, a coefficient in the first row of a stripe does
 * not tell the row above (the last row of the previous stripe), which is
 * then coded as if the stripe below were insignificant (D.7). */
T1_INLINE void t1_set_sig(uint16_t *fp, ptrdiff_t fs, uint32_t neg, int tell_up)
{
    if (tell_up) {
        fp[-fs - 1] |= HTC_T1_SE;
        fp[-fs] |= (uint16_t)(HTC_T1_S | (neg ? HTC_T1_S_NEG : 0));
        fp[-fs + 1] |= HTC_T1_SW;
    }
    fp[-1] |= (uint16_t)(HTC_T1_E | (neg ? HTC_T1_E_NEG : 0));
    fp[1] |= (uint16_t)(HTC_T1_W | (neg ? HTC_T1_W_NEG : 0));
    fp[fs - 1] |= HTC_T1_NE;
    fp[fs] |= (uint16_t)(HTC_T1_N | (neg ? HTC_T1_N_NEG : 0));
    fp[fs + 1] |= HTC_T1_NW;
    fp[0] |= (uint16_t)(HTC_T1_SIG | (neg ? HTC_T1_NEG : 0));
}

T1_INLINE uint32_t t1_bit(HtcMq *mq, uint8_t *ctx, int raw)
{
    return raw ? htc_raw_decode(mq) : htc_mq_decode(mq, ctx);
}

/* Sign of a newly significant coefficient (D.3.2); raw in bypass passes. */
T1_INLINE uint32_t t1_sign(HtcMq *mq, uint8_t *ctx, uint32_t f, int raw)
{
    if (raw)
        return htc_raw_decode(mq);
    const uint32_t sc = htc_t1_sc_ctx[f & 0xFF];
    return htc_mq_decode(mq, &ctx[sc >> 1]) ^ (sc & 1);
}

/* Significance propagation (D.3.1): insignificant coefficients with at
 * least one significant neighbour. */
T1_INLINE void t1_pass_sp(T1 *t, uint32_t plane, int raw)
{
    HtcMq mq = t->mq;
    uint8_t *const ctx = t->ctx;
    const uint8_t *const zc = t->zc;
    const ptrdiff_t fs = t->fs, os = t->os;
    const int32_t one = (int32_t)(1u << plane);
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        const int tell_up0 = !(t->vcausal && y0 > 0);
        uint16_t *fcol = t->flags + (ptrdiff_t)y0 * fs;
        int32_t *ocol = t->out + (ptrdiff_t)y0 * os;
        for (uint32_t x = 0; x < t->w; x++, fcol++, ocol++) {
            uint16_t *fp = fcol;
            for (uint32_t r = 0; r < rows; r++, fp += fs) {
                const uint32_t f = *fp;
                if ((f & HTC_T1_SIG) || !(f & HTC_T1_NBR_MASK))
                    continue;
                if (t1_bit(&mq, &ctx[zc[htc_t1_zc_index(f)]], raw)) {
                    const uint32_t neg = t1_sign(&mq, ctx, f, raw);
                    t1_set_sig(fp, fs, neg, r || tell_up0);
                    ocol[(ptrdiff_t)r * os] = one;
                }
                *fp |= HTC_T1_VISIT;
            }
        }
    }
    t->mq = mq;
}

/* Magnitude refinement (D.3.3): coefficients significant before this
 * bit-plane. */
T1_INLINE void t1_pass_mr(T1 *t, uint32_t plane, int raw)
{
    HtcMq mq = t->mq;
    uint8_t *const ctx = t->ctx;
    const ptrdiff_t fs = t->fs, os = t->os;
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        uint16_t *fcol = t->flags + (ptrdiff_t)y0 * fs;
        int32_t *ocol = t->out + (ptrdiff_t)y0 * os;
        for (uint32_t x = 0; x < t->w; x++, fcol++, ocol++) {
            uint16_t *fp = fcol;
            for (uint32_t r = 0; r < rows; r++, fp += fs) {
                const uint32_t f = *fp;
                if ((f & (HTC_T1_SIG | HTC_T1_VISIT)) != HTC_T1_SIG)
                    continue;
                const uint32_t c = (f & HTC_T1_REFINED) ? HTC_T1_CTX_MR + 2
                                 : (f & HTC_T1_NBR_MASK) ? HTC_T1_CTX_MR + 1 : HTC_T1_CTX_MR;
                const uint32_t bit = t1_bit(&mq, &ctx[c], raw);
                ocol[(ptrdiff_t)r * os] |= (int32_t)(bit << plane);
                *fp = (uint16_t)(f | HTC_T1_REFINED);
            }
        }
    }
    t->mq = mq;
}

/* Cleanup (D.3.4): the coefficients not coded yet in this bit-plane, with
 * run-length coding of full columns of four whose neighbourhoods are all
 * insignificant. Clears the VISIT marks of the bit-plane. */
static void t1_pass_cu(T1 *t, uint32_t plane)
{
    HtcMq mq = t->mq;
    uint8_t *const ctx = t->ctx;
    const uint8_t *const zc = t->zc;
    const ptrdiff_t fs = t->fs, os = t->os;
    const int32_t one = (int32_t)(1u << plane);
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        const int tell_up0 = !(t->vcausal && y0 > 0);
        uint16_t *fcol = t->flags + (ptrdiff_t)y0 * fs;
        int32_t *ocol = t->out + (ptrdiff_t)y0 * os;
        for (uint32_t x = 0; x < t->w; x++, fcol++, ocol++) {
            uint32_t r = 0;
            if (rows == 4 && (fcol[0] | fcol[fs] | fcol[2 * fs] | fcol[3 * fs]) == 0) {
                if (!htc_mq_decode(&mq, &ctx[HTC_T1_CTX_RL]))
                    continue;
                r = htc_mq_decode(&mq, &ctx[HTC_T1_CTX_UNI]) << 1;
                r |= htc_mq_decode(&mq, &ctx[HTC_T1_CTX_UNI]);
                uint16_t *fp = fcol + (ptrdiff_t)r * fs;
                const uint32_t neg = t1_sign(&mq, ctx, *fp, 0);
                t1_set_sig(fp, fs, neg, r || tell_up0);
                ocol[(ptrdiff_t)r * os] = one;
                r++;
            }
            uint16_t *fp = fcol + (ptrdiff_t)r * fs;
            for (; r < rows; r++, fp += fs) {
                const uint32_t f = *fp;
                if (!(f & (HTC_T1_SIG | HTC_T1_VISIT))) {
                    if (htc_mq_decode(&mq, &ctx[zc[htc_t1_zc_index(f)]])) {
                        const uint32_t neg = t1_sign(&mq, ctx, f, 0);
                        t1_set_sig(fp, fs, neg, r || tell_up0);
                        ocol[(ptrdiff_t)r * os] = one;
                    }
                }
                *fp &= (uint16_t)~HTC_T1_VISIT;
            }
        }
    }
    t->mq = mq;
}

static void t1_pass_sp_mq(T1 *t, uint32_t plane) { t1_pass_sp(t, plane, 0); }
static void t1_pass_sp_raw(T1 *t, uint32_t plane) { t1_pass_sp(t, plane, 1); }
static void t1_pass_mr_mq(T1 *t, uint32_t plane) { t1_pass_mr(t, plane, 0); }
static void t1_pass_mr_raw(T1 *t, uint32_t plane) { t1_pass_mr(t, plane, 1); }

/* Pass k of the block: 0 is a cleanup, then SP, MR, CU per bit-plane. */
static inline uint32_t t1_pass_type(uint32_t k)
{
    return k == 0 ? PASS_CU : (k - 1) % 3;
}

/* First pass after the codeword segment that starts at pass k (D.4.1):
 * every pass ends one with TERMALL; with BYPASS the first ten passes form
 * one, then each pair of raw SP + MR passes and each cleanup; otherwise the
 * block is one segment. */
static uint32_t t1_segment_end(uint32_t k, uint32_t style)
{
    if (style & HTC_CBLK_TERMALL)
        return k + 1;
    if (style & HTC_CBLK_BYPASS) {
        if (k < 10)
            return 10;
        return t1_pass_type(k) == PASS_SP ? k + 2 : k + 1;
    }
    return UINT32_MAX;
}

int htc_t1_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                        uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
    if (!p || !out || !undecoded_planes || !scratch)
        return HTC_EINVAL;
    const uint32_t w = p->width, h = p->height;
    if (w < 1 || h < 1 || w > 1024 || h > 1024 || w * h > 4096 || stride < (ptrdiff_t)w ||
        p->band > 3 || p->num_segments > HTC_MAX_SEGMENTS)
        return HTC_EINVAL;
    if (p->mb < 1 || p->mb > 31)
        return HTC_EUNSUPPORTED;
    for (uint32_t y = 0; y < h; y++)
        memset(out + (ptrdiff_t)y * stride, 0, w * sizeof(*out));
    *undecoded_planes = p->mb;
    if (p->num_passes == 0)
        return 0;

    uint64_t sum_passes = 0;
    for (uint32_t i = 0; i < p->num_segments; i++)
        sum_passes += p->seg_passes[i];
    if (sum_passes != p->num_passes || p->zero_planes >= p->mb || !p->data)
        return HTC_ECORRUPT;

    const ptrdiff_t fs = (ptrdiff_t)w + 2;
    const size_t flags_size = (size_t)fs * (h + 2) * sizeof(uint16_t);
    if (scratch_size < flags_size || ((uintptr_t)scratch & 1))
        return HTC_EINVAL;
    memset(scratch, 0, flags_size);

    T1 t;
    t.flags = (uint16_t *)scratch + fs + 1;
    t.fs = fs;
    t.out = out;
    t.os = stride;
    t.w = w;
    t.h = h;
    t.vcausal = !!(p->cblk_style & HTC_CBLK_VCAUSAL);
    t.zc = htc_t1_zc_ctx[p->band == 3 ? 2 : p->band == 1 ? 1 : 0];
    htc_t1_reset_contexts(t.ctx);

    const uint32_t style = p->cblk_style;
    const uint32_t top = p->mb - 1 - p->zero_planes; /* bit-plane of the first cleanup */
    /* Passes past bit-plane 0 cannot be decoded; ignore them. */
    const uint32_t total = HTC_MIN(p->num_passes, 3 * top + 1);
    int status = 0;
    uint32_t k = 0, e = 0;
    size_t off = 0;
    while (k < total && e < p->num_segments) {
        /* Gather the entries that make up one codeword segment: tier 2 may
         * pass one per layer contribution. */
        const uint32_t seg_end = t1_segment_end(k, style);
        const size_t start = off;
        uint32_t passes = 0;
        while (e < p->num_segments && passes < seg_end - k) {
            off += p->seg_len[e];
            passes += p->seg_passes[e];
            e++;
        }
        if (passes > seg_end - k) {
            status = HTC_ECORRUPT; /* a length spans a codeword segment boundary */
            break;
        }
        if (passes == 0)
            break;
        const uint32_t len = (uint32_t)HTC_MIN(off - start, (size_t)UINT32_MAX);
        const int raw = (style & HTC_CBLK_BYPASS) && k >= 10 && t1_pass_type(k) != PASS_CU;
        if (raw)
            htc_raw_init(&t.mq, p->data + start, len);
        else
            htc_mq_init(&t.mq, p->data + start, len);
        for (uint32_t i = 0; i < passes && k < total; i++, k++) {
            const uint32_t type = t1_pass_type(k);
            const uint32_t plane = top - (k + 2) / 3;
            if (type == PASS_SP) {
                if (raw)
                    t1_pass_sp_raw(&t, plane);
                else
                    t1_pass_sp_mq(&t, plane);
            } else if (type == PASS_MR) {
                if (raw)
                    t1_pass_mr_raw(&t, plane);
                else
                    t1_pass_mr_mq(&t, plane);
            } else {
                t1_pass_cu(&t, plane);
                if (style & HTC_CBLK_SEGSYM) {
                    /* Four symbols 1010 in the uniform context (D.5). A
                     * mismatch means the bit-plane is corrupt; like the
                     * reference decoders we keep what was decoded. */
                    uint32_t sym = 0;
                    for (int j = 0; j < 4; j++)
                        sym = sym << 1 | htc_mq_decode(&t.mq, &t.ctx[HTC_T1_CTX_UNI]);
                    (void)sym;
                }
            }
            if (style & HTC_CBLK_RESET)
                htc_t1_reset_contexts(t.ctx);
            *undecoded_planes = plane;
        }
    }

    /* Apply the signs. */
    for (uint32_t y = 0; y < h; y++) {
        const uint16_t *fp = t.flags + (ptrdiff_t)y * fs;
        int32_t *op = out + (ptrdiff_t)y * stride;
        for (uint32_t x = 0; x < w; x++)
            if (fp[x] & HTC_T1_NEG)
                op[x] = -op[x];
    }
    return status;
}
