/* htcodec: the parts of the HT block decoder (src/coding/ht_*.c). */
#ifndef HTC_HT_DECODE_H
#define HTC_HT_DECODE_H

#include "hd.h"
#include <stddef.h>
#include <stdint.h>

/* HT cleanup pass of a segment of lcup bytes: writes every sample of the
 * w x h block as a signed value whose LSB is bit-plane p (umax: the largest
 * exponent bound U_q allowed, Mb - p + 1). scratch: at least
 * HTC_HT_CLEANUP_SCRATCH(w, h) bytes. Returns 0 or HTC_ECORRUPT. */
#define HTC_HT_VLC_CLEAN_SIZE (4096 + 32)
#define HTC_HT_CLEANUP_SCRATCH(w, h) \
    ((size_t)(((w) + 1) / 2) * (((h) + 1) / 2) * 16 + 48 + HTC_HT_VLC_CLEAN_SIZE)
#define HTC_HT_CLEANUP_SCRATCH_MAX (1230 * 16 + 48 + HTC_HT_VLC_CLEAN_SIZE)
int htc_ht_cleanup(const uint8_t *seg, uint32_t lcup, uint32_t w, uint32_t h, uint32_t p,
                   uint32_t umax, int32_t *out, ptrdiff_t stride, void *scratch);
/* The same with the kernels of dsp (tests compare them). */
struct HtcHtDSP;
HTC_HD int htc_ht_cleanup_with(const struct HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup,
                        uint32_t w, uint32_t h, uint32_t p, uint32_t umax, int32_t *out,
                        ptrdiff_t stride, void *scratch);

/* The same on the CPU only (coding/ht_cleanup_cpu.c): the VLC of the whole
 * block first, then MagSgn row by row; identical results. */
int htc_ht_cleanup_cpu(const struct HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup, uint32_t w,
                       uint32_t h, uint32_t p, uint32_t umax, int32_t *out, ptrdiff_t stride,
                       void *scratch);
#if defined(__x86_64__)
/* The same compiled with BMI2 (x86/ht_cleanup_avx2.c). */
int htc_ht_cleanup_cpu_avx2(const struct HtcHtDSP *dsp, const uint8_t *seg, uint32_t lcup,
                            uint32_t w, uint32_t h, uint32_t p, uint32_t umax, int32_t *out,
                            ptrdiff_t stride, void *scratch);
#endif

/* HT SigProp (and MagRef when passes == 2) passes on the refinement segment
 * [seg, seg + len), adding bit-plane p - 1 (p >= 1) to the cleanup's
 * output. scratch: at least HTC_HT_REFINE_SCRATCH bytes. */
#define HTC_HT_REFINE_SCRATCH (4 * 1024 * 3 + 64)
HTC_HD int htc_ht_refine(const uint8_t *seg, uint32_t len, uint32_t passes, uint32_t w, uint32_t h,
                  uint32_t p, int vcausal, int32_t *out, ptrdiff_t stride, void *scratch);

/* htc_ht_decode_block (coding/block.h) with the kernels of dsp. */
struct HtcBlockParams;
HTC_HD int htc_ht_decode_block_with(const struct HtcHtDSP *dsp, const struct HtcBlockParams *p,
                             int32_t *out, ptrdiff_t stride, uint32_t *undecoded_planes,
                             void *scratch, size_t scratch_size);

#endif /* HTC_HT_DECODE_H */
