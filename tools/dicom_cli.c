/* htc command line, DICOM inputs: `htc info FILE.dcm [--json]` (transfer
 * syntax, frames, pixel attributes, offsets) and `htc decode FILE.dcm OUT
 * --frame K` (the frame's samples as the compressed data stores them). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "htc_dicom.h"
#include "writers.h"

static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 32 || c >= 127)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static const char *codec_name(int c)
{
    static const char *const n[] = { "native", "rle", "j2k", "htj2k", "jpeg", "jpeg-lossless", "jpeg-ls", "other" };
    return c >= 0 && c <= 7 ? n[c] : "other";
}

int htc_cli_info_dicom(const char *path, int json)
{
    HtcDicom *d = NULL;
    int rc = htc_dicom_open_file(&d, path, NULL);
    if (rc < 0) {
        fprintf(stderr, "htc info: %s: %s: %s\n", path, htc_strerror(rc), htc_dicom_last_error());
        if (json) {
            printf("{\"file\": ");
            json_str(path);
            printf(", \"error\": %d, \"message\": ", rc);
            json_str(htc_dicom_last_error());
            printf("}\n");
        }
        return 1;
    }
    HtcDicomImage img;
    rc = htc_dicom_get_image(d, &img);
    char sop[72] = "", modality[20] = "";
    htc_dicom_tag_string(d, 0x00080016u, 0, sop, sizeof(sop));
    htc_dicom_tag_string(d, 0x00080060u, 0, modality, sizeof(modality));
    /* Frame byte ranges (first fragment of each), capped for big files. */
    const uint32_t show = rc >= 0 ? (img.frames < 64 ? img.frames : 64) : 0;
    if (json) {
        printf("{\"file\": ");
        json_str(path);
        printf(", \"format\": \"dicom\", \"transfer_syntax\": ");
        json_str(img.transfer_syntax);
        printf(", \"transfer_syntax_name\": ");
        json_str(img.transfer_syntax_name ? img.transfer_syntax_name : "");
        printf(", \"sop_class\": ");
        json_str(sop);
        printf(", \"modality\": ");
        json_str(modality);
        if (rc >= 0) {
            printf(", \"codec\": \"%s\", \"encapsulated\": %s, \"rows\": %u, \"columns\": %u, \"frames\": %u, "
                   "\"samples_per_pixel\": %u, \"bits_allocated\": %u, \"bits_stored\": %u, \"high_bit\": %u, "
                   "\"pixel_representation\": %d, \"planar_configuration\": %d, \"photometric\": ",
                   codec_name(img.codec), img.encapsulated ? "true" : "false", img.rows, img.columns, img.frames,
                   img.samples_per_pixel, img.bits_allocated, img.bits_stored, img.high_bit, img.pixel_representation,
                   img.planar_configuration);
            json_str(img.photometric);
            printf(", \"rescale_slope\": %.17g, \"rescale_intercept\": %.17g, \"pixel_data_offset\": %llu, "
                   "\"basic_offset_table_entries\": %u, \"extended_offset_table\": %s, \"frame_offsets\": [",
                   img.rescale_slope, img.rescale_intercept, (unsigned long long)img.pixel_data_offset,
                   img.bot_entries, img.has_eot ? "true" : "false");
            for (uint32_t k = 0; k < show; k++) {
                uint64_t off[1], len[1];
                uint32_t n = 0;
                const int r = htc_dicom_frame_ranges(d, k, off, len, 1, &n);
                if (r < 0)
                    break;
                printf("%s{\"frame\": %u, \"offset\": %llu, \"fragments\": %u}", k ? ", " : "", k + 1,
                       (unsigned long long)off[0], n);
            }
            printf("]");
        } else {
            printf(", \"error\": %d, \"message\": ", rc);
            json_str(htc_dicom_last_error());
        }
        printf("}\n");
    } else {
        printf("file %s\n", path);
        printf("format dicom, transfer syntax %s (%s)\n", img.transfer_syntax,
               img.transfer_syntax_name ? img.transfer_syntax_name : "");
        printf("sop class %s, modality %s\n", sop, modality);
        if (rc >= 0) {
            printf("image %ux%u, %u frame(s), %u sample(s)/pixel, %s\n", img.columns, img.rows, img.frames,
                   img.samples_per_pixel, img.photometric);
            printf("bits allocated %u, stored %u, high bit %u, pixel representation %d, planar configuration %d\n",
                   img.bits_allocated, img.bits_stored, img.high_bit, img.pixel_representation,
                   img.planar_configuration);
            if (img.has_rescale)
                printf("rescale slope %g, intercept %g\n", img.rescale_slope, img.rescale_intercept);
            printf("pixel data at offset %llu, %s, codec %s\n", (unsigned long long)img.pixel_data_offset,
                   img.encapsulated ? "encapsulated" : "native", codec_name(img.codec));
            if (img.encapsulated)
                printf("basic offset table %u entries, extended offset table %s\n", img.bot_entries,
                       img.has_eot ? "yes" : "no");
            for (uint32_t k = 0; k < show; k++) {
                uint64_t off[1], len[1];
                uint32_t n = 0;
                const int r = htc_dicom_frame_ranges(d, k, off, len, 1, &n);
                if (r < 0) {
                    printf("frame %u: %s\n", k + 1, htc_dicom_last_error());
                    break;
                }
                printf("frame %u at offset %llu, %u fragment(s)\n", k + 1, (unsigned long long)off[0], n);
            }
        } else {
            printf("no image: %s\n", htc_dicom_last_error());
        }
    }
    htc_dicom_close(&d);
    return 0;
}

/* An HtcPicture over a decoded frame, for the writers. */
static void frame_picture(HtcDicomFrame *f, HtcPicture *pic, HtcPlane *planes)
{
    memset(pic, 0, sizeof(*pic));
    const size_t bytes = htc_sample_size(f->sample_type);
    const size_t plane = (size_t)f->width * f->height * bytes;
    for (uint32_t c = 0; c < f->components; c++) {
        planes[c].data = (uint8_t *)f->data + c * plane;
        planes[c].width = f->width;
        planes[c].height = f->height;
        planes[c].row_stride = (ptrdiff_t)(f->width * bytes);
        planes[c].pixel_stride = 1;
        planes[c].precision = f->precision;
        planes[c].is_signed = f->is_signed;
    }
    pic->width = f->width;
    pic->height = f->height;
    pic->num_planes = f->components;
    pic->sample_type = f->sample_type;
    pic->layout = HTC_LAYOUT_PLANAR;
    pic->memory = HTC_MEMORY_HOST;
    pic->buffer = f->data;
    pic->buffer_size = f->size;
    pic->planes = planes;
    pic->caller_owned = 1;
}

static void log_warning(void *opaque, int level, const char *msg)
{
    const char *path = opaque;
    if (level == HTC_LOG_WARNING)
        fprintf(stderr, "htc decode: %s: warning: %s\n", path, msg);
}

int htc_cli_decode_dicom(const char *in, const char *out, int frame, int threads, int device)
{
    HtcDicomSettings s;
    htc_dicom_default_settings(&s);
    s.log = log_warning;
    s.log_opaque = (void *)in;
    HtcDicom *d = NULL;
    int rc = htc_dicom_open_file(&d, in, &s);
    if (rc < 0) {
        fprintf(stderr, "htc decode: %s: %s: %s\n", in, htc_strerror(rc), htc_dicom_last_error());
        return 1;
    }
    const int format = htc_out_format_from_path(out);
    if (format == HTC_OUT_UNKNOWN) {
        fprintf(stderr, "htc decode: %s: unknown output format (use .pgm .ppm .pgx .raw)\n", out);
        htc_dicom_close(&d);
        return 2;
    }
    HtcDicomDecodeParams p;
    htc_dicom_default_decode_params(&p);
    p.threads = threads > 0 ? (uint32_t)threads : 0;
    p.device = device;
    HtcDicomFrame f;
    rc = htc_dicom_decode_frame(d, NULL, frame > 0 ? (uint32_t)frame - 1 : 0, &p, &f);
    if (rc < 0) {
        fprintf(stderr, "htc decode: %s: frame %d: %s: %s\n", in, frame > 0 ? frame : 1, htc_strerror(rc),
                htc_dicom_last_error());
        htc_dicom_close(&d);
        return 1;
    }
    HtcPlane *planes = calloc(f.components ? f.components : 1, sizeof(*planes));
    if (!planes) {
        htc_dicom_frame_release(&f);
        htc_dicom_close(&d);
        return 1;
    }
    HtcPicture pic;
    frame_picture(&f, &pic, planes);
    char err[256] = "";
    rc = htc_write_picture(&pic, out, format, err, sizeof(err));
    if (rc < 0)
        fprintf(stderr, "htc decode: %s: %s\n", out, err);
    free(planes);
    htc_dicom_frame_release(&f);
    htc_dicom_close(&d);
    return rc < 0 ? 1 : 0;
}
