/* HT block decoder against OpenJPH: images no larger than one code-block
 * are made here, compressed with ojph_compress (-num_decomps 0, one block),
 * and the decoded quantisation indices must equal the source samples
 * (lossless) or be within one step of them (lossy). Corrupted copies of
 * the same blocks must decode to HTC_ECORRUPT or to something, never to an
 * access outside the block's bytes (run it under ASan). Skips (77) when
 * ojph_compress is missing. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coding/block.h"
#include "ht_single_block.h"
#include "htc/htc.h"
#include "test.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static char tmpdir[64];

enum { PAT_NOISE, PAT_GRADIENT, PAT_ZERO, PAT_SPIKE, PAT_EXTREMES, PAT_SPARSE, PAT_CHECKER,
       PAT_LOWNOISE, PAT_COUNT };
static const char *const pat_name[] = {"noise", "gradient", "zero", "spike", "extremes",
                                       "sparse", "checker", "lownoise"};

static void make_image(int32_t *img, uint32_t w, uint32_t h, uint32_t depth, int sgn, int pat)
{
    /* ojph_compress 0.9 reads .yuv samples as unsigned: signed images keep
     * to non-negative values (unsigned ones give negative indices anyway) */
    const int32_t lo = 0;
    const int32_t hi = sgn ? (1 << (depth - 1)) - 1 : (int32_t)((1u << depth) - 1);
    const int32_t mid = sgn ? (1 << (depth - 1)) / 2 : 1 << (depth - 1);
    const uint32_t range = (uint32_t)(hi - lo) + 1;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++) {
            int32_t v = mid;
            switch (pat) {
            case PAT_NOISE: v = lo + (int32_t)(rnd() % range); break;
            case PAT_GRADIENT: v = lo + (int32_t)((uint64_t)(x + y) * (range - 1) / (w + h)); break;
            case PAT_ZERO: v = mid; break;
            case PAT_SPIKE: v = (x == w / 2 && y == h / 3) ? hi : mid; break;
            case PAT_EXTREMES: v = ((x ^ y) & 1) ? hi : lo; if (rnd() % 5 == 0) v = mid; break;
            case PAT_SPARSE: v = rnd() % 23 == 0 ? lo + (int32_t)(rnd() % range) : mid; break;
            case PAT_CHECKER: v = ((x / 3 + y / 2) & 1) ? hi : mid; break;
            case PAT_LOWNOISE: v = mid + (int32_t)(rnd() % 5) - 2; if (v > hi) v = hi; if (v < lo) v = lo; break;
            }
            img[y * w + x] = v;
        }
    }
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *d = malloc((size_t)len + 1);
    if (d && fread(d, 1, (size_t)len, f) != (size_t)len) {
        free(d);
        d = NULL;
    }
    fclose(f);
    *n = (size_t)len;
    return d;
}

static uint32_t pow2_at_least(uint32_t v)
{
    uint32_t p = 4;
    while (p < v)
        p <<= 1;
    return p;
}

/* Compresses img; returns the codestream (malloc'd) or NULL. */
static uint8_t *compress(const int32_t *img, uint32_t w, uint32_t h, uint32_t depth, int sgn,
                         double qstep, size_t *n)
{
    char raw[128], j2c[128], cmd[1024];
    snprintf(raw, sizeof(raw), "%s/in.yuv", tmpdir);
    snprintf(j2c, sizeof(j2c), "%s/out.j2c", tmpdir);
    FILE *f = fopen(raw, "wb");
    if (!f)
        return NULL;
    for (uint32_t i = 0; i < w * h; i++) {
        if (depth <= 8) {
            const uint8_t b = (uint8_t)img[i];
            fwrite(&b, 1, 1, f);
        } else {
            const uint16_t s = (uint16_t)img[i];
            const uint8_t b[2] = {(uint8_t)s, (uint8_t)(s >> 8)};
            fwrite(b, 1, 2, f);
        }
    }
    fclose(f);
    const uint32_t bw = pow2_at_least(w), bh = pow2_at_least(h);
    char q[64] = "-reversible true";
    if (qstep > 0)
        snprintf(q, sizeof(q), "-reversible false -qstep %g", qstep);
    snprintf(cmd, sizeof(cmd),
             "ojph_compress -i %s -o %s -num_decomps 0 %s -block_size '{%u,%u}' -dims '{%u,%u}' "
             "-num_comps 1 -signed %s -bit_depth %u -downsamp '{1,1}' >/dev/null 2>&1",
             raw, j2c, q, bw, bh, w, h, sgn ? "true" : "false", depth);
    if (system(cmd) != 0)
        return NULL;
    return read_file(j2c, n);
}

/* Decodes the block into a buffer with a margin; checks the margin. */
static int decode(HsbInfo *info, int32_t *q, uint32_t *undecoded)
{
    const uint32_t w = info->width, h = info->height;
    const ptrdiff_t stride = w + 7;
    int32_t *buf = malloc(sizeof(int32_t) * (size_t)stride * (h + 2));
    for (ptrdiff_t i = 0; i < stride * (ptrdiff_t)(h + 2); i++)
        buf[i] = 0x5A5A5A5A;
    const uint8_t *orig_data = info->params.data;
    uint8_t *data = hsb_copy_data(&info->params);
    static uint8_t scratch[HTC_BLOCK_SCRATCH_SIZE];
    int32_t *out = buf + stride + 3;
    const int rc = htc_ht_decode_block(&info->params, out, stride, undecoded, scratch,
                                       sizeof(scratch));
    int margin_ok = 1;
    for (ptrdiff_t y = -1; y <= (ptrdiff_t)h; y++)
        for (ptrdiff_t x = -3; x < stride - 3; x++) {
            const int inside = y >= 0 && y < (ptrdiff_t)h && x >= 0 && x < (ptrdiff_t)w;
            if (!inside && out[y * stride + x] != 0x5A5A5A5A)
                margin_ok = 0;
            if (inside && q)
                q[y * w + x] = out[y * stride + x];
        }
    CHECK(margin_ok);
    info->params.data = orig_data;
    free(data);
    free(buf);
    return rc;
}

static int lossless_case(uint32_t w, uint32_t h, uint32_t depth, int sgn, int pat)
{
    int32_t *img = malloc(sizeof(int32_t) * w * h), *q = malloc(sizeof(int32_t) * w * h);
    make_image(img, w, h, depth, sgn, pat);
    size_t n;
    uint8_t *cs = compress(img, w, h, depth, sgn, 0, &n);
    int ok = 0;
    if (!cs) {
        fprintf(stderr, "ojph_compress failed for %ux%u %u-bit %s %s\n", w, h, depth,
                sgn ? "signed" : "unsigned", pat_name[pat]);
        CHECK(0);
        goto done;
    }
    HsbInfo info;
    if (hsb_parse(cs, n, &info) < 0 || info.width != w || info.height != h) {
        fprintf(stderr, "cannot parse the stream for %ux%u\n", w, h);
        CHECK(0);
        goto done;
    }
    uint32_t undecoded = 99;
    const int rc = decode(&info, q, &undecoded);
    CHECK_EQ_INT(rc, 0);
    const int32_t shift = sgn ? 0 : 1 << (depth - 1);
    uint32_t bad = 0, first = 0;
    for (uint32_t i = 0; i < w * h; i++) {
        if (q[i] + shift != img[i]) {
            if (!bad)
                first = i;
            bad++;
        }
    }
    if (bad)
        fprintf(stderr, "%ux%u %u-bit %s %s: %u wrong samples, first at (%u,%u): %d, expected %d\n",
                w, h, depth, sgn ? "signed" : "unsigned", pat_name[pat], bad, first % w, first / w,
                q[first] + shift, img[first]);
    CHECK_EQ_INT(bad, 0);
    if (info.included)
        CHECK_EQ_INT(undecoded, 0);
    ok = bad == 0 && rc == 0;

    /* The same cleanup pass announced as the last of several HT sets:
     * placeholder passes in its segment (k sets, k fewer missing MSBs), or
     * an earlier set in segments of its own (any bytes, ignored). Both put
     * the cleanup at the same bit-plane, so the samples must not change. */
    if (info.included && info.params.zero_planes >= 2 && info.params.num_segments == 1) {
        const HtcBlockParams orig = info.params;
        const size_t len = orig.seg_len[0];
        for (uint32_t k = 1; k <= 2; k++) {
            info.params = orig;
            info.params.zero_planes = orig.zero_planes - k;
            info.params.seg_passes[0] = 3 * k + 1;
            info.params.num_passes = 3 * k + 1;
            int32_t *q2 = malloc(sizeof(int32_t) * w * h);
            CHECK_EQ_INT(decode(&info, q2, &undecoded), 0);
            CHECK(!memcmp(q, q2, sizeof(int32_t) * w * h));
            /* set 0 in two segments of 7 junk bytes (cleanup, SigProp +
             * MagRef), then the real cleanup as set 1 */
            uint8_t *d = malloc(14 + len);
            for (int b = 0; b < 14; b++)
                d[b] = (uint8_t)rnd();
            memcpy(d + 14, orig.data, len);
            info.params = orig;
            info.params.data = d;
            info.params.zero_planes = orig.zero_planes - 1;
            info.params.num_segments = 3;
            info.params.seg_len[0] = 7;
            info.params.seg_passes[0] = 1;
            info.params.seg_len[1] = 7;
            info.params.seg_passes[1] = 2;
            info.params.seg_len[2] = (uint32_t)len;
            info.params.seg_passes[2] = 1;
            info.params.num_passes = 4;
            memset(q2, 0, sizeof(int32_t) * w * h);
            CHECK_EQ_INT(decode(&info, q2, &undecoded), 0);
            CHECK(!memcmp(q, q2, sizeof(int32_t) * w * h));
            CHECK_EQ_INT(undecoded, 0);
            free(d);
            free(q2);
        }
        info.params = orig;
    }

    /* corruptions of this block: each must give 0 or HTC_ECORRUPT */
    if (info.included && info.params.seg_len[0] >= 2) {
        const HtcBlockParams orig = info.params;
        const size_t len = orig.seg_len[0];
        uint8_t *mut = malloc(len);
        for (int t = 0; t < 24; t++) {
            memcpy(mut, orig.data, len);
            info.params = orig;
            info.params.data = mut;
            switch (t % 6) {
            case 0: mut[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: for (size_t k = 0; k < len; k++) mut[k] = (uint8_t)rnd(); break;
            case 2: info.params.seg_len[0] = 2 + rnd() % (uint32_t)(len - 1); break;
            case 3: mut[len - 1] = (uint8_t)rnd(); mut[len - 2] = (uint8_t)rnd(); break;
            case 4: info.params.zero_planes = rnd() % 40; break;
            case 5: memset(mut, 0xFF, len); break;
            }
            uint32_t und;
            const int r = decode(&info, NULL, &und);
            if (r != 0 && r != HTC_ECORRUPT)
                fprintf(stderr, "corruption %d of %ux%u: status %d\n", t, w, h, r);
            CHECK(r == 0 || r == HTC_ECORRUPT);
        }
        /* a cleanup length that puts Scup past the segment */
        memcpy(mut, orig.data, len);
        info.params = orig;
        info.params.data = mut;
        mut[len - 1] = 0xFF;
        mut[len - 2] |= 0x0F;
        if (len < 4079) {
            uint32_t und;
            CHECK_EQ_INT(decode(&info, NULL, &und), HTC_ECORRUPT);
        }
        free(mut);
    }
done:
    free(cs);
    free(img);
    free(q);
    return ok;
}

static void lossy_case(uint32_t w, uint32_t h, uint32_t depth, double qstep)
{
    int32_t *img = malloc(sizeof(int32_t) * w * h), *q = malloc(sizeof(int32_t) * w * h);
    make_image(img, w, h, depth, 0, PAT_NOISE);
    size_t n;
    uint8_t *cs = compress(img, w, h, depth, 0, qstep, &n);
    HsbInfo info;
    if (!cs || hsb_parse(cs, n, &info) < 0) {
        CHECK(0);
        goto done;
    }
    uint32_t undecoded = 99;
    CHECK_EQ_INT(decode(&info, q, &undecoded), 0);
    /* step in sample units: 2^(B - e) (1 + mu / 2^11), LL band, no levels */
    const double delta = ldexp(1.0 + info.mantissa / 2048.0, (int)depth - (int)info.exponent);
    double maxerr = 0;
    for (uint32_t i = 0; i < w * h; i++) {
        double r = 0;
        if (q[i]) {
            const double mag = fabs((double)q[i]) + (undecoded ? ldexp(0.5, (int)undecoded) : 0.5);
            r = (q[i] < 0 ? -mag : mag) * delta;
        }
        const double e = fabs(r + (1 << (depth - 1)) - img[i]);
        if (e > maxerr)
            maxerr = e;
    }
    if (maxerr > delta * 1.01 + 0.5)
        fprintf(stderr, "lossy %ux%u qstep %g: max error %.3f, step %.3f\n", w, h, qstep, maxerr,
                delta);
    CHECK(maxerr <= delta * 1.01 + 0.5);
done:
    free(cs);
    free(img);
    free(q);
}

int main(void)
{
    if (system("command -v ojph_compress >/dev/null 2>&1") != 0) {
        printf("test_ht_ojph: ojph_compress not found, skipped\n");
        return 77;
    }
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/htc_ht_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("test_ht_ojph: no temporary folder, skipped\n");
        return 77;
    }
    static const uint32_t sizes[][2] = {
        {4, 4}, {5, 5}, {8, 8}, {17, 17}, {32, 32}, {64, 64}, {1024, 4}, {4, 1024}, {128, 32},
        {1, 1}, {1, 7}, {7, 1}, {3, 2}, {2, 3}, {33, 9}, {63, 64}, {17, 5}, {5, 17}, {512, 8},
        {7, 450}, {3, 1024}, {1023, 3}, {64, 63},
    };
    static const uint32_t depths[] = {1, 2, 5, 8, 12, 16};
    uint32_t cases = 0, good = 0;
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t d = 0; d < sizeof(depths) / sizeof(depths[0]); d++) {
            for (int pat = 0; pat < PAT_COUNT; pat++) {
                /* every pattern for a few sizes, two rotating ones for the rest */
                if (s > 8 && pat != (int)((s + d) % PAT_COUNT) && pat != PAT_NOISE)
                    continue;
                for (int sgn = 0; sgn < 2; sgn++) {
                    if (sgn && (d + pat) % 2)
                        continue;
                    cases++;
                    good += (uint32_t)lossless_case(sizes[s][0], sizes[s][1], depths[d], sgn, pat);
                }
            }
        }
    }
    printf("lossless cases: %u of %u exact\n", good, cases);
    lossy_case(64, 64, 8, 0.01);
    lossy_case(32, 32, 12, 0.001);
    lossy_case(17, 5, 8, 0.1);
    lossy_case(1024, 4, 16, 0.0001);

    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return test_summary("test_ht_ojph");
}
