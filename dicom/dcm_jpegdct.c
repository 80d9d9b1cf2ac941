/* htcodec DICOM layer: sequential DCT JPEG (T.81 baseline and extended,
 * SOF0/SOF1, Huffman coded) of one component at 8 or 12 bits, for the 12-bit
 * frames of .4.51 that a common libjpeg cannot decode (and 8-bit grey ones
 * when the build has no libjpeg). The inverse DCT is the accurate integer
 * Loeffler-Ligtenberg-Moschytz form with the fixed-point constants and
 * rounding the IJG "islow" method uses, so samples match what GDCM and DCMTK
 * (IJG-based) give. */
#include <stdio.h>

#include "dcm_internal.h"
#include "dcm_jpeg_bits.h"

static const uint8_t zigzag[64] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

#define CB 13
#define F0298 2446
#define F0390 3196
#define F0541 4433
#define F0765 6270
#define F0899 7373
#define F1175 9633
#define F1501 12299
#define F1847 15137
#define F1961 16069
#define F2053 16819
#define F2562 20995
#define F3072 25172

static int64_t descale(int64_t x, int n) { return (x + ((int64_t)1 << (n - 1))) >> n; }

/* One 1-D pass of the 8-point IDCT on v[0], v[s], ... v[7s]; out gets the
 * eight results before the final descale (e0..e7). */
static void idct8(const int64_t in[8], int64_t out[8])
{
    int64_t z1 = (in[2] + in[6]) * F0541;
    const int64_t t2 = z1 - in[6] * F1847, t3 = z1 + in[2] * F0765;
    const int64_t t0 = (in[0] + in[4]) * ((int64_t)1 << CB), t1 = (in[0] - in[4]) * ((int64_t)1 << CB);
    const int64_t t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
    int64_t o0 = in[7], o1 = in[5], o2 = in[3], o3 = in[1];
    z1 = o0 + o3;
    int64_t z2 = o1 + o2, z3 = o0 + o2, z4 = o1 + o3;
    const int64_t z5 = (z3 + z4) * F1175;
    o0 *= F0298;
    o1 *= F2053;
    o2 *= F3072;
    o3 *= F1501;
    z1 *= -F0899;
    z2 *= -F2562;
    z3 = z3 * -F1961 + z5;
    z4 = z4 * -F0390 + z5;
    o0 += z1 + z3;
    o1 += z2 + z4;
    o2 += z2 + z3;
    o3 += z1 + z4;
    out[0] = t10 + o3;
    out[7] = t10 - o3;
    out[1] = t11 + o2;
    out[6] = t11 - o2;
    out[2] = t12 + o1;
    out[5] = t12 - o1;
    out[3] = t13 + o0;
    out[4] = t13 - o0;
}

static void idct_block(const int32_t coef[64], const uint16_t q[64], int pass1, int32_t maxval, uint16_t *dst,
                       size_t stride, uint32_t w, uint32_t h)
{
    int32_t ws[64];
    int64_t in[8], out[8];
    for (int x = 0; x < 8; x++) {
        for (int y = 0; y < 8; y++)
            in[y] = (int64_t)coef[8 * y + x] * q[8 * y + x];
        idct8(in, out);
        for (int y = 0; y < 8; y++)
            ws[8 * y + x] = (int32_t)descale(out[y], CB - pass1);
    }
    const int32_t center = (maxval + 1) / 2;
    for (int y = 0; y < 8; y++) {
        for (int x = 0; x < 8; x++)
            in[x] = ws[8 * y + x];
        idct8(in, out);
        if ((uint32_t)y >= h)
            continue;
        for (int x = 0; x < 8 && (uint32_t)x < w; x++) {
            int64_t v = descale(out[x], CB + pass1 + 3) + center;
            dst[(size_t)y * stride + x] = (uint16_t)(v < 0 ? 0 : v > maxval ? maxval : v);
        }
    }
}

int dcm_jpegdct_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                       HtcDicomFrame *out)
{
    DcmJpegHuff dc[4], ac[4];
    uint16_t qt[4][64];
    memset(dc, 0, sizeof(dc));
    memset(ac, 0, sizeof(ac));
    memset(qt, 0, sizeof(qt));
    int precision = 0, have_sof = 0, comp_id = 0, tq = 0, done = 0, rc = 0;
    uint32_t width = 0, height = 0, restart = 0;
    uint16_t *samples = NULL;
    if (size < 4 || src[0] != 0xFF || src[1] != 0xD8)
        return dcm_fail(c, HTC_ECORRUPT, "JPEG frame does not start with SOI");
    size_t i = 2;
    while (i + 4 <= size && rc == 0 && !done) {
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
        if (m >= 0xD0 && m <= 0xD7) {
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
        if (m == 0xDB) { /* DQT */
            size_t k = 0;
            while (k < sl) {
                const int pq = s[k] >> 4, t = s[k] & 3;
                const size_t n = pq ? 128 : 64;
                if (k + 1 + n > sl) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG DQT at frame offset %zu too short", i);
                    break;
                }
                for (int z = 0; z < 64; z++)
                    qt[t][zigzag[z]] = pq ? (uint16_t)(s[k + 1 + 2 * z] << 8 | s[k + 2 + 2 * z]) : s[k + 1 + z];
                k += 1 + n;
            }
        } else if (m == 0xC4) { /* DHT */
            size_t k = 0;
            while (k < sl && rc == 0) {
                const int tc = s[k] >> 4, th = s[k] & 3;
                if (k + 17 > sl) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG DHT at frame offset %zu too short", i);
                    break;
                }
                DcmJpegHuff *h = tc ? &ac[th] : &dc[th];
                int total = 0;
                for (int l = 1; l <= 16; l++)
                    total += h->bits[l] = s[k + l];
                if (total > 256 || k + 17 + (size_t)total > sl) {
                    rc = dcm_fail(c, HTC_ECORRUPT, "JPEG DHT at frame offset %zu: %d codes", i, total);
                    break;
                }
                memcpy(h->vals, s + k + 17, (size_t)total);
                h->present = 1;
                dcm_jpeg_huff_build(h);
                k += 17 + (size_t)total;
            }
        } else if (m == 0xC0 || m == 0xC1) {
            if (have_sof || sl < 9) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOF at frame offset %zu: repeated or too short", i);
                break;
            }
            precision = s[0];
            height = (uint32_t)(s[1] << 8 | s[2]);
            width = (uint32_t)(s[3] << 8 | s[4]);
            if (s[5] != 1 || (precision != 8 && precision != 12) || !width || !height) {
                rc = dcm_fail(c, HTC_ETSYNTAX, "transfer syntax %s: JPEG of %d components at %d bits needs libjpeg",
                              img->transfer_syntax, s[5], precision);
                break;
            }
            comp_id = s[6];
            tq = s[8] & 3;
            if (width != img->columns || height != img->rows || img->samples_per_pixel != 1) {
                rc = dcm_fail(c, HTC_ECONTRADICT, "JPEG frame is %ux%u, the header says %ux%u with %u samples", width,
                              height, img->columns, img->rows, img->samples_per_pixel);
                break;
            }
            const uint64_t n = (uint64_t)width * height;
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
        } else if (m >= 0xC2 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            rc = dcm_fail(c, HTC_ETSYNTAX, "transfer syntax %s: JPEG process of SOF 0xFF%02X is not decoded here",
                          img->transfer_syntax, m);
            break;
        } else if (m == 0xDD) {
            if (sl >= 2)
                restart = (uint32_t)(s[0] << 8 | s[1]);
        } else if (m == 0xDA) {
            if (!have_sof || sl < 6 || s[0] != 1 || s[1] != comp_id) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS at frame offset %zu: before SOF or not the one component", i);
                break;
            }
            const int td = s[2] >> 4 & 3, ta = s[2] & 3;
            if (!dc[td].present || !ac[ta].present) {
                rc = dcm_fail(c, HTC_ECORRUPT, "JPEG SOS: Huffman tables %d/%d missing", td, ta);
                break;
            }
            DcmJpegBits b = { src + i + 2 + len, src + size, 0, 0, 0 };
            const uint32_t bw = (width + 7) / 8, bh = (height + 7) / 8;
            int32_t pred = 0;
            uint32_t mcus = 0;
            const int32_t maxval = (1 << precision) - 1;
            for (uint32_t by = 0; by < bh && rc == 0; by++)
                for (uint32_t bx = 0; bx < bw; bx++) {
                    if (restart && mcus == restart) {
                        b.n = 0;
                        while (b.p + 1 < b.end && !(b.p[0] == 0xFF && b.p[1] >= 0xD0 && b.p[1] <= 0xD7))
                            b.p++;
                        if (b.p + 1 < b.end)
                            b.p += 2;
                        b.marker = 0;
                        pred = 0;
                        mcus = 0;
                    }
                    int32_t coef[64] = { 0 };
                    const int t = dcm_jpeg_decode_huff(&b, &dc[td]);
                    if (t < 0 || t > 15) {
                        rc = dcm_fail(c, HTC_ECORRUPT, "JPEG: bad DC code in block %u,%u", bx, by);
                        break;
                    }
                    pred += dcm_jpeg_receive_extend(&b, t);
                    coef[0] = pred;
                    for (int k = 1; k < 64;) {
                        const int rs = dcm_jpeg_decode_huff(&b, &ac[ta]);
                        if (rs < 0) {
                            rc = dcm_fail(c, HTC_ECORRUPT, "JPEG: bad AC code in block %u,%u", bx, by);
                            break;
                        }
                        const int r = rs >> 4, sz = rs & 15;
                        if (sz == 0) {
                            if (r != 15)
                                break; /* EOB */
                            k += 16;
                            continue;
                        }
                        k += r;
                        if (k > 63) {
                            rc = dcm_fail(c, HTC_ECORRUPT, "JPEG: AC run past the block %u,%u", bx, by);
                            break;
                        }
                        coef[zigzag[k]] = dcm_jpeg_receive_extend(&b, sz);
                        k++;
                    }
                    if (rc)
                        break;
                    idct_block(coef, qt[tq], precision == 8 ? 2 : 1, maxval,
                               samples + (size_t)by * 8 * width + (size_t)bx * 8, width,
                               HTC_MIN_U64(8, width - bx * 8), HTC_MIN_U64(8, height - by * 8));
                    mcus++;
                }
            done = 1;
            continue;
        }
        i += 2 + len;
    }
    if (rc == 0 && !done)
        rc = dcm_fail(c, HTC_ECORRUPT, "JPEG frame has no %s", have_sof ? "scan" : "SOF");
    if (rc == 0) {
        const uint32_t bytes = img->bits_allocated <= 8 ? 1 : 2;
        const size_t n = (size_t)width * height;
        out->width = width;
        out->height = height;
        out->components = 1;
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
