/* htc command line: .pgm/.ppm, .pgx and .raw writers (layouts in writers.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "writers.h"

int htc_out_format_from_name(const char *name)
{
    if (!strcasecmp(name, "pgm"))
        return HTC_OUT_PGM;
    if (!strcasecmp(name, "ppm") || !strcasecmp(name, "pnm"))
        return HTC_OUT_PPM;
    if (!strcasecmp(name, "pgx"))
        return HTC_OUT_PGX;
    if (!strcasecmp(name, "raw"))
        return HTC_OUT_RAW;
    return HTC_OUT_UNKNOWN;
}

int htc_out_format_from_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        return HTC_OUT_UNKNOWN;
    return htc_out_format_from_name(dot + 1);
}

const char *htc_out_format_ext(int format)
{
    switch (format) {
    case HTC_OUT_PGM: return "pgm";
    case HTC_OUT_PPM: return "ppm";
    case HTC_OUT_PGX: return "pgx";
    case HTC_OUT_RAW: return "raw";
    default: return "";
    }
}

unsigned htc_out_sample_bytes(unsigned precision)
{
    return precision <= 8 ? 1 : precision <= 16 ? 2 : 4;
}

/* One row of a plane as 64-bit integers, whatever the picture's sample type. */
static void load_row(int type, const uint8_t *row, uint32_t width, uint32_t step, int64_t *out)
{
    for (uint32_t x = 0; x < width; x++) {
        const size_t i = (size_t)x * step;
        switch (type) {
        case HTC_SAMPLE_U8: out[x] = row[i]; break;
        case HTC_SAMPLE_I8: out[x] = (int8_t)row[i]; break;
        case HTC_SAMPLE_U16: { uint16_t v; memcpy(&v, row + 2 * i, 2); out[x] = v; break; }
        case HTC_SAMPLE_I16: { int16_t v; memcpy(&v, row + 2 * i, 2); out[x] = v; break; }
        case HTC_SAMPLE_U32: { uint32_t v; memcpy(&v, row + 4 * i, 4); out[x] = v; break; }
        case HTC_SAMPLE_I32: { int32_t v; memcpy(&v, row + 4 * i, 4); out[x] = v; break; }
        case HTC_SAMPLE_F32: { float v; memcpy(&v, row + 4 * i, 4); out[x] = (int64_t)lrintf(v); break; }
        default: out[x] = 0; break;
        }
    }
}

static int known_type(int type)
{
    return type >= HTC_SAMPLE_U8 && type <= HTC_SAMPLE_F32;
}

static const uint8_t *row_ptr(const HtcPlane *pl, uint32_t y)
{
    return (const uint8_t *)pl->data + (ptrdiff_t)y * pl->row_stride;
}

/* Stores n samples in nbytes each, little- or big-endian, two's complement. */
static void store_row(const int64_t *v, uint32_t n, unsigned nbytes, int big, uint8_t *out)
{
    for (uint32_t x = 0; x < n; x++) {
        const uint64_t u = (uint64_t)v[x];
        for (unsigned b = 0; b < nbytes; b++) {
            const unsigned shift = big ? 8 * (nbytes - 1 - b) : 8 * b;
            *out++ = (uint8_t)(u >> shift);
        }
    }
}

static int check_picture(const HtcPicture *pic)
{
    if (!pic || !pic->planes || pic->num_planes == 0 || pic->memory != HTC_MEMORY_HOST ||
        !known_type(pic->sample_type))
        return HTC_EINVAL;
    for (uint32_t c = 0; c < pic->num_planes; c++)
        if (!pic->planes[c].data && pic->planes[c].width && pic->planes[c].height)
            return HTC_EINVAL;
    return 0;
}

size_t htc_raw_size(const HtcPicture *pic)
{
    size_t total = 0;
    for (uint32_t c = 0; pic && c < pic->num_planes; c++) {
        const HtcPlane *pl = &pic->planes[c];
        total += (size_t)pl->width * pl->height * htc_out_sample_bytes(pl->precision);
    }
    return total;
}

int htc_raw_stream(const HtcPicture *pic, HtcByteSink sink, void *opaque)
{
    int rc = check_picture(pic);
    if (rc < 0)
        return rc;
    uint32_t maxw = 0;
    for (uint32_t c = 0; c < pic->num_planes; c++)
        if (pic->planes[c].width > maxw)
            maxw = pic->planes[c].width;
    int64_t *vals = malloc(((size_t)maxw + 1) * sizeof(*vals));
    uint8_t *bytes = malloc(((size_t)maxw + 1) * 4);
    if (!vals || !bytes) {
        free(vals);
        free(bytes);
        return HTC_ENOMEM;
    }
    for (uint32_t c = 0; c < pic->num_planes && !rc; c++) {
        const HtcPlane *pl = &pic->planes[c];
        const unsigned nb = htc_out_sample_bytes(pl->precision);
        for (uint32_t y = 0; y < pl->height && !rc; y++) {
            load_row(pic->sample_type, row_ptr(pl, y), pl->width, pl->pixel_stride, vals);
            store_row(vals, pl->width, nb, 0, bytes);
            rc = sink(opaque, bytes, (size_t)pl->width * nb);
        }
    }
    free(vals);
    free(bytes);
    return rc;
}

static int file_sink(void *opaque, const void *data, size_t size)
{
    return fwrite(data, 1, size, (FILE *)opaque) == size ? 0 : HTC_EIO;
}

/* "dir/name.ext" -> "dir/name_<index>.ext" */
static void indexed_name(const char *path, uint32_t index, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        dot = path + strlen(path);
    snprintf(out, size, "%.*s_%u%s", (int)(dot - path), path, index, dot);
}

static int close_file(FILE *f, int rc, const char *path, char *err, size_t err_size)
{
    if (fclose(f) != 0 && rc == 0)
        rc = HTC_EIO;
    if (rc == HTC_EIO)
        snprintf(err, err_size, "cannot write %s: %s", path, strerror(errno));
    else if (rc == HTC_ENOMEM)
        snprintf(err, err_size, "out of memory writing %s", path);
    return rc;
}

static FILE *open_out(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
    return f;
}

/* PGX or PGM of one plane. */
static int write_plane(const HtcPicture *pic, const HtcPlane *pl, const char *path, int format,
                       char *err, size_t err_size)
{
    const int pgx = format == HTC_OUT_PGX;
    const unsigned nb = pgx ? htc_out_sample_bytes(pl->precision) : (pl->precision <= 8 ? 1 : 2);
    FILE *f = open_out(path, err, err_size);
    if (!f)
        return HTC_EIO;
    int rc = 0;
    if (pgx)
        rc = fprintf(f, "PG ML %c %u %u %u\n", pl->is_signed ? '-' : '+', pl->precision,
                     pl->width, pl->height) < 0 ? HTC_EIO : 0;
    else
        rc = fprintf(f, "P5\n%u %u\n%u\n", pl->width, pl->height,
                     (1u << pl->precision) - 1) < 0 ? HTC_EIO : 0;
    int64_t *vals = malloc(((size_t)pl->width + 1) * sizeof(*vals));
    uint8_t *bytes = malloc(((size_t)pl->width + 1) * 4);
    if (!vals || !bytes)
        rc = rc ? rc : HTC_ENOMEM;
    for (uint32_t y = 0; y < pl->height && !rc; y++) {
        load_row(pic->sample_type, row_ptr(pl, y), pl->width, pl->pixel_stride, vals);
        store_row(vals, pl->width, nb, 1, bytes);
        rc = file_sink(f, bytes, (size_t)pl->width * nb);
    }
    free(vals);
    free(bytes);
    return close_file(f, rc, path, err, err_size);
}

static int write_ppm(const HtcPicture *pic, const char *path, char *err, size_t err_size)
{
    const HtcPlane *p = pic->planes;
    const uint32_t w = p[0].width, h = p[0].height, prec = p[0].precision;
    const unsigned nb = prec <= 8 ? 1 : 2;
    FILE *f = open_out(path, err, err_size);
    if (!f)
        return HTC_EIO;
    int rc = fprintf(f, "P6\n%u %u\n%u\n", w, h, (1u << prec) - 1) < 0 ? HTC_EIO : 0;
    int64_t *vals = malloc(((size_t)w + 1) * 3 * sizeof(*vals));
    int64_t *mix = malloc(((size_t)w + 1) * 3 * sizeof(*mix));
    uint8_t *bytes = malloc(((size_t)w + 1) * 3 * nb);
    if (!vals || !mix || !bytes)
        rc = rc ? rc : HTC_ENOMEM;
    for (uint32_t y = 0; y < h && !rc; y++) {
        for (int c = 0; c < 3; c++)
            load_row(pic->sample_type, row_ptr(&p[c], y), w, p[c].pixel_stride, vals + (size_t)c * w);
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                mix[3 * (size_t)x + c] = vals[(size_t)c * w + x];
        store_row(mix, 3 * w, nb, 1, bytes);
        rc = file_sink(f, bytes, (size_t)w * 3 * nb);
    }
    free(vals);
    free(mix);
    free(bytes);
    return close_file(f, rc, path, err, err_size);
}

static int check_pnm(const HtcPicture *pic, int format, char *err, size_t err_size)
{
    for (uint32_t c = 0; c < pic->num_planes; c++) {
        const HtcPlane *pl = &pic->planes[c];
        if (pl->is_signed) {
            snprintf(err, err_size, "component %u is signed: .pgm/.ppm hold unsigned samples "
                     "only (write .pgx or .raw)", c);
            return HTC_EUNSUPPORTED;
        }
        if (pl->precision < 1 || pl->precision > 16) {
            snprintf(err, err_size, "component %u has %u bits: .pgm/.ppm hold 1 to 16 "
                     "(write .pgx or .raw)", c, pl->precision);
            return HTC_EUNSUPPORTED;
        }
    }
    if (format == HTC_OUT_PPM) {
        const HtcPlane *p = pic->planes;
        if (pic->num_planes != 3) {
            snprintf(err, err_size, ".ppm needs 3 components, the image has %u "
                     "(write .pgm, .pgx or .raw)", pic->num_planes);
            return HTC_EUNSUPPORTED;
        }
        for (int c = 1; c < 3; c++)
            if (p[c].width != p[0].width || p[c].height != p[0].height ||
                p[c].precision != p[0].precision) {
                snprintf(err, err_size, ".ppm needs 3 components of one size and precision "
                         "(component %d differs; write .pgx or .raw)", c);
                return HTC_EUNSUPPORTED;
            }
    }
    return 0;
}

int htc_write_picture(const HtcPicture *pic, const char *path, int format, char *err,
                      size_t err_size)
{
    err[0] = 0;
    int rc = check_picture(pic);
    if (rc < 0) {
        snprintf(err, err_size, "no host picture to write");
        return rc;
    }
    if (format == HTC_OUT_PPM && pic->num_planes == 1)
        format = HTC_OUT_PGM; /* "pnm" asked, one component */
    switch (format) {
    case HTC_OUT_RAW: {
        FILE *f = open_out(path, err, err_size);
        if (!f)
            return HTC_EIO;
        rc = htc_raw_stream(pic, file_sink, f);
        return close_file(f, rc, path, err, err_size);
    }
    case HTC_OUT_PPM:
        if ((rc = check_pnm(pic, format, err, err_size)) < 0)
            return rc;
        return write_ppm(pic, path, err, err_size);
    case HTC_OUT_PGM:
        if ((rc = check_pnm(pic, format, err, err_size)) < 0)
            return rc;
        /* fall through */
    case HTC_OUT_PGX:
        for (uint32_t c = 0; c < pic->num_planes && !rc; c++) {
            const HtcPlane *pl = &pic->planes[c];
            if (format == HTC_OUT_PGX && (pl->precision < 1 || pl->precision > 32)) {
                snprintf(err, err_size, "component %u has %u bits: .pgx holds 1 to 32 "
                         "(write .raw)", c, pl->precision);
                return HTC_EUNSUPPORTED;
            }
            char name[4096];
            if (pic->num_planes == 1)
                snprintf(name, sizeof(name), "%s", path);
            else
                indexed_name(path, c, name, sizeof(name));
            rc = write_plane(pic, pl, name, format, err, err_size);
        }
        return rc;
    default:
        snprintf(err, err_size, "unknown output format of %s (use .pgm, .ppm, .pgx or .raw)", path);
        return HTC_EINVAL;
    }
}
