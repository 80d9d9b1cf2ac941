/* Tag trees (B.10.2): a small reference encoder in this test writes the
 * bits for random value arrays, as inclusion trees (thresholds layer by
 * layer) and as zero bit-plane trees (full values), packed into bytes as a
 * packet header is (7 bits after a 0xFF byte); the decoder must give back
 * every value and end just after the last byte. Also the node counts and a
 * reader that runs dry. */
#include <stdlib.h>
#include <string.h>

#include "codestream/tagtree.h"
#include "internal.h"
#include "test.h"

typedef struct Enc {
    uint32_t *value, *low;
    uint8_t *known;
    uint32_t *parent;
    uint32_t n;
} Enc;

typedef struct Bits {
    uint8_t b[1 << 16];
    size_t n, pos;
} Bits;

/* The bits as packet header bytes; returns their number. */
static size_t pack(const Bits *b, uint8_t *out)
{
    size_t n = 0;
    uint32_t cur = 0, used = 0, width = 8;
    for (size_t i = 0; i < b->n; i++) {
        cur = cur << 1 | b->b[i];
        if (++used == width) {
            out[n++] = (uint8_t)cur;
            width = cur == 0xFF ? 7 : 8;
            cur = used = 0;
        }
    }
    if (used) {
        out[n++] = (uint8_t)(cur << (width - used));
        width = out[n - 1] == 0xFF ? 7 : 8;
    }
    if (width == 7)
        out[n++] = 0; /* a header does not end on 0xFF */
    return n;
}

/* A reader over bytes[0, n). */
typedef struct Reader {
    HtcSpan span;
    HtcT2Bytes bs;
    HtcT2Bits br;
} Reader;

static void reader_start(Reader *r, const uint8_t *bytes, size_t n)
{
    r->span.offset = 0;
    r->span.length = n;
    r->bs.base = bytes;
    r->bs.spans = &r->span;
    r->bs.nspans = 1;
    r->bs.si = 0;
    r->bs.pos = 0;
    htc_t2_bits_start(&r->br, &r->bs);
}

/* Where the stream stands after the header ends. */
static uint64_t reader_end(Reader *r)
{
    htc_t2_bits_align(&r->br);
    return r->bs.pos;
}

/* Builds the encoder's tree over leaves v (w x h): same layout as the decoder. */
static void enc_build(Enc *e, const uint32_t *v, uint32_t w, uint32_t h)
{
    e->n = htc_tagtree_num_nodes(w, h);
    e->value = calloc(e->n, 4);
    e->low = calloc(e->n, 4);
    e->known = calloc(e->n, 1);
    e->parent = calloc(e->n, 4);
    for (uint32_t i = 0; i < e->n; i++)
        e->value[i] = UINT32_MAX;
    uint32_t base = 0, lw = w, lh = h;
    memcpy(e->value, v, sizeof(uint32_t) * w * h);
    while (!(lw == 1 && lh == 1)) {
        const uint32_t pw = (lw + 1) / 2, ph = (lh + 1) / 2, pb = base + lw * lh;
        for (uint32_t y = 0; y < lh; y++)
            for (uint32_t x = 0; x < lw; x++) {
                const uint32_t p = pb + (y / 2) * pw + x / 2;
                e->parent[base + y * lw + x] = p;
                if (e->value[base + y * lw + x] < e->value[p])
                    e->value[p] = e->value[base + y * lw + x];
            }
        base = pb;
        lw = pw;
        lh = ph;
    }
    e->parent[base] = UINT32_MAX;
}

static void enc_free(Enc *e)
{
    free(e->value);
    free(e->low);
    free(e->known);
    free(e->parent);
}

static void enc_leaf(Enc *e, uint32_t leaf, uint32_t threshold, Bits *out)
{
    uint32_t path[40];
    int d = 0;
    for (uint32_t n = leaf; n != UINT32_MAX; n = e->parent[n])
        path[d++] = n;
    uint32_t low = 0;
    for (int i = d - 1; i >= 0; i--) {
        const uint32_t n = path[i];
        if (low > e->low[n])
            e->low[n] = low;
        else
            low = e->low[n];
        while (low < threshold) {
            if (low >= e->value[n]) {
                if (!e->known[n]) {
                    out->b[out->n++] = 1;
                    e->known[n] = 1;
                }
                break;
            }
            out->b[out->n++] = 0;
            low++;
        }
        e->low[n] = low;
    }
}

int main(void)
{
    CHECK_EQ_INT(htc_tagtree_num_nodes(0, 5), 0);
    CHECK_EQ_INT(htc_tagtree_num_nodes(1, 1), 1);
    CHECK_EQ_INT(htc_tagtree_num_nodes(2, 2), 5);
    CHECK_EQ_INT(htc_tagtree_num_nodes(3, 2), 6 + 2 + 1);
    CHECK_EQ_INT(htc_tagtree_num_nodes(64, 1), 64 + 32 + 16 + 8 + 4 + 2 + 1);

    static Bits bits;
    static uint8_t bytes[1 << 14];
    Reader rd;
    srand(5);
    for (int trial = 0; trial < 200; trial++) {
        const uint32_t w = 1 + (uint32_t)rand() % 17, h = 1 + (uint32_t)rand() % 13;
        const uint32_t maxv = 1 + (uint32_t)rand() % 9;
        uint32_t v[17 * 13];
        for (uint32_t i = 0; i < w * h; i++)
            v[i] = (uint32_t)rand() % (maxv + 1);
        /* Inclusion: layers 0 .. maxv, leaves not yet included. */
        Enc e;
        enc_build(&e, v, w, h);
        bits.n = bits.pos = 0;
        uint8_t inc[17 * 13] = { 0 };
        for (uint32_t l = 0; l <= maxv; l++)
            for (uint32_t i = 0; i < w * h; i++)
                if (!inc[i]) {
                    enc_leaf(&e, i, l + 1, &bits);
                    inc[i] = v[i] <= l;
                }
        enc_free(&e);
        HtcTagNode *nodes = calloc(htc_tagtree_num_nodes(w, h), sizeof(HtcTagNode));
        HtcTagTree t;
        htc_tagtree_init(&t, nodes, w, h);
        uint32_t first[17 * 13];
        memset(inc, 0, sizeof(inc));
        size_t nbytes = pack(&bits, bytes);
        reader_start(&rd, bytes, nbytes);
        int bad = 0;
        for (uint32_t l = 0; l <= maxv; l++)
            for (uint32_t i = 0; i < w * h; i++)
                if (!inc[i]) {
                    const int r = htc_tagtree_decode(&t, i, l + 1, &rd.br);
                    if (r < 0)
                        bad++;
                    if (r == 1) {
                        inc[i] = 1;
                        first[i] = l;
                    }
                }
        for (uint32_t i = 0; i < w * h; i++)
            bad += !inc[i] || first[i] != v[i];
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(reader_end(&rd), nbytes);

        /* Zero bit-planes: each leaf's value in full, raster order. */
        enc_build(&e, v, w, h);
        bits.n = bits.pos = 0;
        for (uint32_t i = 0; i < w * h; i++)
            for (uint32_t th = 1; th <= v[i] + 1; th++)
                enc_leaf(&e, i, th, &bits);
        enc_free(&e);
        htc_tagtree_reset(&t);
        nbytes = pack(&bits, bytes);
        reader_start(&rd, bytes, nbytes);
        bad = 0;
        for (uint32_t i = 0; i < w * h; i++)
            bad += htc_tagtree_value(&t, i, 64, &rd.br) != (int64_t)v[i];
        CHECK_EQ_INT(bad, 0);
        CHECK_EQ_INT(reader_end(&rd), nbytes);
        free(nodes);
    }

    /* A reader that runs dry gives its status back; endless zeros hit the limit. */
    HtcTagNode nodes[5];
    HtcTagTree t;
    htc_tagtree_init(&t, nodes, 2, 2);
    reader_start(&rd, bytes, 0);
    CHECK_EQ_INT(htc_tagtree_decode(&t, 3, 2, &rd.br), HTC_ETRUNCATED);
    memset(bytes, 0, 13);
    reader_start(&rd, bytes, 13);
    htc_tagtree_reset(&t);
    CHECK_EQ_INT(htc_tagtree_value(&t, 0, 20, &rd.br), HTC_ECORRUPT);
    /* Eight zeros, then the data ends before limit 20 is reached. */
    reader_start(&rd, bytes, 1);
    htc_tagtree_reset(&t);
    CHECK_EQ_INT(htc_tagtree_value(&t, 0, 20, &rd.br), HTC_ETRUNCATED);
    return test_summary("test_tagtree");
}
