/* htcodec: the HT cleanup pass (ISO/IEC 15444-15 clause 7.3): quads of
 * 2x2 samples in pairs, significance and exponent bounds from the VLC and
 * MEL streams, magnitudes and signs from the MagSgn stream. */
#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_tables.h"
#include "internal.h"

/* The bit length of v | 1. */
static inline uint32_t bit_len(uint32_t v) { return 32 - (uint32_t)__builtin_clz(v | 1); }

/* U-VLC prefix and suffix of one quad: returns u (>= 1). */
static inline uint32_t uvlc_prefix(const HtcHtTables *t, HtcHtRev *vlc, uint32_t *sfx_len)
{
    const uint32_t e = t->uvlc_prefix[htc_ht_rev_peek(vlc) & 7];
    htc_ht_rev_skip(vlc, e & 3);
    *sfx_len = (e >> 2) & 7;
    return e >> 5;
}

static inline uint32_t rev_get(HtcHtRev *vlc, uint32_t k)
{
    const uint32_t v = htc_ht_rev_peek(vlc) & ((1u << k) - 1);
    htc_ht_rev_skip(vlc, k);
    return v;
}

/* One sample of a quad: m magnitude bits (LSB first, the sign in bit 0)
 * from MagSgn, the implicit MSB e_1; returns v (0 when not significant). */
static inline uint32_t sample_v(HtcHtFwd *ms, uint32_t sig, uint32_t m, uint32_t e1)
{
    if (!sig)
        return 0;
    if (ms->n < m)
        htc_ht_fwd_refill(ms);
    const uint64_t raw = ms->acc & (((uint64_t)1 << m) - 1);
    ms->acc >>= m;
    ms->n -= m;
    return (uint32_t)(raw | (uint64_t)e1 << m);
}

/* The signed value of a significant sample with v, at bit-plane p. */
static inline int32_t sample_value(uint32_t v, uint32_t p)
{
    const uint32_t mag = ((v >> 1) + 1) << p;
    const uint32_t sign = 0u - (v & 1);
    return (int32_t)((mag ^ sign) - sign);
}

/* Decodes the magnitudes and signs of one quad (entry q of the CxtVLC
 * table, exponent bound U) into o; vb[0..1] receive v | 1 of its bottom
 * samples (0 where not significant), for the exponents of the next row. */
static inline int quad_magsgn(HtcHtFwd *ms, uint32_t q, uint32_t U, uint32_t umax, uint32_t p,
                              int32_t *o, ptrdiff_t stride, uint32_t xin, uint32_t yin,
                              uint32_t *vb)
{
    if (U > umax)
        return HTC_ECORRUPT;
    const uint32_t rho = HTC_HT_VLC_RHO(q), e_1 = HTC_HT_VLC_E1(q), e_k = HTC_HT_VLC_EK(q);
    const uint32_t v0 = sample_v(ms, rho & 1, U - (e_k & 1), e_1 & 1);
    const uint32_t v1 = sample_v(ms, rho >> 1 & 1, U - (e_k >> 1 & 1), e_1 >> 1 & 1);
    const uint32_t v2 = sample_v(ms, rho >> 2 & 1, U - (e_k >> 2 & 1), e_1 >> 2 & 1);
    const uint32_t v3 = sample_v(ms, rho >> 3 & 1, U - (e_k >> 3 & 1), e_1 >> 3 & 1);
    vb[0] = (rho & 2) ? v1 | 1 : 0;
    vb[1] = (rho & 8) ? v3 | 1 : 0;
    o[0] = (rho & 1) ? sample_value(v0, p) : 0;
    if (yin > 1)
        o[stride] = (rho & 2) ? sample_value(v1, p) : 0;
    if (xin > 1) {
        o[1] = (rho & 4) ? sample_value(v2, p) : 0;
        if (yin > 1)
            o[stride + 1] = (rho & 8) ? sample_value(v3, p) : 0;
    }
    return 0;
}

int htc_ht_cleanup(const uint8_t *seg, uint32_t lcup, uint32_t w, uint32_t h, uint32_t p,
                   uint32_t umax, int32_t *out, ptrdiff_t stride)
{
    if (lcup < 2)
        return HTC_ECORRUPT;
    const uint32_t scup = (uint32_t)seg[lcup - 1] << 4 | (seg[lcup - 2] & 0xF);
    if (scup < 2 || scup > lcup || scup > 4079)
        return HTC_ECORRUPT;

    const HtcHtTables *t = htc_ht_tables();
    HtcHtMel mel;
    htc_ht_mel_init(&mel, seg + lcup - scup, scup - 1);
    HtcHtRev vlc;
    htc_ht_vlc_init(&vlc, seg, lcup, scup);
    HtcHtFwd ms;
    htc_ht_fwd_init(&ms, seg, lcup - scup, 0xFF);

    const uint32_t qw = (w + 1) / 2, qh = (h + 1) / 2;
    /* rho of the quad row above and this one, with a zero quad on each side */
    uint8_t rho_buf[2][512 + 4];
    /* v | 1 of the bottom samples of the quad row above / this one (0 where
     * not significant), index x + 1 */
    uint32_t e_buf[2][1024 + 8];
    memset(rho_buf, 0, sizeof(rho_buf));
    memset(e_buf, 0, sizeof(e_buf));

    for (uint32_t qy = 0; qy < qh; qy++) {
        uint8_t *rho_up = rho_buf[(qy + 1) & 1] + 1, *rho = rho_buf[qy & 1] + 1;
        uint32_t *e_up = e_buf[(qy + 1) & 1] + 1, *e_cur = e_buf[qy & 1] + 1;
        const int first = qy == 0;
        const uint16_t *lut = first ? t->vlc0 : t->vlc1;
        const uint32_t yin = HTC_MIN(h - 2 * qy, 2);
        int32_t *orow = out + (ptrdiff_t)(2 * qy) * stride;
        rho[qw] = rho[qw + 1] = 0;
        e_cur[2 * qw] = e_cur[2 * qw + 1] = 0;

        for (uint32_t qx = 0; qx < qw; qx += 2) {
            const int has_b = qx + 1 < qw;
            uint32_t q[2] = {0, 0};
            htc_ht_rev_refill(&vlc);
            for (int i = 0; i < 1 + has_b; i++) {
                const uint32_t x = qx + (uint32_t)i;
                uint32_t c;
                const uint32_t w_rho = x ? rho[x - 1] : 0;
                if (first) {
                    c = ((w_rho | w_rho >> 1) & 1) | (w_rho >> 1 & 2) | (w_rho >> 1 & 4);
                } else {
                    const uint32_t nw = x ? rho_up[x - 1] : 0, n = rho_up[x], ne = rho_up[x + 1];
                    c = ((nw >> 3 | n >> 1) & 1) | ((w_rho >> 1 | w_rho >> 2) & 2) |
                        ((n >> 1 | ne << 1) & 4);
                }
                if (c == 0 && !htc_ht_mel_event(&mel)) {
                    q[i] = 0;
                } else {
                    q[i] = lut[c << 7 | (htc_ht_rev_peek(&vlc) & 0x7F)];
                    htc_ht_rev_skip(&vlc, HTC_HT_VLC_LEN(q[i]));
                }
                rho[x] = (uint8_t)HTC_HT_VLC_RHO(q[i]);
            }

            /* U-VLC of the pair */
            uint32_t u[2] = {0, 0};
            const uint32_t uo0 = HTC_HT_VLC_UOFF(q[0]), uo1 = HTC_HT_VLC_UOFF(q[1]);
            if (uo0 && uo1) {
                uint32_t s0, s1;
                if (first && htc_ht_mel_event(&mel)) {
                    u[0] = uvlc_prefix(t, &vlc, &s0);
                    u[1] = uvlc_prefix(t, &vlc, &s1);
                    u[0] += rev_get(&vlc, s0) + 2;
                    u[1] += rev_get(&vlc, s1) + 2;
                } else {
                    u[0] = uvlc_prefix(t, &vlc, &s0);
                    if (first && u[0] > 2) {
                        u[1] = rev_get(&vlc, 1) + 1;
                        u[0] += rev_get(&vlc, s0);
                    } else {
                        u[1] = uvlc_prefix(t, &vlc, &s1);
                        u[0] += rev_get(&vlc, s0);
                        u[1] += rev_get(&vlc, s1);
                    }
                }
            } else if (uo0 | uo1) {
                uint32_t s;
                const uint32_t v = uvlc_prefix(t, &vlc, &s);
                u[uo1] = v + rev_get(&vlc, s);
            }
            /* a suffix of 28 or more announces an extension: U_q would
             * exceed any legal bound, caught below */

            for (int i = 0; i < 1 + has_b; i++) {
                const uint32_t x = qx + (uint32_t)i;
                uint32_t kappa = 1;
                if (!first) {
                    const uint32_t r = HTC_HT_VLC_RHO(q[i]);
                    if (r & (r - 1)) {
                        const uint32_t *eu = e_up + 2 * x;
                        const uint32_t emax = bit_len(eu[-1] | eu[0] | eu[1] | eu[2]);
                        kappa = emax > 2 ? emax - 1 : 1;
                    }
                }
                const uint32_t xin = HTC_MIN(w - 2 * x, 2);
                const int rc = quad_magsgn(&ms, q[i], u[i] + kappa, umax, p, orow + 2 * x,
                                           stride, xin, yin, e_cur + 2 * x);
                if (rc < 0)
                    return rc;
            }
        }
    }
    return 0;
}
