/* htcodec: dequantisation of code-block indices (E.1), plain C kernels and
 * the drivers over a block. */
#include <math.h>

#include "transform/transform.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* half = 2^(u-1), or 0 when u = 0: v = sign(q) * (|q| + half), 0 stays 0. */
static void dequant_rev_c(const int32_t *src, int32_t *dst, size_t n, int32_t half)
{
    for (size_t i = 0; i < n; i++) {
        const int32_t q = src[i];
        const uint32_t m = q < 0 ? 0u - (uint32_t)q : (uint32_t)q;
        const uint32_t v = m + (q ? (uint32_t)half : 0u);
        dst[i] = (int32_t)(q < 0 ? 0u - v : v);
    }
}

/* v = sign(q) * (((float)|q| + r) * delta); 0 stays 0 (+0.0f). */
static void dequant_irr_c(const int32_t *src, float *dst, size_t n, float r, float delta)
{
    for (size_t i = 0; i < n; i++) {
        const int32_t q = src[i];
        const int32_t m = q < 0 ? (int32_t)(0u - (uint32_t)q) : q;
        const float a = (float)m + r;
        const float v = a * delta;
        dst[i] = q == 0 ? 0.0f : q < 0 ? -v : v;
    }
}

float htc_band_delta(uint32_t precision, uint32_t orient, uint32_t exponent, uint32_t mantissa)
{
    const int gain = orient == 0 ? 0 : orient == 3 ? 2 : 1;
    const int e = (int)precision + gain - (int)exponent;
    return (float)ldexp(1.0 + (double)mantissa / 2048.0, e);
}

void htc_dequant_init_c(HtcTransformDSP *dsp)
{
    dsp->dequant_rev = dequant_rev_c;
    dsp->dequant_irr = dequant_irr_c;
}

void htc_dequant_rev_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                          int32_t *dst, ptrdiff_t dst_stride, uint32_t w, uint32_t h,
                          uint32_t undecoded_planes)
{
    if (undecoded_planes == 0 || undecoded_planes > 31) {
        /* Nothing to add (u > 31 cannot happen for Mb <= 31; kept as is). */
        if (src == dst && src_stride == dst_stride)
            return;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                dst[(ptrdiff_t)y * dst_stride + x] = src[(ptrdiff_t)y * src_stride + x];
        return;
    }
    const int32_t half = (int32_t)(1u << (undecoded_planes - 1));
    for (uint32_t y = 0; y < h; y++)
        dsp->dequant_rev(src + (ptrdiff_t)y * src_stride, dst + (ptrdiff_t)y * dst_stride, w, half);
}

void htc_dequant_irr_with(const HtcTransformDSP *dsp, const int32_t *src, ptrdiff_t src_stride,
                          float *dst, ptrdiff_t dst_stride, uint32_t w, uint32_t h,
                          uint32_t undecoded_planes, float delta)
{
    const float r = undecoded_planes > 31 ? 1073741824.0f : (float)(1ull << undecoded_planes) * 0.5f;
    for (uint32_t y = 0; y < h; y++)
        dsp->dequant_irr(src + (ptrdiff_t)y * src_stride, dst + (ptrdiff_t)y * dst_stride, w, r,
                         delta);
}

void htc_dequant_rev(const int32_t *src, ptrdiff_t src_stride, int32_t *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes)
{
    htc_dequant_rev_with(htc_transform_dsp(), src, src_stride, dst, dst_stride, w, h,
                         undecoded_planes);
}

void htc_dequant_irr(const int32_t *src, ptrdiff_t src_stride, float *dst, ptrdiff_t dst_stride,
                     uint32_t w, uint32_t h, uint32_t undecoded_planes, float delta)
{
    htc_dequant_irr_with(htc_transform_dsp(), src, src_stride, dst, dst_stride, w, h,
                         undecoded_planes, delta);
}
