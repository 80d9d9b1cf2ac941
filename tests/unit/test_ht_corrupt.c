/* HT block decoder on damaged input: the HT code-blocks of corpus streams
 * (cleanup, SigProp/MagRef, placeholder passes, vertically causal) are
 * decoded as they are (status 0 expected), then with flipped bits, random
 * bytes, wrong segment lengths and pass counts, wrong missing MSBs. Each
 * must give 0 or HTC_ECORRUPT, write nothing outside the block, and read
 * nothing outside its bytes (run it under ASan). Skips (77) without the
 * corpus. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ht_corpus_blocks.h"
#include "test.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static uint8_t scratch[HTC_BLOCK_SCRATCH_SIZE];

/* Decodes p into a buffer with a guard margin; returns the status. */
static int decode_guarded(const HtcBlockParams *p, int *margin_ok)
{
    const ptrdiff_t stride = p->width + 5;
    const size_t n = (size_t)stride * (p->height + 2);
    int32_t *buf = malloc(n * sizeof(int32_t));
    for (size_t i = 0; i < n; i++)
        buf[i] = 0x33CC33CC;
    int32_t *out = buf + stride + 2;
    uint32_t und = 0;
    const int rc = htc_ht_decode_block(p, out, stride, &und, scratch, sizeof(scratch));
    *margin_ok = 1;
    for (ptrdiff_t y = -1; y <= (ptrdiff_t)p->height; y++)
        for (ptrdiff_t x = -2; x < stride - 2; x++) {
            const int inside = y >= 0 && y < (ptrdiff_t)p->height && x >= 0 && x < (ptrdiff_t)p->width;
            if (!inside && out[y * stride + x] != 0x33CC33CC)
                *margin_ok = 0;
        }
    free(buf);
    return rc;
}

static size_t total_len(const HtcBlockParams *p)
{
    size_t t = 0;
    for (uint32_t k = 0; k < p->num_segments; k++)
        t += p->seg_len[k];
    return t;
}

static void damage(const HtcBlockParams *orig, int kind)
{
    HtcBlockParams p = *orig;
    const size_t len = total_len(orig);
    /* exactly len + pad bytes, so ASan sees any read beyond */
    uint8_t *d = malloc(len + HTC_BLOCK_PAD);
    memcpy(d, orig->data, len);
    memset(d + len, 0, HTC_BLOCK_PAD);
    p.data = d;
    switch (kind) {
    case 0:
        if (len)
            d[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8));
        break;
    case 1:
        for (size_t i = 0; i < len; i++)
            d[i] = (uint8_t)rnd();
        break;
    case 2: /* shorter segments: the bytes stay where they are */
        for (uint32_t k = 0; k < p.num_segments; k++)
            if (p.seg_len[k])
                p.seg_len[k] = rnd() % p.seg_len[k];
        break;
    case 3: /* lengths moved between segments */
        if (p.num_segments >= 2) {
            const uint32_t m = rnd() % (p.seg_len[0] + 1);
            p.seg_len[0] -= m;
            p.seg_len[1] += m;
        }
        break;
    case 4:
        p.zero_planes = rnd() % 34;
        break;
    case 5: /* more or fewer passes in the last segment */
        if (p.num_segments) {
            const uint32_t k = p.num_segments - 1;
            const uint32_t add = rnd() % 5;
            if (rnd() & 1 && p.seg_passes[k] > add) {
                p.seg_passes[k] -= add;
                p.num_passes -= add;
            } else {
                p.seg_passes[k] += add;
                p.num_passes += add;
            }
        }
        break;
    case 6:
        memset(d, rnd() & 1 ? 0xFF : 0x00, len);
        break;
    case 7: /* Scup bytes */
        if (orig->num_segments && orig->seg_len[0] >= 2) {
            const size_t c = orig->seg_len[0];
            size_t off = 0;
            d[off + c - 1] = (uint8_t)rnd();
            d[off + c - 2] = (uint8_t)rnd();
        }
        break;
    case 8:
        p.cblk_style ^= HTC_CBLK_VCAUSAL;
        if (len)
            d[rnd() % len] = (uint8_t)rnd();
        break;
    }
    int margin_ok;
    const int rc = decode_guarded(&p, &margin_ok);
    if (rc != 0 && rc != HTC_ECORRUPT)
        fprintf(stderr, "damage %d: status %d\n", kind, rc);
    CHECK(rc == 0 || rc == HTC_ECORRUPT);
    CHECK(margin_ok);
    free(d);
}

int main(void)
{
    static const char *const files[] = {
        "htj2k/conformance/ds0_ht_07_b11.j2k",  /* SigProp/MagRef, placeholders */
        "htj2k/conformance/ds1_ht_05_b11.j2k",  /* vertically causal, SigProp only */
        "htj2k/conformance/ds0_ht_06_b11.j2k",  /* RGN */
        "htj2k/conformance/hifi_ht1_02.j2k",
        "htj2k/openjph/simple_dec_rev53_64x64.jph",
        "htj2k/openjph/simple_enc_rev53_tall_narrow.j2c",
        "htj2k/medical/CT1.j2c",
    };
    uint32_t files_read = 0;
    for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
        char path[512];
        snprintf(path, sizeof(path), "%s/%s", TESTDATA, files[f]);
        HtBlockSet set;
        if (!ht_blocks_load(path, &set))
            continue;
        files_read++;
        uint32_t bad = 0;
        for (uint32_t i = 0; i < set.count; i++) {
            int margin_ok;
            const int rc = decode_guarded(&set.blocks[i], &margin_ok);
            bad += rc != 0 || !margin_ok;
        }
        if (bad)
            fprintf(stderr, "%s: %u of %u blocks failed\n", files[f], bad, set.count);
        CHECK_EQ_INT(bad, 0);
        /* damage a sample of the blocks */
        const uint32_t step = set.count > 300 ? set.count / 300 : 1;
        for (uint32_t i = 0; i < set.count; i += step)
            for (int kind = 0; kind < 9; kind++)
                damage(&set.blocks[i], kind);
        ht_blocks_free(&set);
    }
    if (!files_read) {
        printf("test_ht_corrupt: corpus not found at %s, skipped\n", TESTDATA);
        return 77;
    }
    return test_summary("test_ht_corrupt");
}
