/* htcodec: inverse DWT kernels, AVX2. Same results as src/transform/dwt53.c
 * and dwt97.c, bit for bit.
 *
 * Horizontal: 5/3 reads the row where it lies and keeps only the updated low
 * samples in the scratch; 9/7 copies the row's low and high halves into the
 * scratch (each with a mirrored sample on both sides) and lifts them there.
 * Both work 8 samples at a time and write the row back interleaved (unpack +
 * permute). Vertical: strips of up to 128 columns over the whole height,
 * lifted a row of the strip at a time; 5/3 keeps only the updated low rows
 * in the scratch and writes output rows directly (an output row 2k or 2k+1
 * is never a high input row still to be read), 9/7 keeps the whole strip
 * and runs its four steps in one lagged sweep. The last vector of a strip
 * narrower than 8 columns uses masked loads and stores. */
#include <immintrin.h>
#include <string.h>

#include "transform/transform.h"

#define ALWAYS_INLINE inline __attribute__((always_inline))

static inline int32_t *align64_i(void *p)
{
    return (int32_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* The scratch split for a row of n samples: low part and high part, each
 * with 16 elements before it and room for 16-sample over-reads after it. */
static ALWAYS_INLINE void row_parts(void *tmp, uint32_t nl, int32_t **lo, int32_t **hi)
{
    int32_t *t = align64_i(tmp);
    *lo = t + 16;
    *hi = *lo + ((nl + 15) & ~15u) + 32;
}

/* ---- 5/3 -------------------------------------------------------------- */

static inline __m256i interleave_lo(__m256i a, __m256i b)
{
    const __m256i l = _mm256_unpacklo_epi32(a, b), h = _mm256_unpackhi_epi32(a, b);
    return _mm256_permute2x128_si256(l, h, 0x20);
}

static inline __m256i interleave_hi(__m256i a, __m256i b)
{
    const __m256i l = _mm256_unpacklo_epi32(a, b), h = _mm256_unpackhi_epi32(a, b);
    return _mm256_permute2x128_si256(l, h, 0x31);
}

static inline int32_t wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline uint32_t clamp_idx(int64_t i, uint32_t cnt)
{
    return (uint32_t)(i < 0 ? 0 : i >= (int64_t)cnt ? (int64_t)cnt - 1 : i);
}

/* The row is read where it lies: the low half and the high half, 8 samples
 * at a time; the updated low samples go to the scratch (with a mirrored one
 * on each side), and the second step writes the row interleaved, in place or
 * into another row apart from both halves (h53_row: L, H, dst). In place, a
 * chunk's output [2k, 2k + 16) never reaches a high sample still to be read
 * (nl + k + 8 onwards) while k + 8 <= nl. Ends and tails are scalar. */
static ALWAYS_INLINE void h53_row(const int32_t *L, const int32_t *H, int32_t *dst, uint32_t n,
                                  int odd, int32_t *T)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int64_t off = odd ? 0 : -1;  /* low k between high k+off, k+off+1 */
    const int64_t hoff = odd ? -1 : 0; /* high k between low k+hoff, k+hoff+1 */
    const uint32_t pairs = odd ? nh : nl;
    const __m256i two = _mm256_set1_epi32(2);
    uint32_t k = 0;
    for (; k < nl && (int64_t)k + off < 0; k++)
        T[k] = wsub(L[k], wadd(wadd(H[clamp_idx(k + off, nh)], H[clamp_idx(k + off + 1, nh)]), 2) >> 2);
    for (; k + 8 <= nl && (int64_t)k + off + 8 < (int64_t)nh; k += 8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(H + k + off)), b = _mm256_loadu_si256((const __m256i *)(H + k + off + 1));
        const __m256i s = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(a, b), two), 2);
        _mm256_storeu_si256((__m256i *)(T + k), _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(L + k)), s));
    }
    for (; k < nl; k++)
        T[k] = wsub(L[k], wadd(wadd(H[clamp_idx(k + off, nh)], H[clamp_idx(k + off + 1, nh)]), 2) >> 2);
    T[-1] = T[0];
    T[nl] = T[nl - 1];
    const int32_t *lm = T + hoff;
    k = 0;
    for (; k + 8 <= nh && k + 8 <= nl && 2 * k + 16 <= n; k += 8) {
        const __m256i a = _mm256_loadu_si256((const __m256i *)(lm + k)), b = _mm256_loadu_si256((const __m256i *)(lm + k + 1));
        const __m256i hv = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(H + k)), _mm256_srai_epi32(_mm256_add_epi32(a, b), 1));
        const __m256i lv = _mm256_loadu_si256((const __m256i *)(T + k));
        const __m256i first = odd ? hv : lv, second = odd ? lv : hv;
        _mm256_storeu_si256((__m256i *)(dst + 2 * k), interleave_lo(first, second));
        _mm256_storeu_si256((__m256i *)(dst + 2 * k + 8), interleave_hi(first, second));
    }
    for (; k < pairs; k++) {
        if (!odd) {
            dst[2 * k] = T[k];
            if (k < nh)
                dst[2 * k + 1] = wadd(H[k], wadd(lm[k], lm[k + 1]) >> 1);
        } else {
            dst[2 * k] = wadd(H[k], wadd(lm[k], lm[k + 1]) >> 1);
            if (k < nl)
                dst[2 * k + 1] = T[k];
        }
    }
}

static void idwt53_h_avx2(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                          void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    int32_t *T = align64_i(tmp) + 16;
    memset(T + nl, 0, 16 * sizeof(int32_t)); /* over-read lanes: defined */
    for (uint32_t y = 0; y < rows; y++) {
        int32_t *row = buf + (ptrdiff_t)y * stride;
        h53_row(row, row + nl, row, n, odd, T);
    }
}

/* The streamed DWT's vertical steps (HtcTransformDSP.idwt53_vlow, _vhigh). */
static void idwt53_vlow_avx2(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb,
                        size_t n)
{
    const __m256i two = _mm256_set1_epi32(2);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i s = _mm256_srai_epi32(_mm256_add_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(ha + i)), _mm256_loadu_si256((const __m256i *)(hb + i))), two), 2);
        _mm256_storeu_si256((__m256i *)(x + i), _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(l + i)), s));
    }
    for (; i < n; i++)
        x[i] = wsub(l[i], wadd(wadd(ha[i], hb[i]), 2) >> 2);
}

static void idwt53_vhigh_avx2(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb,
                         size_t n)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i s = _mm256_srai_epi32(_mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(la + i)), _mm256_loadu_si256((const __m256i *)(lb + i))), 1);
        _mm256_storeu_si256((__m256i *)(o + i), _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(h + i)), s));
    }
    for (; i < n; i++)
        o[i] = wadd(h[i], wadd(la[i], lb[i]) >> 1);
}

static void idwt53_hrow_avx2(const int32_t *lo, const int32_t *hi, int32_t *dst, uint32_t n,
                             int odd, void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    int32_t *T = align64_i(tmp) + 16;
    memset(T + nl, 0, 16 * sizeof(int32_t)); /* over-read lanes: defined */
    h53_row(lo, hi, dst, n, odd, T);
}

static ALWAYS_INLINE __m256i lane_mask(uint32_t rem)
{
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int32_t)rem), idx);
}

static ALWAYS_INLINE __m256i ld(const int32_t *p, int full, __m256i m)
{
    return full ? _mm256_loadu_si256((const __m256i *)p) : _mm256_maskload_epi32(p, m);
}

static ALWAYS_INLINE void st(int32_t *p, __m256i v, int full, __m256i m)
{
    if (full)
        _mm256_storeu_si256((__m256i *)p, v);
    else
        _mm256_maskstore_epi32(p, m, v);
}

/* One strip of sw columns (1..V53_STRIP): row by row, each row's part of
 * the strip as vectors of 8 (the last one masked when sw is not a multiple
 * of 8). Wide strips keep the strided row visits (TLB, cache lines) few. */
#define V53_STRIP HTC_DWT_LANES
static void idwt53_v_strip(int32_t *col, ptrdiff_t stride, uint32_t n, int odd, int32_t *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int32_t *hrow = col + (ptrdiff_t)nl * stride;
    const __m256i two = _mm256_set1_epi32(2);
    const uint32_t nfull = sw / 8, tail = sw % 8;
    const __m256i m = lane_mask(tail);
#define HROW(k) (hrow + (ptrdiff_t)(k) * stride)
#define ROW(k) (col + (ptrdiff_t)(k) * stride)
#define TROW(k) (t + (ptrdiff_t)(k) * V53_STRIP)
    /* Updated low rows into t. Even phase: low k between high k-1 and k;
     * odd phase: between high k and k+1 (mirrored at the ends). */
    for (uint32_t k = 0; k < nl; k++) {
        uint32_t a = odd ? k : (k ? k - 1 : 0), b = odd ? k + 1 : k;
        if (b >= nh)
            b = nh - 1;
        if (a >= nh)
            a = nh - 1;
        const int32_t *ha = HROW(a), *hb = HROW(b), *l = ROW(k);
        int32_t *o = TROW(k);
        for (uint32_t j = 0; j <= nfull; j++) {
            const int full = j < nfull;
            if (!full && !tail)
                break;
            const __m256i s = _mm256_srai_epi32(
                _mm256_add_epi32(_mm256_add_epi32(ld(ha + 8 * j, full, m), ld(hb + 8 * j, full, m)),
                                 two), 2);
            _mm256_store_si256((__m256i *)(o + 8 * j), _mm256_sub_epi32(ld(l + 8 * j, full, m), s));
        }
    }
    /* Updated high rows, written with the low rows in output order. Even
     * phase: high k between low k and k+1; odd: between low k-1 and k. */
    for (uint32_t k = 0; k < nh; k++) {
        uint32_t a = odd ? (k ? k - 1 : 0) : k, b = odd ? k : k + 1;
        if (a >= nl)
            a = nl - 1;
        if (b >= nl)
            b = nl - 1;
        const int32_t *la = TROW(a), *lb = TROW(b), *h = HROW(k);
        /* the low row that goes next to this high one, if any */
        const int32_t *lo = odd ? (k < nl ? TROW(k) : NULL) : TROW(k);
        int32_t *oh = ROW(odd ? 2 * k : 2 * k + 1), *ol = ROW(odd ? 2 * k + 1 : 2 * k);
        for (uint32_t j = 0; j <= nfull; j++) {
            const int full = j < nfull;
            if (!full && !tail)
                break;
            const __m256i sa = _mm256_load_si256((const __m256i *)(la + 8 * j));
            const __m256i sb = _mm256_load_si256((const __m256i *)(lb + 8 * j));
            const __m256i v = _mm256_add_epi32(ld(h + 8 * j, full, m),
                                               _mm256_srai_epi32(_mm256_add_epi32(sa, sb), 1));
            st(oh + 8 * j, v, full, m);
            if (lo)
                st(ol + 8 * j, _mm256_load_si256((const __m256i *)(lo + 8 * j)), full, m);
        }
    }
    if (!odd && nl > nh) {
        const int32_t *lo = TROW(nh);
        int32_t *ol = ROW(2 * nh);
        for (uint32_t j = 0; j <= nfull; j++) {
            const int full = j < nfull;
            if (!full && !tail)
                break;
            st(ol + 8 * j, _mm256_load_si256((const __m256i *)(lo + 8 * j)), full, m);
        }
    }
#undef HROW
#undef ROW
#undef TROW
}

static void idwt53_v_avx2(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                          void *tmp)
{
    int32_t *t = align64_i(tmp);
    for (uint32_t x = 0; x < cols; x += V53_STRIP)
        idwt53_v_strip(buf + x, stride, n, odd, t,
                       cols - x < V53_STRIP ? cols - x : V53_STRIP);
}

/* ---- 9/7 -------------------------------------------------------------- */

static inline __m256 interleave_lo_ps(__m256 a, __m256 b)
{
    return _mm256_castsi256_ps(interleave_lo(_mm256_castps_si256(a), _mm256_castps_si256(b)));
}

static inline __m256 interleave_hi_ps(__m256 a, __m256 b)
{
    return _mm256_castsi256_ps(interleave_hi(_mm256_castps_si256(a), _mm256_castps_si256(b)));
}

/* x[k] -= (nb[k] + nb[k+1]) * c for k in [0, count), 8 at a time. */
static ALWAYS_INLINE void lift_row(float *x, const float *nb, uint32_t count, float c)
{
    const __m256 cv = _mm256_set1_ps(c);
    for (uint32_t k = 0; k < count; k += 8) {
        const __m256 a = _mm256_loadu_ps(nb + k), b = _mm256_loadu_ps(nb + k + 1);
        const __m256 p = _mm256_mul_ps(_mm256_add_ps(a, b), cv);
        _mm256_storeu_ps(x + k, _mm256_sub_ps(_mm256_loadu_ps(x + k), p));
    }
}

static void idwt97_h_avx2(float *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                          void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    int32_t *Li, *Hi;
    row_parts(tmp, nl, &Li, &Hi);
    float *L = (float *)Li, *H = (float *)Hi;
    memset(L - 16, 0, (size_t)(H - L + 16 + ((nh + 15) & ~15u) + 32) * sizeof(float));
    const __m256 k = _mm256_set1_ps(HTC_DWT97_K), ik = _mm256_set1_ps(HTC_DWT97_INV_K);
    const __m256 ca = _mm256_set1_ps(HTC_DWT97_ALPHA);
    const uint32_t pairs = odd ? nh : nl;
    /* Neighbours: even phase, low k between high k-1, k; high k between
     * low k, k+1. Odd phase: low k between high k, k+1; high k between low
     * k-1, k. */
    const float *hm = odd ? H : H - 1;
    const float *lm = odd ? L - 1 : L;
    for (uint32_t y = 0; y < rows; y++) {
        float *row = buf + (ptrdiff_t)y * stride;
        /* scaled copies; only whole vectors are read from the row */
        uint32_t i = 0;
        for (; i + 8 <= nl; i += 8)
            _mm256_storeu_ps(L + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), k));
        for (; i < nl; i++)
            L[i] = row[i] * HTC_DWT97_K;
        for (i = 0; i + 8 <= nh; i += 8)
            _mm256_storeu_ps(H + i, _mm256_mul_ps(_mm256_loadu_ps(row + nl + i), ik));
        for (; i < nh; i++)
            H[i] = row[nl + i] * HTC_DWT97_INV_K;
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
        for (i = 0; i < pairs; i += 8) {
            const __m256 a = _mm256_loadu_ps(lm + i), b = _mm256_loadu_ps(lm + i + 1);
            const __m256 p = _mm256_mul_ps(_mm256_add_ps(a, b), ca);
            const __m256 hv = _mm256_sub_ps(_mm256_loadu_ps(H + i), p);
            const __m256 lv = _mm256_loadu_ps(L + i);
            const __m256 first = odd ? hv : lv, second = odd ? lv : hv;
            if (2 * i + 16 <= n) {
                _mm256_storeu_ps(row + 2 * i, interleave_lo_ps(first, second));
                _mm256_storeu_ps(row + 2 * i + 8, interleave_hi_ps(first, second));
            } else {
                float out[16];
                _mm256_storeu_ps(out, interleave_lo_ps(first, second));
                _mm256_storeu_ps(out + 8, interleave_hi_ps(first, second));
                memcpy(row + 2 * i, out, (n - 2 * i) * sizeof(float));
            }
        }
    }
}

static ALWAYS_INLINE __m256 ldf(const float *p, int full, __m256i m)
{
    return full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}

static ALWAYS_INLINE void stf(float *p, __m256 v, int full, __m256i m)
{
    if (full)
        _mm256_storeu_ps(p, v);
    else
        _mm256_maskstore_ps(p, m, v);
}

/* Strips of sw columns (1..V97_STRIP) for 9/7: the whole strip is kept in
 * t, low rows then high rows, V97_STRIP floats a row. */
#ifndef V97_STRIP
#define V97_STRIP 64
#endif
#define TROWF(k) (t + (size_t)(k) * V97_STRIP)


static void idwt97_v_strip(float *col, ptrdiff_t stride, uint32_t n, int odd, float *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const uint32_t nfull = sw / 8, tail = sw % 8, nvec = (sw + 7) / 8;
    const __m256i m = lane_mask(tail);
    const __m256 k = _mm256_set1_ps(HTC_DWT97_K), ik = _mm256_set1_ps(HTC_DWT97_INV_K);
    for (uint32_t r = 0; r < n; r++) {
        const float *src = col + (ptrdiff_t)r * stride;
        float *d = TROWF(r);
        const __m256 s = r < nl ? k : ik;
        for (uint32_t j = 0; j < nvec; j++)
            _mm256_store_ps(d + 8 * j, _mm256_mul_ps(ldf(src + 8 * j, j < nfull, m), s));
    }
    /* The four lifting steps in one sweep over the rows, each step lagging
     * the one it depends on: at sweep j, delta on low j, gamma on high j-1,
     * beta on low j-2 (final: written out), alpha on high j-3 (written out).
     * Even phase: low k between high k-1, k; high k between low k, k+1.
     * Odd phase: low k between high k, k+1; high k between low k-1, k.
     * Mirrored neighbours are clamped indices; the lags keep every read row
     * in the state the step needs (checked against the C version). */
    const int64_t lo_off = odd ? 0 : -1, hi_off = odd ? -1 : 0;
    const int64_t nlv = nl, nhv = nh, end = (nlv > nhv ? nlv : nhv) + 3;
    const __m256 cd = _mm256_set1_ps(HTC_DWT97_DELTA), cg = _mm256_set1_ps(HTC_DWT97_GAMMA);
    const __m256 cb = _mm256_set1_ps(HTC_DWT97_BETA), ca = _mm256_set1_ps(HTC_DWT97_ALPHA);
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
#define CL(i, cnt) ((uint32_t)((i) < 0 ? 0 : (i) >= (int64_t)(cnt) ? (int64_t)(cnt) - 1 : (i)))
    for (int64_t jj = 0; jj < end; jj++) {
        int64_t kk = jj;
        if (kk < nlv) {
            const float *a = TROWF(nl + CL(kk + lo_off, nh)), *b = TROWF(nl + CL(kk + lo_off + 1, nh));
            float *x = TROWF(kk);
            for (uint32_t j = 0; j < nvec; j++)
                _mm256_store_ps(x + 8 * j, _mm256_sub_ps(_mm256_load_ps(x + 8 * j),
                    _mm256_mul_ps(_mm256_add_ps(_mm256_load_ps(a + 8 * j), _mm256_load_ps(b + 8 * j)), cd)));
        }
        kk = jj - 1;
        if (kk >= 0 && kk < nhv) {
            const float *a = TROWF(CL(kk + hi_off, nl)), *b = TROWF(CL(kk + hi_off + 1, nl));
            float *x = TROWF(nl + kk);
            for (uint32_t j = 0; j < nvec; j++)
                _mm256_store_ps(x + 8 * j, _mm256_sub_ps(_mm256_load_ps(x + 8 * j),
                    _mm256_mul_ps(_mm256_add_ps(_mm256_load_ps(a + 8 * j), _mm256_load_ps(b + 8 * j)), cg)));
        }
        kk = jj - 2;
        if (kk >= 0 && kk < nlv) {
            const float *a = TROWF(nl + CL(kk + lo_off, nh)), *b = TROWF(nl + CL(kk + lo_off + 1, nh));
            float *x = TROWF(kk);
            float *o = col + (ptrdiff_t)(lo0 + 2 * kk) * stride;
            for (uint32_t j = 0; j < nvec; j++) {
                _mm256_store_ps(x + 8 * j, _mm256_sub_ps(_mm256_load_ps(x + 8 * j),
                    _mm256_mul_ps(_mm256_add_ps(_mm256_load_ps(a + 8 * j), _mm256_load_ps(b + 8 * j)), cb)));
                stf(o + 8 * j, _mm256_load_ps(x + 8 * j), j < nfull, m);
            }
        }
        kk = jj - 3;
        if (kk >= 0 && kk < nhv) {
            const float *a = TROWF(CL(kk + hi_off, nl)), *b = TROWF(CL(kk + hi_off + 1, nl));
            const float *x = TROWF(nl + kk);
            float *o = col + (ptrdiff_t)(hi0 + 2 * kk) * stride;
            for (uint32_t j = 0; j < nvec; j++) {
                const __m256 v = _mm256_sub_ps(_mm256_load_ps(x + 8 * j),
                    _mm256_mul_ps(_mm256_add_ps(_mm256_load_ps(a + 8 * j), _mm256_load_ps(b + 8 * j)), ca));
                stf(o + 8 * j, v, j < nfull, m);
            }
        }
    }
#undef CL
}
#undef TROWF

static void idwt97_v_avx2(float *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                          void *tmp)
{
    float *t = (float *)align64_i(tmp);
    for (uint32_t x = 0; x < cols; x += V97_STRIP)
        idwt97_v_strip(buf + x, stride, n, odd, t, cols - x < V97_STRIP ? cols - x : V97_STRIP);
}

void htc_dwt_init_avx2(HtcTransformDSP *dsp)
{
    dsp->idwt53_h = idwt53_h_avx2;
    dsp->idwt53_hrow = idwt53_hrow_avx2;
    dsp->idwt53_vlow = idwt53_vlow_avx2;
    dsp->idwt53_vhigh = idwt53_vhigh_avx2;
    dsp->idwt53_v = idwt53_v_avx2;
    dsp->idwt97_h = idwt97_h_avx2;
    dsp->idwt97_v = idwt97_v_avx2;
}
