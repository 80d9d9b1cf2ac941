/* htcodec: dequantisation, inverse DWT, inverse colour transforms, output
 * conversion. All work on one tile-component buffer laid out as below.
 *
 * Buffer layout for the inverse DWT (deinterleaved, as after tier 1): a
 * tile-component of resolution r spans columns [0, w_r) and rows [0, h_r)
 * of a buffer with `stride` elements per row, where w_r = x1_r - x0_r for the
 * resolution's rectangle (B.5: x0_r = ceil(tcx0 / 2^(NL-r)) ...). Before
 * level r is undone, the resolution r-1 image (LL) sits in the top-left
 * [0, w_{r-1}) x [0, h_{r-1}), HL to its right, LH below, HH diagonal; each
 * band's size follows from the parity of x0_r, y0_r (B.5: the low band has
 * ceil(x1_r/2) - ceil(x0_r/2) columns). After the level, [0, w_r) x [0, h_r)
 * holds resolution r interleaved, its first sample at the even or odd phase
 * that x0_r, y0_r give. 5/3 works on int32, 9/7 on float (the same buffer,
 * reinterpreted after dequantisation). */
#ifndef HTC_TRANSFORM_H
#define HTC_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct HtcRect {
    uint32_t x0, y0, x1, y1;   /* x1, y1 exclusive */
} HtcRect;

/* Undo levels 1..num_levels: res[r] is the rectangle of resolution r
 * (res[0] the lowest). tmp: at least 2 * (max(w, h) + 16) * 4 floats/ints
 * of scratch per call (htc_idwt_scratch_size says how much). */
size_t htc_idwt_scratch_size(const HtcRect *res, uint32_t num_levels);
void htc_idwt53(int32_t *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp);
void htc_idwt97(float *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp);

/* One level's 1D lifting on a line, for the kernel tests: in holds the low
 * samples then the high ones (nl = low count), out gets the interleaved
 * result; odd says the first output sample is a high one (x0 odd). */
void htc_idwt53_line(const int32_t *in, int32_t *out, uint32_t n, int odd);
void htc_idwt97_line(const float *in, float *out, uint32_t n, int odd);

/* Dequantisation of a code-block's indices into the band (E.1.1):
 * reversible: value = q >> (guard-shift rules of E.1.1.2, i.e. as is) with
 *   reconstruction at the middle when undecoded_planes > 0;
 * irreversible: float value = (q +- r * 2^undecoded) * delta_b.
 * Both write into dst with dst_stride (elements). */
void htc_dequant_rev(const int32_t *src, ptrdiff_t src_stride, int32_t *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes);
void htc_dequant_irr(const int32_t *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes, float delta);

/* Inverse colour transforms on three equal-size planes, in place (G.2, G.3). */
void htc_rct_inverse(int32_t *c0, int32_t *c1, int32_t *c2, size_t n);
void htc_ict_inverse(float *c0, float *c1, float *c2, size_t n);

#endif /* HTC_TRANSFORM_H */
