/* htcodec DICOM layer: RLE Lossless (PS3.5 Annex G). A frame is a 64-byte
 * header (segment count, 15 offsets) and one PackBits segment per byte plane:
 * for each sample, its most significant byte first. */
#include "dcm_internal.h"

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* One segment into dst[0], dst[step], ... (n bytes). Returns the bytes made. */
static size_t unpack(const uint8_t *s, size_t len, uint8_t *dst, size_t step, size_t n)
{
    size_t i = 0, o = 0;
    while (i < len && o < n) {
        const int8_t h = (int8_t)s[i++];
        if (h >= 0) {
            size_t c = (size_t)h + 1;
            if (c > len - i)
                c = len - i;
            if (c > n - o)
                c = n - o;
            for (size_t k = 0; k < c; k++)
                dst[(o + k) * step] = s[i + k];
            i += (size_t)h + 1;
            o += c;
        } else if (h != -128) {
            if (i >= len)
                break;
            size_t c = (size_t)(1 - h);
            if (c > n - o)
                c = n - o;
            const uint8_t v = s[i++];
            for (size_t k = 0; k < c; k++)
                dst[(o + k) * step] = v;
            o += c;
        }
    }
    return o;
}

int dcm_rle_decode(const DcmCtx *c, const uint8_t *src, size_t size, uint32_t rows, uint32_t cols, uint32_t spp,
                   uint32_t bps, uint8_t *dst)
{
    if (size < 64)
        return dcm_fail(c, HTC_EDICOM, "RLE frame of %zu bytes has no 64-byte header", size);
    const uint32_t nseg = le32(src);
    if (nseg != spp * bps || nseg > 15)
        return dcm_fail(c, HTC_EDICOM, "RLE header: %u segments, %u samples of %u bytes need %u", nseg, spp, bps,
                        spp * bps);
    const size_t plane = (size_t)rows * cols;
    for (uint32_t s = 0; s < nseg; s++) {
        const uint32_t off = le32(src + 4 + 4 * s);
        const uint32_t next = s + 1 < nseg ? le32(src + 8 + 4 * s) : (uint32_t)(size > UINT32_MAX ? UINT32_MAX : size);
        if (off < 64 || off > size || next < off || next > size)
            return dcm_fail(c, HTC_EDICOM, "RLE header: segment %u offsets %u..%u outside the frame of %zu bytes", s + 1,
                            off, next, size);
        const uint32_t sample = s / bps, byte = bps - 1 - s % bps; /* MSB first; output little-endian */
        uint8_t *out = dst + (size_t)sample * plane * bps + byte;
        const size_t got = unpack(src + off, next - off, out, bps, plane);
        if (got < plane)
            return dcm_fail(c, HTC_EDICOM, "RLE segment %u at frame offset %u decodes to %zu bytes, %zu expected", s + 1,
                            off, got, plane);
    }
    return 0;
}
