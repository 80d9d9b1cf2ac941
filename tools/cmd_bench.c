/* htc bench: decode speed without process start-up.
 *
 *   htc bench FILE... [--threads N] [--repeat R] [--warmup W] [--device cpu|gpu]
 *                     [--parse-once | --batch [--prealloc]] [--json]
 *
 * Each file is read into memory once. One decoder (and its thread pool) serves
 * every run. A timed run is, by default, parse + decode: open the stream from
 * memory (boxes, main and tile-part headers), decode the whole image at full
 * resolution into a picture the library allocates, close the stream; releasing
 * the picture is not timed. --parse-once parses once and times the decode alone.
 * W untimed runs (default 1) come first. Per file: the median of R runs
 * (default 10), samples per second over that median, the median CPU time of the
 * process (all threads; the fairer figure on a loaded machine), and the sha256 of the
 * samples in the .raw layout of `htc decode` (writers.h). --batch times all files
 * together, one htc_decode_batch call a run (the many-small-images case); with
 * --prealloc the batch decodes into caller-owned output buffers, one block for all
 * items allocated and touched once before the runs (as a pipeline decoding into a
 * preallocated tensor does), instead of pictures the library allocates each run.
 * The batch figures also give the process's page faults and context switches per
 * run (getrusage, all threads), divided by the number of items.
 * Exit status: 0 ok, 1 a file failed, 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "sha256.h"
#include "writers.h"

static void usage(void)
{
    fprintf(stderr, "usage: htc bench FILE... [--threads N] [--repeat R] [--warmup W] "
                    "[--device cpu|gpu] [--parse-once | --batch [--prealloc]] [--json]\n"
                    "  times parse + decode from memory (--parse-once: decode only; --batch: all\n"
                    "  files in one htc_decode_batch call a run; --prealloc: into output buffers\n"
                    "  allocated once by the caller); threads 0 = all cores\n");
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

/* CPU time of the whole process (all threads): under a loaded machine this, not the
 * wall time, is what single-thread figures should be compared by. */
static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int parse_count(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
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

static void json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        const unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static int sha_sink(void *opaque, const void *data, size_t size)
{
    htc_sha256_update(opaque, data, size);
    return 0;
}

typedef struct BenchResult {
    uint32_t width, height, components, precision;
    int is_signed;
    uint64_t samples;
    double median_ms, min_ms, mean_ms;
    double median_cpu_ms;      /* CPU time of all threads, median */
    char sha256[65];
} BenchResult;

typedef struct BenchOptions {
    unsigned long repeat, warmup;
    int parse_once;
    int prealloc;              /* --batch into caller-owned buffers */
} BenchOptions;

/* Minor + major page faults and context switches of the process so far. */
static void kernel_counts(double *faults, double *switches)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) {
        *faults = *switches = 0;
        return;
    }
    *faults = (double)ru.ru_minflt + (double)ru.ru_majflt;
    *switches = (double)ru.ru_nvcsw + (double)ru.ru_nivcsw;
}

/* One timed run; *pic is filled (release it). */
static int run_once(HtcDecoder *dec, HtcStream **keep, const uint8_t *data, size_t size,
                    const HtcDecodeParams *p, HtcPicture *pic, double *ms, double *cpu)
{
    memset(pic, 0, sizeof(*pic));
    const double c0 = cpu_ms();
    const double t0 = now_ms();
    HtcStream *s = *keep;
    int rc = 0;
    if (!s)
        rc = htc_stream_open_memory(&s, data, size, NULL);
    if (rc >= 0)
        rc = htc_decode(dec, s, p, pic);
    if (!*keep)
        htc_stream_close(&s);
    *ms = now_ms() - t0;
    if (cpu)
        *cpu = cpu_ms() - c0;
    return rc;
}

static int bench_file(HtcDecoder *dec, const char *path, const BenchOptions *o, BenchResult *r,
                      char *msg, size_t msg_size)
{
    uint8_t *data;
    size_t size;
    int rc = htc_cli_read_file(path, &data, &size);
    if (rc < 0) {
        snprintf(msg, msg_size, "cannot read: %s", rc == HTC_EIO ? strerror(errno) : htc_strerror(rc));
        return rc;
    }
    HtcDecodeParams p;
    htc_decode_default_params(&p);
    p.sample_type = HTC_SAMPLE_AUTO;
    p.layout = HTC_LAYOUT_PLANAR;
    p.memory = HTC_MEMORY_HOST;
    HtcStream *keep = NULL;
    double *times = calloc(2 * o->repeat, sizeof(*times));
    double *cpus = times ? times + o->repeat : NULL;
    if (!times) {
        free(data);
        snprintf(msg, msg_size, "out of memory");
        return HTC_ENOMEM;
    }
    if (o->parse_once && (rc = htc_stream_open_memory(&keep, data, size, NULL)) < 0)
        goto fail;
    HtcPicture pic;
    double ms;
    /* the first run gives the checksum and the geometry; it counts as a warm-up */
    if ((rc = run_once(dec, &keep, data, size, &p, &pic, &ms, NULL)) < 0) {
        htc_picture_release(&pic);
        goto fail;
    }
    HtcSha256 sha;
    uint8_t digest[32];
    htc_sha256_init(&sha);
    rc = htc_raw_stream(&pic, sha_sink, &sha);
    htc_sha256_final(&sha, digest);
    htc_sha256_hex(digest, r->sha256);
    r->width = pic.width;
    r->height = pic.height;
    r->components = pic.num_planes;
    r->precision = pic.num_planes ? pic.planes[0].precision : 0;
    r->is_signed = pic.num_planes ? pic.planes[0].is_signed : 0;
    r->samples = 0;
    for (uint32_t c = 0; c < pic.num_planes; c++)
        r->samples += (uint64_t)pic.planes[c].width * pic.planes[c].height;
    htc_picture_release(&pic);
    if (rc < 0) {
        snprintf(msg, msg_size, "cannot checksum the picture: %s", htc_strerror(rc));
        goto done;
    }
    for (unsigned long i = 1; i < o->warmup; i++) {
        rc = run_once(dec, &keep, data, size, &p, &pic, &ms, NULL);
        htc_picture_release(&pic);
        if (rc < 0)
            goto fail;
    }
    for (unsigned long i = 0; i < o->repeat; i++) {
        rc = run_once(dec, &keep, data, size, &p, &pic, &times[i], &cpus[i]);
        htc_picture_release(&pic);
        if (rc < 0)
            goto fail;
    }
    qsort(times, o->repeat, sizeof(*times), cmp_double);
    qsort(cpus, o->repeat, sizeof(*cpus), cmp_double);
    r->median_cpu_ms = o->repeat % 2 ? cpus[o->repeat / 2]
                                     : 0.5 * (cpus[o->repeat / 2 - 1] + cpus[o->repeat / 2]);
    r->median_ms = o->repeat % 2 ? times[o->repeat / 2]
                                 : 0.5 * (times[o->repeat / 2 - 1] + times[o->repeat / 2]);
    r->min_ms = times[0];
    r->mean_ms = 0;
    for (unsigned long i = 0; i < o->repeat; i++)
        r->mean_ms += times[i] / (double)o->repeat;
    goto done;
fail:
    snprintf(msg, msg_size, "%s", *htc_last_error() ? htc_last_error() : htc_strerror(rc));
done:
    htc_stream_close(&keep);
    free(times);
    free(data);
    return rc;
}

static double median_of(double *v, unsigned long n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* --prealloc: one block for every item's samples, each item's part 64-byte aligned
 * at off[i] (sizes from htc_decode_layout), written once so that its pages are
 * mapped before the timed runs. NULL on failure (a message printed). */
static uint8_t *batch_buffers(uint8_t *const *data, const size_t *size, int n,
                              const char **files, const HtcDecodeParams *p, size_t *off,
                              size_t *len)
{
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        HtcStream *s = NULL;
        HtcPicture pic;
        memset(&pic, 0, sizeof(pic));
        int rc = htc_stream_open_memory(&s, data[i], size[i], NULL);
        if (rc >= 0)
            rc = htc_decode_layout(s, p, &pic);
        htc_stream_close(&s);
        if (rc < 0) {
            fprintf(stderr, "htc bench: %s: %s\n", files[i],
                    *htc_last_error() ? htc_last_error() : htc_strerror(rc));
            htc_picture_release(&pic);
            return NULL;
        }
        off[i] = total;
        len[i] = pic.buffer_size;
        htc_picture_release(&pic);
        if (len[i] > SIZE_MAX / 2 - total) {
            fprintf(stderr, "htc bench: output buffers too large\n");
            return NULL;
        }
        total += (len[i] + 63) & ~(size_t)63;
    }
    uint8_t *block = aligned_alloc(64, total ? total : 64);
    if (!block)
        fprintf(stderr, "htc bench: out of memory for %zu bytes of output\n", total);
    else
        memset(block, 0, total);
    return block;
}

/* --batch: every file in one htc_decode_batch call per run (each item parsed from memory
 * inside the call). One result: images and samples per second over the median run; the
 * sha256 covers every item's samples in the .raw layout, in the order given. */
static int bench_batch(HtcDecoder *dec, const char **files, int n, const BenchOptions *o,
                       int json, unsigned threads, const char *device)
{
    uint8_t **data = calloc((size_t)n, sizeof(*data));
    size_t *size = calloc((size_t)n, sizeof(*size));
    size_t *off = calloc(2 * (size_t)n, sizeof(*off));
    size_t *len = off ? off + n : NULL;
    HtcBatchItem *items = calloc((size_t)n, sizeof(*items));
    double *times = calloc(4 * o->repeat, sizeof(*times));
    double *faults = times ? times + 2 * o->repeat : NULL, *switches = faults ? faults + o->repeat : NULL;
    uint8_t *block = NULL;
    int rc = data && size && off && items && times ? 0 : HTC_ENOMEM;
    for (int i = 0; i < n && !rc; i++)
        if ((rc = htc_cli_read_file(files[i], &data[i], &size[i])) < 0)
            fprintf(stderr, "htc bench: %s: cannot read: %s\n", files[i],
                    rc == HTC_EIO ? strerror(errno) : htc_strerror(rc));
    HtcDecodeParams p;
    htc_decode_default_params(&p);
    p.sample_type = HTC_SAMPLE_AUTO;
    p.layout = HTC_LAYOUT_PLANAR;
    p.memory = HTC_MEMORY_HOST;
    if (!rc && o->prealloc && !(block = batch_buffers(data, size, n, files, &p, off, len)))
        rc = HTC_ENOMEM;
    HtcSha256 sha;
    htc_sha256_init(&sha);
    uint64_t samples = 0;
    const unsigned long runs = o->warmup + o->repeat;
    for (unsigned long r = 0; r < runs && !rc; r++) {
        for (int i = 0; i < n; i++) {
            memset(&items[i], 0, sizeof(items[i]));
            items[i].data = data[i];
            items[i].size = size[i];
            items[i].params = &p;
            if (block) {
                items[i].picture.buffer = block + off[i];
                items[i].picture.buffer_size = len[i];
            }
        }
        double f0, s0, f1, s1;
        kernel_counts(&f0, &s0);
        const double c0 = cpu_ms(), t0 = now_ms();
        rc = htc_decode_batch(dec, items, (size_t)n);
        const double t = now_ms() - t0, c = cpu_ms() - c0;
        kernel_counts(&f1, &s1);
        for (int i = 0; i < n; i++) {
            if (items[i].status < 0 && rc >= 0) {
                fprintf(stderr, "htc bench: %s: %s\n", files[i],
                        items[i].message[0] ? items[i].message : htc_strerror(items[i].status));
                rc = items[i].status;
            }
            if (r == 0 && rc >= 0) {
                rc = htc_raw_stream(&items[i].picture, sha_sink, &sha);
                for (uint32_t k = 0; k < items[i].picture.num_planes; k++)
                    samples += (uint64_t)items[i].picture.planes[k].width *
                               items[i].picture.planes[k].height;
            }
            htc_picture_release(&items[i].picture);
        }
        if (r >= o->warmup) {
            times[r - o->warmup] = t;
            times[o->repeat + r - o->warmup] = c;
            faults[r - o->warmup] = (f1 - f0) / n;
            switches[r - o->warmup] = s1 - s0;
        }
    }
    if (rc >= 0) {
        uint8_t digest[32];
        char hex[65];
        htc_sha256_final(&sha, digest);
        htc_sha256_hex(digest, hex);
        const double cpu = median_of(times + o->repeat, o->repeat);
        const double med = median_of(times, o->repeat);
        const double flt = median_of(faults, o->repeat), csw = median_of(switches, o->repeat);
        const double ips = med > 0 ? 1e3 * n / med : 0, msps = med > 0 ? (double)samples / (med * 1e3) : 0;
        const char *out = o->prealloc ? "caller's buffers" : "library's pictures";
        if (json)
            printf("[\n  {\"file\": \"batch of %d\", \"batch\": %d, \"samples\": %llu, "
                   "\"threads\": %u, \"device\": \"%s\", \"repeat\": %lu, "
                   "\"timed\": \"htc_decode_batch (parse+decode)\", \"output\": \"%s\", "
                   "\"median_ms\": %.4f, \"min_ms\": %.4f, \"median_cpu_ms\": %.4f, "
                   "\"images_per_s\": %.2f, \"msamples_per_s\": %.3f, "
                   "\"page_faults_per_item\": %.2f, \"context_switches_per_run\": %.0f, "
                   "\"sha256\": \"%s\"}\n]\n",
                   n, n, (unsigned long long)samples, threads, device, o->repeat, out, med, times[0],
                   cpu, ips, msps, flt, csw, hex);
        else
            printf("batch of %d files: median %.3f ms (min %.3f), %.1f images/s, %.1f Msamples/s\n"
                   "sha256 of all samples (.raw layout, in order): %s\n"
                   "(htc_decode_batch, parse+decode into the %s, %u thread%s, %s, median of %lu runs "
                   "after %lu warm-up; CPU %.3f ms, %.2f page faults an item, %.0f context switches "
                   "a run)\n", n, med, times[0], ips, msps, hex, out, threads, threads == 1 ? "" : "s",
                   device, o->repeat, o->warmup, cpu, flt, csw);
    }
    for (int i = 0; data && i < n; i++)
        free(data[i]);
    free(data);
    free(size);
    free(off);
    free(items);
    free(times);
    free(block);
    return rc < 0 ? 1 : 0;
}

int htc_cmd_bench(int argc, char **argv)
{
    HtcDecoderSettings ds;
    htc_decoder_default_settings(&ds);
    BenchOptions o = {10, 1, 0, 0};
    int json = 0, nfiles = 0, batch = 0;
    const char **files = calloc((size_t)argc + 1, sizeof(*files));
    if (!files)
        return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || !a[1]) {
            files[nfiles++] = a;
            continue;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        if (!strcmp(a, "--parse-once")) {
            o.parse_once = 1;
            continue;
        }
        if (!strcmp(a, "--batch")) {
            batch = 1;
            continue;
        }
        if (!strcmp(a, "--prealloc")) {
            o.prealloc = 1;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage();
            free(files);
            return 0;
        }
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
        } else if (!strcmp(name, "--threads")) {
            bad = parse_count(val, 0, 4096, &v) < 0;
            ds.threads = (uint32_t)v;
        } else if (!strcmp(name, "--repeat")) {
            bad = parse_count(val, 1, 1000000, &o.repeat) < 0;
        } else if (!strcmp(name, "--warmup")) {
            bad = parse_count(val, 1, 1000000, &o.warmup) < 0;
        } else if (!strcmp(name, "--device")) {
            if (!strcmp(val, "cpu"))
                ds.device = HTC_DEVICE_CPU;
            else if (!strcmp(val, "gpu") || !strcmp(val, "cuda"))
                ds.device = HTC_DEVICE_GPU;
            else
                bad = 1;
        } else {
            fprintf(stderr, "htc bench: unknown option %s\n", name);
            usage();
            free(files);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "htc bench: bad or missing value for %s\n", name);
            usage();
            free(files);
            return 2;
        }
    }
    if (!nfiles) {
        fprintf(stderr, "htc bench: no input files\n");
        usage();
        free(files);
        return 2;
    }
    HtcDecoder *dec = NULL;
    int rc = htc_decoder_open(&dec, &ds);
    if (rc < 0) {
        fprintf(stderr, "htc bench: cannot start the decoder: %s\n",
                *htc_last_error() ? htc_last_error() : htc_strerror(rc));
        free(files);
        return 1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const unsigned threads = ds.threads ? ds.threads : (unsigned)(cores > 0 ? cores : 1);
    const char *device = ds.device == HTC_DEVICE_GPU ? "gpu" : "cpu";
    if (o.prealloc && !batch) {
        fprintf(stderr, "htc bench: --prealloc goes with --batch\n");
        usage();
        htc_decoder_close(&dec);
        free(files);
        return 2;
    }
    if (batch) {
        const int status = bench_batch(dec, files, nfiles, &o, json, threads, device);
        htc_decoder_close(&dec);
        free(files);
        return status;
    }
    const char *mode = o.parse_once ? "decode" : "parse+decode";
    int failed = 0;
    if (json)
        printf("[");
    else
        printf("%-40s %11s %5s %10s %10s %10s  %s\n", "file", "size", "bits", "median_ms",
               "min_ms", "Msamples/s", "sha256 (.raw layout)");
    for (int i = 0; i < nfiles; i++) {
        BenchResult r;
        memset(&r, 0, sizeof(r));
        char msg[512] = "";
        rc = bench_file(dec, files[i], &o, &r, msg, sizeof(msg));
        const double msps = rc >= 0 && r.median_ms > 0 ? (double)r.samples / (r.median_ms * 1e3) : 0;
        if (rc < 0) {
            failed++;
            fprintf(stderr, "htc bench: %s: %s\n", files[i], msg);
        }
        if (json) {
            printf("%s\n  {\"file\": ", i ? "," : "");
            json_string(files[i]);
            if (rc < 0) {
                printf(", \"error\": ");
                json_string(msg);
                printf(", \"status\": %d}", rc);
                continue;
            }
            printf(", \"width\": %u, \"height\": %u, \"components\": %u, \"precision\": %u, "
                   "\"signed\": %s, \"samples\": %llu, \"threads\": %u, \"device\": \"%s\", "
                   "\"repeat\": %lu, \"timed\": \"%s\", \"median_ms\": %.4f, \"min_ms\": %.4f, "
                   "\"mean_ms\": %.4f, \"median_cpu_ms\": %.4f, \"msamples_per_s\": %.3f, "
                   "\"sha256\": \"%s\"}",
                   r.width, r.height, r.components, r.precision, r.is_signed ? "true" : "false",
                   (unsigned long long)r.samples, threads, device, o.repeat, mode, r.median_ms,
                   r.min_ms, r.mean_ms, r.median_cpu_ms, msps, r.sha256);
        } else if (rc >= 0) {
            char dims[48];
            snprintf(dims, sizeof(dims), "%ux%ux%u", r.width, r.height, r.components);
            const char *name = strrchr(files[i], '/'); /* the base name, its last 40 bytes */
            name = name ? name + 1 : files[i];
            const size_t len = strlen(name);
            if (len > 40)
                name += len - 40;
            printf("%-40s %11s %4u%s %10.3f %10.3f %10.1f  %s\n", name, dims, r.precision,
                   r.is_signed ? "s" : "u", r.median_ms, r.min_ms, msps, r.sha256);
        }
        fflush(stdout);
    }
    if (json)
        printf("\n]\n");
    else
        printf("(%s, %u thread%s, %s, median of %lu runs after %lu warm-up)\n", mode, threads,
               threads == 1 ? "" : "s", device, o.repeat, o.warmup);
    htc_decoder_close(&dec);
    free(files);
    return failed ? 1 : 0;
}
