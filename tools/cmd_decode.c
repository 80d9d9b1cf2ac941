/* htc decode: one codestream, JP2/JPH or DICOM file to .pgm/.ppm/.pgx/.raw,
 * or many files into a folder with a progress bar.
 *
 *   htc decode IN OUT [options]
 *   htc decode IN... -o DIR [--format pgm|ppm|pnm|pgx|raw] [options]
 *
 * Exit status: 0 ok, 1 a decode or write failed (the library's message on
 * stderr), 2 usage. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "progress.h"
#include "writers.h"

/* tools/dicom_cli.c provides the real one (declared in cli.h); this stands in
 * when it is not linked. Returns an exit code. */
__attribute__((weak)) int htc_cli_decode_dicom(const char *in, const char *out, int frame,
                                               int threads, int device)
{
    (void)out;
    (void)frame;
    (void)threads;
    (void)device;
    fprintf(stderr, "htc decode: %s: DICOM support not built into this htc\n", in);
    return 1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: htc decode IN OUT [--reduce N] [--region x0,y0,x1,y1] [--tile I] [--layers L]\n"
            "                  [--threads N] [--device cpu|gpu] [--frame K]\n"
            "       htc decode IN... -o DIR [--format pgm|ppm|pnm|pgx|raw] [options as above]\n"
            "OUT's extension picks the format: .pgm/.ppm (unsigned, 16-bit big-endian past 8 bits),\n"
            ".pgx (one file per component: OUT_0.pgx ...), .raw (planar, little-endian, 1/2/4 bytes).\n"
            "With -o, files are named after the inputs; without --format, .pgm/.ppm where they fit,\n"
            "else .raw. --frame numbers DICOM frames from 1. --max-memory BYTES (K/M/G suffixes)\n"
            "bounds one decode's working memory (default: 3/4 of this machine's memory).\n");
}

/* Parses a whole decimal number in [lo, hi]. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    const unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_region(const char *s, HtcDecodeParams *p)
{
    unsigned long v[4];
    char buf[128];
    if (!s || strlen(s) >= sizeof(buf))
        return -1;
    strcpy(buf, s);
    char *save = NULL, *tok = strtok_r(buf, ",", &save);
    for (int i = 0; i < 4; i++, tok = strtok_r(NULL, ",", &save))
        if (!tok || parse_uint(tok, 0, UINT32_MAX, &v[i]) < 0)
            return -1;
    if (tok || v[2] <= v[0] || v[3] <= v[1])
        return -1;
    p->use_region = 1;
    p->region_x0 = (uint32_t)v[0];
    p->region_y0 = (uint32_t)v[1];
    p->region_x1 = (uint32_t)v[2];
    p->region_y1 = (uint32_t)v[3];
    return 0;
}

/* A decode may not take more than three quarters of this machine's memory unless
 * --max-memory says otherwise: a hostile header then ends in HTC_ELIMIT, not the OOM killer. */
static uint64_t memory_budget(uint64_t library_default)
{
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return library_default;
    const uint64_t ram = (uint64_t)pages * (uint64_t)page;
    const uint64_t budget = ram / 4 * 3;
    return budget < library_default ? budget : library_default;
}

/* "123", "64M", "8G": bytes */
static int parse_bytes(const char *s, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s)
        return -1;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10;
    else if (*end == 'm' || *end == 'M')
        shift = 20;
    else if (*end == 'g' || *end == 'G')
        shift = 30;
    else if (*end)
        return -1;
    if (shift && end[1])
        return -1;
    if (v == 0 || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int is_dicom(const uint8_t *data, size_t size, const char *path)
{
    if (size >= 132 && !memcmp(data + 128, "DICM", 4))
        return 1;
    const char *dot = strrchr(path, '.');
    return dot && (!strcmp(dot, ".dcm") || !strcmp(dot, ".DCM"));
}

/* The format for a picture when none was asked: .pgm/.ppm where they hold it. */
static int auto_format(const HtcPicture *pic)
{
    for (uint32_t c = 0; c < pic->num_planes; c++)
        if (pic->planes[c].is_signed || pic->planes[c].precision > 16)
            return HTC_OUT_RAW;
    if (pic->num_planes == 1)
        return HTC_OUT_PGM;
    if (pic->num_planes == 3 && pic->planes[1].width == pic->planes[0].width &&
        pic->planes[2].width == pic->planes[0].width &&
        pic->planes[1].height == pic->planes[0].height &&
        pic->planes[2].height == pic->planes[0].height &&
        pic->planes[1].precision == pic->planes[0].precision &&
        pic->planes[2].precision == pic->planes[0].precision)
        return HTC_OUT_PPM;
    return HTC_OUT_RAW;
}

/* "<in>: <the library's message> (<the status in words>)" */
static void library_message(char *msg, size_t size, const char *in, int rc)
{
    const char *why = htc_last_error();
    if (*why)
        snprintf(msg, size, "%s: %s (%s)", in, why, htc_strerror(rc));
    else
        snprintf(msg, size, "%s: %s", in, htc_strerror(rc));
}

typedef struct DecodeJob {
    HtcDecoder *dec;
    HtcDecoderSettings settings;
    HtcDecodeParams params;
    int frame;          /* 0: not given */
    int format;         /* HTC_OUT_UNKNOWN: by OUT's extension, or auto */
} DecodeJob;

/* Decodes in to out. fmt_auto: pick the format (and extension) by the picture.
 * Returns 0 or a negative status; msg holds the reason. */
static int decode_one(DecodeJob *job, const char *in, const char *out, int fmt_auto, char *msg,
                      size_t msg_size)
{
    uint8_t *data;
    size_t size;
    int rc = htc_cli_read_file(in, &data, &size);
    if (rc < 0) {
        snprintf(msg, msg_size, "%s: cannot read: %s", in,
                 rc == HTC_EIO ? strerror(errno) : htc_strerror(rc));
        return rc;
    }
    if (is_dicom(data, size, in)) {
        free(data);
        char target[4096];
        if (fmt_auto) /* the DICOM side writes by extension: raw keeps every case */
            snprintf(target, sizeof(target), "%s.%s", out,
                     htc_out_format_ext(job->format ? job->format : HTC_OUT_RAW));
        else
            snprintf(target, sizeof(target), "%s", out);
        const HtcDecodeParams *p = &job->params;
        if (p->use_region || p->tile >= 0 || p->reduce || p->layers) {
            snprintf(msg, msg_size, "%s: --reduce, --region, --tile and --layers are not "
                     "available for DICOM input yet", in);
            return HTC_EINVAL;
        }
        /* it prints its own messages and returns an exit code */
        const int code = htc_cli_decode_dicom(in, target, job->frame ? job->frame : 1,
                                              (int)job->settings.threads, job->settings.device);
        msg[0] = 0;
        return code == 0 ? 0 : code == 2 ? HTC_EINVAL : HTC_EDICOM;
    }
    if (job->frame > 1) {
        free(data);
        snprintf(msg, msg_size, "%s: --frame %d asked, but this is not a DICOM file (one frame)",
                 in, job->frame);
        return HTC_ERANGE;
    }
    HtcStreamSettings ss;
    htc_stream_default_settings(&ss);
    ss.limits = job->settings.limits;
    HtcStream *s = NULL;
    rc = htc_stream_open_memory(&s, data, size, &ss);
    if (rc < 0) {
        library_message(msg, msg_size, in, rc);
        free(data);
        return rc;
    }
    if (!job->dec) {
        rc = htc_decoder_open(&job->dec, &job->settings);
        if (rc < 0) {
            snprintf(msg, msg_size, "cannot start the decoder: %s",
                     *htc_last_error() ? htc_last_error() : htc_strerror(rc));
            htc_stream_close(&s);
            free(data);
            return rc;
        }
    }
    HtcPicture pic;
    memset(&pic, 0, sizeof(pic));
    rc = htc_decode(job->dec, s, &job->params, &pic);
    if (rc < 0) {
        library_message(msg, msg_size, in, rc);
    } else {
        int fmt = job->format;
        char target[4096];
        if (fmt_auto) {
            if (fmt == HTC_OUT_UNKNOWN)
                fmt = auto_format(&pic);
            snprintf(target, sizeof(target), "%s.%s", out, htc_out_format_ext(fmt));
        } else {
            if (fmt == HTC_OUT_UNKNOWN)
                fmt = htc_out_format_from_path(out);
            snprintf(target, sizeof(target), "%s", out);
        }
        char err[512];
        rc = htc_write_picture(&pic, target, fmt, err, sizeof(err));
        if (rc < 0)
            snprintf(msg, msg_size, "%s: %s", in, err);
    }
    htc_picture_release(&pic);
    htc_stream_close(&s);
    free(data);
    return rc;
}

/* "dir/" + basename of in without its last extension. */
static void output_stem(const char *dir, const char *in, char *out, size_t size)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    const int n = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
    const size_t dl = strlen(dir);
    snprintf(out, size, "%s%s%.*s", dir, dl && dir[dl - 1] != '/' ? "/" : "", n, base);
}

int htc_cmd_decode(int argc, char **argv)
{
    DecodeJob job;
    memset(&job, 0, sizeof(job));
    htc_decoder_default_settings(&job.settings);
    job.settings.limits.max_memory = memory_budget(job.settings.limits.max_memory);
    htc_decode_default_params(&job.params);
    job.params.sample_type = HTC_SAMPLE_AUTO;
    job.params.layout = HTC_LAYOUT_PLANAR;
    job.params.memory = HTC_MEMORY_HOST;

    const char **pos = calloc((size_t)argc + 1, sizeof(*pos));
    if (!pos)
        return 1;
    int npos = 0, progress_force = 0, quiet = 0;
    const char *outdir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            pos[npos++] = a;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            free(pos);
            return 0;
        }
        if (!strcmp(a, "--progress")) {
            progress_force = 1;
            continue;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
            continue;
        }
        /* every other option takes a value: "--opt V" or "--opt=V" */
        char name[32];
        const char *val;
        const char *eq = strchr(a, '=');
        if (eq && eq - a < (ptrdiff_t)sizeof(name)) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", a);
            val = i + 1 < argc ? argv[++i] : NULL;
        }
        unsigned long v = 0;
        int bad = !val;
        if (bad) {
        } else if (!strcmp(name, "--reduce")) {
            bad = parse_uint(val, 0, 32, &v) < 0;
            job.params.reduce = (uint32_t)v;
        } else if (!strcmp(name, "--region")) {
            bad = parse_region(val, &job.params) < 0;
        } else if (!strcmp(name, "--tile")) {
            bad = parse_uint(val, 0, 65534, &v) < 0;
            job.params.tile = (int32_t)v;
        } else if (!strcmp(name, "--layers")) {
            bad = parse_uint(val, 1, 65535, &v) < 0;
            job.params.layers = (uint32_t)v;
        } else if (!strcmp(name, "--threads")) {
            bad = parse_uint(val, 0, 4096, &v) < 0;
            job.settings.threads = (uint32_t)v;
        } else if (!strcmp(name, "--device")) {
            if (!strcmp(val, "cpu"))
                job.settings.device = HTC_DEVICE_CPU;
            else if (!strcmp(val, "gpu") || !strcmp(val, "cuda"))
                job.settings.device = HTC_DEVICE_GPU;
            else
                bad = 1;
        } else if (!strcmp(name, "--frame")) {
            bad = parse_uint(val, 1, INT_MAX, &v) < 0;
            job.frame = (int)v;
        } else if (!strcmp(name, "-o") || !strcmp(name, "--output")) {
            outdir = val;
        } else if (!strcmp(name, "--max-memory")) {
            bad = parse_bytes(val, &job.settings.limits.max_memory) < 0;
        } else if (!strcmp(name, "--format")) {
            job.format = htc_out_format_from_name(val);
            bad = job.format == HTC_OUT_UNKNOWN;
        } else {
            fprintf(stderr, "htc decode: unknown option %s\n", name);
            usage();
            free(pos);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "htc decode: bad or missing value for %s%s%s\n", name,
                    val ? ": " : "", val ? val : "");
            usage();
            free(pos);
            return 2;
        }
    }

    int status = 0;
    char msg[1024];
    if (!outdir) {
        if (npos != 2) {
            fprintf(stderr, "htc decode: give IN and OUT, or inputs and -o DIR\n");
            usage();
            free(pos);
            return 2;
        }
        if (job.format == HTC_OUT_UNKNOWN && htc_out_format_from_path(pos[1]) == HTC_OUT_UNKNOWN) {
            fprintf(stderr, "htc decode: %s: unknown output extension (use .pgm, .ppm, .pgx or "
                    ".raw, or --format)\n", pos[1]);
            free(pos);
            return 2;
        }
        const int rc = decode_one(&job, pos[0], pos[1], 0, msg, sizeof(msg));
        if (rc < 0) {
            if (msg[0])
                fprintf(stderr, "htc decode: %s\n", msg);
            status = rc == HTC_EINVAL && !msg[0] ? 2 : 1;
        }
    } else {
        if (npos < 1) {
            fprintf(stderr, "htc decode: no input files\n");
            usage();
            free(pos);
            return 2;
        }
        struct stat st;
        if (stat(outdir, &st) != 0 && mkdir(outdir, 0777) != 0) {
            fprintf(stderr, "htc decode: cannot create %s: %s\n", outdir, strerror(errno));
            free(pos);
            return 1;
        }
        HtcProgress bar;
        htc_progress_start(&bar, (size_t)npos, progress_force);
        if (quiet)
            bar.enabled = 0;
        int failed = 0;
        for (int i = 0; i < npos; i++) {
            char stem[4096];
            output_stem(outdir, pos[i], stem, sizeof(stem));
            htc_progress_update(&bar, (size_t)i, pos[i]);
            if (decode_one(&job, pos[i], stem, 1, msg, sizeof(msg)) < 0) {
                if (msg[0]) {
                    char line[1100];
                    snprintf(line, sizeof(line), "htc decode: %s", msg);
                    htc_progress_message(&bar, line);
                }
                failed++;
            }
        }
        htc_progress_update(&bar, (size_t)npos, "");
        htc_progress_end(&bar);
        if (failed) {
            fprintf(stderr, "htc decode: %d of %d files failed\n", failed, npos);
            status = 1;
        }
    }
    htc_decoder_close(&job.dec);
    free(pos);
    return status;
}
