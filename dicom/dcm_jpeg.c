/* htcodec DICOM layer: JPEG baseline / extended frames (.4.50 .4.51) through
 * libjpeg(-turbo), when the build has it (HTC_HAVE_JPEG); 12-bit frames (and all
 * frames without libjpeg) go to dcm_jpegdct.c. Samples stay as
 * stored: a YBR_FULL / YBR_FULL_422 frame comes out as Y, Cb, Cr with the
 * chroma up-sampled by libjpeg; RGB frames as R, G, B. */
#include <stdio.h>

#include "dcm_internal.h"

#ifdef HTC_HAVE_JPEG
#include <setjmp.h>

#include <jpeglib.h>

typedef struct JErr {
    struct jpeg_error_mgr pub;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} JErr;

static void on_error(j_common_ptr c)
{
    JErr *e = (JErr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

static void on_output(j_common_ptr c) { (void)c; } /* the library never prints */

/* Sample precision of the first SOF segment, 0 if none. */
static int sof_precision(const uint8_t *p, size_t n)
{
    for (size_t i = 2; i + 4 < n;) {
        if (p[i] != 0xFF) {
            i++;
            continue;
        }
        const uint8_t m = p[i + 1];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
            return i + 4 < n ? p[i + 4] : 0;
        if (m == 0xFF || m == 0x00 || (m >= 0xD0 && m <= 0xD9)) {
            i += m == 0xFF ? 1 : 2;
            continue;
        }
        i += 2 + (size_t)(p[i + 2] << 8 | p[i + 3]);
    }
    return 0;
}

int dcm_jpeg_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img, HtcDicomFrame *out)
{
    struct jpeg_decompress_struct ci;
    JErr err;
    uint8_t *volatile row = NULL;
    volatile int rc = 0;
    memset(&ci, 0, sizeof(ci));
    ci.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = on_error;
    err.pub.output_message = on_output;
    err.msg[0] = 0;
    if (setjmp(err.jb)) {
        rc = dcm_fail(c, HTC_ECORRUPT, "JPEG frame: libjpeg: %s", err.msg);
        goto done;
    }
    jpeg_create_decompress(&ci);
    const int prec = sof_precision(src, size);
    if (prec != 8 && prec != 0) {
        /* 12-bit: this libjpeg has no 12-bit path; ours decodes one component. */
        rc = dcm_jpegdct_decode(c, src, size, img, out);
        goto done;
    }
    if (size > 0xFFFFFFFFu) {
        rc = dcm_fail(c, HTC_ELIMIT, "JPEG frame of %zu bytes", size);
        goto done;
    }
    jpeg_mem_src(&ci, src, (unsigned long)size);
    jpeg_read_header(&ci, TRUE);
    if (ci.data_precision != 8) {
        rc = dcm_fail(c, HTC_ETSYNTAX, "transfer syntax %s (%s): %d-bit JPEG needs a libjpeg built for it",
                      img->transfer_syntax, img->transfer_syntax_name, ci.data_precision);
        goto done;
    }
    if ((uint32_t)ci.num_components != img->samples_per_pixel || ci.image_width != img->columns ||
        ci.image_height != img->rows) {
        rc = dcm_fail(c, HTC_ECONTRADICT, "JPEG frame is %ux%u with %d components, the header says %ux%u with %u samples",
                      ci.image_width, ci.image_height, ci.num_components, img->columns, img->rows,
                      img->samples_per_pixel);
        goto done;
    }
    if (ci.num_components == 3)
        ci.out_color_space = !strncmp(img->photometric, "YBR", 3) ? JCS_YCbCr : JCS_RGB;
    else if (ci.num_components == 1)
        ci.out_color_space = JCS_GRAYSCALE;
    else
        ci.out_color_space = ci.jpeg_color_space; /* CMYK and the like: as stored */
    jpeg_start_decompress(&ci);
    const uint32_t w = ci.output_width, h = ci.output_height, nc = (uint32_t)ci.output_components;
    out->width = w;
    out->height = h;
    out->components = nc;
    out->sample_type = img->pixel_representation ? HTC_SAMPLE_I8 : HTC_SAMPLE_U8;
    out->precision = 8;
    out->is_signed = img->pixel_representation;
    const uint64_t total = (uint64_t)w * h * nc;
    const uint64_t limit = c->limits.max_memory ? c->limits.max_memory : UINT64_MAX;
    if (total > limit || total > SIZE_MAX) {
        rc = dcm_fail(c, HTC_ELIMIT, "JPEG frame of %llu bytes exceeds the memory limit", (unsigned long long)total);
        goto done;
    }
    out->data = dcm_malloc(c, (size_t)total);
    row = dcm_malloc(c, (size_t)w * nc);
    if (!out->data || !row) {
        rc = dcm_fail(c, HTC_ENOMEM, "no memory for a JPEG frame");
        goto done;
    }
    out->size = (size_t)total;
    out->allocator = c->allocator;
    uint8_t *o = out->data;
    const size_t plane = (size_t)w * h;
    while (ci.output_scanline < h) {
        const uint32_t y = ci.output_scanline;
        JSAMPROW rp = row;
        if (jpeg_read_scanlines(&ci, &rp, 1) != 1) {
            rc = dcm_fail(c, HTC_ETRUNCATED, "JPEG frame ends at row %u of %u", y, h);
            goto done;
        }
        for (uint32_t x = 0; x < w; x++)
            for (uint32_t k = 0; k < nc; k++)
                o[k * plane + (size_t)y * w + x] = row[x * nc + k];
    }
    jpeg_finish_decompress(&ci);
done:
    jpeg_destroy_decompress(&ci);
    dcm_free(c, row);
    return rc;
}
#else
int dcm_jpeg_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img, HtcDicomFrame *out)
{
    /* Without libjpeg: one-component frames through our own decoder, colour ones not. */
    return dcm_jpegdct_decode(c, src, size, img, out);
}
#endif
