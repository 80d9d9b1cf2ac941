/* htcodec: what packet headers are read from: a tile's data as one logical
 * byte stream over its tile-parts (or a packed-header buffer), and the
 * packet-header bit reader over it (B.10.1).
 *
 * Bit stuffing: a byte that follows a 0xFF byte carries 7 bits (its most
 * significant bit is skipped). The reader keeps up to 64 bits in a window,
 * loaded several bytes at a time with the stuffing removed, and gives out
 * any number of them at once. It never reads past the bytes it is given;
 * it loads ahead of what it gives out, and htc_t2_bits_align hands back the
 * bytes it loaded but did not use, so the stream position after a header is
 * the one a bit-at-a-time reader leaves: just after the byte holding the
 * header's last bit, and one byte more when that byte is 0xFF (the stuffed
 * byte that ends a header). Reads that run past the end of the data give
 * HTC_ETRUNCATED.
 *
 * The window only ever holds bytes of one span: a new span is entered when
 * the window is empty, so the bytes handed back lie in the current span. */
#ifndef HTC_TIER2_BITS_H
#define HTC_TIER2_BITS_H

#include "codestream/codestream.h"

/* The small readers go inline wherever they are used (a call costs as much
 * as a read). */
#if defined(__GNUC__)
#define HTC_T2_INLINE static inline __attribute__((always_inline))
#else
#define HTC_T2_INLINE static inline
#endif

/* ---- bytes ---- */

typedef struct HtcT2Bytes {
    const uint8_t *base;
    const HtcSpan *spans;
    uint32_t nspans;
    uint32_t si;               /* current span */
    uint64_t pos;              /* offset inside it */
} HtcT2Bytes;

/* Steps over spans that are used up. */
static inline void htc_t2_bytes_norm(HtcT2Bytes *b)
{
    while (b->si < b->nspans && b->pos >= b->spans[b->si].length) {
        b->si++;
        b->pos = 0;
    }
}

/* The next byte, or -1 at the end. */
static inline int htc_t2_bytes_get(HtcT2Bytes *b)
{
    htc_t2_bytes_norm(b);
    if (b->si >= b->nspans)
        return -1;
    return b->base[b->spans[b->si].offset + b->pos++];
}

static inline int htc_t2_bytes_at_end(HtcT2Bytes *b)
{
    htc_t2_bytes_norm(b);
    return b->si >= b->nspans;
}

/* ---- bits ---- */

typedef struct HtcT2Bits {
    uint64_t win;              /* unread bits from the top; zeros below them */
    uint32_t nbits;            /* bits in win (0 .. 64) */
    uint32_t last_ff;          /* the last byte loaded was 0xFF */
    uint64_t narrow;           /* one bit per loaded byte, newest lowest: it carried 7 bits */
    const uint8_t *p, *end;    /* unloaded bytes of the current span */
    HtcT2Bytes *bs;            /* the stream, where the position goes back at the end */
} HtcT2Bits;

/* Starts reading at bs's position. */
static inline void htc_t2_bits_start(HtcT2Bits *br, HtcT2Bytes *bs)
{
    br->win = 0;
    br->nbits = 0;
    br->last_ff = 0;
    br->narrow = 0;
    br->bs = bs;
    htc_t2_bytes_norm(bs);
    if (bs->si < bs->nspans) {
        const uint8_t *s = bs->base + bs->spans[bs->si].offset;
        br->p = s + bs->pos;
        br->end = s + bs->spans[bs->si].length;
    } else {
        br->p = br->end = NULL;
    }
}

static inline uint64_t htc_t2_bits_load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    v = __builtin_bswap64(v);
#elif !(defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)
    v = (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 | (uint64_t)p[3] << 32 |
        (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 | (uint64_t)p[6] << 8 | p[7];
#endif
    return v;
}

/* Moves to the next span with bytes; only when the window is empty. */
static inline void htc_t2_bits_next_span(HtcT2Bits *br)
{
    HtcT2Bytes *bs = br->bs;
    if (bs->si >= bs->nspans)
        return;
    bs->si++;
    bs->pos = 0;
    htc_t2_bytes_norm(bs);
    if (bs->si < bs->nspans) {
        const uint8_t *s = bs->base + bs->spans[bs->si].offset;
        br->p = s;
        br->end = s + bs->spans[bs->si].length;
    } else {
        br->p = br->end = NULL;
    }
}

/* Loads bytes until the window holds more than 56 bits or the current span
 * is used up; enters the next span when the window is empty. Eight bytes at
 * a time up to a 0xFF byte; the byte after one alone (7 bits). */
static inline void htc_t2_bits_refill(HtcT2Bits *br)
{
    while (br->nbits <= 56) {
        if (br->p != br->end && br->end - br->p >= 8 && !br->last_ff) { /* (p, end may be NULL) */
            const uint64_t x = htc_t2_bits_load64(br->p);
            /* 0x80 in each byte of x that is 0xFF, exactly. */
            const uint64_t lo7 = 0x7F7F7F7F7F7F7F7Full;
            const uint64_t ff = ((x & lo7) + 0x0101010101010101ull) & x & ~lo7;
            uint32_t k = (64 - br->nbits) >> 3; /* whole bytes that fit: 1 .. 8 */
            if (ff) {
                const uint32_t j = ((uint32_t)__builtin_clzll(ff) >> 3) + 1; /* up to the first 0xFF */
                if (j <= k) {
                    k = j;
                    br->last_ff = 1;
                }
            }
            const uint64_t keep = k == 8 ? x : x & ~(~0ull >> (8 * k));
            br->win |= keep >> br->nbits;
            br->nbits += 8 * k;
            br->narrow <<= k; /* k bytes of 8 bits */
            br->p += k;
            if (br->last_ff)
                return; /* often a marker (EPH, SOP) after the header: load no further */
            continue;
        }
        if (br->p != br->end) {
            const uint32_t c = *br->p++;
            const uint32_t w = 8 - br->last_ff;
            br->win |= (uint64_t)(c & (0xFFu >> br->last_ff)) << (64 - w - br->nbits);
            br->nbits += w;
            br->narrow = br->narrow << 1 | br->last_ff;
            br->last_ff = c == 0xFF;
            continue;
        }
        if (br->nbits || br->p == NULL)
            return;
        htc_t2_bits_next_span(br);
    }
}

HTC_T2_INLINE void htc_t2_bits_skip(HtcT2Bits *br, uint32_t n) /* 1 <= n <= nbits */
{
    br->win = br->win << (n - 1) << 1; /* n may be 64 */
    br->nbits -= n;
}

/* Reads n bits (n <= 32) when they are in the window already or after a
 * refill; else bit groups across the end of a span, or HTC_ETRUNCATED. */
static inline int64_t htc_t2_bits_get_slow(HtcT2Bits *br, uint32_t n)
{
    uint64_t v = 0;
    while (n) {
        htc_t2_bits_refill(br);
        if (!br->nbits)
            return HTC_ETRUNCATED;
        const uint32_t k = n < br->nbits ? n : br->nbits;
        v = v << k | br->win >> (64 - k);
        htc_t2_bits_skip(br, k);
        n -= k;
    }
    return (int64_t)v;
}

HTC_T2_INLINE int64_t htc_t2_bits_get(HtcT2Bits *br, uint32_t n)
{
    if (br->nbits < n) {
        htc_t2_bits_refill(br);
        if (br->nbits < n)
            return htc_t2_bits_get_slow(br, n);
    }
    if (!n)
        return 0;
    const uint64_t v = br->win >> (64 - n);
    htc_t2_bits_skip(br, n);
    return (int64_t)v;
}

/* Reads zero bits up to `room` of them (room > 0), or fewer ended by a one
 * bit; adds the zeros to *count. Returns 1 when a one ended the run, 0 when
 * room zeros were read, or HTC_ETRUNCATED. (A tag tree node's value.) */
HTC_T2_INLINE int htc_t2_bits_zero_run(HtcT2Bits *br, uint32_t room, uint32_t *count)
{
    if (!room)
        return 0;
    for (;;) {
        if (!br->nbits) {
            htc_t2_bits_refill(br);
            if (!br->nbits)
                return HTC_ETRUNCATED;
        }
        /* The bits below the window's are zero, so z may pass nbits. */
        const uint32_t z = br->win ? (uint32_t)__builtin_clzll(br->win) : 64;
        if (z >= room && room <= br->nbits) {
            htc_t2_bits_skip(br, room);
            *count += room;
            return 0;
        }
        if (z < br->nbits) {
            htc_t2_bits_skip(br, z + 1);
            *count += z;
            return 1;
        }
        *count += br->nbits;
        room -= br->nbits;
        htc_t2_bits_skip(br, br->nbits);
    }
}

/* One bit: 0, 1 or HTC_ETRUNCATED. */
HTC_T2_INLINE int htc_t2_bits_bit(HtcT2Bits *br)
{
    if (!br->nbits) {
        htc_t2_bits_refill(br);
        if (!br->nbits)
            return HTC_ETRUNCATED;
    }
    const int b = (int)(br->win >> 63);
    br->win <<= 1;
    br->nbits--;
    return b;
}

/* Ends a header: the loaded bytes not used go back to the stream, and the
 * byte after a final 0xFF is skipped. */
static inline void htc_t2_bits_align(HtcT2Bits *br)
{
    HtcT2Bytes *bs = br->bs;
    if (!br->p)
        return; /* the stream ended: nothing loaded is left */
    /* Whole bytes left unread, newest first (at most 9 of them). */
    uint32_t left = br->nbits, back = 0;
    uint64_t narrow = br->narrow;
    if (!(narrow & 0x3FF)) {
        back = left >> 3;
    } else {
        while (left >= 8 - (uint32_t)(narrow & 1)) {
            left -= 8 - (uint32_t)(narrow & 1);
            narrow >>= 1;
            back++;
        }
    }
    const uint8_t *p = br->p - back;
    const uint8_t *span = bs->base + bs->spans[bs->si].offset;
    bs->pos = (uint64_t)(p - span);
    br->win = 0;
    br->nbits = 0;
    if (p > span && p[-1] == 0xFF)
        (void)htc_t2_bytes_get(bs);
}

#endif /* HTC_TIER2_BITS_H */
