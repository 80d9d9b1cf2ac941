/* htcodec: the HT cleanup pass for the CPU, in two phases. The VLC, MEL
 * and U-VLC streams of the whole block are decoded first into one CxtVLC
 * entry and one U-VLC value u per quad: that loop is the serial part of the
 * pass (each quad pair's table look-ups wait on the last pair's lengths),
 * and with nothing else in it the core runs it at the speed of that chain.
 * Then each quad row gets its exponent bounds U = u + kappa (from the row
 * above's exponents: no longer on the serial chain) and its MagSgn row
 * kernel. Same results, status and reads as htc_ht_cleanup_with (the
 * HTC_HD version the GPU runs), which test_ht_kernels checks.
 *
 * Differences in how the chain is walked, all bit-exact:
 * - the CxtVLC tables have 32-bit entries: the code-word length alone in
 *   the low 6 bits (the entry itself is the shift count), the context the
 *   quad gives its right neighbour already at index position, the
 *   standard entry in the upper half;
 * - the U-VLC tables likewise hold the pair's whole U-VLC length in the low
 *   6 bits: one shift takes prefixes and suffixes off the VLC register;
 * - the 64-bit VLC register is refilled in the middle of a pair (after the
 *   two CxtVLC code-words, beside the U-VLC look-up) instead of in front of
 *   the next pair's first look-up;
 * - kappa comes from a row kernel of the DSP table (HtcHtURowFn: SIMD on
 *   x86) between the two phases, not from scalar code in the chain.
 * Measured on the mammogram's 3138 blocks (test_ht_kernels HTC_BENCH):
 * the VLC phase alone is 53 % of the HTC_HD pass's time. */
#include <pthread.h>
#include <string.h>

#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "internal.h"

typedef struct CpuTables {
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
} CpuTables;

static CpuTables cpu_tables;
static pthread_once_t cpu_tables_once = PTHREAD_ONCE_INIT;

static void build_cpu_tables(void)
{
    const HtcHtTables *t = htc_ht_tables();
    for (uint32_t i = 0; i < (8u << 7); i++) {
        uint32_t rho = HTC_HT_VLC_RHO(t->vlc0[i]);
        const uint32_t c0 = ((rho | rho >> 1) & 1) | (rho >> 1 & 6);
        cpu_tables.vlc0[i] = HTC_HT_VLC_LEN(t->vlc0[i]) | c0 << 7 | (uint32_t)t->vlc0[i] << 16;
        rho = HTC_HT_VLC_RHO(t->vlc1[i]);
        const uint32_t c1 = (rho >> 1 | rho >> 2) & 2;
        cpu_tables.vlc1[i] = HTC_HT_VLC_LEN(t->vlc1[i]) | c1 << 7 | (uint32_t)t->vlc1[i] << 16;
    }
    for (uint32_t m = 0; m < 5; m++)
        for (uint32_t b = 0; b < 64; b++) {
            for (uint32_t k = 0; k < 2; k++) {
                if (k == 1 && m == 4)
                    continue;
                const uint32_t e = k ? t->uvlc1[m][b] : t->uvlc0[m][b];
                const uint32_t pl = e & 7, s0 = (e >> 3) & 7, s1 = (e >> 6) & 7;
                const uint32_t x = (pl + s0 + s1) | pl << 8 | s0 << 11 | s1 << 14 |
                                   ((e >> 9) & 7) << 17 | ((e >> 12) & 7) << 20;
                if (k)
                    cpu_tables.uvlc1[m << 6 | b] = x;
                else
                    cpu_tables.uvlc0[m << 6 | b] = x;
            }
        }
}

/* The plain C U row kernel (HtcHtURowFn); here, not in ht_dsp.c, since
 * only this CPU-only pass uses it. */
uint32_t htc_ht_u_row_c(const uint16_t *q, const uint8_t *u, const uint32_t *e_up, uint32_t nq,
                        uint32_t umax, uint8_t *U)
{
    uint32_t bad = 0;
    for (uint32_t i = 0; i < nq; i++) {
        const uint32_t rho = HTC_HT_VLC_RHO(q[i]);
        const uint32_t *e = e_up + 2 * i;
        const uint32_t len = 32 - htc_clz32(e[-1] | e[0] | e[1] | e[2] | 1);
        const uint32_t kappa = (rho & (rho - 1)) && len > 2 ? len - 1 : 1;
        const uint32_t v = u[i] + kappa;
        bad |= v > umax;
        U[i] = (uint8_t)v;
    }
    return bad;
}

/* Quads of all rows: row r at r * (qw + 3) + 1, with a zero entry on its
 * left and two on its right (the neighbours of the row below's contexts). */
#define CPU_QUADS_MAX 2560

int htc_ht_cleanup_cpu(const HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                       uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                       void *scratch)
{
    const uint32_t qw = (w + 1) / 2, qh = (h + 1) / 2;
    const uint32_t qs = qw + 3;
    if ((size_t)qs * qh > CPU_QUADS_MAX)
        return htc_ht_cleanup_with(dsp, seg, lcup, w, h, p, umax, out, stride, scratch);
    if (lcup < 2)
        return HTC_ECORRUPT;
    const uint32_t scup = (uint32_t)seg[lcup - 1] << 4 | (seg[lcup - 2] & 0xF);
    if (scup < 2 || scup > lcup || scup > 4079)
        return HTC_ECORRUPT;

    pthread_once(&cpu_tables_once, build_cpu_tables);
    const CpuTables *ct = &cpu_tables;
    HtcHtMel mel;
    htc_ht_mel_init(&mel, seg + lcup - scup, scup - 1);
    uint8_t *ms = (uint8_t *)scratch;
    const size_t ms_size = HTC_HT_CLEANUP_SCRATCH(w, h) - HTC_HT_VLC_CLEAN_SIZE;
    uint8_t *vb = ms + ms_size;
    /* a pair of quads reads a 64-bit window and consumes at most 30 bits */
    htc_ht_unstuff_vlc(seg, lcup, scup, vb, HTC_HT_VLC_CLEAN_SIZE,
                       ((size_t)(qw + 1) / 2 * qh * 30 + 7) / 8 + 16);

    uint16_t quads[CPU_QUADS_MAX];
    uint8_t us[CPU_QUADS_MAX];

    /* The VLC bits in a register: before each pair's U-VLC, 8 bytes from vp
     * are OR-ed in above the nb valid ones (bits past nb are the stream's
     * next bits or zero, so OR-ing them again changes nothing) and vp moves
     * by the whole bytes taken: at least 56 valid bits then, at least 40
     * when the next pair starts (a U-VLC takes at most 16), 26 after its
     * two code-words (at most 7 bits each). Reads stay below byte
     * consumed / 8 + 16, inside what htc_ht_unstuff_vlc wrote. */
    const uint8_t *vp = vb;
    uint64_t vacc;
    memcpy(&vacc, vp, 8);
    vp += 7;
    uint32_t nb = 56;

#define REFILL(lens)                                                                               \
    do {                                                                                           \
        nb -= (lens);                                                                              \
        uint64_t w64_;                                                                             \
        memcpy(&w64_, vp, 8); /* little-endian host */                                             \
        vr = vacc | w64_ << nb;                                                                    \
        vp += (63 - nb) >> 3;                                                                      \
        nb |= 56;                                                                                  \
    } while (0)

    /* U-VLC of a pair from entry e: prefix bits, then both suffixes */
#define UVLC(e, u0, u1)                                                                            \
    do {                                                                                           \
        const uint32_t pl_ = ((e) >> 8) & 7, s0_ = ((e) >> 11) & 7, s1_ = ((e) >> 14) & 7;         \
        const uint32_t sfx_ = (uint32_t)(vr >> pl_) & ((1u << (s0_ + s1_)) - 1);                   \
        vacc = vr >> ((e) & 63);                                                                   \
        nb -= (e) & 63;                                                                            \
        u0 = (((e) >> 17) & 7) + (sfx_ & ((1u << s0_) - 1));                                       \
        u1 = (((e) >> 20) & 7) + (sfx_ >> s0_);                                                    \
    } while (0)

    /* initial quad row: contexts from the left neighbour only */
    {
        uint16_t *qr = quads + 1;
        uint8_t *ur = us + 1;
        qr[-1] = qr[qw] = qr[qw + 1] = 0;
        uint32_t left = 0; /* context from the quad on the left, << 7 */
        uint32_t qx = 0;
        for (; qx < qw; qx += 2) {
            const int has_b = qx + 1 < qw;
            uint64_t vr;
            uint32_t ev = htc_ht_mel_take(&mel, left == 0);
            const uint32_t q0 = ct->vlc0[left | ((uint32_t)vacc & 0x7F)] & (0u - ev);
            vacc >>= q0 & 63;
            left = q0 & 0x380;
            uint32_t q1 = 0;
            if (has_b) {
                ev = htc_ht_mel_take(&mel, left == 0);
                q1 = ct->vlc0[left | ((uint32_t)vacc & 0x7F)] & (0u - ev);
                vacc >>= q1 & 63;
                left = q1 & 0x380;
            }
            REFILL((q0 & 7) + (q1 & 7));
            uint32_t mode = (q0 >> 19 & 1) | (q1 >> 18 & 2);
            if (mode == 3 && htc_ht_mel_event(&mel))
                mode = 4;
            const uint32_t e = ct->uvlc0[mode << 6 | (vacc & 63)];
            uint32_t u0, u1;
            UVLC(e, u0, u1);
            qr[qx] = (uint16_t)(q0 >> 16);
            qr[qx + 1] = (uint16_t)(q1 >> 16);
            ur[qx] = (uint8_t)u0;
            ur[qx + 1] = (uint8_t)u1;
        }
        qr[qw] = 0; /* an odd row wrote its missing quad there */
    }

    /* the other rows: contexts from the row above too */
    for (uint32_t qy = 1; qy < qh; qy++) {
        const uint16_t *up = quads + (size_t)(qy - 1) * qs + 1;
        uint16_t *qr = quads + (size_t)qy * qs + 1;
        uint8_t *ur = us + (size_t)qy * qs + 1;
        qr[-1] = qr[qw] = qr[qw + 1] = 0;
        uint32_t left = 0;
        /* rho of the quads above: nw, n, ne of quad qx */
        uint32_t n = HTC_HT_VLC_RHO(up[0]), ne = HTC_HT_VLC_RHO(up[1]);
        uint32_t nw = 0;
        for (uint32_t qx = 0; qx < qw; qx += 2) {
            const int has_b = qx + 1 < qw;
            uint64_t vr;
            const uint32_t a0 = (((nw >> 3 | n >> 1) & 1) | ((n >> 1 | ne << 1) & 4)) << 7;
            const uint32_t ne2 = HTC_HT_VLC_RHO(up[qx + 2]);
            const uint32_t a1 = (((n >> 3 | ne >> 1) & 1) | ((ne >> 1 | ne2 << 1) & 4)) << 7;
            uint32_t ci = a0 | left;
            uint32_t ev = htc_ht_mel_take(&mel, ci == 0);
            const uint32_t q0 = ct->vlc1[ci | ((uint32_t)vacc & 0x7F)] & (0u - ev);
            vacc >>= q0 & 63;
            left = q0 & 0x380;
            uint32_t q1 = 0;
            if (has_b) {
                ci = a1 | left;
                ev = htc_ht_mel_take(&mel, ci == 0);
                q1 = ct->vlc1[ci | ((uint32_t)vacc & 0x7F)] & (0u - ev);
                vacc >>= q1 & 63;
                left = q1 & 0x380;
            }
            REFILL((q0 & 7) + (q1 & 7));
            const uint32_t mode = (q0 >> 19 & 1) | (q1 >> 18 & 2);
            const uint32_t e = ct->uvlc1[mode << 6 | (vacc & 63)];
            uint32_t u0, u1;
            UVLC(e, u0, u1);
            qr[qx] = (uint16_t)(q0 >> 16);
            qr[qx + 1] = (uint16_t)(q1 >> 16);
            ur[qx] = (uint8_t)u0;
            ur[qx + 1] = (uint8_t)u1;
            nw = ne;
            n = ne2;
            ne = HTC_HT_VLC_RHO(up[qx + 3]);
        }
        qr[qw] = 0;
    }
#undef REFILL
#undef UVLC

    /* MagSgn, row by row, as htc_ht_cleanup_with does it */
    size_t ms_pos = 0;
    size_t ms_filled = HTC_HT_MIN_SZ((size_t)(lcup - scup) + 64, ms_size);
    const size_t ms_row_reach = ((size_t)qw * 4 * umax + 7) / 8 + 48;
    htc_ht_unstuff(seg, lcup - scup, ms, ms_filled);
    /* v | 1 of the bottom samples of the quad row above / this one, index x + 1 */
    uint32_t e_buf[2][1024 + 8];
    uint8_t urow[512 + 16];
    e_buf[0][0] = e_buf[1][0] = 0;
    /* the initial row's "row above": no exponents, so kappa is 1 */
    memset(e_buf[1], 0, (2 * (size_t)qw + 3) * sizeof(uint32_t));
    for (uint32_t qy = 0; qy < qh; qy++) {
        const uint16_t *qr = quads + (size_t)qy * qs + 1;
        const uint32_t *e_up = e_buf[(qy + 1) & 1] + 1;
        uint32_t *e_cur = e_buf[qy & 1] + 1;
        const uint32_t ubad = dsp->u_row(qr, us + (size_t)qy * qs + 1, e_up, qw, umax, urow);
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
