/* htcodec: the Part 1 code-block decoder (T.800 Annex D), included by
 * coding/t1_decode.c (plain C) and x86/t1_avx2.c (the same code compiled
 * with BMI1/BMI2/LZCNT: shifts by a variable count, leading and trailing
 * zero counts and and-not are one instruction each there, and the passes
 * are bound by the instructions they execute). It defines one static
 * function, t1_decode_block, with htc_t1_decode_block's contract.
 *
 * Significance propagation, magnitude refinement and cleanup passes over
 * stripes of four rows, with every code-block style flag (BYPASS, RESET,
 * TERMALL, VCAUSAL, PTERM, SEGSYM) and codeword segments spread over
 * quality layers.
 *
 * Coefficients are built in scratch (T1.mag, in the flags' stripe order)
 * in sign-magnitude form (bit 31 the sign) and written out at the end as
 * two's complement, zero where the flags say insignificant, without
 * branches. Each pass keeps the MQ coder in local variables (the HTC_MQ_*
 * macros).
 *
 * Reconstruction: every coefficient misses the same number of planes
 * (*undecoded_planes), except when decoding ends with a SigProp pass; see
 * the end of t1_decode_block and HTC_UNDECODED_HALVES in block.h.
 *
 * The flags are stored by stripe column: the four rows of a column of a
 * stripe are four consecutive uint16_t, so one 64-bit load gives the state
 * of a column; SigProp and MagRef turn 16 columns of them into a 64-bit
 * mask of the coefficients to code, and the run-length test of the cleanup
 * pass is one comparison. A border column on each side and a border stripe
 * above and below give every coefficient eight neighbours. The cleanup
 * pass unrolls full stripes by row so the neighbour offsets and the
 * vertically causal test are constants. */
#ifndef HTC_T1_DECODE_IMPL_H
#define HTC_T1_DECODE_IMPL_H

#include <string.h>

#include "hd.h"
#include "internal.h"
#include "coding/block.h"
#include "coding/mq_decoder.h"
#include "coding/t1_tables.h"

/* HTC_HD: src/cuda/gpu_t1.cuh compiles this file for the GPU too. */
#if defined(__CUDACC__)
/* on the GPU the calls the CPU keeps apart (so that gcc holds the coder in
 * registers) cost more than they give: inlined there unless asked not to */
#define T1_INLINE static __forceinline__ HTC_HD
#ifdef HTC_T1_GPU_NOINLINE
#define T1_NOINLINE static __noinline__ HTC_HD
#else
#define T1_NOINLINE static inline HTC_HD
#endif
#elif defined(__GNUC__)
#define T1_INLINE static inline __attribute__((always_inline))
#define T1_NOINLINE static __attribute__((noinline))
#else
#define T1_INLINE static inline
#define T1_NOINLINE static
#endif

#ifdef __cplusplus
#define T1_STATIC_ASSERT static_assert
#else
#define T1_STATIC_ASSERT _Static_assert
#endif

enum { PASS_SP, PASS_MR, PASS_CU };

typedef struct T1 {
    uint16_t *flags;           /* flags of coefficient (0, 0); border around */
    ptrdiff_t fs;              /* stripe stride of the flags: (width + 2) * 4 */
    int32_t *mag;              /* magnitudes (bit 31 the sign), at the flags' offsets */
    uint32_t w, h;
    uint32_t vcausal;
    const uint8_t *zc;         /* zero-coding table of the band */
    HtcMqCx ctx[HTC_T1_NUM_CTX];
    uint32_t segsym_errors;    /* cleanup passes whose segmentation symbol was not 1010 */
    uint64_t c;                /* coder registers between passes */
    uint32_t a, ct;
    const uint8_t *bp;
} T1;

#define LOAD_CODER()                               \
    uint64_t c = t->c;                             \
    uint32_t a = t->a, ct = t->ct;                 \
    const uint8_t *bp = t->bp
#define SAVE_CODER() (t->a = a, t->c = c, t->ct = ct, t->bp = bp)

T1_STATIC_ASSERT(HTC_T1_N_NEG == 1u << 8 && HTC_T1_S_NEG == 1u << 9 && HTC_T1_W_NEG == 1u << 10 &&
                   HTC_T1_E_NEG == 1u << 11 && HTC_T1_NEG == 1u << 15,
               "t1_set_sig shifts the sign bits into place");
T1_STATIC_ASSERT(HTC_T1_REFINED == 1u << 14 && HTC_T1_SIG == 1u << 12 && HTC_T1_VISIT == 1u << 13,
               "the passes shift these bits into place");

/* Marks a coefficient significant and tells its eight neighbours. With the
 * vertically causal style, a coefficient in the first row of a stripe does
 * not tell the row above (the last row of the previous stripe), which is
 * then coded as if the stripe below were insignificant (D.7). */
T1_INLINE void t1_set_sig(uint16_t *fp, ptrdiff_t fs, uint32_t neg, uint32_t r, int tell_up)
{
    uint16_t *const n = r ? fp - 1 : fp - fs + 3; /* the row above */
    uint16_t *const s = r < 3 ? fp + 1 : fp + fs - 3; /* the row below */
    /* The next column of the stripe is read next as one 64-bit word: it is
     * written as one too, so that the load is forwarded from the store. */
    uint16_t *const right = fp - r + 4;
    /* neg is 0 or 1: the sign bits are shifts of it, not branches. */
    uint64_t m = (uint64_t)(HTC_T1_W | neg << 10) << (16 * r);
    if (r > 0)
        m |= (uint64_t)HTC_T1_SW << (16 * r - 16);
    if (r < 3)
        m |= (uint64_t)HTC_T1_NW << (16 * r + 16);
    uint64_t v;
    memcpy(&v, right, sizeof(v));
    v |= m;
    memcpy(right, &v, sizeof(v));
    if (tell_up) {
        n[-4] |= HTC_T1_SE;
        n[0] |= (uint16_t)(HTC_T1_S | neg << 9);
        if (r == 0)
            n[4] |= HTC_T1_SW;
    }
    fp[-4] |= (uint16_t)(HTC_T1_E | neg << 11);
    s[-4] |= HTC_T1_NE;
    s[0] |= (uint16_t)(HTC_T1_N | neg << 8);
    if (r == 3)
        s[4] |= HTC_T1_NW;
    fp[0] |= (uint16_t)(HTC_T1_SIG | neg << 15);
}

/* The four flags of a stripe column as one word, lane r = row r. */
static HTC_HD inline uint64_t t1_col(const uint16_t *fcol)
{
    uint64_t v;
    memcpy(&v, fcol, sizeof(v));
    return v;
}

#define LANES(x) ((uint64_t)(x) * 0x0001000100010001ull)
#define SIG4 LANES(HTC_T1_SIG)

/* Lanes (as their SIG bit) that are insignificant with a significant
 * neighbour: (nbr + 0x0FFF) carries into bit 12 exactly when nbr != 0. */
static HTC_HD inline uint64_t t1_sp_lanes(uint64_t v)
{
    return ((v & LANES(HTC_T1_NBR_MASK)) + LANES(0x0FFF)) & ~v & SIG4;
}

/* Bit 12 of each lane (the place of HTC_T1_SIG) gathered into a nibble,
 * lane r as bit r: the multiplier moves bit 16 r to bit 48 + r, and the
 * other products land below bit 48 without carries, or above bit 63. */
static HTC_HD inline uint64_t t1_nibble(uint64_t lanes12)
{
    return (((lanes12 >> 12) & LANES(1)) * 0x0001000200040008ull) >> 48;
}

#ifdef __CUDA_ARCH__
#define T1_CTZ64(x) ((uint32_t)(__ffsll((long long)(x)) - 1))
#else
#define T1_CTZ64(x) ((uint32_t)__builtin_ctzll(x))
#endif

/* The SigProp and MagRef passes go through a stripe 16 columns at a time:
 * a 64-bit mask, bit 4 x + r for row r of column x (the order of the
 * scan and of the flags), holds the coefficients the pass codes, and the
 * loop takes them lowest first. The coefficients a pass skips then cost no
 * branch each; the tests that decided, one per coefficient, were
 * mispredicted about as often as the MQ decisions themselves. */

/* Valid positions of a word of n columns (1..16) of a stripe of `rows`. */
static HTC_HD inline uint64_t t1_valid(uint32_t n, uint32_t rows)
{
    const uint64_t cols = n >= 16 ? ~0ull : (1ull << (4 * n)) - 1;
    return cols & (((1ull << rows) - 1) * 0x1111111111111111ull);
}

/* Positions after p in the same stripe whose neighbourhood a coefficient
 * at p = 4 x + r joins: (x, r + 1), (x + 1, r - 1 .. r + 1). */
static HTC_HD inline uint64_t t1_sp_spread(uint32_t p)
{
    return (uint64_t)((0x183A3A32u >> (8 * (p & 3))) & 0xFF) << p;
}

/* What a coefficient of row r that becomes significant with sign neg ORs
 * into the flags of its stripe column (own), of the columns left and right
 * of it, and of the three columns of the stripe above (row 0, when told:
 * up) or below (row 3), from the bits of t1_tables.h: one row of this
 * table for each (r, neg, up), so that t1_set_sig_r does no arithmetic. */
typedef struct T1SigMasks {
    uint64_t own, left, right;
    uint16_t above[4], below[4]; /* columns x - 1, x, x + 1 */
} T1SigMasks;

#define T1_LANE(v, r) ((uint64_t)(v) << (16 * (r)))
#define T1_OWN(r, n)                                                                             \
    (T1_LANE(HTC_T1_SIG | (n) << 15, r) | ((r) > 0 ? T1_LANE(HTC_T1_S | (n) << 9, (r) - 1) : 0) | \
     ((r) < 3 ? T1_LANE(HTC_T1_N | (n) << 8, (r) + 1) : 0))
#define T1_SIDE(r, dir, dirneg, diag_up, diag_dn)                                       \
    (T1_LANE(dir | (dirneg), r) | ((r) > 0 ? T1_LANE(diag_up, (r) - 1) : 0) |            \
     ((r) < 3 ? T1_LANE(diag_dn, (r) + 1) : 0))
#define T1_SIGM(r, n, up)                                                                         \
    { T1_OWN(r, n), T1_SIDE(r, HTC_T1_E, (n) << 11, HTC_T1_SE, HTC_T1_NE),                        \
      T1_SIDE(r, HTC_T1_W, (n) << 10, HTC_T1_SW, HTC_T1_NW),                                      \
      { (r) == 0 && (up) ? HTC_T1_SE : 0, (r) == 0 && (up) ? HTC_T1_S | (n) << 9 : 0,             \
        (r) == 0 && (up) ? HTC_T1_SW : 0, 0 },                                                    \
      { (r) == 3 ? HTC_T1_NE : 0, (r) == 3 ? HTC_T1_N | (n) << 8 : 0, (r) == 3 ? HTC_T1_NW : 0, 0 } }
#define T1_SIGM_R(r) T1_SIGM(r, 0u, 0), T1_SIGM(r, 0u, 1), T1_SIGM(r, 1u, 0), T1_SIGM(r, 1u, 1)

/* index (r * 2 + neg) * 2 + up; the GPU compilation (src/cuda/gpu_t1.cuh)
 * keeps its own copy in device memory */
#define T1_SIG_MASKS_INIT { T1_SIGM_R(0), T1_SIGM_R(1), T1_SIGM_R(2), T1_SIGM_R(3) }
static const T1SigMasks t1_sig_masks[16] = T1_SIG_MASKS_INIT;
#ifdef __CUDACC__
static __device__ const T1SigMasks t1_sig_masks_gpu[16] = T1_SIG_MASKS_INIT;
#define T1_SIG_MASKS_HERE t1_sig_masks_gpu
#else
#define T1_SIG_MASKS_HERE t1_sig_masks
#endif

/* t1_set_sig for a row r known only at run time, without branches: the
 * updates a row does not need are zero in its table row. fc is the
 * coefficient's stripe column (row 0). */
T1_INLINE void t1_set_sig_r(uint16_t *fc, ptrdiff_t fs, uint32_t neg, uint32_t r, uint32_t tell_up)
{
#ifdef __CUDA_ARCH__
    const T1SigMasks *const k = &T1_SIG_MASKS_HERE[(r * 2 + neg) * 2 + tell_up];
#else
    const T1SigMasks *const k = &t1_sig_masks[(r * 2 + neg) * 2 + tell_up];
#endif
    uint64_t v;
    memcpy(&v, fc + 4, sizeof(v));
    v |= k->right;
    memcpy(fc + 4, &v, sizeof(v));
    memcpy(&v, fc - 4, sizeof(v));
    v |= k->left;
    memcpy(fc - 4, &v, sizeof(v));
    memcpy(&v, fc, sizeof(v));
    v |= k->own;
    memcpy(fc, &v, sizeof(v));
    uint16_t *const u = fc - fs + 3, *const d = fc + fs;
    u[-4] |= k->above[0];
    u[0] |= k->above[1];
    u[4] |= k->above[2];
    d[-4] |= k->below[0];
    d[0] |= k->below[1];
    d[4] |= k->below[2];
}

/* Sign of a newly significant coefficient with flags f (D.3.2). */
#define SIGN_MQ(neg, f)                                 \
    do {                                                \
        const uint32_t sc_ = htc_t1_sc_ctx[htc_t1_sc_index(f)]; \
        HTC_MQ_DECODE(neg, &ctx[sc_ >> 1]);             \
        (neg) ^= sc_ & 1;                               \
    } while (0)

/* Significance propagation (D.3.1): the coefficients insignificant with at
 * least one significant neighbour. One that becomes significant makes its
 * insignificant neighbours later in the word candidates too. */
/* The coefficients of one word that the pass codes, lowest first. Each
 * word's loop is a function of its own, called only for words with work:
 * the coder, the mask and the two pointers then have the registers to
 * themselves (inside the loops over stripes and words, the compiler kept
 * A and the pointers on the stack). */
T1_INLINE void t1_sp_word(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint64_t ins, uint32_t one,
                          uint32_t up0, const int raw)
{
    LOAD_CODER();
    HtcMqCx *const ctx = t->ctx;
    const uint8_t *const zc = t->zc;
    const ptrdiff_t fs = t->fs;
    do {
        const uint32_t p = T1_CTZ64(m);
        m &= m - 1;
        uint16_t *const fp = fw + p;
        const uint32_t f = *fp, r = p & 3;
        uint32_t bit;
        if (raw)
            HTC_RAW_DECODE(bit);
        else
            HTC_MQ_DECODE(bit, &ctx[zc[htc_t1_zc_index(f)]]);
        if (bit) {
            uint32_t neg;
            if (raw)
                HTC_RAW_DECODE(neg);
            else
                SIGN_MQ(neg, f);
            t1_set_sig_r(fp - r, fs, neg, r, up0);
            mw[p] = (int32_t)(one | neg << 31);
            m |= t1_sp_spread(p) & ins;
        }
        /* after t1_set_sig_r: its 64-bit load of this column would not be
         * forwarded from a 16-bit store made before it */
        *fp |= HTC_T1_VISIT;
    } while (m);
    SAVE_CODER();
}

T1_NOINLINE void t1_sp_word_mq(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint64_t ins, uint32_t one,
                               uint32_t up0)
{
    t1_sp_word(t, fw, mw, m, ins, one, up0, 0);
}

T1_NOINLINE void t1_sp_word_raw(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint64_t ins,
                                uint32_t one, uint32_t up0)
{
    t1_sp_word(t, fw, mw, m, ins, one, up0, 1);
}

/* Significance propagation (D.3.1): the coefficients insignificant with at
 * least one significant neighbour. One that becomes significant makes its
 * insignificant neighbours later in the word candidates too. */
T1_INLINE void t1_pass_sp(T1 *t, uint32_t plane, const int raw)
{
    const ptrdiff_t fs = t->fs;
    const uint32_t one = 1u << plane;
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        const uint32_t up0 = !(t->vcausal && y0 > 0);
        uint16_t *const fst = t->flags + (ptrdiff_t)(y0 >> 2) * fs;
        int32_t *const mst = t->mag + (ptrdiff_t)(y0 >> 2) * fs;
        for (uint32_t x0 = 0; x0 < t->w; x0 += 16) {
            const uint32_t n = HTC_MIN(16, t->w - x0);
            uint16_t *const fw = fst + 4 * x0;
            uint64_t m = 0, ins = 0;
            for (uint32_t j = 0; j < n; j++) {
                const uint64_t v = t1_col(fw + 4 * j);
                m |= t1_nibble(t1_sp_lanes(v)) << (4 * j);
                ins |= t1_nibble(~v & SIG4) << (4 * j);
            }
            const uint64_t valid = t1_valid(n, rows);
            m &= valid;
            if (!m)
                continue;
            if (raw)
                t1_sp_word_raw(t, fw, mst + 4 * x0, m, ins & valid, one, up0);
            else
                t1_sp_word_mq(t, fw, mst + 4 * x0, m, ins & valid, one, up0);
        }
    }
}

/* Magnitude refinement (D.3.3) of the coefficients of one word significant
 * before this bit-plane; the three contexts are in t->ctx. */
T1_INLINE void t1_mr_word(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint32_t plane, const int raw)
{
    LOAD_CODER();
    HtcMqCx *const mr = t->ctx + HTC_T1_CTX_MR;
    do {
        const uint32_t p = T1_CTZ64(m);
        m &= m - 1;
        uint16_t *const fp = fw + p;
        const uint32_t f = *fp;
        *fp = (uint16_t)(f | HTC_T1_REFINED); /* before the decision: fp is then dead */
        uint32_t bit;
        if (raw) {
            HTC_RAW_DECODE(bit);
        } else {
            /* context 16 if refined before, else 15 with a significant
             * neighbour, else 14: an index, not a branch (mispredicted
             * on a quarter of the decisions of lossless images) */
            const uint32_t i = ((f >> 13) & 2u) | (((f & HTC_T1_NBR_MASK) != 0) & ~(f >> 14));
            HTC_MQ_DECODE(bit, &mr[i]);
        }
        mw[p] |= (int32_t)(bit << plane);
    } while (m);
    SAVE_CODER();
}

T1_NOINLINE void t1_mr_word_mq(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint32_t plane)
{
    t1_mr_word(t, fw, mw, m, plane, 0);
}

T1_NOINLINE void t1_mr_word_raw(T1 *t, uint16_t *fw, int32_t *mw, uint64_t m, uint32_t plane)
{
    t1_mr_word(t, fw, mw, m, plane, 1);
}

T1_INLINE void t1_pass_mr(T1 *t, uint32_t plane, const int raw)
{
    const ptrdiff_t fs = t->fs;
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        uint16_t *const fst = t->flags + (ptrdiff_t)(y0 >> 2) * fs;
        int32_t *const mst = t->mag + (ptrdiff_t)(y0 >> 2) * fs;
        for (uint32_t x0 = 0; x0 < t->w; x0 += 16) {
            const uint32_t n = HTC_MIN(16, t->w - x0);
            uint16_t *const fw = fst + 4 * x0;
            uint64_t m = 0;
            for (uint32_t j = 0; j < n; j++) {
                const uint64_t v = t1_col(fw + 4 * j);
                m |= t1_nibble(v & ~(v >> 1) & SIG4) << (4 * j); /* significant, not visited */
            }
            m &= t1_valid(n, rows);
            if (!m)
                continue;
            if (raw)
                t1_mr_word_raw(t, fw, mst + 4 * x0, m, plane);
            else
                t1_mr_word_mq(t, fw, mst + 4 * x0, m, plane);
        }
    }
}

/* Cleanup (D.3.4) of one coefficient not coded yet in this bit-plane;
 * clears the VISIT mark of those that were. */
#define CU_COEF(fp, op, r, up)                                             \
    do {                                                                \
        const uint32_t f_ = *(fp);                                      \
        if (!(f_ & (HTC_T1_SIG | HTC_T1_VISIT))) {                      \
            uint32_t bit_;                                              \
            HTC_MQ_DECODE(bit_, &ctx[zc[htc_t1_zc_index(f_)]]);         \
            if (bit_) {                                                 \
                uint32_t neg_;                                          \
                SIGN_MQ(neg_, f_);                                      \
                t1_set_sig((fp), fs, neg_, (r), (up));                  \
                *(op) = (int32_t)(one | neg_ << 31);                    \
            }                                                           \
        } else {                                                        \
            *(fp) = (uint16_t)(f_ & ~HTC_T1_VISIT);                     \
        }                                                               \
    } while (0)

/* Run-length coded column (all four insignificant with insignificant
 * neighbourhoods): the index of the first significant row in two UNIFORM
 * decisions, its sign, then the rows below it as usual. */
#define CU_RUN(fcol, ocol, up0)                                         \
    do {                                                                \
        uint32_t rl_, r_, r1_;                                          \
        HTC_MQ_DECODE_SKEWED(rl_, &ctx[HTC_T1_CTX_RL]);                 \
        if (!rl_)                                                       \
            break;                                                      \
        HTC_MQ_DECODE(r_, &ctx[HTC_T1_CTX_UNI]);                        \
        HTC_MQ_DECODE(r1_, &ctx[HTC_T1_CTX_UNI]);                       \
        r_ = r_ << 1 | r1_;                                             \
        uint32_t rneg_;                                                 \
        SIGN_MQ(rneg_, 0);                                              \
        (ocol)[r_] = (int32_t)(one | rneg_ << 31);      \
        switch (r_) {                                                   \
        case 0:                                                         \
            t1_set_sig((fcol), fs, rneg_, 0, (up0));                    \
            CU_COEF((fcol) + 1, (ocol) + 1, 1, 1);                     \
            CU_COEF((fcol) + 2, (ocol) + 2, 2, 1);                 \
            CU_COEF((fcol) + 3, (ocol) + 3, 3, 1);                 \
            break;                                                      \
        case 1:                                                         \
            t1_set_sig((fcol) + 1, fs, rneg_, 1, 1);                    \
            CU_COEF((fcol) + 2, (ocol) + 2, 2, 1);                 \
            CU_COEF((fcol) + 3, (ocol) + 3, 3, 1);                 \
            break;                                                      \
        case 2:                                                         \
            t1_set_sig((fcol) + 2, fs, rneg_, 2, 1);                    \
            CU_COEF((fcol) + 3, (ocol) + 3, 3, 1);                 \
            break;                                                      \
        default:                                                        \
            t1_set_sig((fcol) + 3, fs, rneg_, 3, 1);                    \
            break;                                                      \
        }                                                               \
    } while (0)

T1_NOINLINE void t1_pass_cu(T1 *t, uint32_t plane, int segsym)
{
    LOAD_CODER();
    HtcMqCx *const ctx = t->ctx;
    const uint8_t *const zc = t->zc;
    const ptrdiff_t fs = t->fs;
    const uint32_t one = 1u << plane;
    for (uint32_t y0 = 0; y0 < t->h; y0 += 4) {
        const uint32_t rows = HTC_MIN(4, t->h - y0);
        const int up0 = !(t->vcausal && y0 > 0);
        uint16_t *fcol = t->flags + (ptrdiff_t)(y0 >> 2) * fs;
        int32_t *ocol = t->mag + (ptrdiff_t)(y0 >> 2) * fs;
        if (rows == 4) {
            for (uint32_t x = 0; x < t->w; x++, fcol += 4, ocol += 4) {
                uint64_t v = t1_col(fcol);
                if (v == 0) {
                    CU_RUN(fcol, ocol, up0);
                } else if (((v | v >> 1) & SIG4) == SIG4) {
                    /* every row significant or visited: clear the marks */
                    v &= ~LANES(HTC_T1_VISIT);
                    memcpy(fcol, &v, sizeof(v));
                } else {
                    CU_COEF(fcol, ocol, 0, up0);
                    CU_COEF(fcol + 1, ocol + 1, 1, 1);
                    CU_COEF(fcol + 2, ocol + 2, 2, 1);
                    CU_COEF(fcol + 3, ocol + 3, 3, 1);
                }
            }
        } else {
            for (uint32_t x = 0; x < t->w; x++, fcol += 4, ocol += 4)
                for (uint32_t r = 0; r < rows; r++)
                    CU_COEF(fcol + r, ocol + r, r, r || up0);
        }
    }
    if (segsym) {
        /* Four symbols 1010 in the uniform context (D.5). A mismatch means
         * the bit-plane is corrupt; like the reference decoders we keep
         * what was decoded, and say so. */
        uint32_t sym = 0;
        for (int j = 0; j < 4; j++) {
            uint32_t d;
            HTC_MQ_DECODE(d, &ctx[HTC_T1_CTX_UNI]);
            sym = sym << 1 | d;
        }
        t->segsym_errors += sym != 0xA;
    }
    SAVE_CODER();
}

T1_NOINLINE void t1_pass_sp_mq(T1 *t, uint32_t plane) { t1_pass_sp(t, plane, 0); }
T1_NOINLINE void t1_pass_sp_raw(T1 *t, uint32_t plane) { t1_pass_sp(t, plane, 1); }
T1_NOINLINE void t1_pass_mr_mq(T1 *t, uint32_t plane) { t1_pass_mr(t, plane, 0); }
T1_NOINLINE void t1_pass_mr_raw(T1 *t, uint32_t plane) { t1_pass_mr(t, plane, 1); }

/* Pass k of the block: 0 is a cleanup, then SP, MR, CU per bit-plane. */
static HTC_HD inline uint32_t t1_pass_type(uint32_t k)
{
    return k == 0 ? (uint32_t)PASS_CU : (k - 1) % 3;
}

/* First pass after the codeword segment that starts at pass k (D.4.1):
 * every pass ends one with TERMALL; with BYPASS the first ten passes form
 * one, then each pair of raw SP + MR passes and each cleanup; otherwise the
 * block is one segment. */
static HTC_HD uint32_t t1_segment_end(uint32_t k, uint32_t style)
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

/* The flags (with their border) and the magnitudes (one stripe of flags'
 * worth each stripe, no border stripes) of a w x h block, in bytes. */
static HTC_HD inline size_t t1_flags_size(uint32_t w, uint32_t h)
{
    return (((size_t)w + 2) * 4 * ((size_t)(h + 3) / 4 + 2) * sizeof(uint16_t) + 63) & ~(size_t)63;
}

static HTC_HD inline size_t t1_mag_size(uint32_t w, uint32_t h)
{
    return (((size_t)w + 2) * 4 * ((size_t)(h + 3) / 4) * sizeof(int32_t) + 63) & ~(size_t)63;
}

/* One block with its flags (t1_flags_size bytes), magnitudes (t1_mag_size),
 * both 8-aligned, and the copy of the segment being decoded (seg_size
 * bytes, at least 64, with room for its two 0xFF) where the caller wants
 * them: the GPU keeps the flags in shared memory. */
static HTC_HD int t1_decode_block_in(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                                     uint32_t *undecoded_planes, void *flags_mem, size_t flags_have, void *mag_mem,
                                     size_t mag_have, uint8_t *seg_copy, size_t seg_size)
{
    if (!p || !out || !undecoded_planes || !flags_mem || !mag_mem || !seg_copy)
        return HTC_EINVAL;
    const uint32_t w = p->width, h = p->height;
    if (w < 1 || h < 1 || w > 1024 || h > 1024 || w * h > 4096 || stride < (ptrdiff_t)w ||
        p->band > 3 || p->num_segments > HTC_MAX_SEGMENTS)
        return HTC_EINVAL;
    if (p->mb < 1 || p->mb > 31)
        return HTC_EUNSUPPORTED;
    *undecoded_planes = p->mb;
    uint64_t sum_passes = 0;
    for (uint32_t i = 0; i < p->num_segments; i++)
        sum_passes += p->seg_passes[i];
    const ptrdiff_t fs = ((ptrdiff_t)w + 2) * 4;
    const size_t flags_size = t1_flags_size(w, h);
    const int bad = sum_passes != p->num_passes || p->zero_planes >= p->mb || !p->data;
    if (p->num_passes == 0 || bad || flags_have < flags_size || mag_have < t1_mag_size(w, h) || seg_size < 64 ||
        ((uintptr_t)flags_mem & 7) || ((uintptr_t)mag_mem & 7)) {
        for (uint32_t y = 0; y < h; y++)
            memset(out + (ptrdiff_t)y * stride, 0, w * sizeof(*out));
        return p->num_passes == 0 ? 0 : bad ? HTC_ECORRUPT : HTC_EINVAL;
    }
    /* The magnitudes are read only where the flags say significant: no
     * need to clear them. */
    memset(flags_mem, 0, flags_size);
    const size_t seg_cap = seg_size - HTC_MQ_TAIL;

    T1 t;
    t.flags = (uint16_t *)flags_mem + fs + 4;
    t.fs = fs;
    t.mag = (int32_t *)mag_mem + 4;
    t.w = w;
    t.h = h;
    t.vcausal = !!(p->cblk_style & HTC_CBLK_VCAUSAL);
    t.zc = htc_t1_zc_ctx[p->band == 3 ? 2 : p->band == 1 ? 1 : 0];
    t.segsym_errors = 0;
    htc_t1_reset_contexts(t.ctx);

    const uint32_t style = p->cblk_style;
    const int segsym = !!(style & HTC_CBLK_SEGSYM);
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
        /* Only a corrupt length exceeds the scratch: decode its start. */
        const uint32_t len = (uint32_t)HTC_MIN(off - start, seg_cap);
        htc_mq_copy_segment(seg_copy, p->data + start, len);
        const int raw = (style & HTC_CBLK_BYPASS) && k >= 10 && t1_pass_type(k) != PASS_CU;
        HtcMq mq;
        if (raw)
            htc_raw_init(&mq, seg_copy);
        else
            htc_mq_init(&mq, seg_copy);
        t.a = mq.a;
        t.c = mq.c;
        t.ct = mq.ct;
        t.bp = mq.bp;
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
                t1_pass_cu(&t, plane, segsym);
            }
            if (style & HTC_CBLK_RESET)
                htc_t1_reset_contexts(t.ctx);
            *undecoded_planes = plane;
        }
    }

    /* A wrong segmentation symbol: the data is corrupt, the block keeps
     * every pass decoded (the caller warns, and uses it). */
    if (t.segsym_errors && status == 0)
        status = HTC_ECORRUPT;

    /* Decoding that ends with a significance propagation pass leaves the
     * coefficients significant before that bit-plane one plane short of
     * the others (E.1.1.2 counts decoded planes per coefficient). The
     * caller reconstructs every coefficient at the middle of the interval
     * of *undecoded_planes; a 1 one plane lower moves these to the middle
     * of their own, twice wider, interval, as the reference decoders do.
     * At plane 0 there is no lower plane: the block goes out as twice its
     * reconstruction points (HTC_UNDECODED_HALVES). */
    const int last_sp = k > 0 && t1_pass_type(k - 1) == PASS_SP;
    const uint32_t p0 = *undecoded_planes;
    if (last_sp && !p0)
        *undecoded_planes = HTC_UNDECODED_HALVES;
    /* Out of the stripe order, zero where insignificant, sign-magnitude to
     * two's complement. */
    for (uint32_t y = 0; y < h; y++) {
        const uint16_t *const fp = t.flags + (ptrdiff_t)(y >> 2) * fs + (y & 3);
        const int32_t *const mp = t.mag + (ptrdiff_t)(y >> 2) * fs + (y & 3);
        int32_t *const op = out + (ptrdiff_t)y * stride;
        if (!last_sp) {
            for (uint32_t x = 0; x < w; x++) {
                const uint32_t sig = 0u - ((fp[4 * x] >> 12) & 1u); /* HTC_T1_SIG */
                const uint32_t v = (uint32_t)mp[4 * x] & sig;
                const uint32_t sg = 0u - (v >> 31);
                op[x] = (int32_t)(((v & 0x7FFFFFFFu) ^ sg) - sg);
            }
            continue;
        }
        for (uint32_t x = 0; x < w; x++) {
            const uint32_t f = fp[4 * x] & (HTC_T1_SIG | HTC_T1_VISIT);
            if (!(f & HTC_T1_SIG)) {
                op[x] = 0;
                continue;
            }
            uint32_t v = (uint32_t)mp[4 * x];
            if (p0) {
                v += f == HTC_T1_SIG ? 1u << (p0 - 1) : 0;
            } else {
                /* sign-magnitude; a magnitude needing bit 31 saturates */
                uint32_t m = v & 0x7FFFFFFFu;
                m = m < 0x3FFFFFFFu ? 2 * m + (f == HTC_T1_SIG ? 2 : 1) : 0x7FFFFFFFu;
                v = (v & 0x80000000u) | m;
            }
            const uint32_t sg = 0u - (v >> 31);
            op[x] = (int32_t)(((v & 0x7FFFFFFFu) ^ sg) - sg);
        }
    }
    return status;
}

/* One block in one scratch buffer: flags, magnitudes, the segment copy. */
static HTC_HD int t1_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                                  uint32_t *undecoded_planes, void *scratch, size_t scratch_size)
{
    const size_t fl = HTC_MIN(p ? t1_flags_size(p->width, p->height) : 0, scratch_size);
    const size_t mg = HTC_MIN(p ? t1_mag_size(p->width, p->height) : 0, scratch_size - fl);
    uint8_t *const b = (uint8_t *)scratch;
    return t1_decode_block_in(p, out, stride, undecoded_planes, b, fl, b ? b + fl : NULL, mg,
                              b ? b + fl + mg : NULL, scratch_size - fl - mg);
}

#endif /* HTC_T1_DECODE_IMPL_H */
