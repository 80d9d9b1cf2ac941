/* htcodec: the interface of the code-block decoders (tier 1).
 *
 * Tier 2 gathers each code-block's codeword segments into one contiguous
 * buffer (followed by HTC_BLOCK_PAD zero bytes that belong to no segment)
 * and calls the decoder for the block's coder: HT (Part 15, src/coding/ht_*.c)
 * or MQ/EBCOT (Part 1, src/coding/mq_*.c, t1_*.c).
 *
 * Output convention, shared by both decoders: out[y * stride + x] receives
 * the signed quantisation index q_b(u,v) of E.1 as a two's complement int32,
 * aligned so that bit 0 is bit-plane 0 of the Mb-bit magnitude. Bit-planes
 * that were not decoded (truncated passes or layers) are zero;
 * *undecoded_planes says how many LSB planes are missing, so that
 * dequantisation can reconstruct at the middle of the interval (E.1.1.2). */
#ifndef HTC_BLOCK_H
#define HTC_BLOCK_H

#include <stddef.h>
#include <stdint.h>

#define HTC_BLOCK_PAD 16
#define HTC_MAX_SEGMENTS 256

typedef struct HtcBlockParams {
    const uint8_t *data;       /* all codeword segments, in order, contiguous */
    uint32_t num_segments;
    uint32_t seg_len[HTC_MAX_SEGMENTS];    /* bytes of each segment */
    uint32_t seg_passes[HTC_MAX_SEGMENTS]; /* coding passes in each segment */
    uint32_t num_passes;       /* total coding passes included (sum of seg_passes) */
    uint32_t zero_planes;      /* P: missing MSBs from the packet header */
    uint32_t mb;               /* Mb of the band: guard bits + exponent - 1 (1..31) */
    uint32_t width, height;    /* of the code-block: 1..1024, area <= 4096 */
    uint32_t cblk_style;       /* HtcCblkStyle bits in force */
    uint32_t band;             /* 0 LL, 1 HL, 2 LH, 3 HH (Part 1 context tables) */
    uint32_t roi_shift;        /* unused by the decoders; RGN is undone after */
} HtcBlockParams;

/* A flag a block decoder may set in *undecoded_planes when its coefficients
 * do not all miss the same planes in a way one count can express (Part 1:
 * decoding ends with a SigProp pass on bit-plane 0, so the coefficients
 * significant before it miss plane 0 and the others do not; E.1.1.2 counts
 * planes per coefficient). out then holds, signed, twice each coefficient's
 * reconstruction magnitude in units of the step: 2|q| + 1 where plane 0
 * was decoded, 2|q| + 2 where it was not, 0 for zero coefficients; the
 * caller reconstructs v * delta / 2 (irreversible) or v / 2 rounded toward
 * zero (reversible), adding nothing, as OpenJPEG does. */
#define HTC_UNDECODED_HALVES 0x80000000u

/* HT block decoder: HT cleanup, SigProp and MagRef passes, placeholder
 * passes for several HT sets (the segments are: cleanup, then the
 * SigProp/MagRef segment when present). Writes width x height values.
 * Returns 0, HTC_ECORRUPT for inconsistent data (out is then all zero or
 * holds what was decoded before the fault), HTC_EUNSUPPORTED for Mb > 31. */
int htc_ht_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                        uint32_t *undecoded_planes, void *scratch, size_t scratch_size);

/* Part 1 (EBCOT, MQ) block decoder: every code-block style flag. Returns 0;
 * HTC_ECORRUPT when a segmentation symbol (SEGSYM) is not 1010 or the
 * segment lengths do not fit the passes the style terminates (out then
 * holds every pass decoded, usable as is, as the reference decoders use
 * it); HTC_EINVAL for bad arguments; HTC_EUNSUPPORTED for Mb > 31. */
int htc_t1_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                        uint32_t *undecoded_planes, void *scratch, size_t scratch_size);
/* The same, built as plain C and (x86-64) with the AVX2-level scalar ISA
 * (BMI1, BMI2, LZCNT): identical output; htc_t1_decode_block picks the
 * second where htc_cpu_flags() has HTC_CPU_AVX2. For tests. */
int htc_t1_decode_block_c(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                          uint32_t *undecoded_planes, void *scratch, size_t scratch_size);
#if defined(__x86_64__)
int htc_t1_decode_block_avx2(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                             uint32_t *undecoded_planes, void *scratch, size_t scratch_size);
#endif

/* Scratch bytes either decoder needs for any legal block (caller allocates
 * one per thread). */
#define HTC_BLOCK_SCRATCH_SIZE (1u << 18)

#endif /* HTC_BLOCK_H */
