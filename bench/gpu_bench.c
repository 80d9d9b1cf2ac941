/* htc_gpu_bench: the GPU backend against htcodec's own CPU decoder on the
 * same files, in one process.
 *
 *   htc_gpu_bench [--count N] [--repeat R] [--threads T] [--devices D] [--check]
 *                 [--stream K] FILE...
 *
 * The files are loaded into host memory and repeated until the batch holds
 * N items (default: one of each). Each run is one htc_decode_batch call
 * from compressed bytes in host memory (parse, tier 2, copies, kernels) to
 * samples in device memory (caller-owned buffers, allocated once, as a
 * pipeline would), planned on T host threads (default all cores); the CPU
 * figure is the same batch with T threads into host memory. --check compares every distinct file's GPU
 * output with its CPU decode, byte for byte. --stream K also times K
 * batches in a row through htc_decode_batch_submit (two item arrays and
 * output buffer sets in turn, each waited for before its reuse, as a
 * double-buffered pipeline would): the time a batch takes when the
 * devices never idle between calls; --check then checks the last one.
 * Prints medians and ratios. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "htc/htc.h"
#include "../tests/read_file.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Compares the GPU's output for item i (device buffer dbuf of dsize bytes)
 * with the CPU's decode of the same file; returns 1 when they differ. */
static int differs(HtcDecoder *cpu, const HtcDecodeParams *host_p, const uint8_t *data, size_t size, const void *dbuf,
                   size_t dsize, const char *file, int i)
{
    HtcStream *s = NULL;
    HtcPicture hp;
    memset(&hp, 0, sizeof(hp));
    int bad = 0;
    if (htc_stream_open_memory(&s, data, size, NULL) == 0 && htc_decode(cpu, s, host_p, &hp) == 0) {
        uint8_t *g = malloc(dsize ? dsize : 1);
        cudaMemcpy(g, dbuf, dsize, cudaMemcpyDeviceToHost);
        if (hp.buffer_size != dsize || memcmp(g, hp.buffer, dsize)) {
            bad = 1;
            size_t k = 0;
            while (k < dsize && k < hp.buffer_size && g[k] == ((uint8_t *)hp.buffer)[k])
                k++;
            fprintf(stderr, "MISMATCH %s (item %d): first differing byte %zu of %zu\n", file, i, k, dsize);
        }
        free(g);
    } else {
        fprintf(stderr, "CPU decode of %s failed: %s\n", file, htc_last_error());
    }
    htc_picture_release(&hp);
    htc_stream_close(&s);
    return bad;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n ? v[n / 2] : 0;
}

int main(int argc, char **argv)
{
    int count = 0, repeat = 10, check = 0, devices = 1, no_cpu = 0, pinned_input = 0, elsewhere = 0, stream = 0;
    int one_alloc = 0, distinct = 0;
    unsigned threads = 0;
    const char *files[4096];
    int nfiles = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--count") && i + 1 < argc)
            count = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = (unsigned)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--devices") && i + 1 < argc)
            devices = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--stream") && i + 1 < argc)
            stream = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--one-allocation")) /* outputs as slices of one buffer a device, as a batch tensor */
            one_alloc = 1;
        else if (!strcmp(argv[i], "--distinct-input")) /* each item its own copy of its codestream, as real frames are */
            distinct = 1;
        else if (!strcmp(argv[i], "--no-cpu"))
            no_cpu = 1;
        else if (!strcmp(argv[i], "--pinned-input"))
            pinned_input = 1;
        else if (!strcmp(argv[i], "--pinned-some")) /* odd files only: mixed batches, for tests */
            pinned_input = 2;
        else if (!strcmp(argv[i], "--check"))
            check = 1;
        else if (!strcmp(argv[i], "--buffers-elsewhere")) /* each share's outputs on the next device: routing, for tests */
            elsewhere = 1;
        else if (nfiles < 4096)
            files[nfiles++] = argv[i];
    }
    if (!nfiles) {
        fprintf(stderr, "usage: htc_gpu_bench [--count N] [--repeat R] [--threads T] [--devices D] [--check] [--no-cpu] [--pinned-input|--pinned-some] [--buffers-elsewhere] [--stream K] [--one-allocation] [--distinct-input] FILE...\n");
        return 2;
    }
    if (htc_cuda_device_count() <= 0) {
        printf("htc_gpu_bench: no CUDA device; skipped\n");
        return 77;
    }
    char name[256];
    htc_cuda_device_name(0, name, sizeof(name));
    if (count < nfiles)
        count = nfiles;
    uint8_t **data = calloc((size_t)nfiles, sizeof(*data));
    size_t *size = calloc((size_t)nfiles, sizeof(*size));
    for (int i = 0; i < nfiles; i++)
        if (!(data[i] = htc_test_read_file(files[i], &size[i]))) {
            fprintf(stderr, "cannot read %s\n", files[i]);
            return 1;
        }

    if (pinned_input) {
        /* The codestreams back to back in one pinned buffer, as a pipeline
         * that reads frames into page-locked memory hands them over: the
         * library sends them to the device without copying them. */
        size_t total = 0;
        for (int i = 0; i < nfiles; i++)
            total += size[i];
        uint8_t *pin = NULL;
        if (cudaHostAlloc((void **)&pin, total ? total : 1, cudaHostAllocPortable) != cudaSuccess) {
            fprintf(stderr, "cudaHostAlloc of %zu bytes failed\n", total);
            return 1;
        }
        for (int i = 0; i < nfiles; i++) {
            if (pinned_input == 2 && i % 2 == 0)
                continue;
            memcpy(pin, data[i], size[i]);
            free(data[i]);
            data[i] = pin;
            pin += size[i];
        }
    }
    /* The codestream item i reads: its file's bytes, or (--distinct-input)
     * a copy of its own, in pinned memory with --pinned-input. */
    const uint8_t **in = calloc((size_t)count, sizeof(*in));
    for (int i = 0; i < count; i++)
        in[i] = data[i % nfiles];
    if (distinct) {
        size_t total = 0;
        for (int i = 0; i < count; i++)
            total += size[i % nfiles];
        uint8_t *all = NULL;
        if (pinned_input == 1 ? cudaHostAlloc((void **)&all, total ? total : 1, cudaHostAllocPortable) != cudaSuccess
                              : !(all = malloc(total ? total : 1))) {
            fprintf(stderr, "%zu bytes for distinct codestreams failed\n", total);
            return 1;
        }
        for (int i = 0; i < count; i++) {
            memcpy(all, data[i % nfiles], size[i % nfiles]);
            in[i] = all;
            all += size[i % nfiles];
        }
    }
    HtcDecoderSettings gs, cs;
    htc_decoder_default_settings(&gs);
    gs.device = HTC_DEVICE_GPU;
    if (devices > htc_cuda_device_count())
        devices = htc_cuda_device_count();
    if (devices < 1)
        devices = 1;
    gs.num_devices = (uint32_t)devices;
    gs.threads = threads; /* host threads that plan, as for the CPU decoder */
    htc_decoder_default_settings(&cs);
    cs.threads = threads;
    HtcDecoder *gpu = NULL, *cpu = NULL;
    if (htc_decoder_open(&gpu, &gs) < 0 || htc_decoder_open(&cpu, &cs) < 0) {
        fprintf(stderr, "decoder: %s\n", htc_last_error());
        return 1;
    }
    HtcDecodeParams dev_p, host_p;
    htc_decode_default_params(&dev_p);
    dev_p.memory = HTC_MEMORY_DEVICE;
    htc_decode_default_params(&host_p);

    /* Device output buffers, one per item, allocated once. */
    HtcBatchItem *items = calloc((size_t)count, sizeof(*items));
    void **dbuf = calloc((size_t)count, sizeof(*dbuf));
    void **dbuf2 = calloc((size_t)count, sizeof(*dbuf2)); /* --stream: the second set */
    HtcBatchItem *items2 = calloc((size_t)count, sizeof(*items2));
    int *bdev = calloc((size_t)count, sizeof(*bdev));
    size_t *dsize = calloc((size_t)count, sizeof(*dsize));
    uint64_t samples = 0, bytes_in = 0;
    for (int i = 0; i < count; i++) {
        const int f = i % nfiles;
        HtcStream *s = NULL;
        if (htc_stream_open_memory(&s, data[f], size[f], NULL) < 0) {
            fprintf(stderr, "%s: %s\n", files[f], htc_last_error());
            return 1;
        }
        HtcPicture lay;
        memset(&lay, 0, sizeof(lay));
        htc_decode_layout(s, &dev_p, &lay);
        dsize[i] = lay.buffer_size;
        for (uint32_t k = 0; k < lay.num_planes; k++)
            samples += (uint64_t)lay.planes[k].width * lay.planes[k].height;
        htc_picture_release(&lay);
        htc_stream_close(&s);
        /* On the device whose share of the batch item i falls in (the
         * library cuts a batch into contiguous shares, one per device). */
        int dev = 0;
        while (dev + 1 < devices && (size_t)i >= (size_t)count * (dev + 1) / devices)
            dev++;
        if (elsewhere)
            dev = (dev + 1) % devices;
        bdev[i] = dev;
        cudaSetDevice(dev);
        if (!one_alloc && (cudaMalloc(&dbuf[i], dsize[i] ? dsize[i] : 1) != cudaSuccess ||
                           (stream && cudaMalloc(&dbuf2[i], dsize[i] ? dsize[i] : 1) != cudaSuccess))) {
            fprintf(stderr, "cudaMalloc of %zu bytes failed\n", dsize[i]);
            return 1;
        }
        bytes_in += size[f];
    }
    /* --one-allocation: each device's outputs are 256-byte aligned slices
     * of one buffer (per set), as a batch tensor's rows would be. */
    void *slab[2][64] = { { NULL } };
    for (int set = 0; set < (stream ? 2 : 1) && one_alloc; set++) {
        void **bufs = set ? dbuf2 : dbuf;
        for (int dev = 0; dev < devices && dev < 64; dev++) {
            size_t total = 0;
            for (int i = 0; i < count; i++)
                if (bdev[i] == dev)
                    total += (dsize[i] + 255) & ~(size_t)255;
            cudaSetDevice(dev);
            if (total && cudaMalloc(&slab[set][dev], total) != cudaSuccess) {
                fprintf(stderr, "cudaMalloc of %zu bytes failed\n", total);
                return 1;
            }
            size_t at = 0;
            for (int i = 0; i < count; i++)
                if (bdev[i] == dev) {
                    bufs[i] = (uint8_t *)slab[set][dev] + at;
                    at += (dsize[i] + 255) & ~(size_t)255;
                }
        }
    }

    int failures = 0, mismatches = 0;
    double *gt = calloc((size_t)repeat + 1, sizeof(double));
    double *ct = calloc((size_t)repeat + 1, sizeof(double));
    for (int r = -1; r < repeat; r++) {
        for (int i = 0; i < count; i++) {
            memset(&items[i], 0, sizeof(items[i]));
            items[i].data = in[i];
            items[i].size = size[i % nfiles];
            items[i].params = &dev_p;
            items[i].picture.buffer = dbuf[i];
            items[i].picture.buffer_size = dsize[i];
        }
        cudaDeviceSynchronize();
        const double t0 = now_ms();
        const int rc = htc_decode_batch(gpu, items, (size_t)count);
        cudaDeviceSynchronize();
        const double t1 = now_ms();
        if (rc < 0) {
            fprintf(stderr, "GPU batch: %s\n", htc_last_error());
            return 1;
        }
        for (int i = 0; i < count; i++) {
            if (items[i].status < 0 && r < 0) {
                fprintf(stderr, "GPU item %d (%s): %s\n", i, files[i % nfiles], items[i].message);
                failures++;
            }
            /* The item was decoded on the device its buffer is on. */
            if (r < 0 && items[i].status == 0 && items[i].picture.device_id != bdev[i]) {
                fprintf(stderr, "MISMATCH item %d: decoded on device %d, its buffer is on device %d\n", i,
                        items[i].picture.device_id, bdev[i]);
                mismatches++;
            }
            /* Check every distinct file once, on the warm-up run, in the
             * first and the last device's shares. */
            const int f = i % nfiles;
            if (r < 0 && check && (i < nfiles || i >= count - nfiles) && items[i].status == 0)
                mismatches += differs(cpu, &host_p, data[f], size[f], dbuf[i], dsize[i], files[f], i);
            htc_picture_release(&items[i].picture);
        }
        if (r >= 0)
            gt[r] = t1 - t0;

        if (no_cpu)
            continue;
        for (int i = 0; i < count; i++) {
            memset(&items[i], 0, sizeof(items[i]));
            items[i].data = in[i];
            items[i].size = size[i % nfiles];
            items[i].params = &host_p;
        }
        const double t2 = now_ms();
        htc_decode_batch(cpu, items, (size_t)count);
        const double t3 = now_ms();
        for (int i = 0; i < count; i++)
            htc_picture_release(&items[i].picture);
        if (r >= 0)
            ct[r] = t3 - t2;
    }
    /* A stream of batches: two item arrays and buffer sets in turn, each
     * waited for before it is reused. */
    double *st = calloc((size_t)repeat + 1, sizeof(double));
    for (int r = -1; r < repeat && stream > 0; r++) {
        HtcBatchItem *arr[2] = { items, items2 };
        void **bufs[2] = { dbuf, dbuf2 };
        uint64_t *tk = calloc((size_t)stream, sizeof(uint64_t));
        const double t0 = now_ms();
        for (int k = 0; k < stream; k++) {
            HtcBatchItem *it = arr[k % 2];
            if (k >= 2 && htc_decode_batch_wait(gpu, tk[k - 2]) < 0) {
                fprintf(stderr, "GPU wait: %s\n", htc_last_error());
                return 1;
            }
            for (int i = 0; i < count; i++) {
                memset(&it[i], 0, sizeof(it[i]));
                it[i].data = in[i];
                it[i].size = size[i % nfiles];
                it[i].params = &dev_p;
                it[i].picture.buffer = bufs[k % 2][i];
                it[i].picture.buffer_size = dsize[i];
            }
            if (htc_decode_batch_submit(gpu, it, (size_t)count, &tk[k]) < 0) {
                fprintf(stderr, "GPU submit: %s\n", htc_last_error());
                return 1;
            }
        }
        if (htc_decode_batch_wait(gpu, tk[stream - 1]) < 0) {
            fprintf(stderr, "GPU wait: %s\n", htc_last_error());
            return 1;
        }
        const double t1 = now_ms();
        free(tk);
        if (r >= 0)
            st[r] = (t1 - t0) / stream;
        const HtcBatchItem *last = arr[(stream - 1) % 2];
        for (int i = 0; r < 0 && i < count; i++) {
            if (last[i].status < 0) {
                fprintf(stderr, "GPU item %d of a streamed batch (%s): %s\n", i, files[i % nfiles], last[i].message);
                failures++;
            }
            if (check && (i < nfiles || i >= count - nfiles) && last[i].status == 0)
                mismatches += differs(cpu, &host_p, data[i % nfiles], size[i % nfiles], bufs[(stream - 1) % 2][i],
                                      dsize[i], files[i % nfiles], i);
        }
    }
    const double g = median(gt, repeat), c = median(ct, repeat), sg = median(st, repeat);
    printf("device: %s x %d\n", name, devices);
    printf("batch: %d items from %d files, %.1f MB compressed, %.1f Msamples, input in %s memory\n", count, nfiles,
           bytes_in / 1e6, samples / 1e6, pinned_input == 1 ? "pinned" : pinned_input ? "pinned and pageable" : "pageable");
    printf("check: %s (%d mismatches, %d failed items)\n", check ? (mismatches ? "FAIL" : "ok") : "not run",
           mismatches, failures);
    printf("%-28s %10s %12s %12s\n", "path", "median ms", "images/s", "Msamples/s");
    printf("%-28s %10.3f %12.1f %12.1f\n", "GPU (device output)", g, count / (g / 1e3), samples / (g * 1e3));
    if (stream > 0) {
        char label[64];
        snprintf(label, sizeof(label), "GPU stream of %d batches", stream);
        printf("%-28s %10.3f %12.1f %12.1f   (a batch, submitted back to back)\n", label, sg, count / (sg / 1e3),
               samples / (sg * 1e3));
    }
    if (!no_cpu) {
        printf("%-28s %10.3f %12.1f %12.1f\n", "CPU (host output)", c, count / (c / 1e3), samples / (c * 1e3));
        printf("GPU / CPU speed: %.2fx (CPU threads: %u = %s)\n", c / g, threads,
               threads ? "as given" : "all cores");
    }
    for (int i = 0; i < count && !one_alloc; i++) {
        cudaFree(dbuf[i]);
        if (dbuf2[i])
            cudaFree(dbuf2[i]);
    }
    for (int set = 0; set < 2; set++)
        for (int dev = 0; dev < 64; dev++)
            if (slab[set][dev])
                cudaFree(slab[set][dev]);
    htc_decoder_close(&gpu);
    htc_decoder_close(&cpu);
    return mismatches || failures ? 1 : 0;
}
