/* htcodec: the 5/3 inverse DWT streamed row by row, the last level fused
 * with the output conversion. A level is undone top to bottom: each input
 * row is lifted horizontally into a small ring, read where its halves lie
 * (the table's idwt53_hrow), the vertical lifting combines ring rows, and each
 * finished row goes on at once: into the next level as one of its LL rows
 * (levels below the last: the levels run together, each driven by the one
 * below, so no level's result goes through memory) or converted straight
 * into the picture (the last). The tile buffer is read once and never written,
 * where the separate passes read and write it twice (rows, then columns)
 * and read it again for the output: on a 3064x4774 tile (58 MB of int32)
 * that is most of the DWT's time. The same operations as
 * htc_idwt53_level_h + htc_idwt53_level_v + htc_convert_i32_with, in the
 * same order: bit-identical. */
#include <string.h>

#include "internal.h"
#include "transform/transform.h"

static inline size_t row_elems(uint32_t w) { return ((size_t)w + 15) & ~(size_t)15; }

/* Ring slots: 3 high rows (keyed by index), the low row, two lifted low
 * rows, one output row. */
#define SLOTS 7

#define MAX_CHAIN 33 /* levels streamed together, at most (32 + 1) */

typedef struct Stream {
    const HtcTransformDSP *dsp;
    const int32_t *buf;     /* the level's bands */
    const int32_t *llrow;   /* the LL part of the low row being pushed */
    ptrdiff_t stride;
    uint32_t w, nl, nlx;
    int xodd;
    int32_t *hrow[3];
    int64_t hkey[3];
    int32_t *lrow;
    void *htmp;
    HtcRowNeed need;        /* NULL, or called before row j is read */
    void *need_opaque;
    int err;                /* the first status need returned */
} Stream;

/* Row j of the level (0..nl-1 low, nl.. high) lifted horizontally into dst,
 * read where its halves lie (a low row's LL part from the pushed row). */
static void fetch(Stream *s, uint32_t j, int32_t *dst)
{
    const int32_t *src = s->buf + (ptrdiff_t)j * s->stride;
    if (s->need && !s->err) {
        const int32_t *r = NULL;
        s->err = s->need(s->need_opaque, j, &r);
        if (r)
            src = r;
    }
    const int32_t *lo = j < s->nl ? s->llrow : src;
    s->dsp->idwt53_hrow(lo, src + s->nlx, dst, s->w, s->xodd, s->htmp);
}

/* High row k (clamped to [0, nh - 1] by the caller), from the ring. */
static const int32_t *high(Stream *s, uint32_t k)
{
    const uint32_t i = k % 3;
    if (s->hkey[i] != (int64_t)k) {
        fetch(s, s->nl + k, s->hrow[i]);
        s->hkey[i] = k;
    }
    return s->hrow[i];
}

/* Lifted low row k: low row k against high rows ka, kb. */
static void low(Stream *s, uint32_t k, uint32_t ka, uint32_t kb, int32_t *x)
{
    fetch(s, k, s->lrow);
    const int32_t *ha = high(s, ka);
    const int32_t *hb = high(s, kb);
    s->dsp->idwt53_vlow(x, s->lrow, ha, hb, s->w);
}

struct Level;

/* Where finished rows go: int32 rows (dst32), the next level (its LL rows)
 * or the output conversion. */
typedef struct Sink {
    struct Level *next;
    int32_t *dst32;
    ptrdiff_t dst32_stride;
    uint32_t precision;
    int is_signed, sample_type;
    uint8_t *out;
    ptrdiff_t out_row_stride;
    uint32_t pixel_stride;
} Sink;

/* One level undone as its low rows are pushed in, in order: each push
 * emits the rows it completes (a level's rows go to the next level as they
 * are made, so no level's result goes through memory). */
typedef struct Level {
    Stream s;
    Sink sink;
    uint32_t w, nl, nh, j; /* j: the next low row */
    int yodd;
    int32_t *xa, *xb, *orow;
} Level;

static int push(Level *L, const int32_t *llrow);

static int emit(Sink *k, const HtcTransformDSP *dsp, const int32_t *row, uint32_t w)
{
    if (k->next)
        return push(k->next, row);
    if (k->dst32) {
        memcpy(k->dst32, row, (size_t)w * sizeof(int32_t));
        k->dst32 += k->dst32_stride;
        return 0;
    }
    HTC_CHECK(htc_convert_i32_with(dsp, row, 0, w, 1, k->precision, k->is_signed, k->sample_type,
                                   k->out, k->out_row_stride, k->pixel_stride));
    k->out += k->out_row_stride;
    return 0;
}

/* Scratch of one level: its ring and the row kernel's scratch. */
static size_t level_scratch(uint32_t w)
{
    return SLOTS * row_elems(w) * sizeof(int32_t) + htc_idwt_level_scratch(w, 1) + 128;
}

/* Sets up a level (rectangle rc, at least 2x2) with tmp of level_scratch(w)
 * bytes; the sink is the caller's to fill. */
static void level_init(Level *L, const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                       const HtcRect *rc, void *tmp, HtcRowNeed need, void *need_opaque)
{
    const uint32_t w = rc->x1 - rc->x0, n = rc->y1 - rc->y0;
    memset(L, 0, sizeof(*L));
    L->yodd = rc->y0 & 1;
    L->w = w;
    L->nl = L->yodd ? n / 2 : (n + 1) / 2;
    L->nh = n - L->nl;
    Stream *s = &L->s;
    s->dsp = dsp;
    s->buf = buf;
    s->stride = stride;
    s->w = w;
    s->nl = L->nl;
    s->xodd = rc->x0 & 1;
    s->nlx = s->xodd ? w / 2 : (w + 1) / 2;
    s->need = need;
    s->need_opaque = need_opaque;
    int32_t *slot = (int32_t *)(((uintptr_t)tmp + 63) & ~(uintptr_t)63);
    const size_t re = row_elems(w);
    for (int i = 0; i < 3; i++) {
        s->hrow[i] = slot + i * re;
        s->hkey[i] = -1;
    }
    s->lrow = slot + 3 * re;
    L->xa = slot + 4 * re;
    L->xb = slot + 5 * re;
    L->orow = slot + 6 * re;
    s->htmp = slot + SLOTS * re;
}

/* a failed need stops the level before its rows are emitted */
#define EMIT(row)                                                                                  \
    do {                                                                                           \
        if (L->s.err)                                                                              \
            return L->s.err;                                                                       \
        HTC_CHECK(emit(&L->sink, L->s.dsp, (row), L->w));                                          \
    } while (0)

/* Low row j = L->j arrives (llrow: its LL part).
 * Even y0: X(2k) = L(k) - ((H(k-1) + H(k) + 2) >> 2), X(2k+1) = H(k) + ((X(2k) + X(2k+2)) >> 1);
 * odd y0: X(2k+1) = L(k) - ((H(k) + H(k+1) + 2) >> 2), X(2k) = H(k) + ((X(2k-1) + X(2k+1)) >> 1);
 * indices of H clamped to [0, nh - 1], of the low rows to [0, nl - 1]. */
static int push(Level *L, const int32_t *llrow)
{
    Stream *s = &L->s;
    const uint32_t j = L->j++, nh = L->nh;
    if (j >= L->nl)
        return HTC_EINVAL;
    s->llrow = llrow;
    if (j == 0) {
        low(s, 0, 0, !L->yodd || nh < 2 ? 0 : 1, L->xa);
        if (L->yodd) {
            s->dsp->idwt53_vhigh(L->orow, high(s, 0), L->xa, L->xa, L->w);
            EMIT(L->orow);
        }
        return s->err;
    }
    if (!L->yodd) {
        /* iteration k = j - 1 (< nh) of the row loop */
        low(s, j, j - 1, j < nh ? j : nh - 1, L->xb);
        EMIT(L->xa);
        s->dsp->idwt53_vhigh(L->orow, high(s, j - 1), L->xa, L->xb, L->w);
    } else {
        EMIT(L->xa);
        low(s, j, j, j + 1 < nh ? j + 1 : nh - 1, L->xb);
        s->dsp->idwt53_vhigh(L->orow, high(s, j), L->xa, L->xb, L->w);
    }
    EMIT(L->orow);
    int32_t *t = L->xa;
    L->xa = L->xb;
    L->xb = t;
    return s->err;
}

/* After the last low row: the rows left. */
static int finish(Level *L)
{
    Stream *s = &L->s;
    if (L->j != L->nl)
        return HTC_EINVAL;
    if (!L->yodd) {
        if (L->nh == L->nl) {
            EMIT(L->xa);
            s->dsp->idwt53_vhigh(L->orow, high(s, L->nh - 1), L->xa, L->xa, L->w);
            EMIT(L->orow);
        } else {
            EMIT(L->xa);
        }
    } else {
        EMIT(L->xa);
        if (L->nl < L->nh) {
            s->dsp->idwt53_vhigh(L->orow, high(s, L->nl), L->xa, L->xa, L->w);
            EMIT(L->orow);
        }
    }
    return s->err;
}
#undef EMIT

/* One level whose LL rows are read from ll (ll_stride). */
static int level(Level *L, const int32_t *ll, ptrdiff_t ll_stride)
{
    for (uint32_t j = 0; j < L->nl; j++)
        HTC_CHECK(push(L, ll + (ptrdiff_t)j * ll_stride));
    return finish(L);
}

size_t htc_idwt53_out_scratch(uint32_t w) { return level_scratch(w); }

int htc_idwt53_last_out(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rc, void *tmp, uint32_t precision, int is_signed,
                        int sample_type, void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return htc_idwt53_last_out_ll(dsp, buf, stride, buf, stride, rc, tmp, precision, is_signed,
                                  sample_type, dst, dst_row_stride, pixel_stride);
}

static void out_sink(Sink *k, uint32_t precision, int is_signed, int sample_type, void *dst,
                     ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    k->precision = precision;
    k->is_signed = is_signed;
    k->sample_type = sample_type;
    k->out = dst;
    k->out_row_stride = dst_row_stride;
    k->pixel_stride = pixel_stride;
}

int htc_idwt53_last_out_ll(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                           const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rc, void *tmp,
                           uint32_t precision, int is_signed, int sample_type, void *dst,
                           ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    if (rc->x1 < rc->x0 + 2 || rc->y1 < rc->y0 + 2)
        return HTC_EINVAL; /* length-1 signals: the level functions handle them */
    Level L;
    level_init(&L, dsp, buf, stride, rc, tmp, NULL, NULL);
    out_sink(&L.sink, precision, is_signed, sample_type, dst, dst_row_stride, pixel_stride);
    return level(&L, ll, ll_stride);
}

int htc_idwt53_level_into(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                          const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rc, void *tmp,
                          int32_t *dst, ptrdiff_t dst_stride)
{
    if (rc->x1 < rc->x0 + 2 || rc->y1 < rc->y0 + 2)
        return HTC_EINVAL;
    Level L;
    level_init(&L, dsp, buf, stride, rc, tmp, NULL, NULL);
    L.sink.dst32 = dst;
    L.sink.dst32_stride = dst_stride;
    return level(&L, ll, ll_stride);
}

/* Levels from `first` on are streamed (rows through the rings, each
 * level's rows pushed into the next), those below in place: small ones
 * fit in cache anyway (and there the in-place kernels are as fast), and
 * only these can be shorter than 2. */
static uint32_t first_streamed(const HtcRect *res, uint32_t levels, uint64_t min_samples)
{
    uint32_t f = levels;
    while (f > 1) {
        const HtcRect *r = &res[f - 1];
        const uint64_t w = r->x1 - r->x0, h = r->y1 - r->y0;
        if (r->x1 < r->x0 + 2 || r->y1 < r->y0 + 2 || w * h < min_samples)
            break;
        f--;
    }
    return f;
}

/* The streamed levels below the last: their scratch, one after another. */
size_t htc_idwt53_out_work(const HtcRect *res, uint32_t levels, uint64_t min_samples)
{
    const uint32_t f = first_streamed(res, levels, min_samples);
    size_t n = 64;
    for (uint32_t r = f; r < levels; r++)
        n += (level_scratch(res[r].x1 - res[r].x0) + 63) & ~(size_t)63;
    return n;
}

int htc_idwt53_out(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride, const HtcRect *res,
                   uint32_t levels, uint64_t min_samples, void *tmp, void *work,
                   uint32_t precision, int is_signed, int sample_type, void *dst,
                   ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return htc_idwt53_out_pull(dsp, buf, stride, res, levels, min_samples, tmp, work, precision,
                               is_signed, sample_type, dst, dst_row_stride, pixel_stride, NULL,
                               NULL);
}

int htc_idwt53_out_pull(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *res, uint32_t levels, uint64_t min_samples, void *tmp,
                        void *work, uint32_t precision, int is_signed, int sample_type, void *dst,
                        ptrdiff_t dst_row_stride, uint32_t pixel_stride, HtcRowNeed need,
                        void *need_opaque)
{
    const HtcRect *last = &res[levels];
    if (levels < 1 || last->x1 < last->x0 + 2 || last->y1 < last->y0 + 2)
        return HTC_EINVAL;
    const uint32_t f = first_streamed(res, levels, min_samples);
    /* levels below f in place */
    htc_idwt53_with(dsp, buf, stride, res, f - 1, tmp);
    /* levels f .. levels chained: f's LL rows from buf, each level's rows
     * pushed into the next, the last's converted into dst */
    Level lv[MAX_CHAIN];
    if (levels - f + 1 > MAX_CHAIN)
        return HTC_EINVAL;
    uint8_t *w = (uint8_t *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    for (uint32_t r = f; r <= levels; r++) {
        Level *L = &lv[r - f];
        if (r < levels) {
            level_init(L, dsp, buf, stride, &res[r], w, NULL, NULL);
            w += (level_scratch(res[r].x1 - res[r].x0) + 63) & ~(size_t)63;
            L->sink.next = L + 1;
        } else {
            level_init(L, dsp, buf, stride, &res[r], tmp, need, need_opaque);
            out_sink(&L->sink, precision, is_signed, sample_type, dst, dst_row_stride, pixel_stride);
        }
    }
    const uint32_t nl = lv[0].nl;
    for (uint32_t j = 0; j < nl; j++)
        HTC_CHECK(push(&lv[0], buf + (ptrdiff_t)j * stride));
    for (uint32_t r = f; r <= levels; r++)
        HTC_CHECK(finish(&lv[r - f]));
    return 0;
}
