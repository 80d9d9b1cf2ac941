/* Dequantisation kernels (E.1), checkasm-style: known values, then every
 * SIMD table against the plain C one on random and extreme indices, every
 * count of undecoded planes, odd widths, in place and not.
 * `test_dequant --bench` prints ns/sample. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "test.h"
#include "transform/transform.h"

#define TV_SEED 0x243f6a8885a308d3ull
#include "transform_variants.h"

static void check_known(void)
{
    const HtcTransformDSP *c = &variants[0].dsp;
    for (int v = 0; v < num_variants; v++) {
        const HtcTransformDSP *d = &variants[v].dsp;
        (void)c;
        /* 2 rows of 9, stride 11: reversible, u = 0: as is. */
        int32_t q[22], r[22];
        for (int i = 0; i < 22; i++)
            q[i] = (i - 11) * 8;
        htc_dequant_rev_with(d, q, 11, r, 11, 9, 2, 0);
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 9; x++)
                CHECK_EQ_INT(r[y * 11 + x], q[y * 11 + x]);
        /* u = 3: |q| + 4 with the sign, 0 stays 0. */
        htc_dequant_rev_with(d, q, 11, r, 11, 9, 2, 3);
        CHECK_EQ_INT(r[0], -88 - 4);
        CHECK_EQ_INT(r[11 + 0], 0);
        CHECK_EQ_INT(r[11 + 1], 12);
        /* irreversible, u = 0: (|q| + 0.5) * delta */
        float f[22];
        htc_dequant_irr_with(d, q, 11, f, 11, 9, 2, 0, 0.25f);
        CHECK(f[0] == -(88.5f * 0.25f));
        CHECK(f[11] == 0.0f && !signbit(f[11]));
        CHECK(f[12] == 8.5f * 0.25f);
        /* u = 2: r = 2 */
        htc_dequant_irr_with(d, q, 11, f, 11, 9, 2, 2, 2.0f);
        CHECK(f[12] == 20.0f);
        CHECK(f[8] == -(26.0f * 2.0f));
    }
}

static int32_t rnd_q(int kind, uint32_t u)
{
    int32_t q;
    switch (kind) {
    case 0: q = (int32_t)(rnd() % 2001) - 1000; break;
    case 1: {
        const uint32_t c = rnd() % 4;
        q = c == 0 ? -INT32_MAX : c == 1 ? INT32_MAX : c == 2 ? 0 : INT32_MIN;
        break;
    }
    default: q = (int32_t)((rnd() << 16) ^ rnd()); break;
    }
    /* undecoded planes are zero */
    if (u && u < 32)
        q = (int32_t)((uint32_t)q & ~((1u << u) - 1));
    return q;
}

static void check_random(void)
{
    for (int iter = 0; iter < 400; iter++) {
        const uint32_t w = 1 + rnd() % 70, h = 1 + rnd() % 5, u = rnd() % 32;
        const ptrdiff_t ss = w + rnd() % 5, ds = w + rnd() % 5;
        const int kind = iter % 3;
        const float delta = kind == 1 ? 3.0e30f : (float)ldexp(1.0 + (rnd() % 2048) / 2048.0, -(int)(rnd() % 20));
        int32_t *q = malloc(ss * h * 4), *r0 = malloc(ds * h * 4), *r1 = malloc(ds * h * 4);
        float *f0 = malloc(ds * h * 4), *f1 = malloc(ds * h * 4);
        for (ptrdiff_t i = 0; i < ss * (ptrdiff_t)h; i++)
            q[i] = rnd_q(kind, u);
        memset(r0, 0x55, ds * h * 4);
        memset(f0, 0x55, ds * h * 4);
        htc_dequant_rev_with(&variants[0].dsp, q, ss, r0, ds, w, h, u);
        htc_dequant_irr_with(&variants[0].dsp, q, ss, f0, ds, w, h, u, delta);
        /* the reference against the formula */
        int ok = 1;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                const int64_t qq = q[y * ss + x];
                const int64_t m = qq < 0 ? -qq : qq;
                int64_t e = qq == 0 || u == 0 ? qq : (qq < 0 ? -(m + (1ll << (u - 1))) : m + (1ll << (u - 1)));
                if (kind == 1 && m + (u ? 1ll << (u - 1) : 0) > INT32_MAX)
                    continue; /* wraps, by definition, only compared between tables */
                ok &= r0[y * ds + x] == (int32_t)e;
                const float ef = qq == 0 ? 0.0f : (float)((double)(float)((float)m + ldexp(1.0, (int)u) / 2) * delta);
                if (kind != 1 && m < (1 << 24))
                    ok &= fabsf(f0[y * ds + x]) == fabsf(ef) && (f0[y * ds + x] < 0) == (qq < 0);
            }
        CHECK(ok);
        for (int v = 1; v < num_variants; v++) {
            memset(r1, 0x55, ds * h * 4);
            memset(f1, 0x55, ds * h * 4);
            htc_dequant_rev_with(&variants[v].dsp, q, ss, r1, ds, w, h, u);
            htc_dequant_irr_with(&variants[v].dsp, q, ss, f1, ds, w, h, u, delta);
            const int same_r = memcmp(r0, r1, ds * h * 4) == 0;
            const int same_f = memcmp(f0, f1, ds * h * 4) == 0;
            if (!same_r || !same_f)
                fprintf(stderr, "%s != c: %ux%u u=%u kind %d\n", variants[v].name, w, h, u, kind);
            CHECK(same_r);
            CHECK(same_f);
            /* in place */
            int32_t *ip = malloc(ss * h * 4);
            memcpy(ip, q, ss * h * 4);
            htc_dequant_rev_with(&variants[v].dsp, ip, ss, ip, ss, w, h, u);
            int ok2 = 1;
            for (uint32_t y = 0; y < h; y++)
                ok2 &= memcmp(ip + y * ss, r0 + y * ds, w * 4) == 0;
            memcpy(ip, q, ss * h * 4);
            htc_dequant_irr_with(&variants[v].dsp, ip, ss, (float *)ip, ss, w, h, u, delta);
            for (uint32_t y = 0; y < h; y++)
                ok2 &= memcmp(ip + y * ss, f0 + y * ds, w * 4) == 0;
            CHECK(ok2);
            free(ip);
        }
        free(q), free(r0), free(r1), free(f0), free(f1);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void bench(void)
{
    const size_t n = 64 * 64;
    int32_t *q = malloc(n * 4), *r = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        q[i] = rnd_q(0, 0);
    for (int f = 0; f < 2; f++)
        for (int v = 0; v < num_variants; v++) {
            double best = 1e9;
            for (int rep = 0; rep < 200; rep++) {
                const double t0 = now();
                if (f == 0)
                    htc_dequant_rev_with(&variants[v].dsp, q, 64, r, 64, 64, 64, 1);
                else
                    htc_dequant_irr_with(&variants[v].dsp, q, 64, (float *)r, 64, 64, 64, 0, 0.5f);
                const double t = now() - t0;
                best = t < best ? t : best;
            }
            printf("dequant_%s 64x64 %-7s %.3f ns/sample\n", f ? "irr" : "rev", variants[v].name,
                   best * 1e9 / n);
        }
    free(q), free(r);
}

int main(int argc, char **argv)
{
    init_variants(0);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench();
        return 0;
    }
    check_known();
    /* E.1.1.1: 8-bit, HH band, exponent 8, mantissa 1024: 2^(8+2-8) * 1.5 */
    CHECK(htc_band_delta(8, 3, 8, 1024) == 6.0f);
    CHECK(htc_band_delta(8, 0, 10, 0) == 0.25f);
    CHECK(htc_band_delta(12, 1, 14, 2047) == (float)((1.0 + 2047 / 2048.0) * 0.5));
    check_random();
    return test_summary("dequant");
}
