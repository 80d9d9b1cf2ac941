/* htcodec: the HT block decoder's kernel table: plain C first, upgraded by
 * ISA from the CPU flags (HTC_CPUMASK turns ISAs off for tests). */
#ifndef HTC_HT_DSP_H
#define HTC_HT_DSP_H

#include "hd.h"
#include <stddef.h>
#include <stdint.h>

/* MagSgn of one row of nq quads: quad i has CxtVLC entry q[i] (rho, e_1,
 * e_k) and exponent bound U[i] (checked by the caller). Reads bits of the
 * unstuffed MagSgn buffer ms from *pos on (ms must be readable 40 bytes
 * past the byte of the last position consumed); writes the w x yin samples
 * (yin 1 or 2 rows, w <= 2 nq columns) at o, and v | 1 of each significant
 * sample of the quads' bottom row (0 elsewhere) to vb[0 .. 2 nq - 1]. */
typedef void (*HtcHtMagSgnRowFn)(const uint8_t *ms, size_t *pos, const uint16_t *q,
                                 const uint8_t *U, uint32_t nq, uint32_t p, int32_t *o,
                                 ptrdiff_t stride, uint32_t w, uint32_t yin, uint32_t *vb);

/* Exponent bounds of one row of nq quads (not the initial row): U[i] =
 * u[i] + kappa_i, kappa_i = 1 where quad i has at most one significant
 * sample (rho of entry q[i]), else max(1, E - 1), E the bit length of
 * e_up[2i - 1] | e_up[2i] | e_up[2i + 1] | e_up[2i + 2] | 1 (e_up: v | 1 of
 * the bottom samples of the row above, readable from index -1 to 2 nq + 1).
 * Returns non-zero when some U[i] exceeds umax. With e_up all zero, U[i] =
 * u[i] + 1, the initial row's bound. */
typedef uint32_t (*HtcHtURowFn)(const uint16_t *q, const uint8_t *u, const uint32_t *e_up,
                                uint32_t nq, uint32_t umax, uint8_t *U);

struct HtcHtDSP;
/* The whole cleanup pass (htc_ht_cleanup_with's contract); NULL: that
 * function itself. */
typedef int (*HtcHtCleanupFn)(const struct HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup,
                              uint32_t w, uint32_t h, uint32_t p, uint32_t umax, int32_t *out,
                              ptrdiff_t stride, void *scratch);

typedef struct HtcHtDSP {
    HtcHtMagSgnRowFn magsgn_row;
    HtcHtURowFn u_row;
    HtcHtCleanupFn cleanup;
} HtcHtDSP;

HTC_HD void htc_ht_magsgn_row_c(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                         uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                         uint32_t yin, uint32_t *vb);
uint32_t htc_ht_u_row_c(const uint16_t *q, const uint8_t *u, const uint32_t *e_up, uint32_t nq,
                        uint32_t umax, uint8_t *U);
#if defined(__x86_64__)
uint32_t htc_ht_u_row_avx2(const uint16_t *q, const uint8_t *u, const uint32_t *e_up, uint32_t nq,
                           uint32_t umax, uint8_t *U);
uint32_t htc_ht_u_row_avx512(const uint16_t *q, const uint8_t *u, const uint32_t *e_up,
                             uint32_t nq, uint32_t umax, uint8_t *U);
void htc_ht_magsgn_row_avx2(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                            uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                            uint32_t yin, uint32_t *vb);
void htc_ht_magsgn_row_avx512(const uint8_t *ms, size_t *pos, const uint16_t *q, const uint8_t *U,
                              uint32_t nq, uint32_t p, int32_t *o, ptrdiff_t stride, uint32_t w,
                              uint32_t yin, uint32_t *vb);
#endif

/* Fills dsp for these HTC_CPU_* flags (and what this machine has). */
void htc_ht_dsp_init(HtcHtDSP *dsp, uint32_t cpu_flags);
/* The table for htc_cpu_flags() & cpu_mask (a decoder's settings), made
 * once; htc_ht_dsp() is htc_ht_dsp_for(HTC_CPU_ALL). Pass it to
 * htc_ht_decode_block_with (coding/ht_decode.h). */
const HtcHtDSP *htc_ht_dsp_for(uint32_t cpu_mask);
const HtcHtDSP *htc_ht_dsp(void);

#endif /* HTC_HT_DSP_H */
