/* Inverse DWT kernels, checkasm-style: a forward transform written here
 * (F.4) + the inverse must give the input back (5/3 exactly, 9/7 within a
 * small tolerance) for many geometries and levels, and every SIMD table must
 * give the plain C table's output bit for bit, on random and extreme data.
 * `test_dwt --bench` prints ns/sample for each table. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "test.h"
#include "transform/transform.h"

#define TV_SEED 0x9e3779b97f4a7c15ull
#include "transform_variants.h"

/* ---- forward transforms (F.4), plain and slow ---- */
static uint32_t mirror(int64_t j, uint32_t n)
{
    /* PSE over [0, n), n >= 2 */
    const int64_t period = 2 * ((int64_t)n - 1);
    j %= period;
    if (j < 0)
        j += period;
    return (uint32_t)(j < n ? j : period - j);
}

static void fwd53_line(int32_t *x, uint32_t n, int odd)
{
    int32_t y[4096 + 8];
    if (n == 1) {
        if (odd)
            x[0] *= 2;
        return;
    }
    memcpy(y, x, n * sizeof(int32_t));
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 1)
            y[j] = x[j] - ((x[mirror((int64_t)j - 1, n)] + x[mirror(j + 1, n)]) >> 1);
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 0)
            y[j] = x[j] + ((y[mirror((int64_t)j - 1, n)] + y[mirror(j + 1, n)] + 2) >> 2);
    /* deinterleave: even positions (low) first */
    uint32_t o = 0;
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 0)
            x[o++] = y[j];
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 1)
            x[o++] = y[j];
}

static void fwd97_line(float *xf, uint32_t n, int odd)
{
    double x[4096 + 8];
    if (n == 1) {
        if (odd)
            xf[0] *= 2.0f;
        return;
    }
    for (uint32_t j = 0; j < n; j++)
        x[j] = xf[j];
    const double a = -1.586134342059924, b = -0.052980118572961, g = 0.882911075530934,
                 d = 0.443506852043971, K = 1.230174104914001;
    /* The high band's scale: the inverse of the decoder's 1/K (OpenJPEG's
     * 13318/16384, see transform.h), so that the round trip is exact up to
     * float rounding; with the exact K it is off by 3.3e-5 relative. */
    const double KH = 1.0 / (double)HTC_DWT97_INV_K;
    const double c[4] = { a, b, g, d };
    for (int s = 0; s < 4; s++) {
        const int par = (s & 1) ? 0 : 1; /* alpha, gamma: odd; beta, delta: even */
        for (uint32_t j = 0; j < n; j++)
            if (((j + odd) & 1) == (uint32_t)par)
                x[j] += c[s] * (x[mirror((int64_t)j - 1, n)] + x[mirror(j + 1, n)]);
    }
    uint32_t o = 0;
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 0)
            xf[o++] = (float)(x[j] / K);
    for (uint32_t j = 0; j < n; j++)
        if (((j + odd) & 1) == 1)
            xf[o++] = (float)(x[j] * KH);
}

static void fwd53_2d(int32_t *buf, ptrdiff_t stride, const HtcRect *res, uint32_t nl)
{
    int32_t col[4096 + 8];
    for (uint32_t r = nl; r >= 1; r--) {
        const HtcRect *rc = &res[r];
        const uint32_t w = rc->x1 - rc->x0, h = rc->y1 - rc->y0;
        if (!w || !h)
            continue;
        for (uint32_t x = 0; x < w; x++) {
            for (uint32_t y = 0; y < h; y++)
                col[y] = buf[y * stride + x];
            fwd53_line(col, h, rc->y0 & 1);
            for (uint32_t y = 0; y < h; y++)
                buf[y * stride + x] = col[y];
        }
        for (uint32_t y = 0; y < h; y++)
            fwd53_line(buf + y * stride, w, rc->x0 & 1);
    }
}

static void fwd97_2d(float *buf, ptrdiff_t stride, const HtcRect *res, uint32_t nl)
{
    float col[4096 + 8];
    for (uint32_t r = nl; r >= 1; r--) {
        const HtcRect *rc = &res[r];
        const uint32_t w = rc->x1 - rc->x0, h = rc->y1 - rc->y0;
        if (!w || !h)
            continue;
        for (uint32_t x = 0; x < w; x++) {
            for (uint32_t y = 0; y < h; y++)
                col[y] = buf[y * stride + x];
            fwd97_line(col, h, rc->y0 & 1);
            for (uint32_t y = 0; y < h; y++)
                buf[y * stride + x] = col[y];
        }
        for (uint32_t y = 0; y < h; y++)
            fwd97_line(buf + y * stride, w, rc->x0 & 1);
    }
}

/* res[0..nl] of a tile-component (B.5). */
static void make_res(HtcRect *res, uint32_t x0, uint32_t y0, uint32_t x1, uint32_t y1, uint32_t nl)
{
    for (uint32_t r = 0; r <= nl; r++) {
        const uint32_t s = nl - r;
        const uint64_t d = (uint64_t)1 << s;
        res[r].x0 = (uint32_t)((x0 + d - 1) >> s);
        res[r].y0 = (uint32_t)((y0 + d - 1) >> s);
        res[r].x1 = (uint32_t)((x1 + d - 1) >> s);
        res[r].y1 = (uint32_t)((y1 + d - 1) >> s);
    }
}

static void check_geometry_helpers(void)
{
    for (int i = 0; i < 2000; i++) {
        const uint32_t x0 = rnd() % 5000, y0 = rnd() % 5000, nl = rnd() % 33;
        const uint32_t x1 = x0 + rnd() % 3000, y1 = y0 + rnd() % 3000;
        HtcRect a[33], b[33];
        make_res(a, x0, y0, x1, y1, nl);
        htc_dwt_resolutions(x0, y0, x1, y1, nl, b);
        CHECK(memcmp(a, b, sizeof(HtcRect) * (nl + 1)) == 0);
        for (uint32_t r = 1; r <= nl; r++) {
            /* B.5 band sizes: low ceil(x1/2) - ceil(x0/2), high floor - floor */
            const HtcRect hl = htc_dwt_band_rect(b, r, 1), lh = htc_dwt_band_rect(b, r, 2);
            const HtcRect hh = htc_dwt_band_rect(b, r, 3);
            const uint32_t lw = (b[r].x1 + 1) / 2 - (b[r].x0 + 1) / 2;
            const uint32_t hw = b[r].x1 / 2 - b[r].x0 / 2;
            const uint32_t lhh = (b[r].y1 + 1) / 2 - (b[r].y0 + 1) / 2;
            const uint32_t hhh = b[r].y1 / 2 - b[r].y0 / 2;
            CHECK(hl.x0 == lw && hl.x1 - hl.x0 == hw && hl.y0 == 0 && hl.y1 == lhh);
            CHECK(lh.x0 == 0 && lh.x1 == lw && lh.y0 == lhh && lh.y1 - lh.y0 == hhh);
            CHECK(hh.x0 == lw && hh.y0 == lhh && hh.x1 - hh.x0 == hw && hh.y1 - hh.y0 == hhh);
        }
    }
}

static void *scratch_for(const HtcRect *res, uint32_t nl)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, htc_idwt_scratch_size(res, nl)))
        abort();
    return p;
}

/* ---- checks ---- */
static void check_known_values(void)
{
    int32_t in[4], out[4];
    /* n = 2, even: X0 = 10 - ((4 + 4 + 2) >> 2) = 8, X1 = 4 + ((8 + 8) >> 1) = 12 */
    in[0] = 10, in[1] = 4;
    htc_idwt53_line(in, out, 2, 0);
    CHECK_EQ_INT(out[0], 8);
    CHECK_EQ_INT(out[1], 12);
    /* n = 2, odd: high first. L0 = 10 - ((4 + 4 + 2) >> 2) = 8 at out[1],
     * H0 = 4 + ((8 + 8) >> 1) = 12 at out[0] */
    htc_idwt53_line(in, out, 2, 1);
    CHECK_EQ_INT(out[0], 12);
    CHECK_EQ_INT(out[1], 8);
    /* n = 1 at an odd coordinate: Y / 2, truncating (F.3.7, as OpenJPEG) */
    in[0] = -7;
    htc_idwt53_line(in, out, 1, 1);
    CHECK_EQ_INT(out[0], -3);
    htc_idwt53_line(in, out, 1, 0);
    CHECK_EQ_INT(out[0], -7);
    /* n = 3, even: L = {1, 5}, H = {2}:
     * X0 = 1 - ((2+2+2)>>2) = 0, X2 = 5 - ((2+2+2)>>2) = 4, X1 = 2 + ((0+4)>>1) = 4 */
    in[0] = 1, in[1] = 5, in[2] = 2;
    htc_idwt53_line(in, out, 3, 0);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(out[1], 4);
    CHECK_EQ_INT(out[2], 4);
    /* 9/7, length 1: even unchanged, odd halved. A constant low band with
     * zero highs is a constant signal (the analysis low-pass has DC gain 1
     * in the standard's normalisation, so synthesis gives the same value). */
    float fi[8], fo[8];
    fi[0] = 3.0f;
    htc_idwt97_line(fi, fo, 1, 1);
    CHECK(fo[0] == 1.5f);
    htc_idwt97_line(fi, fo, 1, 0);
    CHECK(fo[0] == 3.0f);
    for (int i = 0; i < 4; i++)
        fi[i] = 100.0f, fi[4 + i] = 0.0f;
    htc_idwt97_line(fi, fo, 8, 0);
    for (int i = 0; i < 8; i++)
        CHECK(fabsf(fo[i] - 100.0f) < 1e-3f);
}

typedef enum { DATA_RANDOM, DATA_SMALL, DATA_EXTREME } DataKind;

static int32_t rnd_i32(DataKind k)
{
    switch (k) {
    case DATA_SMALL: return (int32_t)(rnd() % 65536) - 32768;
    case DATA_EXTREME: {
        const uint32_t c = rnd() % 4;
        return c == 0 ? INT32_MIN : c == 1 ? INT32_MAX : c == 2 ? 0 : (int32_t)rnd() ^ (int32_t)(rnd() << 16);
    }
    default: return (int32_t)((rnd() << 16) ^ rnd());
    }
}

static float rnd_f32(DataKind k)
{
    switch (k) {
    case DATA_SMALL: return (float)((int32_t)(rnd() % 65536) - 32768) * 0.37f;
    case DATA_EXTREME: {
        const uint32_t c = rnd() % 4;
        return c == 0 ? -3.0e38f : c == 1 ? 3.0e38f : c == 2 ? 0.0f : (float)(int32_t)rnd();
    }
    default: return (float)(int32_t)((rnd() << 16) ^ rnd()) * 1e-3f;
    }
}

static int same_f32(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    uint32_t ua, ub;
    memcpy(&ua, &a, 4);
    memcpy(&ub, &b, 4);
    return ua == ub;
}

/* The level-part functions, with the passes cut into random ranges. */
static void split_ranges(uint32_t n, uint32_t *cut)
{
    cut[0] = 0;
    cut[3] = n;
    cut[1] = n ? rnd() % (n + 1) : 0;
    cut[2] = cut[1] + (n - cut[1] ? rnd() % (n - cut[1] + 1) : 0);
}

static void idwt_split(const HtcTransformDSP *dsp, void *buf, ptrdiff_t stride,
                       const HtcRect *res, uint32_t nl, void *tmp, int irr)
{
    for (uint32_t r = 1; r <= nl; r++) {
        const HtcRect *rc = &res[r];
        uint32_t cut[4];
        split_ranges(rc->y1 - rc->y0, cut);
        for (int i = 0; i < 3; i++)
            if (irr)
                htc_idwt97_level_h(dsp, buf, stride, rc, cut[i], cut[i + 1], tmp);
            else
                htc_idwt53_level_h(dsp, buf, stride, rc, cut[i], cut[i + 1], tmp);
        split_ranges(rc->x1 - rc->x0, cut);
        for (int i = 0; i < 3; i++)
            if (irr)
                htc_idwt97_level_v(dsp, buf, stride, rc, cut[i], cut[i + 1], tmp);
            else
                htc_idwt53_level_v(dsp, buf, stride, rc, cut[i], cut[i + 1], tmp);
    }
}

/* One geometry: round trips, then every table against C on the same data. */
static void check_geometry(uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint32_t nl,
                           DataKind kind)
{
    HtcRect res[33];
    make_res(res, x0, y0, x0 + w, y0 + h, nl);
    const ptrdiff_t stride = w + (rnd() % 3) * 7; /* strides past the width */
    const size_t count = (size_t)stride * h + 16;
    int32_t *orig = malloc(count * 4), *coef = malloc(count * 4), *out = malloc(count * 4);
    float *forig = malloc(count * 4), *fcoef = malloc(count * 4), *fout = malloc(count * 4);
    void *tmp = scratch_for(res, nl);
    for (size_t i = 0; i < count; i++) {
        orig[i] = (int32_t)(rnd() % 65536) - 32768;
        forig[i] = (float)((int32_t)(rnd() % 4096) - 2048);
    }
    /* 5/3 round trip, every table; and 9/7 within a tolerance. */
    memcpy(coef, orig, count * 4);
    fwd53_2d(coef, stride, res, nl);
    memcpy(fcoef, forig, count * 4);
    fwd97_2d(fcoef, stride, res, nl);
    for (int v = 0; v < num_variants; v++) {
        memcpy(out, coef, count * 4);
        htc_idwt53_with(&variants[v].dsp, out, stride, res, nl, tmp);
        int ok = memcmp(out, orig, count * 4) == 0;
        if (!ok)
            fprintf(stderr, "5/3 round trip %s: %ux%u at (%u,%u), %u levels\n", variants[v].name, w,
                    h, x0, y0, nl);
        CHECK(ok);
        memcpy(fout, fcoef, count * 4);
        htc_idwt97_with(&variants[v].dsp, fout, stride, res, nl, tmp);
        float err = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                err = fmaxf(err, fabsf(fout[y * stride + x] - forig[y * stride + x]));
        if (!(err < 0.01f))
            fprintf(stderr, "9/7 round trip %s: %ux%u at (%u,%u), %u levels: error %g\n",
                    variants[v].name, w, h, x0, y0, nl, err);
        CHECK(err < 0.01f);
    }
    /* Arbitrary coefficients: SIMD == C, bit for bit. */
    for (size_t i = 0; i < count; i++) {
        coef[i] = rnd_i32(kind);
        fcoef[i] = rnd_f32(kind);
    }
    memcpy(orig, coef, count * 4);
    htc_idwt53_with(&variants[0].dsp, orig, stride, res, nl, tmp);
    memcpy(forig, fcoef, count * 4);
    htc_idwt97_with(&variants[0].dsp, forig, stride, res, nl, tmp);
    for (int v = 0; v < num_variants; v++) {
        /* the level-part functions over random ranges give the same */
        memcpy(out, coef, count * 4);
        idwt_split(&variants[v].dsp, out, stride, res, nl, tmp, 0);
        CHECK(memcmp(out, orig, count * 4) == 0);
        memcpy(fout, fcoef, count * 4);
        idwt_split(&variants[v].dsp, fout, stride, res, nl, tmp, 1);
        int same = 1;
        for (size_t i = 0; i < count && same; i++)
            same = same_f32(fout[i], forig[i]);
        CHECK(same);
        if (v == 0)
            continue;
        memcpy(out, coef, count * 4);
        htc_idwt53_with(&variants[v].dsp, out, stride, res, nl, tmp);
        int ok = memcmp(out, orig, count * 4) == 0;
        if (!ok)
            fprintf(stderr, "5/3 %s != c: %ux%u at (%u,%u), %u levels, data %d\n",
                    variants[v].name, w, h, x0, y0, nl, kind);
        CHECK(ok);
        memcpy(fout, fcoef, count * 4);
        htc_idwt97_with(&variants[v].dsp, fout, stride, res, nl, tmp);
        ok = 1;
        for (size_t i = 0; i < count && ok; i++)
            ok = same_f32(fout[i], forig[i]);
        if (!ok)
            fprintf(stderr, "9/7 %s != c: %ux%u at (%u,%u), %u levels, data %d\n",
                    variants[v].name, w, h, x0, y0, nl, kind);
        CHECK(ok);
    }
    free(orig), free(coef), free(out), free(forig), free(fcoef), free(fout), free(tmp);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(void)
{
    const uint32_t sizes[][3] = { { 512, 512, 5 }, { 2048, 2048, 5 }, { 3064, 4774, 6 } };
    for (unsigned s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        const uint32_t w = sizes[s][0], h = sizes[s][1], nl = sizes[s][2];
        HtcRect res[33];
        make_res(res, 0, 0, w, h, nl);
        int32_t *buf = NULL; /* 64-byte aligned, as htc_malloc gives */
        if (posix_memalign((void **)&buf, 64, (size_t)w * h * 4))
            abort();
        void *tmp = scratch_for(res, nl);
        for (int f = 0; f < 2; f++) {
            for (int v = 0; v < num_variants; v++) {
                const int reps = w * h > 1000000 ? 10 : 200;
                double best = 1e9;
                for (int r = 0; r < reps; r++) {
                    /* refill in place: the buffer is in cache, as after tier 1 */
                    if (f)
                        for (size_t i = 0; i < (size_t)w * h; i++)
                            ((float *)buf)[i] = (float)(int32_t)((i * 7) % 4000) - 2000.0f;
                    else
                        for (size_t i = 0; i < (size_t)w * h; i++)
                            buf[i] = (int32_t)((i * 7) % 4000) - 2000;
                    const double t0 = now();
                    if (f == 0)
                        htc_idwt53_with(&variants[v].dsp, buf, w, res, nl, tmp);
                    else
                        htc_idwt97_with(&variants[v].dsp, (float *)buf, w, res, nl, tmp);
                    const double t = now() - t0;
                    if (t < best)
                        best = t;
                }
                printf("idwt%s %ux%u %u levels %-7s %.3f ns/sample\n", f ? "97" : "53", w, h, nl,
                       variants[v].name, best * 1e9 / ((double)w * h));
            }
        }
        free(buf), free(tmp);
    }
}

/* idwt53_hrow (halves apart, result elsewhere) of every table against the
 * reference table's in-place idwt53_h: lengths 2..70 and random ones up to
 * 3100, both phases, ordinary and extreme samples. */
static void check_hrow(void)
{
    const uint32_t maxn = 3100;
    int32_t *lo = malloc((maxn + 64) * sizeof(int32_t)), *hi = malloc((maxn + 64) * sizeof(int32_t));
    int32_t *ref = malloc((maxn + 64) * sizeof(int32_t)), *out = malloc((maxn + 64) * sizeof(int32_t));
    void *tmp = aligned_alloc(64, (htc_idwt_level_scratch(maxn, 1) + 63) & ~(size_t)63);
    for (int it = 0; it < 400; it++) {
        const uint32_t n = it < 138 ? 2 + (uint32_t)it / 2 : 2 + rnd() % (maxn - 1);
        const int odd = it & 1, extreme = it % 5 == 4;
        const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
        for (uint32_t i = 0; i < n; i++) {
            const uint32_t r = rnd();
            ref[i] = extreme ? (int32_t)(r & 1 ? (rnd() << 16 | rnd()) : (r & 2 ? 0x7FFFFFFF : 0x80000000u))
                             : (int32_t)(r % 200000) - 100000;
        }
        memcpy(lo + 7, ref, nl * sizeof(int32_t));
        memcpy(hi + 3, ref + nl, (n - nl) * sizeof(int32_t));
        variants[0].dsp.idwt53_h(ref, 0, n, 1, odd, tmp);
        for (int v = 0; v < num_variants; v++) {
            for (uint32_t i = 0; i < n + 64; i++)
                out[i] = (int32_t)0xA5A5A5A5;
            variants[v].dsp.idwt53_hrow(lo + 7, hi + 3, out + 1, n, odd, tmp);
            CHECK(memcmp(out + 1, ref, n * sizeof(int32_t)) == 0);
            CHECK(out[0] == (int32_t)0xA5A5A5A5 && out[n + 1] == (int32_t)0xA5A5A5A5);
        }
    }
    free(lo), free(hi), free(ref), free(out), free(tmp);
}

/* idwt53_vlow and idwt53_vhigh of every table against the reference
 * table's: lengths 0..80 and random ones up to 5000, ordinary and extreme
 * samples, in place (the output one of the inputs) too; nothing past n. */
static void check_vsteps(void)
{
    const size_t maxn = 5000;
    int32_t *in[3], *ref = malloc((maxn + 32) * sizeof(int32_t)), *out = malloc((maxn + 32) * sizeof(int32_t));
    for (int i = 0; i < 3; i++)
        in[i] = malloc((maxn + 32) * sizeof(int32_t));
    for (int it = 0; it < 400; it++) {
        const size_t n = it < 162 ? (size_t)it / 2 : 1 + rnd() % maxn;
        const int high = it & 1, extreme = it % 3 == 2, inplace = it % 5 == 4;
        for (int i = 0; i < 3; i++)
            for (size_t k = 0; k < n + 32; k++) {
                const uint32_t r = rnd();
                in[i][k] = extreme ? (int32_t)(r & 1 ? (rnd() << 16 | rnd()) : (r & 2 ? 0x7FFFFFFF : 0x80000000u))
                                   : (int32_t)(r % 200000) - 100000;
            }
        const HtcTransformDSP *r0 = &variants[0].dsp;
        (high ? r0->idwt53_vhigh : r0->idwt53_vlow)(ref, in[0], in[1], in[2], n);
        for (int v = 0; v < num_variants; v++) {
            const HtcTransformDSP *d = &variants[v].dsp;
            int32_t *o = out;
            for (size_t k = 0; k < n + 32; k++)
                out[k] = (int32_t)0xA5A5A5A5;
            if (inplace) {
                memcpy(out, in[1], (n + 32) * sizeof(int32_t));
                (high ? d->idwt53_vhigh : d->idwt53_vlow)(o, in[0], o, in[2], n);
                CHECK(memcmp(out + n, in[1] + n, 32 * sizeof(int32_t)) == 0);
            } else {
                (high ? d->idwt53_vhigh : d->idwt53_vlow)(o, in[0], in[1], in[2], n);
                CHECK(out[n] == (int32_t)0xA5A5A5A5);
            }
            CHECK(n == 0 || memcmp(out, ref, n * sizeof(int32_t)) == 0);
        }
    }
    for (int i = 0; i < 3; i++)
        free(in[i]);
    free(ref), free(out);
}

int main(int argc, char **argv)
{
    init_variants(1);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench();
        return 0;
    }
    check_known_values();
    check_geometry_helpers();
    check_hrow();
    check_vsteps();
    /* HTC_CPUMASK limits what the default table may use. */
    const char *mask = getenv("HTC_CPUMASK");
    if (mask)
        CHECK((htc_cpu_flags() & ~(uint32_t)strtoul(mask, NULL, 0)) == 0);
    CHECK((htc_cpu_flags() & ~htc_cpu_flags_raw()) == 0);
    /* per-mask tables: the plain C one for mask 0, the default for all */
    CHECK(htc_transform_dsp_for(0)->idwt53_v == variants[1].dsp.idwt53_v);
    CHECK(htc_transform_dsp_for(HTC_CPU_ALL) == htc_transform_dsp());
    CHECK(htc_transform_dsp()->idwt53_v == variants[num_variants - 1].dsp.idwt53_v);
    /* Every small geometry: sizes 1..12, both origin parities, 0..4 levels. */
    for (uint32_t w = 1; w <= 12; w++)
        for (uint32_t h = 1; h <= 12; h += (h < 4 ? 1 : 3))
            for (uint32_t o = 0; o < 4; o++)
                for (uint32_t nl = 0; nl <= 4; nl++)
                    check_geometry(o & 1 ? 3 : 4, o & 2 ? 5 : 8, w, h, nl, (DataKind)(rnd() % 3));
    /* Random larger ones, odd origins, up to 8 levels, every data kind. */
    for (int i = 0; i < 150; i++) {
        const uint32_t w = 1 + rnd() % (i < 100 ? 80 : 300), h = 1 + rnd() % (i < 100 ? 80 : 300);
        check_geometry(rnd() % 1000, rnd() % 1000, w, h, rnd() % 9, (DataKind)(i % 3));
    }
    /* A rectangle that is not one (x1 < x0): nothing is touched. */
    {
        HtcRect bad[2] = { { 0, 0, 4, 4 }, { 10, 0, 5, 8 } };
        int32_t b[64];
        for (int i = 0; i < 64; i++)
            b[i] = i;
        void *tmp = scratch_for(bad, 1);
        CHECK(htc_idwt_scratch_size(bad, 1) < 4096);
        htc_idwt53(b, 8, bad, 1, tmp);
        htc_idwt97((float *)b, 8, bad, 1, tmp);
        int same = 1;
        for (int i = 0; i < 64; i++)
            same &= b[i] == i;
        CHECK(same);
        free(tmp);
    }
    /* Long single rows and columns, odd origins. */
    check_geometry(7, 3, 4000, 2, 3, DATA_SMALL);
    check_geometry(2, 9, 3, 4001, 4, DATA_RANDOM);
    check_geometry(1, 1, 4095, 1, 2, DATA_EXTREME);
    check_geometry(1, 1, 1, 4095, 2, DATA_SMALL);
    /* Many levels on a small area (levels past the size: empty bands). */
    check_geometry(1, 1, 33, 17, 32, DATA_RANDOM);
    check_geometry(1023, 511, 40, 3, 12, DATA_EXTREME);
    printf("tables:");
    for (int v = 0; v < num_variants; v++)
        printf(" %s", variants[v].name);
    printf("\n");
    return test_summary("dwt");
}
