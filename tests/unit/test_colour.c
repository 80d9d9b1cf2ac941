/* Inverse RCT / ICT kernels (G.2, G.3), checkasm-style: known values,
 * forward RCT (written here) + inverse exact, and every SIMD table against
 * plain C bit for bit on random and extreme samples, every length 0..70.
 * `test_colour --bench` prints ns/pixel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "test.h"
#include "transform/transform.h"

#define TV_SEED 0x13198a2e03707344ull
#include "transform_variants.h"

static int same_f32(float a, float b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, 4) == 0;
}

static void check_known(void)
{
    for (int v = 0; v < num_variants; v++) {
        const HtcTransformDSP *d = &variants[v].dsp;
        /* RGB (200, 100, 50) forward: Y0 = floor((200 + 200 + 50) / 4) = 112,
         * Y1 = 50 - 100 = -50, Y2 = 200 - 100 = 100. */
        int32_t c0[9], c1[9], c2[9];
        for (int i = 0; i < 9; i++)
            c0[i] = 112, c1[i] = -50, c2[i] = 100;
        htc_rct_inverse_with(d, c0, c1, c2, 9);
        for (int i = 0; i < 9; i++) {
            CHECK_EQ_INT(c0[i], 200);
            CHECK_EQ_INT(c1[i], 100);
            CHECK_EQ_INT(c2[i], 50);
        }
        /* ICT: Y = 100, Cb = 10, Cr = -20 */
        float f0[9], f1[9], f2[9];
        for (int i = 0; i < 9; i++)
            f0[i] = 100.0f, f1[i] = 10.0f, f2[i] = -20.0f;
        htc_ict_inverse_with(d, f0, f1, f2, 9);
        for (int i = 0; i < 9; i++) {
            CHECK(fabsf(f0[i] - (100.0f - 1.402f * 20)) < 1e-4f);
            CHECK(fabsf(f1[i] - (100.0f - 0.34413f * 10 + 0.71414f * 20)) < 1e-4f);
            CHECK(fabsf(f2[i] - (100.0f + 1.772f * 10)) < 1e-4f);
        }
    }
}

static int32_t rnd_s(int kind)
{
    if (kind == 0)
        return (int32_t)(rnd() % 65536) - 32768;
    if (kind == 1) {
        const uint32_t c = rnd() % 3;
        return c == 0 ? INT32_MIN : c == 1 ? INT32_MAX : 0;
    }
    return (int32_t)((rnd() << 16) ^ rnd());
}

static void check_random(void)
{
    for (uint32_t n = 0; n <= 70; n++)
        for (int kind = 0; kind < 3; kind++) {
            int32_t a[3][72], b[3][72], orig[3][72];
            float fa[3][72], fb[3][72];
            for (int c = 0; c < 3; c++)
                for (uint32_t i = 0; i < n + 2; i++) {
                    a[c][i] = rnd_s(kind);
                    fa[c][i] = kind == 1 ? (rnd() & 1 ? 3.0e38f : -3.0e38f)
                                         : (float)rnd_s(kind) * 0.013f;
                }
            /* forward RCT of a, unsigned 16-bit range, then the inverse */
            if (kind == 0) {
                for (uint32_t i = 0; i < n + 2; i++) {
                    const int32_t r = a[0][i] + 32768, g = a[1][i] + 32768, bl = a[2][i] + 32768;
                    orig[0][i] = r, orig[1][i] = g, orig[2][i] = bl;
                    b[0][i] = (r + 2 * g + bl) >> 2;
                    b[1][i] = bl - g;
                    b[2][i] = r - g;
                }
                for (int v = 0; v < num_variants; v++) {
                    int32_t t[3][72];
                    memcpy(t, b, sizeof(t));
                    htc_rct_inverse_with(&variants[v].dsp, t[0], t[1], t[2], n);
                    int ok = 1;
                    for (int c = 0; c < 3; c++)
                        ok &= memcmp(t[c], orig[c], n * 4) == 0 && t[c][n] == b[c][n];
                    CHECK(ok);
                }
            }
            memcpy(b, a, sizeof(b));
            memcpy(fb, fa, sizeof(fb));
            htc_rct_inverse_with(&variants[0].dsp, a[0], a[1], a[2], n);
            htc_ict_inverse_with(&variants[0].dsp, fa[0], fa[1], fa[2], n);
            for (int v = 1; v < num_variants; v++) {
                int32_t t[3][72];
                float ft[3][72];
                memcpy(t, b, sizeof(t));
                memcpy(ft, fb, sizeof(ft));
                htc_rct_inverse_with(&variants[v].dsp, t[0], t[1], t[2], n);
                htc_ict_inverse_with(&variants[v].dsp, ft[0], ft[1], ft[2], n);
                int ok = 1, okf = 1;
                for (int c = 0; c < 3; c++)
                    for (uint32_t i = 0; i < n + 2; i++) {
                        ok &= t[c][i] == a[c][i];
                        okf &= same_f32(ft[c][i], fa[c][i]);
                    }
                if (!ok || !okf)
                    fprintf(stderr, "%s != c: n=%u kind %d\n", variants[v].name, n, kind);
                CHECK(ok);
                CHECK(okf);
            }
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
    const size_t n = 512 * 512;
    int32_t *p = malloc(3 * n * 4);
    for (size_t i = 0; i < 3 * n; i++)
        p[i] = rnd_s(0);
    for (int f = 0; f < 2; f++)
        for (int v = 0; v < num_variants; v++) {
            double best = 1e9;
            for (int rep = 0; rep < 20; rep++) {
                if (f)
                    for (size_t i = 0; i < 3 * n; i++)
                        ((float *)p)[i] = (float)(int32_t)(i & 255);
                const double t0 = now();
                if (f == 0)
                    htc_rct_inverse_with(&variants[v].dsp, p, p + n, p + 2 * n, n);
                else
                    htc_ict_inverse_with(&variants[v].dsp, (float *)p, (float *)p + n,
                                         (float *)p + 2 * n, n);
                const double t = now() - t0;
                best = t < best ? t : best;
            }
            printf("%s 512x512 %-7s %.3f ns/pixel\n", f ? "ict" : "rct", variants[v].name,
                   best * 1e9 / n);
        }
    free(p);
}

int main(int argc, char **argv)
{
    init_variants(0);
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) {
        bench();
        return 0;
    }
    check_known();
    check_random();
    return test_summary("colour");
}
