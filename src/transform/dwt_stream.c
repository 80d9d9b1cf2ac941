/* htcodec: the last level of the 5/3 inverse DWT fused with the output
 * conversion. The level is undone row by row, top to bottom: each input
 * row is copied into a small ring and lifted horizontally there (the
 * table's row kernel), the vertical lifting combines ring rows, and each
 * finished row is converted straight into the picture. The tile buffer is
 * read once and never written, where the separate passes read and write
 * it twice (rows, then columns) and read it again for the output: on a
 * 3064x4774 tile (58 MB of int32) that is most of the DWT's time.
 * The same operations as htc_idwt53_level_h + htc_idwt53_level_v +
 * htc_convert_i32_with, in the same order: bit-identical. */
#include <string.h>

#include "internal.h"
#include "transform/transform.h"

/* Integer arithmetic wraps, as in every DWT kernel (transform.h). */
static inline int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static inline int32_t sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

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
    const int32_t *buf;
    ptrdiff_t stride;
    uint32_t w, nl;
    int xodd;
    int32_t *hrow[3];
    int64_t hkey[3];
    int32_t *lrow;
    void *htmp;
} Stream;

/* Row j of the level (0..nl-1 low, nl.. high) lifted horizontally into dst. */
static void fetch(Stream *s, uint32_t j, int32_t *dst)
{
    memcpy(dst, s->buf + (ptrdiff_t)j * s->stride, (size_t)s->w * sizeof(int32_t));
    s->dsp->idwt53_h(dst, 0, s->w, 1, s->xodd, s->htmp);
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

/* x = low - ((ha + hb + 2) >> 2) */
static void lift_low(int32_t *x, const int32_t *l, const int32_t *ha, const int32_t *hb, uint32_t w)
{
    for (uint32_t i = 0; i < w; i++)
        x[i] = sub(l[i], add(add(ha[i], hb[i]), 2) >> 2);
}

/* o = h + ((la + lb) >> 1) */
static void lift_high(int32_t *o, const int32_t *h, const int32_t *la, const int32_t *lb, uint32_t w)
{
    for (uint32_t i = 0; i < w; i++)
        o[i] = add(h[i], add(la[i], lb[i]) >> 1);
}

/* Lifted low row k: low row k against high rows ka, kb. */
static void low(Stream *s, uint32_t k, uint32_t ka, uint32_t kb, int32_t *x)
{
    fetch(s, k, s->lrow);
    const int32_t *ha = high(s, ka);
    const int32_t *hb = high(s, kb);
    lift_low(x, s->lrow, ha, hb, s->w);
}

int htc_idwt53_last_out(const HtcTransformDSP *dsp, const int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rc, void *tmp, uint32_t precision, int is_signed,
                        int sample_type, void *dst, ptrdiff_t dst_row_stride, uint32_t pixel_stride)
{
    if (rc->x1 < rc->x0 + 2 || rc->y1 < rc->y0 + 2)
        return HTC_EINVAL; /* length-1 signals: the level functions handle them */
    const uint32_t w = rc->x1 - rc->x0, n = rc->y1 - rc->y0;
    const int yodd = rc->y0 & 1;
    const uint32_t nl = yodd ? n / 2 : (n + 1) / 2, nh = n - nl;
    Stream s;
    s.dsp = dsp;
    s.buf = buf;
    s.stride = stride;
    s.w = w;
    s.nl = nl;
    s.xodd = rc->x0 & 1;
    int32_t *slot = (int32_t *)(((uintptr_t)tmp + 63) & ~(uintptr_t)63);
    const size_t re = row_elems(w);
    for (int i = 0; i < 3; i++) {
        s.hrow[i] = slot + i * re;
        s.hkey[i] = -1;
    }
    s.lrow = slot + 3 * re;
    int32_t *xa = slot + 4 * re, *xb = slot + 5 * re, *orow = slot + 6 * re;
    s.htmp = slot + SLOTS * re;
    uint8_t *out = dst;
#define EMIT(row)                                                                                  \
    do {                                                                                           \
        HTC_CHECK(htc_convert_i32_with(dsp, (row), 0, w, 1, precision, is_signed, sample_type,     \
                                       out, dst_row_stride, pixel_stride));                        \
        out += dst_row_stride;                                                                     \
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
            lift_high(orow, high(&s, k), xa, b, w);
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
        lift_high(orow, high(&s, 0), xa, xa, w);
        EMIT(orow);
        for (uint32_t k = 0; k < nl; k++) {
            EMIT(xa);
            if (k + 1 < nh) {
                int32_t *b = xa;
                if (k + 1 < nl) {
                    b = xb;
                    low(&s, k + 1, k + 1, k + 2 < nh ? k + 2 : nh - 1, b);
                }
                lift_high(orow, high(&s, k + 1), xa, b, w);
                EMIT(orow);
                if (b != xa) {
                    xb = xa;
                    xa = b;
                }
            }
        }
    }
#undef EMIT
    return 0;
}
