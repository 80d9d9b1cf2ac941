/* htc_idwt53_last_out and htc_idwt53_out (5/3 levels streamed row by row,
 * the last fused with the output conversion) must write exactly what
 * htc_idwt53_with over all levels followed by
 * htc_convert_i32_with writes, with every kernel table, on random and
 * extreme samples (full 32-bit range, so clamping and wrapping are hit),
 * both phases of x0 and y0, sizes from 2x2 up to 755x655, 1 to 5 levels, every
 * integer and float sample type, planar and interleaved (pixel stride 3)
 * output. Refuses lengths below 2 without writing. */
#include <stdlib.h>
#include <string.h>

#include "htc/picture.h"
#define TV_SEED 0x5EEDF00DCAFEull
#include "test.h"
#include "transform_variants.h"

static int run_case(const HtcTransformDSP *dsp, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h,
                    uint32_t levels, uint32_t prec, int sgn, int type, uint32_t pstride, int extreme)
{
    HtcRect res[8];
    htc_dwt_resolutions(x0, y0, x0 + w, y0 + h, levels, res);
    const ptrdiff_t stride = (ptrdiff_t)w + (rnd() % 3) * 5;
    const size_t n = (size_t)stride * h;
    int32_t *a = malloc(n * sizeof(int32_t)), *b = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        const uint32_t r = rnd();
        a[i] = extreme ? (int32_t)(r & 1 ? (rnd() << 16 | rnd()) : (r & 2 ? 0x7FFFFFFF : 0x80000000u))
                       : (int32_t)(r % (1u << prec)) - (int32_t)(1u << (prec - 1));
    }
    memcpy(b, a, n * sizeof(int32_t));
    const uint32_t bps = type == HTC_SAMPLE_U8 || type == HTC_SAMPLE_I8 ? 1
                         : type == HTC_SAMPLE_U16 || type == HTC_SAMPLE_I16 ? 2 : 4;
    const ptrdiff_t drs = (ptrdiff_t)w * pstride * bps + 7;
    const size_t dsize = (size_t)drs * h + 16;
    uint8_t *d1 = malloc(dsize), *d2 = malloc(dsize);
    memset(d1, 0xA5, dsize);
    memset(d2, 0xA5, dsize);
    size_t ts = htc_idwt_scratch_size(res, levels);
    const size_t ts2 = htc_idwt53_out_scratch(w);
    ts = ts > ts2 ? ts : ts2;
    void *tmp = aligned_alloc(64, (ts + 63) & ~(size_t)63);
    /* stream every level that can, those of 4096 samples up, or the decoder's choice */
    const uint64_t mins = rnd() % 3 == 0 ? 0 : rnd() & 1 ? 4096 : HTC_IDWT_STREAM_MIN;
    void *work = malloc(htc_idwt53_out_work(res, levels, mins));

    htc_idwt53_with(dsp, a, stride, res, levels, tmp);
    const int r1 = htc_convert_i32_with(dsp, a, stride, w, h, prec, sgn, type, d1, drs, pstride);
    int r2;
    if (levels == 1 && (rnd() & 1))
        r2 = htc_idwt53_last_out(dsp, b, stride, &res[levels], tmp, prec, sgn, type, d2, drs, pstride);
    else
        r2 = htc_idwt53_out(dsp, b, stride, res, levels, mins, tmp, work, prec, sgn, type, d2, drs,
                            pstride);
    free(work);
    const int same = r1 == r2 && memcmp(d1, d2, dsize) == 0;
    if (!same)
        fprintf(stderr, "differs: %ux%u at (%u,%u), %u levels, %u bits %s, type %d, pixel stride %u\n",
                w, h, x0, y0, levels, prec, sgn ? "signed" : "unsigned", type, pstride);
    free(a);
    free(b);
    free(d1);
    free(d2);
    free(tmp);
    return same;
}

int main(void)
{
    init_variants(1);
    static const int types[] = { HTC_SAMPLE_U8, HTC_SAMPLE_I8, HTC_SAMPLE_U16, HTC_SAMPLE_I16,
                                 HTC_SAMPLE_U32, HTC_SAMPLE_I32, HTC_SAMPLE_F32 };
    for (int v = 0; v < num_variants; v++) {
        const HtcTransformDSP *dsp = &variants[v].dsp;
        uint32_t bad = 0, cases = 0;
        /* every small size and phase */
        for (uint32_t w = 2; w <= 9; w++)
            for (uint32_t h = 2; h <= 9; h++)
                for (uint32_t ph = 0; ph < 4; ph++) {
                    bad += !run_case(dsp, ph & 1, ph >> 1, w, h, 1, 16, (int)(ph & 1),
                                     types[(w + h) % 7], 1, 0);
                    cases++;
                }
        /* random sizes, levels, types, layouts, extreme samples */
        for (int it = 0; it < 300; it++) {
            const uint32_t levels = 1 + rnd() % 3;
            const uint32_t min = 2u << (levels - 1);
            const uint32_t w = min + rnd() % 300, h = min + rnd() % 120;
            const uint32_t prec = 1 + rnd() % 24;
            bad += !run_case(dsp, rnd() % 7, rnd() % 7, w, h, levels, prec, (int)(rnd() & 1),
                             types[rnd() % 7], rnd() & 1 ? 1 : 3, it % 4 == 0);
            cases++;
        }
        /* large enough that the levels below the last stream too */
        for (int it = 0; it < (v == 0 ? 6 : 24); it++) {
            const uint32_t levels = 2 + rnd() % 4;
            const uint32_t w = 256 + rnd() % 500, h = 256 + rnd() % 400;
            bad += !run_case(dsp, rnd() % 9, rnd() % 9, w, h, levels, 1 + rnd() % 20, (int)(rnd() & 1),
                             types[rnd() % 7], rnd() & 1 ? 1 : 3, it % 3 == 0);
            cases++;
        }
        printf("%s: %u of %u fused last levels identical\n", variants[v].name, cases - bad, cases);
        CHECK_EQ_INT(bad, 0);
    }
    /* lengths below 2: refused, nothing written */
    {
        int32_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
        uint8_t out[64];
        memset(out, 0x5A, sizeof(out));
        static uint8_t tmp[1 << 16] __attribute__((aligned(64)));
        const HtcRect r1 = { 0, 0, 1, 8 }, r2 = { 3, 0, 11, 1 };
        CHECK(htc_idwt53_last_out(htc_transform_dsp(), buf, 1, &r1, tmp, 8, 0, HTC_SAMPLE_U8, out, 1, 1) < 0);
        CHECK(htc_idwt53_last_out(htc_transform_dsp(), buf, 8, &r2, tmp, 8, 0, HTC_SAMPLE_U8, out, 8, 1) < 0);
        CHECK_EQ_INT(out[0], 0x5A);
    }
    return test_summary("test_dwt_stream");
}
