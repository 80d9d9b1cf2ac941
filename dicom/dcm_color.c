/* htcodec DICOM layer: colour conversions a caller may ask for (never the
 * default): YBR_FULL / YBR_FULL_422 to RGB (PS3.3 C.7.6.3.1.2, full range
 * BT.601) and PALETTE COLOR through the Red/Green/Blue Palette Color Lookup
 * Tables (PS3.3 C.7.6.3.1.5-6). */
#include <math.h>
#include <stdio.h>

#include "dcm_internal.h"

static int32_t sample(const HtcDicomFrame *f, size_t k)
{
    const uint8_t *p = f->data;
    switch (f->sample_type) {
    case HTC_SAMPLE_U8: return p[k];
    case HTC_SAMPLE_I8: return (int8_t)p[k];
    case HTC_SAMPLE_U16: return (uint16_t)(p[2 * k] | p[2 * k + 1] << 8);
    case HTC_SAMPLE_I16: return (int16_t)(p[2 * k] | p[2 * k + 1] << 8);
    default: return (int32_t)((uint32_t)p[4 * k] | (uint32_t)p[4 * k + 1] << 8 | (uint32_t)p[4 * k + 2] << 16 | (uint32_t)p[4 * k + 3] << 24);
    }
}

static int ybr_to_rgb(HtcDicom *d, HtcDicomFrame *f)
{
    if (f->components != 3 || f->sample_type != HTC_SAMPLE_U8)
        return dcm_fail(&d->ctx, HTC_EUNSUPPORTED, "YBR to RGB: %u components of sample type %d (8-bit only)",
                        f->components, f->sample_type);
    const size_t n = (size_t)f->width * f->height;
    uint8_t *p = f->data;
    for (size_t i = 0; i < n; i++) {
        const double y = p[i], cb = p[n + i] - 128.0, cr = p[2 * n + i] - 128.0;
        const double rgb[3] = { y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb };
        for (int c = 0; c < 3; c++) {
            const double v = floor(rgb[c] + 0.5);
            p[(size_t)c * n + i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
    memcpy(f->photometric, "RGB", 4);
    return 0;
}

static int palette_to_rgb(HtcDicom *d, HtcDicomFrame *f)
{
    static const uint32_t desc_tags[3] = { 0x00281101u, 0x00281102u, 0x00281103u };
    static const uint32_t data_tags[3] = { 0x00281201u, 0x00281202u, 0x00281203u };
    if (f->components != 1)
        return dcm_fail(&d->ctx, HTC_EDICOM, "PALETTE COLOR with %u samples per pixel", f->components);
    const uint8_t *lut[3];
    uint32_t entries = 0, bits = 0;
    int64_t first = 0;
    size_t lut_size[3];
    for (int c = 0; c < 3; c++) {
        const int32_t dn = htc_dicom_find(d, DCM_NONE, desc_tags[c]);
        const int32_t ln = htc_dicom_find(d, DCM_NONE, data_tags[c]);
        int64_t e, fm, b;
        if (dn < 0 || ln < 0 || htc_dicom_get_int(d, dn, 0, &e) < 0 || htc_dicom_get_int(d, dn, 1, &fm) < 0 ||
            htc_dicom_get_int(d, dn, 2, &b) < 0 || !d->nodes[ln].loaded)
            return dcm_fail(&d->ctx, HTC_EDICOM, "PALETTE COLOR: lookup table (0028,%04X) missing or unreadable (segmented tables are not supported)",
                            (unsigned)(data_tags[c] & 0xFFFF));
        if (e == 0)
            e = 65536;
        if ((b != 8 && b != 16) || (c && ((uint32_t)e != entries || (uint32_t)b != bits)))
            return dcm_fail(&d->ctx, HTC_EDICOM, "PALETTE COLOR: descriptor (0028,%04X) = %lld\\%lld\\%lld",
                            (unsigned)(desc_tags[c] & 0xFFFF), (long long)e, (long long)fm, (long long)b);
        entries = (uint32_t)e;
        bits = (uint32_t)b;
        first = fm;
        lut[c] = dcm_node_value(d, &d->nodes[ln]);
        lut_size[c] = d->nodes[ln].val_size;
        /* 8-bit entries may be packed one a byte or sit in 16-bit words */
        if (lut_size[c] < (size_t)entries * (bits == 16 ? 2 : 1))
            return dcm_fail(&d->ctx, HTC_EDICOM, "PALETTE COLOR: table (0028,%04X) has %zu bytes for %u entries",
                            (unsigned)(data_tags[c] & 0xFFFF), lut_size[c], entries);
    }
    const size_t n = (size_t)f->width * f->height;
    const uint32_t ob = bits == 16 ? 2 : 1;
    uint8_t *o = dcm_malloc(&d->ctx, n * 3 * ob);
    if (!o)
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for the RGB frame");
    const int be = d->big_endian;
    for (size_t i = 0; i < n; i++) {
        int64_t k = sample(f, i) - first;
        k = k < 0 ? 0 : k >= entries ? entries - 1 : k;
        for (int c = 0; c < 3; c++) {
            if (ob == 2) {
                const uint8_t *q = lut[c] + 2 * k;
                o[((size_t)c * n + i) * 2] = be ? q[1] : q[0];
                o[((size_t)c * n + i) * 2 + 1] = be ? q[0] : q[1];
            } else {
                const int words = lut_size[c] >= (size_t)entries * 2;
                o[(size_t)c * n + i] = words ? lut[c][2 * k + (be ? 1 : 0)] : lut[c][k];
            }
        }
    }
    dcm_free(&d->ctx, f->data);
    f->data = o;
    f->size = n * 3 * ob;
    f->components = 3;
    f->sample_type = ob == 2 ? HTC_SAMPLE_U16 : HTC_SAMPLE_U8;
    f->precision = bits;
    f->is_signed = 0;
    memcpy(f->photometric, "RGB", 4);
    return 0;
}

int dcm_convert_rgb(HtcDicom *d, HtcDicomFrame *f)
{
    if (!strcmp(f->photometric, "YBR_FULL") || !strcmp(f->photometric, "YBR_FULL_422"))
        return ybr_to_rgb(d, f);
    if (!strcmp(f->photometric, "PALETTE COLOR"))
        return palette_to_rgb(d, f);
    return 0;
}
