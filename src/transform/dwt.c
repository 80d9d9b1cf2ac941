/* htcodec: the 2D inverse DWT driver (F.3.2 2D_SR over the levels): for
 * each level HOR_SR on the rows, then VER_SR on the columns, through the
 * kernels of an HtcTransformDSP table. */
#include "transform/transform.h"

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
    if (!w || row0 >= row1)
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
    if (!h || col0 >= col1)
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
    if (!w || row0 >= row1)
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
    if (!h || col0 >= col1)
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
