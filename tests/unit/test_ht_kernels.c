/* HT kernels: every ISA version of the MagSgn row kernel must give what
 * the plain C one gives (samples, bottom-row exponents, bit position), on
 * random and extreme quads (all significant, none, U = 32, p = 0 and 31,
 * buffers of 0x00 and 0xFF, widths and heights at the block's edges), and
 * whole HT blocks of the corpus must decode identically with each table.
 * HTC_BENCH=1 adds timings of whole blocks (corpus CT and MR images) per
 * table. Skips the ISA parts on CPUs without them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "cpu.h"
#include "ht_corpus_blocks.h"
#include "test.h"

static uint64_t rng = 0x123456789ABCDEFull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* A random CxtVLC entry of the standard's tables (so e_1 within e_k within
 * rho as they are), or an arbitrary pattern for kind 1. */
static uint16_t random_entry(int kind)
{
    const HtcHtTables *t = htc_ht_tables();
    if (kind == 1)
        return (uint16_t)(rnd() & 0xFFF0);
    if (kind == 2)
        return (uint16_t)(0xF << 4 | 0xF << 8 | 0xF << 12);
    for (;;) {
        const uint16_t e = (rnd() & 1 ? t->vlc0 : t->vlc1)[rnd() & 1023];
        if (HTC_HT_VLC_LEN(e))
            return e;
    }
}

static int row_case(const HtcHtDSP *ref, const HtcHtDSP *alt, uint32_t nq, uint32_t w, uint32_t yin,
                    int kind, int fill)
{
    uint16_t q[514];
    uint8_t U[514];
    const uint32_t p = kind == 3 ? 31 : kind == 4 ? 0 : rnd() % 20;
    for (uint32_t i = 0; i < nq; i++) {
        q[i] = random_entry(kind % 3);
        U[i] = (uint8_t)(kind == 2 ? 32 : 1 + rnd() % 32);
        if (kind == 0 && rnd() % 4 == 0)
            q[i] = 0; /* insignificant quad */
    }
    const size_t msz = (size_t)nq * 16 + 48;
    uint8_t *ms = malloc(msz);
    for (size_t i = 0; i < msz; i++)
        ms[i] = fill == 0 ? (uint8_t)rnd() : fill == 1 ? 0 : 0xFF;
    const ptrdiff_t stride = 2 * nq + 6;
    int32_t *o1 = malloc(sizeof(int32_t) * stride * 2), *o2 = malloc(sizeof(int32_t) * stride * 2);
    uint32_t vb1[1030], vb2[1030];
    for (ptrdiff_t i = 0; i < stride * 2; i++)
        o1[i] = o2[i] = 0x77777777;
    memset(vb1, 0x55, sizeof(vb1));
    memset(vb2, 0x55, sizeof(vb2));
    size_t pos1 = rnd() % 13, pos2 = pos1;
    ref->magsgn_row(ms, &pos1, q, U, nq, p, o1 + 1, stride, w, yin, vb1);
    alt->magsgn_row(ms, &pos2, q, U, nq, p, o2 + 1, stride, w, yin, vb2);
    const int same = pos1 == pos2 && !memcmp(o1, o2, sizeof(int32_t) * stride * 2) &&
                     !memcmp(vb1, vb2, sizeof(vb1));
    if (!same)
        fprintf(stderr, "row kernel differs: nq %u w %u yin %u kind %d fill %d p %u\n", nq, w, yin,
                kind, fill, p);
    free(ms);
    free(o1);
    free(o2);
    return same;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint8_t scratch[HTC_BLOCK_SCRATCH_SIZE];

int main(void)
{
    HtcHtDSP c, isa[2];
    const char *isa_name[2] = {"avx2", "avx512"};
    uint32_t nisa = 0;
    htc_ht_dsp_init(&c, 0);
    if (htc_cpu_flags_raw() & HTC_CPU_AVX2) {
        htc_ht_dsp_init(&isa[nisa], HTC_CPU_AVX2);
        nisa++;
        if (htc_cpu_flags_raw() & HTC_CPU_AVX512) {
            htc_ht_dsp_init(&isa[nisa], HTC_CPU_AVX2 | HTC_CPU_AVX512);
            nisa++;
        }
    }
    if (!nisa)
        printf("test_ht_kernels: no AVX2 on this CPU, only the C kernels run\n");

    for (uint32_t k = 0; k < nisa; k++) {
        uint32_t bad = 0, n = 0;
        for (int iter = 0; iter < 3000; iter++) {
            const uint32_t nq = iter < 20 ? 1 + (uint32_t)iter : 1 + rnd() % 512;
            const uint32_t w = 2 * nq - (rnd() & 1);
            const uint32_t yin = 1 + (rnd() & 1);
            const int kind = iter % 5, fill = (iter / 5) % 3;
            bad += !row_case(&c, &isa[k], nq, w, yin, kind, fill);
            n++;
        }
        printf("%s row kernel: %u of %u cases identical\n", isa_name[k], n - bad, n);
        CHECK_EQ_INT(bad, 0);
    }

    /* whole blocks of the corpus */
    static const char *const files[] = {
        "htj2k/medical/CT1.j2c", "htj2k/medical/MR1.j2c", "htj2k/conformance/ds0_ht_07_b11.j2k",
        "htj2k/conformance/ds1_ht_05_b11.j2k", "htj2k/openjph/simple_enc_rev53_tall_narrow.j2c",
        "htj2k/openjph/simple_dec_rev53_64x64_16bit.jph", "generated/mammo/RG2_mirror_3064x4774_htj2k_rpcl_tlm.j2c",
    };
    static int32_t out1[4096], out2[4096];
    const int bench = getenv("HTC_BENCH") != NULL;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, files[f]);
        HtBlockSet set;
        if (!ht_blocks_load(path, &set))
            continue;
        for (uint32_t k = 0; k < nisa; k++) {
            uint32_t diff = 0;
            for (uint32_t i = 0; i < set.count; i++) {
                const HtcBlockParams *b = &set.blocks[i];
                uint32_t u1 = 0, u2 = 1;
                const int r1 = htc_ht_decode_block_with(&c, b, out1, b->width, &u1, scratch, sizeof(scratch));
                const int r2 = htc_ht_decode_block_with(&isa[k], b, out2, b->width, &u2, scratch, sizeof(scratch));
                diff += r1 != r2 || u1 != u2 ||
                        memcmp(out1, out2, sizeof(int32_t) * b->width * b->height) != 0;
            }
            if (diff)
                fprintf(stderr, "%s: %u of %u blocks differ with %s\n", files[f], diff, set.count,
                        isa_name[k]);
            CHECK_EQ_INT(diff, 0);
        }
        if (bench) {
            for (uint32_t k = 0; k <= nisa; k++) {
                const HtcHtDSP *d = k ? &isa[k - 1] : &c;
                double best = 1e9;
                for (int r = 0; r < 30; r++) {
                    const double t0 = now();
                    for (uint32_t i = 0; i < set.count; i++) {
                        uint32_t u;
                        htc_ht_decode_block_with(d, &set.blocks[i], out1, set.blocks[i].width, &u,
                                                 scratch, sizeof(scratch));
                    }
                    const double t = now() - t0;
                    if (t < best)
                        best = t;
                }
                printf("bench %s %s: %.3f ms, %.2f ns/sample\n", files[f], k ? isa_name[k - 1] : "c",
                       best * 1e3, best * 1e9 / (double)set.samples);
            }
        }
        ht_blocks_free(&set);
    }
    return test_summary("test_ht_kernels");
}
