/* Output conversion kernels, checkasm-style: known values (DC shift, clamp,
 * rounding ties to even, NaN), then every SIMD table against plain C bit for
 * bit, for every precision 1..32, signedness, sample type, planar and
 * interleaved, widths 1..70, on random and extreme samples.
 * `test_convert --bench` prints ns/sample. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu.h"
#include "htc/picture.h"
#include "test.h"
#include "transform/transform.h"

#define TV_SEED 0xa4093822299f31d0ull
#include "transform_variants.h"

static void check_known(void)
{
    for (int v = 0; v < num_variants; v++) {
        const HtcTransformDSP *d = &variants[v].dsp;
        /* 8-bit unsigned: shift 128, clamp to [0, 255]; 40 samples so the
         * SIMD loop and its tail both run. */
        int32_t s[40];
        uint8_t o8[40];
        for (int i = 0; i < 40; i++)
            s[i] = i * 10 - 200;
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 8, 0, HTC_SAMPLE_U8, o8, 40, 1), 0);
        for (int i = 0; i < 40; i++) {
            const int e = i * 10 - 200 + 128;
            CHECK_EQ_INT(o8[i], e < 0 ? 0 : e > 255 ? 255 : e);
        }
        /* 12-bit signed to int16 */
        int16_t o16[40];
        for (int i = 0; i < 40; i++)
            s[i] = (i - 20) * 150;
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 12, 1, HTC_SAMPLE_I16, o16, 80, 1), 0);
        for (int i = 0; i < 40; i++) {
            const int e = (i - 20) * 150;
            CHECK_EQ_INT(o16[i], e < -2048 ? -2048 : e > 2047 ? 2047 : e);
        }
        /* float, 16-bit unsigned: ties to even, NaN to 0, +-inf clamp */
        float f[40];
        uint16_t u16[40];
        for (int i = 0; i < 40; i++)
            f[i] = -32768.0f + 0.5f * (float)i; /* -32768, -32767.5, ... */
        f[39] = NAN;
        f[38] = INFINITY;
        f[37] = -INFINITY;
        f[36] = 32767.5f; /* rounds to 32768 (even) then clamps: 65535 */
        f[35] = 2.5f;     /* 2 (even) + 32768 */
        CHECK_EQ_INT(htc_convert_f32_with(d, f, 40, 40, 1, 16, 0, HTC_SAMPLE_U16, u16, 80, 1), 0);
        CHECK_EQ_INT(u16[0], 0);
        CHECK_EQ_INT(u16[1], 0);       /* -32767.5 -> -32768 (even) -> 0 */
        CHECK_EQ_INT(u16[3], 2);       /* -32766.5 -> -32766 -> 2 */
        CHECK_EQ_INT(u16[39], 0);
        CHECK_EQ_INT(u16[38], 65535);
        CHECK_EQ_INT(u16[37], 0);
        CHECK_EQ_INT(u16[36], 65535);
        CHECK_EQ_INT(u16[35], 32770);
        /* interleaved: pixel stride 3 writes every third byte only */
        uint8_t il[3 * 40];
        memset(il, 7, sizeof(il));
        for (int i = 0; i < 40; i++)
            s[i] = i;
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 8, 1, HTC_SAMPLE_U8, il + 1, 120, 3), 0);
        int ok = 1;
        for (int i = 0; i < 40; i++)
            ok &= il[3 * i] == 7 && il[3 * i + 1] == i && il[3 * i + 2] == 7;
        CHECK(ok);
        /* 32-bit unsigned */
        uint32_t u32[40];
        for (int i = 0; i < 40; i++)
            s[i] = i & 1 ? INT32_MAX : INT32_MIN;
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 32, 0, HTC_SAMPLE_U32, u32, 160, 1), 0);
        CHECK(u32[0] == 0 && u32[1] == 0xffffffffu);
        /* F32 output */
        float fo[40];
        for (int i = 0; i < 40; i++)
            s[i] = i - 3;
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 4, 0, HTC_SAMPLE_F32, fo, 160, 1), 0);
        CHECK(fo[0] == 5.0f && fo[39] == 15.0f);
        /* errors */
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 0, 0, HTC_SAMPLE_U8, o8, 40, 1), HTC_EINVAL);
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 33, 0, HTC_SAMPLE_U8, o8, 40, 1), HTC_EINVAL);
        CHECK_EQ_INT(htc_convert_i32_with(d, s, 40, 40, 1, 8, 0, HTC_SAMPLE_AUTO, o8, 40, 1), HTC_EINVAL);
    }
}

static int32_t rnd_s(int kind, uint32_t p)
{
    if (kind == 0) {
        const int64_t range = (int64_t)1 << p;
        return (int32_t)((int64_t)(((uint64_t)rnd() << 16 ^ rnd()) % (uint64_t)(range + 64)) - range / 2 - 32);
    }
    if (kind == 1) {
        const uint32_t c = rnd() % 5;
        return c == 0 ? INT32_MIN : c == 1 ? INT32_MAX : c == 2 ? 0 : c == 3 ? -1 : 1;
    }
    return (int32_t)((rnd() << 16) ^ rnd());
}

static float rnd_f(int kind, uint32_t p)
{
    if (kind == 1) {
        const float e[] = { NAN, INFINITY, -INFINITY, 3e38f, -3e38f, 0.5f, -0.5f, 1.5f, -2.5f,
                            2147483648.0f, -2147483904.0f, 16777216.0f };
        return e[rnd() % 12];
    }
    /* values near the range, with halves */
    return (float)rnd_s(kind == 2 ? 0 : kind, p) + (float)(rnd() % 4) * 0.25f;
}

static void check_random(void)
{
    const int types[] = { HTC_SAMPLE_U8, HTC_SAMPLE_I8, HTC_SAMPLE_U16, HTC_SAMPLE_I16,
                          HTC_SAMPLE_U32, HTC_SAMPLE_I32, HTC_SAMPLE_F32 };
    for (uint32_t p = 1; p <= 32; p++)
        for (int sg = 0; sg < 2; sg++)
            for (unsigned t = 0; t < sizeof(types) / sizeof(types[0]); t++)
                for (int kind = 0; kind < 3; kind++) {
                    const uint32_t w = 1 + rnd() % 70, h = 1 + rnd() % 3, ps = rnd() % 4 ? 1 : 3;
                    const size_t bytes = htc_sample_size(types[t]);
                    const ptrdiff_t ss = w + rnd() % 4, ds = (ptrdiff_t)(w * ps * bytes + rnd() % 8);
                    int32_t *s = malloc(ss * h * 4);
                    float *f = malloc(ss * h * 4);
                    uint8_t *o[3], *of[3];
                    for (int v = 0; v < num_variants; v++) {
                        o[v] = malloc(ds * h);
                        of[v] = malloc(ds * h);
                        memset(o[v], 0xa5, ds * h);
                        memset(of[v], 0xa5, ds * h);
                    }
                    for (ptrdiff_t i = 0; i < ss * (ptrdiff_t)h; i++) {
                        s[i] = rnd_s(kind, p);
                        f[i] = rnd_f(kind, p);
                    }
                    for (int v = 0; v < num_variants; v++) {
                        CHECK_EQ_INT(htc_convert_i32_with(&variants[v].dsp, s, ss, w, h, p, sg,
                                                          types[t], o[v], ds, ps), 0);
                        CHECK_EQ_INT(htc_convert_f32_with(&variants[v].dsp, f, ss, w, h, p, sg,
                                                          types[t], of[v], ds, ps), 0);
                    }
                    /* the C table against a direct formula (integer source) */
                    int ok = 1;
                    const int64_t clo = sg ? -((int64_t)1 << (p - 1)) : 0;
                    const int64_t chi = sg ? ((int64_t)1 << (p - 1)) - 1 : ((int64_t)1 << p) - 1;
                    for (uint32_t y = 0; y < h && types[t] == HTC_SAMPLE_U16; y++)
                        for (uint32_t x = 0; x < w; x++) {
                            int64_t e = (int64_t)s[y * ss + x] + (sg ? 0 : (int64_t)1 << (p - 1));
                            e = e < clo ? clo : e > chi ? chi : e;
                            e = e < 0 ? 0 : e > 65535 ? 65535 : e;
                            uint16_t got;
                            memcpy(&got, o[0] + y * ds + x * ps * 2, 2);
                            ok &= got == (uint16_t)e;
                        }
                    CHECK(ok);
                    for (int v = 1; v < num_variants; v++) {
                        const int same = memcmp(o[0], o[v], ds * h) == 0;
                        const int samef = memcmp(of[0], of[v], ds * h) == 0;
                        if (!same || !samef)
                            fprintf(stderr, "%s != c: p=%u signed=%d type=%d kind=%d w=%u ps=%u (%d %d)\n",
                                    variants[v].name, p, sg, types[t], kind, w, ps, same, samef);
                        CHECK(same);
                        CHECK(samef);
                    }
                    for (int v = 0; v < num_variants; v++)
                        free(o[v]), free(of[v]);
                    free(s), free(f);
                }
}

/* Three planes into interleaved pixels: htc_convert3 == three htc_convert
 * calls with pixel stride 3 (plain C), for every table. */
static void check_three(void)
{
    const int types[] = { HTC_SAMPLE_U8, HTC_SAMPLE_I8, HTC_SAMPLE_U16, HTC_SAMPLE_F32 };
    for (int iter = 0; iter < 300; iter++) {
        const uint32_t p = 1 + rnd() % 16, w = 1 + rnd() % 70, h = 1 + rnd() % 3;
        const int sg = rnd() & 1, type = types[rnd() % 4], kind = iter % 3;
        const size_t bytes = htc_sample_size(type);
        const ptrdiff_t ss = w + rnd() % 4, ds = (ptrdiff_t)(w * 3 * bytes + rnd() % 8);
        int32_t *s[3];
        float *f[3];
        for (int c = 0; c < 3; c++) {
            s[c] = malloc(ss * h * 4);
            f[c] = malloc(ss * h * 4);
            for (ptrdiff_t i = 0; i < ss * (ptrdiff_t)h; i++) {
                s[c][i] = rnd_s(kind, p);
                f[c][i] = rnd_f(kind, p);
            }
        }
        uint8_t *ref = malloc(ds * h), *reff = malloc(ds * h), *got = malloc(ds * h);
        memset(ref, 0x3c, ds * h);
        memset(reff, 0x3c, ds * h);
        for (int c = 0; c < 3; c++) {
            CHECK_EQ_INT(htc_convert_i32_with(&variants[0].dsp, s[c], ss, w, h, p, sg, type,
                                              ref + c * bytes, ds, 3), 0);
            CHECK_EQ_INT(htc_convert_f32_with(&variants[0].dsp, f[c], ss, w, h, p, sg, type,
                                              reff + c * bytes, ds, 3), 0);
        }
        for (int v = 0; v < num_variants; v++) {
            memset(got, 0x3c, ds * h);
            CHECK_EQ_INT(htc_convert3_i32_with(&variants[v].dsp, (const int32_t *const *)s, ss, w,
                                               h, p, sg, type, got, ds), 0);
            CHECK(memcmp(got, ref, ds * h) == 0);
            memset(got, 0x3c, ds * h);
            CHECK_EQ_INT(htc_convert3_f32_with(&variants[v].dsp, (const float *const *)f, ss, w,
                                               h, p, sg, type, got, ds), 0);
            CHECK(memcmp(got, reff, ds * h) == 0);
        }
        for (int c = 0; c < 3; c++)
            free(s[c]), free(f[c]);
        free(ref), free(reff), free(got);
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
    const uint32_t w = 512, h = 512;
    int32_t *s = malloc(w * h * 4);
    float *f = malloc(w * h * 4);
    uint8_t *o = malloc(w * h * 4);
    for (size_t i = 0; i < (size_t)w * h; i++)
        s[i] = rnd_s(0, 16), f[i] = (float)s[i] * 0.9f;
    const struct { int type; uint32_t p; int sg; const char *name; } cases[] = {
        { HTC_SAMPLE_U8, 8, 0, "u8" }, { HTC_SAMPLE_U16, 16, 0, "u16" },
        { HTC_SAMPLE_I16, 16, 1, "i16" }, { HTC_SAMPLE_I32, 32, 1, "i32" } };
    for (unsigned c = 0; c < 4; c++)
        for (int src = 0; src < 2; src++)
            for (int v = 0; v < num_variants; v++) {
                double best = 1e9;
                for (int rep = 0; rep < 20; rep++) {
                    const double t0 = now();
                    if (src == 0)
                        htc_convert_i32_with(&variants[v].dsp, s, w, w, h, cases[c].p, cases[c].sg,
                                             cases[c].type, o, w * htc_sample_size(cases[c].type), 1);
                    else
                        htc_convert_f32_with(&variants[v].dsp, f, w, w, h, cases[c].p, cases[c].sg,
                                             cases[c].type, o, w * htc_sample_size(cases[c].type), 1);
                    const double t = now() - t0;
                    best = t < best ? t : best;
                }
                printf("convert %s->%s 512x512 %-7s %.3f ns/sample\n", src ? "f32" : "i32",
                       cases[c].name, variants[v].name, best * 1e9 / (w * h));
            }
    /* interleaved RGB, 8 bits: three planes, pixel stride 3 */
    uint8_t *rgb = malloc((size_t)w * h * 3);
    for (int src = 0; src < 2; src++)
        for (int v = 0; v < num_variants; v++) {
            double best = 1e9;
            for (int rep = 0; rep < 20; rep++) {
                const double t0 = now();
                for (int c = 0; c < 3; c++)
                    if (src == 0)
                        htc_convert_i32_with(&variants[v].dsp, s, w, w, h, 8, 0, HTC_SAMPLE_U8,
                                             rgb + c, w * 3, 3);
                    else
                        htc_convert_f32_with(&variants[v].dsp, f, w, w, h, 8, 0, HTC_SAMPLE_U8,
                                             rgb + c, w * 3, 3);
                const double t = now() - t0;
                best = t < best ? t : best;
            }
            printf("convert %s->rgb8 interleaved 512x512x3 %-7s %.3f ns/sample\n",
                   src ? "f32" : "i32", variants[v].name, best * 1e9 / (3.0 * w * h));
        }
    for (int src = 0; src < 2; src++)
        for (int v = 0; v < num_variants; v++) {
            const int32_t *si[3] = { s, s, s };
            const float *sf[3] = { f, f, f };
            double best = 1e9;
            for (int rep = 0; rep < 20; rep++) {
                const double t0 = now();
                if (src == 0)
                    htc_convert3_i32_with(&variants[v].dsp, si, w, w, h, 8, 0, HTC_SAMPLE_U8, rgb,
                                          w * 3);
                else
                    htc_convert3_f32_with(&variants[v].dsp, sf, w, w, h, 8, 0, HTC_SAMPLE_U8, rgb,
                                          w * 3);
                const double t = now() - t0;
                best = t < best ? t : best;
            }
            printf("convert3 %s->rgb8 512x512x3 %-7s %.3f ns/sample\n", src ? "f32" : "i32",
                   variants[v].name, best * 1e9 / (3.0 * w * h));
        }
    free(rgb);
    free(s), free(f), free(o);
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
    check_three();
    return test_summary("convert");
}
