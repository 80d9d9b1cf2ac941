/* tests/mock_cuda/host_bench: the GPU backend's host side alone, timed, on
 * a machine without a GPU: linked with fake_cudart.cpp and run with
 * FAKE_CUDA_NOOP=1, copies and kernels do nothing, so one htc_decode_batch
 * call costs what the host spends on it (parse, tier 2, byte pools, job
 * tables, sealing, submitting, finishing). Outputs are garbage.
 *
 *   host_bench [--count N] [--repeat R] [--threads T] [--pinned 1] FILE...
 *
 * Prints the median wall time of a batch and the process CPU time (all
 * threads) per batch, in ms. Device output into caller buffers, as
 * bench/gpu_bench.c times it. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "htc/htc.h"

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static double cpu_ms(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1e3 + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int count = 0, repeat = 10, threads = 2, pinned = 0, a = 1;
    for (; a + 1 < argc && argv[a][0] == '-'; a += 2) {
        if (!strcmp(argv[a], "--count"))
            count = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--repeat"))
            repeat = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--threads"))
            threads = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--pinned")) /* codestreams in pinned memory: sent, not copied */
            pinned = atoi(argv[a + 1]);
    }
    const int nfiles = argc - a;
    if (nfiles <= 0 || repeat < 1) {
        fprintf(stderr, "usage: host_bench [--count N] [--repeat R] [--threads T] [--pinned 1] FILE...\n");
        return 2;
    }
    if (count <= 0)
        count = nfiles;
    uint8_t **data = calloc((size_t)nfiles, sizeof(*data));
    size_t *size = calloc((size_t)nfiles, sizeof(*size));
    for (int i = 0; i < nfiles; i++) {
        FILE *f = fopen(argv[a + i], "rb");
        if (!f)
            return 1;
        fseek(f, 0, SEEK_END);
        size[i] = (size_t)ftell(f);
        fseek(f, 0, SEEK_SET);
        void *p = NULL;
        if (pinned ? cudaMallocHost(&p, size[i]) != cudaSuccess : !(p = malloc(size[i])))
            return 1;
        data[i] = p;
        if (fread(data[i], 1, size[i], f) != size[i])
            return 1;
        fclose(f);
    }
    HtcDecoderSettings gs;
    htc_decoder_default_settings(&gs);
    gs.device = HTC_DEVICE_GPU;
    gs.threads = (uint32_t)threads;
    HtcDecoder *gpu = NULL;
    if (htc_decoder_open(&gpu, &gs) < 0) {
        fprintf(stderr, "GPU decoder: %s\n", htc_last_error());
        return 1;
    }
    HtcDecodeParams dp;
    htc_decode_default_params(&dp);
    dp.memory = HTC_MEMORY_DEVICE;
    HtcBatchItem *items = calloc((size_t)count, sizeof(*items));
    void **dbuf = calloc((size_t)count, sizeof(*dbuf));
    size_t *dsize = calloc((size_t)count, sizeof(*dsize));
    double *wall = calloc((size_t)repeat, sizeof(double));
    double cpu_total = 0;
    for (int r = -1; r < repeat; r++) { /* r = -1: warm-up */
        for (int i = 0; i < count; i++) {
            memset(&items[i], 0, sizeof(items[i]));
            items[i].data = data[i % nfiles];
            items[i].size = size[i % nfiles];
            items[i].params = &dp;
            if (!dbuf[i]) {
                HtcStream *s = NULL;
                HtcPicture lay;
                memset(&lay, 0, sizeof(lay));
                if (htc_stream_open_memory(&s, items[i].data, items[i].size, NULL) < 0 ||
                    htc_decode_layout(s, &dp, &lay) < 0)
                    return 1;
                dsize[i] = lay.buffer_size;
                htc_picture_release(&lay);
                htc_stream_close(&s);
                if (cudaMalloc(&dbuf[i], dsize[i] ? dsize[i] : 1) != cudaSuccess)
                    return 1;
            }
            items[i].picture.buffer = dbuf[i];
            items[i].picture.buffer_size = dsize[i];
        }
        const double c0 = cpu_ms(), t0 = now_ms();
        if (htc_decode_batch(gpu, items, (size_t)count) < 0) {
            fprintf(stderr, "batch: %s\n", htc_last_error());
            return 1;
        }
        const double t1 = now_ms(), c1 = cpu_ms();
        for (int i = 0; i < count; i++) {
            if (items[i].status < 0) {
                fprintf(stderr, "item %d: %s\n", i, items[i].message);
                return 1;
            }
            htc_picture_release(&items[i].picture);
        }
        if (r >= 0) {
            wall[r] = t1 - t0;
            cpu_total += c1 - c0;
        }
    }
    qsort(wall, (size_t)repeat, sizeof(double), cmp_d);
    printf("host side of a GPU batch of %d items, %d threads: median %.3f ms wall, %.3f ms CPU a batch\n", count,
           threads, wall[repeat / 2], cpu_total / repeat);
    for (int i = 0; i < count; i++)
        cudaFree(dbuf[i]);
    htc_decoder_close(&gpu);
    for (int i = 0; i < nfiles; i++)
        if (pinned)
            cudaFreeHost(data[i]);
        else
            free(data[i]);
    free(data);
    free(size);
    free(items);
    free(dbuf);
    free(dsize);
    free(wall);
    return 0;
}
