/* htcodec: the MQ arithmetic decoder of T.800 Annex C.3 (software
 * conventions decoder: 32-bit C register, 16-bit A, bit counter CT) and the
 * raw (bypass) bit reader of D.6.
 *
 * Each context is one byte: the index of an HtcMqState, state * 2 + MPS.
 * The decoder never reads outside [start, end): past the end of a segment
 * it behaves as if the bytes were 0xFF 0xFF, so the register fills with
 * 1-bits (C.3.4, a marker code or the end of the data), which is what the
 * encoder's termination expects, and corrupt data decodes to garbage values
 * instead of reading further.
 *
 * The decode functions are static inline so that a pass function can keep
 * a local copy of HtcMq in registers. */
#ifndef HTC_MQ_DECODER_H
#define HTC_MQ_DECODER_H

#include <stdint.h>

/* One row of T.800 Table C.2 for a given MPS: Qe, and the context values
 * (state * 2 + MPS) after an MPS and after an LPS (SWITCH applied). */
typedef struct HtcMqState {
    uint32_t qe;
    uint8_t mps;
    uint8_t next_mps;
    uint8_t next_lps;
    uint8_t pad;
} HtcMqState;

/* Table C.2, 47 states x 2 MPS values (src/coding/mq_tables.c). */
extern const HtcMqState htc_mq_states[94];

typedef struct HtcMq {
    uint32_t c;                /* C register: Chigh in bits 16..31 */
    uint32_t a;                /* interval, 0x8000 <= A < 0x10000 after renormalisation */
    uint32_t ct;               /* bits left in the low byte of C */
    const uint8_t *bp;         /* current byte: B */
    const uint8_t *end;        /* end of the segment (exclusive) */
} HtcMq;

/* The byte at p, or 0xFF at and past the end of the segment. */
static inline uint32_t htc_mq_byte(const HtcMq *mq, const uint8_t *p)
{
    return p < mq->end ? *p : 0xFFu;
}

/* BYTEIN (Figure C.19). After a 0xFF, a byte above 0x8F is a marker or the
 * end: feed 1-bits without advancing; otherwise the byte carries 7 bits. */
static inline void htc_mq_bytein(HtcMq *mq)
{
    if (htc_mq_byte(mq, mq->bp) == 0xFF) {
        const uint32_t b1 = htc_mq_byte(mq, mq->bp + 1);
        if (b1 > 0x8F) {
            mq->c += 0xFF00;
            mq->ct = 8;
        } else {
            mq->bp++;
            mq->c += b1 << 9;
            mq->ct = 7;
        }
    } else {
        mq->bp++;
        mq->c += htc_mq_byte(mq, mq->bp) << 8;
        mq->ct = 8;
    }
}

/* INITDEC (Figure C.20) on the segment [data, data + len). */
static inline void htc_mq_init(HtcMq *mq, const uint8_t *data, uint32_t len)
{
    mq->bp = data;
    mq->end = data + len;
    mq->c = htc_mq_byte(mq, data) << 16;
    htc_mq_bytein(mq);
    mq->c <<= 7;
    mq->ct -= 7;
    mq->a = 0x8000;
}

/* RENORMD (Figure C.18). */
static inline void htc_mq_renorm(HtcMq *mq)
{
    do {
        if (mq->ct == 0)
            htc_mq_bytein(mq);
        mq->a <<= 1;
        mq->c <<= 1;
        mq->ct--;
    } while (!(mq->a & 0x8000));
}

/* DECODE (Figures C.15 to C.17) of one decision in context *cx. */
static inline uint32_t htc_mq_decode(HtcMq *mq, uint8_t *cx)
{
    const HtcMqState *s = &htc_mq_states[*cx];
    const uint32_t qe = s->qe;
    uint32_t d;
    mq->a -= qe;
    if ((mq->c >> 16) < qe) {
        /* LPS_EXCHANGE */
        if (mq->a < qe) {
            d = s->mps;
            *cx = s->next_mps;
        } else {
            d = s->mps ^ 1;
            *cx = s->next_lps;
        }
        mq->a = qe;
        htc_mq_renorm(mq);
    } else {
        mq->c -= qe << 16;
        if (mq->a & 0x8000)
            return s->mps;
        /* MPS_EXCHANGE */
        if (mq->a < qe) {
            d = s->mps ^ 1;
            *cx = s->next_lps;
        } else {
            d = s->mps;
            *cx = s->next_mps;
        }
        htc_mq_renorm(mq);
    }
    return d;
}

/* Raw segments (selective arithmetic coding bypass, D.6): bits MSB first;
 * after a 0xFF byte the next byte's MSB is a stuffed 0 and is skipped; a
 * 0xFF followed by a byte above 0x8F (or the end) yields 1-bits. c holds
 * the last byte, ct the bits of it not yet read. */
static inline void htc_raw_init(HtcMq *mq, const uint8_t *data, uint32_t len)
{
    mq->bp = data;
    mq->end = data + len;
    mq->c = 0;
    mq->ct = 0;
    mq->a = 0;
}

static inline uint32_t htc_raw_decode(HtcMq *mq)
{
    if (mq->ct == 0) {
        if (mq->c == 0xFF) {
            const uint32_t b = htc_mq_byte(mq, mq->bp);
            if (b > 0x8F) {
                mq->c = 0xFF;
                mq->ct = 8;
            } else {
                mq->c = b;
                mq->bp++;
                mq->ct = 7;
            }
        } else {
            mq->c = htc_mq_byte(mq, mq->bp);
            mq->bp += mq->bp < mq->end;
            mq->ct = 8;
        }
    }
    mq->ct--;
    return (mq->c >> mq->ct) & 1;
}

#endif /* HTC_MQ_DECODER_H */
