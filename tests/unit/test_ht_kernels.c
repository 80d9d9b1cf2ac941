/* HT kernels: every ISA version of the MagSgn row kernel must give what
 * the plain C one gives (samples, bottom-row exponents, bit position), on
 * random and extreme quads (all significant, none, U = 32, p = 0 and 31,
 * buffers of 0x00 and 0xFF, widths and heights at the block's edges); so
 * must the exponent-bound (U) row kernel (exponents of every bit length,
 * 0 and all ones, every rho, umax at and around the values); whole HT
 * blocks of the corpus, and damaged copies of them, must decode
 * identically with each table and with the CPU's two-phase cleanup
 * (coding/ht_cleanup_cpu.c) against the HTC_HD one the GPU runs.
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

/* One random U row: returns 1 when alt gives what ref gives. */
static int urow_case(const HtcHtDSP *ref, const HtcHtDSP *alt, uint32_t nq, int kind)
{
    uint16_t q[512 + 16];
    uint8_t u[512 + 16], U1[512 + 16], U2[512 + 16];
    uint32_t e[1024 + 8];
    for (uint32_t i = 0; i < nq; i++) {
        q[i] = (uint16_t)(kind == 1 ? 0xFFFF : rnd() & 0xFFFF);
        u[i] = (uint8_t)(kind == 2 ? 38 : rnd() % 39);
    }
    for (uint32_t i = 0; i < 2 * nq + 3; i++) {
        const uint32_t bits = rnd() % 33;
        uint32_t v = bits == 32 ? 0xFFFFFFFFu : bits ? (1u << (bits - 1)) | (rnd() & ((1u << (bits - 1)) - 1)) : 0;
        if (kind == 3)
            v = rnd() & 1 ? 0xFFFFFFFFu : 0;
        if (kind == 4)
            v = 0;
        e[i] = v;
    }
    const uint32_t umax = kind == 2 ? 70 : 1 + rnd() % 40;
    memset(U1, 0xAA, sizeof(U1));
    memset(U2, 0xAA, sizeof(U2));
    const uint32_t b1 = ref->u_row(q, u, e + 1, nq, umax, U1) != 0;
    const uint32_t b2 = alt->u_row(q, u, e + 1, nq, umax, U2) != 0;
    const int same = b1 == b2 && !memcmp(U1, U2, sizeof(U1));
    if (!same)
        fprintf(stderr, "U row kernel differs: nq %u kind %d umax %u\n", nq, kind, umax);
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

    for (uint32_t k = 0; k < nisa; k++) {
        uint32_t bad = 0, n = 0;
        for (int iter = 0; iter < 3000; iter++) {
            const uint32_t nq = iter < 40 ? 1 + (uint32_t)iter : 1 + rnd() % 512;
            bad += !urow_case(&c, &isa[k], nq, iter % 5);
            n++;
        }
        printf("%s U row kernel: %u of %u cases identical\n", isa_name[k], n - bad, n);
        CHECK_EQ_INT(bad, 0);
    }
    /* the U row kernel's values themselves, on known cases */
    {
        const uint16_t q[3] = {0x0030, 0x0010, 0x00F0}; /* rho 3, 1, 15 */
        const uint8_t u[3] = {2, 2, 2};
        uint32_t e[8] = {0, 0x10, 0, 0, 0, 0, 0, 0x80000000u};
        uint8_t U[3];
        /* quad 0: OR 0x10 -> E 5, kappa 4; quad 1: one sample, kappa 1;
         * quad 2: OR of e[4..7] = 0x80000000 -> E 32, kappa 31 */
        CHECK_EQ_INT(c.u_row(q, u, e + 1, 3, 33, U), 0);
        CHECK_EQ_INT(U[0], 6);
        CHECK_EQ_INT(U[1], 3);
        CHECK_EQ_INT(U[2], 33);
        CHECK(c.u_row(q, u, e + 1, 3, 32, U) != 0);
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
        for (uint32_t k = 0; k <= nisa; k++) {
            /* the HTC_HD cleanup against the table's own (two-phase) one */
            HtcHtDSP ref = k ? isa[k - 1] : c, cfast = c;
            cfast.cleanup = htc_ht_cleanup_cpu; /* the C table keeps the HTC_HD one */
            const HtcHtDSP *fast = k ? &isa[k - 1] : &cfast;
            ref.cleanup = NULL;
            uint32_t diff = 0, errs = 0;
            for (uint32_t i = 0; i < set.count; i++) {
                HtcBlockParams b = set.blocks[i];
                for (int dmg = 0; dmg < 3; dmg++) {
                    uint8_t *copy = NULL;
                    if (dmg) {
                        /* a damaged copy: bytes changed at random places */
                        size_t len = 0;
                        for (uint32_t sg = 0; sg < b.num_segments; sg++)
                            len += b.seg_len[sg];
                        copy = malloc(len + HTC_BLOCK_PAD);
                        memcpy(copy, set.blocks[i].data, len + HTC_BLOCK_PAD);
                        for (int f2 = 0; f2 < 1 + dmg * 3 && len; f2++)
                            copy[rnd() % len] = (uint8_t)rnd();
                        b.data = copy;
                    }
                    uint32_t u1 = 0, u2 = 1;
                    memset(out1, 0x11, sizeof(out1));
                    memset(out2, 0x11, sizeof(out2));
                    const int r1 = htc_ht_decode_block_with(&ref, &b, out1, b.width, &u1, scratch, sizeof(scratch));
                    const int r2 = htc_ht_decode_block_with(fast, &b, out2, b.width, &u2, scratch, sizeof(scratch));
                    diff += r1 != r2 || u1 != u2 ||
                            memcmp(out1, out2, sizeof(int32_t) * b.width * b.height) != 0;
                    errs += r1 < 0;
                    free(copy);
                    b.data = set.blocks[i].data;
                }
            }
            if (diff)
                fprintf(stderr, "%s: %u of %u blocks differ, two-phase cleanup (%s)\n", files[f], diff,
                        3 * set.count, k ? isa_name[k - 1] : "c");
            if (k == 0)
                printf("%s: %u blocks and %u damaged copies (%u errors), two-phase cleanup identical: %s\n",
                       files[f], set.count, 2 * set.count, errs, diff ? "no" : "yes");
            CHECK_EQ_INT(diff, 0);
        }
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
            /* the last table with the HTC_HD cleanup too ("... hd") */
            HtcHtDSP hd = nisa ? isa[nisa - 1] : c;
            hd.cleanup = NULL;
            for (uint32_t k = 0; k <= nisa + 1; k++) {
                const HtcHtDSP *d = k > nisa ? &hd : k ? &isa[k - 1] : &c;
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
                printf("bench %s %s%s: %.3f ms, %.2f ns/sample\n", files[f],
                       k > nisa ? (nisa ? isa_name[nisa - 1] : "c") : k ? isa_name[k - 1] : "c",
                       k > nisa ? " hd" : "",
                       best * 1e3, best * 1e9 / (double)set.samples);
            }
        }
        ht_blocks_free(&set);
    }
    return test_summary("test_ht_kernels");
}
