/* htcodec: the 2D inverse DWT driver (F.3.2 2D_SR over the levels): for
 * each level HOR_SR on the rows, then VER_SR on the columns, through the
 * kernels of an HtcTransformDSP table. */
#include "internal.h"
#include "transform/transform.h"

void htc_dwt_resolutions(uint32_t tcx0, uint32_t tcy0, uint32_t tcx1, uint32_t tcy1,
                         uint32_t num_levels, HtcRect *res)
{
    for (uint32_t r = 0; r <= num_levels; r++) {
        const uint32_t s = num_levels - r;
        const uint64_t d = (uint64_t)1 << s;
        res[r].x0 = (uint32_t)((tcx0 + d - 1) >> s);
        res[r].y0 = (uint32_t)((tcy0 + d - 1) >> s);
        res[r].x1 = (uint32_t)((tcx1 + d - 1) >> s);
        res[r].y1 = (uint32_t)((tcy1 + d - 1) >> s);
    }
}

HtcRect htc_dwt_band_rect(const HtcRect *res, uint32_t r, uint32_t orient)
{
    HtcRect b = { 0, 0, 0, 0 };
    if (r == 0) {
        b.x1 = res[0].x1 - res[0].x0;
        b.y1 = res[0].y1 - res[0].y0;
        return b;
    }
    /* The low half of level r is resolution r-1's size (ceil of ceil). */
    const uint32_t wl = res[r - 1].x1 - res[r - 1].x0, hl = res[r - 1].y1 - res[r - 1].y0;
    const uint32_t w = res[r].x1 - res[r].x0, h = res[r].y1 - res[r].y0;
    b.x0 = orient & 1 ? wl : 0;
    b.x1 = orient & 1 ? w : wl;
    b.y0 = orient & 2 ? hl : 0;
    b.y1 = orient & 2 ? h : hl;
    return b;
}

size_t htc_idwt_level_scratch(uint32_t w, uint32_t h)
{
    /* Horizontal kernels: a row's low and high halves with padding.
     * Vertical kernels: a strip of HTC_DWT_LANES columns of the whole
     * height (9/7 keeps the strip; C keeps two columns). */
    const size_t row = ((size_t)w + 256) * 2 * sizeof(float);
    const size_t strip = ((size_t)h + 16) * HTC_DWT_LANES * sizeof(float) + 256;
    return (row > strip ? row : strip) + 64;
}

size_t htc_idwt_scratch_size(const HtcRect *res, uint32_t num_levels)
{
    size_t size = 64;
    for (uint32_t r = 1; r <= num_levels; r++) {
        if (res[r].x1 < res[r].x0 || res[r].y1 < res[r].y0)
            continue; /* not a rectangle: the level functions skip it too */
        const size_t s = htc_idwt_level_scratch(res[r].x1 - res[r].x0, res[r].y1 - res[r].y0);
        if (s > size)
            size = s;
    }
    return size;
}

void htc_idwt53_level_h(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rc, uint32_t row0, uint32_t row1, void *tmp)
{
    const uint32_t w = rc->x1 - rc->x0;
    if (rc->x1 <= rc->x0 || rc->y1 < rc->y0)
        return;
    row1 = HTC_MIN(row1, rc->y1 - rc->y0);
    if (row0 >= row1)
        return;
    int32_t *b = buf + (ptrdiff_t)row0 * stride;
    if (w > 1)
        dsp->idwt53_h(b, stride, w, row1 - row0, rc->x0 & 1, tmp);
    else if (rc->x0 & 1)
        for (uint32_t y = 0; y < row1 - row0; y++)
            b[(ptrdiff_t)y * stride] /= 2;
}

void htc_idwt53_level_v(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                        const HtcRect *rc, uint32_t col0, uint32_t col1, void *tmp)
{
    const uint32_t h = rc->y1 - rc->y0;
    if (rc->y1 <= rc->y0 || rc->x1 < rc->x0)
        return;
    col1 = HTC_MIN(col1, rc->x1 - rc->x0);
    if (col0 >= col1)
        return;
    if (h > 1)
        dsp->idwt53_v(buf + col0, stride, h, col1 - col0, rc->y0 & 1, tmp);
    else if (rc->y0 & 1)
        for (uint32_t x = col0; x < col1; x++)
            buf[x] /= 2;
}

void htc_idwt97_level_h(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                        const HtcRect *rc, uint32_t row0, uint32_t row1, void *tmp)
{
    const uint32_t w = rc->x1 - rc->x0;
    if (rc->x1 <= rc->x0 || rc->y1 < rc->y0)
        return;
    row1 = HTC_MIN(row1, rc->y1 - rc->y0);
    if (row0 >= row1)
        return;
    float *b = buf + (ptrdiff_t)row0 * stride;
    if (w > 1)
        dsp->idwt97_h(b, stride, w, row1 - row0, rc->x0 & 1, tmp);
    else if (rc->x0 & 1)
        for (uint32_t y = 0; y < row1 - row0; y++)
            b[(ptrdiff_t)y * stride] *= 0.5f;
}

void htc_idwt97_level_v(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                        const HtcRect *rc, uint32_t col0, uint32_t col1, void *tmp)
{
    const uint32_t h = rc->y1 - rc->y0;
    if (rc->y1 <= rc->y0 || rc->x1 < rc->x0)
        return;
    col1 = HTC_MIN(col1, rc->x1 - rc->x0);
    if (col0 >= col1)
        return;
    if (h > 1)
        dsp->idwt97_v(buf + col0, stride, h, col1 - col0, rc->y0 & 1, tmp);
    else if (rc->y0 & 1)
        for (uint32_t x = col0; x < col1; x++)
            buf[x] *= 0.5f;
}

void htc_idwt53_with(const HtcTransformDSP *dsp, int32_t *buf, ptrdiff_t stride,
                     const HtcRect *res, uint32_t num_levels, void *tmp)
{
    for (uint32_t r = 1; r <= num_levels; r++) {
        const HtcRect *rc = &res[r];
        htc_idwt53_level_h(dsp, buf, stride, rc, 0, rc->y1 - rc->y0, tmp);
        htc_idwt53_level_v(dsp, buf, stride, rc, 0, rc->x1 - rc->x0, tmp);
    }
}

void htc_idwt97_with(const HtcTransformDSP *dsp, float *buf, ptrdiff_t stride,
                     const HtcRect *res, uint32_t num_levels, void *tmp)
{
    for (uint32_t r = 1; r <= num_levels; r++) {
        const HtcRect *rc = &res[r];
        htc_idwt97_level_h(dsp, buf, stride, rc, 0, rc->y1 - rc->y0, tmp);
        htc_idwt97_level_v(dsp, buf, stride, rc, 0, rc->x1 - rc->x0, tmp);
    }
}

void htc_idwt53(int32_t *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp)
{
    htc_idwt53_with(htc_transform_dsp(), buf, stride, res, num_levels, tmp);
}

void htc_idwt97(float *buf, ptrdiff_t stride, const HtcRect *res, uint32_t num_levels,
                void *tmp)
{
    htc_idwt97_with(htc_transform_dsp(), buf, stride, res, num_levels, tmp);
}
