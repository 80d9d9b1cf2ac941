/* htcodec: one tile through the pipeline: tier 2 -> code-block jobs ->
 * tier 1 (HT or MQ) -> RGN, dequantisation -> inverse DWT -> inverse MCT. */
#include <stdlib.h>

#include "decode.h"

#include "coding/block.h"
#include "transform/transform.h"

void htc_decoder_buffers_free(HtcDecoder *d)
{
    for (uint32_t c = 0; c < d->num_tc; c++)
        htc_free(&d->ctx, d->tc_buf[c]);
    htc_free(&d->ctx, d->tc_buf);
    htc_free(&d->ctx, d->tc_cap);
    htc_free(&d->ctx, d->strip);
    d->strip = NULL;
    d->strip_size = 0;
    d->tc_buf = NULL;
    d->tc_cap = NULL;
    d->num_tc = 0;
}

size_t htc_decoder_kept_bytes(const HtcDecoder *d)
{
    size_t n = d->dwt_tmp_size + d->work.blockdata_size + d->strip_size;
    for (uint32_t c = 0; c < d->num_tc; c++)
        n += d->tc_cap[c];
    n += (size_t)d->jobs.cap_jobs * sizeof(HtcBlockJob) + (size_t)d->jobs.cap_chunks * sizeof(HtcChunk) +
         (size_t)d->jobs.cap_segs * sizeof(HtcJobSegment);
    return n;
}

void htc_decoder_trim(HtcDecoder *d, size_t keep)
{
    if (htc_decoder_kept_bytes(d) <= keep)
        return;
    htc_decoder_buffers_free(d);
    htc_free(&d->ctx, d->dwt_tmp);
    d->dwt_tmp = NULL;
    d->dwt_tmp_size = 0;
    htc_job_table_free(&d->ctx, &d->jobs);
    htc_workbuf_free(&d->ctx, &d->work);
}

/* The decoder's buffer for component c, at least `bytes`; not cleared:
 * every code-block of the kept bands is written (decoded or zeroed). */
static int32_t *tc_buffer(HtcDecoder *d, uint32_t nc, uint32_t c, size_t bytes)
{
    if (d->num_tc < nc) {
        int32_t **b = htc_calloc(&d->ctx, nc, sizeof(*b));
        size_t *cap = htc_calloc(&d->ctx, nc, sizeof(*cap));
        if (!b || !cap) {
            htc_free(&d->ctx, b);
            htc_free(&d->ctx, cap);
            return NULL;
        }
        for (uint32_t i = 0; i < d->num_tc; i++) {
            b[i] = d->tc_buf[i];
            cap[i] = d->tc_cap[i];
        }
        htc_free(&d->ctx, d->tc_buf);
        htc_free(&d->ctx, d->tc_cap);
        d->tc_buf = b;
        d->tc_cap = cap;
        d->num_tc = nc;
    }
    if (d->tc_cap[c] < bytes) {
        htc_free(&d->ctx, d->tc_buf[c]);
        d->tc_buf[c] = htc_malloc(&d->ctx, bytes);
        d->tc_cap[c] = d->tc_buf[c] ? bytes : 0;
        if (!d->tc_buf[c])
            return NULL;
    }
    return d->tc_buf[c];
}

static int ensure(const HtcContext *ctx, void **buf, size_t *size, size_t need)
{
    if (*size >= need)
        return 0;
    htc_free(ctx, *buf);
    *buf = htc_malloc(ctx, need);
    *size = *buf ? need : 0;
    return *buf ? 0 : htc_fail(ctx, HTC_ENOMEM, "decoder scratch of %zu bytes", need);
}

/* RGN max-shift (H.1) and dequantisation of a block with a region of
 * interest: indices at or above 2^s belong to the region and are scaled
 * down; their undecoded planes shrink by s as well, so each coefficient
 * gets its own reconstruction point (the same formulas as htc_dequant_*). */
static void dequant_roi(const int32_t *v, uint32_t w, uint32_t h, uint32_t s, uint32_t u,
                        int reversible, float delta, int32_t *dst, ptrdiff_t stride)
{
    const uint32_t th = s < 31 ? 1u << s : 0x80000000u;
    for (uint32_t y = 0; y < h; y++) {
        const int32_t *row = v + (size_t)y * w;
        int32_t *drow = dst + (ptrdiff_t)y * stride;
        float *frow = (float *)drow;
        for (uint32_t x = 0; x < w; x++) {
            const int32_t q = row[x];
            uint32_t mag = q < 0 ? (uint32_t)0 - (uint32_t)q : (uint32_t)q;
            uint32_t uu = u;
            if (mag >= th) {
                mag >>= s;
                uu = u > s ? u - s : 0;
            }
            if (uu > 31)
                uu = 31;
            if (reversible) {
                const uint32_t m = mag ? mag + (uu ? 1u << (uu - 1) : 0u) : 0u;
                drow[x] = q < 0 ? -(int32_t)m : (int32_t)m;
            } else {
                const float r = (float)(1ull << uu) * 0.5f;
                const float f = mag ? ((float)mag + r) * delta : 0.0f;
                frow[x] = q < 0 ? -f : f;
            }
        }
    }
}

/* A block given as twice its reconstruction points (HTC_UNDECODED_HALVES,
 * coding/block.h). */
static void dequant_halves(const int32_t *v, ptrdiff_t vstride, uint32_t w, uint32_t h, int reversible,
                           float delta, int32_t *dst, ptrdiff_t stride)
{
    const float half_delta = 0.5f * delta;
    for (uint32_t y = 0; y < h; y++) {
        const int32_t *row = v + (ptrdiff_t)y * vstride;
        int32_t *drow = dst + (ptrdiff_t)y * stride;
        float *frow = (float *)drow;
        for (uint32_t x = 0; x < w; x++) {
            if (reversible)
                drow[x] = row[x] / 2;
            else
                frow[x] = (float)row[x] * half_delta;
        }
    }
}

void htc_workbuf_free(const HtcContext *ctx, HtcWorkBuf *w)
{
    htc_free(ctx, w->blockdata);
    htc_free(ctx, w->block_scratch);
    htc_free(ctx, w->block_out);
    memset(w, 0, sizeof(*w));
}

/* Zeroes a code-block's rectangle (top-left dst). */
static void zero_block(int32_t *dst, ptrdiff_t stride, const HtcBlockJob *j)
{
    const uint32_t w = j->x1 - j->x0, h = j->y1 - j->y0;
    for (uint32_t y = 0; y < h; y++)
        memset(dst + (ptrdiff_t)y * stride, 0, (size_t)w * sizeof(int32_t));
}

/* Zeroes a code-block's rectangle in its tile-component buffer. */
static void zero_rect(HtcTileComp *t, const HtcBlockJob *j)
{
    zero_block(t->data + (size_t)j->out_y * t->stride + j->out_x, t->stride, j);
}

/* Decodes job j into dst (its top-left sample; stride in elements). */
static int decode_job_into(const HtcStream *s, const HtcJobTable *jt, const HtcBlockJob *j,
                           int32_t *dst, ptrdiff_t stride, HtcWorkBuf *wb)
{
    const HtcContext *ctx = &s->ctx;
    const uint32_t w = j->x1 - j->x0, h = j->y1 - j->y0;
    if (j->num_passes == 0 || j->num_segs == 0) {
        zero_block(dst, stride, j);
        return 0;
    }
    if (j->num_segs > HTC_MAX_SEGMENTS || w == 0 || h == 0 || w > 1024 || h > 1024 || w * h > 4096)
        return htc_fail(ctx, HTC_ECORRUPT, "tile %u component %u: code-block %ux%u with %u segments",
                        j->tile, j->comp, w, h, j->num_segs);
    HtcBlockParams bp;
    memset(&bp, 0, sizeof(bp));
    if (!wb->block_scratch) {
        wb->block_scratch = htc_malloc(ctx, HTC_BLOCK_SCRATCH_SIZE);
        wb->block_out = htc_malloc(ctx, 4096 * sizeof(int32_t));
        if (!wb->block_scratch || !wb->block_out)
            return htc_fail(ctx, HTC_ENOMEM, "code-block scratch");
    }
    HTC_CHECK(ensure(ctx, (void **)&wb->blockdata, &wb->blockdata_size,
                     (size_t)j->data_length + HTC_BLOCK_PAD));
    uint8_t *bytes = wb->blockdata;
    for (uint32_t i = 0; i < j->num_chunks; i++) {
        const HtcChunk *ch = &jt->chunks[j->first_chunk + i];
        memcpy(bytes, s->cs + ch->offset, ch->length);
        bytes += ch->length;
    }
    memset(bytes, 0, HTC_BLOCK_PAD);
    bp.data = wb->blockdata;
    bp.num_segments = j->num_segs;
    for (uint32_t i = 0; i < j->num_segs; i++) {
        bp.seg_len[i] = jt->segs[j->first_seg + i].length;
        bp.seg_passes[i] = jt->segs[j->first_seg + i].passes;
    }
    bp.num_passes = j->num_passes;
    bp.zero_planes = j->zero_planes;
    bp.mb = j->mb;
    bp.width = w;
    bp.height = h;
    bp.cblk_style = j->cblk_style;
    bp.band = j->band;
    bp.roi_shift = j->roi_shift;
    uint32_t undecoded = 0;
    /* The indices go straight into dst; dequantisation works in
     * place (a copy for RGN, whose reconstruction differs per coefficient). */
    int32_t *out = j->roi_shift ? wb->block_out : dst;
    const ptrdiff_t ostride = j->roi_shift ? (ptrdiff_t)w : stride;
    int rc = j->is_ht ? htc_ht_decode_block(&bp, out, ostride, &undecoded, wb->block_scratch, HTC_BLOCK_SCRATCH_SIZE)
                      : htc_t1_decode_block(&bp, out, ostride, &undecoded, wb->block_scratch, HTC_BLOCK_SCRATCH_SIZE);
    if (rc == HTC_ECORRUPT) {
        /* Keep what was decoded before the fault, as other decoders do. */
        htc_log(ctx, HTC_LOG_WARNING, "tile %u component %u: corrupt code-block at (%u,%u) of band %u",
                j->tile, j->comp, j->x0, j->y0, j->band_index);
    } else if (rc < 0) {
        return rc;
    }
    if (undecoded & HTC_UNDECODED_HALVES) {
        if (!j->roi_shift) {
            dequant_halves(out, ostride, w, h, j->reversible, j->delta, dst, stride);
            return 0;
        }
        /* With a region of interest: back to indices, plane 0 counted as decoded. */
        for (uint32_t i = 0; i < w * h; i++)
            out[i] /= 2;
        undecoded = 0;
    }
    if (undecoded > 31)
        undecoded = 31;
    if (j->roi_shift)
        dequant_roi(out, w, h, j->roi_shift, undecoded, j->reversible, j->delta, dst, stride);
    else if (!j->reversible)
        htc_dequant_irr(dst, stride, (float *)dst, stride, w, h, undecoded, j->delta);
    else if (undecoded)
        htc_dequant_rev(dst, stride, dst, stride, w, h, undecoded);
    return 0;
}

int htc_decode_job(const HtcStream *s, const HtcJobTable *jt, const HtcBlockJob *j, HtcTileComp *tc,
                   HtcWorkBuf *wb)
{
    HtcTileComp *t = &tc[j->comp];
    return decode_job_into(s, jt, j, t->data + (size_t)j->out_y * t->stride + j->out_x, t->stride, wb);
}

/* The band coefficients a region needs (absolute band coordinates), per
 * resolution and orientation, found by walking the inverse DWT from the
 * region down: a sample depends on low and high coefficients within a few
 * positions (5/3: 2, 9/7: 4; margin S is larger). Blocks outside stay zero,
 * which changes no sample of the region. */
typedef struct NeedRect {
    int64_t x0, y0, x1, y1;
} NeedRect;

static int64_t floor2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }
static int64_t ceil2(int64_t v) { return -floor2(-v); }

static void region_needs(int64_t x0, int64_t y0, int64_t x1, int64_t y1, uint32_t levels, int reversible,
                         NeedRect need[][4])
{
    const int64_t S = reversible ? 4 : 6;
    for (uint32_t r = levels; r >= 1; r--) {
        const int64_t lx0 = ceil2(x0 - S), lx1 = floor2(x1 - 1 + S) + 1;
        const int64_t hx0 = ceil2(x0 - 1 - S), hx1 = floor2(x1 - 2 + S) + 1;
        const int64_t ly0 = ceil2(y0 - S), ly1 = floor2(y1 - 1 + S) + 1;
        const int64_t hy0 = ceil2(y0 - 1 - S), hy1 = floor2(y1 - 2 + S) + 1;
        need[r][1] = (NeedRect){ hx0, ly0, hx1, ly1 };
        need[r][2] = (NeedRect){ lx0, hy0, lx1, hy1 };
        need[r][3] = (NeedRect){ hx0, hy0, hx1, hy1 };
        x0 = lx0;
        y0 = ly0;
        x1 = lx1;
        y1 = ly1;
    }
    need[0][0] = (NeedRect){ x0, y0, x1, y1 };
}

/* Whether the last 5/3 level of tile-component o (its rectangle `last`)
 * may be converted straight into the output plane the caller offered: the
 * whole tile-component inside the plane, no colour transform after the
 * DWT, and both sides at least 2 long (htc_idwt53_last_out). */
static int fuse_output(const HtcTileComp *o, int reversible, int in_mct, const HtcRect *last)
{
    return o->out_base && reversible && !in_mct && last->x1 - last->x0 >= 2 &&
           last->y1 - last->y0 >= 2 && o->x0 >= o->out_x0 && o->y0 >= o->out_y0 &&
           o->x1 - o->out_x0 <= o->out_w && o->y1 - o->out_y0 <= o->out_h &&
           o->x1 - o->x0 == last->x1 - last->x0 && o->y1 - o->y0 == last->y1 - last->y0;
}

/* Decoding by strips (one thread): the code-blocks of a component's last
 * resolution are decoded when the streamed last DWT level first reads
 * their rows, so that the level reads them back from cache, not memory
 * (a 3064x4774 tile is 58 MB of int32). The order of the blocks changes
 * no sample: they cover disjoint rectangles. */
/* One half of the level's rows (0: the low rows, whose HL band is
 * deferred; 1: the high rows, LH and HH), its jobs by row. With a ring,
 * the half's blocks lie on a grid of rows of blocks, each row of blocks is
 * decoded into the ring when the level first reads it, and the tile
 * buffer is not used: its lines never travel (the level reads each row
 * once, rising, so the previous row of blocks is done with by then). */
typedef struct PullHalf {
    const uint64_t *key;       /* (out_y << 32 | job index), rising */
    uint32_t n, next;
    int32_t *ring;             /* NULL: blocks go into the tile buffer */
    uint32_t row0, row1;       /* the buffer rows in the ring */
} PullHalf;

typedef struct Pull {
    const HtcStream *s;
    const HtcJobTable *jt;
    HtcTileComp *tc;
    HtcWorkBuf *wb;
    PullHalf half[2];
    ptrdiff_t stride;          /* the tile-component's, the rings' too */
    uint32_t nl;               /* the level's low rows (the HL band's) */
    int err;                   /* a code-block's error (its message set) */
} Pull;

static int pull_rows(void *opaque, uint32_t row, const int32_t **row_ptr)
{
    Pull *p = opaque;
    PullHalf *h = &p->half[row >= p->nl];
    const ptrdiff_t stride = p->stride;
    if (h->ring && (row < h->row0 || row >= h->row1)) {
        /* the next row of blocks (pull_grid made sure it is the one) */
        if (h->next >= h->n)
            return p->err = HTC_EINVAL;
        const HtcBlockJob *j = &p->jt->jobs[(uint32_t)h->key[h->next]];
        h->row0 = j->out_y;
        h->row1 = j->out_y + (j->y1 - j->y0);
        if (row < h->row0 || row >= h->row1)
            return p->err = HTC_EINVAL;
        while (h->next < h->n && (uint32_t)(h->key[h->next] >> 32) == h->row0) {
            j = &p->jt->jobs[(uint32_t)h->key[h->next++]];
            const int rc = decode_job_into(p->s, p->jt, j, h->ring + j->out_x, stride, p->wb);
            if (rc < 0)
                return p->err = rc;
        }
    }
    if (h->ring) {
        *row_ptr = h->ring + (ptrdiff_t)(row - h->row0) * stride;
        return 0;
    }
    while (h->next < h->n && (uint32_t)(h->key[h->next] >> 32) <= row) {
        const HtcBlockJob *j = &p->jt->jobs[(uint32_t)h->key[h->next]];
        h->next++;
        const int rc = htc_decode_job(p->s, p->jt, j, p->tc, p->wb);
        if (rc < 0)
            return p->err = rc;
    }
    return 0;
}

/* The rows of blocks of a half's jobs (sorted) when they form a grid:
 * rows of blocks of one height each, each starting where the one above
 * ends, from first to end; returns the largest height, or 0 when they do
 * not (the tile buffer is used then). */
static uint32_t pull_grid(const HtcJobTable *jt, const uint64_t *key, uint32_t n, uint32_t first,
                          uint32_t end)
{
    uint32_t y = first, hmax = 0, i = 0;
    while (i < n) {
        const HtcBlockJob *j = &jt->jobs[(uint32_t)key[i]];
        const uint32_t h = j->y1 - j->y0;
        if (j->out_y != y || h == 0)
            return 0;
        for (; i < n && (uint32_t)(key[i] >> 32) == y; i++)
            if (jt->jobs[(uint32_t)key[i]].y1 - jt->jobs[(uint32_t)key[i]].y0 != h)
                return 0;
        y += h;
        hmax = h > hmax ? h : hmax;
    }
    return y == end ? hmax : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Component c's rectangles of resolutions 0..levels. */
static void comp_res(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t levels,
                     HtcRect *res)
{
    const uint32_t nl = t->cod[c].levels;
    for (uint32_t r = 0; r <= levels; r++) {
        HtcResGeom rg;
        htc_t2_res_rect(s, t, c, nl, r, &rg);
        res[r].x0 = rg.x0;
        res[r].y0 = rg.y0;
        res[r].x1 = rg.x1;
        res[r].y1 = rg.y1;
    }
}

int htc_decode_tile(HtcDecoder *d, const HtcStream *s, uint32_t tile, const HtcDecodeParams *p,
                    const HtcDecodeGeom *g, HtcTileComp *tc)
{
    const HtcContext *ctx = &s->ctx;
    const HtcTile *t = &s->tiles[tile];
    const uint32_t nc = s->num_components;
    uint8_t keep_small[64];
    uint8_t *keep = nc <= 64 ? keep_small : htc_calloc(ctx, nc, 1);
    if (!keep)
        return htc_fail(ctx, HTC_ENOMEM, "component list");
    int rc = 0;
    uint64_t *deferred_list = NULL, *deferred = NULL; /* sorted per component below */
    uint32_t num_deferred = 0;
    for (uint32_t c = 0; c < nc; c++) {
        tc[c].written = 0;
        keep[c] = (uint8_t)(tc[c].needed != 0);
        if (keep[c] && p->reduce > t->cod[c].levels) {
            rc = htc_fail(ctx, HTC_ERANGE, "reduce %u above the %u levels of tile %u component %u",
                          p->reduce, t->cod[c].levels, tile, c);
            goto done;
        }
    }

    const int mct = p->apply_mct && t->cod[0].mct && nc >= 3 && keep[0] && keep[1] && keep[2];
    HtcT2Options opt;
    memset(&opt, 0, sizeof(opt));
    opt.max_layers = p->layers;
    opt.reduce = p->reduce;
    opt.allow_truncated = d->settings.allow_truncated;
    opt.comp_keep = keep;
    opt.emit_empty = 1;
    htc_job_table_reset(&d->jobs);
    rc = htc_t2_decode_tile(s, tile, &opt, &d->jobs);
    if (rc < 0)
        goto done;

    /* Tile-component buffers. */
    for (uint32_t c = 0; c < nc; c++) {
        if (!keep[c])
            continue;
        const uint32_t nl = t->cod[c].levels;
        HtcResGeom rg;
        htc_t2_res_rect(s, t, c, nl, nl - p->reduce, &rg);
        tc[c].x0 = rg.x0;
        tc[c].y0 = rg.y0;
        tc[c].x1 = rg.x1;
        tc[c].y1 = rg.y1;
        /* Rows start on 64-byte boundaries (the buffer is 64-byte aligned):
         * the vertical DWT's vector loads then never split cache lines,
         * which roughly halves its time on wide tiles (3064 samples). */
        const uint64_t tw = rg.x1 - rg.x0;
        const uint64_t stride = tw > 16 ? (tw + 15) & ~(uint64_t)15 : tw;
        tc[c].stride = (ptrdiff_t)stride;
        tc[c].is_float = !t->cod[c].reversible;
        const uint64_t n = stride * (rg.y1 - rg.y0);
        if (n * 4 > ctx->limits.max_memory) {
            rc = htc_fail(ctx, HTC_ELIMIT, "tile %u component %u: %llu samples", tile, c,
                          (unsigned long long)n);
            goto done;
        }
        tc[c].data = tc_buffer(d, nc, c, (size_t)(n ? n : 1) * sizeof(int32_t));
        if (!tc[c].data) {
            rc = htc_fail(ctx, HTC_ENOMEM, "tile %u component %u: %llu samples", tile, c,
                          (unsigned long long)n);
            goto done;
        }
    }

    /* Which coefficients the asked area needs, per kept component; none of
     * this when the area covers the tile-component. */
    NeedRect(*need)[HTC_MAX_LEVELS + 1][4] = NULL;
    uint8_t *partial = NULL;

    if (g) {
        need = htc_malloc(ctx, (size_t)nc * sizeof(*need));
        partial = htc_calloc(ctx, nc, 1);
        if (!need || !partial) {
            rc = htc_fail(ctx, HTC_ENOMEM, "region tables");
            goto done_need;
        }
        for (uint32_t c = 0; c < nc; c++) {
            if (!keep[c])
                continue;
            uint32_t ax0, ay0, ax1, ay1;
            htc_decode_comp_rect(s, g, c, &ax0, &ay0, &ax1, &ay1);
            ax0 = HTC_MAX(ax0, tc[c].x0);
            ay0 = HTC_MAX(ay0, tc[c].y0);
            ax1 = HTC_MIN(ax1, tc[c].x1);
            ay1 = HTC_MIN(ay1, tc[c].y1);
            if (ax0 <= tc[c].x0 && ay0 <= tc[c].y0 && ax1 >= tc[c].x1 && ay1 >= tc[c].y1)
                continue;
            partial[c] = 1;
            region_needs(ax0, ay0, ax1, ay1, t->cod[c].levels - p->reduce, t->cod[c].reversible, need[c]);
        }
    }
    /* Components decoded by strips: one thread, the whole large
     * tile-component, its last 5/3 level streamed into the output. */
    for (uint32_t c = 0; c < nc; c++) {
        const uint32_t levels = keep[c] ? t->cod[c].levels - p->reduce : 0;
        if (d->num_threads > 1 || levels == 0 || (partial && partial[c]))
            continue;
        HtcRect res[HTC_MAX_LEVELS + 1];
        comp_res(s, t, c, levels, res);
        const HtcRect *last = &res[levels];
        if (fuse_output(&tc[c], t->cod[c].reversible, mct && c < 3, last) &&
            (uint64_t)(last->x1 - last->x0) * (last->y1 - last->y0) >= HTC_IDWT_STREAM_MIN)
            keep[c] = 2;
    }
    /* The jobs to run: kept components and resolutions, and only the
     * code-blocks the asked area needs; the last resolution's of
     * components decoded by strips wait (deferred). */
    {
        uint32_t *list = htc_malloc(ctx, (size_t)(d->jobs.num_jobs ? d->jobs.num_jobs : 1) * sizeof(uint32_t));
        if (!list) {
            rc = htc_fail(ctx, HTC_ENOMEM, "job list");
            goto done_need;
        }
        uint32_t n = 0;
        num_deferred = d->jobs.num_jobs; /* deferred jobs fill the list from its end */
        for (uint32_t i = 0; i < d->jobs.num_jobs; i++) {
            const HtcBlockJob *j = &d->jobs.jobs[i];
            if (j->comp >= nc || !keep[j->comp] || j->res + p->reduce > t->cod[j->comp].levels)
                continue;
            if (partial && partial[j->comp]) {
                const NeedRect *nr = &need[j->comp][j->res][j->band];
                if ((int64_t)j->x1 <= nr->x0 || (int64_t)j->x0 >= nr->x1 || (int64_t)j->y1 <= nr->y0 ||
                    (int64_t)j->y0 >= nr->y1) {
                    zero_rect(&tc[j->comp], j);
                    continue;
                }
            }
            if (keep[j->comp] == 2 && j->res + p->reduce == t->cod[j->comp].levels)
                list[--num_deferred] = i;
            else
                list[n++] = i;
        }
        rc = htc_pool_run(d, s, &d->jobs, list, n, tc);
        if (rc >= 0 && num_deferred < d->jobs.num_jobs) {
            deferred_list = htc_malloc(ctx, (size_t)(d->jobs.num_jobs - num_deferred) * sizeof(uint64_t));
            deferred = deferred_list;
            if (!deferred)
                rc = htc_fail(ctx, HTC_ENOMEM, "deferred code-block list");
            for (uint32_t i = num_deferred; deferred && i < d->jobs.num_jobs; i++)
                deferred[i - num_deferred] = (uint64_t)d->jobs.jobs[list[i]].out_y << 32 | list[i];
            num_deferred = d->jobs.num_jobs - num_deferred;
        } else {
            num_deferred = 0;
        }
        htc_free(ctx, list);
    }
done_need:
    htc_free(ctx, need);
    htc_free(ctx, partial);
    if (rc < 0)
        goto done;

    /* Inverse DWT of every kept component. */
    for (uint32_t c = 0; c < nc; c++) {
        if (!keep[c])
            continue;
        const uint32_t nl = t->cod[c].levels;
        const uint32_t levels = nl - p->reduce;
        if (levels == 0)
            continue;
        HtcRect res[HTC_MAX_LEVELS + 1];
        comp_res(s, t, c, levels, res);
        const HtcRect *last = &res[levels];
        const int fuse = fuse_output(&tc[c], t->cod[c].reversible, mct && c < 3, last);
        Pull pull;
        memset(&pull, 0, sizeof(pull));
        if (keep[c] == 2) {
            /* this component's deferred jobs, HL first, each part by row */
            uint32_t m = 0;
            for (uint32_t i = 0; i < num_deferred; i++) {
                const HtcBlockJob *j = &d->jobs.jobs[(uint32_t)deferred[i]];
                if (j->comp == c && j->band == 1) {
                    const uint64_t x = deferred[m];
                    deferred[m++] = deferred[i];
                    deferred[i] = x;
                }
            }
            uint32_t e = m;
            for (uint32_t i = m; i < num_deferred; i++)
                if (d->jobs.jobs[(uint32_t)deferred[i]].comp == c) {
                    const uint64_t x = deferred[e];
                    deferred[e++] = deferred[i];
                    deferred[i] = x;
                }
            qsort(deferred, m, sizeof(uint64_t), cmp_u64);
            qsort(deferred + m, e - m, sizeof(uint64_t), cmp_u64);
            pull.s = s;
            pull.jt = &d->jobs;
            pull.tc = tc;
            pull.wb = &d->work;
            pull.stride = tc[c].stride;
            pull.half[0].key = deferred;
            pull.half[0].n = m;
            pull.half[1].key = deferred + m;
            pull.half[1].n = e - m;
            const uint32_t n = last->y1 - last->y0;
            pull.nl = (last->y0 & 1) ? n / 2 : (n + 1) / 2;
            /* rings of one row of blocks a half, when they lie on a grid */
            const uint32_t g0 = m ? pull_grid(&d->jobs, deferred, m, 0, pull.nl) : 0;
            const uint32_t g1 = e > m ? pull_grid(&d->jobs, deferred + m, e - m, pull.nl, n) : 0;
            if (g0 && g1 && g0 <= 256 && g1 <= 256) {
                const size_t rs = (size_t)tc[c].stride * sizeof(int32_t);
                rc = ensure(&d->ctx, &d->strip, &d->strip_size, rs * (g0 + g1) + 64);
                if (rc < 0)
                    goto done;
                pull.half[0].ring = (int32_t *)(((uintptr_t)d->strip + 63) & ~(uintptr_t)63);
                pull.half[1].ring = pull.half[0].ring + (size_t)tc[c].stride * g0;
            }
            /* the other components' jobs for their turns */
            deferred += e;
            num_deferred -= e;
        }
        size_t tmp_size = htc_idwt_scratch_size(res, levels), work_size = 0;
        if (fuse) {
            tmp_size = HTC_MAX(tmp_size, htc_idwt53_out_scratch(last->x1 - last->x0));
            tmp_size = (tmp_size + 63) & ~(size_t)63;
            work_size = htc_idwt53_out_work(res, levels, HTC_IDWT_STREAM_MIN);
        }
        rc = ensure(&d->ctx, &d->dwt_tmp, &d->dwt_tmp_size, tmp_size + work_size);
        if (rc < 0)
            goto done;
        if (fuse) {
            /* the large levels stream row by row, the last one straight
             * into the picture */
            const HtcTileComp *o = &tc[c];
            uint8_t *dst = o->out_base + (size_t)(o->y0 - o->out_y0) * o->out_row_stride +
                           (size_t)(o->x0 - o->out_x0) * o->out_pixel_stride * o->out_bytes;
            rc = htc_idwt53_out_pull(htc_transform_dsp(), o->data, o->stride, res, levels,
                                     HTC_IDWT_STREAM_MIN, d->dwt_tmp,
                                     (uint8_t *)d->dwt_tmp + tmp_size, o->precision, o->is_signed,
                                     o->sample_type, dst, o->out_row_stride, o->out_pixel_stride,
                                     keep[c] == 2 ? pull_rows : NULL, &pull);
            if (rc < 0 && pull.err < 0) {
                goto done; /* a code-block's error, its message set */
            } else if (rc < 0) {
                rc = htc_fail(ctx, rc, "output conversion of component %u", c);
                goto done;
            }
            tc[c].written = 1;
        } else if (t->cod[c].reversible)
            htc_idwt53(tc[c].data, tc[c].stride, res, levels, d->dwt_tmp);
        else
            htc_idwt97((float *)tc[c].data, tc[c].stride, res, levels, d->dwt_tmp);
    }

    /* Inverse multiple component transform (G.2, G.3) on components 0-2. */
    if (mct) {
        const uint32_t w = tc[0].x1 - tc[0].x0, h = tc[0].y1 - tc[0].y0;
        for (uint32_t c = 1; c < 3; c++)
            if (tc[c].x1 - tc[c].x0 != w || tc[c].y1 - tc[c].y0 != h ||
                tc[c].is_float != tc[0].is_float) {
                rc = htc_fail(ctx, HTC_ECONTRADICT,
                              "tile %u: multiple component transform over components of different sizes or filters",
                              tile);
                goto done;
            }
        for (uint32_t y = 0; y < h; y++) {
            const size_t o = (size_t)y * tc[0].stride;
            if (tc[0].is_float)
                htc_ict_inverse((float *)tc[0].data + o, (float *)tc[1].data + o,
                                (float *)tc[2].data + o, w);
            else
                htc_rct_inverse(tc[0].data + o, tc[1].data + o, tc[2].data + o, w);
        }
    }
done:
    htc_free(ctx, deferred_list);
    if (keep != keep_small)
        htc_free(ctx, keep);
    return rc;
}
