/* htcodec: inverse component transforms (G.2 RCT, G.3 ICT), plain C. */
#include "transform/transform.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static inline int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static void rct_c(int32_t *c0, int32_t *c1, int32_t *c2, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const int32_t y0 = c0[i], y1 = c1[i], y2 = c2[i];
        const int32_t i1 = sub(y0, add(y2, y1) >> 2);
        c0[i] = add(y2, i1);
        c1[i] = i1;
        c2[i] = add(y1, i1);
    }
}

static void ict_c(float *c0, float *c1, float *c2, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float y0 = c0[i], y1 = c1[i], y2 = c2[i];
        const float r2 = 1.402f * y2;
        const float g1 = 0.34413f * y1;
        const float g2 = 0.71414f * y2;
        const float b1 = 1.772f * y1;
        const float g = y0 - g1;
        c0[i] = y0 + r2;
        c1[i] = g - g2;
        c2[i] = y0 + b1;
    }
}

void htc_colour_init_c(HtcTransformDSP *dsp)
{
    dsp->rct = rct_c;
    dsp->ict = ict_c;
}

void htc_rct_inverse_with(const HtcTransformDSP *dsp, int32_t *c0, int32_t *c1, int32_t *c2,
                          size_t n)
{
    dsp->rct(c0, c1, c2, n);
}

void htc_ict_inverse_with(const HtcTransformDSP *dsp, float *c0, float *c1, float *c2, size_t n)
{
    dsp->ict(c0, c1, c2, n);
}

void htc_rct_inverse(int32_t *c0, int32_t *c1, int32_t *c2, size_t n)
{
    htc_transform_dsp()->rct(c0, c1, c2, n);
}

void htc_ict_inverse(float *c0, float *c1, float *c2, size_t n)
{
    htc_transform_dsp()->ict(c0, c1, c2, n);
}
