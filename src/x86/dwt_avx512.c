/* htcodec: inverse DWT kernels, AVX-512 (F, BW, VL, DQ): the AVX2 design
 * (src/x86/dwt_avx2.c) with 16 lanes and mask registers for the tails.
 * Same results as src/transform/dwt53.c and dwt97.c, bit for bit. */
#include <immintrin.h>
#include <string.h>

#include "transform/transform.h"

static inline int32_t *align64_i(void *p)
{
    return (int32_t *)(((uintptr_t)p + 63) & ~(uintptr_t)63);
}

/* Scratch for a row: low part and high part, each with 16 elements before
 * it and room for 17-sample over-reads after it. */
static inline void row_parts(void *tmp, uint32_t nl, int32_t **lo, int32_t **hi)
{
    int32_t *t = align64_i(tmp);
    *lo = t + 16;
    *hi = *lo + ((nl + 15) & ~15u) + 32;
}

static inline __mmask16 tail_mask(uint32_t rem) { return (__mmask16)((1u << rem) - 1); }

/* (a0 b0 a1 b1 ... a7 b7), (a8 b8 ... a15 b15) */
static inline __m512i ilv_lo(__m512i a, __m512i b)
{
    const __m512i idx = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    return _mm512_permutex2var_epi32(a, idx, b);
}

static inline __m512i ilv_hi(__m512i a, __m512i b)
{
    const __m512i idx =
        _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    return _mm512_permutex2var_epi32(a, idx, b);
}

/* Writes 32 interleaved samples at out, or only the first `count`. */
static inline void store_pairs(int32_t *out, __m512i first, __m512i second, uint32_t count)
{
    const __m512i a = ilv_lo(first, second), b = ilv_hi(first, second);
    if (count >= 32) {
        _mm512_storeu_si512(out, a);
        _mm512_storeu_si512(out + 16, b);
    } else if (count > 16) {
        _mm512_storeu_si512(out, a);
        _mm512_mask_storeu_epi32(out + 16, tail_mask(count - 16), b);
    } else {
        _mm512_mask_storeu_epi32(out, tail_mask(count), a);
    }
}

/* ---- 5/3 -------------------------------------------------------------- */

static inline int32_t wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t wsub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }
static inline uint32_t clamp_idx(int64_t i, uint32_t cnt)
{
    return (uint32_t)(i < 0 ? 0 : i >= (int64_t)cnt ? (int64_t)cnt - 1 : i);
}

/* The row is read where it lies: the low half and the high half, 16 samples
 * at a time; the updated low samples go to the scratch (with a mirrored one
 * on each side), and the second step writes the row interleaved, in place or
 * into another row apart from both halves (h53_row: L, H, dst). In place, a
 * chunk's output [2k, 2k + 32) never reaches a high sample still to be read
 * (nl + k + 16 onwards) while k + 16 <= nl. Ends and tails are scalar. */
static inline __attribute__((always_inline)) void h53_row(const int32_t *L, const int32_t *H,
                                                          int32_t *dst, uint32_t n, int odd,
                                                          int32_t *T)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int64_t off = odd ? 0 : -1;  /* low k between high k+off, k+off+1 */
    const int64_t hoff = odd ? -1 : 0; /* high k between low k+hoff, k+hoff+1 */
    const uint32_t pairs = odd ? nh : nl;
    const __m512i two = _mm512_set1_epi32(2);
    uint32_t k = 0;
    for (; k < nl && (int64_t)k + off < 0; k++)
        T[k] = wsub(L[k], wadd(wadd(H[clamp_idx(k + off, nh)], H[clamp_idx(k + off + 1, nh)]), 2) >> 2);
    for (; k + 16 <= nl && (int64_t)k + off + 16 < (int64_t)nh; k += 16) {
        const __m512i a = _mm512_loadu_si512(H + k + off), b = _mm512_loadu_si512(H + k + off + 1);
        const __m512i s = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(a, b), two), 2);
        _mm512_storeu_si512(T + k, _mm512_sub_epi32(_mm512_loadu_si512(L + k), s));
    }
    for (; k < nl; k++)
        T[k] = wsub(L[k], wadd(wadd(H[clamp_idx(k + off, nh)], H[clamp_idx(k + off + 1, nh)]), 2) >> 2);
    T[-1] = T[0];
    T[nl] = T[nl - 1];
    const int32_t *lm = T + hoff;
    k = 0;
    for (; k + 16 <= nh && k + 16 <= nl && 2 * k + 32 <= n; k += 16) {
        const __m512i a = _mm512_loadu_si512(lm + k), b = _mm512_loadu_si512(lm + k + 1);
        const __m512i hv = _mm512_add_epi32(_mm512_loadu_si512(H + k), _mm512_srai_epi32(_mm512_add_epi32(a, b), 1));
        const __m512i lv = _mm512_loadu_si512(T + k);
        const __m512i first = odd ? hv : lv, second = odd ? lv : hv;
        _mm512_storeu_si512(dst + 2 * k, ilv_lo(first, second));
        _mm512_storeu_si512(dst + 2 * k + 16, ilv_hi(first, second));
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

static void idwt53_h_avx512(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                          void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    int32_t *T = align64_i(tmp) + 16;
    memset(T + nl, 0, 32 * sizeof(int32_t)); /* over-read lanes: defined */
    for (uint32_t y = 0; y < rows; y++) {
        int32_t *row = buf + (ptrdiff_t)y * stride;
        h53_row(row, row + nl, row, n, odd, T);
    }
}

/* The streamed DWT's vertical steps (HtcTransformDSP.idwt53_vlow, _vhigh). */
static void idwt53_vlow_avx512(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb,
                        size_t n)
{
    const __m512i two = _mm512_set1_epi32(2);
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i s = _mm512_srai_epi32(_mm512_add_epi32(_mm512_add_epi32(_mm512_loadu_si512(ha + i), _mm512_loadu_si512(hb + i)), two), 2);
        _mm512_storeu_si512(x + i, _mm512_sub_epi32(_mm512_loadu_si512(l + i), s));
    }
    for (; i < n; i++)
        x[i] = wsub(l[i], wadd(wadd(ha[i], hb[i]), 2) >> 2);
}

static void idwt53_vhigh_avx512(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb,
                         size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512i s = _mm512_srai_epi32(_mm512_add_epi32(_mm512_loadu_si512(la + i), _mm512_loadu_si512(lb + i)), 1);
        _mm512_storeu_si512(o + i, _mm512_add_epi32(_mm512_loadu_si512(h + i), s));
    }
    for (; i < n; i++)
        o[i] = wadd(h[i], wadd(la[i], lb[i]) >> 1);
}

static void idwt53_hrow_avx512(const int32_t *lo, const int32_t *hi, int32_t *dst, uint32_t n,
                               int odd, void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    int32_t *T = align64_i(tmp) + 16;
    memset(T + nl, 0, 32 * sizeof(int32_t)); /* over-read lanes: defined */
    h53_row(lo, hi, dst, n, odd, T);
}

/* Strips of sw (1..STRIP) columns, as the AVX2 version. */
#define STRIP HTC_DWT_LANES
#define HROW(k) (hrow + (ptrdiff_t)(k) * stride)
#define ROW(k) (col + (ptrdiff_t)(k) * stride)
#define TROW(k) (t + (ptrdiff_t)(k) * STRIP)

static inline __m512i ldm(const int32_t *p, uint32_t j, uint32_t nfull, __mmask16 m)
{
    return j < nfull ? _mm512_loadu_si512(p + 16 * j) : _mm512_maskz_loadu_epi32(m, p + 16 * j);
}

static inline void stm(int32_t *p, uint32_t j, uint32_t nfull, __mmask16 m, __m512i v)
{
    if (j < nfull)
        _mm512_storeu_si512(p + 16 * j, v);
    else
        _mm512_mask_storeu_epi32(p + 16 * j, m, v);
}

static void idwt53_v_strip(int32_t *col, ptrdiff_t stride, uint32_t n, int odd, int32_t *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int32_t *hrow = col + (ptrdiff_t)nl * stride;
    const __m512i two = _mm512_set1_epi32(2);
    const uint32_t nfull = sw / 16, nvec = (sw + 15) / 16;
    const __mmask16 m = tail_mask(sw % 16);
    for (uint32_t k = 0; k < nl; k++) {
        uint32_t a = odd ? k : (k ? k - 1 : 0), b = odd ? k + 1 : k;
        a = a < nh ? a : nh - 1;
        b = b < nh ? b : nh - 1;
        const int32_t *ha = HROW(a), *hb = HROW(b), *l = ROW(k);
        int32_t *o = TROW(k);
        for (uint32_t j = 0; j < nvec; j++) {
            const __m512i s = _mm512_srai_epi32(
                _mm512_add_epi32(_mm512_add_epi32(ldm(ha, j, nfull, m), ldm(hb, j, nfull, m)), two),
                2);
            _mm512_store_si512(o + 16 * j, _mm512_sub_epi32(ldm(l, j, nfull, m), s));
        }
    }
    for (uint32_t k = 0; k < nh; k++) {
        uint32_t a = odd ? (k ? k - 1 : 0) : k, b = odd ? k : k + 1;
        a = a < nl ? a : nl - 1;
        b = b < nl ? b : nl - 1;
        const int32_t *la = TROW(a), *lb = TROW(b), *h = HROW(k);
        const int32_t *lo = odd ? (k < nl ? TROW(k) : NULL) : TROW(k);
        int32_t *oh = ROW(odd ? 2 * k : 2 * k + 1), *ol = ROW(odd ? 2 * k + 1 : 2 * k);
        for (uint32_t j = 0; j < nvec; j++) {
            const __m512i s = _mm512_add_epi32(_mm512_load_si512(la + 16 * j),
                                               _mm512_load_si512(lb + 16 * j));
            stm(oh, j, nfull, m, _mm512_add_epi32(ldm(h, j, nfull, m), _mm512_srai_epi32(s, 1)));
            if (lo)
                stm(ol, j, nfull, m, _mm512_load_si512(lo + 16 * j));
        }
    }
    if (!odd && nl > nh)
        for (uint32_t j = 0; j < nvec; j++)
            stm(ROW(2 * nh), j, nfull, m, _mm512_load_si512(TROW(nh) + 16 * j));
}

static void idwt53_v_avx512(int32_t *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                            void *tmp)
{
    int32_t *t = align64_i(tmp);
    for (uint32_t x = 0; x < cols; x += STRIP)
        idwt53_v_strip(buf + x, stride, n, odd, t, cols - x < STRIP ? cols - x : STRIP);
}

/* ---- 9/7 -------------------------------------------------------------- */

static inline void lift_row(float *x, const float *nb, uint32_t count, float c)
{
    const __m512 cv = _mm512_set1_ps(c);
    for (uint32_t k = 0; k < count; k += 16) {
        const __m512 p = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(nb + k),
                                                     _mm512_loadu_ps(nb + k + 1)), cv);
        _mm512_storeu_ps(x + k, _mm512_sub_ps(_mm512_loadu_ps(x + k), p));
    }
}

static void idwt97_h_avx512(float *buf, ptrdiff_t stride, uint32_t n, uint32_t rows, int odd,
                            void *tmp)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    int32_t *Li, *Hi;
    row_parts(tmp, nl, &Li, &Hi);
    float *L = (float *)Li, *H = (float *)Hi;
    memset(L - 16, 0, (size_t)(H - L + 16 + ((nh + 15) & ~15u) + 32) * sizeof(float));
    const __m512 k = _mm512_set1_ps(HTC_DWT97_K), ik = _mm512_set1_ps(HTC_DWT97_INV_K);
    const __m512 ca = _mm512_set1_ps(HTC_DWT97_ALPHA);
    const uint32_t pairs = odd ? nh : nl;
    const float *hm = odd ? H : H - 1;
    const float *lm = odd ? L - 1 : L;
    for (uint32_t y = 0; y < rows; y++) {
        float *row = buf + (ptrdiff_t)y * stride;
        /* scaled copies, the last vector masked */
        for (uint32_t i = 0; i < nl; i += 16) {
            const __mmask16 m = nl - i >= 16 ? 0xffff : tail_mask(nl - i);
            _mm512_mask_storeu_ps(L + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + i), k));
        }
        for (uint32_t i = 0; i < nh; i += 16) {
            const __mmask16 m = nh - i >= 16 ? 0xffff : tail_mask(nh - i);
            _mm512_mask_storeu_ps(H + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, row + nl + i), ik));
        }
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
        for (uint32_t i = 0; i < pairs; i += 16) {
            const __m512 p = _mm512_mul_ps(_mm512_add_ps(_mm512_loadu_ps(lm + i),
                                                         _mm512_loadu_ps(lm + i + 1)), ca);
            const __m512i hv = _mm512_castps_si512(_mm512_sub_ps(_mm512_loadu_ps(H + i), p));
            const __m512i lv = _mm512_castps_si512(_mm512_loadu_ps(L + i));
            store_pairs((int32_t *)row + 2 * i, odd ? hv : lv, odd ? lv : hv, n - 2 * i);
        }
    }
}

#define TROWF(k) (t + (size_t)(k) * STRIP)

static inline __m512 ldmf(const float *p, uint32_t j, uint32_t nfull, __mmask16 m)
{
    return j < nfull ? _mm512_loadu_ps(p + 16 * j) : _mm512_maskz_loadu_ps(m, p + 16 * j);
}

static inline void stmf(float *p, uint32_t j, uint32_t nfull, __mmask16 m, __m512 v)
{
    if (j < nfull)
        _mm512_storeu_ps(p + 16 * j, v);
    else
        _mm512_mask_storeu_ps(p + 16 * j, m, v);
}


static void idwt97_v_strip(float *col, ptrdiff_t stride, uint32_t n, int odd, float *t,
                           uint32_t sw)
{
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const uint32_t nfull = sw / 16, nvec = (sw + 15) / 16;
    const __mmask16 m = tail_mask(sw % 16);
    const __m512 k = _mm512_set1_ps(HTC_DWT97_K), ik = _mm512_set1_ps(HTC_DWT97_INV_K);
    for (uint32_t r = 0; r < n; r++) {
        const float *src = col + (ptrdiff_t)r * stride;
        float *d = TROWF(r);
        const __m512 s = r < nl ? k : ik;
        for (uint32_t j = 0; j < nvec; j++)
            _mm512_store_ps(d + 16 * j, _mm512_mul_ps(ldmf(src, j, nfull, m), s));
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
    const __m512 cd = _mm512_set1_ps(HTC_DWT97_DELTA), cg = _mm512_set1_ps(HTC_DWT97_GAMMA);
    const __m512 cb = _mm512_set1_ps(HTC_DWT97_BETA), ca = _mm512_set1_ps(HTC_DWT97_ALPHA);
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
#define CL(i, cnt) ((uint32_t)((i) < 0 ? 0 : (i) >= (int64_t)(cnt) ? (int64_t)(cnt) - 1 : (i)))
    for (int64_t jj = 0; jj < end; jj++) {
        int64_t kk = jj;
        if (kk < nlv) {
            const float *a = TROWF(nl + CL(kk + lo_off, nh)), *b = TROWF(nl + CL(kk + lo_off + 1, nh));
            float *x = TROWF(kk);
            for (uint32_t j = 0; j < nvec; j++)
                _mm512_store_ps(x + 16 * j, _mm512_sub_ps(_mm512_load_ps(x + 16 * j),
                    _mm512_mul_ps(_mm512_add_ps(_mm512_load_ps(a + 16 * j), _mm512_load_ps(b + 16 * j)), cd)));
        }
        kk = jj - 1;
        if (kk >= 0 && kk < nhv) {
            const float *a = TROWF(CL(kk + hi_off, nl)), *b = TROWF(CL(kk + hi_off + 1, nl));
            float *x = TROWF(nl + kk);
            for (uint32_t j = 0; j < nvec; j++)
                _mm512_store_ps(x + 16 * j, _mm512_sub_ps(_mm512_load_ps(x + 16 * j),
                    _mm512_mul_ps(_mm512_add_ps(_mm512_load_ps(a + 16 * j), _mm512_load_ps(b + 16 * j)), cg)));
        }
        kk = jj - 2;
        if (kk >= 0 && kk < nlv) {
            const float *a = TROWF(nl + CL(kk + lo_off, nh)), *b = TROWF(nl + CL(kk + lo_off + 1, nh));
            float *x = TROWF(kk);
            float *o = col + (ptrdiff_t)(lo0 + 2 * kk) * stride;
            for (uint32_t j = 0; j < nvec; j++) {
                _mm512_store_ps(x + 16 * j, _mm512_sub_ps(_mm512_load_ps(x + 16 * j),
                    _mm512_mul_ps(_mm512_add_ps(_mm512_load_ps(a + 16 * j), _mm512_load_ps(b + 16 * j)), cb)));
                stmf(o, j, nfull, m, _mm512_load_ps(x + 16 * j));
            }
        }
        kk = jj - 3;
        if (kk >= 0 && kk < nhv) {
            const float *a = TROWF(CL(kk + hi_off, nl)), *b = TROWF(CL(kk + hi_off + 1, nl));
            const float *x = TROWF(nl + kk);
            float *o = col + (ptrdiff_t)(hi0 + 2 * kk) * stride;
            for (uint32_t j = 0; j < nvec; j++) {
                const __m512 v = _mm512_sub_ps(_mm512_load_ps(x + 16 * j),
                    _mm512_mul_ps(_mm512_add_ps(_mm512_load_ps(a + 16 * j), _mm512_load_ps(b + 16 * j)), ca));
                stmf(o, j, nfull, m, v);
            }
        }
    }
#undef CL
}

static void idwt97_v_avx512(float *buf, ptrdiff_t stride, uint32_t n, uint32_t cols, int odd,
                            void *tmp)
{
    float *t = (float *)align64_i(tmp);
    for (uint32_t x = 0; x < cols; x += STRIP)
        idwt97_v_strip(buf + x, stride, n, odd, t, cols - x < STRIP ? cols - x : STRIP);
}

void htc_dwt_init_avx512(HtcTransformDSP *dsp)
{
    dsp->idwt53_h = idwt53_h_avx512;
    dsp->idwt53_hrow = idwt53_hrow_avx512;
    dsp->idwt53_vlow = idwt53_vlow_avx512;
    dsp->idwt53_vhigh = idwt53_vhigh_avx512;
    dsp->idwt53_v = idwt53_v_avx512;
    dsp->idwt97_h = idwt97_h_avx512;
    dsp->idwt97_v = idwt97_v_avx512;
}
