/* htcodec DICOM layer: JPEG lossless (ITU-T T.81 Annex H, process 14: SOF3
 * with Huffman coding), the .4.57 and .4.70 transfer syntaxes. Predictors 1
 * to 7, point transform, restart intervals, interleaved and one-component
 * scans; components must not be sub-sampled (all DICOM writers do so). */
#include <stdio.h>

#include "dcm_internal.h"
#include "dcm_jpeg_bits.h"

#define MAX_COMP 4

typedef struct Comp {
    int id, h, v;
} Comp;

int dcm_jpegll_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                      HtcDicomFrame *out)
{
    DcmJpegHuff huff[4];
    memset(huff, 0, sizeof(huff));
    Comp comp[MAX_COMP];
    int ncomp = 0, precision = 0, have_sof = 0;
    uint32_t width = 0, height = 0, restart = 0;
    uint16_t *samples = NULL; /* planar, the frame's size */
    if (size < 4 || src[0] != 0xFF || src[1] != 0xD8)
        return dcm_fail(c, HTC_ECORRUPT, "JPEG lossless frame does not start with SOI");
    size_t i = 2;
    int rc = 0, scans = 0;
    while (i + 4 <= size && rc == 0) {
        if (src[i] != 0xFF) {
            i++;
            continue;
        }
        const uint8_t m = src[i + 1];
        if (m == 0xFF) {
            i++;
            continue;
        }
        if (m == 0xD9)
            break;
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {
            i += 2;
            continue;
        }
        const size_t len = (size_t)(src[i + 2] << 8 | src[i + 3]);
        if (len < 2 || i + 2 + len > size) {
            rc = dcm_fail(c, HTC_ECORRUPT, "JPEG marker 0xFF%02X at frame offset %zu: length %zu past the end", m, i, len);
            break;
        }
        const uint8_t *s = src + i + 4;
        const size_t sl = len - 2;
        if (m == 0xC4) { /* DHT */
            size_t k = 0;
            while (k < sl) {
                const int tc = s[k] >> 4, th = s[k] & 15;
                if (th > 3 || k + 17 > sl) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG DHT at frame offset %zu: bad table", i);
                    break;
                }
                DcmJpegHuff *h = &huff[th];
                int total = 0;
                for (int l = 1; l <= 16; l++)
                    total += h->bits[l] = s[k + l];
                if (total > 256 || k + 17 + (size_t)total > sl) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG DHT at frame offset %zu: %d codes", i, total);
                    break;
                }
                memcpy(h->vals, s + k + 17, (size_t)total);
                (void)tc; /* lossless uses the DC class; AC tables are accepted and ignored */
                if (tc == 0) {
                    h->present = 1;
                    dcm_jpeg_huff_build(h);
                }
                k += 17 + (size_t)total;
            }
        } else if (m == 0xC3) { /* SOF3 */
            if (have_sof) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG: a second SOF3 at frame offset %zu", i);
                break;
            }
            if (sl < 6) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOF3 too short");
                break;
            }
            precision = s[0];
            height = (uint32_t)(s[1] << 8 | s[2]);
            width = (uint32_t)(s[3] << 8 | s[4]);
            ncomp = s[5];
            if (precision < 2 || precision > 16 || !width || !height || ncomp < 1 || ncomp > MAX_COMP ||
                sl < 6 + 3 * (size_t)ncomp) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOF3: precision %d, %ux%u, %d components", precision, width,
                              height, ncomp);
                break;
            }
            for (int k = 0; k < ncomp; k++) {
                comp[k].id = s[6 + 3 * k];
                comp[k].h = s[7 + 3 * k] >> 4;
                comp[k].v = s[7 + 3 * k] & 15;
                if (comp[k].h != 1 || comp[k].v != 1) {
                    rc = dcm_fail(c, HTC_EUNSUPPORTED, "JPEG lossless with sub-sampled components");
                    break;
                }
            }
            if (rc)
                break;
            if (width != img->columns || height != img->rows || (uint32_t)ncomp != img->samples_per_pixel) {
                rc = dcm_fail(c, HTC_ECONTRADICT, "JPEG frame is %ux%u with %d components, the header says %ux%u with %u samples",
                              width, height, ncomp, img->columns, img->rows, img->samples_per_pixel);
                break;
            }
            const uint64_t n = (uint64_t)width * height * (uint64_t)ncomp;
            const uint64_t limit = c->limits.max_memory ? c->limits.max_memory : UINT64_MAX;
            if (n * 2 > limit || n * 2 > SIZE_MAX) {
                rc = dcm_fail(c, HTC_ELIMIT, "JPEG frame of %llu samples exceeds the memory limit", (unsigned long long)n);
                break;
            }
            samples = dcm_calloc(c, (size_t)n, 2);
            if (!samples) {
                rc = dcm_fail(c, HTC_ENOMEM, "no memory for a JPEG frame");
                break;
            }
            have_sof = 1;
        } else if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            rc = dcm_fail(c, HTC_EUNSUPPORTED, "JPEG SOF 0xFF%02X in a lossless transfer syntax", m);
            break;
        } else if (m == 0xDD) { /* DRI */
            if (sl >= 2)
                restart = (uint32_t)(s[0] << 8 | s[1]);
        } else if (m == 0xDA) { /* SOS */
            if (!have_sof || sl < 1 || sl < 1 + 2 * (size_t)s[0] + 3) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS at frame offset %zu before SOF3 or too short", i);
                break;
            }
            const int ns = s[0];
            int idx[MAX_COMP];
            const DcmJpegHuff *tab[MAX_COMP];
            if (ns < 1 || ns > ncomp) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS: %d components", ns);
                break;
            }
            for (int k = 0; k < ns; k++) {
                idx[k] = -1;
                for (int q = 0; q < ncomp; q++)
                    if (comp[q].id == s[1 + 2 * k])
                        idx[k] = q;
                const int td = s[2 + 2 * k] >> 4;
                if (idx[k] < 0 || td > 3 || !huff[td].present) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS: unknown component or Huffman table");
                    break;
                }
                tab[k] = &huff[td];
            }
            if (rc)
                break;
            const int pred = s[1 + 2 * ns], pt = s[3 + 2 * ns] & 15;
            if (pred < 1 || pred > 7 || pt >= precision) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS: predictor %d, point transform %d", pred, pt);
                break;
            }
            DcmJpegBits b = { src + i + 2 + len, src + size, 0, 0, 0 };
            const size_t plane = (size_t)width * height;
            const int32_t initial = 1 << (precision - pt - 1);
            uint32_t mcus = 0;
            int first_line = 1, reset = 1; /* H.1.2.1: the first line of the scan or of a restart interval */
            for (uint32_t y = 0; y < height && rc == 0; y++) {
                for (uint32_t x = 0; x < width; x++) {
                    if (restart && mcus == restart) {
                        /* RSTn: byte-align, skip the marker, reset the predictors. */
                        b.n = 0;
                        while (b.p + 1 < b.end && !(b.p[0] == 0xFF && b.p[1] >= 0xD0 && b.p[1] <= 0xD7))
                            b.p++;
                        if (b.p + 1 < b.end)
                            b.p += 2;
                        b.marker = 0;
                        mcus = 0;
                        first_line = 1;
                        reset = 1;
                    }
                    for (int k = 0; k < ns; k++) {
                        uint16_t *pl = samples + (size_t)idx[k] * plane;
                        const size_t at = (size_t)y * width + x;
                        const int t = dcm_jpeg_decode_huff(&b, tab[k]);
                        if (t < 0 || t > 16) {
                            rc = dcm_fail(c, HTC_ECORRUPT, "JPEG lossless: bad Huffman code at row %u, column %u", y, x);
                            break;
                        }
                        const int32_t diff = dcm_jpeg_receive_extend(&b, t);
                        int32_t px;
                        const int32_t ra = x ? pl[at - 1] : 0, rb = y ? pl[at - width] : 0,
                                      rcn = x && y ? pl[at - width - 1] : 0;
                        if (reset)
                            px = initial;
                        else if (first_line)
                            px = ra;
                        else if (x == 0)
                            px = rb;
                        else
                            switch (pred) {
                            case 1: px = ra; break;
                            case 2: px = rb; break;
                            case 3: px = rcn; break;
                            case 4: px = ra + rb - rcn; break;
                            case 5: px = ra + ((rb - rcn) >> 1); break;
                            case 6: px = rb + ((ra - rcn) >> 1); break;
                            default: px = (ra + rb) >> 1; break;
                            }
                        pl[at] = (uint16_t)((px + diff) & 0xFFFF);
                    }
                    if (rc)
                        break;
                    reset = 0;
                    mcus++;
                }
                first_line = 0;
            }
            /* Point transform: the stored samples are shifted back up. */
            if (pt && rc == 0)
                for (int k = 0; k < ns; k++)
                    for (size_t q = 0; q < plane; q++)
                        samples[(size_t)idx[k] * plane + q] = (uint16_t)(samples[(size_t)idx[k] * plane + q] << pt);
            scans++;
            /* Continue after the entropy-coded segment. */
            const uint8_t *e = b.p;
            while (e + 1 < b.end && !(e[0] == 0xFF && e[1] != 0x00 && !(e[1] >= 0xD0 && e[1] <= 0xD7)))
                e++;
            i = (size_t)(e - src);
            continue;
        }
        i += 2 + len;
    }
    if (rc == 0 && (!have_sof || scans == 0))
        rc = dcm_fail(c, HTC_ECORRUPT, "JPEG lossless frame has no %s", have_sof ? "scan" : "SOF3");
    if (rc == 0) {
        const uint32_t bytes = img->bits_allocated <= 8 ? 1 : 2;
        const size_t n = (size_t)width * height * (size_t)ncomp;
        out->width = width;
        out->height = height;
        out->components = (uint32_t)ncomp;
        out->is_signed = img->pixel_representation;
        out->precision = bytes == 1 ? 8 : (uint32_t)(precision > 8 ? precision : 9);
        out->sample_type = bytes == 1 ? (out->is_signed ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8)
                                      : (out->is_signed ? HTC_SAMPLE_I16 : HTC_SAMPLE_U16);
        out->data = dcm_malloc(c, n * bytes);
        if (!out->data) {
            rc = dcm_fail(c, HTC_ENOMEM, "no memory for a JPEG frame");
        } else {
            uint8_t *o = out->data;
            for (size_t q = 0; q < n; q++) {
                if (bytes == 1) {
                    o[q] = (uint8_t)samples[q];
                } else {
                    o[2 * q] = (uint8_t)samples[q];
                    o[2 * q + 1] = (uint8_t)(samples[q] >> 8);
                }
            }
            out->size = n * bytes;
            out->allocator = c->allocator;
        }
    }
    dcm_free(c, samples);
    return rc;
}
