/* htcodec: the HT cleanup pass for the CPU in two phases, as one source
 * compiled twice: plain C (coding/ht_cleanup_cpu.c) and with the BMI
 * shifts and bit counts (x86/ht_cleanup_avx2.c); both define their entry
 * point as ht_cleanup_cpu(). How it works: coding/ht_cleanup_cpu.c. */
#ifndef HTC_HT_CLEANUP_IMPL_H
#define HTC_HT_CLEANUP_IMPL_H

#include <string.h>

#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "internal.h"

typedef struct HtcHtCpuTables {
    /* index (c << 7) | 7 VLC bits; bits 0..2 the code-word length (3..5
     * zero: the entry is a shift count), 7..9 the context the quad gives
     * its right neighbour (c << 7), 16..31 HtcHtTables' vlc0 / vlc1 entry */
    uint32_t vlc0[8 << 7];
    uint32_t vlc1[8 << 7];
    /* index (mode << 6) | 6 VLC bits; bits 0..5 the pair's U-VLC length
     * (prefixes and suffixes), 8..10 the prefixes' length, 11..13 suffix
     * length of quad 0, 14..16 of quad 1, 17..19 u prefix of quad 0,
     * 20..22 of quad 1 */
    uint32_t uvlc0[5 << 6];
    uint32_t uvlc1[4 << 6];
} HtcHtCpuTables;

/* The tables, built on the first call (thread-safe; coding/ht_cleanup_cpu.c). */
const HtcHtCpuTables *htc_ht_cpu_tables(void);

/* Quads of all rows: row r at r * (qw + 3) + 1, with a zero entry on its
 * left and two on its right (the neighbours of the row below's contexts). */
#define CPU_QUADS_MAX 2560

/* One block's decoding state between the phases. */
typedef struct CpuBlock {
    const uint8_t *seg;
    uint32_t lcup, scup, w, h, qw, qh, qs;
    uint16_t quads[CPU_QUADS_MAX + 8];
    uint8_t us[CPU_QUADS_MAX + 8];
    /* the contexts the row above gives each quad of this row (c bits 0
     * and 2, at index position), index qx */
    uint16_t actx[512 + 8];
    uint8_t vb[HTC_HT_VLC_CLEAN_SIZE];
} CpuBlock;

/* The VLC register and the walk over the non-initial rows. The VLC bits:
 * before each pair's U-VLC, 8 bytes from vp are OR-ed in above the nb
 * valid ones (bits past nb are the stream's next bits or zero, so OR-ing
 * them again changes nothing) and vp moves by the whole bytes taken: at
 * least 56 valid bits then, at least 40 when the next pair starts (a U-VLC
 * takes at most 16), 26 after its two code-words (at most 7 bits each).
 * Reads stay below byte consumed / 8 + 16, inside what htc_ht_unstuff_vlc
 * wrote. */
typedef struct VlcRun {
    const uint8_t *vp;
    uint64_t vacc;
    uint32_t nb;
    uint32_t left;     /* context from the quad on the left, << 7 */
    uint32_t pos, end; /* the next pair's index in quads[], its row's end */
    uint32_t mel;      /* the MEL symbol in use: HtcHtMel's cnt << 1 | one */
    uint32_t qw, qs;
} VlcRun;

#if defined(__GNUC__)
#define CPU_INLINE static inline __attribute__((always_inline))
#define CPU_NOINLINE static __attribute__((noinline))
#else
#define CPU_INLINE static inline
#define CPU_NOINLINE static
#endif

/* The next MEL symbol: out of line, so that the symbol in use stays in a
 * register (a pointer to it would keep it in memory, a store and a load on
 * every quad). Returns cnt << 1 | one. */
CPU_NOINLINE uint32_t mel_next_symbol(HtcHtMel *m)
{
    htc_ht_mel_next(m);
    return m->cnt << 1 | m->one;
}

/* htc_ht_mel_take on the symbol held in r. */
CPU_INLINE uint32_t mel_take(VlcRun *r, HtcHtMel *m, uint32_t take)
{
    const uint32_t ev = (r->mel == 3) | (take ^ 1);
    r->mel -= take << 1;
    if (r->mel < 2)
        r->mel = mel_next_symbol(m);
    return ev;
}

/* Returns 0, or HTC_ECORRUPT for a segment that cannot hold its lengths. */
static int block_setup(CpuBlock *b, const uint8_t *seg, uint32_t lcup, uint32_t w, uint32_t h)
{
    if (lcup < 2)
        return HTC_ECORRUPT;
    const uint32_t scup = (uint32_t)seg[lcup - 1] << 4 | (seg[lcup - 2] & 0xF);
    if (scup < 2 || scup > lcup || scup > 4079)
        return HTC_ECORRUPT;
    b->seg = seg;
    b->lcup = lcup;
    b->scup = scup;
    b->w = w;
    b->h = h;
    b->qw = (w + 1) / 2;
    b->qh = (h + 1) / 2;
    b->qs = b->qw + 3;
    /* a pair of quads reads a 64-bit window and consumes at most 30 bits */
    htc_ht_unstuff_vlc(seg, lcup, scup, b->vb, HTC_HT_VLC_CLEAN_SIZE,
                       ((size_t)(b->qw + 1) / 2 * b->qh * 30 + 7) / 8 + 16);
    return 0;
}

#define REFILL(r, lens, vr)                                                                        \
    do {                                                                                           \
        (r)->nb -= (lens);                                                                         \
        uint64_t w64_;                                                                             \
        memcpy(&w64_, (r)->vp, 8); /* little-endian host */                                        \
        vr = (r)->vacc | w64_ << (r)->nb;                                                          \
        (r)->vp += (63 - (r)->nb) >> 3;                                                            \
        (r)->nb |= 56;                                                                             \
    } while (0)

/* U-VLC of a pair from entry e: prefix bits, then both suffixes */
#define UVLC(r, e, vr, u0, u1)                                                                     \
    do {                                                                                           \
        const uint32_t pl_ = ((e) >> 8) & 7, s0_ = ((e) >> 11) & 7, s1_ = ((e) >> 14) & 7;         \
        const uint32_t sfx_ = (uint32_t)((vr) >> pl_) & ((1u << (s0_ + s1_)) - 1);                 \
        (r)->vacc = (vr) >> ((e) & 63);                                                            \
        (r)->nb -= (e) & 63;                                                                       \
        u0 = (((e) >> 17) & 7) + (sfx_ & ((1u << s0_) - 1));                                       \
        u1 = (((e) >> 20) & 7) + (sfx_ >> s0_);                                                    \
    } while (0)

/* The contexts from row entries e[-1 .. qw] (zeros around it) for the row
 * below: c bit 0 is nw's rho bit 3 or n's rho bit 1, bit 2 is n's rho bit
 * 3 or ne's rho bit 1 (rho in entry bits 4..7; c at index bits 7 and 9).
 * A loop the compiler vectorises, off the serial chain. */
CPU_INLINE void above_contexts(uint16_t *restrict actx, const uint16_t *restrict e, uint32_t qw)
{
    for (uint32_t x = 0; x < qw; x++)
        actx[x] = (uint16_t)((((uint32_t)e[(ptrdiff_t)x - 1] | (uint32_t)e[x] << 2) & 0x80) |
                             (((uint32_t)e[x] << 2 | (uint32_t)e[x + 1] << 4) & 0x200));
}

/* The initial quad row (contexts from the left neighbour only, the MEL
 * decides the U-VLC mode 4); leaves r ready for the first pair of row 1. */
CPU_INLINE void vlc_row0(VlcRun *r, HtcHtMel *mel, CpuBlock *b, const HtcHtCpuTables *ct)
{
    const uint32_t qw = b->qw;
    r->mel = mel->cnt << 1 | mel->one;
    r->vp = b->vb;
    memcpy(&r->vacc, r->vp, 8);
    r->vp += 7;
    r->nb = 56;
    r->qw = qw;
    r->qs = b->qs;
    uint16_t *qr = b->quads + 1;
    uint8_t *ur = b->us + 1;
    qr[-1] = qr[qw] = qr[qw + 1] = 0;
    uint32_t left = 0;
    for (uint32_t qx = 0; qx < qw; qx += 2) {
        uint64_t vr;
        uint32_t ev = mel_take(r, mel, left == 0);
        const uint32_t q0 = ct->vlc0[left | ((uint32_t)r->vacc & 0x7F)] & (0u - ev);
        r->vacc >>= q0 & 63;
        left = q0 & 0x380;
        uint32_t q1 = 0;
        if (qx + 1 < qw) {
            ev = mel_take(r, mel, left == 0);
            q1 = ct->vlc0[left | ((uint32_t)r->vacc & 0x7F)] & (0u - ev);
            r->vacc >>= q1 & 63;
            left = q1 & 0x380;
        }
        REFILL(r, (q0 & 7) + (q1 & 7), vr);
        uint32_t mode = (q0 >> 19 & 1) | (q1 >> 18 & 2);
        if (mode == 3 && mel_take(r, mel, 1))
            mode = 4;
        const uint32_t e = ct->uvlc0[mode << 6 | (r->vacc & 63)];
        uint32_t u0, u1;
        UVLC(r, e, vr, u0, u1);
        qr[qx] = (uint16_t)(q0 >> 16);
        qr[qx + 1] = (uint16_t)(q1 >> 16);
        ur[qx] = (uint8_t)u0;
        ur[qx + 1] = (uint8_t)u1;
    }
    qr[qw] = 0; /* an odd row wrote its missing quad there */
    above_contexts(b->actx, qr, qw);
    /* row 1 */
    r->pos = 1 + r->qs;
    r->end = r->pos + qw;
    b->quads[r->pos - 1] = 0;
    r->left = 0;
}

/* One pair of quads of a non-initial row, then on to the next row where
 * this one ends (the entries around a row are zeros). The contexts from
 * the row above were worked out when it ended. */
CPU_INLINE void vlc_pair(VlcRun *r, HtcHtMel *mel, CpuBlock *b, const HtcHtCpuTables *ct)
{
    uint16_t *qr = b->quads + r->pos;
    const uint32_t x = r->pos + r->qw - r->end; /* in the row */
    uint64_t vr;
    const uint32_t a0 = b->actx[x], a1 = b->actx[x + 1];
    uint32_t ci = a0 | r->left;
    uint32_t ev = mel_take(r, mel, ci == 0);
    const uint32_t q0 = ct->vlc1[ci | ((uint32_t)r->vacc & 0x7F)] & (0u - ev);
    r->vacc >>= q0 & 63;
    r->left = q0 & 0x380;
    uint32_t q1 = 0;
    if (r->pos + 1 < r->end) {
        ci = a1 | r->left;
        ev = mel_take(r, mel, ci == 0);
        q1 = ct->vlc1[ci | ((uint32_t)r->vacc & 0x7F)] & (0u - ev);
        r->vacc >>= q1 & 63;
        r->left = q1 & 0x380;
    }
    REFILL(r, (q0 & 7) + (q1 & 7), vr);
    const uint32_t mode = (q0 >> 19 & 1) | (q1 >> 18 & 2);
    const uint32_t e = ct->uvlc1[mode << 6 | (r->vacc & 63)];
    uint32_t u0, u1;
    UVLC(r, e, vr, u0, u1);
    const uint32_t qq = q0 >> 16 | (q1 & 0xFFFF0000u);
    const uint16_t uu = (uint16_t)(u0 | u1 << 8);
    memcpy(qr, &qq, 4); /* little-endian host */
    memcpy(b->us + r->pos, &uu, 2);
    r->pos += 2;
    if (r->pos >= r->end) {
        /* the row's right zeros (an odd row wrote its missing quad at end),
         * the next row's left zero */
        const uint32_t end = r->end;
        b->quads[end] = b->quads[end + 1] = b->quads[end + 2] = 0;
        above_contexts(b->actx, b->quads + end - r->qw, r->qw);
        r->pos = end + 3;
        r->end = r->pos + r->qw;
        r->left = 0;
    }
}

#undef REFILL
#undef UVLC

/* The pairs of the non-initial rows. */
static inline uint32_t vlc_pairs(const CpuBlock *b) { return (b->qh - 1) * ((b->qw + 1) / 2); }

/* MagSgn, row by row, as htc_ht_cleanup_with does it. */
static int block_magsgn(const HtcHtDSP *dsp, const CpuBlock *b, uint32_t p, uint32_t umax,
                        int32_t *out, ptrdiff_t stride, void *scratch)
{
    const uint32_t qw = b->qw, qh = b->qh, qs = b->qs, w = b->w, h = b->h;
    uint8_t *ms = (uint8_t *)scratch;
    const size_t ms_size = HTC_HT_CLEANUP_SCRATCH(w, h) - HTC_HT_VLC_CLEAN_SIZE;
    size_t ms_pos = 0;
    size_t ms_filled = HTC_HT_MIN_SZ((size_t)(b->lcup - b->scup) + 64, ms_size);
    const size_t ms_row_reach = ((size_t)qw * 4 * umax + 7) / 8 + 48;
    htc_ht_unstuff(b->seg, b->lcup - b->scup, ms, ms_filled);
    /* v | 1 of the bottom samples of the quad row above / this one, index x + 1 */
    uint32_t e_buf[2][1024 + 8];
    uint8_t urow[512 + 16];
    e_buf[0][0] = e_buf[1][0] = 0;
    /* the initial row's "row above": no exponents, so kappa is 1 */
    memset(e_buf[1], 0, (2 * (size_t)qw + 3) * sizeof(uint32_t));
    for (uint32_t qy = 0; qy < qh; qy++) {
        const uint16_t *qr = b->quads + (size_t)qy * qs + 1;
        const uint32_t *e_up = e_buf[(qy + 1) & 1] + 1;
        uint32_t *e_cur = e_buf[qy & 1] + 1;
        const uint32_t ubad = dsp->u_row(qr, b->us + (size_t)qy * qs + 1, e_up, qw, umax, urow);
        if (ubad)
            return HTC_ECORRUPT;
        if ((ms_pos >> 3) + ms_row_reach > ms_filled && ms_filled < ms_size) {
            const size_t f = HTC_HT_MIN_SZ((ms_pos >> 3) + ms_row_reach, ms_size);
            memset(ms + ms_filled, 0xFF, f - ms_filled);
            ms_filled = f;
        }
        dsp->magsgn_row(ms, &ms_pos, qr, urow, qw, p, out + (ptrdiff_t)(2 * qy) * stride, stride, w,
                        HTC_MIN(h - 2 * qy, 2), e_cur);
        e_cur[2 * qw] = e_cur[2 * qw + 1] = 0;
    }
    return 0;
}

static int fits(uint32_t w, uint32_t h)
{
    return (size_t)((w + 1) / 2 + 3) * ((h + 1) / 2) <= CPU_QUADS_MAX;
}

static int ht_cleanup_cpu(const HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                          uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                          void *scratch)
{
    if (!fits(w, h))
        return htc_ht_cleanup_with(dsp, seg, lcup, w, h, p, umax, out, stride, scratch);
    const HtcHtCpuTables *ct = htc_ht_cpu_tables();
    CpuBlock blk, *b = &blk;
    const int rc = block_setup(b, seg, lcup, w, h);
    if (rc < 0)
        return rc;
    /* The block's output lines are fetched (for writing) while the VLC
     * phase runs: in a large tile they are not in any cache, and MagSgn's
     * stores would wait for them one by one (the store buffer fills). */
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x += 16)
            __builtin_prefetch(out + (ptrdiff_t)y * stride + x, 1, 3);
    HtcHtMel mel;
    htc_ht_mel_init(&mel, seg + lcup - b->scup, b->scup - 1);
    VlcRun r;
    vlc_row0(&r, &mel, b, ct);
    for (uint32_t i = vlc_pairs(b); i; i--)
        vlc_pair(&r, &mel, b, ct);
    return block_magsgn(dsp, b, p, umax, out, stride, scratch);
}

#endif /* HTC_HT_CLEANUP_IMPL_H */
