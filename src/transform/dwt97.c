/* htcodec: the irreversible 9/7 inverse lifting (F.3.8.2) in float32, plain
 * C: the reference for the SIMD versions, which follow the same order of
 * operations. No FMA: each product is its own statement (GCC in ISO C mode
 * and clang's default only contract within one expression; the pragma
 * makes clang's choice explicit). */
#include <string.h>

#include "transform/transform.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

/* One lifting step on interleaved out[]: positions of parity `first`
 * (0 or 1) get x = x - (left + right) * c, with mirrored neighbours. */
static void lift(float *x, uint32_t n, uint32_t first, float c)
{
    for (uint32_t i = first; i < n; i += 2) {
        const float l = x[i ? i - 1 : 1];
        const float r = x[i + 1 < n ? i + 1 : i - 1];
        const float s = l + r;
        const float p = s * c;
        x[i] = x[i] - p;
    }
}

void htc_idwt97_line(const float *in, float *out, uint32_t n, int odd)
{
    if (n == 1) {
        out[0] = odd ? in[0] * 0.5f : in[0];
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    for (uint32_t k = 0; k < nl; k++)
        out[lo0 + 2 * k] = in[k] * HTC_DWT97_K;
    for (uint32_t k = 0; k < nh; k++)
        out[hi0 + 2 * k] = in[nl + k] * HTC_DWT97_INV_K;
    lift(out, n, lo0, HTC_DWT97_DELTA);
    lift(out, n, hi0, HTC_DWT97_GAMMA);
    lift(out, n, lo0, HTC_DWT97_BETA);
    lift(out, n, hi0, HTC_DWT97_ALPHA);
}

static void idwt97_h_c(float *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                       void *tmp)
{
    float *t = tmp;
    for (uint32_t y = 0; y < rows; y++) {
        float *row = buf + (ptrdiff_t)y * stride;
        memcpy(t, row, n * sizeof(*t));
        htc_idwt97_line(t, row, n, odd);
    }
}

static void idwt97_v_c(float *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                       void *tmp)
{
    float *in = tmp, *out = in + n;
    for (uint32_t x = 0; x < cols; x++) {
        for (uint32_t y = 0; y < n; y++)
            in[y] = buf[(ptrdiff_t)y * stride + x];
        htc_idwt97_line(in, out, n, odd);
        for (uint32_t y = 0; y < n; y++)
            buf[(ptrdiff_t)y * stride + x] = out[y];
    }
}

void htc_idwt97_init_c(HtcTransformDSP *dsp)
{
    dsp->idwt97_h = idwt97_h_c;
    dsp->idwt97_v = idwt97_v_c;
}
