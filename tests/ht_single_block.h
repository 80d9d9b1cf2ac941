/* Test helper: extracts the one code-block of a small HTJ2K codestream
 * (one tile, one component, no DWT levels, one layer, one packet), as
 * `ojph_compress -num_decomps 0 -block_size {W,H}` writes it for an image
 * no larger than one code-block. Parses SIZ/COD/QCD just enough and the
 * packet header as Part 15 codes it for HT code-blocks. Test-only code. */
#ifndef HTC_TEST_HT_SINGLE_BLOCK_H
#define HTC_TEST_HT_SINGLE_BLOCK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coding/block.h"

typedef struct HsbInfo {
    uint32_t width, height;     /* image = code-block */
    uint32_t depth;             /* bits per sample */
    int is_signed;
    uint32_t guard, exponent, mantissa, qstyle;
    int reversible;
    uint32_t cblk_style;
    uint32_t mb;
    int included;               /* the block has passes */
    HtcBlockParams params;      /* data points into the stream */
    size_t data_offset;         /* of the block's first byte in the stream */
} HsbInfo;

typedef struct HsbBits {
    const uint8_t *p, *end;
    uint32_t cur, n;            /* bits left in cur, MSB first */
    int last_ff;
} HsbBits;

static int hsb_bit(HsbBits *b)
{
    if (!b->n) {
        if (b->p >= b->end)
            return -1;
        const uint32_t byte = *b->p++;
        b->n = b->last_ff ? 7 : 8;
        b->cur = byte & (b->last_ff ? 0x7F : 0xFF);
        b->last_ff = byte == 0xFF;
    }
    b->n--;
    return (int)(b->cur >> b->n & 1);
}

static int hsb_bits(HsbBits *b, uint32_t k, uint32_t *v)
{
    *v = 0;
    for (uint32_t i = 0; i < k; i++) {
        const int bit = hsb_bit(b);
        if (bit < 0)
            return -1;
        *v = *v << 1 | (uint32_t)bit;
    }
    return 0;
}

static uint32_t hsb_floorlog2(uint32_t v)
{
    uint32_t l = 0;
    while (v >>= 1)
        l++;
    return l;
}

/* Returns 0 on success, -1 when the stream is not what this helper reads. */
static int hsb_parse(const uint8_t *s, size_t n, HsbInfo *info)
{
    memset(info, 0, sizeof(*info));
    if (n < 4 || s[0] != 0xFF || s[1] != 0x4F)
        return -1;
    size_t i = 2;
    int have_siz = 0, have_cod = 0, have_qcd = 0;
    uint32_t levels = 0;
    while (i + 4 <= n) {
        if (s[i] != 0xFF)
            return -1;
        const uint32_t m = s[i + 1];
        const uint32_t len = (uint32_t)s[i + 2] << 8 | s[i + 3];
        const uint8_t *seg = s + i + 4;
        if (i + 2 + len > n)
            return -1;
        if (m == 0x51) {
            const uint32_t x1 = (uint32_t)seg[2] << 24 | seg[3] << 16 | seg[4] << 8 | seg[5];
            const uint32_t y1 = (uint32_t)seg[6] << 24 | seg[7] << 16 | seg[8] << 8 | seg[9];
            const uint32_t x0 = (uint32_t)seg[10] << 24 | seg[11] << 16 | seg[12] << 8 | seg[13];
            const uint32_t y0 = (uint32_t)seg[14] << 24 | seg[15] << 16 | seg[16] << 8 | seg[17];
            const uint32_t csiz = (uint32_t)seg[34] << 8 | seg[35];
            if (csiz != 1)
                return -1;
            info->width = x1 - x0;
            info->height = y1 - y0;
            info->depth = (seg[36] & 0x7F) + 1u;
            info->is_signed = seg[36] >> 7;
            have_siz = 1;
        } else if (m == 0x52) {
            levels = seg[5];
            info->cblk_style = seg[8];
            info->reversible = seg[9] == 1;
            have_cod = 1;
        } else if (m == 0x5C) {
            info->guard = seg[0] >> 5;
            info->qstyle = seg[0] & 0x1F;
            if (info->qstyle == 0) {
                info->exponent = seg[1] >> 3;
            } else {
                const uint32_t v = (uint32_t)seg[1] << 8 | seg[2];
                info->exponent = v >> 11;
                info->mantissa = v & 0x7FF;
            }
            have_qcd = 1;
        } else if (m == 0x90) {
            i += 2 + len;
            break;
        }
        i += 2 + len;
    }
    if (!have_siz || !have_cod || !have_qcd || levels != 0 || !(info->cblk_style & 0x40))
        return -1;
    /* after SOT: SOD */
    if (i + 2 > n || s[i] != 0xFF || s[i + 1] != 0x93)
        return -1;
    i += 2;
    info->mb = info->guard + info->exponent - 1;

    HtcBlockParams *p = &info->params;
    p->width = info->width;
    p->height = info->height;
    p->mb = info->mb;
    p->cblk_style = info->cblk_style;
    HsbBits b = {s + i, s + n, 0, 0, 0};
    uint32_t v;
    if (hsb_bits(&b, 1, &v) < 0)
        return -1;
    if (v) {
        if (hsb_bits(&b, 1, &v) < 0)   /* inclusion tag tree, one node */
            return -1;
        info->included = (int)v;
    }
    if (info->included) {
        uint32_t zeros = 0;
        for (;;) {
            const int bit = hsb_bit(&b);
            if (bit < 0 || zeros > 64)
                return -1;
            if (bit)
                break;
            zeros++;
        }
        p->zero_planes = zeros;
        /* number of passes */
        uint32_t passes = 1;
        if (hsb_bits(&b, 1, &v) < 0)
            return -1;
        if (v) {
            passes = 2;
            if (hsb_bits(&b, 1, &v) < 0)
                return -1;
            if (v) {
                if (hsb_bits(&b, 2, &v) < 0)
                    return -1;
                passes = 3 + v;
                if (v == 3) {
                    if (hsb_bits(&b, 5, &v) < 0)
                        return -1;
                    passes = 6 + v;
                    if (v == 31) {
                        if (hsb_bits(&b, 7, &v) < 0)
                            return -1;
                        passes = 37 + v;
                    }
                }
            }
        }
        uint32_t lblock = 3;
        for (;;) {
            const int bit = hsb_bit(&b);
            if (bit < 0)
                return -1;
            if (!bit)
                break;
            lblock++;
        }
        /* HT: the cleanup segment holds the placeholder passes and the
         * cleanup pass; the refinement segment the rest (1 or 2 passes) */
        const uint32_t ref = (passes - 1) % 3, cup = passes - ref;
        if (hsb_bits(&b, lblock + hsb_floorlog2(cup), &v) < 0)
            return -1;
        p->seg_len[0] = v;
        p->seg_passes[0] = cup;
        p->num_segments = 1;
        if (ref) {
            if (hsb_bits(&b, lblock + hsb_floorlog2(ref), &v) < 0)
                return -1;
            p->seg_len[1] = v;
            p->seg_passes[1] = ref;
            p->num_segments = 2;
        }
        p->num_passes = passes;
    }
    /* the header ends at a byte boundary; a 0xFF last byte is followed by
     * a stuffed byte */
    if (b.last_ff)
        b.p++;
    info->data_offset = (size_t)(b.p - s);
    uint64_t total = 0;
    for (uint32_t k = 0; k < p->num_segments; k++)
        total += p->seg_len[k];
    if (info->data_offset + total > n)
        return -1;
    p->data = s + info->data_offset;
    return 0;
}

/* Copies the block's bytes into a buffer of exactly their size plus
 * HTC_BLOCK_PAD zero bytes (so that ASan sees any read past the pad) and
 * points params->data at it. Free the result with free(). */
static uint8_t *hsb_copy_data(HtcBlockParams *p)
{
    size_t total = 0;
    for (uint32_t k = 0; k < p->num_segments; k++)
        total += p->seg_len[k];
    uint8_t *d = malloc(total + HTC_BLOCK_PAD);
    if (!d)
        return NULL;
    if (total)
        memcpy(d, p->data, total);
    memset(d + total, 0, HTC_BLOCK_PAD);
    p->data = d;
    return d;
}

#endif /* HTC_TEST_HT_SINGLE_BLOCK_H */
