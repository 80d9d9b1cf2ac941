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
 * reinterpreted after dequantisation).
 *
 * Exactness: every kernel has a plain C version and SIMD versions chosen at
 * run time (src/cpu.h); all of them give bit-identical results, floats
 * included: each float formula below is evaluated in the order written,
 * in float32, without fused multiply-add (the CUDA kernels must do the same,
 * e.g. with __fadd_rn/__fmul_rn). Integer arithmetic wraps (two's
 * complement) on overflow, in every version, so that even hostile data gives
 * the same bits everywhere.
 *
 * Speed: any stride works, but a 64-byte aligned buffer with a stride that
 * is a multiple of 16 elements runs fastest (no vector load splits a cache
 * line; 5/3 512x512 5 levels went from 0.82 to 0.46 ns/sample with
 * AVX-512 on a 16-byte aligned buffer versus a 64-byte aligned one). */
#ifndef HTC_TRANSFORM_H
#define HTC_TRANSFORM_H

#include <stddef.h>
#include <stdint.h>

typedef struct HtcRect {
    uint32_t x0, y0, x1, y1;   /* x1, y1 exclusive */
} HtcRect;

/* The kernels behind the functions below, one table per set of CPU flags
 * (plain C first, upgraded by ISA). Row/column kernels get lengths >= 2; the
 * drivers handle length 1 (F.3.7) and empty areas. */
typedef struct HtcTransformDSP {
    /* One level of 1D_SR on `rows` rows of n samples (low then high in each
     * row, interleaved on return); odd: the first sample is a high one. */
    void (*idwt53_h)(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd, void *tmp);
    void (*idwt97_h)(float *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd, void *tmp);
    /* The same on one row whose low samples are at lo (nl of them), its
     * high ones at hi (n - nl), the result into dst (n samples, apart from
     * both): no copy of the row first (the streamed DWT, dwt_stream.c). */
    void (*idwt53_hrow)(const int32_t *lo, const int32_t *hi, int32_t *dst, uint32_t n, int odd,
                        void *tmp);
    /* The vertical 5/3 steps on whole rows of n values (the streamed DWT):
     * x = l - ((ha + hb + 2) >> 2) and o = h + ((la + lb) >> 1), wrapping;
     * x, o may be any of their inputs. */
    void (*idwt53_vlow)(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb, size_t n);
    void (*idwt53_vhigh)(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb, size_t n);
    /* The same on `cols` columns of n samples (low rows then high rows). */
    void (*idwt53_v)(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd, void *tmp);
    void (*idwt97_v)(float *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd, void *tmp);
    /* One row of n values each. */
    void (*dequant_rev)(const int32_t *src, int32_t *dst, size_t n, int32_t half);
    void (*dequant_irr)(const int32_t *src, float *dst, size_t n, float r, float delta);
    void (*rct)(int32_t *c0, int32_t *c1, int32_t *c2, size_t n);
    void (*ict)(float *c0, float *c1, float *c2, size_t n);
    /* Output of one contiguous row (pixel stride 1): v clamped to [lo, hi]
     * (already shifted down by `shift`), then shift added (wrapping), stored
     * as 8, 16 or 32 bits (the low bits of the result). For the float
     * versions, v is first clamped to [flo, fhi] and rounded to nearest even. */
    void (*cvt_i32_8)(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift);
    void (*cvt_i32_16)(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift);
    void (*cvt_i32_32)(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift);
    void (*cvt_f32_8)(const float *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift,
                      float flo, float fhi);
    void (*cvt_f32_16)(const float *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift,
                       float flo, float fhi);
    void (*cvt_f32_32)(const float *src, void *dst, size_t n, int32_t lo, int32_t hi, int32_t shift,
                       float flo, float fhi);
    /* Three rows (components 0, 1, 2 of one precision) into interleaved
     * 8-bit pixels (3 bytes each), as the 8-bit kernels above do each. */
    void (*cvt3_i32_8)(const int32_t *s0, const int32_t *s1, const int32_t *s2, uint8_t *dst,
                       size_t n, int32_t lo, int32_t hi, int32_t shift);
    void (*cvt3_f32_8)(const float *s0, const float *s1, const float *s2, uint8_t *dst, size_t n,
                       int32_t lo, int32_t hi, int32_t shift, float flo, float fhi);
} HtcTransformDSP;

/* Fills dsp for these HTC_CPU_* flags, limited to what the CPU has
 * (htc_cpu_flags_raw, so asking for too much is safe). */
void htc_transform_dsp_init(HtcTransformDSP *dsp, uint32_t cpu_flags);
/* The reference table for the kernel tests: plain C throughout, the DWT
 * line by line with htc_idwt53_line / htc_idwt97_line (slow, simplest). */
void htc_transform_dsp_init_ref(HtcTransformDSP *dsp);
/* The table for htc_cpu_flags(), made once; used by the functions below
 * that take no dsp argument. */
const HtcTransformDSP *htc_transform_dsp(void);
/* The table for htc_cpu_flags() & cpu_mask (a decoder's settings.cpu_mask),
 * made once per combination; never NULL. */
const HtcTransformDSP *htc_transform_dsp_for(uint32_t cpu_mask);

/* Geometry (B.5, B.6). res[r] for r = 0..num_levels of a tile-component
 * (tcx0, tcy0, tcx1, tcy1 on the component's grid): ceil(tc / 2^(NL - r)). */
void htc_dwt_resolutions(uint32_t tcx0, uint32_t tcy0, uint32_t tcx1, uint32_t tcy1,
                         uint32_t num_levels, HtcRect *res);
/* Where a band's coefficients go in the buffer before the inverse DWT, as
 * [x0, x1) x [y0, y1) buffer coordinates: r = 0 with orient 0 is the LL band
 * (res[0]); r >= 1 with orient 1 HL, 2 LH, 3 HH is a band of level r. The
 * band's own coordinates (B.5, for code-block partition) are not these. */
HtcRect htc_dwt_band_rect(const HtcRect *res, uint32_t r, uint32_t orient);

/* Undo levels 1..num_levels: res[r] is the rectangle of resolution r
 * (res[0] the lowest), num_levels + 1 entries. tmp: scratch of
 * htc_idwt_scratch_size(res, num_levels) bytes, 64-byte aligned, one per
 * thread. F.3.2: each level runs HOR_SR on every row, then VER_SR on every
 * column; a signal of length 1 at an odd coordinate becomes Y / 2 (5/3: C
 * division, truncating, as OpenJPEG; 9/7: times 0.5f), at an even one stays. */
size_t htc_idwt_scratch_size(const HtcRect *res, uint32_t num_levels);
void htc_idwt53(int32_t *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp);
void htc_idwt97(float *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp);
void htc_idwt53_with(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                     const HtcRect *res, uint32_t num_levels, void *tmp);
void htc_idwt97_with(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                     const HtcRect *res, uint32_t num_levels, void *tmp);

/* One level (rect = res[r]) in parts, for threads: every row range of the
 * horizontal pass must be done before any column range of the vertical pass
 * starts; ranges of one pass may run in parallel (each thread with its own
 * tmp of htc_idwt_level_scratch(w, h) bytes). Column ranges are best cut at
 * multiples of 128 columns. Length-1 signals are handled here too. */
void htc_idwt53_level_h(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rect, uint32_t row0, uint32_t row1, void *tmp);
void htc_idwt53_level_v(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rect, uint32_t col0, uint32_t col1, void *tmp);
void htc_idwt97_level_h(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                        const HtcRect *rect, uint32_t row0, uint32_t row1, void *tmp);
void htc_idwt97_level_v(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                        const HtcRect *rect, uint32_t col0, uint32_t col1, void *tmp);

/* The last level of a 5/3 inverse DWT (rect = res[num_levels], levels
 * before it done in buf) fused with htc_convert_i32_with of the whole
 * result (w x h samples into dst, as that function says): the same output
 * as htc_idwt53_level_h + htc_idwt53_level_v + the conversion, without
 * writing buf (dwt_stream.c). Needs w >= 2 and h >= 2 (else HTC_EINVAL,
 * nothing written) and tmp of htc_idwt53_out_scratch(w) bytes. */
size_t htc_idwt53_out_scratch(uint32_t w);
int htc_idwt53_last_out(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rect, void *tmp, uint32_t precision, int is_signed,
                        int sample_type, void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride);
/* The same with the LL band of the level read from ll (ll_stride) instead
 * of buf; and one level into dst (int32, dst_stride) instead of the output. */
int htc_idwt53_last_out_ll(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                           const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rect, void *tmp,
                           uint32_t precision, int is_signed, int sample_type, void *dst,
                           ptrdiff_t dst_row_stride, uint32_t pixel_stride);
int htc_idwt53_level_into(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                          const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rect, void *tmp,
                          int32_t *dst, ptrdiff_t dst_stride);
/* All num_levels levels with the output conversion of the last (as
 * htc_idwt53_with + htc_convert_i32_with): the levels below the last of at
 * least min_samples samples (and those above them) are streamed too, each
 * row of one going into the next as it is made; the smaller ones are undone
 * in place in buf. tmp: max(htc_idwt_scratch_size,
 * htc_idwt53_out_scratch(w)) bytes; work: htc_idwt53_out_work bytes (same
 * min_samples: the streamed levels' rings). Needs the last level at least
 * 2x2. */
#define HTC_IDWT_STREAM_MIN ((uint64_t)1 << 19) /* 2 MiB of int32: past L2 */
size_t htc_idwt53_out_work(const HtcRect *res, uint32_t num_levels, uint64_t min_samples);
int htc_idwt53_out(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride, const HtcRect *res,
                   uint32_t num_levels, uint64_t min_samples, void *tmp, void *work,
                   uint32_t precision, int is_signed, int sample_type, void *dst,
                   ptrdiff_t dst_row_stride, uint32_t pixel_stride);

/* htc_idwt53_out with the last level's band rows brought in on demand:
 * need(need_opaque, j, &row) runs before that level reads row j of buf
 * (0 <= j < nl: its low rows, whose LL part comes from the level below and
 * whose HL part is buf's; nl <= j < h: its LH and HH rows), j rising within
 * each half, each row asked for once (the ring keeps what it lifted). It
 * may set row to where row j lies instead of buf (element x of the row at
 * row[x]; a low row's LL part is still read from the level below, or from
 * buf when that level was undone in place), valid until the next call for
 * the same half. A negative status from need ends the transform with that
 * status (what was written to dst is then incomplete). need NULL:
 * htc_idwt53_out. */
typedef int (*HtcRowNeed)(void *opaque, uint32_t row, const int32_t **row_ptr);
int htc_idwt53_out_pull(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *res, uint32_t num_levels, uint64_t min_samples, void *tmp,
                        void *work, uint32_t precision, int is_signed, int sample_type, void *dst,
                        ptrdiff_t dst_row_stride, uint32_t pixel_stride, HtcRowNeed need,
                        void *need_opaque);

/* One level's 1D lifting on a line (the plain C reference, also for the
 * tests): in holds the low samples then the high ones (nl = low count), out
 * (not in) gets the interleaved result; odd says the first output sample is
 * a high one (x0 odd). n >= 1.
 * 5/3 (F.3.8.1): X(2n) = Y(2n) - ((Y(2n-1) + Y(2n+1) + 2) >> 2), then
 *               X(2n+1) = Y(2n+1) + ((X(2n) + X(2n+2)) >> 1).
 * 9/7 (F.3.8.2), float32, each step t = a + b; t = t * c; x = x - t:
 *   low *= K, high *= 1/K, then delta, gamma, beta, alpha steps. alpha,
 *   beta, gamma, delta and K are the standard's, rounded to float. 1/K is
 *   OpenJPEG's historic 13318/16384 = 0.8128662 (2/K as 1.625732422f), not
 *   1/1.230174104914001 = 0.8128931: both pass every ISO/IEC 15444-4
 *   tolerance of the corpus (MSE equal to 0.1%), and this one makes lossy
 *   decodes bit-identical to OpenJPEG's and Grok's, the corpus references
 *   (exact 1/K differs from them by up to 5 on 16-bit data, issue228.j2k).
 *   Band step sizes are those of E.1.1.1 with R_b = precision +
 *   log2(gain_b) (LL 0, HL/LH 1, HH 2), for both filters (OpenJPEG folds
 *   the gain into its 2/K instead).
 * Both use symmetric extension (PSE): a missing neighbour is the other one. */
void htc_idwt53_line(const int32_t *in, int32_t *out, uint32_t n, int odd);
void htc_idwt97_line(const float *in, float *out, uint32_t n, int odd);

/* Dequantisation of a code-block's indices into the band (E.1), w x h values,
 * strides in elements; dst may be src (the same stride) for in-place work.
 * q is the index as block.h says (bit 0 = bit-plane 0, undecoded planes 0),
 * u = undecoded_planes (0..31).
 * reversible:   v = q when u = 0; else v = sign(q) * (|q| + 2^(u-1)), 0 stays 0.
 * irreversible: v = sign(q) * (((float)|q| + r) * delta), r = 2^u / 2
 *               (0.5 when every plane was decoded); 0 stays 0.
 *               delta = Delta_b of E.1.1.1 with R_b as htc_idwt97_line says.
 * |q| must be < 2^31 (Mb <= 31). */
void htc_dequant_rev(const int32_t *src, ptrdiff_t src_stride, int32_t *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes);
void htc_dequant_irr(const int32_t *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes, float delta);
void htc_dequant_rev_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                          int32_t *dst, ptrdiff_t dst_stride, uint32_t w, uint32_t h,
                          uint32_t undecoded_planes);
void htc_dequant_irr_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                          float *dst, ptrdiff_t dst_stride, uint32_t w, uint32_t h,
                          uint32_t undecoded_planes, float delta);

/* Delta_b of E.1.1.1 for an irreversible band, as htc_dequant_irr wants it:
 * 2^(R_b - exponent) * (1 + mantissa / 2^11) with R_b = precision + gain
 * (orient: 0 LL, 1 HL, 2 LH, 3 HH; gain 0, 1, 1, 2), computed in double and
 * rounded once to float. */
float htc_band_delta(uint32_t precision, uint32_t orient, uint32_t exponent, uint32_t mantissa);

/* Inverse colour transforms on three equal-size planes, in place (G.2, G.3).
 * RCT: I1 = Y0 - ((Y2 + Y1) >> 2); I0 = Y2 + I1; I2 = Y1 + I1 (c0..c2 = Y0..Y2
 *      in, I0..I2 out).
 * ICT: I0 = Y0 + (1.402f * Y2); I1 = (Y0 - (0.34413f * Y1)) - (0.71414f * Y2);
 *      I2 = Y0 + (1.772f * Y1). */
void htc_rct_inverse(int32_t *c0, int32_t *c1, int32_t *c2, size_t n);
void htc_ict_inverse(float *c0, float *c1, float *c2, size_t n);
void htc_rct_inverse_with(const HtcTransformDSP *dsp, int32_t *c0, int32_t *c1, int32_t *c2,
                          size_t n);
void htc_ict_inverse_with(const HtcTransformDSP *dsp, float *c0, float *c1, float *c2, size_t n);

/* Output conversion of one tile-component area (w x h samples, src_stride
 * elements per row) into the caller's picture: dst points at the first
 * output sample, dst_row_stride is in bytes, pixel_stride in samples (1 for
 * planar, the number of components for interleaved).
 *   precision 1..32, is_signed: the component's (SIZ); sample_type: enum
 *   HtcSampleType other than AUTO (U8 I8 U16 I16 U32 I32 F32).
 * Each sample: DC level shift (+2^(precision-1) when unsigned, G.1.2), clamp
 * to the component's range [0, 2^p - 1] or [-2^(p-1), 2^(p-1) - 1] and to the
 * sample type's range, store. Float samples are first rounded to the nearest
 * integer, ties to even (as lrintf, OpenJPEG), NaN becoming the lowest value;
 * the shift is added after rounding. F32 output stores the same integer
 * value as a float. Returns 0, or HTC_EINVAL for a bad precision or type. */
int htc_convert_i32(const int32_t *src, ptrdiff_t src_stride, uint32_t w, uint32_t h,
                    uint32_t precision, int is_signed, int sample_type,
                    void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride);
int htc_convert_f32(const float *src, ptrdiff_t src_stride, uint32_t w, uint32_t h,
                    uint32_t precision, int is_signed, int sample_type,
                    void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride);
int htc_convert_i32_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                         uint32_t w, uint32_t h, uint32_t precision, int is_signed,
                         int sample_type, void *dst, ptrdiff_t dst_row_stride,
                         uint32_t pixel_stride);
int htc_convert_f32_with(const HtcTransformDSP *dsp, const float *src, ptrdiff_t src_stride,
                         uint32_t w, uint32_t h, uint32_t precision, int is_signed,
                         int sample_type, void *dst, ptrdiff_t dst_row_stride,
                         uint32_t pixel_stride);

/* Three components of the same precision and signedness, each w x h with
 * the same src_stride, into 3-sample interleaved pixels (dst_row_stride
 * bytes a row): the same values as three htc_convert_* calls with
 * pixel_stride 3, in one pass (8-bit types use the SIMD kernels; other types
 * fall back to the per-component path). */
int htc_convert3_i32_with(const HtcTransformDSP *dsp, const int32_t *const src[3],
                          ptrdiff_t src_stride, uint32_t w, uint32_t h, uint32_t precision,
                          int is_signed, int sample_type, void *dst, ptrdiff_t dst_row_stride);
int htc_convert3_f32_with(const HtcTransformDSP *dsp, const float *const src[3],
                          ptrdiff_t src_stride, uint32_t w, uint32_t h, uint32_t precision,
                          int is_signed, int sample_type, void *dst, ptrdiff_t dst_row_stride);
int htc_convert3_i32(const int32_t *const src[3], ptrdiff_t src_stride, uint32_t w, uint32_t h,
                     uint32_t precision, int is_signed, int sample_type, void *dst,
                     ptrdiff_t dst_row_stride);
int htc_convert3_f32(const float *const src[3], ptrdiff_t src_stride, uint32_t w, uint32_t h,
                     uint32_t precision, int is_signed, int sample_type, void *dst,
                     ptrdiff_t dst_row_stride);

/* Each file's part of the table: the plain C kernels (tables start from
 * these), then the ISA ones (src/x86/), which replace what they have. */
void htc_idwt53_init_c(HtcTransformDSP *dsp);  /* line by line (reference) */
void htc_idwt97_init_c(HtcTransformDSP *dsp);  /* line by line (reference) */
void htc_dwt_init_c(HtcTransformDSP *dsp);     /* portable C shaped for vectorisers */
void htc_dequant_init_c(HtcTransformDSP *dsp);
void htc_colour_init_c(HtcTransformDSP *dsp);
void htc_convert_init_c(HtcTransformDSP *dsp);
void htc_dwt_init_avx2(HtcTransformDSP *dsp);
void htc_dequant_init_avx2(HtcTransformDSP *dsp);
void htc_colour_init_avx2(HtcTransformDSP *dsp);
void htc_convert_init_avx2(HtcTransformDSP *dsp);
void htc_dwt_init_avx512(HtcTransformDSP *dsp);

/* 9/7 lifting constants (Table F.4), rounded to float. */
#define HTC_DWT97_ALPHA ((float)-1.586134342059924)
#define HTC_DWT97_BETA ((float)-0.052980118572961)
#define HTC_DWT97_GAMMA ((float)0.882911075530934)
#define HTC_DWT97_DELTA ((float)0.443506852043971)
#define HTC_DWT97_K ((float)1.230174104914001)
/* OpenJPEG's 1.625732422f / 2, exactly 6659/8192 (see htc_idwt97_line);
 * the exact (float)(1.0 / 1.230174104914001) would be 0.81289306f. */
#define HTC_DWT97_INV_K (6659.0f / 8192.0f)

/* Scratch a row/column kernel may use for a level of w x h (bytes). */
#define HTC_DWT_LANES 128 /* columns per vertical strip, at most */
size_t htc_idwt_level_scratch(uint32_t w, uint32_t h);

#endif /* HTC_TRANSFORM_H */
