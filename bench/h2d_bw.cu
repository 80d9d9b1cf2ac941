// bench/h2d_bw.cu: what the device machine's host link and memory give, so
// the GPU pipeline's copy times can be read against them. Prints GB/s of
// host-to-device copies (pinned and pageable, several sizes), host memcpy
// (and htc_copy_nt, the GPU path's copy) into pinned memory on 1..32 threads,
// and device-to-device copies. --multi: every GPU pulling at once (DMA
// sizes, one shared source, host threads loading memory, DMAs over several
// streams a GPU, a kernel reading mapped host memory). --busy: the DMAs of
// one GPU and of every GPU at once, alone and beside a kernel that streams
// through device memory (as the decode kernels do while the next chunk's
// bytes cross). --hog S: every GPU pulls from the host for S seconds.
// --dirty: DMAs of a buffer that 15 host threads have just written (as the
// GPU path's job tables are), with plain stores, with non-temporal ones,
// and with plain stores written back (htc_writeback), against a clean one.
//
//   nvcc -O2 -Iinclude -Isrc -o h2d_bw bench/h2d_bw.cu src/copy_nt.c && ./h2d_bw [--multi|--busy|--dirty|--hog S]
#include <cuda_runtime.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern "C" {
#include "internal.h"
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static float h2d_ms(void *dst, const void *src, size_t n, cudaStream_t s, int reps)
{
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s); // warm
    cudaStreamSynchronize(s);
    cudaEventRecord(a, s);
    for (int r = 0; r < reps; r++)
        cudaMemcpyAsync(dst, src, n, cudaMemcpyHostToDevice, s);
    cudaEventRecord(b, s);
    cudaEventSynchronize(b);
    float ms = 0;
    cudaEventElapsedTime(&ms, a, b);
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return ms / reps;
}

typedef struct Cp {
    unsigned char *dst;
    const unsigned char *src;
    size_t n;
    int nt; /* htc_copy_nt (the GPU path's copy) instead of memcpy */
} Cp;

static void *cp_main(void *arg)
{
    Cp *c = (Cp *)arg;
    if (c->nt)
        htc_copy_nt(c->dst, c->src, c->n);
    else
        memcpy(c->dst, c->src, c->n);
    return NULL;
}

/* Several GPUs at once: each pulls `total` bytes from its own pinned host
 * buffer in DMAs of `piece` bytes on one stream, from a host thread of its
 * own (as the batch's device shares do). */
typedef struct Pull {
    int device;
    unsigned char *host, *dev;
    size_t total, piece;
    cudaStream_t s, more[3];   /* more: the extra streams of --multi's stream test */
    int ns;                    /* streams its DMAs take turns on (1: s alone) */
    int zero_copy;             /* a kernel reads the (mapped) host buffer instead of DMAs */
    double t0, ms;             /* its own time, from the common start */
    const unsigned char *shared; /* non-NULL: pulls from here instead, over wrap bytes again and again */
    size_t wrap;
    int churn;                 /* --busy: 0 none, else the CUDA blocks of a kernel copying device memory meanwhile */
    uint4 *c0, *c1;            /* its two buffers, cn uint4 each */
    size_t cn;
} Pull;

/* Device memory traffic: copies a buffer to another `passes` times. */
__global__ void k_churn(const uint4 *a, uint4 *b, size_t n, int passes)
{
    for (int r = 0; r < passes; r++)
        for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
            b[i] = a[i];
}

/* The GPU's SMs pull host memory themselves (zero copy), 16 bytes a load. */
__global__ void k_pull(const uint4 *src, uint4 *dst, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        dst[i] = src[i];
}

static void *pull_main(void *arg)
{
    Pull *p = (Pull *)arg;
    cudaSetDevice(p->device);
    if (p->zero_copy) {
        k_pull<<<132 * 4, 512, 0, p->s>>>((const uint4 *)p->host, (uint4 *)p->dev, p->total / 16);
        cudaStreamSynchronize(p->s);
        p->ms = now_ms() - p->t0;
        return NULL;
    }
    cudaEvent_t ea, eb;
    if (p->churn) {
        cudaEventCreate(&ea);
        cudaEventCreate(&eb);
        k_churn<<<p->churn, 512, 0, p->more[0]>>>(p->c0, p->c1, p->cn, 60);
        cudaEventRecord(ea, p->s);
    }
    size_t q = 0;
    for (size_t at = 0; at < p->total; at += p->piece, q++) {
        const size_t n = p->total - at < p->piece ? p->total - at : p->piece;
        const unsigned char *src = p->shared ? p->shared + at % p->wrap : p->host + at;
        const int k = p->ns > 1 ? (int)(q % (size_t)p->ns) : 0;
        cudaMemcpyAsync(p->dev + at, src, n, cudaMemcpyHostToDevice, k ? p->more[k - 1] : p->s);
    }
    if (p->churn) {
        /* the DMAs alone, on the device's clock; then the kernel's end */
        cudaEventRecord(eb, p->s);
        cudaEventSynchronize(eb);
        float ms = 0;
        cudaEventElapsedTime(&ms, ea, eb);
        p->ms = ms;
        cudaStreamSynchronize(p->more[0]);
        cudaEventDestroy(ea);
        cudaEventDestroy(eb);
        return NULL;
    }
    cudaStreamSynchronize(p->s);
    for (int k = 1; k < p->ns; k++)
        cudaStreamSynchronize(p->more[k - 1]);
    p->ms = now_ms() - p->t0;
    return NULL;
}

/* --hog S: every GPU pulls 64 MB DMAs from the host for S seconds, taking
 * a share of the link from whatever else runs then (a stand-in for more
 * GPUs pulling at once). */
static void *hog_main(void *arg)
{
    Pull *p = (Pull *)arg;
    cudaSetDevice(p->device);
    while (now_ms() - p->t0 < p->ms) {
        cudaMemcpyAsync(p->dev, p->host, p->total, cudaMemcpyHostToDevice, p->s);
        cudaStreamSynchronize(p->s);
    }
    return NULL;
}

static void hog_link(double seconds)
{
    int ngpu = 0;
    cudaGetDeviceCount(&ngpu);
    ngpu = ngpu > 16 ? 16 : ngpu;
    Pull p[16];
    pthread_t th[16];
    const double t0 = now_ms();
    for (int g = 0; g < ngpu; g++) {
        memset(&p[g], 0, sizeof(p[g]));
        cudaSetDevice(g);
        p[g].device = g;
        p[g].total = (size_t)64 << 20;
        p[g].t0 = t0;
        p[g].ms = seconds * 1e3;
        if (cudaHostAlloc((void **)&p[g].host, p[g].total, cudaHostAllocPortable) != cudaSuccess ||
            cudaMalloc(&p[g].dev, p[g].total) != cudaSuccess) {
            printf("hog: allocation failed\n");
            return;
        }
        cudaStreamCreateWithFlags(&p[g].s, cudaStreamNonBlocking);
        pthread_create(&th[g], NULL, hog_main, &p[g]);
    }
    for (int g = 0; g < ngpu; g++)
        pthread_join(th[g], NULL);
}

/* --busy: DMAs of 320 MB (64 MB each) on one GPU and on all at once, alone
 * and beside k_churn on the same GPU (all SMs, or 16 CUDA blocks). */
static void busy_gpu(void)
{
    int ngpu = 0;
    cudaGetDeviceCount(&ngpu);
    ngpu = ngpu > 16 ? 16 : ngpu;
    const size_t total = (size_t)320 << 20, cbytes = (size_t)512 << 20;
    Pull p[16];
    for (int g = 0; g < ngpu; g++) {
        memset(&p[g], 0, sizeof(p[g]));
        cudaSetDevice(g);
        p[g].device = g;
        p[g].ns = 1;
        p[g].cn = cbytes / 16;
        if (cudaHostAlloc((void **)&p[g].host, total, cudaHostAllocPortable) != cudaSuccess ||
            cudaMalloc(&p[g].dev, total) != cudaSuccess || cudaMalloc(&p[g].c0, cbytes) != cudaSuccess ||
            cudaMalloc(&p[g].c1, cbytes) != cudaSuccess) {
            printf("busy: allocation failed\n");
            return;
        }
        memset(p[g].host, 3, total);
        cudaMemset(p[g].c0, 1, cbytes);
        cudaStreamCreateWithFlags(&p[g].s, cudaStreamNonBlocking);
        cudaStreamCreateWithFlags(&p[g].more[0], cudaStreamNonBlocking);
        cudaDeviceSynchronize();
    }
    int sms = 132;
    cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
    const int churns[] = { 0, sms * 4, 16 };
    for (int n = 1; n <= ngpu; n = n < ngpu ? ngpu : ngpu + 1)
        for (size_t c = 0; c < sizeof(churns) / sizeof(churns[0]); c++) {
            double sum = 0;
            for (int r = 0; r < 3; r++) {
                pthread_t th[16];
                const double t0 = now_ms();
                for (int g = 0; g < n; g++) {
                    p[g].total = total;
                    p[g].piece = (size_t)64 << 20;
                    p[g].t0 = t0;
                    p[g].churn = churns[c] ? churns[c] : 0;
                    pthread_create(&th[g], NULL, pull_main, &p[g]);
                }
                for (int g = 0; g < n; g++)
                    pthread_join(th[g], NULL);
                if (r)
                    for (int g = 0; g < n; g++)
                        sum += total / p[g].ms / 1e6;
            }
            printf("H2D %d GPU(s) at once, 320 MB each in 64 MB DMAs, %s: %.1f GB/s a GPU (mean of 2 rounds)\n", n,
                   !churns[c] ? "alone" : c == 1 ? "beside a kernel copying device memory on every SM"
                                                 : "beside a kernel copying device memory on 16 CUDA blocks",
                   sum / (2.0 * n));
        }
    for (int g = 0; g < ngpu; g++) {
        cudaSetDevice(g);
        cudaFreeHost(p[g].host);
        cudaFree(p[g].dev);
        cudaFree(p[g].c0);
        cudaFree(p[g].c1);
        cudaStreamDestroy(p[g].s);
        cudaStreamDestroy(p[g].more[0]);
    }
    cudaSetDevice(0);
}

/* A host thread reading its own buffer until told to stop. */
typedef struct Load {
    unsigned char *buf;
    size_t n;
    int stop;
} Load;
static void *load_main(void *arg)
{
    Load *l = (Load *)arg;
    volatile unsigned long sink = 0;
    while (!__atomic_load_n(&l->stop, __ATOMIC_RELAXED)) {
        unsigned long s = 0;
        for (size_t i = 0; i < l->n; i += 64)
            s += l->buf[i];
        sink += s;
    }
    (void)sink;
    return NULL;
}

static void multi_gpu(void)
{
    int ngpu = 0;
    cudaGetDeviceCount(&ngpu);
    if (ngpu < 2)
        return;
    const size_t total = (size_t)320 << 20;
    Pull p[16];
    ngpu = ngpu > 16 ? 16 : ngpu;
    for (int g = 0; g < ngpu; g++) {
        cudaSetDevice(g);
        p[g].device = g;
        p[g].shared = NULL;
        p[g].ns = 1;
        p[g].zero_copy = 0;
        p[g].churn = 0;
        if (cudaHostAlloc((void **)&p[g].host, total, cudaHostAllocPortable | cudaHostAllocMapped) != cudaSuccess ||
            cudaMalloc(&p[g].dev, total) != cudaSuccess) {
            printf("multi-GPU: allocation failed\n");
            return;
        }
        memset(p[g].host, 3, total);
        cudaStreamCreateWithFlags(&p[g].s, cudaStreamNonBlocking);
        for (int k = 0; k < 3; k++)
            cudaStreamCreateWithFlags(&p[g].more[k], cudaStreamNonBlocking);
    }
    const size_t pieces[] = { (size_t)1 << 20, (size_t)4 << 20, (size_t)16 << 20, (size_t)64 << 20 };
    for (int n = 1; n <= ngpu; n *= 2)
        for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
            double best = 1e9;
            for (int r = 0; r < 3; r++) {
                pthread_t th[16];
                const double t0 = now_ms();
                for (int g = 0; g < n; g++) {
                    p[g].total = total;
                    p[g].piece = pieces[k];
                    p[g].t0 = t0;
                    pthread_create(&th[g], NULL, pull_main, &p[g]);
                }
                for (int g = 0; g < n; g++)
                    pthread_join(th[g], NULL);
                const double ms = now_ms() - t0;
                best = ms < best ? ms : best;
            }
            printf("H2D %d GPU(s) at once, 320 MB each in %zu MB DMAs: %.3f ms = %.1f GB/s a GPU, %.1f in all", n,
                   pieces[k] >> 20, best, total / best / 1e6, n * total / best / 1e6);
            /* each GPU's own rate in the last round: is one of them slower? */
            for (int g = 0; g < n && n > 1; g++)
                printf("%s%.1f", g ? ", " : " (each: ", total / p[g].ms / 1e6);
            printf("%s\n", n > 1 ? " GB/s)" : "");
        }
    /* All GPUs at once from one small pinned buffer (as a batch of frames
     * read from the same few files), 4 MB DMAs; then from their own
     * buffers while host threads stream through memory (as the plan's
     * threads do). */
    for (int mode = 0; mode < 2; mode++) {
        const size_t wrap = (size_t)8 << 20;
        Load ld[64];
        int nload = 0;
        if (mode == 1)
            for (; nload < 60; nload++) {
                ld[nload].stop = 0;
                ld[nload].n = (size_t)32 << 20;
                ld[nload].buf = (unsigned char *)malloc(ld[nload].n);
                memset(ld[nload].buf, 1, ld[nload].n);
            }
        pthread_t lt[64];
        for (int i = 0; i < nload; i++)
            pthread_create(&lt[i], NULL, load_main, &ld[i]);
        pthread_t th[16];
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            const double t0 = now_ms();
            for (int g = 0; g < ngpu; g++) {
                p[g].total = total;
                p[g].piece = (size_t)4 << 20;
                p[g].t0 = t0;
                p[g].shared = mode == 0 ? p[0].host : NULL;
                p[g].wrap = wrap;
                pthread_create(&th[g], NULL, pull_main, &p[g]);
            }
            for (int g = 0; g < ngpu; g++)
                pthread_join(th[g], NULL);
            const double ms = now_ms() - t0;
            best = ms < best ? ms : best;
        }
        for (int i = 0; i < nload; i++)
            __atomic_store_n(&ld[i].stop, 1, __ATOMIC_RELAXED);
        for (int i = 0; i < nload; i++) {
            pthread_join(lt[i], NULL);
            free(ld[i].buf);
        }
        printf("H2D %d GPUs at once, 4 MB DMAs, %s: %.1f GB/s a GPU, %.1f in all\n", ngpu,
               mode == 0 ? "all from one 8 MB pinned buffer" : "own buffers, 60 host threads reading memory",
               total / best / 1e6, ngpu * total / best / 1e6);
        for (int g = 0; g < ngpu; g++)
            p[g].shared = NULL;
    }
    /* All GPUs at once, each with its DMAs taking turns on 2 or 4 streams
     * (more copy engines, more reads in flight), or with a kernel pulling
     * the host buffer itself: does either get more from the host? */
    for (int mode = 2; mode <= 4; mode++) {
        double best = 1e9;
        for (int r = 0; r < 3; r++) {
            pthread_t th[16];
            const double t0 = now_ms();
            for (int g = 0; g < ngpu; g++) {
                p[g].total = total;
                p[g].piece = (size_t)16 << 20;
                p[g].t0 = t0;
                p[g].ns = mode == 2 ? 2 : mode == 3 ? 4 : 1;
                p[g].zero_copy = mode == 4;
                pthread_create(&th[g], NULL, pull_main, &p[g]);
            }
            for (int g = 0; g < ngpu; g++)
                pthread_join(th[g], NULL);
            const double ms = now_ms() - t0;
            best = ms < best ? ms : best;
        }
        const char *what = mode == 2 ? "16 MB DMAs over 2 streams a GPU" : mode == 3 ? "16 MB DMAs over 4 streams a GPU"
                                                                                  : "a kernel reading mapped host memory";
        printf("H2D %d GPUs at once, %s: %.1f GB/s a GPU, %.1f in all\n", ngpu, what, total / best / 1e6,
               ngpu * total / best / 1e6);
        if (mode == 4) { /* and one GPU alone */
            p[0].t0 = now_ms();
            pull_main(&p[0]);
            printf("H2D 1 GPU, a kernel reading mapped host memory: %.1f GB/s\n", total / p[0].ms / 1e6);
        }
    }
    for (int g = 0; g < ngpu; g++) {
        cudaSetDevice(g);
        for (int k = 0; k < 3; k++)
            cudaStreamDestroy(p[g].more[k]);
        cudaFreeHost(p[g].host);
        cudaFree(p[g].dev);
        cudaStreamDestroy(p[g].s);
    }
    cudaSetDevice(0);
}

typedef struct Dirty {
    unsigned char *dst;
    const unsigned char *src;
    size_t n;
    int mode; /* 1 plain stores, 2 non-temporal, 3 plain then written back */
} Dirty;

static void *dirty_main(void *arg)
{
    Dirty *d = (Dirty *)arg;
    if (d->mode == 2) {
        htc_copy_nt(d->dst, d->src, d->n);
    } else {
        memcpy(d->dst, d->src, d->n);
        if (d->mode == 3)
            htc_writeback(d->dst, d->n);
    }
    return NULL;
}

static void dirty_dma(void)
{
    const size_t max = (size_t)8 << 20;
    const int nt = 15, reps = 30;
    unsigned char *pin, *src, *dev;
    cudaStream_t s;
    if (cudaHostAlloc((void **)&pin, max, cudaHostAllocDefault) != cudaSuccess || cudaMalloc(&dev, max) ||
        cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking)) {
        printf("allocation failed\n");
        return;
    }
    src = (unsigned char *)malloc(max);
    memset(src, 3, max);
    memset(pin, 2, max);
    cudaEvent_t a, b;
    cudaEventCreate(&a);
    cudaEventCreate(&b);
    const char *names[] = { "clean (DMA'd before)", "just written, plain stores", "just written, non-temporal",
                            "plain stores written back" };
    const size_t sizes[] = { (size_t)3 << 18, max };
    for (size_t z = 0; z < 2; z++)
        for (int mode = 0; mode < 4; mode++) {
            const size_t n = sizes[z];
            double sum = 0;
            for (int r = 0; r < reps; r++) {
                if (mode) {
                    pthread_t th[16];
                    Dirty d[16];
                    const size_t part = (n / nt + 63) & ~(size_t)63;
                    int k = 0;
                    for (size_t at = 0; at < n; at += part, k++) {
                        d[k].dst = pin + at;
                        d[k].src = src + at;
                        d[k].n = at + part <= n ? part : n - at;
                        d[k].mode = mode;
                        pthread_create(&th[k], NULL, dirty_main, &d[k]);
                    }
                    while (k > 0)
                        pthread_join(th[--k], NULL);
                }
                cudaEventRecord(a, s);
                cudaMemcpyAsync(dev, pin, n, cudaMemcpyHostToDevice, s);
                cudaEventRecord(b, s);
                cudaEventSynchronize(b);
                float ms = 0;
                cudaEventElapsedTime(&ms, a, b);
                if (r > 0)
                    sum += ms;
            }
            const double ms = sum / (reps - 1);
            printf("H2D %.2f MB, %s: %.4f ms = %.1f GB/s\n", n / 1e6, names[mode], ms, n / ms / 1e6);
        }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    cudaStreamDestroy(s);
    cudaFreeHost(pin);
    cudaFree(dev);
    free(src);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--dirty")) {
        dirty_dma();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--multi")) {
        multi_gpu();
        return 0;
    }
    if (argc > 1 && !strcmp(argv[1], "--busy")) {
        busy_gpu();
        return 0;
    }
    if (argc > 2 && !strcmp(argv[1], "--hog")) {
        hog_link(atof(argv[2]));
        return 0;
    }
    const size_t max = (size_t)160 << 20;
    unsigned char *pin, *page, *dev, *dev2;
    if (cudaHostAlloc((void **)&pin, max, cudaHostAllocDefault) != cudaSuccess || cudaMalloc(&dev, max) ||
        cudaMalloc(&dev2, max)) {
        printf("allocation failed\n");
        return 1;
    }
    page = (unsigned char *)malloc(max);
    memset(page, 1, max);
    memset(pin, 2, max);
    cudaStream_t s[4];
    for (int i = 0; i < 4; i++)
        cudaStreamCreateWithFlags(&s[i], cudaStreamNonBlocking);
    const size_t sizes[] = { (size_t)256 << 10, (size_t)1 << 20, (size_t)7 << 20, (size_t)40 << 20,
                             (size_t)160 << 20 };
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        const size_t n = sizes[k];
        const float p = h2d_ms(dev, pin, n, s[0], 10);
        const float q = h2d_ms(dev, page, n, s[0], 3);
        printf("H2D %7.2f MB: pinned %.3f ms = %.1f GB/s; pageable %.3f ms = %.1f GB/s\n", n / 1e6, p, n / p / 1e6,
               q, n / q / 1e6);
    }
    // Two and four streams at once, 40 MB each split.
    for (int ns = 2; ns <= 4; ns *= 2) {
        const size_t n = (size_t)40 << 20, part = n / ns;
        cudaDeviceSynchronize();
        const double t0 = now_ms();
        for (int r = 0; r < 10; r++)
            for (int i = 0; i < ns; i++)
                cudaMemcpyAsync(dev + i * part, pin + i * part, part, cudaMemcpyHostToDevice, s[i]);
        cudaDeviceSynchronize();
        const double ms = (now_ms() - t0) / 10;
        printf("H2D 40 MB over %d streams: %.3f ms = %.1f GB/s\n", ns, ms, n / ms / 1e6);
    }
    {
        cudaEvent_t a, b;
        cudaEventCreate(&a);
        cudaEventCreate(&b);
        cudaEventRecord(a, s[0]);
        for (int r = 0; r < 10; r++)
            cudaMemcpyAsync(dev2, dev, (size_t)40 << 20, cudaMemcpyDeviceToDevice, s[0]);
        cudaEventRecord(b, s[0]);
        cudaEventSynchronize(b);
        float ms = 0;
        cudaEventElapsedTime(&ms, a, b);
        printf("D2D 40 MB: %.3f ms = %.1f GB/s\n", ms / 10, 40.0 * 1.048576 / (ms / 10));
    }
    for (int use_nt = 0; use_nt < 2; use_nt++)
    for (int nt = 1; nt <= 32; nt *= 2) {
        const size_t n = (size_t)40 << 20;
        pthread_t th[32];
        Cp c[32];
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
            const double t0 = now_ms();
            for (int i = 0; i < nt; i++) {
                c[i].dst = pin + n / nt * i;
                c[i].src = page + n / nt * i;
                c[i].n = n / nt;
                c[i].nt = use_nt;
                pthread_create(&th[i], NULL, cp_main, &c[i]);
            }
            for (int i = 0; i < nt; i++)
                pthread_join(th[i], NULL);
            const double ms = now_ms() - t0;
            if (ms < best)
                best = ms;
        }
        printf("host %s 40 MB into pinned, %2d threads: %.3f ms = %.1f GB/s\n", use_nt ? "htc_copy_nt" : "memcpy",
               nt, best, n / best / 1e6);
    }
    return 0;
}
