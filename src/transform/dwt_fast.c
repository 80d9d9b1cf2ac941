/* htcodec: inverse DWT kernels in portable C, shaped like the SIMD ones so
 * that compilers vectorise them (NEON, SSE2): rows are lifted on their low
 * and high halves with mirrored pads, columns in strips of DWT_STRIP columns
 * a row at a time. Bit-identical to the line-by-line reference kernels
 * (dwt53.c, dwt97.c): the same operations in the same order. */
#include <string.h>

#include "transform/transform.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#define DWT_STRIP 64

static inline int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

static inline uint32_t clampi(int64_t i, uint32_t cnt)
{
    return (uint32_t)(i < 0 ? 0 : i >= (int64_t)cnt ? (int64_t)cnt - 1 : i);
}

static inline void *align64(void *p) { return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); }

/* ---- rows --------------------------------------------------------------- */

/* Scratch for a row: low part L[-1..nl], high part H[-1..nh]. */
static inline void parts(void *tmp, uint32_t nl, void **lo, void **hi)
{
    int32_t *t = align64(tmp);
    *lo = t + 16;
    *hi = t + 16 + ((nl + 15) & ~15u) + 32;
}

static void h53_row(const int32_t *lo, const int32_t *hi, int32_t *row, uint32_t n, int odd,
                    int32_t *L, int32_t *H)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    /* low k between high k+a, k+a+1; high k between low k+b, k+b+1 */
    const int32_t *hm = odd ? H : H - 1, *lm = odd ? L - 1 : L;
    memcpy(L, lo, nl * sizeof(int32_t));
    memcpy(H, hi, nh * sizeof(int32_t));
    H[-1] = H[0];
    H[nh] = H[nh - 1];
    for (uint32_t k = 0; k < nl; k++)
        L[k] = sub(L[k], add(add(hm[k], hm[k + 1]), 2) >> 2);
    L[-1] = L[0];
    L[nl] = L[nl - 1];
    for (uint32_t k = 0; k < nh; k++)
        H[k] = add(H[k], add(lm[k], lm[k + 1]) >> 1);
    int32_t *olo = row + (odd ? 1 : 0), *ohi = row + (odd ? 0 : 1);
    for (uint32_t k = 0; k < nl; k++)
        olo[2 * k] = L[k];
    for (uint32_t k = 0; k < nh; k++)
        ohi[2 * k] = H[k];
}

static void idwt53_h(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd, void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    void *lp, *hp;
    parts(tmp, nl, &lp, &hp);
    for (uint32_t y = 0; y < rows; y++) {
        int32_t *row = buf + (ptrdiff_t)y * stride;
        h53_row(row, row + nl, row, n, odd, lp, hp);
    }
}

static void idwt53_vlow(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = sub(l[i], add(add(ha[i], hb[i]), 2) >> 2);
}

static void idwt53_vhigh(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb, size_t n)
{
    for (size_t i = 0; i < n; i++)
        o[i] = add(h[i], add(la[i], lb[i]) >> 1);
}

static void idwt53_hrow(const int32_t *lo, const int32_t *hi, int32_t *dst, uint32_t n, int odd,
                        void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    void *lp, *hp;
    parts(tmp, nl, &lp, &hp);
    h53_row(lo, hi, dst, n, odd, lp, hp);
}

static void lift_row(float *x, const float *nb, uint32_t count, float c)
{
    for (uint32_t k = 0; k < count; k++) {
        const float s = nb[k] + nb[k + 1];
        const float p = s * c;
        x[k] = x[k] - p;
    }
}

static void idwt97_h(float *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd, void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    void *lp, *hp;
    parts(tmp, nl, &lp, &hp);
    float *L = lp, *H = hp;
    const float *hm = odd ? H : H - 1, *lm = odd ? L - 1 : L;
    for (uint32_t y = 0; y < rows; y++) {
        float *row = buf + (ptrdiff_t)y * stride;
        for (uint32_t k = 0; k < nl; k++)
            L[k] = row[k] * HTC_DWT97_K;
        for (uint32_t k = 0; k < nh; k++)
            H[k] = row[nl + k] * HTC_DWT97_INV_K;
        H[-1] = H[0];
        H[nh] = H[nh - 1];
        lift_row(L, hm, nl, HTC_DWT97_DELTA);
        L[-1] = L[0];
        L[nl] = L[nl - 1];
        lift_row(H, lm, nh, HTC_DWT97_GAMMA);
        H[-1] = H[0];
        H[nh] = H[nh - 1];
        lift_row(L, hm, nl, HTC_DWT97_BETA);
        L[-1] = L[0];
        L[nl] = L[nl - 1];
        lift_row(H, lm, nh, HTC_DWT97_ALPHA);
        float *lo = row + (odd ? 1 : 0), *hi = row + (odd ? 0 : 1);
        for (uint32_t k = 0; k < nl; k++)
            lo[2 * k] = L[k];
        for (uint32_t k = 0; k < nh; k++)
            hi[2 * k] = H[k];
    }
}

/* ---- columns ------------------------------------------------------------ */

/* 5/3 on a strip of sw columns: updated low rows into t (DWT_STRIP a row),
 * then the high rows, written out with the low rows in output order (an
 * output row never is a high row still to be read). */
static void idwt53_v_strip(int32_t *col, ptrdiff_t stride, uint32_t n, int odd, int32_t *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int64_t a0 = odd ? 0 : -1, b0 = odd ? -1 : 0;
    for (uint32_t k = 0; k < nl; k++) {
        const int32_t *ha = col + (ptrdiff_t)(nl + clampi(k + a0, nh)) * stride;
        const int32_t *hb = col + (ptrdiff_t)(nl + clampi(k + a0 + 1, nh)) * stride;
        const int32_t *l = col + (ptrdiff_t)k * stride;
        int32_t *o = t + (size_t)k * DWT_STRIP;
        for (uint32_t j = 0; j < sw; j++)
            o[j] = sub(l[j], add(add(ha[j], hb[j]), 2) >> 2);
    }
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    for (uint32_t k = 0; k < nh; k++) {
        const int32_t *la = t + (size_t)clampi(k + b0, nl) * DWT_STRIP;
        const int32_t *lb = t + (size_t)clampi(k + b0 + 1, nl) * DWT_STRIP;
        const int32_t *h = col + (ptrdiff_t)(nl + k) * stride;
        int32_t *oh = col + (ptrdiff_t)(hi0 + 2 * k) * stride;
        /* read the high row before writing: oh may be that row */
        int32_t hv[DWT_STRIP];
        for (uint32_t j = 0; j < sw; j++)
            hv[j] = add(h[j], add(la[j], lb[j]) >> 1);
        if (!odd) {
            memcpy(col + (ptrdiff_t)(2 * k) * stride, t + (size_t)k * DWT_STRIP, sw * 4);
            memcpy(oh, hv, sw * 4);
        } else {
            memcpy(oh, hv, sw * 4);
            if (k < nl)
                memcpy(col + (ptrdiff_t)(2 * k + 1) * stride, t + (size_t)k * DWT_STRIP, sw * 4);
        }
    }
    if (!odd && nl > nh)
        memcpy(col + (ptrdiff_t)(2 * nh) * stride, t + (size_t)nh * DWT_STRIP, sw * 4);
    (void)lo0;
}

static void idwt53_v(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd, void *tmp)
{
    int32_t *t = align64(tmp);
    for (uint32_t x = 0; x < cols; x += DWT_STRIP)
        idwt53_v_strip(buf + x, stride, n, odd, t, cols - x < DWT_STRIP ? cols - x : DWT_STRIP);
}

/* x -= (a + b) * c over a strip row */
static inline void lift_strip_row(float *x, const float *a, const float *b, float c, uint32_t sw)
{
    for (uint32_t j = 0; j < sw; j++) {
        const float s = a[j] + b[j];
        const float p = s * c;
        x[j] = x[j] - p;
    }
}

/* 9/7 on a strip: the whole strip in t, the four steps in one lagged sweep
 * (as src/x86/dwt_avx2.c explains), rows written out when final. */
static void idwt97_v_strip(float *col, ptrdiff_t stride, uint32_t n, int odd, float *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
#define TR(k) (t + (size_t)(k) * DWT_STRIP)
    for (uint32_t r = 0; r < n; r++) {
        const float *s = col + (ptrdiff_t)r * stride;
        float *d = TR(r);
        const float m = r < nl ? HTC_DWT97_K : HTC_DWT97_INV_K;
        for (uint32_t j = 0; j < sw; j++)
            d[j] = s[j] * m;
    }
    const int64_t lo_off = odd ? 0 : -1, hi_off = odd ? -1 : 0;
    const int64_t end = (int64_t)(nl > nh ? nl : nh) + 3;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    for (int64_t jj = 0; jj < end; jj++) {
        int64_t k = jj;
        if (k < nl)
            lift_strip_row(TR(k), TR(nl + clampi(k + lo_off, nh)), TR(nl + clampi(k + lo_off + 1, nh)),
                           HTC_DWT97_DELTA, sw);
        k = jj - 1;
        if (k >= 0 && k < nh)
            lift_strip_row(TR(nl + k), TR(clampi(k + hi_off, nl)), TR(clampi(k + hi_off + 1, nl)),
                           HTC_DWT97_GAMMA, sw);
        k = jj - 2;
        if (k >= 0 && k < nl) {
            lift_strip_row(TR(k), TR(nl + clampi(k + lo_off, nh)), TR(nl + clampi(k + lo_off + 1, nh)),
                           HTC_DWT97_BETA, sw);
            memcpy(col + (ptrdiff_t)(lo0 + 2 * k) * stride, TR(k), sw * sizeof(float));
        }
        k = jj - 3;
        if (k >= 0 && k < nh) {
            lift_strip_row(TR(nl + k), TR(clampi(k + hi_off, nl)), TR(clampi(k + hi_off + 1, nl)),
                           HTC_DWT97_ALPHA, sw);
            memcpy(col + (ptrdiff_t)(hi0 + 2 * k) * stride, TR(nl + k), sw * sizeof(float));
        }
    }
#undef TR
}

static void idwt97_v(float *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd, void *tmp)
{
    float *t = align64(tmp);
    for (uint32_t x = 0; x < cols; x += DWT_STRIP)
        idwt97_v_strip(buf + x, stride, n, odd, t, cols - x < DWT_STRIP ? cols - x : DWT_STRIP);
}

void htc_dwt_init_c(HtcTransformDSP *dsp)
{
    dsp->idwt53_h = idwt53_h;
    dsp->idwt53_hrow = idwt53_hrow;
    dsp->idwt53_vlow = idwt53_vlow;
    dsp->idwt53_vhigh = idwt53_vhigh;
    dsp->idwt53_v = idwt53_v;
    dsp->idwt97_h = idwt97_h;
    dsp->idwt97_v = idwt97_v;
}
