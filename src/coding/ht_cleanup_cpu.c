/* htcodec: the HT cleanup pass for the CPU, in two phases. The VLC, MEL
 * and U-VLC streams of the whole block are decoded first into one CxtVLC
 * entry and one U-VLC value u per quad: the serial part of the pass (each
 * quad pair's table look-ups wait on the last pair's lengths), now a loop
 * with nothing else in it. Then each quad row gets its exponent bounds
 * U = u + kappa (kappa from the row above's exponents, by a SIMD row kernel
 * of the DSP table: no longer scalar code inside the serial loop) and its
 * MagSgn row kernel. Same results, status and reads as htc_ht_cleanup_with
 * (the HTC_HD version the GPU and the plain C table run), which
 * test_ht_kernels checks on corpus blocks and damaged copies of them. The
 * loop itself is in coding/ht_cleanup_impl.h, compiled here and in
 * x86/ht_cleanup_avx2.c (BMI2).
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
 * - the MEL symbol in use lives in a register, the contexts from the row
 *   above are worked out once per row (a vectorised loop).
 * Measured (mammogram, 3138 blocks, AVX-512 tables, best of 25): the whole
 * pass 43.0-44.0 -> 37.2-37.7 ms, of which the VLC phase ~23 ms. That phase
 * runs at ~35 cycles a quad pair on this VM's Xeon; two blocks' VLC phases
 * interleaved in one loop (two independent chains) were no faster, nor were
 * 7 % fewer instructions (BMI2) measurably so: it is bound neither by the
 * chain's latency alone nor by instruction count alone (notes in
 * bench/RESULTS.md). */
#include <pthread.h>

#include "coding/ht_cleanup_impl.h"

static HtcHtCpuTables cpu_tables;
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

const HtcHtCpuTables *htc_ht_cpu_tables(void)
{
    pthread_once(&cpu_tables_once, build_cpu_tables);
    return &cpu_tables;
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

int htc_ht_cleanup_cpu(const HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                       uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                       void *scratch)
{
    return ht_cleanup_cpu(dsp, seg, lcup, w, h, p, umax, out, stride, scratch);
}
