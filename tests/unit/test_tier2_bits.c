/* The packet-header bit reader (codestream/tier2_bits.h) against a plain
 * reference that takes one bit at a time, as B.10.1 describes it: random
 * bytes rich in 0xFF, split into spans with junk between them, read by
 * random mixes of single bits, n-bit groups, zero runs and header ends.
 * Values, statuses (HTC_ETRUNCATED where the data runs out) and the stream
 * position after each header must be the same. */
#include <stdlib.h>
#include <string.h>

#include "codestream/tier2_bits.h"
#include "internal.h"
#include "test.h"

/* ---- the reference: one bit at a time over the concatenated bytes ---- */

typedef struct Ref {
    const uint8_t *b;
    size_t n, pos;
    uint32_t byte;
    int nbits, last_ff;
} Ref;

static int ref_bit(Ref *r)
{
    if (r->nbits == 0) {
        if (r->pos >= r->n)
            return HTC_ETRUNCATED;
        const uint8_t c = r->b[r->pos++];
        r->nbits = r->last_ff ? 7 : 8;
        r->last_ff = c == 0xFF;
        r->byte = c;
    }
    r->nbits--;
    return (int)((r->byte >> r->nbits) & 1);
}

static int64_t ref_get(Ref *r, uint32_t n)
{
    uint64_t v = 0;
    for (uint32_t i = 0; i < n; i++) {
        const int b = ref_bit(r);
        if (b < 0)
            return b;
        v = v << 1 | (uint32_t)b;
    }
    return (int64_t)v;
}

static int ref_zero_run(Ref *r, uint32_t room, uint32_t *count)
{
    for (uint32_t i = 0; i < room; i++) {
        const int b = ref_bit(r);
        if (b < 0)
            return b;
        if (b)
            return 1;
        (*count)++;
    }
    return 0;
}

static void ref_align(Ref *r)
{
    r->nbits = 0;
    if (r->last_ff && r->pos < r->n)
        r->pos++;
    r->last_ff = 0;
}

/* ---- a random stream ---- */

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint8_t rnd_byte(uint32_t ff_odds)
{
    const uint32_t k = rnd() % 16;
    if (k < ff_odds)
        return 0xFF;
    if (k == 15)
        return (uint8_t)(rnd() & 1 ? 0x7F : 0x80);
    if (k == 14)
        return (uint8_t)(rnd() & 1 ? 0x00 : 0xFE);
    return (uint8_t)rnd();
}

/* Logical position of the stream (bytes of the spans before it). */
static uint64_t bytes_pos(const HtcT2Bytes *b)
{
    uint64_t p = 0;
    for (uint32_t i = 0; i < b->si && i < b->nspans; i++)
        p += b->spans[i].length;
    return p + (b->si < b->nspans ? b->pos : 0);
}

int main(void)
{
    int bad_values = 0, bad_status = 0, bad_pos = 0, runs = 0, truncs = 0;
    for (int trial = 0; trial < 4000; trial++) {
        const size_t n = rnd() % (trial < 200 ? 12 : 300);
        const uint32_t ff_odds = rnd() % 9; /* 0 .. 8 sixteenths of the bytes are 0xFF */
        uint8_t *data = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            data[i] = rnd_byte(ff_odds);

        /* The spans in one buffer, junk between them, the last one at its end. */
        HtcSpan spans[40];
        uint32_t nspans = 0;
        size_t total = 0, used = 0;
        uint8_t *buf = malloc(2 * n + 40 * 8 + 1);
        while (used < n || (nspans == 0)) {
            size_t len = n - used;
            if (nspans < 39 && len && (rnd() & 1))
                len = rnd() % (len + 1); /* may be empty */
            const size_t gap = rnd() % 8;
            memset(buf + total, 0xFF, gap); /* junk the reader must not see */
            total += gap;
            memcpy(buf + total, data + used, len);
            spans[nspans].offset = total;
            spans[nspans].length = len;
            nspans++;
            total += len;
            used += len;
        }
        /* Move the bytes to an exact-size buffer so that reading past the
         * last span is caught under ASan. */
        uint8_t *base = malloc(total ? total : 1);
        memcpy(base, buf, total);
        free(buf);

        HtcT2Bytes bs = { base, spans, nspans, 0, 0 };
        HtcT2Bits br;
        Ref ref = { data, n, 0, 0, 0, 0 };
        int stop = 0;
        for (int header = 0; header < 6 && !stop; header++) {
            htc_t2_bits_start(&br, &bs);
            const int ops = 1 + (int)(rnd() % 24);
            for (int o = 0; o < ops && !stop; o++) {
                const uint32_t kind = rnd() % 4;
                int64_t a, b;
                uint32_t ca = 0, cb = 0;
                if (kind == 0) {
                    a = htc_t2_bits_bit(&br);
                    b = ref_bit(&ref);
                } else if (kind == 1) {
                    const uint32_t k = rnd() % 33;
                    a = htc_t2_bits_get(&br, k);
                    b = ref_get(&ref, k);
                } else if (kind == 2) {
                    const uint32_t k = 1 + rnd() % 3;
                    a = htc_t2_bits_get(&br, k);
                    b = ref_get(&ref, k);
                } else {
                    const uint32_t room = 1 + rnd() % 80;
                    a = htc_t2_bits_zero_run(&br, room, &ca);
                    b = ref_zero_run(&ref, room, &cb);
                }
                runs++;
                if ((a < 0) != (b < 0) || (a < 0 && a != b)) {
                    bad_status++;
                    stop = 1;
                } else if (a < 0) {
                    truncs++;
                    stop = 1; /* a truncated header is abandoned */
                } else if (a != b || ca != cb) {
                    bad_values++;
                    stop = 1;
                }
            }
            if (!stop) {
                htc_t2_bits_align(&br);
                ref_align(&ref);
                if (bytes_pos(&bs) != ref.pos) {
                    bad_pos++;
                    stop = 1;
                }
            }
        }
        free(base);
        free(data);
    }
    CHECK_EQ_INT(bad_values, 0);
    CHECK_EQ_INT(bad_status, 0);
    CHECK_EQ_INT(bad_pos, 0);
    CHECK(runs > 100000);
    CHECK(truncs > 500);

    /* Fixed cases: stuffing, the end of a header on 0xFF, running dry. */
    {
        /* 0xFF then 0x7F: 8 + 7 ones; then 0x80 after a 0xFF: its top bit is skipped. */
        static const uint8_t b[] = { 0xFF, 0x7F, 0x12, 0xFF, 0x80, 0x01 };
        HtcSpan sp = { 0, sizeof(b) };
        HtcT2Bytes bs = { b, &sp, 1, 0, 0 };
        HtcT2Bits br;
        htc_t2_bits_start(&br, &bs);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 15), 0x7FFF);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 8), 0x12);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 8), 0xFF);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 7), 0x00); /* 0x80 without its stuffed bit */
        htc_t2_bits_align(&br);
        CHECK_EQ_INT(bs.pos, 5);
        htc_t2_bits_start(&br, &bs);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 8), 0x01);
        CHECK_EQ_INT(htc_t2_bits_bit(&br), HTC_ETRUNCATED);
        /* A header whose last bit is in a 0xFF byte ends one byte later. */
        bs.si = 0;
        bs.pos = 2;
        htc_t2_bits_start(&br, &bs);
        CHECK_EQ_INT(htc_t2_bits_get(&br, 9), 0x12 << 1 | 1);
        htc_t2_bits_align(&br);
        CHECK_EQ_INT(bs.pos, 5);
    }
    return test_summary("test_tier2_bits");
}
