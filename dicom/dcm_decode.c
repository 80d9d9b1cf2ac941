/* htcodec DICOM layer: decoding one frame into planar samples with the
 * pixel semantics of PS3.5 8.2 / PS3.3 C.7.6.3: native (any byte order,
 * 1-bit packed, colour-by-pixel or by-plane), RLE, JPEG 2000 and HTJ2K
 * through libhtc, JPEG through libjpeg when built with it. The samples stay
 * as stored: YBR stays YBR, no rescale unless asked for. */
#include <stdio.h>

#include "dcm_internal.h"


void htc_dicom_default_decode_params(HtcDicomDecodeParams *p)
{
    memset(p, 0, sizeof(*p));
    p->threads = 1;
    p->device = HTC_DEVICE_CPU;
}

void htc_dicom_frame_release(HtcDicomFrame *f)
{
    if (!f)
        return;
    const HtcAllocator a = f->allocator;
    dcm_free_with(&a, f->data);
    memset(f, 0, sizeof(*f));
}

static int sample_type_for(uint32_t bytes, int is_signed)
{
    switch (bytes) {
    case 1: return is_signed ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8;
    case 2: return is_signed ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16;
    default: return is_signed ? HTC_SAMPLE_I32 : HTC_SAMPLE_U32;
    }
}

/* Precision to report: Bits Stored, but never so small that a writer choosing
 * sample bytes by precision would pick fewer bytes than Bits Allocated has. */
static uint32_t stored_precision(const HtcDicomImage *img)
{
    const uint32_t ba = img->bits_allocated, bs = img->bits_stored;
    if (ba <= 8)
        return bs;
    const uint32_t floor = ba == 24 ? 17 : (ba / 8 - 1) * 8 + 1;
    return bs < floor ? floor : bs;
}

static int alloc_frame(HtcDicom *d, HtcDicomFrame *out, uint32_t bytes)
{
    const uint64_t n = (uint64_t)out->width * out->height * out->components * bytes;
    const uint64_t limit = d->ctx.limits.max_memory ? d->ctx.limits.max_memory : UINT64_MAX;
    if (n > limit || n > SIZE_MAX)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "frame of %llu bytes exceeds the memory limit", (unsigned long long)n);
    out->data = dcm_malloc(&d->ctx, (size_t)n);
    if (!out->data)
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for a frame of %llu bytes", (unsigned long long)n);
    out->size = (size_t)n;
    out->allocator = d->ctx.allocator;
    return 0;
}

static int decode_native(HtcDicom *d, const HtcDicomImage *img, const uint8_t *src, size_t size, HtcDicomFrame *out)
{
    const uint32_t ba = img->bits_allocated;
    const size_t npix = (size_t)img->rows * img->columns, spp = img->samples_per_pixel;
    const uint32_t in_bytes = ba == 1 ? 0 : ba / 8;
    if (ba > 32 && ba != 64)
        return dcm_fail(&d->ctx, HTC_EUNSUPPORTED, "Bits Allocated (0028,0100) = %u is not supported", ba);
    if (ba == 64)
        return dcm_fail(&d->ctx, HTC_EUNSUPPORTED, "Bits Allocated (0028,0100) = 64: use the float/double pixel data path");
    const uint32_t out_bytes = ba == 1 ? 1 : ba == 24 ? 4 : in_bytes;
    out->sample_type = sample_type_for(out_bytes, img->pixel_representation);
    out->precision = ba == 1 ? 1 : stored_precision(img);
    out->is_signed = img->pixel_representation;
    const size_t need = (size_t)((dcm_native_frame_bits(img) + 7) / 8);
    if (size < need)
        return dcm_fail(&d->ctx, HTC_EDICOM, "native frame: %zu bytes, %zu needed", size, need);
    HTC_DICOM_RC(alloc_frame(d, out, out_bytes));
    if (dcm_is_ybr422_native(img)) {
        /* Y0 Y1 Cb Cr for each pair of pixels: chroma repeated for both (as stored, not converted). */
        if (img->columns % 2 || (ba != 8 && ba != 16))
            return dcm_fail(&d->ctx, HTC_EDICOM, "YBR_FULL_422 with %u columns, Bits Allocated %u", img->columns, ba);
        for (size_t i = 0; i < npix; i += 2) {
            for (uint32_t k = 0; k < 4; k++) {
                const uint8_t *q = src + (i * 2 + k) * in_bytes;
                const size_t o = k < 2 ? i + k : (k - 1) * npix + i; /* Y0, Y1, then Cb (plane 1), Cr (plane 2) */
                for (uint32_t b = 0; b < in_bytes; b++) {
                    const uint8_t v = q[img->big_endian ? in_bytes - 1 - b : b];
                    ((uint8_t *)out->data)[o * out_bytes + b] = v;
                    if (k >= 2)
                        ((uint8_t *)out->data)[(o + 1) * out_bytes + b] = v;
                }
            }
        }
        return 0;
    }
    uint8_t *dst = out->data;
    /* Explicit VR Big Endian stores OW 8-bit pixel data as swapped 16-bit words. */
    const int pn_ow = d->pixel_node != DCM_NONE && d->nodes[d->pixel_node].vr == DCM_VR('O', 'W');
    const int swap8 = img->big_endian && ba == 8 && pn_ow;
    const int be = img->big_endian;
    for (size_t s = 0; s < spp; s++) {
        for (size_t i = 0; i < npix; i++) {
            /* sample index in the stored order */
            const size_t si = img->planar_configuration ? s * npix + i : i * spp + s;
            const size_t o = s * npix + i;
            if (ba == 1) {
                dst[o] = (uint8_t)(src[si >> 3] >> (si & 7) & 1);
                continue;
            }
            if (ba == 8) {
                dst[o] = src[swap8 ? si ^ 1 : si];
                continue;
            }
            const uint8_t *p = src + si * in_bytes;
            uint32_t v = 0;
            for (uint32_t b = 0; b < in_bytes; b++)
                v |= (uint32_t)p[be ? in_bytes - 1 - b : b] << (8 * b);
            if (ba == 24 && img->pixel_representation && (v & 0x800000u))
                v |= 0xFF000000u;
            uint8_t *q = dst + o * out_bytes;
            for (uint32_t b = 0; b < out_bytes; b++)
                q[b] = (uint8_t)(v >> (8 * b));
        }
    }
    return 0;
}

static int decode_rle(HtcDicom *d, const HtcDicomImage *img, const uint8_t *src, size_t size, HtcDicomFrame *out)
{
    const uint32_t ba = img->bits_allocated;
    if (ba == 1 || ba > 32)
        return dcm_fail(&d->ctx, HTC_EDICOM, "RLE Lossless with Bits Allocated (0028,0100) = %u", ba);
    const uint32_t bps = ba / 8;
    out->sample_type = sample_type_for(bps == 3 ? 4 : bps, img->pixel_representation);
    out->precision = stored_precision(img);
    out->is_signed = img->pixel_representation;
    HTC_DICOM_RC(alloc_frame(d, out, bps));
    HTC_DICOM_RC(dcm_rle_decode(&d->ctx, src, size, img->rows, img->columns, img->samples_per_pixel, bps, out->data));
    return 0;
}

/* Opens a frame's codestream and checks it against the header; the
 * codestream wins where they disagree (pydicom's APPLY_J2K_CORRECTIONS). */
int dcm_j2k_open(HtcDicom *d, const HtcDicomImage *img, const uint8_t *src, size_t size, HtcStream **out,
                 int *corrected)
{
    HtcStreamSettings ss;
    htc_stream_default_settings(&ss);
    ss.limits = d->ctx.limits;
    ss.allocator = d->ctx.allocator;
    ss.log = d->ctx.log;
    ss.log_opaque = d->ctx.log_opaque;
    HtcStream *s = NULL;
    int rc = htc_stream_open_memory(&s, src, size, &ss);
    if (rc < 0)
        return dcm_fail(&d->ctx, rc, "frame codestream: %s", htc_last_error());
    HtcImageInfo info;
    HtcComponentInfo ci;
    rc = htc_stream_get_info(s, &info);
    if (rc >= 0)
        rc = htc_stream_get_component(s, 0, &ci);
    if (rc < 0) {
        htc_stream_close(&s);
        return dcm_fail(&d->ctx, rc, "frame codestream: %s", htc_last_error());
    }
    if (info.num_components != img->samples_per_pixel || info.width != img->columns || info.height != img->rows)
        dcm_warn(&d->ctx, "codestream is %ux%u with %u components, the header says %ux%u with %u samples",
                 info.width, info.height, info.num_components, img->columns, img->rows, img->samples_per_pixel);
    *corrected = 0;
    if ((int)ci.is_signed != img->pixel_representation || ci.precision != img->bits_stored) {
        *corrected = 1;
        dcm_warn(&d->ctx, "codestream has %u-bit %s samples, the header says Bits Stored %u, Pixel Representation %d: using the codestream's",
                 ci.precision, ci.is_signed ? "signed" : "unsigned", img->bits_stored, img->pixel_representation);
    }
    *out = s;
    return 0;
}

int dcm_make_decoder(HtcDicom *d, const HtcDicomDecodeParams *p, HtcDecoder **own)
{
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    ds.threads = p->threads;
    ds.device = p->device;
    ds.limits = d->ctx.limits;
    ds.allocator = d->ctx.allocator;
    ds.log = d->ctx.log;
    ds.log_opaque = d->ctx.log_opaque;
    const int rc = htc_decoder_open(own, &ds);
    if (rc < 0)
        return dcm_fail(&d->ctx, rc, "cannot make a decoder: %s", htc_last_error());
    return 0;
}

/* A decoded picture (host memory) into the frame's planar buffer. */
int dcm_picture_to_frame(HtcDicom *d, const HtcPicture *pic, HtcDicomFrame *out)
{
    if (pic->memory != HTC_MEMORY_HOST || pic->num_planes == 0)
        return dcm_fail(&d->ctx, HTC_EINVAL, "decoded picture is not in host memory");
    out->width = pic->planes[0].width;
    out->height = pic->planes[0].height;
    out->components = pic->num_planes;
    out->sample_type = pic->sample_type;
    out->precision = pic->planes[0].precision;
    out->is_signed = pic->planes[0].is_signed;
    const size_t bytes = htc_sample_size(pic->sample_type);
    uint64_t total = 0;
    for (uint32_t c = 0; c < pic->num_planes; c++)
        total += (uint64_t)pic->planes[c].width * pic->planes[c].height * bytes;
    const uint64_t limit = d->ctx.limits.max_memory ? d->ctx.limits.max_memory : UINT64_MAX;
    if (total > limit || total > SIZE_MAX)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "frame of %llu bytes exceeds the memory limit", (unsigned long long)total);
    if (!(out->data = dcm_malloc(&d->ctx, (size_t)total)))
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for a frame of %llu bytes", (unsigned long long)total);
    out->size = (size_t)total;
    out->allocator = d->ctx.allocator;
    uint8_t *o = out->data;
    for (uint32_t c = 0; c < pic->num_planes; c++) {
        const HtcPlane *pl = &pic->planes[c];
        for (uint32_t y = 0; y < pl->height; y++) {
            const uint8_t *row = (const uint8_t *)pl->data + (ptrdiff_t)y * pl->row_stride;
            if (pl->pixel_stride == 1) {
                memcpy(o, row, (size_t)pl->width * bytes);
                o += (size_t)pl->width * bytes;
            } else {
                for (uint32_t x = 0; x < pl->width; x++, o += bytes)
                    memcpy(o, row + (size_t)x * pl->pixel_stride * bytes, bytes);
            }
        }
    }
    return 0;
}

static int decode_j2k(HtcDicom *d, HtcDecoder *dec, const HtcDicomImage *img, const uint8_t *src, size_t size,
                      const HtcDicomDecodeParams *p, HtcDicomFrame *out)
{
    HtcStream *s = NULL;
    HTC_DICOM_RC(dcm_j2k_open(d, img, src, size, &s, &out->corrected));
    HtcCodingInfo co;
    if ((!strcmp(img->photometric, "YBR_ICT") || !strcmp(img->photometric, "YBR_RCT")) &&
        htc_stream_get_coding(s, HTC_TILE_MAIN, 0, &co) == 0 && co.mct)
        memcpy(out->photometric, "RGB", 4); /* the inverse colour transform gives RGB */
    HtcDecoder *own = NULL;
    int rc = 0;
    if (!dec) {
        rc = dcm_make_decoder(d, p, &own);
        dec = own;
    }
    if (rc >= 0) {
        HtcDecodeParams dp;
        htc_decode_default_params(&dp);
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        rc = htc_decode(dec, s, &dp, &pic);
        if (rc < 0)
            rc = dcm_fail(&d->ctx, rc, "frame codestream: %s", htc_last_error());
        else
            rc = dcm_picture_to_frame(d, &pic, out);
        htc_picture_release(&pic);
    }
    htc_decoder_close(&own);
    htc_stream_close(&s);
    return rc;
}

/* Slope and intercept of frame k: the top level, else the Pixel Value
 * Transformation macro (0028,9145) of the frame's or the shared functional groups. */
static void frame_rescale(HtcDicom *d, const HtcDicomImage *img, uint32_t k, double *slope, double *icpt)
{
    *slope = img->rescale_slope;
    *icpt = img->rescale_intercept;
    if (img->has_rescale)
        return;
    static const uint32_t groups[2] = { 0x52009230u, 0x52009229u };
    for (int g = 0; g < 2; g++) {
        const int32_t sq = htc_dicom_find(d, DCM_NONE, groups[g]);
        if (sq < 0)
            continue;
        int32_t it = htc_dicom_first(d, sq);
        for (uint32_t i = 0; it >= 0 && g == 0 && i < k; i++)
            it = htc_dicom_next(d, it);
        const int32_t pvt = it >= 0 ? htc_dicom_find(d, it, 0x00289145u) : -1;
        const int32_t item = pvt >= 0 ? htc_dicom_first(d, pvt) : -1;
        if (item < 0)
            continue;
        double a, b;
        const int32_t sn = htc_dicom_find(d, item, 0x00281053u), in = htc_dicom_find(d, item, 0x00281052u);
        if (sn >= 0 && in >= 0 && htc_dicom_get_double(d, sn, 0, &a) == 0 && htc_dicom_get_double(d, in, 0, &b) == 0) {
            *slope = a;
            *icpt = b;
            return;
        }
    }
}

int dcm_apply_rescale(HtcDicom *d, const HtcDicomImage *img, uint32_t k, HtcDicomFrame *f)
{
    double slope, icpt;
    frame_rescale(d, img, k, &slope, &icpt);
    const size_t n = (size_t)f->width * f->height * f->components;
    if (n > SIZE_MAX / 4)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "frame too large");
    float *o = dcm_malloc(&d->ctx, n * 4);
    if (!o)
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for the rescaled frame");
    const uint8_t *s = f->data;
    for (size_t i = 0; i < n; i++) {
        double v;
        switch (f->sample_type) {
        case HTC_SAMPLE_U8: v = s[i]; break;
        case HTC_SAMPLE_I8: v = (int8_t)s[i]; break;
        case HTC_SAMPLE_U16: v = (uint16_t)(s[2 * i] | s[2 * i + 1] << 8); break;
        case HTC_SAMPLE_I16: v = (int16_t)(s[2 * i] | s[2 * i + 1] << 8); break;
        case HTC_SAMPLE_U32: v = (uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 | (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24; break;
        default: v = (int32_t)((uint32_t)s[4 * i] | (uint32_t)s[4 * i + 1] << 8 | (uint32_t)s[4 * i + 2] << 16 | (uint32_t)s[4 * i + 3] << 24); break;
        }
        o[i] = (float)(v * slope + icpt);
    }
    dcm_free(&d->ctx, f->data);
    f->data = o;
    f->size = n * 4;
    f->sample_type = HTC_SAMPLE_F32;
    f->precision = 32;
    f->is_signed = 1;
    return 0;
}

int htc_dicom_decode_frame(HtcDicom *d, HtcDecoder *dec, uint32_t k, const HtcDicomDecodeParams *p,
                           HtcDicomFrame *out)
{
    if (!d || !out)
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    memset(out, 0, sizeof(*out));
    HtcDicomDecodeParams defp;
    if (!p) {
        htc_dicom_default_decode_params(&defp);
        p = &defp;
    }
    HtcDicomImage img;
    HTC_DICOM_RC(htc_dicom_get_image(d, &img));
    if (k >= img.frames)
        return dcm_fail(&d->ctx, HTC_ERANGE, "frame %u asked for, Number of Frames is %u", k + 1, img.frames);
    switch (img.codec) {
    case HTC_DICOM_NATIVE: case HTC_DICOM_RLE: case HTC_DICOM_J2K: case HTC_DICOM_HTJ2K:
    case HTC_DICOM_JPEG_LOSSLESS: case HTC_DICOM_JPEG_LS: case HTC_DICOM_JPEG:
        break;
    default:
        return dcm_fail(&d->ctx, HTC_ETSYNTAX, "transfer syntax %s (%s) cannot be decoded by this build",
                        img.transfer_syntax, img.transfer_syntax_name);
    }
    out->width = img.columns;
    out->height = img.rows;
    out->components = img.samples_per_pixel;
    memcpy(out->photometric, img.photometric, sizeof(out->photometric));
    uint8_t *src;
    size_t size;
    HTC_DICOM_RC(htc_dicom_frame_data(d, k, &src, &size));
    int rc;
    switch (img.codec) {
    case HTC_DICOM_NATIVE: rc = decode_native(d, &img, src, size, out); break;
    case HTC_DICOM_RLE: rc = decode_rle(d, &img, src, size, out); break;
    case HTC_DICOM_JPEG: rc = dcm_jpeg_decode(&d->ctx, src, size, &img, out); break;
    case HTC_DICOM_JPEG_LOSSLESS: rc = dcm_jpegll_decode(&d->ctx, src, size, &img, out); break;
    case HTC_DICOM_JPEG_LS: rc = dcm_jpegls_decode(&d->ctx, src, size, &img, out); break;
    default: rc = decode_j2k(d, dec, &img, src, size, p, out); break;
    }
    dcm_free(&d->ctx, src);
    if (rc >= 0 && p->convert_rgb)
        rc = dcm_convert_rgb(d, out);
    if (rc >= 0 && p->apply_rescale)
        rc = dcm_apply_rescale(d, &img, k, out);
    if (rc < 0)
        htc_dicom_frame_release(out);
    return rc;
}
