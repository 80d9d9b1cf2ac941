/* htcodec DICOM layer: Deflated Explicit VR Little Endian (PS3.5 A.5): the
 * data set after the file meta group is a raw deflate stream (RFC 1951). */
#include "dcm_internal.h"

#ifdef HTC_HAVE_ZLIB
#include <zlib.h>

int dcm_inflate(const DcmCtx *c, DcmSource *src, uint64_t start, DcmSource *out)
{
    const uint64_t in_size = src->size - start;
    const uint64_t limit = c->limits.max_memory ? c->limits.max_memory : (uint64_t)1 << 36;
    if (in_size > limit || in_size > SIZE_MAX)
        return dcm_fail(c, HTC_ELIMIT, "deflated data set of %llu bytes exceeds the memory limit", (unsigned long long)in_size);
    uint8_t *in = dcm_malloc(c, (size_t)in_size);
    if (!in)
        return dcm_fail(c, HTC_ENOMEM, "no memory for the deflated data set (%llu bytes)", (unsigned long long)in_size);
    int rc = dcm_read(src, c, start, in, (size_t)in_size);
    if (rc < 0) {
        dcm_free(c, in);
        return rc;
    }
    size_t cap = in_size < 4096 ? 16384 : (size_t)HTC_MIN_U64(in_size * 4, limit);
    uint8_t *buf = dcm_malloc(c, cap);
    if (!buf) {
        dcm_free(c, in);
        return dcm_fail(c, HTC_ENOMEM, "no memory to inflate the data set");
    }
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        dcm_free(c, in);
        dcm_free(c, buf);
        return dcm_fail(c, HTC_ENOMEM, "inflateInit2 failed");
    }
    z.next_in = in;
    z.avail_in = (uInt)HTC_MIN_U64(in_size, 0x40000000u);
    size_t used = 0;
    uint64_t in_left = in_size - z.avail_in;
    rc = 0;
    for (;;) {
        if (used == cap) {
            if (cap >= limit) {
                rc = dcm_fail(c, HTC_ELIMIT, "inflated data set exceeds the memory limit of %llu bytes",
                              (unsigned long long)limit);
                break;
            }
            const size_t ncap = (size_t)HTC_MIN_U64((uint64_t)cap * 2, limit);
            uint8_t *nb = dcm_malloc(c, ncap);
            if (!nb) {
                rc = dcm_fail(c, HTC_ENOMEM, "no memory to inflate the data set (%zu bytes)", ncap);
                break;
            }
            memcpy(nb, buf, used);
            dcm_free(c, buf);
            buf = nb;
            cap = ncap;
        }
        z.next_out = buf + used;
        z.avail_out = (uInt)HTC_MIN_U64(cap - used, 0x40000000u);
        const uInt before = z.avail_out;
        const int zr = inflate(&z, Z_NO_FLUSH);
        used += before - z.avail_out;
        if (zr == Z_STREAM_END)
            break;
        if (z.avail_in == 0 && in_left) {
            const uInt n = (uInt)HTC_MIN_U64(in_left, 0x40000000u);
            z.next_in = in + (in_size - in_left);
            z.avail_in = n;
            in_left -= n;
            continue;
        }
        if (zr == Z_BUF_ERROR && z.avail_in == 0) {
            /* The stream ends without its final block: keep what came out. */
            break;
        }
        if (zr != Z_OK) {
            rc = dcm_fail(c, HTC_EDICOM, "deflated data set: zlib error %d after %zu output bytes (%s)", zr, used,
                          z.msg ? z.msg : "");
            break;
        }
    }
    inflateEnd(&z);
    dcm_free(c, in);
    if (rc < 0) {
        dcm_free(c, buf);
        return rc;
    }
    dcm_source_memory(out, buf, used);
    out->owned = buf;
    return 0;
}
#else
int dcm_inflate(const DcmCtx *c, DcmSource *src, uint64_t start, DcmSource *out)
{
    (void)src;
    (void)start;
    (void)out;
    return dcm_fail(c, HTC_ETSYNTAX, "Deflated Explicit VR Little Endian (1.2.840.10008.1.2.1.99): built without zlib");
}
#endif
