/* htcodec: the 5/3 inverse DWT streamed row by row, the last level fused
 * with the output conversion. A level is undone top to bottom: each input
 * row is lifted horizontally into a small ring, read where its halves lie
 * (the table's idwt53_hrow), the vertical lifting combines ring rows, and each
 * finished row goes to a work buffer (levels below the last, whose LL band
 * the next level reads from there) or is converted straight into the
 * picture (the last). The tile buffer is read once and never written,
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

size_t htc_idwt53_out_scratch(uint32_t w)
{
    return SLOTS * row_elems(w) * sizeof(int32_t) + htc_idwt_level_scratch(w, 1) + 128;
}

typedef struct Stream {
    const HtcTransformDSP *dsp;
    const int32_t *buf, *ll; /* the level's bands; its LL band (rows < nl, columns < nlx) */
    ptrdiff_t stride, ll_stride;
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
 * read where its halves lie (a low row's LL part from ll). */
static void fetch(Stream *s, uint32_t j, int32_t *dst)
{
    const int32_t *src = s->buf + (ptrdiff_t)j * s->stride;
    if (s->need && !s->err) {
        const int32_t *r = NULL;
        s->err = s->need(s->need_opaque, j, &r);
        if (r)
            src = r;
    }
    const int32_t *lo = j < s->nl ? s->ll + (ptrdiff_t)j * s->ll_stride : src;
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

/* Where finished rows go: int32 rows (dst32) or the output conversion. */
typedef struct Sink {
    int32_t *dst32;
    ptrdiff_t dst32_stride;
    uint32_t precision;
    int is_signed, sample_type;
    uint8_t *out;
    ptrdiff_t out_row_stride;
    uint32_t pixel_stride;
} Sink;

static int emit(Sink *k, const HtcTransformDSP *dsp, const int32_t *row, uint32_t w)
{
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

/* One level (rectangle rc, at least 2x2), its LL band read from ll. */
static int level(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride, const int32_t *ll,
                 ptrdiff_t ll_stride, const HtcRect *rc, void *tmp, Sink *sink, HtcRowNeed need,
                 void *need_opaque)
{
    const uint32_t w = rc->x1 - rc->x0, n = rc->y1 - rc->y0;
    const int yodd = rc->y0 & 1;
    const uint32_t nl = yodd ? n / 2 : (n + 1) / 2, nh = n - nl;
    Stream s;
    s.dsp = dsp;
    s.buf = buf;
    s.stride = stride;
    s.ll = ll;
    s.ll_stride = ll_stride;
    s.w = w;
    s.nl = nl;
    s.xodd = rc->x0 & 1;
    s.nlx = s.xodd ? w / 2 : (w + 1) / 2;
    s.need = need;
    s.need_opaque = need_opaque;
    s.err = 0;
    int32_t *slot = (int32_t *)(((uintptr_t)tmp + 63) & ~(uintptr_t)63);
    const size_t re = row_elems(w);
    for (int i = 0; i < 3; i++) {
        s.hrow[i] = slot + i * re;
        s.hkey[i] = -1;
    }
    s.lrow = slot + 3 * re;
    int32_t *xa = slot + 4 * re, *xb = slot + 5 * re, *orow = slot + 6 * re;
    s.htmp = slot + SLOTS * re;
    /* a failed need stops the level before its rows are emitted */
#define EMIT(row)                                                                                  \
    do {                                                                                           \
        if (s.err)                                                                                 \
            return s.err;                                                                          \
        HTC_CHECK(emit(sink, dsp, (row), w));                                                      \
    } while (0)
    if (!yodd) {
        /* X(2k) = L(k) - ((H(k-1) + H(k) + 2) >> 2), X(2k+1) = H(k) + ((X(2k) + X(2k+2)) >> 1),
         * indices of H clamped to [0, nh - 1], X(2nl) taken as X(2nl - 2). */
        low(&s, 0, 0, 0, xa);
        for (uint32_t k = 0; k < nh; k++) {
            int32_t *b = xa;
            if (k + 1 < nl) {
                b = xb;
                low(&s, k + 1, k, k + 1 < nh ? k + 1 : nh - 1, b);
            }
            EMIT(xa);
            dsp->idwt53_vhigh(orow, high(&s, k), xa, b, w);
            EMIT(orow);
            if (b != xa) {
                xb = xa;
                xa = b;
            }
        }
        if (nl > nh)
            EMIT(xa);
    } else {
        /* X(2k+1) = L(k) - ((H(k) + H(k+1) + 2) >> 2), X(2k) = H(k) + ((X(2k-1) + X(2k+1)) >> 1),
         * indices of H clamped to [0, nh - 1], of the low rows to [0, nl - 1]. */
        low(&s, 0, 0, 1 < nh ? 1 : nh - 1, xa);
        dsp->idwt53_vhigh(orow, high(&s, 0), xa, xa, w);
        EMIT(orow);
        for (uint32_t k = 0; k < nl; k++) {
            EMIT(xa);
            if (k + 1 < nh) {
                int32_t *b = xa;
                if (k + 1 < nl) {
                    b = xb;
                    low(&s, k + 1, k + 1, k + 2 < nh ? k + 2 : nh - 1, b);
                }
                dsp->idwt53_vhigh(orow, high(&s, k + 1), xa, b, w);
                EMIT(orow);
                if (b != xa) {
                    xb = xa;
                    xa = b;
                }
            }
        }
    }
#undef EMIT
    return s.err;
}

int htc_idwt53_last_out(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rc, void *tmp, uint32_t precision, int is_signed,
                        int sample_type, void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return htc_idwt53_last_out_ll(dsp, buf, stride, buf, stride, rc, tmp, precision, is_signed,
                                  sample_type, dst, dst_row_stride, pixel_stride);
}

static int last_out(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                    const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rc, void *tmp,
                    uint32_t precision, int is_signed, int sample_type, void *dst,
                    ptrdiff_t dst_row_stride, uint32_t pixel_stride, HtcRowNeed need,
                    void *need_opaque)
{
    if (rc->x1 < rc->x0 + 2 || rc->y1 < rc->y0 + 2)
        return HTC_EINVAL; /* length-1 signals: the level functions handle them */
    Sink k;
    memset(&k, 0, sizeof(k));
    k.precision = precision;
    k.is_signed = is_signed;
    k.sample_type = sample_type;
    k.out = dst;
    k.out_row_stride = dst_row_stride;
    k.pixel_stride = pixel_stride;
    return level(dsp, buf, stride, ll, ll_stride, rc, tmp, &k, need, need_opaque);
}

int htc_idwt53_last_out_ll(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                           const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rc, void *tmp,
                           uint32_t precision, int is_signed, int sample_type, void *dst,
                           ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    return last_out(dsp, buf, stride, ll, ll_stride, rc, tmp, precision, is_signed, sample_type, dst,
                    dst_row_stride, pixel_stride, NULL, NULL);
}

int htc_idwt53_level_into(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                          const int32_t *ll, ptrdiff_t ll_stride, const HtcRect *rc, void *tmp,
                          int32_t *dst, ptrdiff_t dst_stride)
{
    if (rc->x1 < rc->x0 + 2 || rc->y1 < rc->y0 + 2)
        return HTC_EINVAL;
    Sink k;
    memset(&k, 0, sizeof(k));
    k.dst32 = dst;
    k.dst32_stride = dst_stride;
    return level(dsp, buf, stride, ll, ll_stride, rc, tmp, &k, NULL, NULL);
}

/* Levels from `first` on are streamed (rows through the ring, results in
 * work buffers), those below in place: small ones fit in cache anyway (and
 * there the in-place kernels are as fast), and only these can be shorter
 * than 2. */
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

/* The work buffer of level r's result: two, alternating, the larger one
 * for level levels - 1. */
static size_t work_bytes(const HtcRect *res, uint32_t r)
{
    return row_elems(res[r].x1 - res[r].x0) * (res[r].y1 - res[r].y0) * sizeof(int32_t);
}

size_t htc_idwt53_out_work(const HtcRect *res, uint32_t levels, uint64_t min_samples)
{
    const uint32_t f = first_streamed(res, levels, min_samples);
    size_t a = 0, b = 0;
    for (uint32_t r = f; r < levels; r++) {
        size_t *m = ((levels - 1 - r) & 1) ? &b : &a;
        const size_t n = work_bytes(res, r);
        *m = n > *m ? n : *m;
    }
    return a + b + 128;
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
    size_t a = 0;
    for (uint32_t r = f; r < levels; r++)
        if (!((levels - 1 - r) & 1)) {
            const size_t n = work_bytes(res, r);
            a = n > a ? n : a;
        }
    int32_t *wa = (int32_t *)(((uintptr_t)work + 63) & ~(uintptr_t)63);
    int32_t *wb = (int32_t *)(((uintptr_t)((uint8_t *)wa + a) + 63) & ~(uintptr_t)63);
    const int32_t *ll = buf;
    ptrdiff_t ll_stride = stride;
    for (uint32_t r = f; r < levels; r++) {
        int32_t *o = ((levels - 1 - r) & 1) ? wb : wa;
        const ptrdiff_t os = (ptrdiff_t)row_elems(res[r].x1 - res[r].x0);
        HTC_CHECK(htc_idwt53_level_into(dsp, buf, stride, ll, ll_stride, &res[r], tmp, o, os));
        ll = o;
        ll_stride = os;
    }
    return last_out(dsp, buf, stride, ll, ll_stride, last, tmp, precision, is_signed, sample_type,
                    dst, dst_row_stride, pixel_stride, need, need_opaque);
}
