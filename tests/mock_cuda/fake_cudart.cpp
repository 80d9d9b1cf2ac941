/* tests/mock_cuda: a stand-in for the CUDA runtime, for checking the GPU
 * backend's host side (src/cuda/gpu_decode.cu: chunks, slots, streams,
 * events, pinned buffers, the plan threads) on a machine without a GPU.
 *
 * Device memory is host memory. Each stream is a host thread that runs its
 * operations in order, later than they were enqueued (as a GPU would), so a
 * host that reads a result before waiting for its event, or rewrites a
 * pinned buffer a copy still has to read, gets wrong bytes; events and
 * stream synchronisation wait for that thread. The kernels are emulated by
 * their C references: the code-block kernel by the CPU's HT block decoder
 * and the kernel's own dequantisation, the inverse DWT passes by the
 * strided line functions of gpu_dwt.cuh (k_idwt_v_scatter does the whole
 * vertical pass, as k_idwt_v does; k_idwt_v_step then does nothing), the
 * colour and output kernels by their code. It checks the plumbing, not the
 * kernels: bench/gpu on a real device checks those.
 *
 * FAKE_CUDA_DEVICES=N (default 1) sets the device count; FAKE_CUDA_DELAY_US
 * (default 200) delays each kernel, so the host runs ahead of the "GPU";
 * FAKE_CUDA_NOOP=1 makes kernels, memsets and copies to the device do
 * nothing, so that a run times the host side alone (outputs are garbage;
 * job statuses read back are 0).
 * tests/mock_cuda/run.sh builds and runs the GPU tests against it. */
#include <cuda.h>
#include <cuda_runtime.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <deque>

#ifndef __host__
#define __host__
#endif
#ifndef __device__
#define __device__
#endif
#include "cuda/gpu_dwt.cuh"
#include "cuda/gpu_kernels.cuh"
#include "cuda/gpu_jobs.cuh"

extern "C" {
#include "coding/block.h"
#include "internal.h"
}


enum Kind { K_UNKNOWN, K_HT, K_H, K_HSMEM, K_VSCATTER, K_VSTEP, K_V, K_MCT, K_CVT, K_T1, K_NOP, K_GATHER, K_V53, K_EXPAND };

struct Op {
    int type; /* 0 copy, 1 set, 2 kernel, 3 event, 4 wait for an event */
    void *dst;
    const void *src;
    size_t n;
    int value;
    Kind kind;
    uint64_t a[8];
    dim3 grid;
    struct CUevent_st *ev;
    uint64_t seq;
};

struct CUevent_st {
    uint64_t recorded, done;
};

struct CUstream_st {
    pthread_t th;
    std::deque<Op> q;
    int busy, quit;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
/* Filled by the registration constructors (before any C++ static could be). */
static struct {
    const void *fun;
    Kind kind;
} kernels[64];
static int num_kernels;

static Kind kernel_kind(const void *fun)
{
    for (int i = 0; i < num_kernels; i++)
        if (kernels[i].fun == fun)
            return kernels[i].kind;
    return K_UNKNOWN;
}
static __thread cudaError_t last_error;
static __thread dim3 cfg_grid, cfg_block;
static __thread size_t cfg_smem;
static __thread cudaStream_t cfg_stream;
static int delay_us = -1;
static __thread uint8_t *scratch; /* the HT decoder's, per stream thread */

static int devices(void)
{
    const char *e = getenv("FAKE_CUDA_DEVICES");
    return e ? atoi(e) : 1;
}

static void run_kernel(const Op &o)
{
    int delay = __atomic_load_n(&delay_us, __ATOMIC_RELAXED);
    if (delay < 0) {
        const char *e = getenv("FAKE_CUDA_DELAY_US");
        delay = e ? atoi(e) : 200;
        __atomic_store_n(&delay_us, delay, __ATOMIC_RELAXED);
    }
    if (delay)
        usleep((useconds_t)delay);
    switch (o.kind) {
    case K_NOP: /* k_ht_vlc, k_ht_warp: k_ht_blocks here decodes every HT block */
        break;
    case K_GATHER: {
        const GpuGather *ops = (const GpuGather *)o.a[0];
        const uint8_t *raw = (const uint8_t *)o.a[2];
        uint8_t *pool = (uint8_t *)o.a[3];
        for (uint32_t i = 0; i < (uint32_t)o.a[1]; i++) {
            memcpy(pool + ops[i].dst, raw + ops[i].src, ops[i].len);
            memset(pool + ops[i].dst + ops[i].len, 0, ops[i].pad);
        }
        break;
    }
    case K_EXPAND: {
        const GpuJobWire *wires = (const GpuJobWire *)o.a[0];
        const GpuBandDesc *bands = (const GpuBandDesc *)o.a[2];
        const GpuJob *full = (const GpuJob *)o.a[3];
        GpuJob *jobs = (GpuJob *)o.a[4];
        const uint8_t *raw = (const uint8_t *)o.a[5];
        uint8_t *pool = (uint8_t *)o.a[6];
        for (uint32_t i = 0; i < (uint32_t)o.a[1]; i++) {
            const GpuJobWire x = wires[i];
            if (!x.num_passes) {
                jobs[i] = full[x.src];
                continue;
            }
            const GpuBandDesc &b = bands[x.band];
            gpu_job_from_wire(x, b, &jobs[i]);
            const uint32_t len = x.len0 + x.len1;
            uint8_t *dst = pool + b.pool_base + x.dst;
            memcpy(dst, raw + b.raw_base + x.src, len);
            memset(dst + len, 0, gpu_block_bytes(len, HTC_BLOCK_PAD) - len);
        }
        break;
    }
    case K_HT:
    case K_T1: {
        const GpuJob *jobs = (const GpuJob *)o.a[0];
        const uint32_t n = (uint32_t)o.a[1];
        const uint8_t *pool = (const uint8_t *)o.a[2];
        int32_t *arena = (int32_t *)o.a[3];
        int *status = (int *)o.a[4];
        if (!scratch)
            scratch = (uint8_t *)malloc(HTC_BLOCK_SCRATCH_SIZE);
        for (uint32_t i = 0; i < n; i++) {
            const GpuJob j = jobs[i];
            if (!j.is_ht && o.kind == K_HT)
                continue; /* k_t1_blocks */
            if (j.is_ht && o.kind == K_T1)
                continue;
            static __thread HtcBlockParams bp;
            memset(&bp, 0, sizeof(bp));
            bp.data = pool + j.data_off;
            bp.num_segments = j.num_segs;
            for (uint32_t s = 0; s < j.num_segs; s++) {
                bp.seg_len[s] = j.seg_len[s];
                bp.seg_passes[s] = j.seg_passes[s];
            }
            bp.num_passes = j.num_passes;
            bp.zero_planes = j.zero_planes;
            bp.mb = j.mb;
            bp.width = j.w;
            bp.height = j.h;
            bp.cblk_style = j.cblk_style;
            bp.band = j.band;
            int32_t *out = arena + j.coef_off;
            uint32_t u = 0;
            const int rc = j.is_ht ? htc_ht_decode_block(&bp, out, j.stride, &u, scratch, HTC_BLOCK_SCRATCH_SIZE)
                                   : htc_t1_decode_block(&bp, out, j.stride, &u, scratch, HTC_BLOCK_SCRATCH_SIZE);
            status[i] = rc;
            if (rc < 0 && rc != HTC_ECORRUPT)
                continue;
            if (u & HTC_UNDECODED_HALVES) {
                const float half_delta = 0.5f * j.delta;
                for (uint32_t y = 0; y < j.h; y++)
                    for (uint32_t x = 0; x < j.w; x++) {
                        int32_t *p = out + (size_t)y * j.stride + x;
                        if (j.reversible) {
                            *p = *p / 2;
                        } else {
                            const float f = (float)*p * half_delta;
                            memcpy(p, &f, 4);
                        }
                    }
                continue;
            }
            if (u > 31)
                u = 31;
            if (j.reversible) {
                if (!u)
                    continue;
                const uint32_t half = 1u << (u - 1);
                for (uint32_t y = 0; y < j.h; y++)
                    for (uint32_t x = 0; x < j.w; x++) {
                        int32_t *p = out + (size_t)y * j.stride + x;
                        const int32_t q = *p;
                        const uint32_t m = q < 0 ? 0u - (uint32_t)q : (uint32_t)q;
                        const uint32_t v = m + (q ? half : 0u);
                        *p = (int32_t)(q < 0 ? 0u - v : v);
                    }
            } else {
                const float r = (float)(1ull << u) * 0.5f;
                for (uint32_t y = 0; y < j.h; y++)
                    for (uint32_t x = 0; x < j.w; x++) {
                        int32_t *p = out + (size_t)y * j.stride + x;
                        const int32_t q = *p;
                        const int32_t m = q < 0 ? (int32_t)(0u - (uint32_t)q) : q;
                        const float a = (float)m + r;
                        const float v = a * j.delta;
                        const float f = q == 0 ? 0.0f : q < 0 ? -v : v;
                        memcpy(p, &f, 4);
                    }
            }
        }
        break;
    }
    case K_H:
    case K_HSMEM: {
        const GpuDwtDesc *ds = (const GpuDwtDesc *)o.a[0];
        int32_t *buf = (int32_t *)o.a[1], *tmp = (int32_t *)o.a[2];
        for (uint32_t k = 0; k < o.grid.y; k++) {
            const GpuDwtDesc d = ds[k];
            if (d.w == 0)
                continue;
            for (uint32_t y = 0; y < d.h; y++) {
                const size_t off = d.off + (size_t)y * d.stride;
                if (d.is97)
                    gpu_idwt97_line((const float *)buf + off, 1, (float *)tmp + off, 1, d.w, d.xodd);
                else
                    gpu_idwt53_line(buf + off, 1, tmp + off, 1, d.w, d.xodd);
            }
        }
        break;
    }
    case K_VSCATTER:
    case K_V: {
        const GpuDwtDesc *ds = (const GpuDwtDesc *)o.a[0];
        int32_t *buf = (int32_t *)o.a[1], *tmp = (int32_t *)o.a[2];
        const uint32_t cnt = o.kind == K_V ? o.grid.y : o.grid.z;
        for (uint32_t k = 0; k < cnt; k++) {
            const GpuDwtDesc d = ds[k];
            if (d.h == 0)
                continue;
            for (uint32_t x = 0; x < d.w; x++) {
                const size_t off = d.off + x;
                if (d.is97)
                    gpu_idwt97_line((const float *)tmp + off, d.stride, (float *)buf + off, d.stride, d.h, d.yodd);
                else
                    gpu_idwt53_line(tmp + off, d.stride, buf + off, d.stride, d.h, d.yodd);
            }
        }
        break;
    }
    case K_V53: {
        /* the vertical pass; a last level with d.cvt then writes its plane */
        const GpuDwtDesc *ds = (const GpuDwtDesc *)o.a[0];
        int32_t *buf = (int32_t *)o.a[1], *tmp = (int32_t *)o.a[2];
        const GpuCvtDesc *cvts = (const GpuCvtDesc *)o.a[3];
        for (uint32_t k = 0; k < o.grid.z; k++) {
            const GpuDwtDesc d = ds[k];
            if (d.h == 0 || d.is97)
                continue;
            for (uint32_t x = 0; x < d.w; x++)
                gpu_idwt53_line(tmp + d.off + x, d.stride, buf + d.off + x, d.stride, d.h, d.yodd);
            if (d.cvt)
                for (uint32_t y = 0; y < d.h; y++)
                    for (uint32_t x = 0; x < d.w; x++)
                        gpu_cvt_put_int(cvts[d.cvt - 1], x, y, buf[d.off + (size_t)y * d.stride + x]);
        }
        break;
    }
    case K_VSTEP:
        break;
    case K_MCT: {
        const GpuMctDesc *ds = (const GpuMctDesc *)o.a[0];
        int32_t *arena = (int32_t *)o.a[1];
        for (uint32_t k = 0; k < o.grid.y; k++) {
            const GpuMctDesc d = ds[k];
            for (size_t i = 0; i < (size_t)d.w * d.h; i++) {
                const size_t off = (i / d.w) * d.stride + i % d.w;
                int32_t *c0 = arena + d.off[0] + off, *c1 = arena + d.off[1] + off, *c2 = arena + d.off[2] + off;
                if (d.is_float) {
                    float y0, y1, y2;
                    memcpy(&y0, c0, 4);
                    memcpy(&y1, c1, 4);
                    memcpy(&y2, c2, 4);
                    const float r2 = 1.402f * y2, g1 = 0.34413f * y1, g2 = 0.71414f * y2, b1 = 1.772f * y1;
                    const float g = y0 - g1;
                    const float o0 = y0 + r2, o1 = g - g2, o2 = y0 + b1;
                    memcpy(c0, &o0, 4);
                    memcpy(c1, &o1, 4);
                    memcpy(c2, &o2, 4);
                } else {
                    const int32_t y0 = *c0, y1 = *c1, y2 = *c2;
                    const int32_t i1 = gpu_sub(y0, gpu_add(y2, y1) >> 2);
                    *c0 = gpu_add(y2, i1);
                    *c1 = i1;
                    *c2 = gpu_add(y1, i1);
                }
            }
        }
        break;
    }
    case K_CVT: {
        const GpuCvtDesc *ds = (const GpuCvtDesc *)o.a[0];
        const int32_t *arena = (const int32_t *)o.a[1];
        for (uint32_t k = 0; k < o.grid.y; k++) {
            const GpuCvtDesc d = ds[k];
            if (d.fused)
                continue;
            for (size_t i = 0; i < (size_t)d.w * d.h; i++) {
                const uint32_t y = (uint32_t)(i / d.w), x = (uint32_t)(i % d.w);
                const size_t so = d.src_off + (size_t)y * d.src_stride + x;
                int64_t v;
                if (d.is_float) {
                    float f;
                    memcpy(&f, arena + so, 4);
                    float c = f > d.flo ? f : d.flo;
                    c = c < d.fhi ? c : d.fhi;
                    v = (int64_t)nearbyintf(c);
                } else {
                    const int32_t s = arena[so];
                    v = s < d.lo ? d.lo : s > d.hi ? d.hi : s;
                }
                gpu_cvt_store(d, x, y, v);
            }
        }
        break;
    }
    default:
        fprintf(stderr, "fake_cudart: launch of an unknown kernel\n");
        abort();
    }
}

static int noop(void)
{
    static int cached = -1;
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        v = getenv("FAKE_CUDA_NOOP") != NULL;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

static void *stream_main(void *arg)
{
    CUstream_st *s = (CUstream_st *)arg;
    pthread_mutex_lock(&mu);
    for (;;) {
        while (!s->quit && s->q.empty())
            pthread_cond_wait(&cv, &mu);
        if (s->q.empty() && s->quit)
            break;
        Op o = s->q.front();
        s->q.pop_front();
        s->busy = 1;
        if (o.type == 4) { /* the event's record as of the wait call */
            while (o.ev->done < o.seq)
                pthread_cond_wait(&cv, &mu);
            s->busy = 0;
            pthread_cond_broadcast(&cv);
            continue;
        }
        pthread_mutex_unlock(&mu);
        if (noop() && (o.type != 0 || o.value == cudaMemcpyHostToDevice))
            ;
        else if (o.type == 0)
            memcpy(o.dst, o.src, o.n);
        else if (o.type == 1)
            memset(o.dst, o.value, o.n);
        else if (o.type == 2)
            run_kernel(o);
        pthread_mutex_lock(&mu);
        if (o.type == 3 && o.ev->done < o.seq)
            o.ev->done = o.seq;
        s->busy = 0;
        pthread_cond_broadcast(&cv);
    }
    pthread_mutex_unlock(&mu);
    free(scratch);
    scratch = NULL;
    return NULL;
}

static cudaError_t enqueue(cudaStream_t s, const Op &o)
{
    if (!s) { /* the legacy stream: at once */
        if (o.type == 0)
            memcpy(o.dst, o.src, o.n);
        else if (o.type == 1)
            memset(o.dst, o.value, o.n);
        else if (o.type == 2)
            run_kernel(o);
        else if (o.type == 3) {
            pthread_mutex_lock(&mu);
            o.ev->done = o.seq;
            pthread_mutex_unlock(&mu);
        } else if (o.type == 4) {
            pthread_mutex_lock(&mu);
            while (o.ev->done < o.seq)
                pthread_cond_wait(&cv, &mu);
            pthread_mutex_unlock(&mu);
        }
        return cudaSuccess;
    }
    pthread_mutex_lock(&mu);
    s->q.push_back(o);
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}

static Op op0(int type)
{
    Op o = Op();
    o.type = type;
    return o;
}

extern "C" {

void **__cudaRegisterFatBinary(void *fat)
{
    static void *h = NULL;
    (void)fat;
    return &h;
}
void __cudaRegisterFatBinaryEnd(void **h) { (void)h; }
void __cudaUnregisterFatBinary(void **h) { (void)h; }
void __cudaRegisterVar(void **h, char *hostVar, char *devAddr, const char *name, int ext, size_t size, int constant,
                       int global)
{
    (void)h, (void)hostVar, (void)devAddr, (void)name, (void)ext, (void)size, (void)constant, (void)global;
}
void __cudaRegisterFunction(void **h, const char *hostFun, char *devFun, const char *name, int tl, uint3 *tid,
                            uint3 *bid, dim3 *bDim, dim3 *gDim, int *wSize)
{
    (void)h, (void)devFun, (void)tl, (void)tid, (void)bid, (void)bDim, (void)gDim, (void)wSize;
    Kind k = K_UNKNOWN;
    if (strstr(name, "11k_ht_blocks"))
        k = K_HT;
    else if (strstr(name, "11k_t1_blocks") || strstr(name, "16k_t1_blocks_smem"))
        k = K_T1;
    else if (strstr(name, "8k_ht_vlc") || strstr(name, "9k_ht_warp"))
        k = K_NOP;
    else if (strstr(name, "13k_idwt_h_warp"))
        k = K_HSMEM;
    else if (strstr(name, "10k_idwt_v53"))
        k = K_V53;
    else if (strstr(name, "13k_idwt_h_smem"))
        k = K_HSMEM;
    else if (strstr(name, "8k_idwt_h"))
        k = K_H;
    else if (strstr(name, "16k_idwt_v_scatter"))
        k = K_VSCATTER;
    else if (strstr(name, "13k_idwt_v_step"))
        k = K_VSTEP;
    else if (strstr(name, "8k_idwt_v"))
        k = K_V;
    else if (strstr(name, "5k_mct"))
        k = K_MCT;
    else if (strstr(name, "9k_convert"))
        k = K_CVT;
    else if (strstr(name, "8k_gather"))
        k = K_GATHER;
    else if (strstr(name, "8k_expand"))
        k = K_EXPAND;
    if (num_kernels < 64) {
        kernels[num_kernels].fun = hostFun;
        kernels[num_kernels].kind = k;
        num_kernels++;
    }
}
cudaError_t __cudaGetKernel(cudaKernel_t *k, const void *fun)
{
    *k = (cudaKernel_t)fun;
    return cudaSuccess;
}
unsigned __cudaPushCallConfiguration(dim3 grid, dim3 block, size_t smem, struct CUstream_st *stream)
{
    cfg_grid = grid;
    cfg_block = block;
    cfg_smem = smem;
    cfg_stream = stream;
    return 0;
}
cudaError_t __cudaPopCallConfiguration(dim3 *grid, dim3 *block, size_t *smem, void *stream)
{
    *grid = cfg_grid;
    *block = cfg_block;
    *smem = cfg_smem;
    *(cudaStream_t *)stream = cfg_stream;
    return cudaSuccess;
}
cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 grid, dim3 block, void **args, size_t smem,
                               cudaStream_t stream)
{
    (void)block, (void)smem;
    Op o = op0(2);
    o.kind = kernel_kind((const void *)kernel);
    o.grid = grid;
    /* Arguments by value now, as a launch does. */
    static const int sizes[][8] = {
        { 0 },                         /* unknown */
        { 8, 4, 8, 8, 8, 8, 8, 4 },    /* k_ht_blocks */
        { 8, 8, 8, 0 },                /* k_idwt_h */
        { 8, 8, 8, 0 },                /* k_idwt_h_smem */
        { 8, 8, 8, 0 },                /* k_idwt_v_scatter */
        { 8, 8, 4, 0 },                /* k_idwt_v_step */
        { 8, 8, 8, 0 },                /* k_idwt_v */
        { 8, 8, 0 },                   /* k_mct */
        { 8, 8, 0 },                   /* k_convert */
        { 8, 4, 8, 8, 8, 8, 8, 0 },    /* k_t1_blocks */
        { 0 },                         /* k_ht_vlc, k_ht_warp */
        { 8, 4, 8, 8, 0 },             /* k_gather */
        { 8, 8, 8, 8, 0 },             /* k_idwt_v53 */
        { 8, 4, 8, 8, 8, 8, 8, 0 },    /* k_expand */
    };
    for (int i = 0; i < 8 && sizes[o.kind][i]; i++) {
        uint64_t v = 0;
        memcpy(&v, args[i], (size_t)sizes[o.kind][i]);
        o.a[i] = v;
    }
    return enqueue(stream, o);
}

cudaError_t cudaGetDeviceCount(int *n)
{
    *n = devices();
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int id)
{
    (void)id;
    memset(p, 0, sizeof(*p));
    snprintf(p->name, sizeof(p->name), "fake CUDA device");
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int *v, cudaDeviceAttr a, int id)
{
    (void)id;
    *v = a == cudaDevAttrMultiProcessorCount ? 2 : 0;
    return cudaSuccess;
}
cudaError_t cudaFuncSetAttribute(const void *f, cudaFuncAttribute a, int v)
{
    (void)f, (void)a, (void)v;
    return cudaSuccess;
}
/* The calling thread's device: cudaMalloc records it for
 * cudaPointerGetAttributes (the library routes items by their buffers). */
static thread_local int current_device;
cudaError_t cudaSetDevice(int id)
{
    if (id < 0 || id >= devices())
        return cudaErrorInvalidDevice;
    current_device = id;
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int *id)
{
    *id = current_device;
    return cudaSuccess;
}
cudaError_t cudaGetLastError(void)
{
    const cudaError_t e = last_error;
    last_error = cudaSuccess;
    return e;
}
const char *cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "fake CUDA error"; }
/* Device allocations: start, size, device. */
struct DevAlloc {
    uintptr_t at;
    size_t n;
    int device;
};
static std::deque<DevAlloc> dev_allocs;
cudaError_t cudaMalloc(void **p, size_t n)
{
    *p = calloc(1, n ? n : 1);
    if (!*p)
        return cudaErrorMemoryAllocation;
    pthread_mutex_lock(&mu);
    dev_allocs.push_back(DevAlloc{ (uintptr_t)*p, n ? n : 1, current_device });
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}
cudaError_t cudaFree(void *p)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < dev_allocs.size(); i++)
        if (dev_allocs[i].at == (uintptr_t)p) {
            dev_allocs.erase(dev_allocs.begin() + (ptrdiff_t)i);
            break;
        }
    pthread_mutex_unlock(&mu);
    free(p);
    return cudaSuccess;
}
/* Pinned allocations, for cudaPointerGetAttributes (the library sends
 * pinned caller bytes without copying them). */
static std::deque<std::pair<uintptr_t, size_t>> pinned;
cudaError_t cudaHostAlloc(void **p, size_t n, unsigned flags)
{
    (void)flags;
    *p = malloc(n ? n : 1);
    if (!*p)
        return cudaErrorMemoryAllocation;
    pthread_mutex_lock(&mu);
    pinned.push_back(std::make_pair((uintptr_t)*p, n ? n : 1));
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}
cudaError_t cudaFreeHost(void *p)
{
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < pinned.size(); i++)
        if (pinned[i].first == (uintptr_t)p) {
            pinned.erase(pinned.begin() + (ptrdiff_t)i);
            break;
        }
    pthread_mutex_unlock(&mu);
    free(p);
    return cudaSuccess;
}
cudaError_t cudaPointerGetAttributes(cudaPointerAttributes *a, const void *p)
{
    memset(a, 0, sizeof(*a));
    a->type = cudaMemoryTypeUnregistered;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < pinned.size(); i++)
        if ((uintptr_t)p - pinned[i].first < pinned[i].second) {
            a->type = cudaMemoryTypeHost;
            a->hostPointer = (void *)p;
            break;
        }
    for (size_t i = 0; i < dev_allocs.size() && a->type == cudaMemoryTypeUnregistered; i++)
        if ((uintptr_t)p - dev_allocs[i].at < dev_allocs[i].n) {
            a->type = cudaMemoryTypeDevice;
            a->device = dev_allocs[i].device;
            a->devicePointer = (void *)p;
        }
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}
/* The driver's pointer query, as the library looks it up: memory type,
 * managed or not, device, and the allocation's range. FAKE_CUDA_QUERIES=1
 * prints how many were made, at exit. */
static unsigned long pointer_queries;
static void print_queries(void) { fprintf(stderr, "fake CUDA: %lu pointer queries\n", pointer_queries); }
static CUresult fake_pointer_attributes(unsigned int n, CUpointer_attribute *at, void **data, CUdeviceptr ptr)
{
    unsigned type = 0, managed = 0;
    int ordinal = -2;
    uintptr_t start = 0;
    size_t size = 0;
    const uintptr_t p = (uintptr_t)ptr;
    pthread_mutex_lock(&mu);
    pointer_queries++;
    for (size_t i = 0; i < pinned.size() && !type; i++)
        if (p - pinned[i].first < pinned[i].second) {
            type = CU_MEMORYTYPE_HOST;
            start = pinned[i].first;
            size = pinned[i].second;
        }
    for (size_t i = 0; i < dev_allocs.size() && !type; i++)
        if (p - dev_allocs[i].at < dev_allocs[i].n) {
            type = CU_MEMORYTYPE_DEVICE;
            ordinal = dev_allocs[i].device;
            start = dev_allocs[i].at;
            size = dev_allocs[i].n;
        }
    pthread_mutex_unlock(&mu);
    for (unsigned int i = 0; i < n; i++) {
        switch (at[i]) {
        case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *(CUdeviceptr *)data[i] = start; break;
        case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *(size_t *)data[i] = size; break;
        case CU_POINTER_ATTRIBUTE_MEMORY_TYPE: *(unsigned *)data[i] = type; break;
        case CU_POINTER_ATTRIBUTE_IS_MANAGED: *(unsigned *)data[i] = managed; break;
        case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: *(int *)data[i] = ordinal; break;
        default: return CUDA_ERROR_INVALID_VALUE;
        }
    }
    return CUDA_SUCCESS;
}
cudaError_t cudaGetDriverEntryPointByVersion(const char *symbol, void **fn, unsigned int version,
                                             unsigned long long flags, cudaDriverEntryPointQueryResult *status)
{
    (void)version, (void)flags;
    static int registered;
    if (getenv("FAKE_CUDA_QUERIES") && !__atomic_exchange_n(&registered, 1, __ATOMIC_RELAXED))
        atexit(print_queries);
    *fn = strcmp(symbol, "cuPointerGetAttributes") ? NULL : (void *)fake_pointer_attributes;
    if (status)
        *status = *fn ? cudaDriverEntryPointSuccess : cudaDriverEntryPointSymbolNotFound;
    return cudaSuccess;
}
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, cudaMemcpyKind k)
{
    (void)k;
    memcpy(dst, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyToSymbol(const void *sym, const void *src, size_t n, size_t off, cudaMemcpyKind k)
{
    (void)sym, (void)src, (void)n, (void)off, (void)k;
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, cudaMemcpyKind k, cudaStream_t s)
{
    Op o = op0(0);
    o.value = (int)k;
    o.dst = dst;
    o.src = src;
    o.n = n;
    return enqueue(s, o);
}
cudaError_t cudaMemsetAsync(void *dst, int v, size_t n, cudaStream_t s)
{
    Op o = op0(1);
    o.dst = dst;
    o.value = v;
    o.n = n;
    return enqueue(s, o);
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *ps, unsigned flags)
{
    (void)flags;
    CUstream_st *s = new CUstream_st();
    s->busy = s->quit = 0;
    if (pthread_create(&s->th, NULL, stream_main, s) != 0) {
        delete s;
        return cudaErrorMemoryAllocation;
    }
    *ps = s;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    if (!s)
        return cudaSuccess;
    pthread_mutex_lock(&mu);
    while (!s->q.empty() || s->busy)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    if (!s)
        return cudaSuccess;
    cudaStreamSynchronize(s);
    pthread_mutex_lock(&mu);
    s->quit = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
    pthread_join(s->th, NULL);
    delete s;
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; } /* callers here sync their own streams */
cudaError_t cudaEventCreate(cudaEvent_t *e)
{
    *e = new CUevent_st();
    (*e)->recorded = (*e)->done = 0;
    return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
    (void)flags;
    return cudaEventCreate(e);
}
cudaError_t cudaEventDestroy(cudaEvent_t e)
{
    delete e;
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s)
{
    Op o = op0(3);
    pthread_mutex_lock(&mu);
    o.seq = ++e->recorded;
    pthread_mutex_unlock(&mu);
    o.ev = e;
    return enqueue(s, o);
}
cudaError_t cudaStreamWaitEvent(cudaStream_t s, cudaEvent_t e, unsigned flags)
{
    (void)flags;
    Op o = op0(4);
    pthread_mutex_lock(&mu);
    o.seq = e->recorded;
    pthread_mutex_unlock(&mu);
    o.ev = e;
    return enqueue(s, o);
}
cudaError_t cudaEventSynchronize(cudaEvent_t e)
{
    pthread_mutex_lock(&mu);
    while (e->done < e->recorded)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    return cudaSuccess;
}
cudaError_t cudaEventElapsedTime(float *ms, cudaEvent_t a, cudaEvent_t b)
{
    (void)a, (void)b;
    *ms = 0.001f;
    return cudaSuccess;
}

} /* extern "C" */
