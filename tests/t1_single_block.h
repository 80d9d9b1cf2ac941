/* Test-only: extracts the one code-block of a small Part 1 codestream made
 * by `opj_compress -n 1 -b N,N` (0 decomposition levels, one tile, one
 * component, one precinct, one code-block, any number of layers) and fills
 * the HtcBlockParams the block decoder takes. It parses SIZ/COD/QCD just
 * enough and the Part 1 packet headers (B.10): inclusion and zero bit-plane
 * tag trees of one node, the number of passes, Lblock and the segment
 * lengths, split as the code-block style terminates the passes. This is a
 * second, independent reading of tier 2, so tests of the block decoder need
 * not wait for the real one. */
#ifndef HTC_T1_SINGLE_BLOCK_H
#define HTC_T1_SINGLE_BLOCK_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coding/block.h"
#include "htc/stream.h"

typedef struct T1Single {
    HtcBlockParams bp;         /* bp.data points into data */
    uint8_t *data;             /* contributions of every layer + HTC_BLOCK_PAD zeros */
    uint32_t width, height;
    uint32_t precision, is_signed;
    uint32_t layers, levels, reversible;
    uint32_t guard, exponent;
} T1Single;

typedef struct T1Bits {
    const uint8_t *p, *end;
    uint32_t buf;
    int ct;
} T1Bits;

static uint32_t t1s_bit(T1Bits *b)
{
    if (b->ct == 0) {
        b->ct = b->buf == 0xFF ? 7 : 8;
        b->buf = b->p < b->end ? *b->p : 0;
        b->p++;
    }
    b->ct--;
    return (b->buf >> b->ct) & 1;
}

static uint32_t t1s_bits(T1Bits *b, uint32_t n)
{
    uint32_t v = 0;
    while (n--)
        v = v << 1 | t1s_bit(b);
    return v;
}

static uint32_t t1s_log2(uint32_t v)
{
    uint32_t l = 0;
    while (v >>= 1)
        l++;
    return l;
}

/* Pass index after which the codeword segment starting at pass k ends. */
static uint32_t t1s_seg_end(uint32_t k, uint32_t style)
{
    if (style & HTC_CBLK_TERMALL)
        return k + 1;
    if (style & HTC_CBLK_BYPASS) {
        if (k < 10)
            return 10;
        return ((k - 1) % 3 == 0) ? k + 2 : k + 1;
    }
    return UINT32_MAX;
}

static void t1_single_free(T1Single *s)
{
    free(s->data);
    s->data = NULL;
}

/* Returns 0 or a negative number saying which step failed. max_layers = 0
 * means all layers. */
static int t1_single_parse(const uint8_t *cs, size_t size, T1Single *s, uint32_t max_layers)
{
    memset(s, 0, sizeof(*s));
    if (size < 4 || cs[0] != 0xFF || cs[1] != 0x4F)
        return -1;
    size_t pos = 2;
    uint32_t style = 0, xcb = 0, ycb = 0, scod = 0;
    int have_siz = 0, have_cod = 0, have_qcd = 0;
    size_t tile_end = 0;
    for (;;) {
        if (pos + 4 > size)
            return -2;
        const uint32_t m = (uint32_t)cs[pos] << 8 | cs[pos + 1];
        const uint32_t len = (uint32_t)cs[pos + 2] << 8 | cs[pos + 3];
        const uint8_t *q = cs + pos + 4;
        if (m == 0xFF93) { /* SOD */
            pos += 2;
            break;
        }
        if (len < 2 || pos + 2 + len > size)
            return -3;
        if (m == 0xFF51) {
            const uint32_t x1 = (uint32_t)q[2] << 24 | q[3] << 16 | q[4] << 8 | q[5];
            const uint32_t y1 = (uint32_t)q[6] << 24 | q[7] << 16 | q[8] << 8 | q[9];
            const uint32_t x0 = (uint32_t)q[10] << 24 | q[11] << 16 | q[12] << 8 | q[13];
            const uint32_t y0 = (uint32_t)q[14] << 24 | q[15] << 16 | q[16] << 8 | q[17];
            const uint32_t nc = (uint32_t)q[34] << 8 | q[35];
            if (nc != 1 || x0 || y0)
                return -4;
            s->width = x1;
            s->height = y1;
            s->precision = (q[36] & 0x7F) + 1u;
            s->is_signed = q[36] >> 7;
            have_siz = 1;
        } else if (m == 0xFF52) {
            scod = q[0];
            s->layers = (uint32_t)q[2] << 8 | q[3];
            s->levels = q[5];
            xcb = (q[6] & 0xF) + 2u;
            ycb = (q[7] & 0xF) + 2u;
            style = q[8];
            s->reversible = q[9] == 1;
            have_cod = 1;
        } else if (m == 0xFF5C) {
            s->guard = q[0] >> 5;
            s->exponent = q[1] >> 3; /* the top 5 bits, of 8- or 16-bit SPqcd */
            have_qcd = 1;
        } else if (m == 0xFF90) {
            const uint32_t psot = (uint32_t)q[2] << 24 | q[3] << 16 | q[4] << 8 | q[5];
            tile_end = psot ? pos + psot : size;
        }
        pos += 2 + len;
    }
    if (!have_siz || !have_cod || !have_qcd || s->levels != 0)
        return -5;
    if (s->width > (1u << xcb) || s->height > (1u << ycb))
        return -6;
    if (tile_end == 0 || tile_end > size)
        tile_end = size;
    if (tile_end >= 2 && cs[tile_end - 2] == 0xFF && cs[tile_end - 1] == 0xD9)
        tile_end -= 2;

    HtcBlockParams *bp = &s->bp;
    bp->width = s->width;
    bp->height = s->height;
    bp->mb = s->guard + s->exponent - 1;
    bp->cblk_style = style;
    bp->band = 0;
    s->data = calloc(tile_end - pos + HTC_BLOCK_PAD, 1);
    if (!s->data)
        return -7;
    size_t dlen = 0;
    int included = 0;
    uint32_t incl_low = 0, lblock = 3, passes = 0;
    const uint32_t nl = max_layers && max_layers < s->layers ? max_layers : s->layers;
    for (uint32_t l = 0; l < nl; l++) {
        if (pos + 6 <= tile_end && cs[pos] == 0xFF && cs[pos + 1] == 0x91)
            pos += 6; /* SOP */
        T1Bits b = { cs + pos, cs + tile_end, 0, 0 };
        uint32_t lens[HTC_MAX_SEGMENTS], segp[HTC_MAX_SEGMENTS], nseg = 0;
        if (t1s_bit(&b)) {
            int in_layer;
            if (!included) {
                /* One-node tag tree: 0 bits raise the lower bound until
                 * it passes the layer, a 1 says the value is the bound. */
                in_layer = 0;
                while (incl_low <= l) {
                    if (t1s_bit(&b)) {
                        in_layer = 1;
                        break;
                    }
                    incl_low++;
                }
            } else {
                in_layer = (int)t1s_bit(&b);
            }
            if (in_layer) {
                if (!included) {
                    uint32_t p = 0;
                    while (!t1s_bit(&b) && p < 64)
                        p++;
                    bp->zero_planes = p;
                    included = 1;
                }
                uint32_t np;
                if (!t1s_bit(&b))
                    np = 1;
                else if (!t1s_bit(&b))
                    np = 2;
                else if ((np = t1s_bits(&b, 2)) != 3)
                    np += 3;
                else if ((np = t1s_bits(&b, 5)) != 31)
                    np += 6;
                else
                    np = 37 + t1s_bits(&b, 7);
                while (t1s_bit(&b))
                    lblock++;
                uint32_t k = passes, left = np;
                while (left) {
                    uint32_t e = t1s_seg_end(k, style);
                    uint32_t n = e - k < left ? e - k : left;
                    if (nseg == HTC_MAX_SEGMENTS)
                        return -8;
                    lens[nseg] = t1s_bits(&b, lblock + t1s_log2(n));
                    segp[nseg++] = n;
                    k += n;
                    left -= n;
                }
                passes += np;
            }
        }
        /* End of the header: skip the rest of the byte, and a stuffed
         * byte after a 0xFF. */
        if (b.buf == 0xFF)
            b.p++;
        pos = (size_t)(b.p - cs);
        if (pos + 2 <= tile_end && cs[pos] == 0xFF && cs[pos + 1] == 0x92)
            pos += 2; /* EPH */
        for (uint32_t i = 0; i < nseg; i++) {
            if (pos + lens[i] > tile_end || bp->num_segments == HTC_MAX_SEGMENTS)
                return -9;
            memcpy(s->data + dlen, cs + pos, lens[i]);
            dlen += lens[i];
            pos += lens[i];
            bp->seg_len[bp->num_segments] = lens[i];
            bp->seg_passes[bp->num_segments++] = segp[i];
        }
    }
    (void)scod;
    bp->num_passes = passes;
    bp->data = s->data;
    return 0;
}

#endif /* HTC_T1_SINGLE_BLOCK_H */
