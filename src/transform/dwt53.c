/* htcodec: the reversible 5/3 inverse lifting (F.3.8.1), plain C. The
 * reference for the SIMD versions: the horizontal and vertical kernels run
 * htc_idwt53_line over each row or column. */
#include <string.h>

#include "transform/transform.h"

/* Integer arithmetic wraps, in every version (see transform.h). */
static inline int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

void htc_idwt53_line(const int32_t *in, int32_t *out, uint32_t n, int odd)
{
    if (n == 1) {
        out[0] = odd ? in[0] / 2 : in[0];
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int32_t *lo = in, *hi = in + nl;
    if (!odd) {
        /* out[2k] = low k, out[2k+1] = high k. */
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hm = hi[k ? k - 1 : 0], hp = hi[k < nh ? k : nh - 1];
            out[2 * k] = sub(lo[k], add(add(hm, hp), 2) >> 2);
        }
        for (uint32_t k = 0; k < nh; k++) {
            const int32_t lm = out[2 * k], lp = out[k + 1 < nl ? 2 * k + 2 : 2 * k];
            out[2 * k + 1] = add(hi[k], add(lm, lp) >> 1);
        }
    } else {
        /* out[2k] = high k, out[2k+1] = low k. */
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hm = hi[k], hp = hi[k + 1 < nh ? k + 1 : nh - 1];
            out[2 * k + 1] = sub(lo[k], add(add(hm, hp), 2) >> 2);
        }
        for (uint32_t k = 0; k < nh; k++) {
            const int32_t lm = out[2 * (k ? k - 1 : 0) + 1], lp = out[2 * (k < nl ? k : nl - 1) + 1];
            out[2 * k] = add(hi[k], add(lm, lp) >> 1);
        }
    }
}

static void idwt53_h_c(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                       void *tmp)
{
    int32_t *t = tmp;
    for (uint32_t y = 0; y < rows; y++) {
        int32_t *row = buf + (ptrdiff_t)y * stride;
        memcpy(t, row, n * sizeof(*t));
        htc_idwt53_line(t, row, n, odd);
    }
}

static void idwt53_hrow_c(const int32_t *lo, const int32_t *hi, int32_t *dst, uint32_t n, int odd,
                          void *tmp)
{
    int32_t *t = tmp;
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    memcpy(t, lo, nl * sizeof(*t));
    memcpy(t + nl, hi, (n - nl) * sizeof(*t));
    htc_idwt53_line(t, dst, n, odd);
}

/* one value at a time, as htc_idwt53_line's steps */
static void idwt53_vlow_c(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = (int32_t)((uint32_t)l[i] - (uint32_t)((int32_t)((uint32_t)ha[i] + (uint32_t)hb[i] + 2u) >> 2));
}

static void idwt53_vhigh_c(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = (int32_t)((uint32_t)h[i] + (uint32_t)((int32_t)((uint32_t)la[i] + (uint32_t)lb[i]) >> 1));
}

static void idwt53_v_c(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                       void *tmp)
{
    int32_t *in = tmp, *out = in + n;
    for (uint32_t x = 0; x < cols; x++) {
        for (uint32_t y = 0; y < n; y++)
            in[y] = buf[(ptrdiff_t)y * stride + x];
        htc_idwt53_line(in, out, n, odd);
        for (uint32_t y = 0; y < n; y++)
            buf[(ptrdiff_t)y * stride + x] = out[y];
    }
}

void htc_idwt53_init_c(HtcTransformDSP *dsp)
{
    dsp->idwt53_h = idwt53_h_c;
    dsp->idwt53_hrow = idwt53_hrow_c;
    dsp->idwt53_vlow = idwt53_vlow_c;
    dsp->idwt53_vhigh = idwt53_vhigh_c;
    dsp->idwt53_v = idwt53_v_c;
}
