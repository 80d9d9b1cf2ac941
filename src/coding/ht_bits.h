/* htcodec: the bit readers of the HT block decoder (Part 15 clause 7):
 * forward streams (MagSgn, SigProp: bits LSB first, a 0 bit stuffed after
 * each 0xFF byte), backward streams (VLC, MagRef: bytes read from the end,
 * bits LSB first, the MSB of a byte is stuffed when its 7 LSBs are all 1
 * and the byte read before it exceeds 0x8F) and the MEL stream (forward,
 * MSB first, a 0 bit stuffed after each 0xFF byte).
 * Every reader stays inside its segment; past the end it feeds a constant. */
#ifndef HTC_HT_BITS_H
#define HTC_HT_BITS_H

#include "hd.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HTC_HT_MIN_SZ(a, b) ((a) < (b) ? (a) : (b))

/* ---- forward ---- */
typedef struct HtcHtFwd {
    const uint8_t *p, *end;
    uint64_t acc;       /* next bits, first in bit 0 */
    uint32_t n;         /* valid bits in acc */
    uint32_t unstuff;   /* the byte before was 0xFF */
    uint32_t fill;      /* byte fed past the end */
} HtcHtFwd;

static HTC_HD inline void htc_ht_fwd_init(HtcHtFwd *b, const uint8_t *data, size_t len, uint32_t fill)
{
    b->p = data;
    b->end = data + len;
    b->acc = 0;
    b->n = 0;
    b->unstuff = 0;
    b->fill = fill;
}

/* Leaves at least 33 bits in acc. */
static HTC_HD inline void htc_ht_fwd_refill(HtcHtFwd *b)
{
    /* Fast path: 4 bytes without 0xFF and no pending unstuff. */
    while (b->n <= 32) {
        if (b->end - b->p >= 4 && !b->unstuff) {
            uint32_t w;
            memcpy(&w, b->p, 4);
            /* no byte equals 0xFF: (w & ~(w + 0x01010101)) ... use the
             * classic has-zero test on ~w */
            const uint32_t nw = ~w;
            if (!((nw - 0x01010101u) & ~nw & 0x80808080u)) {
                b->acc |= (uint64_t)(w) << b->n; /* little-endian host */
                b->n += 32;
                b->p += 4;
                continue;
            }
        }
        uint32_t byte = b->p < b->end ? *b->p++ : b->fill;
        const uint32_t nb = 8 - b->unstuff;
        const uint32_t next = byte == 0xFF;
        if (b->unstuff)
            byte &= 0x7F;
        b->acc |= (uint64_t)byte << b->n;
        b->n += nb;
        b->unstuff = next;
    }
}

/* Returns the next k bits (k <= 32), first bit in bit 0. */
static HTC_HD inline uint32_t htc_ht_fwd_get(HtcHtFwd *b, uint32_t k)
{
    if (b->n < k)
        htc_ht_fwd_refill(b);
    const uint32_t v = (uint32_t)(b->acc & (((uint64_t)1 << k) - 1));
    b->acc >>= k;
    b->n -= k;
    return v;
}

/* A forward stream without its stuffed bits: htc_ht_unstuff writes the
 * stream's bits (LSB first) into dst, then 1 bits (what the stream yields
 * past its end) to the end of dst; bits beyond (dst_size - 16) * 8 are
 * not kept, so dst_size must cover what a decoder can consume plus 16.
 * Then htc_ht_clean_get reads any k <= 32 bits with one unaligned load. */
static HTC_HD inline void htc_ht_unstuff(const uint8_t *src, size_t len, uint8_t *dst, size_t dst_size)
{
    const size_t lim = HTC_HT_MIN_SZ(len, dst_size - 16);
    uint64_t acc = 0;
    uint32_t n = 0, ff = 0;
    size_t i = 0, o = 0;
    while (i < lim) {
        if (!ff && lim - i >= 8) {
            /* eight bytes none of which is 0xFF: 64 bits out, n unchanged */
            uint64_t w;
            memcpy(&w, src + i, 8);
            const uint64_t nw = ~w;
            if (!((nw - 0x0101010101010101ull) & ~nw & 0x8080808080808080ull)) {
                const uint64_t lo = acc | w << n; /* little-endian host */
                memcpy(dst + o, &lo, 8);
                o += 8;
                i += 8;
                acc = n ? w >> (64 - n) : 0;
                continue;
            }
        }
        if (!ff && lim - i >= 4) {
            uint32_t w;
            memcpy(&w, src + i, 4);
            const uint32_t nw = ~w;
            if (!((nw - 0x01010101u) & ~nw & 0x80808080u)) {
                acc |= (uint64_t)w << n; /* little-endian host */
                i += 4;
                const uint32_t lo = (uint32_t)acc;
                memcpy(dst + o, &lo, 4);
                o += 4;
                acc >>= 32;
                continue;
            }
        }
        const uint32_t b = src[i++];
        acc |= (uint64_t)(ff ? b & 0x7F : b) << n;
        n += 8 - ff;
        ff = b == 0xFF;
        if (n >= 32) {
            const uint32_t lo = (uint32_t)acc;
            memcpy(dst + o, &lo, 4);
            o += 4;
            acc >>= 32;
            n -= 32;
        }
    }
    acc |= ~(uint64_t)0 << n;
    memcpy(dst + o, &acc, 8);
    memset(dst + o + 8, 0xFF, dst_size - o - 8);
}

static HTC_HD inline uint32_t htc_ht_clean_get(const uint8_t *buf, size_t *pos, uint32_t k)
{
    uint64_t w;
    memcpy(&w, buf + (*pos >> 3), 8);
    w >>= *pos & 7;
    *pos += k;
    return (uint32_t)(w & (((uint64_t)1 << k) - 1));
}

/* The VLC stream of a cleanup segment (lcup bytes, MEL+VLC scup bytes),
 * without its stuffed bits, in the order it is read (first bit in bit 0 of
 * dst[0]), then 0 bits (what it yields past its end) to the end of dst
 * (dst_size >= scup + 16), or to byte need when that is less. It starts
 * in the upper nibble of byte lcup - 2 and goes backward; a byte's MSB is stuffed when its 7 LSBs are all 1 and
 * the byte read before it exceeds 0x8F. Read it with htc_ht_clean_get. */
static HTC_HD inline void htc_ht_unstuff_vlc(const uint8_t *seg, uint32_t lcup, uint32_t scup,
                                      uint8_t *dst, size_t dst_size, size_t need)
{
    const uint32_t d = seg[lcup - 2];
    const uint32_t nib = d >> 4;
    uint32_t n = (nib & 7) == 7 ? 3 : 4;
    uint64_t acc = nib & ((1u << n) - 1);
    uint32_t unstuff = (d | 0xF) > 0x8F;
    size_t o = 0;
    const ptrdiff_t first = (ptrdiff_t)lcup - (ptrdiff_t)scup;
    for (ptrdiff_t i = (ptrdiff_t)lcup - 3; i >= first; i--) {
        if (i - 3 >= first) {
            /* four bytes none of which can be stuffed (no 7 LSBs all 1) */
            uint32_t w;
            memcpy(&w, seg + i - 3, 4);
            const uint32_t x = ~(w | 0x80808080u);
            if (!((x - 0x01010101u) & ~x & 0x80808080u)) {
                acc |= (uint64_t)htc_bswap32(w) << n; /* little-endian host */
                unstuff = seg[i - 3] > 0x8F;
                i -= 3;
                const uint32_t lo32 = (uint32_t)acc;
                memcpy(dst + o, &lo32, 4);
                o += 4;
                acc >>= 32;
                continue;
            }
        }
        const uint32_t b = seg[i];
        const uint32_t st = unstuff && (b & 0x7F) == 0x7F;
        acc |= (uint64_t)(b & (0xFFu >> st)) << n;
        n += 8 - st;
        unstuff = b > 0x8F;
        if (n >= 32) {
            const uint32_t lo = (uint32_t)acc;
            memcpy(dst + o, &lo, 4);
            o += 4;
            acc >>= 32;
            n -= 32;
        }
    }
    memcpy(dst + o, &acc, 8);
    /* zeros as far as a reader can go (need bytes), within dst */
    if (need > dst_size)
        need = dst_size;
    if (need > o + 8)
        memset(dst + o + 8, 0, need - o - 8);
}

/* ---- backward ---- */
typedef struct HtcHtRev {
    const uint8_t *base; /* segment bytes; pos counts down to lo */
    ptrdiff_t pos, lo;
    uint64_t acc;
    uint32_t n;
    uint32_t unstuff; /* the byte read before exceeded 0x8F */
} HtcHtRev;

static HTC_HD inline void htc_ht_rev_byte(HtcHtRev *b, uint32_t byte)
{
    const uint32_t st = b->unstuff && (byte & 0x7F) == 0x7F;
    b->acc |= (uint64_t)(byte & (0xFFu >> st)) << b->n;
    b->n += 8 - st;
    b->unstuff = byte > 0x8F;
}

/* The bytes p[0..3] as a little-endian word. On the GPU from the two
 * aligned words around them (four byte loads cost more there): a segment
 * read backward starts inside the byte pool, whose start is aligned, and
 * has HTC_BLOCK_PAD bytes after its data. */
static HTC_HD inline uint32_t htc_ht_load4(const uint8_t *p)
{
#ifdef __CUDA_ARCH__
    const uint32_t *a = (const uint32_t *)((uintptr_t)p & ~(uintptr_t)3);
    return __funnelshift_r(a[0], a[1], (uint32_t)((uintptr_t)p & 3) * 8);
#else
    uint32_t v;
    memcpy(&v, p, 4); /* little-endian host */
    return v;
#endif
}

/* Leaves at least 33 bits in acc. */
static HTC_HD inline void htc_ht_rev_refill(HtcHtRev *b)
{
    while (b->n <= 32) {
        if (b->pos - 3 >= b->lo) {
            const uint32_t v = htc_ht_load4(b->base + b->pos - 3);
            b->pos -= 4;
            const uint32_t x = ~(v | 0x80808080u);
            if (!((x - 0x01010101u) & ~x & 0x80808080u)) {
                /* none of the four can be stuffed (no 7 LSBs all 1): at once */
                b->acc |= (uint64_t)htc_bswap32(v) << b->n;
                b->n += 32;
                b->unstuff = (v & 0xFF) > 0x8F;
            } else {
                htc_ht_rev_byte(b, v >> 24);
                htc_ht_rev_byte(b, v >> 16 & 0xFF);
                htc_ht_rev_byte(b, v >> 8 & 0xFF);
                htc_ht_rev_byte(b, v & 0xFF);
            }
        } else {
            uint32_t byte = 0;
            if (b->pos >= b->lo)
                byte = b->base[b->pos--];
            htc_ht_rev_byte(b, byte);
        }
    }
}

/* The VLC stream of a cleanup segment of lcup bytes whose MEL+VLC part is
 * scup bytes: it starts in the upper nibble of byte lcup - 2. */
static HTC_HD inline void htc_ht_vlc_init(HtcHtRev *b, const uint8_t *data, uint32_t lcup, uint32_t scup)
{
    const uint32_t d = data[lcup - 2];
    const uint32_t nib = d >> 4;
    const uint32_t nb = (nib & 7) == 7 ? 3 : 4;
    b->base = data;
    b->pos = (ptrdiff_t)lcup - 3;
    b->lo = (ptrdiff_t)lcup - (ptrdiff_t)scup;
    b->acc = nib & ((1u << nb) - 1);
    b->n = nb;
    b->unstuff = (d | 0xF) > 0x8F;
    htc_ht_rev_refill(b);
}

/* The MagRef stream: the refinement segment [start, start + len) read
 * from its last byte. */
static HTC_HD inline void htc_ht_mrp_init(HtcHtRev *b, const uint8_t *start, uint32_t len)
{
    b->base = start;
    b->pos = (ptrdiff_t)len - 1;
    b->lo = 0;
    b->acc = 0;
    b->n = 0;
    b->unstuff = 1;
    htc_ht_rev_refill(b);
}

static HTC_HD inline uint32_t htc_ht_rev_peek(HtcHtRev *b) { return (uint32_t)b->acc; }

static HTC_HD inline void htc_ht_rev_skip(HtcHtRev *b, uint32_t k)
{
    b->acc >>= k;
    b->n -= k;
}

/* ---- MEL ---- */
typedef struct HtcHtMel {
    const uint8_t *data;
    uint32_t pos, len;  /* bytes [0, len) belong to MEL */
    uint32_t cur;       /* bits left in cur, MSB first */
    uint32_t nbits;
    uint32_t unstuff;
    uint32_t k;         /* MEL state 0..12 */
    uint32_t cnt;       /* events left in the current symbol, >= 1 */
    uint32_t one;       /* the symbol's last event is a 1 */
} HtcHtMel;

static HTC_HD inline uint32_t htc_ht_mel_bit(HtcHtMel *m)
{
    if (!m->nbits) {
        uint32_t byte = 0xFF;
        if (m->pos < m->len) {
            byte = m->data[m->pos];
            if (m->pos == m->len - 1)
                byte |= 0xF; /* the last byte is shared with the VLC stream */
        }
        if (m->pos < m->len)
            m->pos++;
        m->nbits = 8 - m->unstuff;
        m->cur = m->unstuff ? byte & 0x7F : byte;
        m->unstuff = byte == 0xFF;
    }
    m->nbits--;
    return (m->cur >> m->nbits) & 1;
}

/* Decodes the next MEL symbol: a 1 bit is a run of 2^e zero events, a 0
 * bit and e more bits r are r zero events then a 1. Symbols are decoded
 * ahead of use (reading MEL has no effect on the other streams), so the
 * state always holds one with events left. */
static HTC_HD inline void htc_ht_mel_next(HtcHtMel *m)
{
#ifdef __CUDA_ARCH__
    /* the exponents as nibbles: a local array would be built at each call */
    const uint32_t e = (uint32_t)(0x5433222111000ull >> (4 * m->k)) & 0xF;
#else
    static const uint8_t mel_e[13] = {0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5};
    const uint32_t e = mel_e[m->k];
#endif
    if (htc_ht_mel_bit(m)) {
        m->cnt = 1u << e;
        m->one = 0;
        m->k += m->k < 12;
    } else {
        uint32_t r = 0;
        for (uint32_t i = 0; i < e; i++)
            r = r << 1 | htc_ht_mel_bit(m);
        m->cnt = r + 1;
        m->one = 1;
        m->k -= m->k > 0;
    }
}

static HTC_HD inline void htc_ht_mel_init(HtcHtMel *m, const uint8_t *data, uint32_t len)
{
    m->data = data;
    m->pos = 0;
    m->len = len;
    m->cur = 0;
    m->nbits = 0;
    m->unstuff = 0;
    m->k = 0;
    htc_ht_mel_next(m);
}

/* The next MEL event if take is 1 (and 1 without consuming one if take is
 * 0): no branch but the one at the end of a symbol. */
static HTC_HD inline uint32_t htc_ht_mel_take(HtcHtMel *m, uint32_t take)
{
    const uint32_t ev = ((m->cnt == 1) & m->one) | (take ^ 1);
    m->cnt -= take;
    if (!m->cnt)
        htc_ht_mel_next(m);
    return ev;
}

/* The next MEL event (0 or 1). */
static HTC_HD inline uint32_t htc_ht_mel_event(HtcHtMel *m) { return htc_ht_mel_take(m, 1); }

#endif /* HTC_HT_BITS_H */
