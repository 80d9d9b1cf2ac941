/* htcodec: the HT kernel table and the plain C MagSgn row kernel. */
#include "hd.h"
#include <pthread.h>

#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "cpu.h"

/* The signed value of a sample with v at bit-plane p; 0 where sig is 0. */
static HTC_HD inline int32_t sample_value(uint32_t v, uint32_t p, uint32_t sig)
{
    const uint32_t mag = (((v >> 1) + 1) << p) & (0u - sig);
    const uint32_t sign = 0u - (v & 1);
    return (int32_t)((mag ^ sign) - sign);
}

/* Sample n of a quad reads m_n = U - e_k[n] bits (LSB first, the sign in
 * bit 0) from MagSgn, none when it is not significant; e_1[n] is its
 * implicit MSB. */
HTC_HD void htc_ht_magsgn_row_c(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                         uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                         uint32_t yin, uint32_t *vb)
{
    for (uint32_t i = 0; i < nq; i++) {
        const uint32_t rho = HTC_HT_VLC_RHO(q[i]), e_1 = HTC_HT_VLC_E1(q[i]);
        const uint32_t e_k = HTC_HT_VLC_EK(q[i]);
        uint32_t v[4];
        for (uint32_t n = 0; n < 4; n++) {
            const uint32_t sig = rho >> n & 1;
            const uint32_t m = (U[i] - (e_k >> n & 1)) & (0u - sig);
            v[n] = (uint32_t)(htc_ht_clean_get(ms, pos, m) | (uint64_t)(e_1 >> n & 1) << m);
        }
        vb[2 * i] = (v[1] | 1) & (0u - (rho >> 1 & 1));
        vb[2 * i + 1] = (v[3] | 1) & (0u - (rho >> 3 & 1));
        int32_t *oq = o + 2 * i;
        oq[0] = sample_value(v[0], p, rho & 1);
        if (yin > 1)
            oq[stride] = sample_value(v[1], p, rho >> 1 & 1);
        if (2 * i + 1 < w) {
            oq[1] = sample_value(v[2], p, rho >> 2 & 1);
            if (yin > 1)
                oq[stride + 1] = sample_value(v[3], p, rho >> 3 & 1);
        }
    }
}

void htc_ht_dsp_init(HtcHtDSP *dsp, uint32_t flags)
{
    dsp->magsgn_row = htc_ht_magsgn_row_c;
    dsp->u_row = htc_ht_u_row_c;
    dsp->cleanup = NULL; /* htc_ht_cleanup_with */
#if defined(__x86_64__)
    flags &= htc_cpu_flags_raw();
    if (flags & HTC_CPU_AVX2) {
        dsp->magsgn_row = htc_ht_magsgn_row_avx2;
        dsp->u_row = htc_ht_u_row_avx2;
#ifndef __CUDACC__ /* the GPU build's copy of this file keeps the HTC_HD cleanup */
        /* two phases pay only with a SIMD U row kernel (scalar kappa off
         * the chain costs more than it saves) */
        dsp->cleanup = htc_ht_cleanup_cpu_avx2;
#endif
    }
    if ((flags & HTC_CPU_AVX2) && (flags & HTC_CPU_AVX512)) {
        dsp->magsgn_row = htc_ht_magsgn_row_avx512;
        dsp->u_row = htc_ht_u_row_avx512;
    }
#else
    (void)flags;
#endif
}

/* One table per combination of the ISA bits that matter here: none, AVX2,
 * AVX2 + AVX-512. */
static HtcHtDSP tables[3];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void init_tables(void)
{
    htc_ht_dsp_init(&tables[0], 0);
    htc_ht_dsp_init(&tables[1], HTC_CPU_AVX2);
    htc_ht_dsp_init(&tables[2], HTC_CPU_AVX2 | HTC_CPU_AVX512);
}

const HtcHtDSP *htc_ht_dsp_for(uint32_t cpu_mask)
{
    pthread_once(&tables_once, init_tables);
    const uint32_t f = htc_cpu_flags() & cpu_mask;
    if (!(f & HTC_CPU_AVX2))
        return &tables[0];
    return &tables[(f & HTC_CPU_AVX512) ? 2 : 1];
}

const HtcHtDSP *htc_ht_dsp(void) { return htc_ht_dsp_for(HTC_CPU_ALL); }
