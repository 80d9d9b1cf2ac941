/* htcodec: packet headers (B.10) and packet bodies: inclusion, zero
 * bit-planes, coding passes, Lblock and segment lengths for Part 1 and HT
 * code-blocks, SOP/EPH, packed headers (PPM/PPT); the result goes into the
 * job table (tier2.c). */
#include <math.h>

#include "codestream/tier2_internal.h"
#include "coding/block.h"
#include "hd.h"

/* ---- bytes (tier2_bits.h has the stream and the bit reader) ---- */

typedef HtcT2Bytes ByteStream;

/* Whether the next two bytes are 0xFF, m (without consuming them). */
static int bs_peek_marker(ByteStream *b, uint8_t m)
{
    htc_t2_bytes_norm(b);
    if (b->si < b->nspans && b->spans[b->si].length - b->pos >= 2) {
        const uint8_t *q = b->base + b->spans[b->si].offset + b->pos;
        return q[0] == 0xFF && q[1] == m;
    }
    ByteStream c = *b;
    return htc_t2_bytes_get(&c) == 0xFF && htc_t2_bytes_get(&c) == m;
}

static int bs_skip(ByteStream *b, uint64_t n)
{
    while (n) {
        htc_t2_bytes_norm(b);
        if (b->si >= b->nspans)
            return -1;
        const uint64_t left = b->spans[b->si].length - b->pos;
        const uint64_t k = HTC_MIN(left, n);
        b->pos += k;
        n -= k;
    }
    return 0;
}

/* B.10.6 number of coding passes: 0, 10, 11xx, 1111xxxxx, 111111111xxxxxxx,
 * from one look at the next 16 bits when there are as many. */
static int64_t read_num_passes(HtcT2Bits *br)
{
    if (br->nbits < 16)
        htc_t2_bits_refill(br);
    if (br->nbits >= 16) {
        const uint32_t w = (uint32_t)(br->win >> 48);
        uint32_t n, v;
        if (!(w & 0x8000)) {
            n = 1;
            v = 1;
        } else if (!(w & 0x4000)) {
            n = 2;
            v = 2;
        } else if (((w >> 12) & 3) != 3) {
            n = 4;
            v = 3 + ((w >> 12) & 3);
        } else if (((w >> 7) & 31) != 31) {
            n = 9;
            v = 6 + ((w >> 7) & 31);
        } else {
            n = 16;
            v = 37 + (w & 127);
        }
        htc_t2_bits_skip(br, n);
        return v;
    }
    int b = htc_t2_bits_bit(br);
    if (b <= 0)
        return b < 0 ? b : 1;
    if ((b = htc_t2_bits_bit(br)) <= 0)
        return b < 0 ? b : 2;
    int64_t v = htc_t2_bits_get(br, 2);
    if (v < 0 || v < 3)
        return v < 0 ? v : 3 + v;
    if ((v = htc_t2_bits_get(br, 5)) < 0 || v < 31)
        return v < 0 ? v : 6 + v;
    v = htc_t2_bits_get(br, 7);
    return v < 0 ? v : 37 + v;
}

/* Lblock increments (B.10.7.1): one bits up to a zero; ECORRUPT once Lblock
 * would pass 36 (before the data runs out, as a bit at a time would). */
static int read_lblock(HtcT2Bits *br, uint8_t *lblock)
{
    uint32_t lb = *lblock;
    for (;;) {
        if (!br->nbits) {
            htc_t2_bits_refill(br);
            if (!br->nbits)
                return HTC_ETRUNCATED;
        }
        /* The bits below the window's are zero, so ~win ends the run there. */
        const uint32_t ones = ~br->win ? (uint32_t)__builtin_clzll(~br->win) : 64;
        if (ones < br->nbits) {
            if (lb + ones > 36)
                return HTC_ECORRUPT;
            htc_t2_bits_skip(br, ones + 1);
            *lblock = (uint8_t)(lb + ones);
            return 0;
        }
        lb += br->nbits;
        if (lb > 36)
            return HTC_ECORRUPT;
        htc_t2_bits_skip(br, br->nbits);
    }
}

static inline uint32_t floorlog2(uint32_t v)
{
    return v ? 31 - htc_clz32(v) : 0;
}

/* ---- the state of one tile's tier 2 ---- */

typedef struct Pending {
    uint32_t block;
    uint32_t seg;              /* kept segment, or NONE: bytes to skip */
    uint32_t length;
} Pending;

typedef struct T2 {
    const HtcStream *s;
    const HtcContext *ctx;
    HtcT2Tile *tt;
    HtcT2Options *opt;
    ByteStream body, packed;
    HtcSpan packed_span;
    int use_packed;
    int sop, eph;
    HtcT2Seg *segs;
    uint32_t nsegs, capsegs;
    HtcT2Chunk *chunks;
    uint32_t nchunks, capchunks;
    Pending *pend;
    uint32_t npend, cappend;
    HtcSpan *spans;
} T2;

#define T2_STOP 1

static int grow_slow(const HtcContext *ctx, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    uint64_t nc = *cap ? (uint64_t)*cap * 2 : 64;
    while (nc < need)
        nc *= 2;
    if (nc > UINT32_MAX / 2)
        return htc_fail(ctx, HTC_ELIMIT, "tier 2: table of %llu entries", (unsigned long long)nc);
    void *p = htc_realloc(ctx, *arr, (size_t)*cap * elem, (size_t)nc * elem);
    if (!p)
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: table of %llu entries", (unsigned long long)nc);
    *arr = p;
    *cap = (uint32_t)nc;
    return 0;
}

static inline int grow(const HtcContext *ctx, void **arr, uint32_t *cap, uint32_t need, size_t elem)
{
    return need <= *cap ? 0 : grow_slow(ctx, arr, cap, need, elem);
}

static inline int pending_add(T2 *t2, uint32_t block, uint32_t seg, uint32_t length)
{
    HTC_CHECK(grow(t2->ctx, (void **)&t2->pend, &t2->cappend, t2->npend + 1, sizeof(Pending)));
    Pending *p = &t2->pend[t2->npend++];
    p->block = block;
    p->seg = seg;
    p->length = length;
    return 0;
}

/* A new kept segment at the end of the block's list; returns its index. */
static inline int64_t seg_new(T2 *t2, HtcT2Block *bl, uint32_t passes)
{
    HTC_CHECK(grow(t2->ctx, (void **)&t2->segs, &t2->capsegs, t2->nsegs + 1, sizeof(HtcT2Seg)));
    const uint32_t i = t2->nsegs++;
    HtcT2Seg *sg = &t2->segs[i];
    sg->length = 0;
    sg->passes = passes;
    sg->num_chunks = 0;
    sg->next = HTC_T2_NONE;
    if (bl->last_seg != HTC_T2_NONE)
        t2->segs[bl->last_seg].next = i;
    else
        bl->first_seg = i;
    bl->last_seg = i;
    bl->kept_passes += passes;
    return i;
}

/* Forgets the kept segments of a block (HT: a later cleanup supersedes them). */
static void block_drop(T2 *t2, HtcT2Block *bl, uint32_t block)
{
    bl->first_seg = bl->last_seg = HTC_T2_NONE;
    bl->first_chunk = bl->last_chunk = HTC_T2_NONE;
    bl->kept_passes = 0;
    bl->has_primary = 0;
    bl->cur_seg = HTC_T2_NONE;
    for (uint32_t i = 0; i < t2->npend; i++)
        if (t2->pend[i].block == block)
            t2->pend[i].seg = HTC_T2_NONE;
}

static uint32_t part1_first_max(uint32_t style)
{
    return (style & HTC_CBLK_TERMALL) ? 1 : (style & HTC_CBLK_BYPASS) ? 10 : 0xFFFF;
}

static uint32_t part1_next_max(uint32_t style, uint32_t prev)
{
    if (style & HTC_CBLK_TERMALL)
        return 1;
    if (style & HTC_CBLK_BYPASS)
        return (prev == 10 || prev == 1) ? 2 : 1;
    return 0xFFFF;
}

/* Part 1 code-block contribution of n passes (B.10.7). */
static int part1_contrib(T2 *t2, HtcT2Bits *br, HtcT2Block *bl, uint32_t block, uint32_t n,
                         uint32_t style, int keep)
{
    while (n) {
        if (bl->seg_max == 0 || bl->seg_passes >= bl->seg_max) {
            bl->seg_max = bl->seg_max == 0 ? part1_first_max(style) : part1_next_max(style, bl->seg_max);
            bl->seg_passes = 0;
            bl->cur_seg = HTC_T2_NONE;
        }
        const uint32_t take = HTC_MIN(bl->seg_max - bl->seg_passes, n);
        const uint32_t bits = bl->lblock + floorlog2(take);
        if (bits > 32)
            return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: %u length bits", bits);
        const int64_t len = htc_t2_bits_get(br, bits);
        if (len < 0)
            return (int)len;
        uint32_t seg = HTC_T2_NONE;
        if (keep) {
            if (bl->cur_seg == HTC_T2_NONE) {
                const int64_t i = seg_new(t2, bl, 0);
                if (i < 0)
                    return (int)i;
                bl->cur_seg = (uint32_t)i;
            }
            seg = bl->cur_seg;
            t2->segs[seg].passes += take;
            bl->kept_passes += take;
        }
        HTC_CHECK(pending_add(t2, block, seg, (uint32_t)len));
        bl->seg_passes += take;
        n -= take;
    }
    return 0;
}

/* HT code-block contribution once its first cleanup pass is known
 * (15444-15 B.3): cleanup passes alone, refinement passes in pairs. */
static int ht_contrib(T2 *t2, HtcT2Bits *br, HtcT2Block *bl, uint32_t block, uint32_t n,
                      uint32_t first, int keep)
{
    uint32_t i = first;        /* index of the next pass */
    while (n) {
        const uint32_t k = i % 3;
        uint32_t take, bits;
        if (k == 0) {
            take = 1;
            bits = bl->lblock;
        } else if (k == 1 && n >= 2) {
            take = 2;
            bits = bl->lblock + 1u;
        } else {
            take = 1;
            bits = bl->lblock;
        }
        if (bits > 32)
            return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: %u length bits", bits);
        const int64_t len = htc_t2_bits_get(br, bits);
        if (len < 0)
            return (int)len;
        uint32_t seg = HTC_T2_NONE;
        if (k == 0) {
            if (len == 0) {
                bl->empty_set = 1;
            } else {
                if (len < 2)
                    return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: HT cleanup segment of %lld byte",
                                    (long long)len);
                bl->empty_set = 0;
                if (keep) {
                    block_drop(t2, bl, block);
                    const int64_t si = seg_new(t2, bl, i + 1);
                    if (si < 0)
                        return (int)si;
                    bl->has_primary = 1;
                    seg = (uint32_t)si;
                }
            }
        } else {
            if (bl->empty_set && len)
                return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: HT refinement bytes after an empty cleanup");
            if (keep && !bl->empty_set && bl->has_primary) {
                if (bl->last_seg == bl->first_seg) {
                    const int64_t si = seg_new(t2, bl, 0);
                    if (si < 0)
                        return (int)si;
                }
                seg = bl->last_seg;
                t2->segs[seg].passes += take;
                bl->kept_passes += take;
            }
        }
        HTC_CHECK(pending_add(t2, block, seg, (uint32_t)len));
        i += take;
        n -= take;
    }
    return 0;
}

/* First contributions of an HT code-block before its first cleanup pass:
 * placeholder passes, or (mixed mode) the block turns out to be Part 1. */
static int ht_first(T2 *t2, HtcT2Bits *br, HtcT2Block *bl, uint32_t block, uint32_t n,
                    uint32_t style, int keep)
{
    const uint32_t i = bl->num_passes;
    const int mixed = (style & HTC_CBLK_HT_MIXED) != 0;
    const uint32_t href = (i + n - 1) % 3;
    const int32_t seg = (int32_t)n - (int32_t)href; /* passes up to the last cleanup */
    const uint32_t full_bits = bl->lblock + floorlog2(n);
    if (full_bits > 32)
        return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: %u length bits", full_bits);
    uint32_t bits = seg >= 1 ? bl->lblock + floorlog2((uint32_t)seg) : full_bits;
    int64_t len = htc_t2_bits_get(br, bits);
    if (len < 0)
        return (int)len;
    if (seg >= 1 && len != 0) {
        const int is_ht = !mixed || (bl->lblock > 3 && len > 1 && ((uint64_t)len >> (bits - 1)) == 0);
        if (is_ht) {
            if (len < 2)
                return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: HT cleanup segment of %lld byte",
                                (long long)len);
            bl->phase = 2;
            bl->empty_set = 0;
            uint32_t sg = HTC_T2_NONE;
            if (keep) {
                const int64_t si = seg_new(t2, bl, i + (uint32_t)seg);
                if (si < 0)
                    return (int)si;
                bl->has_primary = 1;
                sg = (uint32_t)si;
            }
            HTC_CHECK(pending_add(t2, block, sg, (uint32_t)len));
            if (n == (uint32_t)seg)
                return 0;
            return ht_contrib(t2, br, bl, block, n - (uint32_t)seg, i + (uint32_t)seg, keep);
        }
        /* Mixed mode, a Part 1 block: the length has all its bits. */
        const int64_t more = htc_t2_bits_get(br, full_bits - bits);
        if (more < 0)
            return (int)more;
        len = len << (full_bits - bits) | more;
    } else if (bits < full_bits) {
        const int64_t more = htc_t2_bits_get(br, full_bits - bits);
        if (more < 0)
            return (int)more;
        len = len << (full_bits - bits) | more;
    }
    if (len == 0) {
        /* Placeholder passes only: nothing to keep yet. */
        HTC_CHECK(pending_add(t2, block, HTC_T2_NONE, 0));
        return 0;
    }
    if (!mixed || i != 0)
        return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: length of an HT code-block's placeholder passes");
    /* A Part 1 code-block in mixed mode; all n passes in its first segment. */
    bl->phase = 0;
    bl->seg_max = HTC_MAX(n, part1_first_max(style & 0x3Fu));
    bl->seg_passes = n;
    uint32_t sg = HTC_T2_NONE;
    if (keep) {
        const int64_t si = seg_new(t2, bl, n);
        if (si < 0)
            return (int)si;
        sg = (uint32_t)si;
        bl->cur_seg = sg;
    }
    return pending_add(t2, block, sg, (uint32_t)len);
}

/* Appends body bytes [pos, pos + len) of the stream as chunks of a segment. */
static int body_take(T2 *t2, HtcT2Block *bl, uint32_t seg, uint32_t len, int *cut)
{
    ByteStream *b = &t2->body;
    while (len) {
        htc_t2_bytes_norm(b);
        if (b->si >= b->nspans) {
            *cut = 1;
            return 0;
        }
        const uint64_t left = b->spans[b->si].length - b->pos;
        const uint32_t k = (uint32_t)HTC_MIN(left, (uint64_t)len);
        if (seg != HTC_T2_NONE) {
            HTC_CHECK(grow(t2->ctx, (void **)&t2->chunks, &t2->capchunks, t2->nchunks + 1,
                           sizeof(HtcT2Chunk)));
            const uint32_t ci = t2->nchunks++;
            HtcT2Chunk *ch = &t2->chunks[ci];
            ch->offset = b->spans[b->si].offset + b->pos;
            ch->length = k;
            ch->next = HTC_T2_NONE;
            if (bl->last_chunk != HTC_T2_NONE)
                t2->chunks[bl->last_chunk].next = ci;
            else
                bl->first_chunk = ci;
            bl->last_chunk = ci;
            HtcT2Seg *sg = &t2->segs[seg];
            if (sg->length > UINT32_MAX / 2 - k)
                return htc_fail(t2->ctx, HTC_ECORRUPT, "code-block data too long");
            sg->length += k;
            sg->num_chunks++;
        }
        b->pos += k;
        len -= k;
    }
    return 0;
}

static int read_packet(void *opaque, uint32_t c, uint32_t r, uint32_t p, uint32_t l)
{
    T2 *t2 = opaque;
    HtcT2Tile *tt = t2->tt;
    const HtcT2Res *res = &tt->comps[c].res[r];
    const uint32_t style = tt->t->cod[c].cblk_style;
    const int keep_cr = r + t2->opt->reduce <= tt->comps[c].nl &&
                        (!t2->opt->comp_keep || t2->opt->comp_keep[c]);
    const int over_layers = t2->opt->max_layers && l >= t2->opt->max_layers;
    ByteStream *hs = t2->use_packed ? &t2->packed : &t2->body;

    int inc = 0;
    if (htc_t2_bytes_at_end(hs))
        return T2_STOP; /* the data ends between packets: the rest are empty */
    if (t2->sop && bs_peek_marker(&t2->body, 0x91)) {
        if (bs_skip(&t2->body, 6) < 0)
            goto truncated;
    }
    HtcT2Bits br;
    htc_t2_bits_start(&br, hs);
    t2->npend = 0;
    int bit = htc_t2_bits_bit(&br);
    if (bit < 0)
        goto truncated;
    if (bit) {
        for (uint32_t b = 0; b < res->num_bands; b++) {
            HtcT2Prec *pr = &res->precs[p * res->num_bands + b];
            const uint32_t n = pr->cw * pr->ch;
            for (uint32_t k = 0; k < n; k++) {
                const uint32_t bi = pr->first_block + k;
                HtcT2Block *bl = &tt->blocks[bi];
                if (!bl->included)
                    inc = htc_tagtree_decode(&pr->incl, k, l + 1, &br);
                else
                    inc = htc_t2_bits_bit(&br);
                if (inc < 0)
                    goto fail_inc;
                if (!inc)
                    continue;
                if (over_layers)
                    bl->frozen = 1;
                const int keep = keep_cr && !bl->frozen;
                if (!bl->included) {
                    const int64_t z = htc_tagtree_value(&pr->zbp, k, 255, &br);
                    if (z < 0) {
                        inc = (int)z;
                        goto fail_inc;
                    }
                    bl->zero_planes = (uint32_t)z;
                    bl->lblock = 3;
                    bl->included = 1;
                    bl->phase = (style & HTC_CBLK_HT) ? 1 : 0;
                }
                const int64_t np = read_num_passes(&br);
                if (np < 0) {
                    inc = (int)np;
                    goto fail_inc;
                }
                inc = read_lblock(&br, &bl->lblock);
                if (inc == HTC_ECORRUPT)
                    return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: Lblock above 36 (tile %u)",
                                    tt->t->index);
                if (inc < 0)
                    goto fail_inc;
                if (bl->num_passes + (uint32_t)np > 512)
                    return htc_fail(t2->ctx, HTC_ECORRUPT, "packet header: %u coding passes in a code-block",
                                    bl->num_passes + (uint32_t)np);
                int rc;
                if (bl->phase == 0)
                    rc = part1_contrib(t2, &br, bl, bi, (uint32_t)np,
                                       (style & HTC_CBLK_HT) ? (style & 0x3Fu) : style, keep);
                else if (bl->phase == 1)
                    rc = ht_first(t2, &br, bl, bi, (uint32_t)np, style, keep);
                else
                    rc = ht_contrib(t2, &br, bl, bi, (uint32_t)np, bl->num_passes, keep);
                if (rc < 0) {
                    inc = rc;
                    goto fail_inc;
                }
                bl->num_passes += (uint32_t)np;
            }
        }
    }
    htc_t2_bits_align(&br);
    if (t2->eph && bs_peek_marker(hs, 0x92))
        bs_skip(hs, 2);
    for (uint32_t i = 0; i < t2->npend; i++) {
        const Pending *pe = &t2->pend[i];
        int cut = 0;
        HTC_CHECK(body_take(t2, &tt->blocks[pe->block], pe->seg, pe->length, &cut));
        if (cut)
            goto truncated;
    }
    return 0;

fail_inc:
    if (inc == HTC_ETRUNCATED)
        goto truncated;
    return inc;
truncated:
    t2->opt->truncated = 1;
    if (t2->opt->allow_truncated)
        return T2_STOP;
    return htc_fail(t2->ctx, HTC_ETRUNCATED,
                    "tile %u: data ends inside the packet of layer %u, resolution %u, component %u, precinct %u",
                    tt->t->index, l, r, c, p);
}

/* The fields of a job that all code-blocks of a band share. */
static void band_job(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t r, const HtcT2Band *band,
                     HtcBlockJob *j)
{
    const HtcCod *cod = &t->cod[c];
    const HtcQcd *q = &t->qcd[c];
    const uint32_t roi = t->roi_shift ? t->roi_shift[c] : 0;
    memset(j, 0, sizeof(*j));
    j->tile = t->index;
    j->comp = (uint16_t)c;
    j->res = (uint8_t)r;
    j->band = band->orient;
    j->band_index = band->index;
    j->reversible = cod->reversible;
    const uint32_t bi = HTC_MIN((uint32_t)band->index, (uint32_t)HTC_MAX_BANDS - 1);
    const uint32_t eps = q->exponent[bi];
    j->roi_shift = roi;
    j->mb = q->guard_bits + eps + roi;
    j->mb = j->mb ? j->mb - 1 : 0;
    const int gain = band->orient == 0 ? 0 : band->orient == 3 ? 2 : 1;
    const int rb = (int)s->comps[c].precision + gain;
    j->delta = ldexpf(1.0f + q->mantissa[bi] / 2048.0f, rb - (int)eps);
}

/* Moves the kept blocks of the tile into the job table. */
static int emit_jobs(T2 *t2, HtcJobTable *jt)
{
    HtcT2Tile *tt = t2->tt;
    const HtcStream *s = t2->s;
    const HtcTile *t = tt->t;
    const HtcContext *ctx = t2->ctx;
    for (uint32_t c = 0; c < tt->num_comps; c++) {
        const HtcT2Comp *tc = &tt->comps[c];
        const HtcCod *cod = &t->cod[c];
        const uint32_t style_ht = cod->cblk_style;
        const uint32_t style_p1 = cod->cblk_style & HTC_CBLK_HT ? cod->cblk_style & 0x3Fu : cod->cblk_style;
        for (uint32_t r = 0; r <= tc->nl; r++) {
            const HtcT2Res *res = &tc->res[r];
            const int emit_empty = t2->opt->emit_empty && r + t2->opt->reduce <= tc->nl &&
                                   (!t2->opt->comp_keep || t2->opt->comp_keep[c]);
            /* What the jobs of each band share, made for its first job. */
            HtcBlockJob base[3];
            uint8_t have_base[3] = { 0, 0, 0 };
            for (uint32_t p = 0; p < res->pw * res->ph; p++) {
                for (uint32_t b = 0; b < res->num_bands; b++) {
                    const HtcT2Band *band = &res->bands[b];
                    const HtcT2Prec *pr = &res->precs[p * res->num_bands + b];
                    const uint32_t nb = pr->cw * pr->ch;
                    for (uint32_t k = 0; k < nb; k++) {
                        const HtcT2Block *bl = &tt->blocks[pr->first_block + k];
                        const int empty = bl->first_seg == HTC_T2_NONE || (bl->phase != 0 && !bl->has_primary);
                        if (empty && !emit_empty)
                            continue;
                        if (!have_base[b]) {
                            band_job(s, t, c, r, band, &base[b]);
                            have_base[b] = 1;
                        }
                        uint32_t nsegs = 0;
                        for (uint32_t si = empty ? HTC_T2_NONE : bl->first_seg; si != HTC_T2_NONE;
                             si = t2->segs[si].next)
                            nsegs++;
                        if (nsegs > HTC_MAX_SEGMENTS)
                            return htc_fail(ctx, HTC_ECORRUPT, "tile %u: a code-block with %u segments",
                                            t->index, nsegs);
                        HTC_CHECK(grow(ctx, (void **)&jt->jobs, &jt->cap_jobs, jt->num_jobs + 1,
                                       sizeof(HtcBlockJob)));
                        HTC_CHECK(grow(ctx, (void **)&jt->segs, &jt->cap_segs, jt->num_segs + nsegs,
                                       sizeof(HtcJobSegment)));
                        HtcBlockJob *j = &jt->jobs[jt->num_jobs++];
                        *j = base[b];
                        j->is_ht = bl->phase != 0;
                        j->cblk_style = j->is_ht ? style_ht : style_p1;
                        j->x0 = bl->x0;
                        j->y0 = bl->y0;
                        j->x1 = bl->x1;
                        j->y1 = bl->y1;
                        j->out_x = band->out_x + (bl->x0 - band->x0);
                        j->out_y = band->out_y + (bl->y0 - band->y0);
                        j->zero_planes = bl->zero_planes;
                        j->first_seg = jt->num_segs;
                        j->first_chunk = jt->num_chunks;
                        uint32_t ci = bl->first_chunk, passes = 0, length = 0;
                        for (uint32_t si = empty ? HTC_T2_NONE : bl->first_seg; si != HTC_T2_NONE;
                             si = t2->segs[si].next) {
                            const HtcT2Seg *sg = &t2->segs[si];
                            HtcJobSegment *js = &jt->segs[jt->num_segs++];
                            js->length = sg->length;
                            js->passes = sg->passes;
                            js->num_chunks = sg->num_chunks;
                            passes += sg->passes;
                            length += sg->length;
                            HTC_CHECK(grow(ctx, (void **)&jt->chunks, &jt->cap_chunks,
                                           jt->num_chunks + sg->num_chunks, sizeof(HtcChunk)));
                            for (uint32_t n = 0; n < sg->num_chunks && ci != HTC_T2_NONE; n++) {
                                HtcChunk *ch = &jt->chunks[jt->num_chunks++];
                                ch->offset = t2->chunks[ci].offset;
                                ch->length = t2->chunks[ci].length;
                                ci = t2->chunks[ci].next;
                            }
                        }
                        j->num_passes = passes;
                        j->data_length = length;
                        j->num_segs = nsegs;
                        j->num_chunks = jt->num_chunks - j->first_chunk;
                        jt->max_block_bytes = HTC_MAX(jt->max_block_bytes, length);
                    }
                }
            }
        }
    }
    return 0;
}

int htc_t2_decode_tile(const HtcStream *s, uint32_t tile, HtcT2Options *opt, HtcJobTable *jt)
{
    const HtcContext *ctx = &s->ctx;
    HtcT2Tile tt;
    T2 t2;
    memset(&t2, 0, sizeof(t2));
    opt->truncated = 0;
    HtcT2Scratch *sc = htc_t2_scratch(ctx, jt);
    if (!sc)
        return htc_fail(ctx, HTC_ENOMEM, "tier 2: working memory");
    /* The growing tables keep their memory between calls. */
    t2.segs = sc->segs;
    t2.capsegs = sc->cap_segs;
    t2.chunks = sc->chunks;
    t2.capchunks = sc->cap_chunks;
    t2.pend = sc->pend;
    t2.cappend = sc->cap_pend;
    int rc = htc_t2_tile_build(s, tile, sc, &tt);
    if (rc < 0)
        goto done;
    const HtcTile *t = tt.t;
    t2.s = s;
    t2.ctx = ctx;
    t2.tt = &tt;
    t2.opt = opt;
    t2.sop = (t->cod[0].scod & 2) != 0;
    t2.eph = (t->cod[0].scod & 4) != 0;
    t2.spans = htc_t2_mem_get(ctx, &sc->spans, (size_t)t->num_parts * sizeof(HtcSpan));
    if (!t2.spans) {
        rc = htc_fail(ctx, HTC_ENOMEM, "tier 2: tile-part list");
        goto done;
    }
    for (uint32_t i = 0; i < t->num_parts; i++) {
        const HtcTilePart *tp = &s->parts[t->parts[i]];
        t2.spans[i] = tp->data;
        if (tp->data.offset > s->cs_size || tp->data.length > s->cs_size - tp->data.offset) {
            rc = htc_fail(ctx, HTC_ECORRUPT, "tile %u part %u: data beyond the codestream", tile, i);
            goto done;
        }
    }
    t2.body.base = s->cs;
    t2.body.spans = t2.spans;
    t2.body.nspans = t->num_parts;
    if (t->packed_headers) {
        t2.use_packed = 1;
        t2.packed_span.offset = 0;
        t2.packed_span.length = t->packed_headers_size;
        t2.packed.base = t->packed_headers;
        t2.packed.spans = &t2.packed_span;
        t2.packed.nspans = 1;
    }
    rc = htc_t2_iterate(ctx, &tt, sc, read_packet, &t2);
    if (rc == T2_STOP)
        rc = 0;
    if (rc >= 0)
        rc = emit_jobs(&t2, jt);
done:
    sc->segs = t2.segs;
    sc->cap_segs = t2.capsegs;
    sc->chunks = t2.chunks;
    sc->cap_chunks = t2.capchunks;
    sc->pend = t2.pend;
    sc->cap_pend = t2.cappend;
    return rc;
}
