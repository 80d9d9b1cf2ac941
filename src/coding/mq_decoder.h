/* htcodec: the MQ arithmetic decoder of T.800 Annex C.3 (the software
 * conventions decoder, with the C register widened to 64 bits, below) and
 * the raw (bypass) bit reader of D.6.
 *
 * A context is its row of Table C.2 packed in one word (HtcMqCx).
 * Segments are decoded from a copy followed by two 0xFF bytes
 * (htc_mq_copy_segment): at the end, BYTEIN then sees 0xFF followed by a
 * byte above 0x8F and feeds 1-bits without advancing (C.3.4), exactly as
 * if the data ended in a marker, so the decoder never reads past the copy
 * and needs no bounds check.
 *
 * The HTC_MQ_* macros work on local variables (a, c, ct, bp) of the caller
 * so that a pass keeps the coder in registers; the functions below wrap
 * them for tests and cold paths. */
#ifndef HTC_MQ_DECODER_H
#define HTC_MQ_DECODER_H

#include <stdint.h>
#include "hd.h"
#include <string.h>

/* A context is the row of Table C.2 it is in, for its MPS value, packed in
 * one word: Qe in bits 0..15 and the row's index in htc_mq_table
 * (state * 2 + MPS, so the MPS is bit 16) in bits 16..22. Qe is then in
 * the context itself, so the decision does not wait for a load after the
 * context is known; the two possible successors, one 64-bit word of
 * htc_mq_next, are loaded while it is made. */
typedef uint32_t HtcMqCx;

#define HTC_MQ_QE(e) ((e) & 0xFFFFu)
#define HTC_MQ_MPS(e) (((e) >> 16) & 1u)
#define HTC_MQ_INDEX(e) ((e) >> 16)

/* Table C.2, 47 states x 2 MPS values, index state * 2 + MPS
 * (src/coding/mq_tables.c): the context value of each row, and the
 * context values that follow it, after an MPS (NMPS) in the low half and
 * after an LPS (NLPS, SWITCH applied) in the high half. */
extern const HtcMqCx htc_mq_table[94];
extern const uint64_t htc_mq_next[94];

#define HTC_MQ_STATE(index, mps) (htc_mq_table[(index) * 2 + (mps)])

/* Bytes a segment copy needs beyond the segment: the two 0xFF. */
#define HTC_MQ_TAIL 2

/* Copies a segment and appends the two 0xFF bytes; dst holds len + 2. */
static HTC_HD inline void htc_mq_copy_segment(uint8_t *dst, const uint8_t *src, uint32_t len)
{
    if (len)
        memcpy(dst, src, len);
    dst[len] = 0xFF;
    dst[len + 1] = 0xFF;
}

/* The C register is kept 64 bits wide: the standard's 32-bit C is its top
 * half (Chigh, compared with Qe, is bits 48..63) and the bytes BYTEIN
 * would add later are added ahead, below, at the place the standard's
 * shifts would bring them: a byte the standard adds as B << 8 when CT
 * reaches 0 is added now as B << (40 - ct), ct counting all the bits
 * ahead. The value of the top 32 bits after each step is the standard's,
 * and a refill every 2 to 3 bytes replaces a test on every shift.
 *
 * HTC_MQ_BYTEIN is BYTEIN (Figure C.19) at that place: after a 0xFF, a
 * byte above 0x8F is a marker or the end: feed 1-bits without advancing;
 * otherwise that byte carries 7 bits. */
#define HTC_MQ_BYTEIN()                                 \
    do {                                                \
        if (bp[0] == 0xFF) {                            \
            if (bp[1] > 0x8F) {                         \
                c += (uint64_t)0xFF << (40 - ct);       \
                ct += 8;                                \
            } else {                                    \
                bp++;                                   \
                c += (uint64_t)bp[0] << (41 - ct);      \
                ct += 7;                                \
            }                                           \
        } else {                                        \
            bp++;                                       \
            c += (uint64_t)bp[0] << (40 - ct);          \
            ct += 8;                                    \
        }                                               \
    } while (0)

/* Keeps at least 16 bits ahead: a renormalisation shifts at most 15. */
#define HTC_MQ_REFILL()                                 \
    do {                                                \
        if (ct < 16) {                                  \
            do                                          \
                HTC_MQ_BYTEIN();                        \
            while (ct <= 32);                           \
        }                                               \
    } while (0)

/* DECODE (Figures C.15 to C.18) of one decision in context *cxp, without
 * branches on the data: the LPS/MPS paths and the conditional exchanges
 * select their results with masks (a compiler turns a ?: that guards two
 * assignments into a branch, mispredicted on every other decision of a
 * context near 1/2); RENORMD shifts by the leading zeros of A (0 when
 * A >= 0x8000, where the state does not change either). */
#define HTC_MQ_DECODE(d, cxp)                                           \
    do {                                                                \
        const HtcMqCx e_ = *(cxp);                                      \
        const uint32_t qe_ = HTC_MQ_QE(e_), i_ = HTC_MQ_INDEX(e_);      \
        const uint64_t qs_ = (uint64_t)qe_ << 48;                       \
        const uint64_t nx_ = htc_mq_next[i_];                           \
        a -= qe_;                                                       \
        const uint32_t lpath_ = c < qs_;    /* Chigh < Qe */            \
        const uint32_t lps_ = (a < qe_) ^ lpath_; /* decoded the LPS */ \
        (d) = (i_ ^ lps_) & 1u;             /* MPS ^ LPS */             \
        const uint64_t lm_ = (uint64_t)0 - lpath_;                      \
        c -= qs_ & ~lm_;                                                \
        a ^= (a ^ qe_) & (uint32_t)lm_;                                 \
        const HtcMqCx n_ = (HtcMqCx)(nx_ >> (lps_ << 5));               \
        *(cxp) = (a & 0x8000u) ? e_ : n_;                                \
        const uint32_t sh_ = htc_clz32(a) - 16;           \
        a <<= sh_;                                                      \
        c <<= sh_;                                                      \
        ct -= sh_;                                                      \
        HTC_MQ_REFILL();                                                \
    } while (0)

/* HTC_MQ_DECODE with a branch first for the MPS that needs no
 * renormalisation (the state does not change): for contexts whose
 * decisions are nearly always that one, such as the run-length context of
 * the cleanup pass, where the branch is then predicted. */
#define HTC_MQ_DECODE_SKEWED(d, cxp)                                    \
    do {                                                                \
        const HtcMqCx s_ = *(cxp);                                      \
        const uint32_t sa_ = a - HTC_MQ_QE(s_);                         \
        const uint64_t sq_ = (uint64_t)HTC_MQ_QE(s_) << 48;             \
        if (c >= sq_ && sa_ >= 0x8000u) {                               \
            a = sa_;                                                    \
            c -= sq_;                                                   \
            (d) = HTC_MQ_MPS(s_);                                       \
        } else {                                                        \
            HTC_MQ_DECODE(d, cxp);                                      \
        }                                                               \
    } while (0)

/* Raw segments (selective arithmetic coding bypass, D.6): bits MSB first;
 * after a 0xFF byte the next byte's MSB is a stuffed 0 and is skipped; a
 * 0xFF followed by a byte above 0x8F (or the end) yields 1-bits. c holds
 * the last byte, ct the bits of it not yet read. */
#define HTC_RAW_DECODE(d)                       \
    do {                                        \
        if (ct == 0) {                          \
            if (c == 0xFF) {                    \
                if (bp[0] > 0x8F) {             \
                    ct = 8;                     \
                } else {                        \
                    c = bp[0];                  \
                    bp++;                       \
                    ct = 7;                     \
                }                               \
            } else {                            \
                c = bp[0];                      \
                bp++;                           \
                ct = 8;                         \
            }                                   \
        }                                       \
        ct--;                                   \
        (d) = (c >> ct) & 1;                    \
    } while (0)

/* The coder's registers, for code that is not a hot loop. */
typedef struct HtcMq {
    uint64_t c;
    uint32_t a, ct;
    const uint8_t *bp;         /* current byte B, in a copy ending in 0xFF 0xFF */
} HtcMq;

/* INITDEC (Figure C.20) on a copy made by htc_mq_copy_segment. */
static HTC_HD inline void htc_mq_init(HtcMq *mq, const uint8_t *copy)
{
    const uint8_t *bp = copy;
    uint64_t c = (uint64_t)bp[0] << 48;
    uint32_t ct = 0;
    HTC_MQ_BYTEIN();
    c <<= 7;
    ct -= 7;
    HTC_MQ_REFILL();
    mq->c = c;
    mq->ct = ct;
    mq->a = 0x8000;
    mq->bp = bp;
}

static HTC_HD inline uint32_t htc_mq_decode(HtcMq *mq, HtcMqCx *cx)
{
    uint64_t c = mq->c;
    uint32_t a = mq->a, ct = mq->ct, d;
    const uint8_t *bp = mq->bp;
    HTC_MQ_DECODE(d, cx);
    mq->a = a;
    mq->c = c;
    mq->ct = ct;
    mq->bp = bp;
    return d;
}

static HTC_HD inline void htc_raw_init(HtcMq *mq, const uint8_t *copy)
{
    mq->bp = copy;
    mq->c = 0;
    mq->ct = 0;
    mq->a = 0;
}

static HTC_HD inline uint32_t htc_raw_decode(HtcMq *mq)
{
    uint64_t c = mq->c;
    uint32_t ct = mq->ct, d;
    const uint8_t *bp = mq->bp;
    HTC_RAW_DECODE(d);
    mq->c = c;
    mq->ct = ct;
    mq->bp = bp;
    return d;
}

#endif /* HTC_MQ_DECODER_H */
