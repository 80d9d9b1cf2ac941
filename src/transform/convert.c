/* htcodec: output conversion of tile-component samples (DC level shift
 * G.1.2, rounding of float samples, clamping, storing as the asked type and
 * layout): plain C kernels, the range set-up and the driver. */
#include <math.h>
#include <string.h>

#include "htc/picture.h"
#include "internal.h"
#include "transform/transform.h"

static void cvt_i32_8_c(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                        int32_t shift)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++) {
        const int32_t v = src[i] < lo ? lo : src[i] > hi ? hi : src[i];
        d[i] = (uint8_t)((uint32_t)v + (uint32_t)shift);
    }
}

static void cvt_i32_16_c(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                         int32_t shift)
{
    uint8_t *d = dst; /* rows need not be aligned */
    for (size_t i = 0; i < n; i++) {
        const int32_t v = src[i] < lo ? lo : src[i] > hi ? hi : src[i];
        {
            const uint16_t u = (uint16_t)((uint32_t)v + (uint32_t)shift);
            memcpy(d + 2 * i, &u, 2);
        }
    }
}

static void cvt_i32_32_c(const int32_t *src, void *dst, size_t n, int32_t lo, int32_t hi,
                         int32_t shift)
{
    uint8_t *d = dst; /* rows need not be aligned */
    for (size_t i = 0; i < n; i++) {
        const int32_t v = src[i] < lo ? lo : src[i] > hi ? hi : src[i];
        {
            const uint32_t u = (uint32_t)v + (uint32_t)shift;
            memcpy(d + 4 * i, &u, 4);
        }
    }
}

/* max(v, flo) then min(., fhi) as the SIMD max/min instructions do them
 * (NaN gives flo), then round to nearest even. */
static inline int32_t round_clamp(float v, float flo, float fhi)
{
    float x = v > flo ? v : flo;
    x = x < fhi ? x : fhi;
    return (int32_t)lrintf(x);
}

static void cvt_f32_8_c(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                        int32_t shift, float flo, float fhi)
{
    uint8_t *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = (uint8_t)((uint32_t)round_clamp(src[i], flo, fhi) + (uint32_t)shift);
}

static void cvt_f32_16_c(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                         int32_t shift, float flo, float fhi)
{
    uint8_t *d = dst; /* rows need not be aligned */
    for (size_t i = 0; i < n; i++)
        {
            const uint16_t u = (uint16_t)((uint32_t)round_clamp(src[i], flo, fhi) + (uint32_t)shift);
            memcpy(d + 2 * i, &u, 2);
        }
}

static void cvt_f32_32_c(const float *src, void *dst, size_t n, int32_t lo, int32_t hi,
                         int32_t shift, float flo, float fhi)
{
    uint8_t *d = dst; /* rows need not be aligned */
    for (size_t i = 0; i < n; i++)
        {
            const uint32_t u = (uint32_t)round_clamp(src[i], flo, fhi) + (uint32_t)shift;
            memcpy(d + 4 * i, &u, 4);
        }
}

static void cvt3_i32_8_c(const int32_t *s0, const int32_t *s1, const int32_t *s2, uint8_t *d,
                         size_t n, int32_t lo, int32_t hi, int32_t shift)
{
    const int32_t *s[3] = { s0, s1, s2 };
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) {
            const int32_t v = s[c][i] < lo ? lo : s[c][i] > hi ? hi : s[c][i];
            d[3 * i + c] = (uint8_t)((uint32_t)v + (uint32_t)shift);
        }
}

static void cvt3_f32_8_c(const float *s0, const float *s1, const float *s2, uint8_t *d, size_t n,
                         int32_t lo, int32_t hi, int32_t shift, float flo, float fhi)
{
    const float *s[3] = { s0, s1, s2 };
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++)
            d[3 * i + c] = (uint8_t)((uint32_t)round_clamp(s[c][i], flo, fhi) + (uint32_t)shift);
}

void htc_convert_init_c(HtcTransformDSP *dsp)
{
    dsp->cvt3_i32_8 = cvt3_i32_8_c;
    dsp->cvt3_f32_8 = cvt3_f32_8_c;
    dsp->cvt_i32_8 = cvt_i32_8_c;
    dsp->cvt_i32_16 = cvt_i32_16_c;
    dsp->cvt_i32_32 = cvt_i32_32_c;
    dsp->cvt_f32_8 = cvt_f32_8_c;
    dsp->cvt_f32_16 = cvt_f32_16_c;
    dsp->cvt_f32_32 = cvt_f32_32_c;
}

/* The ranges of one conversion, in the domain before the shift. */
typedef struct Range {
    int32_t lo, hi, shift;
    float flo, fhi;
    uint32_t bytes;            /* 1, 2, 4 */
    int is_float, type_signed;
} Range;

static int setup(Range *rg, uint32_t p, int is_signed, int type)
{
    if (p < 1 || p > 32)
        return HTC_EINVAL;
    int64_t clo, chi, tlo, thi;
    if (is_signed) {
        clo = -((int64_t)1 << (p - 1));
        chi = ((int64_t)1 << (p - 1)) - 1;
    } else {
        clo = 0;
        chi = ((int64_t)1 << p) - 1;
    }
    const int64_t shift = is_signed ? 0 : (int64_t)1 << (p - 1);
    rg->is_float = 0;
    rg->type_signed = 0;
    switch (type) {
    case HTC_SAMPLE_U8: tlo = 0; thi = 255; rg->bytes = 1; break;
    case HTC_SAMPLE_I8: tlo = -128; thi = 127; rg->bytes = 1; rg->type_signed = 1; break;
    case HTC_SAMPLE_U16: tlo = 0; thi = 65535; rg->bytes = 2; break;
    case HTC_SAMPLE_I16: tlo = -32768; thi = 32767; rg->bytes = 2; rg->type_signed = 1; break;
    case HTC_SAMPLE_U32: tlo = 0; thi = 4294967295ll; rg->bytes = 4; break;
    case HTC_SAMPLE_I32: tlo = INT32_MIN; thi = INT32_MAX; rg->bytes = 4; rg->type_signed = 1; break;
    case HTC_SAMPLE_F32: tlo = clo; thi = chi; rg->bytes = 4; rg->is_float = 1; break;
    default: return HTC_EINVAL;
    }
    const int64_t lo = HTC_MAX(clo, tlo) - shift, hi = HTC_MIN(chi, thi) - shift;
    /* Both lie in [-2^31, 2^31 - 1]: the component's range less its shift. */
    rg->lo = (int32_t)lo;
    rg->hi = (int32_t)hi;
    rg->shift = (int32_t)(uint32_t)shift;
    /* lo is 0 or minus a power of two: exact. hi may not be (2^31 - 1). */
    rg->flo = (float)lo;
    rg->fhi = (float)hi;
    if ((double)rg->fhi > (double)hi)
        rg->fhi = nextafterf(rg->fhi, -INFINITY);
    return 0;
}

/* Any layout and type, one sample at a time. */
static void store_generic(const Range *rg, int64_t v, uint8_t *d)
{
    if (rg->is_float) {
        const float f = (float)v;
        memcpy(d, &f, 4);
    } else if (rg->bytes == 1) {
        *d = (uint8_t)v;
    } else if (rg->bytes == 2) {
        const uint16_t u = (uint16_t)v;
        memcpy(d, &u, 2);
    } else {
        const uint32_t u = (uint32_t)v;
        memcpy(d, &u, 4);
    }
}

/* Samples per run of the interleaved path. */
#define RUN 256

/* Stores cnt converted samples (packed, `bytes` each) every ps samples. */
static void spread(const void *run, uint32_t cnt, uint32_t bytes, uint8_t *d, uint32_t ps)
{
    if (bytes == 1) {
        const uint8_t *r = run;
        for (uint32_t i = 0; i < cnt; i++)
            d[(size_t)i * ps] = r[i];
    } else if (bytes == 2) {
        const uint16_t *r = run;
        for (uint32_t i = 0; i < cnt; i++)
            memcpy(d + (size_t)i * ps * 2, &r[i], 2);
    } else {
        const uint32_t *r = run;
        for (uint32_t i = 0; i < cnt; i++)
            memcpy(d + (size_t)i * ps * 4, &r[i], 4);
    }
}

int htc_convert_i32_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                         uint32_t w, uint32_t h, uint32_t precision, int is_signed,
                         int sample_type, void *dst, ptrdiff_t dst_row_stride,
                         uint32_t pixel_stride)
{
    Range rg;
    HTC_CHECK(setup(&rg, precision, is_signed, sample_type));
    if (pixel_stride == 0)
        return HTC_EINVAL;
    for (uint32_t y = 0; y < h; y++) {
        const int32_t *s = src + (ptrdiff_t)y * src_stride;
        uint8_t *d = (uint8_t *)dst + (ptrdiff_t)y * dst_row_stride;
        if (pixel_stride == 1 && !rg.is_float) {
            if (rg.bytes == 1)
                dsp->cvt_i32_8(s, d, w, rg.lo, rg.hi, rg.shift);
            else if (rg.bytes == 2)
                dsp->cvt_i32_16(s, d, w, rg.lo, rg.hi, rg.shift);
            else
                dsp->cvt_i32_32(s, d, w, rg.lo, rg.hi, rg.shift);
            continue;
        }
        if (rg.is_float) {
            const size_t step = (size_t)pixel_stride * 4;
            for (uint32_t x = 0; x < w; x++) {
                const int32_t v = s[x] < rg.lo ? rg.lo : s[x] > rg.hi ? rg.hi : s[x];
                /* Unsigned 32-bit results pass 2^31: compute in 64 bits. */
                const int64_t r = (int64_t)v + (is_signed ? 0 : (int64_t)1 << (precision - 1));
                store_generic(&rg, r, d + x * step);
            }
            continue;
        }
        /* Interleaved: convert a run contiguously, then spread it. */
        for (uint32_t x = 0; x < w; x += RUN) {
            uint32_t run[RUN];
            const uint32_t cnt = w - x < RUN ? w - x : RUN;
            if (rg.bytes == 1)
                dsp->cvt_i32_8(s + x, run, cnt, rg.lo, rg.hi, rg.shift);
            else if (rg.bytes == 2)
                dsp->cvt_i32_16(s + x, run, cnt, rg.lo, rg.hi, rg.shift);
            else
                dsp->cvt_i32_32(s + x, run, cnt, rg.lo, rg.hi, rg.shift);
            spread(run, cnt, rg.bytes, d + (size_t)x * pixel_stride * rg.bytes, pixel_stride);
        }
    }
    return 0;
}

int htc_convert_f32_with(const HtcTransformDSP *dsp, const float *src, ptrdiff_t src_stride,
                         uint32_t w, uint32_t h, uint32_t precision, int is_signed,
                         int sample_type, void *dst, ptrdiff_t dst_row_stride,
                         uint32_t pixel_stride)
{
    Range rg;
    HTC_CHECK(setup(&rg, precision, is_signed, sample_type));
    if (pixel_stride == 0)
        return HTC_EINVAL;
    for (uint32_t y = 0; y < h; y++) {
        const float *s = src + (ptrdiff_t)y * src_stride;
        uint8_t *d = (uint8_t *)dst + (ptrdiff_t)y * dst_row_stride;
        if (pixel_stride == 1 && !rg.is_float) {
            if (rg.bytes == 1)
                dsp->cvt_f32_8(s, d, w, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            else if (rg.bytes == 2)
                dsp->cvt_f32_16(s, d, w, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            else
                dsp->cvt_f32_32(s, d, w, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            continue;
        }
        if (rg.is_float) {
            const size_t step = (size_t)pixel_stride * 4;
            for (uint32_t x = 0; x < w; x++) {
                const int32_t v = round_clamp(s[x], rg.flo, rg.fhi);
                const int64_t r = (int64_t)v + (is_signed ? 0 : (int64_t)1 << (precision - 1));
                store_generic(&rg, r, d + x * step);
            }
            continue;
        }
        for (uint32_t x = 0; x < w; x += RUN) {
            uint32_t run[RUN];
            const uint32_t cnt = w - x < RUN ? w - x : RUN;
            if (rg.bytes == 1)
                dsp->cvt_f32_8(s + x, run, cnt, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            else if (rg.bytes == 2)
                dsp->cvt_f32_16(s + x, run, cnt, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            else
                dsp->cvt_f32_32(s + x, run, cnt, rg.lo, rg.hi, rg.shift, rg.flo, rg.fhi);
            spread(run, cnt, rg.bytes, d + (size_t)x * pixel_stride * rg.bytes, pixel_stride);
        }
    }
    return 0;
}

int htc_convert_i32(const int32_t *src, ptrdiff_t src_stride, uint32_t w, uint32_t h,
                    uint32_t precision, int is_signed, int sample_type,
                    void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return htc_convert_i32_with(htc_transform_dsp(), src, src_stride, w, h, precision, is_signed,
                                sample_type, dst, dst_row_stride, pixel_stride);
}

int htc_convert_f32(const float *src, ptrdiff_t src_stride, uint32_t w, uint32_t h,
                    uint32_t precision, int is_signed, int sample_type,
                    void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return htc_convert_f32_with(htc_transform_dsp(), src, src_stride, w, h, precision, is_signed,
                                sample_type, dst, dst_row_stride, pixel_stride);
}

int htc_convert3_i32_with(const HtcTransformDSP *dsp, const int32_t *const src[3],
                          ptrdiff_t src_stride, uint32_t w, uint32_t h, uint32_t precision,
                          int is_signed, int sample_type, void *dst, ptrdiff_t dst_row_stride)
{
    Range rg;
    HTC_CHECK(setup(&rg, precision, is_signed, sample_type));
    if (rg.bytes != 1 || rg.is_float) {
        for (int c = 0; c < 3; c++)
            HTC_CHECK(htc_convert_i32_with(dsp, src[c], src_stride, w, h, precision, is_signed,
                                           sample_type, (uint8_t *)dst + c * rg.bytes,
                                           dst_row_stride, 3));
        return 0;
    }
    for (uint32_t y = 0; y < h; y++) {
        const ptrdiff_t o = (ptrdiff_t)y * src_stride;
        dsp->cvt3_i32_8(src[0] + o, src[1] + o, src[2] + o,
                        (uint8_t *)dst + (ptrdiff_t)y * dst_row_stride, w, rg.lo, rg.hi, rg.shift);
    }
    return 0;
}

int htc_convert3_f32_with(const HtcTransformDSP *dsp, const float *const src[3],
                          ptrdiff_t src_stride, uint32_t w, uint32_t h, uint32_t precision,
                          int is_signed, int sample_type, void *dst, ptrdiff_t dst_row_stride)
{
    Range rg;
    HTC_CHECK(setup(&rg, precision, is_signed, sample_type));
    if (rg.bytes != 1 || rg.is_float) {
        for (int c = 0; c < 3; c++)
            HTC_CHECK(htc_convert_f32_with(dsp, src[c], src_stride, w, h, precision, is_signed,
                                           sample_type, (uint8_t *)dst + c * rg.bytes,
                                           dst_row_stride, 3));
        return 0;
    }
    for (uint32_t y = 0; y < h; y++) {
        const ptrdiff_t o = (ptrdiff_t)y * src_stride;
        dsp->cvt3_f32_8(src[0] + o, src[1] + o, src[2] + o,
                        (uint8_t *)dst + (ptrdiff_t)y * dst_row_stride, w, rg.lo, rg.hi, rg.shift,
                        rg.flo, rg.fhi);
    }
    return 0;
}

int htc_convert3_i32(const int32_t *const src[3], ptrdiff_t src_stride, uint32_t w, uint32_t h,
                     uint32_t precision, int is_signed, int sample_type, void *dst,
                     ptrdiff_t dst_row_stride)
{
    return htc_convert3_i32_with(htc_transform_dsp(), src, src_stride, w, h, precision, is_signed,
                                 sample_type, dst, dst_row_stride);
}

int htc_convert3_f32(const float *const src[3], ptrdiff_t src_stride, uint32_t w, uint32_t h,
                     uint32_t precision, int is_signed, int sample_type, void *dst,
                     ptrdiff_t dst_row_stride)
{
    return htc_convert3_f32_with(htc_transform_dsp(), src, src_stride, w, h, precision, is_signed,
                                 sample_type, dst, dst_row_stride);
}
