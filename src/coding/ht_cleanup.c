/* htcodec: the HT cleanup pass (ISO/IEC 15444-15 clause 7.3): quads of
 * 2x2 samples in pairs, significance and exponent bounds from the VLC and
 * MEL streams, magnitudes and signs from the MagSgn stream. */
#include "hd.h"
#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "internal.h"

/* The bit length of v | 1. */
static HTC_HD inline uint32_t bit_len(uint32_t v) { return 32 - htc_clz32(v | 1); }

/* The VLC bits of a pair of quads: a 64-bit window of the clean VLC
 * buffer, consumed from bit 0. */
typedef struct VlcWin {
    uint64_t bits;
    uint32_t used;
} VlcWin;

static HTC_HD inline uint32_t win_take(VlcWin *v, uint32_t k)
{
    const uint32_t r = (uint32_t)v->bits & ((1u << k) - 1);
    v->bits >>= k;
    v->used += k;
    return r;
}

/* CxtVLC of one quad in context c (a MEL event decides for c == 0). */
static HTC_HD inline uint32_t quad_vlc(const uint16_t *lut, uint32_t c, VlcWin *v, HtcHtMel *mel)
{
    const uint32_t ev = htc_ht_mel_take(mel, c == 0);
    const uint32_t q = lut[c << 7 | ((uint32_t)v->bits & 0x7F)] & (0u - ev);
    win_take(v, HTC_HT_VLC_LEN(q));
    return q;
}

/* U-VLC of the pair from table entry e. */
static HTC_HD inline void pair_uvlc(uint32_t e, VlcWin *v, uint32_t *u0, uint32_t *u1)
{
    win_take(v, e & 7);
    const uint32_t s0 = (e >> 3) & 7, s1 = (e >> 6) & 7;
    const uint32_t sfx = win_take(v, s0 + s1);
    *u0 = ((e >> 9) & 7) + (sfx & ((1u << s0) - 1));
    *u1 = ((e >> 12) & 7) + (sfx >> s0);
}

static HTC_HD inline uint32_t kappa_of(uint32_t rho, const uint32_t *eu)
{
    if (!(rho & (rho - 1)))
        return 1;
    const uint32_t emax = bit_len(eu[-1] | eu[0] | eu[1] | eu[2]);
    return emax > 2 ? emax - 1 : 1;
}

HTC_HD int htc_ht_cleanup_with(const HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                        uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                        void *scratch)
{
    if (lcup < 2)
        return HTC_ECORRUPT;
    const uint32_t scup = (uint32_t)seg[lcup - 1] << 4 | (seg[lcup - 2] & 0xF);
    if (scup < 2 || scup > lcup || scup > 4079)
        return HTC_ECORRUPT;

    const HtcHtTables *t = htc_ht_tables();
    HtcHtMel mel;
    htc_ht_mel_init(&mel, seg + lcup - scup, scup - 1);
    const uint32_t qw = (w + 1) / 2, qh = (h + 1) / 2;
    /* MagSgn and VLC without stuffed bits: MagSgn at most 32 bits per
     * sample of the quads, VLC at most scup bytes (and 30 bits per pair) */
    uint8_t *ms = (uint8_t *)scratch;
    const size_t ms_size = HTC_HT_CLEANUP_SCRATCH(w, h) - HTC_HT_VLC_CLEAN_SIZE;
    uint8_t *vb = ms + ms_size;
    size_t ms_pos = 0;
    /* The stream's end-of-data bits (all 1) are written only as far as a
     * kernel can read: 64 bytes past the data first, then before each row
     * as far as that row can reach (a sample reads m <= U <= umax bits, U
     * is checked before its row's MagSgn; a kernel reads up to 32 bytes
     * past its position). A valid stream ends near its data, so this
     * writes far less than the whole buffer (16 KiB for a 64x64 block). */
    size_t ms_filled = HTC_HT_MIN_SZ((size_t)(lcup - scup) + 64, ms_size);
    const size_t ms_row_reach = ((size_t)qw * 4 * umax + 7) / 8 + 48;
    htc_ht_unstuff(seg, lcup - scup, ms, ms_filled);
    /* a pair of quads reads a 64-bit window and consumes at most 30 bits */
    htc_ht_unstuff_vlc(seg, lcup, scup, vb, HTC_HT_VLC_CLEAN_SIZE,
                       ((size_t)(qw + 1) / 2 * qh * 30 + 7) / 8 + 16);

    /* rho of the quad row above and this one, with a zero quad on each side */
    uint8_t rho_buf[2][512 + 4];
    /* v | 1 of the bottom samples of the quad row above / this one (0 where
     * not significant), index x + 1 */
    uint32_t e_buf[2][1024 + 8];
    /* this row's CxtVLC entries and exponent bounds, for the MagSgn kernel */
    uint16_t qrow[512 + 2];
    uint8_t urow[512 + 2];
    /* only the edges need zeros: every row writes its own entries */
    rho_buf[0][0] = rho_buf[1][0] = 0;
    e_buf[0][0] = e_buf[1][0] = 0;

    /* The VLC bits in a register, refilled without a branch before each
     * pair to at least 56 valid bits (nb; a pair takes at most 30): 8
     * bytes from vp OR-ed in above the valid ones (bits past nb are the
     * stream's next bits or zero, so OR-ing them again changes nothing),
     * vp moved by the whole bytes taken. Reads stay below byte
     * consumed / 8 + 16, inside what htc_ht_unstuff_vlc wrote. */
    const uint8_t *vp = vb;
    uint64_t vacc = 0;
    uint32_t nb = 0;

    for (uint32_t qy = 0; qy < qh; qy++) {
        uint8_t *rho_up = rho_buf[(qy + 1) & 1] + 1, *rho = rho_buf[qy & 1] + 1;
        uint32_t *e_up = e_buf[(qy + 1) & 1] + 1, *e_cur = e_buf[qy & 1] + 1;
        rho[qw] = rho[qw + 1] = 0;
        uint32_t w_rho = 0; /* rho of the quad on the left */
        uint32_t ubad = 0;  /* any U above umax */

        for (uint32_t qx = 0; qx < qw; qx += 2) {
            const int has_b = qx + 1 < qw;
            {
                uint64_t w64;
                memcpy(&w64, vp, 8); /* little-endian host */
                vacc |= w64 << nb;
                vp += (63 - nb) >> 3;
                nb |= 56;
            }
            VlcWin v;
            v.bits = vacc;
            v.used = 0;
            uint32_t q0, q1 = 0, u0, u1;
            if (qy == 0) {
                uint32_t c = ((w_rho | w_rho >> 1) & 1) | (w_rho >> 1 & 6);
                q0 = quad_vlc(t->vlc0, c, &v, &mel);
                w_rho = HTC_HT_VLC_RHO(q0);
                if (has_b) {
                    c = ((w_rho | w_rho >> 1) & 1) | (w_rho >> 1 & 6);
                    q1 = quad_vlc(t->vlc0, c, &v, &mel);
                    w_rho = HTC_HT_VLC_RHO(q1);
                }
                uint32_t mode = HTC_HT_VLC_UOFF(q0) | HTC_HT_VLC_UOFF(q1) << 1;
                if (mode == 3 && htc_ht_mel_event(&mel))
                    mode = 4;
                pair_uvlc(t->uvlc0[mode][v.bits & 63], &v, &u0, &u1);
                u0 += 1; /* kappa is 1 in the initial row */
                u1 += 1;
            } else {
                uint32_t nw = rho_up[(ptrdiff_t)qx - 1], n = rho_up[qx], ne = rho_up[qx + 1];
                uint32_t c = ((nw >> 3 | n >> 1) & 1) | ((w_rho >> 1 | w_rho >> 2) & 2) |
                             ((n >> 1 | ne << 1) & 4);
                q0 = quad_vlc(t->vlc1, c, &v, &mel);
                w_rho = HTC_HT_VLC_RHO(q0);
                if (has_b) {
                    nw = n;
                    n = ne;
                    ne = rho_up[qx + 2];
                    c = ((nw >> 3 | n >> 1) & 1) | ((w_rho >> 1 | w_rho >> 2) & 2) |
                        ((n >> 1 | ne << 1) & 4);
                    q1 = quad_vlc(t->vlc1, c, &v, &mel);
                    w_rho = HTC_HT_VLC_RHO(q1);
                }
                const uint32_t mode = HTC_HT_VLC_UOFF(q0) | HTC_HT_VLC_UOFF(q1) << 1;
                pair_uvlc(t->uvlc1[mode][v.bits & 63], &v, &u0, &u1);
                u0 += kappa_of(HTC_HT_VLC_RHO(q0), e_up + 2 * qx);
                u1 += kappa_of(HTC_HT_VLC_RHO(q1), e_up + 2 * qx + 2);
            }
            vacc = v.bits;
            nb -= v.used;
            rho[qx] = (uint8_t)HTC_HT_VLC_RHO(q0);
            rho[qx + 1] = (uint8_t)HTC_HT_VLC_RHO(q1);
            qrow[qx] = (uint16_t)q0;
            qrow[qx + 1] = (uint16_t)q1;
            ubad |= (u0 > umax) | (u1 > umax);
            urow[qx] = (uint8_t)u0;
            urow[qx + 1] = (uint8_t)u1;
        }
        if (ubad)
            return HTC_ECORRUPT;
        if ((ms_pos >> 3) + ms_row_reach > ms_filled && ms_filled < ms_size) {
            const size_t f = HTC_HT_MIN_SZ((ms_pos >> 3) + ms_row_reach, ms_size);
            memset(ms + ms_filled, 0xFF, f - ms_filled);
            ms_filled = f;
        }
#ifdef __CUDA_ARCH__ /* the GPU has no kernel table: the plain C kernel */
        (void)dsp;
        htc_ht_magsgn_row_c(ms, &ms_pos, qrow, urow, qw, p, out + (ptrdiff_t)(2 * qy) * stride,
                            stride, w, HTC_MIN(h - 2 * qy, 2), e_cur);
#else
        dsp->magsgn_row(ms, &ms_pos, qrow, urow, qw, p, out + (ptrdiff_t)(2 * qy) * stride,
                        stride, w, HTC_MIN(h - 2 * qy, 2), e_cur);
#endif
        e_cur[2 * qw] = e_cur[2 * qw + 1] = 0;
    }
    return 0;
}

int htc_ht_cleanup(const uint8_t *seg, uint32_t lcup, uint32_t w, uint32_t h, uint32_t p,
                   uint32_t umax, int32_t *out, ptrdiff_t stride, void *scratch)
{
    return htc_ht_cleanup_with(htc_ht_dsp(), seg, lcup, w, h, p, umax, out, stride, scratch);
}
