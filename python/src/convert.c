/* htcodec Python extension: the decoded planes of a picture into one
 * interleaved (H, W, C) array, as DecodeParams asks:
 *  - color_spec RGB: 3 channels (grey replicated, a 4th component dropped),
 *    GRAY: 1 channel (BT.601 luma of the first three components when there
 *    are three or more), UNCHANGED: every component a channel;
 *  - allow_any_depth False: uint8 scaled from each component's own precision
 *    as nvImageCodec 0.9 does, in float32 as it computes (see to_u8 below;
 *    identical to it on the WG04 images); True: the samples as decoded, in the
 *    smallest of uint8/int8/uint16/int16/uint32/int32 that holds every channel.
 * Components at a coarser sub-sampling than component 0 are repeated (nearest).
 * Pure C: runs with the GIL released. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "module.h"

size_t htcpy_sample_size(int t)
{
    switch (t) {
    case HTC_SAMPLE_U8:
    case HTC_SAMPLE_I8: return 1;
    case HTC_SAMPLE_U16:
    case HTC_SAMPLE_I16: return 2;
    case HTC_SAMPLE_U32:
    case HTC_SAMPLE_I32:
    case HTC_SAMPLE_F32: return 4;
    default: return 0;
    }
}

static int type_for(unsigned precision, int is_signed)
{
    if (precision <= 8)
        return is_signed ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8;
    if (precision <= 16)
        return is_signed ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16;
    return is_signed ? HTC_SAMPLE_I32 : HTC_SAMPLE_U32;
}

/* Which planes feed the output channels. */
static int channel_plan(const HtcPicture *pic, int color_spec, uint32_t *channels, int *luma)
{
    const uint32_t n = pic->num_planes;
    *luma = 0;
    switch (color_spec) {
    case HTCPY_CS_UNCHANGED: *channels = n; return 0;
    case HTCPY_CS_RGB: *channels = 3; return 0;
    case HTCPY_CS_GRAY:
        *channels = 1;
        *luma = n >= 3;
        return 0;
    default: return HTC_EUNSUPPORTED;
    }
}

static uint32_t source_plane(const HtcPicture *pic, int color_spec, uint32_t c)
{
    if (color_spec == HTCPY_CS_RGB && pic->num_planes < 3)
        return 0;
    return c;
}

int htcpy_out_plan(const HtcPicture *pic, HtcPyOutSpec *spec, char *msg, size_t msg_size)
{
    int luma;
    if (pic->num_planes == 0 || !pic->planes)
        return snprintf(msg, msg_size, "decoded picture has no planes"), HTC_EINVAL;
    if (channel_plan(pic, spec->color_spec, &spec->channels, &luma) < 0)
        return snprintf(msg, msg_size, "ColorSpec.YCC output is not supported yet; use RGB, GRAY or UNCHANGED"),
               HTC_EUNSUPPORTED;
    spec->height = pic->planes[0].height;
    spec->width = pic->planes[0].width;
    const uint32_t used = luma ? 3 : spec->color_spec == HTCPY_CS_UNCHANGED ? pic->num_planes : HTC_PY_MIN(pic->num_planes, 3);
    unsigned prec = 0;
    int sgn = 0;
    for (uint32_t i = 0; i < used; i++) {
        const HtcPlane *p = &pic->planes[i];
        if (p->precision < 1 || p->precision > 32)
            return snprintf(msg, msg_size, "component %u has precision %u", i, p->precision), HTC_EUNSUPPORTED;
        if ((p->width == 0 || p->height == 0) && spec->width && spec->height)
            return snprintf(msg, msg_size, "component %u is empty in the decoded area", i), HTC_EUNSUPPORTED;
        prec = HTC_PY_MAX(prec, p->precision + (p->is_signed ? 0u : 0u));
        sgn |= p->is_signed;
    }
    if (spec->allow_any_depth) {
        /* An unsigned channel next to a signed one needs one more bit. */
        for (uint32_t i = 0; i < used; i++)
            if (sgn && !pic->planes[i].is_signed)
                prec = HTC_PY_MAX(prec, pic->planes[i].precision + 1);
        if (prec > 32)
            prec = 32;
        spec->sample_type = type_for(prec, sgn);
        spec->precision = prec;
    } else {
        spec->sample_type = HTC_SAMPLE_U8;
        spec->precision = 0;
    }
    const uint64_t size = (uint64_t)spec->height * spec->width * spec->channels * htcpy_sample_size(spec->sample_type);
    if (size > (uint64_t)SIZE_MAX / 2)
        return snprintf(msg, msg_size, "output of %llu bytes is too large", (unsigned long long)size), HTC_ELIMIT;
    spec->size = (size_t)size;
    return 0;
}

/* One row of plane p, sampled at the output's x positions, as int64. */
static void read_row(const HtcPicture *pic, const HtcPlane *p, uint32_t out_w, uint32_t out_h, uint32_t y,
                     int64_t *row)
{
    const uint32_t sy = p->height == out_h ? y : (uint32_t)((uint64_t)y * p->height / out_h);
    const uint8_t *base = (const uint8_t *)p->data + (ptrdiff_t)sy * p->row_stride;
    const uint32_t ps = p->pixel_stride ? p->pixel_stride : 1;
    const int same = p->width == out_w;
    for (uint32_t x = 0; x < out_w; x++) {
        const uint32_t sx = same ? x : (uint32_t)((uint64_t)x * p->width / out_w);
        const size_t i = (size_t)sx * ps;
        switch (pic->sample_type) {
        case HTC_SAMPLE_U8: row[x] = ((const uint8_t *)base)[i]; break;
        case HTC_SAMPLE_I8: row[x] = ((const int8_t *)base)[i]; break;
        case HTC_SAMPLE_U16: row[x] = ((const uint16_t *)base)[i]; break;
        case HTC_SAMPLE_I16: row[x] = ((const int16_t *)base)[i]; break;
        case HTC_SAMPLE_U32: row[x] = ((const uint32_t *)base)[i]; break;
        case HTC_SAMPLE_I32: row[x] = ((const int32_t *)base)[i]; break;
        case HTC_SAMPLE_F32: row[x] = (int64_t)lrintf(((const float *)base)[i]); break;
        default: row[x] = 0; break;
        }
    }
}

/* The (offset) value that maps to 255: 2^p - 1. */
static double full_scale(const HtcPlane *p) { return ldexp(1.0, (int)p->precision) - 1.0; }

/* What 8-bit scaling adds first: 2^(p-1) for signed components. */
static int64_t sign_offset(const HtcPlane *p) { return p->is_signed ? (int64_t)1 << (p->precision - 1) : 0; }

static uint8_t sat_u8(float x) { return x <= 0.0f ? 0 : x >= 255.0f ? 255 : (uint8_t)x; }

/* One sample to uint8 as nvImageCodec's conversion (src/imgproc/convert.h and
 * convert_kernel_gpu.cu of nvImageCodec 0.9) computes it after nvJPEG2000
 * decoded it into uint8 / uint16 / int16: float32 arithmetic, rounding to the
 * nearest even. 16-bit signed samples map -32767..32767 onto 0..255; signed
 * samples of other depths are scaled from 0 (negatives become 0), as its
 * code reads; only the 16-bit and unsigned cases were compared with it. */
static uint8_t to_u8(int64_t v, unsigned p, int sgn)
{
    const float f = (float)v;
    if (p > 16) /* nvJPEG2000 refuses these; plain scaling */
        return sat_u8(nearbyintf((float)(((double)v + (sgn ? ldexp(1.0, (int)p - 1) : 0.0)) * 255.0 /
                                         (ldexp(1.0, (int)p) - 1.0))));
    if (!sgn) {
        if (p == 8)
            return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        if (p == 16)
            return sat_u8(nearbyintf(f * (1.0f * 255.0f / 65535.0f)));
        const double type_max = p < 8 ? 255.0 : 65535.0;
        const float mult = (float)(type_max / (ldexp(1.0, (int)p) - 1.0) / type_max);
        return sat_u8(nearbyintf(mult * f * 255.0f));
    }
    if (p == 16)
        return sat_u8(nearbyintf(0.5f * fmaf(f, 1.0f / 32767.0f, 1.0f) * 255.0f)); /* nvcc contracts to an FMA */
    const double type_max = p <= 8 ? 127.0 : 32767.0;
    const float mult = (float)(type_max / (ldexp(1.0, (int)p - 1) - 1.0) / type_max);
    return sat_u8(nearbyintf(mult * f * 255.0f));
}

static inline int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static void store(void *dst, int type, size_t i, int64_t v)
{
    switch (type) {
    case HTC_SAMPLE_U8: ((uint8_t *)dst)[i] = (uint8_t)clamp64(v, 0, UINT8_MAX); break;
    case HTC_SAMPLE_I8: ((int8_t *)dst)[i] = (int8_t)clamp64(v, INT8_MIN, INT8_MAX); break;
    case HTC_SAMPLE_U16: ((uint16_t *)dst)[i] = (uint16_t)clamp64(v, 0, UINT16_MAX); break;
    case HTC_SAMPLE_I16: ((int16_t *)dst)[i] = (int16_t)clamp64(v, INT16_MIN, INT16_MAX); break;
    case HTC_SAMPLE_U32: ((uint32_t *)dst)[i] = (uint32_t)clamp64(v, 0, UINT32_MAX); break;
    case HTC_SAMPLE_I32: ((int32_t *)dst)[i] = (int32_t)clamp64(v, INT32_MIN, INT32_MAX); break;
    default: break;
    }
}

int htcpy_convert(const HtcPicture *pic, const HtcPyOutSpec *spec, void *dst)
{
    const uint32_t w = spec->width, h = spec->height, nc = spec->channels;
    if (w == 0 || h == 0)
        return 0;
    int luma;
    uint32_t channels;
    if (channel_plan(pic, spec->color_spec, &channels, &luma) < 0 || channels != nc)
        return HTC_EINVAL;
    int64_t *rows = malloc(sizeof(int64_t) * w * 3);
    if (!rows)
        return HTC_ENOMEM;
    /* Lookup tables for the 8-bit scaling of up to 16-bit components. */
    uint8_t *lut[3] = {NULL, NULL, NULL};
    int64_t lut_off[3] = {0, 0, 0};
    const int scale8 = !spec->allow_any_depth;
    int rc = 0;
    if (scale8 && !luma) {
        for (uint32_t c = 0; c < HTC_PY_MIN(nc, 3u); c++) {
            const HtcPlane *p = &pic->planes[source_plane(pic, spec->color_spec, c)];
            if (p->precision > 16)
                continue;
            const size_t n = (size_t)1 << p->precision;
            lut[c] = malloc(n);
            if (!lut[c]) {
                rc = HTC_ENOMEM;
                goto done;
            }
            lut_off[c] = p->is_signed ? (int64_t)(n / 2) : 0;
            for (size_t i = 0; i < n; i++) /* i = v + offset */
                lut[c][i] = to_u8((int64_t)i - lut_off[c], p->precision, p->is_signed);
        }
    }
    const size_t ssz = htcpy_sample_size(spec->sample_type);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *out_row = (uint8_t *)dst + (size_t)y * w * nc * ssz;
        if (luma) {
            for (int k = 0; k < 3; k++)
                read_row(pic, &pic->planes[k], w, h, y, rows + (size_t)k * w);
            double m[3] = {1, 1, 1};
            int64_t off[3] = {0, 0, 0};
            if (scale8)
                for (int k = 0; k < 3; k++) {
                    m[k] = full_scale(&pic->planes[k]) / 255.0;
                    off[k] = sign_offset(&pic->planes[k]);
                }
            for (uint32_t x = 0; x < w; x++) {
                const double r = (double)(rows[x] + off[0]) / m[0], g = (double)(rows[w + x] + off[1]) / m[1],
                             b = (double)(rows[2 * (size_t)w + x] + off[2]) / m[2];
                store(out_row, spec->sample_type, x, (int64_t)nearbyint(0.299 * r + 0.587 * g + 0.114 * b));
            }
            continue;
        }
        for (uint32_t c = 0; c < nc; c++) {
            const uint32_t pi = source_plane(pic, spec->color_spec, c);
            if (c > 0 && pi == source_plane(pic, spec->color_spec, c - 1)) {
                /* replicated grey: copy the previous channel */
                for (uint32_t x = 0; x < w; x++)
                    memcpy(out_row + ((size_t)x * nc + c) * ssz, out_row + ((size_t)x * nc + c - 1) * ssz, ssz);
                continue;
            }
            const HtcPlane *p = &pic->planes[pi];
            if (!scale8 && pic->sample_type == spec->sample_type && p->width == w && p->height == h &&
                (p->pixel_stride == 1 || p->pixel_stride == 0)) {
                /* same type, same grid: copy (the common 16-bit greyscale case) */
                const uint8_t *src = (const uint8_t *)p->data + (ptrdiff_t)y * p->row_stride;
                if (nc == 1)
                    memcpy(out_row, src, (size_t)w * ssz);
                else
                    for (uint32_t x = 0; x < w; x++)
                        memcpy(out_row + ((size_t)x * nc + c) * ssz, src + (size_t)x * ssz, ssz);
                continue;
            }
            read_row(pic, p, w, h, y, rows);
            if (!scale8) {
                for (uint32_t x = 0; x < w; x++)
                    store(out_row, spec->sample_type, (size_t)x * nc + c, rows[x]);
            } else if (c < 3 && lut[c]) {
                const int64_t off = lut_off[c], top = ((int64_t)1 << p->precision) - 1;
                for (uint32_t x = 0; x < w; x++)
                    out_row[(size_t)x * nc + c] = lut[c][clamp64(rows[x] + off, 0, top)];
            } else {
                for (uint32_t x = 0; x < w; x++)
                    out_row[(size_t)x * nc + c] = to_u8(rows[x], p->precision, p->is_signed);
            }
        }
    }
done:
    for (int k = 0; k < 3; k++)
        free(lut[k]);
    free(rows);
    return rc;
}

int htcpy_plane_type(const HtcPlane *p) { return type_for(p->precision, p->is_signed); }

int htcpy_copy_plane(const HtcPicture *pic, uint32_t i, void *dst)
{
    const HtcPlane *p = &pic->planes[i];
    const int type = type_for(p->precision, p->is_signed);
    const size_t ss = htcpy_sample_size(type);
    if (p->width == 0 || p->height == 0)
        return 0;
    int64_t *row = malloc(sizeof(int64_t) * p->width);
    if (!row)
        return HTC_ENOMEM;
    for (uint32_t y = 0; y < p->height; y++) {
        read_row(pic, p, p->width, p->height, y, row);
        uint8_t *out = (uint8_t *)dst + (size_t)y * p->width * ss;
        for (uint32_t x = 0; x < p->width; x++)
            store(out, type, x, row[x]);
    }
    free(row);
    return 0;
}
