/* htcodec DICOM layer: the Huffman side of T.81 shared by our sequential DCT
 * (dcm_jpegdct.c) and lossless (dcm_jpegll.c) JPEG decoders: code tables
 * (Annex C), the entropy-coded bit reader with byte unstuffing (F.2.2.5) and
 * the difference decoding of F.2.2.1 (category 16 = 32768, Annex H). */
#ifndef HTC_DCM_JPEG_BITS_H
#define HTC_DCM_JPEG_BITS_H

#include <stdint.h>

typedef struct DcmJpegHuff {
    int present;
    uint8_t bits[17];          /* codes of each length 1..16 */
    uint8_t vals[256];
    int32_t mincode[17], maxcode[18], valptr[17];
} DcmJpegHuff;

typedef struct DcmJpegBits {
    const uint8_t *p, *end;
    uint32_t acc;
    int n;                     /* bits in acc */
    int marker;                /* a marker was reached: feed zeros */
} DcmJpegBits;

static inline void dcm_jpeg_huff_build(DcmJpegHuff *h)
{
    int32_t code = 0, k = 0;
    for (int l = 1; l <= 16; l++) {
        h->valptr[l] = k;
        h->mincode[l] = code;
        code += h->bits[l];
        k += h->bits[l];
        h->maxcode[l] = h->bits[l] ? code - 1 : -1;
        code <<= 1;
    }
    h->maxcode[17] = 0x7FFFFFFF;
}

static inline int dcm_jpeg_bit(DcmJpegBits *b)
{
    if (b->n == 0) {
        uint8_t v = 0;
        if (!b->marker && b->p < b->end) {
            v = *b->p;
            if (v == 0xFF) {
                const uint8_t nx = b->p + 1 < b->end ? b->p[1] : 0xD9;
                if (nx == 0x00) {
                    b->p += 2;
                } else {
                    b->marker = 1; /* leave the marker for the caller */
                    v = 0;
                }
            } else {
                b->p++;
            }
        }
        b->acc = v;
        b->n = 8;
    }
    b->n--;
    return (int)(b->acc >> b->n & 1);
}

static inline int dcm_jpeg_decode_huff(DcmJpegBits *b, const DcmJpegHuff *h)
{
    int32_t code = dcm_jpeg_bit(b);
    int l = 1;
    while (l <= 16 && code > h->maxcode[l]) {
        code = code << 1 | dcm_jpeg_bit(b);
        l++;
    }
    if (l > 16)
        return -1;
    const int32_t idx = h->valptr[l] + code - h->mincode[l];
    return idx >= 0 && idx < 256 ? h->vals[idx] : -1;
}

static inline int32_t dcm_jpeg_receive_extend(DcmJpegBits *b, int s)
{
    if (s == 0)
        return 0;
    if (s == 16)
        return 32768;
    int32_t v = 0;
    for (int i = 0; i < s; i++)
        v = v << 1 | dcm_jpeg_bit(b);
    if (v < (1 << (s - 1)))
        v += (int32_t)(-1u << s) + 1;
    return v;
}

#endif /* HTC_DCM_JPEG_BITS_H */
