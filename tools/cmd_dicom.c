/* htc dicom: DICOM-specific commands.
 *   htc dicom json FILE.dcm [--inline | --bulk-uri [URI]]   DICOM JSON (PS3.18 F.2)
 *   htc dicom frame FILE.dcm K OUT                         frame K's stored bytes (the codestream)
 *   htc dicom decode FILE.dcm K OUT.raw [--rgb] [--rescale] frame K's samples, optionally converted
 *   htc dicom dump FILE.dcm                                every element, one a line
 *   htc dicom volume [--threads N] [--device cpu|gpu|auto] OUT.raw FILE.dcm...|DIR
 *                                                          a series as one volume (.raw + OUT.raw.json);
 *                                                          auto: the GPU when one is present */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "htc_dicom.h"

static int open_or_say(HtcDicom **d, const char *path, const char *what)
{
    const int rc = htc_dicom_open_file(d, path, NULL);
    if (rc < 0)
        fprintf(stderr, "htc dicom %s: %s: %s: %s\n", what, path, htc_strerror(rc), htc_dicom_last_error());
    return rc;
}

static int cmd_json(int argc, char **argv)
{
    const char *path = NULL, *uri = NULL;
    int bulk = HTC_DICOM_BULK_INLINE;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--inline")) {
            bulk = HTC_DICOM_BULK_INLINE;
        } else if (!strcmp(argv[i], "--bulk-uri")) {
            bulk = HTC_DICOM_BULK_URI;
            if (i + 1 < argc && argv[i + 1][0] != '-' && path)
                uri = argv[++i];
        } else if (!path) {
            path = argv[i];
        } else {
            fprintf(stderr, "htc dicom json: unexpected argument '%s'\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "usage: htc dicom json FILE.dcm [--inline | --bulk-uri [URI]]\n");
        return 2;
    }
    char fileuri[4200];
    if (!uri) {
        snprintf(fileuri, sizeof(fileuri), "file://%s", path);
        uri = fileuri;
    }
    HtcDicom *d;
    if (open_or_say(&d, path, "json") < 0)
        return 1;
    char *json;
    size_t n;
    const int rc = htc_dicom_to_json(d, bulk, uri, &json, &n);
    if (rc < 0) {
        fprintf(stderr, "htc dicom json: %s: %s: %s\n", path, htc_strerror(rc), htc_dicom_last_error());
        htc_dicom_close(&d);
        return 1;
    }
    fwrite(json, 1, n, stdout);
    putchar('\n');
    htc_dicom_free(d, json);
    htc_dicom_close(&d);
    return 0;
}

static int cmd_frame(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: htc dicom frame FILE.dcm K OUT\n");
        return 2;
    }
    const long k = strtol(argv[1], NULL, 10);
    if (k < 1) {
        fprintf(stderr, "htc dicom frame: frames are numbered from 1\n");
        return 2;
    }
    HtcDicom *d;
    if (open_or_say(&d, argv[0], "frame") < 0)
        return 1;
    uint8_t *data;
    size_t n;
    int rc = htc_dicom_frame_data(d, (uint32_t)(k - 1), &data, &n);
    if (rc < 0) {
        fprintf(stderr, "htc dicom frame: %s: %s: %s\n", argv[0], htc_strerror(rc), htc_dicom_last_error());
        htc_dicom_close(&d);
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    rc = f && fwrite(data, 1, n, f) == n ? 0 : 1;
    if (f && fclose(f))
        rc = 1;
    if (rc)
        fprintf(stderr, "htc dicom frame: cannot write %s\n", argv[2]);
    htc_dicom_free(d, data);
    htc_dicom_close(&d);
    return rc;
}

static int cmd_decode(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: htc dicom decode FILE.dcm K OUT.raw [--rgb] [--rescale]\n");
        return 2;
    }
    HtcDicomDecodeParams p;
    htc_dicom_default_decode_params(&p);
    p.threads = 0;
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--rgb"))
            p.convert_rgb = 1;
        else if (!strcmp(argv[i], "--rescale"))
            p.apply_rescale = 1;
        else {
            fprintf(stderr, "htc dicom decode: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    const long k = strtol(argv[1], NULL, 10);
    if (k < 1) {
        fprintf(stderr, "htc dicom decode: frames are numbered from 1\n");
        return 2;
    }
    HtcDicom *d;
    if (open_or_say(&d, argv[0], "decode") < 0)
        return 1;
    HtcDicomFrame f;
    int rc = htc_dicom_decode_frame(d, NULL, (uint32_t)(k - 1), &p, &f);
    if (rc < 0) {
        fprintf(stderr, "htc dicom decode: %s: %s: %s\n", argv[0], htc_strerror(rc), htc_dicom_last_error());
        htc_dicom_close(&d);
        return 1;
    }
    /* planar samples, little-endian, as the frame holds them (.raw layout; F32 when rescaled) */
    FILE *o = fopen(argv[2], "wb");
    rc = o && fwrite(f.data, 1, f.size, o) == f.size ? 0 : 1;
    if (o && fclose(o))
        rc = 1;
    if (rc)
        fprintf(stderr, "htc dicom decode: cannot write %s\n", argv[2]);
    else
        printf("%s: %ux%u, %u component(s), %s, sample type %d\n", argv[2], f.width, f.height, f.components,
               f.photometric, f.sample_type);
    htc_dicom_frame_release(&f);
    htc_dicom_close(&d);
    return rc;
}

static void dump_level(HtcDicom *d, int32_t parent)
{
    for (int32_t n = htc_dicom_first(d, parent); n >= 0; n = htc_dicom_next(d, n)) {
        HtcDicomElement e;
        htc_dicom_element(d, n, &e);
        printf("%*s", (int)(2 * e.depth), "");
        if (e.tag == 0xFFFEE000u) {
            printf("item, %u elements\n", e.num_children);
        } else {
            char v[72] = "";
            if (e.value)
                htc_dicom_get_string(d, n, 0, v, sizeof(v));
            const uint32_t vm = htc_dicom_value_count(d, n);
            printf("(%04X,%04X) %s ", (unsigned)(e.tag >> 16), (unsigned)(e.tag & 0xFFFF), e.vr);
            if (e.length == HTC_DICOM_UNDEFINED)
                printf("undefined length");
            else
                printf("%u bytes", e.length);
            printf(" at %llu", (unsigned long long)e.offset);
            if (v[0])
                printf(" [%s]%s", v, vm > 1 ? " ..." : "");
            putchar('\n');
        }
        dump_level(d, n);
    }
}

static int cmd_dump(int argc, char **argv)
{
    if (argc != 1) {
        fprintf(stderr, "usage: htc dicom dump FILE.dcm\n");
        return 2;
    }
    HtcDicom *d;
    if (open_or_say(&d, argv[0], "dump") < 0)
        return 1;
    dump_level(d, -1);
    htc_dicom_close(&d);
    return 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files of a folder (sorted) or the arguments. */
static char **list_inputs(int argc, char **argv, int *count)
{
    struct stat st;
    if (argc == 1 && stat(argv[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        DIR *dir = opendir(argv[0]);
        if (!dir)
            return NULL;
        char **v = NULL;
        int n = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(dir))) {
            if (e->d_name[0] == '.')
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 64;
                char **nv = realloc(v, (size_t)cap * sizeof(*v));
                if (!nv)
                    break;
                v = nv;
            }
            const size_t len = strlen(argv[0]) + strlen(e->d_name) + 2;
            v[n] = malloc(len);
            if (!v[n])
                break;
            snprintf(v[n], len, "%s/%s", argv[0], e->d_name);
            n++;
        }
        closedir(dir);
        if (n)
            qsort(v, (size_t)n, sizeof(*v), cmp_str);
        *count = n;
        return v;
    }
    char **v = malloc((size_t)(argc ? argc : 1) * sizeof(*v));
    if (!v)
        return NULL;
    for (int i = 0; i < argc; i++)
        v[i] = strdup(argv[i]);
    *count = argc;
    return v;
}

static int cmd_volume(int argc, char **argv)
{
    /* options first: --threads N, --device cpu|gpu */
    int threads = 0, device = HTC_DEVICE_CPU;
    while (argc >= 2 && !strncmp(argv[0], "--", 2)) {
        if (!strcmp(argv[0], "--threads"))
            threads = atoi(argv[1]);
        else if (!strcmp(argv[0], "--device"))
            device = !strcmp(argv[1], "gpu")                                      ? HTC_DEVICE_GPU
                     : !strcmp(argv[1], "auto") && htc_cuda_device_count() > 0 ? HTC_DEVICE_GPU
                                                                                : HTC_DEVICE_CPU;
        else
            break;
        argc -= 2;
        argv += 2;
    }
    if (argc < 2) {
        fprintf(stderr, "usage: htc dicom volume [--threads N] [--device cpu|gpu|auto] OUT.raw FILE.dcm...|DIR\n");
        return 2;
    }
    const char *out = argv[0];
    int n = 0;
    char **files = list_inputs(argc - 1, argv + 1, &n);
    if (!files || n == 0) {
        fprintf(stderr, "htc dicom volume: no input files\n");
        free(files);
        return 1;
    }
    HtcDicomPlane *planes = calloc((size_t)n, sizeof(*planes));
    uint32_t *order = calloc((size_t)n, sizeof(*order));
    int rc = planes && order ? 0 : 1;
    HtcDicomImage first;
    memset(&first, 0, sizeof(first));
    for (int i = 0; !rc && i < n; i++) {
        HtcDicom *d;
        if (open_or_say(&d, files[i], "volume") < 0) {
            rc = 1;
            break;
        }
        HtcDicomImage img;
        if (htc_dicom_get_image(d, &img) < 0 || htc_dicom_get_plane(d, 0, &planes[i]) < 0) {
            fprintf(stderr, "htc dicom volume: %s: %s\n", files[i], htc_dicom_last_error());
            rc = 1;
        } else if (i == 0) {
            first = img;
        } else if (img.rows != first.rows || img.columns != first.columns || img.samples_per_pixel != 1) {
            fprintf(stderr, "htc dicom volume: %s: %ux%u, the first slice is %ux%u\n", files[i], img.columns,
                    img.rows, first.columns, first.rows);
            rc = 1;
        }
        htc_dicom_close(&d);
    }
    HtcDicomVolume vol;
    if (!rc && htc_dicom_volume_sort(planes, (uint32_t)n, order, &vol) < 0) {
        fprintf(stderr, "htc dicom volume: %s\n", htc_dicom_last_error());
        rc = 1;
    }
    FILE *f = NULL;
    int sample_type = 0, is_signed = 0;
    uint32_t precision = 0;
    HtcDecoder *dec = NULL;
    if (!rc) {
        /* One decoder (and thread pool) for the whole series. */
        HtcDecoderSettings ds;
        htc_decoder_default_settings(&ds);
        ds.threads = threads > 0 ? (uint32_t)threads : 0;
        ds.device = device;
        if (htc_decoder_open(&dec, &ds) < 0) {
            fprintf(stderr, "htc dicom volume: cannot make a decoder: %s\n", htc_last_error());
            rc = 1;
        }
    }
    if (!rc && !(f = fopen(out, "wb"))) {
        fprintf(stderr, "htc dicom volume: cannot write %s\n", out);
        rc = 1;
    }
    /* Slices in batches, so a GPU decoder gets many at once. */
    enum { BATCH = 32 };
    HtcDicomBatchItem items[BATCH];
    double decode_s = 0;
    for (int i0 = 0; !rc && i0 < n; i0 += BATCH) {
        const int m = n - i0 < BATCH ? n - i0 : BATCH;
        memset(items, 0, sizeof(items));
        for (int j = 0; j < m; j++)
            if (open_or_say(&items[j].dicom, files[order[i0 + j]], "volume") < 0)
                rc = 1;
        const double t0 = now_s();
        if (!rc && htc_dicom_decode_batch(dec, items, (size_t)m, NULL) < 0) {
            fprintf(stderr, "htc dicom volume: %s\n", htc_dicom_last_error());
            rc = 1;
        }
        decode_s += now_s() - t0;
        for (int j = 0; j < m; j++) {
            HtcDicomFrame *fr = &items[j].out;
            if (!rc && items[j].status < 0) {
                fprintf(stderr, "htc dicom volume: %s: %s: %s\n", files[order[i0 + j]], htc_strerror(items[j].status),
                        items[j].message);
                rc = 1;
            }
            if (!rc) {
                if (i0 + j == 0) {
                    sample_type = fr->sample_type;
                    is_signed = fr->is_signed;
                    precision = fr->precision;
                }
                if (fr->sample_type != sample_type) {
                    fprintf(stderr, "htc dicom volume: %s: sample type differs from the first slice\n",
                            files[order[i0 + j]]);
                    rc = 1;
                } else if (fwrite(fr->data, 1, fr->size, f) != fr->size) {
                    rc = 1;
                }
            }
            htc_dicom_frame_release(fr);
            htc_dicom_close(&items[j].dicom);
        }
    }
    if (f && fclose(f))
        rc = 1;
    htc_decoder_close(&dec);
    if (!rc) {
        char side[4200];
        snprintf(side, sizeof(side), "%s.json", out);
        FILE *j = fopen(side, "w");
        if (!j) {
            rc = 1;
        } else {
            fprintf(j, "{\"size\": [%u, %u, %u], \"sample_type\": %d, \"bytes_per_sample\": %zu, \"signed\": %s, "
                       "\"precision\": %u,\n \"slice_spacing\": %.10g, \"pixel_spacing\": [%.10g, %.10g],\n",
                    first.columns, first.rows, vol.num_slices, sample_type, htc_sample_size(sample_type),
                    is_signed ? "true" : "false", precision, vol.slice_spacing, planes[0].spacing[0],
                    planes[0].spacing[1]);
            fprintf(j, " \"affine_lps\": [");
            for (int k = 0; k < 16; k++)
                fprintf(j, "%s%.10g", k ? ", " : "", vol.affine_lps[k]);
            fprintf(j, "],\n \"affine_ras\": [");
            for (int k = 0; k < 16; k++)
                fprintf(j, "%s%.10g", k ? ", " : "", vol.affine_ras[k]);
            fprintf(j, "],\n \"files\": [");
            for (int i = 0; i < n; i++) {
                fprintf(j, "%s\"", i ? ", " : "");
                for (const char *c = files[order[i]]; *c; c++)
                    fprintf(j, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
                fprintf(j, "\"");
            }
            fprintf(j, "]}\n");
            fclose(j);
            printf("%s: %ux%ux%u, spacing %.4g x %.4g x %.4g mm\n", out, first.columns, first.rows, vol.num_slices,
                   planes[0].spacing[1], planes[0].spacing[0], vol.slice_spacing);
            /* what decoded it, and the time spent in htc_dicom_decode_batch (files opened before, written after) */
            char name[256] = "";
            if (device == HTC_DEVICE_GPU && htc_cuda_device_name(0, name, sizeof(name)) < 0)
                name[0] = 0;
            const long cores = sysconf(_SC_NPROCESSORS_ONLN);
            if (device == HTC_DEVICE_GPU)
                printf("decoded %u slices in %.3f s on gpu (%s)\n", vol.num_slices, decode_s, name[0] ? name : "?");
            else
                printf("decoded %u slices in %.3f s on cpu (%d threads)\n", vol.num_slices, decode_s,
                       threads > 0 ? threads : (int)(cores > 0 ? cores : 1));
        }
    }
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
    free(planes);
    free(order);
    return rc;
}

int htc_cmd_dicom(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: htc dicom json|frame|decode|dump|volume ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "json"))
        return cmd_json(argc - 2, argv + 2);
    if (!strcmp(argv[1], "frame"))
        return cmd_frame(argc - 2, argv + 2);
    if (!strcmp(argv[1], "decode"))
        return cmd_decode(argc - 2, argv + 2);
    if (!strcmp(argv[1], "dump"))
        return cmd_dump(argc - 2, argv + 2);
    if (!strcmp(argv[1], "volume"))
        return cmd_volume(argc - 2, argv + 2);
    fprintf(stderr, "htc dicom: unknown subcommand '%s'\n", argv[1]);
    return 2;
}
