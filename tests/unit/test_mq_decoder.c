/* The MQ decoder and the raw bit reader against encoders written here from
 * T.800 C.2 (ENCODE, CODEMPS, CODELPS, RENORME, BYTEOUT, FLUSH) and D.6:
 * random decisions in random contexts with skewed probabilities must come
 * back exactly, and reading past the end of a segment must stay inside it. */
#include <stdlib.h>
#include <string.h>

#include "coding/mq_decoder.h"
#include "test.h"

static uint64_t rng_state = 0x243F6A8885A308D3ull;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

typedef struct Enc {
    uint32_t a, c, ct;
    uint8_t *buf;              /* buf[0] is the byte before the first (BPST - 1) */
    long bp;                   /* index of B in buf */
} Enc;

static void enc_byteout(Enc *e)
{
    if (e->buf[e->bp] == 0xFF) {
        e->buf[++e->bp] = (uint8_t)(e->c >> 20);
        e->c &= 0xFFFFF;
        e->ct = 7;
    } else if (e->c < 0x8000000) {
        e->buf[++e->bp] = (uint8_t)(e->c >> 19);
        e->c &= 0x7FFFF;
        e->ct = 8;
    } else {
        e->buf[e->bp]++;
        if (e->buf[e->bp] == 0xFF) {
            e->c &= 0x7FFFFFF;
            e->buf[++e->bp] = (uint8_t)(e->c >> 20);
            e->c &= 0xFFFFF;
            e->ct = 7;
        } else {
            e->buf[++e->bp] = (uint8_t)(e->c >> 19);
            e->c &= 0x7FFFF;
            e->ct = 8;
        }
    }
}

static void enc_renorm(Enc *e)
{
    do {
        e->a <<= 1;
        e->c <<= 1;
        if (--e->ct == 0)
            enc_byteout(e);
    } while (!(e->a & 0x8000));
}

/* Table C.2 kept separately here (index, Qe, NMPS, NLPS, SWITCH) so the
 * decoder's table is checked against a second copy. */
static const uint16_t qe_tab[47] = {
    0x5601, 0x3401, 0x1801, 0x0AC1, 0x0521, 0x0221, 0x5601, 0x5401, 0x4801, 0x3801, 0x3001, 0x2401,
    0x1C01, 0x1601, 0x5601, 0x5401, 0x5101, 0x4801, 0x3801, 0x3401, 0x3001, 0x2801, 0x2401, 0x2201,
    0x1C01, 0x1801, 0x1601, 0x1401, 0x1201, 0x1101, 0x0AC1, 0x09C1, 0x08A1, 0x0521, 0x0441, 0x02A1,
    0x0221, 0x0141, 0x0111, 0x0085, 0x0049, 0x0025, 0x0015, 0x0009, 0x0005, 0x0001, 0x5601,
};
static const uint8_t nmps_tab[47] = {
    1, 2, 3, 4, 5, 38, 7, 8, 9, 10, 11, 12, 13, 29, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
    25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 45, 46,
};
static const uint8_t nlps_tab[47] = {
    1, 6, 9, 12, 29, 33, 6, 14, 14, 14, 17, 18, 20, 21, 14, 14, 15, 16, 17, 18, 19, 19, 20, 21,
    22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 46,
};
static const uint8_t switch_tab[47] = { 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };

typedef struct EncCtx {
    uint8_t i, mps;
} EncCtx;

static void enc_encode(Enc *e, EncCtx *cx, uint32_t d)
{
    const uint32_t qe = qe_tab[cx->i];
    e->a -= qe;
    if (d == cx->mps) {
        if (!(e->a & 0x8000)) {
            if (e->a < qe)
                e->a = qe;
            else
                e->c += qe;
            cx->i = nmps_tab[cx->i];
            enc_renorm(e);
        } else {
            e->c += qe;
        }
    } else {
        if (e->a < qe)
            e->c += qe;
        else
            e->a = qe;
        if (switch_tab[cx->i])
            cx->mps ^= 1;
        cx->i = nlps_tab[cx->i];
        enc_renorm(e);
    }
}

/* FLUSH with SETBITS; returns the segment length (a final 0xFF dropped). */
static long enc_flush(Enc *e)
{
    const uint32_t tempc = e->c + e->a;
    e->c |= 0xFFFF;
    if (e->c >= tempc)
        e->c -= 0x8000;
    e->c <<= e->ct;
    enc_byteout(e);
    e->c <<= e->ct;
    enc_byteout(e);
    long n = e->bp; /* bytes buf[1..bp] */
    if (e->buf[n] == 0xFF)
        n--;
    return n;
}

static void check_mq(uint32_t n, uint32_t num_ctx, int skew)
{
    uint8_t *sym = malloc(n), *cxi = malloc(n);
    uint8_t *buf = calloc(2 * n + 64, 1);
    EncCtx ec[19];
    HtcMqCx dc[19];
    memset(ec, 0, sizeof(ec));
    for (uint32_t i = 0; i < num_ctx; i++) {
        ec[i].i = (uint8_t)(rnd() % 47);
        ec[i].mps = (uint8_t)(rnd() & 1);
        dc[i] = HTC_MQ_STATE(ec[i].i, ec[i].mps);
    }
    for (uint32_t i = 0; i < n; i++) {
        cxi[i] = (uint8_t)(rnd() % num_ctx);
        /* context c emits 1 with probability about (c + 1) / (num_ctx + 1)
         * when skewed, 1/2 otherwise */
        sym[i] = skew ? (rnd() % (num_ctx + 1)) <= cxi[i] : rnd() & 1;
        if (skew > 1)
            sym[i] = rnd() % 64 == 0;
    }
    Enc e = { 0x8000, 0, 12, buf, 0 };
    for (uint32_t i = 0; i < n; i++)
        enc_encode(&e, &ec[cxi[i]], sym[i]);
    const long len = enc_flush(&e);
    /* Decode from an exact-size copy so ASan sees any read past the end. */
    uint8_t *seg = malloc((size_t)len + HTC_MQ_TAIL);
    htc_mq_copy_segment(seg, buf + 1, (uint32_t)len);
    HtcMq mq;
    htc_mq_init(&mq, seg);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad += htc_mq_decode(&mq, &dc[cxi[i]]) != sym[i];
    CHECK_EQ_INT(bad, 0);
    for (uint32_t i = 0; i < num_ctx; i++)
        CHECK(dc[i] == HTC_MQ_STATE(ec[i].i, ec[i].mps));
    /* Far past the end: still inside the copy. */
    for (uint32_t i = 0; i < 1000; i++)
        htc_mq_decode(&mq, &dc[0]);
    CHECK(mq.bp <= seg + len + 1);
    free(seg);
    free(sym);
    free(cxi);
    free(buf);
}

static void check_raw(uint32_t n)
{
    uint8_t *bits = malloc(n), *buf = calloc(n / 7 + 16, 1);
    size_t len = 0;
    uint32_t c = 0, ct = 8, ct0 = 8;
    for (uint32_t i = 0; i < n; i++) {
        bits[i] = (rnd() % 3) != 0; /* many 1s: many 0xFF bytes */
        c = c << 1 | bits[i];
        if (--ct == 0) {
            buf[len++] = (uint8_t)c;
            ct = ct0 = c == 0xFF ? 7 : 8; /* stuff a 0 after 0xFF */
            c = 0;
        }
    }
    if (ct != ct0)
        buf[len++] = (uint8_t)(c << ct);
    uint8_t *seg = malloc(len + HTC_MQ_TAIL);
    htc_mq_copy_segment(seg, buf, (uint32_t)len);
    HtcMq mq;
    htc_raw_init(&mq, seg);
    uint32_t bad = 0;
    for (uint32_t i = 0; i < n; i++)
        bad += htc_raw_decode(&mq) != bits[i];
    CHECK_EQ_INT(bad, 0);
    for (uint32_t i = 0; i < 100; i++)
        htc_raw_decode(&mq);
    CHECK(mq.bp <= seg + len + 1);
    free(seg);
    free(bits);
    free(buf);
}

int main(void)
{
    /* The decoder's table equals the second copy. */
    for (int s = 0; s < 47; s++)
        for (int m = 0; m < 2; m++) {
            const int i = s * 2 + m;
            const HtcMqCx st = htc_mq_table[i];
            CHECK_EQ_INT(HTC_MQ_QE(st), qe_tab[s]);
            CHECK_EQ_INT(HTC_MQ_MPS(st), m);
            CHECK_EQ_INT(HTC_MQ_INDEX(st), i);
            CHECK_EQ_INT((uint32_t)htc_mq_next[i], htc_mq_table[nmps_tab[s] * 2 + m]);
            CHECK_EQ_INT((uint32_t)(htc_mq_next[i] >> 32), htc_mq_table[nlps_tab[s] * 2 + (m ^ switch_tab[s])]);
        }
    for (int r = 0; r < 40; r++)
        check_mq(1 + rnd() % 20000, 1 + rnd() % 19, r % 3);
    check_mq(1, 1, 0);
    check_mq(200000, 19, 2);
    for (int r = 0; r < 20; r++)
        check_raw(1 + rnd() % 5000);
    /* An empty segment decodes (1-bits fed) without reading. */
    HtcMq mq;
    HtcMqCx cx = HTC_MQ_STATE(0, 0);
    uint8_t empty[HTC_MQ_TAIL];
    htc_mq_copy_segment(empty, NULL, 0);
    htc_mq_init(&mq, empty);
    for (int i = 0; i < 100; i++)
        htc_mq_decode(&mq, &cx);
    CHECK(mq.bp == empty);
    return test_summary("mq_decoder");
}
