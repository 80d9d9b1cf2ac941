/* The Part 1 block decoder against OpenJPEG's encoder: images of one
 * code-block (0 decomposition levels, reversible) made at test time with
 * opj_compress over every code-block style and several layers; the decoded
 * quantisation indices must equal the samples after the DC level shift.
 * Then corrupt and random inputs must give a status, never a crash (run it
 * in the ASan build). Skips (77) when opj_compress is not installed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "cpu.h"
#include "coding/block.h"
#include "test.h"
#include "read_file.h"
#include "t1_single_block.h"

/* Every decode below runs both builds of the decoder (plain C, and AVX2
 * where the CPU has it), which must agree on the status, the output and
 * the undecoded planes; the checks then look at the plain C result. */
static int t1_both(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride, uint32_t *und,
                   void *scratch, size_t scratch_size)
{
    const int rc = htc_t1_decode_block_c(p, out, stride, und, scratch, scratch_size);
#if defined(__x86_64__)
    if ((htc_cpu_flags_raw() & HTC_CPU_AVX2) && p && out && und && p->height >= 1 && p->height <= 1024 &&
        stride >= 1) {
        const size_t n = (size_t)stride * p->height;
        int32_t *o2 = malloc(n * sizeof(*o2));
        void *s2 = malloc(scratch_size ? scratch_size : 1);
        uint32_t u2 = 0;
        const int rc2 = htc_t1_decode_block_avx2(p, o2, stride, &u2, s2, scratch_size);
        CHECK_EQ_INT(rc2, rc);
        if (rc2 == rc && (rc == 0 || rc == HTC_ECORRUPT)) {
            CHECK_EQ_INT(u2, *und);
            int same = 1;
            for (uint32_t y = 0; y < p->height; y++)
                same &= !memcmp(o2 + (size_t)y * stride, out + (size_t)y * stride, p->width * sizeof(*out));
            CHECK(same);
        }
        free(o2);
        free(s2);
    }
#endif
    return rc;
}
#define htc_t1_decode_block t1_both

static char tmpdir[64];
static int halves_cases, sp_last_cases; /* first-layer decodes ending in a SigProp pass */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 11);
}

enum { PAT_NOISE, PAT_GRADIENT, PAT_ZERO, PAT_EXTREMES, PAT_SPARSE, PAT_LOW, PAT_COUNT };

static void make_image(int32_t *v, uint32_t w, uint32_t h, uint32_t depth, int sgn, int pat)
{
    const int32_t lo = sgn ? -(1 << (depth - 1)) : 0;
    const int32_t hi = sgn ? (1 << (depth - 1)) - 1 : (int32_t)((1u << depth) - 1);
    const uint32_t range = (uint32_t)(hi - lo) + 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            int32_t s;
            switch (pat) {
            case PAT_NOISE: s = lo + (int32_t)(rnd() % range); break;
            case PAT_GRADIENT: s = lo + (int32_t)((uint64_t)(x + y) * (range - 1) / (w + h)); break;
            case PAT_ZERO: s = sgn ? 0 : lo; break;
            case PAT_EXTREMES: s = ((x ^ y) & 1) ? hi : lo; break;
            case PAT_SPARSE: s = (rnd() % 23 == 0) ? lo + (int32_t)(rnd() % range) : (lo + hi) / 2; break;
            default: s = (lo + hi) / 2 + (int32_t)(rnd() % 5) - 2; break;
            }
            v[y * w + x] = s < lo ? lo : s > hi ? hi : s;
        }
}

/* Compresses the image with opj_compress, decodes the block, compares.
 * layers_arg: "" or e.g. "-r 40,10,1". Returns 1 when it ran. */
static int check_case(uint32_t w, uint32_t h, uint32_t cbw, uint32_t cbh, uint32_t depth, int sgn,
                      int pat, uint32_t modes, const char *layers_arg)
{
    int32_t *img = malloc(sizeof(int32_t) * w * h);
    make_image(img, w, h, depth, sgn, pat);
    char in[128], outp[128], cmd[512];
    snprintf(in, sizeof(in), "%s/in.raw", tmpdir);
    snprintf(outp, sizeof(outp), "%s/out.j2k", tmpdir);
    FILE *f = fopen(in, "wb");
    for (uint32_t i = 0; i < w * h; i++) {
        if (depth <= 8) {
            fputc(img[i] & 0xFF, f);
        } else {
            fputc((img[i] >> 8) & 0xFF, f);
            fputc(img[i] & 0xFF, f);
        }
    }
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "opj_compress -i %s -F %u,%u,1,%u,%c -o %s -n 1 -b %u,%u %s%s%u >/dev/null 2>&1", in, w,
             h, depth, sgn ? 's' : 'u', outp, cbw, cbh, layers_arg, modes ? " -M " : "", modes);
    if (!modes)
        snprintf(cmd + strlen(cmd) - strlen("0 >/dev/null 2>&1"), 32, " >/dev/null 2>&1");
    unlink(outp);
    if (system(cmd) != 0) {
        fprintf(stderr, "opj_compress failed: %s\n", cmd);
        CHECK(0);
        free(img);
        return 0;
    }
    size_t size;
    uint8_t *cs = htc_test_read_file(outp, &size);
    T1Single s;
    const int prc = cs ? t1_single_parse(cs, size, &s, 0) : -100;
    CHECK_EQ_INT(prc, 0);
    if (prc == 0) {
        CHECK_EQ_INT(s.precision, depth);
        CHECK_EQ_INT(s.bp.cblk_style, modes);
        int32_t *q = malloc(sizeof(int32_t) * w * h);
        void *scratch = malloc(HTC_BLOCK_SCRATCH_SIZE);
        uint32_t undecoded = 99;
        const int rc = htc_t1_decode_block(&s.bp, q, w, &undecoded, scratch, HTC_BLOCK_SCRATCH_SIZE);
        CHECK_EQ_INT(rc, 0);
        uint32_t bad = 0;
        const int32_t shift = sgn ? 0 : 1 << (depth - 1);
        for (uint32_t i = 0; i < w * h; i++)
            bad += q[i] != img[i] - shift;
        if (bad) {
            fprintf(stderr, "%ux%u cb %ux%u depth %u%s pattern %d -M %u %s: %u of %u differ, passes %u "
                    "segments %u P %u mb %u\n", w, h, cbw, cbh, depth, sgn ? "s" : "u", pat, modes,
                    layers_arg, bad, w * h, s.bp.num_passes, s.bp.num_segments, s.bp.zero_planes, s.bp.mb);
        }
        CHECK_EQ_INT(bad, 0);
        if (s.bp.num_passes)
            CHECK_EQ_INT(undecoded, 0);
        /* Only the first layer: the decoded magnitudes are the true ones
         * above the partly decoded plane (below it the decoder may set a
         * bit that moves the reconstruction point), signs right where
         * nonzero. */
        if (s.layers > 1) {
            T1Single s1;
            if (t1_single_parse(cs, size, &s1, 1) == 0) {
                CHECK_EQ_INT(htc_t1_decode_block(&s1.bp, q, w, &undecoded, scratch,
                                                 HTC_BLOCK_SCRATCH_SIZE), 0);
                const int halves = (undecoded & HTC_UNDECODED_HALVES) != 0;
                halves_cases += halves;
                sp_last_cases += s1.bp.num_passes % 3 == 2;
                const uint32_t und = halves ? 0 : undecoded;
                uint32_t off = 0;
                for (uint32_t i = 0; i < w * h; i++) {
                    const int32_t t = img[i] - shift;
                    const uint32_t tm = (uint32_t)(t < 0 ? -t : t);
                    uint32_t qm = (uint32_t)(q[i] < 0 ? -q[i] : q[i]);
                    if (halves) /* 2|q| + 1 or 2|q| + 2 */
                        qm = qm ? (qm - 1) >> 1 : 0;
                    if ((q[i] < 0 && t > 0) || (q[i] > 0 && t < 0) ||
                        (tm >> (und + 1)) != (qm >> (und + 1)))
                        off++;
                }
                CHECK_EQ_INT(off, 0);
                /* The reconstruction the caller makes (E.1.1.2, middle of
                 * the interval of the undecoded planes) equals what
                 * opj_decompress gives for the first layer. */
                char l1[128];
                snprintf(l1, sizeof(l1), "%s/l1.raw", tmpdir);
                snprintf(cmd, sizeof(cmd), "opj_decompress -i %s -o %s -l 1 >/dev/null 2>&1", outp, l1);
                size_t rsize = 0;
                uint8_t *ref = system(cmd) == 0 ? htc_test_read_file(l1, &rsize) : NULL;
                const uint32_t bps = depth <= 8 ? 1 : 2;
                CHECK(ref && rsize == (size_t)w * h * bps);
                if (ref && rsize == (size_t)w * h * bps) {
                    uint32_t diff = 0;
                    for (uint32_t i = 0; i < w * h; i++) {
                        uint32_t u = bps == 1 ? ref[i] : (uint32_t)ref[2 * i] | (uint32_t)ref[2 * i + 1] << 8;
                        u &= (1u << depth) - 1;
                        int32_t r = (int32_t)u;
                        if (sgn && (u >> (depth - 1)))
                            r -= (int32_t)(1u << depth);
                        int32_t v = q[i];
                        if (halves)
                            v /= 2;
                        else if (v && undecoded)
                            v += v < 0 ? -(int32_t)(1u << (undecoded - 1)) : (int32_t)(1u << (undecoded - 1));
                        v += shift;
                        const int32_t lo = sgn ? -(1 << (depth - 1)) : 0, hi = lo + (1 << depth) - 1;
                        v = v < lo ? lo : v > hi ? hi : v;
                        diff += v != r;
                    }
                    if (diff)
                        fprintf(stderr, "%ux%u depth %u%s -M %u %s: first layer differs from "
                                "opj_decompress -l 1 in %u samples (undecoded %u)\n", w, h, depth,
                                sgn ? "s" : "u", modes, layers_arg, diff, undecoded);
                    CHECK_EQ_INT(diff, 0);
                }
                free(ref);
                t1_single_free(&s1);
            }
        }
        free(q);
        free(scratch);
        t1_single_free(&s);
    }
    free(cs);
    free(img);
    return 1;
}

/* Truncation after every pass (TERMALL: one segment per pass): the decoded
 * indices agree with the source above the last decoded plane; after a
 * SigProp pass on plane 0 the block comes as twice its reconstruction
 * points (HTC_UNDECODED_HALVES): 2|q| + 1 exact, 2|q| + 2 with plane 0
 * missing. */
static void check_truncation(uint32_t depth, int sgn, uint32_t modes)
{
    const uint32_t w = 32, h = 24;
    int32_t img[32 * 24], q[32 * 24];
    make_image(img, w, h, depth, sgn, PAT_NOISE);
    char in[128], outp[128], cmd[512];
    snprintf(in, sizeof(in), "%s/in.raw", tmpdir);
    snprintf(outp, sizeof(outp), "%s/out.j2k", tmpdir);
    FILE *f = fopen(in, "wb");
    for (uint32_t i = 0; i < w * h; i++) {
        if (depth > 8)
            fputc((img[i] >> 8) & 0xFF, f);
        fputc(img[i] & 0xFF, f);
    }
    fclose(f);
    snprintf(cmd, sizeof(cmd), "opj_compress -i %s -F %u,%u,1,%u,%c -o %s -n 1 -b 32,32 -M %u >/dev/null 2>&1",
             in, w, h, depth, sgn ? 's' : 'u', outp, modes);
    size_t size;
    uint8_t *cs = system(cmd) == 0 ? htc_test_read_file(outp, &size) : NULL;
    T1Single s;
    if (!cs || t1_single_parse(cs, size, &s, 0) != 0) {
        CHECK(0);
        free(cs);
        return;
    }
    void *scratch = malloc(HTC_BLOCK_SCRATCH_SIZE);
    const int32_t shift = sgn ? 0 : 1 << (depth - 1);
    const uint32_t top = s.bp.mb - 1 - s.bp.zero_planes;
    uint32_t bad = 0, halves_seen = 0;
    for (uint32_t k = 1; k <= s.bp.num_passes; k++) {
        HtcBlockParams p = s.bp;
        p.num_passes = k;
        p.num_segments = k; /* TERMALL: one pass per segment */
        uint32_t und = 0;
        CHECK_EQ_INT(htc_t1_decode_block(&p, q, w, &und, scratch, HTC_BLOCK_SCRATCH_SIZE), 0);
        const uint32_t plane = top - (k + 1) / 3; /* of pass k - 1 */
        const int sp_last = k % 3 == 2;
        if (sp_last && plane == 0) {
            CHECK(und == HTC_UNDECODED_HALVES);
            halves_seen++;
        } else {
            CHECK_EQ_INT(und, plane);
        }
        for (uint32_t i = 0; i < w * h; i++) {
            const int32_t t = img[i] - shift;
            const uint32_t tm = (uint32_t)(t < 0 ? -t : t);
            const uint32_t qm = (uint32_t)(q[i] < 0 ? -q[i] : q[i]);
            int ok = !(q[i] < 0 && t > 0) && !(q[i] > 0 && t < 0);
            if (und == HTC_UNDECODED_HALVES)
                ok = ok && (qm == 0 ? (tm >> 1) == 0 || (tm & ~1u) == 0
                                    : (qm & 1) ? (qm - 1) / 2 == tm : (qm - 2) / 2 == (tm & ~1u));
            else
                ok = ok && (tm >> (und + 1)) == (qm >> (und + 1));
            bad += !ok;
        }
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(halves_seen, 1);
    free(scratch);
    t1_single_free(&s);
    free(cs);
}

/* Corrupt data, lengths and parameters: a status, bounded values, no
 * crash or out-of-bounds access (ASan). */
static void check_corrupt(void)
{
    const uint32_t w = 64, h = 64;
    int32_t *img = malloc(sizeof(int32_t) * w * h);
    int32_t *q = malloc(sizeof(int32_t) * w * h);
    void *scratch = malloc(HTC_BLOCK_SCRATCH_SIZE);
    static const uint32_t modes[] = { 0, 63, 1, 4, 5, 32 };
    for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
        char in[128], outp[128], cmd[512];
        make_image(img, w, h, 12, 0, PAT_NOISE);
        snprintf(in, sizeof(in), "%s/in.raw", tmpdir);
        snprintf(outp, sizeof(outp), "%s/out.j2k", tmpdir);
        FILE *f = fopen(in, "wb");
        for (uint32_t i = 0; i < w * h; i++) {
            fputc(img[i] >> 8, f);
            fputc(img[i] & 0xFF, f);
        }
        fclose(f);
        snprintf(cmd, sizeof(cmd), "opj_compress -i %s -F %u,%u,1,12,u -o %s -n 1 -b 64,64 -M %u "
                 "-r 8,4,1 >/dev/null 2>&1", in, w, h, outp, modes[m]);
        if (system(cmd) != 0) {
            CHECK(0);
            continue;
        }
        size_t size;
        uint8_t *cs = htc_test_read_file(outp, &size);
        T1Single s;
        if (!cs || t1_single_parse(cs, size, &s, 0) != 0) {
            CHECK(0);
            free(cs);
            continue;
        }
        size_t total = 0;
        for (uint32_t i = 0; i < s.bp.num_segments; i++)
            total += s.bp.seg_len[i];
        for (int it = 0; it < 300; it++) {
            HtcBlockParams p = s.bp;
            /* A buffer exactly as large as the lengths say, plus the pad. */
            size_t n = total;
            const int kind = it % 5;
            if (kind == 1) { /* random lengths */
                n = 0;
                for (uint32_t i = 0; i < p.num_segments; i++)
                    n += p.seg_len[i] = rnd() % (2 * (p.seg_len[i] + 1));
            }
            uint8_t *d = malloc(n + HTC_BLOCK_PAD);
            memcpy(d, s.data, HTC_MIN(n, total));
            if (n > total)
                memset(d + total, 0xFF, n - total);
            memset(d + n, 0, HTC_BLOCK_PAD);
            const int flips = 1 + (int)(rnd() % 8);
            for (int j = 0; j < flips && n; j++)
                d[rnd() % n] = (kind == 2) ? 0xFF : (uint8_t)rnd();
            if (kind == 3) { /* random parameters */
                p.zero_planes = rnd() % 40;
                p.mb = 1 + rnd() % 31;
                p.cblk_style = rnd() & 63;
                p.band = rnd() % 4;
            }
            if (kind == 4) { /* random pass counts */
                p.num_passes = 0;
                for (uint32_t i = 0; i < p.num_segments; i++)
                    p.num_passes += p.seg_passes[i] = rnd() % 12;
            }
            p.data = d;
            uint32_t und = 0;
            const int rc = htc_t1_decode_block(&p, q, w, &und, scratch, HTC_BLOCK_SCRATCH_SIZE);
            CHECK(rc == 0 || rc == HTC_ECORRUPT);
            uint32_t big = 0;
            for (uint32_t i = 0; i < w * h; i++) {
                const int64_t v = q[i] < 0 ? -(int64_t)q[i] : q[i];
                big += p.mb < 31 && v >= ((int64_t)1 << p.mb);
            }
            CHECK_EQ_INT(big, 0);
            free(d);
        }
        if (modes[m] & HTC_CBLK_SEGSYM) {
            /* A corrupt byte is found by a segmentation symbol: the block
             * decodes and says HTC_ECORRUPT. */
            int found = 0;
            for (int it = 0; it < 20; it++) {
                uint8_t *d = malloc(total + HTC_BLOCK_PAD);
                memcpy(d, s.data, total + HTC_BLOCK_PAD);
                d[rnd() % (total / 2 + 1)] ^= (uint8_t)(1 + rnd() % 255);
                HtcBlockParams p = s.bp;
                p.data = d;
                uint32_t und = 0;
                found += htc_t1_decode_block(&p, q, w, &und, scratch, HTC_BLOCK_SCRATCH_SIZE) == HTC_ECORRUPT;
                free(d);
            }
            /* With TERMALL a segment ends after each pass: only a byte
             * of a cleanup pass's own segment reaches its symbol. */
            CHECK(found >= ((modes[m] & HTC_CBLK_TERMALL) ? 2 : 10));
        }
        t1_single_free(&s);
        free(cs);
    }
    /* Pure garbage of every length, including 0, with many passes. */
    for (int it = 0; it < 200; it++) {
        HtcBlockParams p;
        memset(&p, 0, sizeof(p));
        p.width = 1 + rnd() % 64;
        p.height = 1 + rnd() % 64;
        p.mb = 1 + rnd() % 31;
        p.zero_planes = rnd() % p.mb;
        p.cblk_style = rnd() & 63;
        p.band = rnd() % 4;
        p.num_segments = 1 + rnd() % 8;
        size_t n = 0;
        for (uint32_t i = 0; i < p.num_segments; i++) {
            n += p.seg_len[i] = rnd() % 64;
            p.num_passes += p.seg_passes[i] = 1 + rnd() % 20;
        }
        uint8_t *d = malloc(n + HTC_BLOCK_PAD);
        for (size_t i = 0; i < n; i++)
            d[i] = (uint8_t)rnd();
        memset(d + n, 0, HTC_BLOCK_PAD);
        p.data = d;
        uint32_t und;
        const int rc = htc_t1_decode_block(&p, q, p.width, &und, scratch, HTC_BLOCK_SCRATCH_SIZE);
        CHECK(rc == 0 || rc == HTC_ECORRUPT);
        free(d);
    }
    /* Invalid arguments. */
    HtcBlockParams p;
    memset(&p, 0, sizeof(p));
    uint32_t und;
    p.width = 128, p.height = 64, p.mb = 8;
    CHECK_EQ_INT(htc_t1_decode_block(&p, q, 128, &und, scratch, HTC_BLOCK_SCRATCH_SIZE), HTC_EINVAL);
    p.width = 8, p.height = 8, p.mb = 32;
    CHECK_EQ_INT(htc_t1_decode_block(&p, q, 8, &und, scratch, HTC_BLOCK_SCRATCH_SIZE), HTC_EUNSUPPORTED);
    p.mb = 8;
    CHECK_EQ_INT(htc_t1_decode_block(&p, q, 8, &und, scratch, 16), 0); /* no passes: all zero */
    CHECK_EQ_INT(und, 8);
    free(img);
    free(q);
    free(scratch);
}

int main(void)
{
    if (system("command -v opj_compress >/dev/null 2>&1") != 0) {
        printf("t1_decode: opj_compress not found, skipped\n");
        return 77;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/htc_t1_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("t1_decode: no temporary folder, skipped\n");
        return 77;
    }
    static const struct { uint32_t w, h, cbw, cbh; } sizes[] = {
        { 4, 4, 4, 4 }, { 5, 3, 64, 64 }, { 16, 16, 16, 16 }, { 33, 17, 64, 64 }, { 64, 64, 64, 64 },
        { 64, 16, 64, 16 }, { 16, 64, 16, 64 }, { 1024, 4, 1024, 4 }, { 4, 1024, 4, 1024 },
        { 1, 1, 4, 4 }, { 1, 7, 4, 8 }, { 7, 1, 8, 4 }, { 32, 128, 32, 128 }, { 61, 63, 64, 64 },
    };
    static const uint32_t modes[] = { 0, 1, 2, 4, 8, 16, 32, 63, 5, 3, 12, 40, 9, 17, 36, 33, 62 };
    static const uint32_t depths[] = { 2, 4, 6, 8, 10, 12, 14, 16 };
    int cases = 0;
    /* Every size with a few patterns and modes. */
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        for (int pat = 0; pat < PAT_COUNT; pat++) {
            const uint32_t m = modes[(i * 7 + (unsigned)pat) % (sizeof(modes) / sizeof(modes[0]))];
            const uint32_t d = depths[(i + (unsigned)pat * 3) % 8];
            cases += check_case(sizes[i].w, sizes[i].h, sizes[i].cbw, sizes[i].cbh, d, (i + pat) & 1,
                                pat, m, "");
        }
    /* Every mode, on noise and on sparse data, 8 and 16 bits, signed and
     * not, one and three layers. */
    for (unsigned m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
        for (int v = 0; v < 4; v++) {
            const int pat = v & 1 ? PAT_SPARSE : PAT_NOISE;
            cases += check_case(64, 64, 64, 64, v & 2 ? 16 : 8, (int)(m & 1), pat, modes[m], "");
            cases += check_case(48, 40, 64, 64, v & 2 ? 12 : 6, (int)(v & 1), PAT_GRADIENT + v % 2 * 4,
                                modes[m], "-r 30,8,1 ");
        }
    /* Every depth. */
    for (unsigned d = 0; d < 8; d++)
        for (int sgn = 0; sgn < 2; sgn++)
            cases += check_case(32, 32, 32, 32, depths[d], sgn, PAT_NOISE, d & 1 ? 63 : 0, "-r 20,5,1 ");
    for (int sgn = 0; sgn < 2; sgn++) {
        check_truncation(8, sgn, 4);
        check_truncation(12, sgn, 4 | 8 | 2);
    }
    printf("t1_decode: %d encoder cases, %d first layers ending in SigProp (%d on plane 0)\n", cases,
           sp_last_cases, halves_cases);
    check_corrupt();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary("t1_decode");
}
