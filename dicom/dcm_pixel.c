/* htcodec DICOM layer: where each frame's bytes are. Native pixel data by
 * arithmetic; encapsulated pixel data through the Extended Offset Table, the
 * Basic Offset Table, or (both empty) the fragment list, splitting fragments
 * into frames at codestream starts (JPEG 2000 SOC, JPEG SOI, JP2 signature). */
#include <stdio.h>
#include <stdlib.h>

#include "dcm_internal.h"

typedef struct TsEntry {
    const char *uid;
    int codec;
    const char *name;
} TsEntry;

static const TsEntry ts_table[] = {
    { "1.2.840.10008.1.2", HTC_DICOM_NATIVE, "Implicit VR Little Endian" },
    { "1.2.840.10008.1.2.1", HTC_DICOM_NATIVE, "Explicit VR Little Endian" },
    { "1.2.840.10008.1.2.1.98", HTC_DICOM_NATIVE, "Encapsulated Uncompressed Explicit VR Little Endian" },
    { "1.2.840.10008.1.2.1.99", HTC_DICOM_NATIVE, "Deflated Explicit VR Little Endian" },
    { "1.2.840.10008.1.2.2", HTC_DICOM_NATIVE, "Explicit VR Big Endian" },
    { "1.2.840.10008.1.2.4.50", HTC_DICOM_JPEG, "JPEG Baseline (Process 1)" },
    { "1.2.840.10008.1.2.4.51", HTC_DICOM_JPEG, "JPEG Extended (Process 2 & 4)" },
    { "1.2.840.10008.1.2.4.57", HTC_DICOM_JPEG_LOSSLESS, "JPEG Lossless, Non-Hierarchical (Process 14)" },
    { "1.2.840.10008.1.2.4.70", HTC_DICOM_JPEG_LOSSLESS, "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])" },
    { "1.2.840.10008.1.2.4.80", HTC_DICOM_JPEG_LS, "JPEG-LS Lossless Image Compression" },
    { "1.2.840.10008.1.2.4.81", HTC_DICOM_JPEG_LS, "JPEG-LS Lossy (Near-Lossless) Image Compression" },
    { "1.2.840.10008.1.2.4.90", HTC_DICOM_J2K, "JPEG 2000 Image Compression (Lossless Only)" },
    { "1.2.840.10008.1.2.4.91", HTC_DICOM_J2K, "JPEG 2000 Image Compression" },
    { "1.2.840.10008.1.2.4.92", HTC_DICOM_J2K, "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)" },
    { "1.2.840.10008.1.2.4.93", HTC_DICOM_J2K, "JPEG 2000 Part 2 Multi-component Image Compression" },
    { "1.2.840.10008.1.2.4.201", HTC_DICOM_HTJ2K, "High-Throughput JPEG 2000 Image Compression (Lossless Only)" },
    { "1.2.840.10008.1.2.4.202", HTC_DICOM_HTJ2K, "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)" },
    { "1.2.840.10008.1.2.4.203", HTC_DICOM_HTJ2K, "High-Throughput JPEG 2000 Image Compression" },
    { "1.2.840.10008.1.2.5", HTC_DICOM_RLE, "RLE Lossless" },
};

int dcm_transfer_syntax(const char *uid, int *codec, const char **name)
{
    for (size_t i = 0; i < sizeof(ts_table) / sizeof(ts_table[0]); i++)
        if (!strcmp(uid, ts_table[i].uid)) {
            *codec = ts_table[i].codec;
            *name = ts_table[i].name;
            return 1;
        }
    *codec = HTC_DICOM_OTHER;
    *name = "unknown transfer syntax";
    return 0;
}

static int get_u(HtcDicom *d, uint32_t tag, int64_t def, int required, int64_t lo, int64_t hi, int64_t *v,
                 const char *name)
{
    const int32_t n = htc_dicom_find(d, DCM_NONE, tag);
    if (n == DCM_NONE || htc_dicom_value_count(d, n) == 0) {
        if (required)
            return dcm_fail(&d->ctx, HTC_EDICOM, "%s (%04X,%04X) is missing", name, (unsigned)(tag >> 16),
                            (unsigned)(tag & 0xFFFF));
        *v = def;
        return 0;
    }
    if (htc_dicom_get_int(d, n, 0, v) < 0 || *v < lo || *v > hi)
        return dcm_fail(&d->ctx, HTC_EDICOM, "%s (%04X,%04X) at offset %llu: value out of range [%lld, %lld]", name,
                        (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF), (unsigned long long)d->nodes[n].offset,
                        (long long)lo, (long long)hi);
    return 0;
}

int htc_dicom_get_image(HtcDicom *d, HtcDicomImage *img)
{
    if (!d || !img)
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    memset(img, 0, sizeof(*img));
    snprintf(img->transfer_syntax, sizeof(img->transfer_syntax), "%s", d->ts);
    dcm_transfer_syntax(d->ts, &img->codec, &img->transfer_syntax_name);
    img->big_endian = d->big_endian;
    img->explicit_vr = d->explicit_vr;
    img->deflated = d->deflated;
    if (d->pixel_node == DCM_NONE)
        return dcm_fail(&d->ctx, HTC_EDICOM, "no Pixel Data (7FE0,0010) in the data set");
    const DcmNode *pn = &d->nodes[d->pixel_node];
    img->encapsulated = d->encapsulated;
    if (img->codec != HTC_DICOM_NATIVE && !d->encapsulated)
        return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010) at offset %llu: transfer syntax %s needs encapsulated pixel data",
                        (unsigned long long)pn->offset, d->ts);
    int64_t v;
    HTC_DICOM_RC(get_u(d, 0x00280010u, 0, 1, 1, 65535, &v, "Rows"));
    img->rows = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280011u, 0, 1, 1, 65535, &v, "Columns"));
    img->columns = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280002u, 1, 0, 1, 4, &v, "Samples per Pixel"));
    img->samples_per_pixel = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280100u, 0, 1, 1, 64, &v, "Bits Allocated"));
    img->bits_allocated = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280101u, img->bits_allocated, 0, 1, img->bits_allocated, &v, "Bits Stored"));
    img->bits_stored = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280102u, img->bits_stored - 1, 0, 0, img->bits_allocated - 1, &v, "High Bit"));
    img->high_bit = (uint32_t)v;
    HTC_DICOM_RC(get_u(d, 0x00280103u, 0, 0, 0, 1, &v, "Pixel Representation"));
    img->pixel_representation = (int)v;
    HTC_DICOM_RC(get_u(d, 0x00280006u, 0, 0, 0, 1, &v, "Planar Configuration"));
    img->planar_configuration = (int)v;
    HTC_DICOM_RC(get_u(d, 0x00280008u, 1, 0, 1, 0x7FFFFFFF, &v, "Number of Frames"));
    img->frames = (uint32_t)v;
    htc_dicom_tag_string(d, 0x00280004u, 0, img->photometric, sizeof(img->photometric));
    img->rescale_slope = 1;
    img->rescale_intercept = 0;
    if (htc_dicom_tag_double(d, 0x00281053u, 0, &img->rescale_slope) == 0)
        img->has_rescale = 1;
    else
        img->rescale_slope = 1;
    if (htc_dicom_tag_double(d, 0x00281052u, 0, &img->rescale_intercept) == 0)
        img->has_rescale = 1;
    else
        img->rescale_intercept = 0;
    if (img->bits_allocated != 1 && img->bits_allocated % 8)
        return dcm_fail(&d->ctx, HTC_EDICOM, "Bits Allocated (0028,0100) = %u: not 1 or a multiple of 8",
                        img->bits_allocated);
    const uint64_t pixels = (uint64_t)img->rows * img->columns;
    if (d->ctx.limits.max_pixels && pixels > d->ctx.limits.max_pixels)
        return dcm_fail(&d->ctx, HTC_ELIMIT, "%ux%u pixels exceed the limit", img->columns, img->rows);
    img->pixel_data_offset = pn->offset;
    img->pixel_data_length = pn->length;
    img->bot_entries = d->bot_entries;
    img->has_eot = htc_dicom_find(d, DCM_NONE, DCM_TAG_EOT) != DCM_NONE;
    img->num_fragments = d->fragments_scanned ? d->num_frags : 0;
    return 0;
}

/* Bits of one native frame: YBR_FULL_422 stores two samples a pixel (Y Y Cb Cr
 * for each pair, PS3.3 C.7.6.3.1.2), everything else samples per pixel. */
uint64_t dcm_native_frame_bits(const HtcDicomImage *img)
{
    const uint64_t spp = dcm_is_ybr422_native(img) ? 2 : img->samples_per_pixel;
    return (uint64_t)img->rows * img->columns * spp * img->bits_allocated;
}

int dcm_is_ybr422_native(const HtcDicomImage *img)
{
    return !img->encapsulated && img->samples_per_pixel == 3 && !strcmp(img->photometric, "YBR_FULL_422");
}

static int starts_codestream(HtcDicom *d, const DcmFragment *f, int *yes)
{
    uint8_t b[12] = { 0 };
    const uint32_t n = f->length < 12 ? f->length : 12;
    HTC_DICOM_RC(dcm_read(d->ds, &d->ctx, f->offset, b, n));
    *yes = (n >= 2 && b[0] == 0xFF && (b[1] == 0x4F || b[1] == 0xD8)) ||
           (n >= 12 && !memcmp(b, "\0\0\0\x0CjP  \r\n\x87\n", 12));
    return 0;
}

/* With empty offset tables: which fragments start each frame. */
int dcm_pixel_index(HtcDicom *d)
{
    if (d->frames_indexed)
        return 0;
    HtcDicomImage img;
    HTC_DICOM_RC(htc_dicom_get_image(d, &img));
    HTC_DICOM_RC(dcm_parse_rest(d));
    const uint32_t nf = img.frames;
    if (d->num_frags == 0)
        return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010) at offset %llu has no fragments",
                        (unsigned long long)img.pixel_data_offset);
    if (d->num_frags < nf)
        return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010) at offset %llu: %u fragments for Number of Frames %u",
                        (unsigned long long)img.pixel_data_offset, d->num_frags, nf);
    d->frame_first = dcm_malloc(&d->ctx, ((size_t)nf + 1) * sizeof(uint32_t));
    if (!d->frame_first)
        return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %u frames", nf);
    if (nf == 1 || d->num_frags == nf) {
        for (uint32_t k = 0; k < nf; k++)
            d->frame_first[k] = nf == 1 ? 0 : k;
    } else {
        uint32_t found = 0;
        for (uint32_t i = 0; i < d->num_frags; i++) {
            int yes;
            HTC_DICOM_RC(starts_codestream(d, &d->frags[i], &yes));
            if (i == 0 && !yes)
                return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): %u fragments for %u frames, empty Basic Offset Table, and the first fragment (offset %llu) does not start a codestream",
                                d->num_frags, nf, (unsigned long long)d->frags[0].offset);
            if (yes) {
                if (found == nf)
                    return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): more codestreams than Number of Frames %u (fragment %u at offset %llu)",
                                    nf, i, (unsigned long long)d->frags[i].offset);
                d->frame_first[found++] = i;
            }
        }
        if (found != nf)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010): %u codestreams in %u fragments for Number of Frames %u",
                            found, d->num_frags, nf);
    }
    d->frame_first[nf] = d->num_frags;
    d->frames_indexed = 1;
    return 0;
}

static int read_le(const uint8_t *p, uint32_t n, uint64_t *v)
{
    *v = 0;
    for (uint32_t k = 0; k < n; k++)
        *v |= (uint64_t)p[k] << (8 * k);
    return 0;
}

/* Frame k of encapsulated pixel data located through the offset tables:
 * walks the fragment items from the frame's first one. */
static int ranges_by_table(HtcDicom *d, const HtcDicomImage *img, uint32_t k, uint64_t *offs, uint64_t *lens,
                           uint32_t max, uint32_t *count)
{
    uint64_t start, stop = UINT64_MAX, eot_len = 0;
    const uint64_t end = d->ds->size;
    const int32_t eot = htc_dicom_find(d, DCM_NONE, DCM_TAG_EOT);
    if (eot != DCM_NONE) {
        const DcmNode *e = &d->nodes[eot];
        const int32_t eln = htc_dicom_find(d, DCM_NONE, DCM_TAG_EOT_LENGTHS);
        if (!e->loaded || e->val_size != (uint64_t)img->frames * 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Extended Offset Table (7FE0,0001) at offset %llu: %u bytes for Number of Frames %u",
                            (unsigned long long)e->offset, e->val_size, img->frames);
        if (eln == DCM_NONE || !d->nodes[eln].loaded || d->nodes[eln].val_size != (uint64_t)img->frames * 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Extended Offset Table Lengths (7FE0,0002) missing or not %u entries",
                            img->frames);
        read_le(dcm_node_value(d, e) + (size_t)k * 8, 8, &start);
        read_le(dcm_node_value(d, &d->nodes[eln]) + (size_t)k * 8, 8, &eot_len);
    } else {
        if (d->bot_entries != img->frames)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Basic Offset Table has %u entries for Number of Frames %u",
                            d->bot_entries, img->frames);
        start = d->bot[k];
        if (k + 1 < img->frames) {
            stop = d->frag_start + d->bot[k + 1];
            if (d->bot[k + 1] <= d->bot[k])
                return dcm_fail(&d->ctx, HTC_EDICOM, "Basic Offset Table: offset %u of frame %u not after %u of frame %u",
                                d->bot[k + 1], k + 2, d->bot[k], k + 1);
        }
    }
    if (start > end - d->frag_start)
        return dcm_fail(&d->ctx, HTC_EDICOM, "%s offset %llu of frame %u points past the end of the data",
                        eot != DCM_NONE ? "Extended Offset Table" : "Basic Offset Table", (unsigned long long)start, k + 1);
    uint64_t pos = d->frag_start + start;
    uint32_t n = 0;
    uint64_t total = 0;
    for (;;) {
        if (pos == stop)
            break;
        if (pos > stop)
            return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: fragment at offset %llu runs past the next frame's offset %llu",
                            k + 1, (unsigned long long)pos, (unsigned long long)stop);
        uint8_t h[8];
        if (end - pos < 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: data ends at offset %llu inside the fragments", k + 1,
                            (unsigned long long)pos);
        HTC_DICOM_RC(dcm_read(d->ds, &d->ctx, pos, h, 8));
        uint64_t tag, len;
        read_le(h, 4, &tag);
        read_le(h + 4, 4, &len);
        tag = (tag & 0xFFFF) << 16 | tag >> 16;
        if (tag == DCM_TAG_SEQ_END && n > 0) {
            if (stop != UINT64_MAX)
                return dcm_fail(&d->ctx, HTC_EDICOM, "Basic Offset Table: offset of frame %u points past the last fragment (offset %llu)",
                                k + 2, (unsigned long long)(stop - d->frag_start));
            break;
        }
        if (tag != DCM_TAG_ITEM)
            return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: offset table points to offset %llu, which holds (%04X,%04X), not a fragment item",
                            k + 1, (unsigned long long)pos, (unsigned)(tag >> 16), (unsigned)(tag & 0xFFFF));
        if (len == HTC_DICOM_UNDEFINED || len > end - pos - 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: fragment at offset %llu has length %llu past the end of the data",
                            k + 1, (unsigned long long)pos, (unsigned long long)len);
        if (n < max) {
            offs[n] = pos + 8;
            lens[n] = len;
        }
        n++;
        total += len;
        pos += 8 + len;
        if (eot != DCM_NONE)
            break; /* one fragment per frame when the Extended Offset Table is used */
        if (n > d->max_elements)
            return dcm_fail(&d->ctx, HTC_ELIMIT, "frame %u: more than %u fragments", k + 1, d->max_elements);
    }
    if (eot != DCM_NONE && eot_len != total && eot_len != total - 1)
        return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u: Extended Offset Table Lengths says %llu bytes, its fragment has %llu",
                        k + 1, (unsigned long long)eot_len, (unsigned long long)total);
    *count = n;
    return 0;
}

int htc_dicom_frame_ranges(HtcDicom *d, uint32_t k, uint64_t *offs, uint64_t *lens, uint32_t max, uint32_t *count)
{
    if (!d || !count || (max && (!offs || !lens)))
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    *count = 0;
    HtcDicomImage img;
    HTC_DICOM_RC(htc_dicom_get_image(d, &img));
    if (k >= img.frames)
        return dcm_fail(&d->ctx, HTC_ERANGE, "frame %u asked for, Number of Frames is %u", k + 1, img.frames);
    if (!d->encapsulated) {
        const uint64_t bits = dcm_native_frame_bits(&img);
        const uint64_t first = bits * k / 8, last = (bits * (k + 1) + 7) / 8;
        if (img.pixel_data_length < (bits * img.frames + 7) / 8)
            return dcm_fail(&d->ctx, HTC_EDICOM, "Pixel Data (7FE0,0010) at offset %llu: %llu bytes, %u frames of %ux%ux%u at %u bits need %llu",
                            (unsigned long long)img.pixel_data_offset, (unsigned long long)img.pixel_data_length,
                            img.frames, img.columns, img.rows, img.samples_per_pixel, img.bits_allocated,
                            (unsigned long long)((bits * img.frames + 7) / 8));
        if (max) {
            offs[0] = img.pixel_data_offset + first;
            lens[0] = last - first;
        }
        *count = 1;
        return 0;
    }
    if (!d->fragments_scanned && (d->bot_entries || img.has_eot))
        return ranges_by_table(d, &img, k, offs, lens, max, count);
    if (d->bot_entries || img.has_eot) {
        /* Fragments were listed anyway (something after Pixel Data was asked for). */
        return ranges_by_table(d, &img, k, offs, lens, max, count);
    }
    HTC_DICOM_RC(dcm_pixel_index(d));
    const uint32_t a = d->frame_first[k], b = d->frame_first[k + 1];
    for (uint32_t i = a; i < b; i++)
        if (i - a < max) {
            offs[i - a] = d->frags[i].offset;
            lens[i - a] = d->frags[i].length;
        }
    *count = b - a;
    return 0;
}

int htc_dicom_frame_data(HtcDicom *d, uint32_t k, uint8_t **data, size_t *size)
{
    if (!d || !data || !size)
        return dcm_fail(NULL, HTC_EINVAL, "NULL argument");
    *data = NULL;
    *size = 0;
    /* One walk of the fragments for the usual few; a second only for more. */
    uint64_t local[32];
    uint64_t *offs = local, *lens = local + 16;
    uint32_t n;
    int rc = htc_dicom_frame_ranges(d, k, offs, lens, 16, &n);
    if (rc < 0)
        return rc;
    if (n == 0)
        return dcm_fail(&d->ctx, HTC_EDICOM, "frame %u has no fragments", k + 1);
    if (n > 16) {
        offs = dcm_malloc(&d->ctx, (size_t)n * 16);
        if (!offs)
            return dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for %u fragments", n);
        lens = offs + n;
        rc = htc_dicom_frame_ranges(d, k, offs, lens, n, &n);
    }
    uint64_t total = 0;
    for (uint32_t i = 0; rc >= 0 && i < n; i++)
        total += lens[i];
    const uint64_t limit = d->ctx.limits.max_memory ? d->ctx.limits.max_memory : UINT64_MAX;
    if (rc >= 0 && (total > limit || total > SIZE_MAX - 8))
        rc = dcm_fail(&d->ctx, HTC_ELIMIT, "frame %u: %llu bytes exceed the memory limit", k + 1, (unsigned long long)total);
    uint8_t *buf = NULL;
    if (rc >= 0) {
        buf = dcm_malloc(&d->ctx, (size_t)total + 8);
        if (!buf)
            rc = dcm_fail(&d->ctx, HTC_ENOMEM, "no memory for frame %u (%llu bytes)", k + 1, (unsigned long long)total);
    }
    uint64_t at = 0;
    for (uint32_t i = 0; rc >= 0 && i < n; i++) {
        rc = dcm_read(d->ds, &d->ctx, offs[i], buf + at, (size_t)lens[i]);
        at += lens[i];
    }
    if (offs != local)
        dcm_free(&d->ctx, offs);
    if (rc < 0) {
        dcm_free(&d->ctx, buf);
        return rc;
    }
    if (!d->encapsulated) {
        /* 1-bit frames need not start on a byte: shift them to bit 0. */
        HtcDicomImage img;
        htc_dicom_get_image(d, &img);
        const uint64_t bits = dcm_native_frame_bits(&img);
        const unsigned shift = (unsigned)((bits * k) % 8);
        if (shift) {
            const uint64_t nbytes = (bits + 7) / 8;
            for (uint64_t i = 0; i < nbytes; i++) {
                const unsigned hi = i + 1 < total ? buf[i + 1] : 0;
                buf[i] = (uint8_t)(buf[i] >> shift | hi << (8 - shift));
            }
            total = nbytes;
        }
    }
    memset(buf + total, 0, 8);
    *data = buf;
    *size = (size_t)total;
    return 0;
}
