/* htcodec: the GPU backend. Host side: every item of a batch is parsed and
 * run through tier 2 on the CPU; its HT code-blocks' bytes go into one
 * pinned pool and its jobs into one table. Device side, per batch: one
 * launch decodes every code-block (the CPU's HT decoder compiled for the
 * GPU, one thread a block) and dequantises, one pair of launches per DWT
 * level undoes that level for every tile-component of the batch, one
 * launch applies the colour transforms and one writes the output type and
 * layout. Items the GPU cannot take (Part 1 code-blocks, regions of
 * interest) are decoded by the CPU path and copied up. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>

extern "C" {
#include "decode.h"
#include "transform/transform.h"
#include "cuda/gpu.h"
}

#include "cuda/gpu_dwt.cuh"
#include "cuda/gpu_ht.cuh"
#include "cuda/gpu_kernels.cuh"

#define GPU_MAX_SEGS 4
/* Threads a CUDA block for the code-block kernel, and the blocks an SM
 * should hold (0: let the compiler choose registers); bench/gpu_variants
 * builds other values to compare. */
#ifndef GPU_THREADS
#define GPU_THREADS 128
#endif
#ifndef GPU_MIN_BLOCKS
#define GPU_MIN_BLOCKS 0
#endif
#if GPU_MIN_BLOCKS
#define GPU_HT_BOUNDS __launch_bounds__(GPU_THREADS, GPU_MIN_BLOCKS)
#else
#define GPU_HT_BOUNDS __launch_bounds__(GPU_THREADS)
#endif

/* One HT code-block for the device. */
typedef struct GpuJob {
    uint64_t data_off;         /* its segments in the pool, HTC_BLOCK_PAD zero bytes after */
    uint64_t coef_off;         /* its top-left sample in the arena (elements) */
    uint32_t stride;           /* elements per row of its tile-component */
    uint16_t w, h;
    uint32_t num_passes, cblk_style;
    uint32_t seg_len[GPU_MAX_SEGS];
    uint8_t seg_passes[GPU_MAX_SEGS];
    uint8_t num_segs, reversible, mb, zero_planes;
    uint8_t band, pad[3];
    float delta;
} GpuJob;

#include "cuda/gpu_ht_warp.cuh"

/* ---- kernels ------------------------------------------------------------ */

__global__ void GPU_HT_BOUNDS k_ht_blocks(const GpuJob *jobs, uint32_t n, const uint8_t *pool, int32_t *arena,
                            int *status, uint8_t *scratch, size_t scratch_size, int others_only)
{
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const GpuJob j = jobs[i];
    if (others_only) { /* the blocks k_ht_vlc + k_ht_warp do not take */
        uint32_t off, lcup, scup, plane;
        if (htw_plan(&j, pool + j.data_off, &off, &lcup, &scup, &plane) == 0)
            return;
    }
    HtcBlockParams bp;
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
    bp.roi_shift = 0;
    int32_t *out = arena + j.coef_off;
    uint32_t u = 0;
    const int rc = gpu_ht_decode_block(&bp, out, j.stride, &u, scratch + (size_t)i * scratch_size,
                                       scratch_size);
    status[i] = rc;
    if (rc < 0 && rc != HTC_ECORRUPT)
        return;
    if (u > 31)
        u = 31;
    /* Dequantisation in place, as htc_dequant_rev / htc_dequant_irr. */
    if (j.reversible) {
        if (!u)
            return;
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
        const float r = GPU_FMUL((float)(1ull << u), 0.5f);
        for (uint32_t y = 0; y < j.h; y++)
            for (uint32_t x = 0; x < j.w; x++) {
                int32_t *p = out + (size_t)y * j.stride + x;
                const int32_t q = *p;
                const int32_t m = q < 0 ? (int32_t)(0u - (uint32_t)q) : q;
                const float a = GPU_FADD((float)m, r);
                const float v = GPU_FMUL(a, j.delta);
                const float f = q == 0 ? 0.0f : q < 0 ? -v : v;
                *(float *)p = f;
            }
    }
}

/* HOR_SR of one level: rows of buf (low then high) into tmp, interleaved. */
__global__ void k_idwt_h(const GpuDwtDesc *descs, int32_t *buf, int32_t *tmp)
{
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t y = blockIdx.x * blockDim.x + threadIdx.x;
    if (y >= d.h || d.w == 0)
        return;
    const size_t o = d.off + (size_t)y * d.stride;
    if (d.is97)
        gpu_idwt97_line((const float *)buf + o, 1, (float *)tmp + o, 1, d.w, d.xodd);
    else
        gpu_idwt53_line(buf + o, 1, tmp + o, 1, d.w, d.xodd);
}

/* HOR_SR of one level, one CUDA block a row, the row in shared memory:
 * each lifting step updates one parity from the other, so its positions run
 * in parallel and give the sequential C code's values exactly. */
#define GPU_ROW_MAX 6144

__global__ void k_idwt_h_smem(const GpuDwtDesc *descs, const int32_t *buf, int32_t *tmp)
{
    __shared__ int32_t row[GPU_ROW_MAX];
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t y = blockIdx.x;
    const uint32_t n = d.w;
    if (y >= d.h || n == 0 || n > GPU_ROW_MAX)
        return;
    const size_t o = d.off + (size_t)y * d.stride;
    const int odd = d.xodd;
    if (n == 1) {
        if (threadIdx.x == 0) {
            if (d.is97)
                ((float *)tmp)[o] = odd ? GPU_FMUL(((const float *)buf)[o], 0.5f) : ((const float *)buf)[o];
            else
                tmp[o] = odd ? buf[o] / 2 : buf[o];
        }
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    float *frow = (float *)row;
    /* Deinterleaved in, interleaved in shared memory (9/7: scaled). */
    for (uint32_t k = threadIdx.x; k < n; k += blockDim.x) {
        const uint32_t pos = k < nl ? lo0 + 2 * k : hi0 + 2 * (k - nl);
        if (d.is97) {
            const float v = ((const float *)buf)[o + k];
            frow[pos] = GPU_FMUL(v, k < nl ? HTC_DWT97_K : HTC_DWT97_INV_K);
        } else {
            row[pos] = buf[o + k];
        }
    }
    __syncthreads();
    if (d.is97) {
        const float c[4] = { HTC_DWT97_DELTA, HTC_DWT97_GAMMA, HTC_DWT97_BETA, HTC_DWT97_ALPHA };
        for (int step = 0; step < 4; step++) {
            const uint32_t first = (step & 1) ? hi0 : lo0;
            for (uint32_t i = first + 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
                const float l = frow[i ? i - 1 : 1];
                const float r = frow[i + 1 < n ? i + 1 : i - 1];
                const float sm = GPU_FADD(l, r);
                const float pr = GPU_FMUL(sm, c[step]);
                frow[i] = GPU_FSUB(frow[i], pr);
            }
            __syncthreads();
        }
    } else {
        for (uint32_t i = lo0 + 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
            const int32_t hm = row[i ? i - 1 : i + 1], hp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_sub(row[i], gpu_add(gpu_add(hm, hp), 2) >> 2);
        }
        __syncthreads();
        for (uint32_t i = hi0 + 2 * threadIdx.x; i < n; i += 2 * blockDim.x) {
            const int32_t lm = row[i ? i - 1 : i + 1], lp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_add(row[i], gpu_add(lm, lp) >> 1);
        }
        __syncthreads();
    }
    for (uint32_t k = threadIdx.x; k < n; k += blockDim.x)
        tmp[o + k] = row[k];
}

/* HOR_SR as k_idwt_h_smem for rows of up to GPU_ROWW_MAX samples, a warp a
 * row and four rows a CUDA block (a CT slice's 512 rows make 128 blocks,
 * not 512). */
#define GPU_ROWW_MAX 1536

__global__ void __launch_bounds__(128) k_idwt_h_warp(const GpuDwtDesc *descs, const int32_t *buf, int32_t *tmp)
{
    __shared__ int32_t rows[4][GPU_ROWW_MAX];
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const uint32_t y = blockIdx.x * 4 + wid;
    const uint32_t n = d.w;
    if (y >= d.h || n == 0 || n > GPU_ROWW_MAX)
        return;
    int32_t *row = rows[wid];
    const size_t o = d.off + (size_t)y * d.stride;
    const int odd = d.xodd;
    if (n == 1) {
        if (lane == 0) {
            if (d.is97)
                ((float *)tmp)[o] = odd ? GPU_FMUL(((const float *)buf)[o], 0.5f) : ((const float *)buf)[o];
            else
                tmp[o] = odd ? buf[o] / 2 : buf[o];
        }
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    float *frow = (float *)row;
    for (uint32_t k = lane; k < n; k += 32) {
        const uint32_t pos = k < nl ? lo0 + 2 * k : hi0 + 2 * (k - nl);
        if (d.is97) {
            const float v = ((const float *)buf)[o + k];
            frow[pos] = GPU_FMUL(v, k < nl ? HTC_DWT97_K : HTC_DWT97_INV_K);
        } else {
            row[pos] = buf[o + k];
        }
    }
    __syncwarp();
    if (d.is97) {
        const float c[4] = { HTC_DWT97_DELTA, HTC_DWT97_GAMMA, HTC_DWT97_BETA, HTC_DWT97_ALPHA };
        for (int step = 0; step < 4; step++) {
            const uint32_t first = (step & 1) ? hi0 : lo0;
            for (uint32_t i = first + 2 * lane; i < n; i += 64) {
                const float l = frow[i ? i - 1 : 1];
                const float r = frow[i + 1 < n ? i + 1 : i - 1];
                const float sm = GPU_FADD(l, r);
                const float pr = GPU_FMUL(sm, c[step]);
                frow[i] = GPU_FSUB(frow[i], pr);
            }
            __syncwarp();
        }
    } else {
        for (uint32_t i = lo0 + 2 * lane; i < n; i += 64) {
            const int32_t hm = row[i ? i - 1 : i + 1], hp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_sub(row[i], gpu_add(gpu_add(hm, hp), 2) >> 2);
        }
        __syncwarp();
        for (uint32_t i = hi0 + 2 * lane; i < n; i += 64) {
            const int32_t lm = row[i ? i - 1 : i + 1], lp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_add(row[i], gpu_add(lm, lp) >> 1);
        }
        __syncwarp();
    }
    for (uint32_t k = lane; k < n; k += 32)
        tmp[o + k] = row[k];
}

/* VER_SR of one level in parallel over every sample: the columns of tmp
 * (low rows, then high rows) are scattered into buf's interleaved rows
 * (9/7: scaled), then each lifting step is one launch over the rows of one
 * parity, reading only the other parity: the sequential C code's values. */
__global__ void k_idwt_v_scatter(const GpuDwtDesc *descs, int32_t *buf, const int32_t *tmp)
{
    const GpuDwtDesc d = descs[blockIdx.z];
    const uint32_t x = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y;
    const uint32_t n = d.h;
    if (x >= d.w || k >= n)
        return;
    const int odd = d.yodd;
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    if (n == 1) {
        if (d.is97)
            ((float *)buf)[d.off + x] = odd ? GPU_FMUL(((const float *)tmp)[d.off + x], 0.5f)
                                            : ((const float *)tmp)[d.off + x];
        else
            buf[d.off + x] = odd ? tmp[d.off + x] / 2 : tmp[d.off + x];
        return;
    }
    const uint32_t pos = k < nl ? lo0 + 2 * k : hi0 + 2 * (k - nl);
    const size_t src = d.off + (size_t)k * d.stride + x, dst = d.off + (size_t)pos * d.stride + x;
    if (d.is97)
        ((float *)buf)[dst] = GPU_FMUL(((const float *)tmp)[src], k < nl ? HTC_DWT97_K : HTC_DWT97_INV_K);
    else
        buf[dst] = tmp[src];
}

/* One lifting step: rows i of parity `first` (0: the low rows' phase)
 * updated from their neighbours; step selects the formula. */
__global__ void k_idwt_v_step(const GpuDwtDesc *descs, int32_t *buf, int step)
{
    const GpuDwtDesc d = descs[blockIdx.z];
    const uint32_t x = blockIdx.x * blockDim.x + threadIdx.x;
    const uint32_t n = d.h;
    if (x >= d.w || n < 2 || (!d.is97 && step >= 2))
        return;
    const uint32_t lo0 = d.yodd ? 1 : 0, hi0 = 1 - lo0;
    /* 5/3: step 0 low, 1 high. 9/7: steps 0..3 = delta (low), gamma (high), beta (low), alpha (high). */
    const uint32_t first = (step & 1) ? hi0 : lo0;
    const uint32_t i = first + 2 * blockIdx.y;
    if (i >= n)
        return;
    const uint32_t im = i ? i - 1 : i + 1, ip = i + 1 < n ? i + 1 : i - 1;
    int32_t *p = buf + d.off + x;
    const size_t s = d.stride;
    if (d.is97) {
        const float c = step == 0 ? HTC_DWT97_DELTA : step == 1 ? HTC_DWT97_GAMMA : step == 2 ? HTC_DWT97_BETA : HTC_DWT97_ALPHA;
        float *f = (float *)p;
        const float sm = GPU_FADD(f[im * s], f[ip * s]);
        const float pr = GPU_FMUL(sm, c);
        f[i * s] = GPU_FSUB(f[i * s], pr);
    } else if (step == 0) {
        p[i * s] = gpu_sub(p[i * s], gpu_add(gpu_add(p[im * s], p[ip * s]), 2) >> 2);
    } else {
        p[i * s] = gpu_add(p[i * s], gpu_add(p[im * s], p[ip * s]) >> 1);
    }
}

/* VER_SR of one level: columns of tmp (low rows then high rows) into buf. */
__global__ void k_idwt_v(const GpuDwtDesc *descs, int32_t *buf, const int32_t *tmp)
{
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t x = blockIdx.x * blockDim.x + threadIdx.x;
    if (x >= d.w || d.h == 0)
        return;
    const size_t o = d.off + x;
    if (d.is97)
        gpu_idwt97_line((const float *)tmp + o, d.stride, (float *)buf + o, d.stride, d.h, d.yodd);
    else
        gpu_idwt53_stream(tmp + o, d.stride, buf + o, d.stride, d.h, d.yodd);
}

__global__ void k_mct(const GpuMctDesc *descs, int32_t *arena)
{
    const GpuMctDesc d = descs[blockIdx.y];
    for (uint32_t y = blockIdx.x; y < d.h; y += gridDim.x)
    for (uint32_t x = threadIdx.x; x < d.w; x += blockDim.x) {
        const size_t o = (size_t)y * d.stride + x;
        int32_t *c0 = arena + d.off[0] + o, *c1 = arena + d.off[1] + o, *c2 = arena + d.off[2] + o;
        if (d.is_float) {
            const float y0 = *(float *)c0, y1 = *(float *)c1, y2 = *(float *)c2;
            const float r2 = GPU_FMUL(1.402f, y2);
            const float g1 = GPU_FMUL(0.34413f, y1);
            const float g2 = GPU_FMUL(0.71414f, y2);
            const float b1 = GPU_FMUL(1.772f, y1);
            const float g = GPU_FSUB(y0, g1);
            *(float *)c0 = GPU_FADD(y0, r2);
            *(float *)c1 = GPU_FSUB(g, g2);
            *(float *)c2 = GPU_FADD(y0, b1);
        } else {
            const int32_t y0 = *c0, y1 = *c1, y2 = *c2;
            const int32_t i1 = gpu_sub(y0, gpu_add(y2, y1) >> 2);
            *c0 = gpu_add(y2, i1);
            *c1 = i1;
            *c2 = gpu_add(y1, i1);
        }
    }
}

__global__ void k_convert(const GpuCvtDesc *descs, const int32_t *arena)
{
    const GpuCvtDesc d = descs[blockIdx.y];
    /* rows over the grid, samples of a row over the threads: no division */
    for (uint32_t y = blockIdx.x; y < d.h; y += gridDim.x)
    for (uint32_t x = threadIdx.x; x < d.w; x += blockDim.x) {
        const size_t so = d.src_off + (size_t)y * d.src_stride + x;
        int64_t v;
        if (d.is_float) {
            const float f = ((const float *)arena)[so];
            float c = f > d.flo ? f : d.flo;
            c = c < d.fhi ? c : d.fhi;
            v = __float2int_rn(c);
        } else {
            const int32_t s = arena[so];
            v = s < d.lo ? d.lo : s > d.hi ? d.hi : s;
        }
        uint8_t *p = d.dst + (int64_t)y * d.dst_row_stride + (size_t)x * d.pixel_stride * d.bytes;
        if (d.out_float) {
            const float f = (float)(v + (int64_t)(uint32_t)d.shift);
            memcpy(p, &f, 4);
        } else {
            const uint32_t u = (uint32_t)v + (uint32_t)d.shift;
            if (d.bytes == 1) {
                *p = (uint8_t)u;
            } else if (d.bytes == 2) {
                const uint16_t s16 = (uint16_t)u;
                memcpy(p, &s16, 2);
            } else {
                memcpy(p, &u, 4);
            }
        }
    }
}

/* ---- host side ---------------------------------------------------------- */

/* A growable array on the host. */
typedef struct Vec {
    void *p;
    size_t n, cap, elem;
} Vec;

static void *vec_push(Vec *v)
{
    if (v->n == v->cap) {
        const size_t cap = v->cap ? v->cap * 2 : 256;
        void *q = realloc(v->p, cap * v->elem);
        if (!q)
            return NULL;
        v->p = q;
        v->cap = cap;
    }
    void *e = (uint8_t *)v->p + v->n * v->elem;
    memset(e, 0, v->elem);
    v->n++;
    return e;
}

/* A device buffer that only grows. */
typedef struct DevBuf {
    void *p;
    size_t size;
} DevBuf;

static cudaError_t dev_reserve(DevBuf *b, size_t need)
{
    if (b->size >= need)
        return cudaSuccess;
    if (b->p)
        cudaFree(b->p);
    b->p = NULL;
    b->size = 0;
    const size_t cap = need + need / 4 + 4096;
    cudaError_t e = cudaMalloc(&b->p, cap);
    if (e == cudaSuccess)
        b->size = cap;
    return e;
}

typedef struct LevelDesc {
    GpuDwtDesc d;
    uint32_t level;
} LevelDesc;

/* What the host keeps per item while a batch runs. */
typedef struct ItemState {
    HtcStream *own;
    const HtcStream *s;
    const HtcDecodeParams *p;
    HtcDecodeParams def;
    int gpu;                   /* 1: decoded here */
    int device_out;
    size_t staging_off;        /* host output: its place in the staging buffer */
    size_t first_job, num_jobs;
} ItemState;

/* One host thread's share of a batch plan: items [i0, i1) planned into its
 * own vectors and its own pinned byte pool, with offsets relative to its
 * share; the merge adds the shares' prefixes. Kept between batches. */
typedef struct PlanPart {
    HtcDecoder *d;             /* the GPU decoder (read only here) */
    HtcDecoder *cpu;           /* this thread's CPU decoder for fallbacks */
    int device;                /* the CUDA device this share is planned for */
    ItemState *st;
    HtcBatchItem *items;
    size_t i0, i1;
    HtcJobTable jt;
    Vec gjobs, levels, mcts, cvts;
    uint8_t *pinned;
    size_t pinned_size, pinned_used;
    size_t arena_elems, staging;
    uint32_t max_levels;
    /* prefixes, after the merge */
    size_t job0, pool0, arena0, staging0;
} PlanPart;

#define GPU_MAX_PARTS 64

typedef struct GpuState {
    int device;
    cudaStream_t stream;
    DevBuf pool, jobs, status, arena, tmp, scratch, dwt, mct, cvt, staging;
    PlanPart parts[GPU_MAX_PARTS];
    Vec gjobs, levels, mcts, cvts;      /* merged */
    int *status_host;
    size_t status_cap;
} GpuState;

extern "C" void htc_gpu_free(void *p)
{
    if (p)
        cudaFree(p);
}

static void part_free(PlanPart *pp)
{
    if (pp->pinned)
        cudaFreeHost(pp->pinned);
    free(pp->gjobs.p);
    free(pp->levels.p);
    free(pp->mcts.p);
    free(pp->cvts.p);
    if (pp->cpu)
        htc_decoder_close(&pp->cpu);
    if (pp->d)
        htc_job_table_free(&pp->d->ctx, &pp->jt);
    memset(pp, 0, sizeof(*pp));
}

/* A decoder's GPU states, one per device it spreads batches over. */
#define GPU_MAX_DEVICES 16
typedef struct GpuSet {
    GpuState *dev[GPU_MAX_DEVICES];
} GpuSet;

static void gpu_state_free(GpuState *g)
{
    cudaSetDevice(g->device);
    DevBuf *bufs[] = { &g->pool, &g->jobs, &g->status, &g->arena, &g->tmp, &g->scratch,
                       &g->dwt, &g->mct, &g->cvt, &g->staging };
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        if (bufs[i]->p)
            cudaFree(bufs[i]->p);
    for (int i = 0; i < GPU_MAX_PARTS; i++)
        part_free(&g->parts[i]);
    free(g->gjobs.p);
    free(g->levels.p);
    free(g->mcts.p);
    free(g->cvts.p);
    free(g->status_host);
    cudaStreamDestroy(g->stream);
    free(g);
}

extern "C" void htc_gpu_close(HtcDecoder *d)
{
    if (!d || !d->gpu)
        return;
    GpuSet *set = (GpuSet *)d->gpu;
    for (int k = 0; k < GPU_MAX_DEVICES; k++)
        if (set->dev[k])
            gpu_state_free(set->dev[k]);
    free(set);
    d->gpu = NULL;
}

/* The state for the decoder's k-th device (settings.device_id + k), made
 * on first use. Not thread-safe for one k; distinct k may run at once once
 * the set exists. */
static GpuState *gpu_state(HtcDecoder *d, uint32_t k, int *rc)
{
    *rc = 0;
    if (!d->gpu && !(d->gpu = calloc(1, sizeof(GpuSet)))) {
        *rc = htc_fail(&d->ctx, HTC_ENOMEM, "GPU state");
        return NULL;
    }
    GpuSet *set = (GpuSet *)d->gpu;
    if (set->dev[k])
        return set->dev[k];
    const int device = d->settings.device_id + (int)k;
    GpuState *g = (GpuState *)calloc(1, sizeof(GpuState));
    if (!g) {
        *rc = htc_fail(&d->ctx, HTC_ENOMEM, "GPU state");
        return NULL;
    }
    g->device = device;
    if (cudaSetDevice(g->device) != cudaSuccess ||
        cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking) != cudaSuccess) {
        cudaGetLastError();
        free(g);
        *rc = htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d cannot be used", device);
        return NULL;
    }
    if (gpu_ht_upload_tables() < 0) {
        cudaStreamDestroy(g->stream);
        free(g);
        *rc = htc_fail(&d->ctx, HTC_EDEVICE, "copying the HT tables to CUDA device %d", device);
        return NULL;
    }
    g->gjobs.elem = sizeof(GpuJob);
    g->levels.elem = sizeof(LevelDesc);
    g->mcts.elem = sizeof(GpuMctDesc);
    g->cvts.elem = sizeof(GpuCvtDesc);
    for (int i = 0; i < GPU_MAX_PARTS; i++) {
        PlanPart *pp = &g->parts[i];
        pp->gjobs.elem = sizeof(GpuJob);
        pp->levels.elem = sizeof(LevelDesc);
        pp->mcts.elem = sizeof(GpuMctDesc);
        pp->cvts.elem = sizeof(GpuCvtDesc);
        htc_job_table_init(&pp->jt);
    }
    set->dev[k] = g;
    return g;
}

/* Room for n more bytes in a part's pinned pool (which may move). */
static int pinned_reserve(PlanPart *pp, size_t n)
{
    if (pp->pinned_used + n <= pp->pinned_size)
        return 0;
    size_t cap = pp->pinned_size ? pp->pinned_size * 2 : ((size_t)4 << 20);
    while (cap < pp->pinned_used + n)
        cap *= 2;
    uint8_t *q = NULL;
    if (cudaHostAlloc((void **)&q, cap, cudaHostAllocDefault) != cudaSuccess) {
        cudaGetLastError();
        return HTC_ENOMEM;
    }
    if (pp->pinned) {
        memcpy(q, pp->pinned, pp->pinned_used);
        cudaFreeHost(pp->pinned);
    }
    pp->pinned = q;
    pp->pinned_size = cap;
    return 0;
}

#define CUDA_TRY(call, what)                                                              \
    do {                                                                                  \
        const cudaError_t e_ = (call);                                                    \
        if (e_ != cudaSuccess) {                                                          \
            cudaGetLastError();                                                           \
            rc = htc_fail(&d->ctx, HTC_EDEVICE, "%s: %s", what, cudaGetErrorString(e_)); \
            goto done;                                                                    \
        }                                                                                 \
    } while (0)

/* The output range of one component and type, as src/transform/convert.c. */
static int cvt_range(GpuCvtDesc *c, uint32_t p, int is_signed, int type)
{
    if (p < 1 || p > 32)
        return HTC_EINVAL;
    int64_t clo, chi, tlo, thi;
    if (is_signed) {
        clo = -((int64_t)1 << (p - 1));
        chi = ((int64_t)1 << (p - 1)) - 1;
    } else {
        clo = 0;
        chi = ((int64_t)1 << p) - 1;
    }
    const int64_t shift = is_signed ? 0 : (int64_t)1 << (p - 1);
    c->out_float = 0;
    switch (type) {
    case HTC_SAMPLE_U8: tlo = 0; thi = 255; c->bytes = 1; break;
    case HTC_SAMPLE_I8: tlo = -128; thi = 127; c->bytes = 1; break;
    case HTC_SAMPLE_U16: tlo = 0; thi = 65535; c->bytes = 2; break;
    case HTC_SAMPLE_I16: tlo = -32768; thi = 32767; c->bytes = 2; break;
    case HTC_SAMPLE_U32: tlo = 0; thi = 4294967295ll; c->bytes = 4; break;
    case HTC_SAMPLE_I32: tlo = INT32_MIN; thi = INT32_MAX; c->bytes = 4; break;
    case HTC_SAMPLE_F32: tlo = clo; thi = chi; c->bytes = 4; c->out_float = 1; break;
    default: return HTC_EINVAL;
    }
    const int64_t lo = (clo > tlo ? clo : tlo) - shift, hi = (chi < thi ? chi : thi) - shift;
    c->lo = (int32_t)lo;
    c->hi = (int32_t)hi;
    c->shift = (int32_t)(uint32_t)shift;
    c->flo = (float)lo;
    c->fhi = (float)hi;
    if ((double)c->fhi > (double)hi)
        c->fhi = nextafterf(c->fhi, -INFINITY);
    return 0;
}

/* Whether a tile has every tile-part its SOT markers announce. */
static int tile_complete(const HtcDecoder *d, const HtcStream *s, uint32_t ti)
{
    const HtcTile *t = &s->tiles[ti];
    if (t->num_parts == 0)
        return 0;
    if (d->settings.allow_truncated)
        return 1;
    uint32_t declared = 0;
    for (uint32_t i = 0; i < t->num_parts; i++)
        declared = HTC_MAX(declared, (uint32_t)s->parts[t->parts[i]].num_parts);
    return declared == 0 || t->num_parts >= declared;
}


/* Plans one tile of one item: tier 2, its jobs and their bytes, its
 * tile-component areas, DWT levels, colour transform and output areas.
 * HTC_EUNSUPPORTED sends the item to the CPU path. */
static int plan_tile(PlanPart *pl, const HtcStream *s, const HtcDecodeParams *p, const HtcDecodeGeom *geo,
                     const HtcPicture *pic, uint8_t *out_base, int staged, uint32_t ti)
{
    const HtcContext *ctx = &s->ctx;
    const HtcTile *t = &s->tiles[ti];
    const uint32_t nc = s->num_components;
    if (nc > 64)
        return HTC_EUNSUPPORTED;
    if (!tile_complete(pl->d, s, ti))
        return HTC_EUNSUPPORTED; /* the CPU path zero-fills missing tiles */
    uint8_t keep[64] = { 0 };
    uint64_t tco[64];
    HtcResGeom tg[64];
    for (uint32_t i = 0; i < geo->num_out; i++)
        keep[geo->comps[i]] = 1;
    const int mct = p->apply_mct && nc >= 3 && t->cod[0].mct && (keep[0] || keep[1] || keep[2]);
    if (mct)
        keep[0] = keep[1] = keep[2] = 1;
    for (uint32_t c = 0; c < nc; c++) {
        if (!keep[c])
            continue;
        const uint32_t nl = t->cod[c].levels;
        if (p->reduce > nl)
            return htc_fail(ctx, HTC_ERANGE, "reduce %u above the %u levels of tile %u component %u",
                            p->reduce, nl, ti, c);
        if (t->roi_shift && t->roi_shift[c])
            return HTC_EUNSUPPORTED;
        htc_t2_res_rect(s, t, c, nl, nl - p->reduce, &tg[c]);
        tco[c] = pl->arena_elems;
        pl->arena_elems += (size_t)(tg[c].x1 - tg[c].x0) * (tg[c].y1 - tg[c].y0);
        pl->arena_elems = (pl->arena_elems + 31) & ~(size_t)31;
        const uint32_t L = nl - p->reduce;
        for (uint32_t r = 1; r <= L; r++) {
            HtcResGeom rg;
            htc_t2_res_rect(s, t, c, nl, r, &rg);
            LevelDesc *ld = (LevelDesc *)vec_push(&pl->levels);
            if (!ld)
                return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
            ld->d.off = tco[c];
            ld->d.stride = tg[c].x1 - tg[c].x0;
            ld->d.w = rg.x1 - rg.x0;
            ld->d.h = rg.y1 - rg.y0;
            ld->d.xodd = rg.x0 & 1;
            ld->d.yodd = rg.y0 & 1;
            ld->d.is97 = !t->cod[c].reversible;
            ld->level = r;
        }
        pl->max_levels = HTC_MAX(pl->max_levels, L);
    }
    if (mct) {
        for (uint32_t c = 1; c < 3; c++)
            if (tg[c].x1 - tg[c].x0 != tg[0].x1 - tg[0].x0 || tg[c].y1 - tg[c].y0 != tg[0].y1 - tg[0].y0 ||
                t->cod[c].reversible != t->cod[0].reversible)
                return htc_fail(ctx, HTC_ECONTRADICT,
                                "tile %u: multiple component transform over components of different sizes or filters",
                                ti);
        GpuMctDesc *m = (GpuMctDesc *)vec_push(&pl->mcts);
        if (!m)
            return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
        for (int c = 0; c < 3; c++)
            m->off[c] = tco[c];
        m->stride = tg[0].x1 - tg[0].x0;
        m->w = m->stride;
        m->h = tg[0].y1 - tg[0].y0;
        m->is_float = !t->cod[0].reversible;
    }

    HtcT2Options opt;
    memset(&opt, 0, sizeof(opt));
    opt.max_layers = p->layers;
    opt.reduce = p->reduce;
    opt.allow_truncated = pl->d->settings.allow_truncated;
    opt.comp_keep = keep;
    htc_job_table_reset(&pl->jt);
    HTC_CHECK(htc_t2_decode_tile(s, ti, &opt, &pl->jt));
    const HtcJobTable *jt = &pl->jt;
    for (uint32_t k = 0; k < jt->num_jobs; k++) {
        const HtcBlockJob *j = &jt->jobs[k];
        if (j->comp >= nc || !keep[j->comp] || j->res + p->reduce > t->cod[j->comp].levels)
            continue;
        if (j->num_passes == 0 || j->data_length == 0)
            continue; /* no data: its samples stay zero */
        if (!j->is_ht || j->roi_shift || j->num_segs > GPU_MAX_SEGS || j->mb > 31)
            return HTC_EUNSUPPORTED;
        const size_t need = ((size_t)j->data_length + HTC_BLOCK_PAD + 15) & ~(size_t)15;
        if (pinned_reserve(pl, need) < 0)
            return htc_fail(ctx, HTC_ENOMEM, "pinned pool of %zu bytes", pl->pinned_used + need);
        uint8_t *b = pl->pinned + pl->pinned_used;
        for (uint32_t q = 0; q < j->num_chunks; q++) {
            const HtcChunk *ch = &jt->chunks[j->first_chunk + q];
            memcpy(b, s->cs + ch->offset, ch->length);
            b += ch->length;
        }
        memset(b, 0, need - j->data_length);
        GpuJob *gj = (GpuJob *)vec_push(&pl->gjobs);
        if (!gj)
            return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
        gj->data_off = pl->pinned_used;
        pl->pinned_used += need;
        const uint32_t stride = tg[j->comp].x1 - tg[j->comp].x0;
        gj->coef_off = tco[j->comp] + (uint64_t)j->out_y * stride + j->out_x;
        gj->stride = stride;
        gj->w = (uint16_t)(j->x1 - j->x0);
        gj->h = (uint16_t)(j->y1 - j->y0);
        gj->num_passes = j->num_passes;
        gj->cblk_style = j->cblk_style;
        gj->num_segs = (uint8_t)j->num_segs;
        for (uint32_t q = 0; q < j->num_segs; q++) {
            gj->seg_len[q] = jt->segs[j->first_seg + q].length;
            gj->seg_passes[q] = (uint8_t)HTC_MIN(jt->segs[j->first_seg + q].passes, 255u);
        }
        gj->reversible = j->reversible;
        gj->mb = (uint8_t)j->mb;
        gj->zero_planes = (uint8_t)HTC_MIN(j->zero_planes, 255u);
        gj->band = j->band;
        gj->delta = j->delta;
    }

    /* This tile-component cut into each output plane. */
    for (uint32_t i = 0; i < geo->num_out; i++) {
        const uint32_t c = geo->comps[i];
        uint32_t px0, py0, px1, py1;
        htc_decode_comp_rect(s, geo, c, &px0, &py0, &px1, &py1);
        const uint32_t x0 = HTC_MAX(px0, tg[c].x0), y0 = HTC_MAX(py0, tg[c].y0);
        const uint32_t x1 = HTC_MIN(px1, tg[c].x1), y1 = HTC_MIN(py1, tg[c].y1);
        if (x0 >= x1 || y0 >= y1)
            continue;
        GpuCvtDesc *cv = (GpuCvtDesc *)vec_push(&pl->cvts);
        if (!cv)
            return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
        const uint32_t stride = tg[c].x1 - tg[c].x0;
        cv->src_off = tco[c] + (uint64_t)(y0 - tg[c].y0) * stride + (x0 - tg[c].x0);
        cv->src_stride = stride;
        cv->w = x1 - x0;
        cv->h = y1 - y0;
        const HtcPlane *pln = &pic->planes[i];
        const size_t plane_off = (size_t)((const uint8_t *)pln->data - (const uint8_t *)pic->buffer);
        cv->dst = out_base + plane_off + (size_t)(y0 - py0) * pln->row_stride +
                  (size_t)(x0 - px0) * pln->pixel_stride * geo->bytes_per_sample;
        cv->dst_row_stride = pln->row_stride;
        cv->pixel_stride = pln->pixel_stride;
        cv->is_float = !t->cod[c].reversible;
        cv->staged = (uint8_t)staged;
        const HtcComponent *cp = &s->comps[c];
        if (cvt_range(cv, cp->precision, cp->is_signed, geo->sample_type) < 0)
            return htc_fail(ctx, HTC_EUNSUPPORTED, "output of %u-bit samples", cp->precision);
    }
    return 0;
}

/* The CPU path for one item (this thread's CPU decoder); device output is
 * copied up. caller_buf and caller_size: the caller's own output buffer
 * (host or device), if any. */
static int cpu_item(PlanPart *pp, ItemState *st, HtcBatchItem *it, void *caller_buf, size_t caller_size)
{
    HtcDecoder *d = pp->d;
    if (!pp->cpu) {
        HtcDecoderSettings cs = d->settings;
        cs.device = HTC_DEVICE_CPU;
        cs.threads = 1;
        HTC_CHECK(htc_decoder_open(&pp->cpu, &cs));
    }
    HtcDecodeParams hp = *st->p;
    hp.memory = HTC_MEMORY_HOST;
    HtcPicture host;
    memset(&host, 0, sizeof(host));
    if (caller_buf && !st->device_out) {
        host.buffer = caller_buf;
        host.buffer_size = caller_size;
    }
    int rc = htc_decode(pp->cpu, st->s, &hp, &host);
    if (rc < 0)
        return rc;
    if (!st->device_out) {
        it->picture = host;
        return 0;
    }
    if (caller_buf && caller_size < host.buffer_size) {
        htc_picture_release(&host);
        return htc_fail(&d->ctx, HTC_EINVAL, "caller's device buffer of %zu bytes, %zu needed",
                        caller_size, host.buffer_size);
    }
    void *dev = caller_buf;
    cudaError_t e = cudaSuccess;
    if (!dev)
        e = cudaMalloc(&dev, host.buffer_size ? host.buffer_size : 1);
    if (e == cudaSuccess)
        e = cudaMemcpy(dev, host.buffer, host.buffer_size, cudaMemcpyHostToDevice);
    if (e != cudaSuccess) {
        cudaGetLastError();
        if (dev && !caller_buf)
            cudaFree(dev);
        htc_picture_release(&host);
        return htc_fail(&d->ctx, HTC_EDEVICE, "copying a CPU-decoded picture to the GPU");
    }
    /* The same picture over the device copy. */
    const uint32_t nc = st->s->num_components;
    uint32_t *comps = (uint32_t *)calloc(nc ? nc : 1, sizeof(uint32_t));
    HtcPicture dp;
    memset(&dp, 0, sizeof(dp));
    dp.buffer = dev;
    dp.buffer_size = host.buffer_size;
    HtcDecodeGeom geo;
    rc = comps ? htc_decode_geometry(st->s, &hp, comps, &geo) : HTC_ENOMEM;
    if (rc >= 0)
        rc = htc_picture_setup(st->s, &geo, &d->settings.allocator, &dp, 1, NULL);
    free(comps);
    htc_picture_release(&host);
    if (rc < 0) {
        if (!caller_buf)
            cudaFree(dev);
        return rc;
    }
    dp.memory = HTC_MEMORY_DEVICE;
    dp.device_id = pp->device;
    dp.caller_owned = caller_buf != NULL;
    it->picture = dp;
    return 0;
}

/* Parses, lays out and plans one item into pp (or decodes it on the CPU). */
static void plan_item(PlanPart *pp, size_t i)
{
    HtcDecoder *d = pp->d;
    HtcBatchItem *it = &pp->items[i];
    ItemState *is = &pp->st[i];
    it->status = 0;
    it->message[0] = 0;
    htc_clear_error();
    is->s = it->stream;
    int irc = 0;
    if (!is->s) {
        HtcStreamSettings ss;
        htc_stream_default_settings(&ss);
        ss.limits = d->settings.limits;
        ss.allocator = d->settings.allocator;
        irc = htc_stream_open_memory(&is->own, it->data, it->size, &ss);
        is->s = is->own;
    }
    if (it->params) {
        is->p = it->params;
    } else {
        htc_decode_default_params(&is->def);
        is->p = &is->def;
    }
    is->device_out = is->p->memory == HTC_MEMORY_DEVICE;
    HtcPicture *pic = &it->picture;
    void *const caller_ptr = pic->buffer;
    const size_t caller_size = pic->buffer_size;
    const int caller_buf = caller_ptr != NULL;
    void *dev = NULL;
    uint32_t comps[64];
    HtcDecodeGeom geo;
    if (irc >= 0 && is->s->num_components > 64)
        irc = HTC_EUNSUPPORTED;
    if (irc >= 0 && is->device_out && !caller_buf) {
        HtcPicture lay;
        memset(&lay, 0, sizeof(lay));
        irc = htc_decode_layout(is->s, is->p, &lay);
        if (irc >= 0) {
            if (cudaMalloc(&dev, lay.buffer_size ? lay.buffer_size : 1) != cudaSuccess) {
                cudaGetLastError();
                dev = NULL;
                irc = htc_fail(&d->ctx, HTC_EDEVICE, "device picture of %zu bytes", lay.buffer_size);
            } else {
                pic->buffer = dev;
                pic->buffer_size = lay.buffer_size;
            }
        }
        htc_picture_release(&lay);
    }
    if (irc >= 0)
        irc = htc_decode_geometry(is->s, is->p, comps, &geo);
    if (irc >= 0)
        irc = htc_picture_setup(is->s, &geo, &d->settings.allocator, pic, 1, NULL);
    if (irc >= 0) {
        if (is->device_out) {
            pic->memory = HTC_MEMORY_DEVICE;
            pic->device_id = pp->device;
            pic->caller_owned = caller_buf;
        }
        uint8_t *out_base;
        if (is->device_out) {
            out_base = (uint8_t *)pic->buffer;
        } else {
            is->staging_off = pp->staging;
            pp->staging += (pic->buffer_size + 255) & ~(size_t)255;
            out_base = (uint8_t *)(uintptr_t)is->staging_off; /* made an address at the merge */
        }
        const size_t j0 = pp->gjobs.n, l0 = pp->levels.n, m0 = pp->mcts.n, c0 = pp->cvts.n;
        const size_t a0 = pp->arena_elems, p0 = pp->pinned_used;
        const uint32_t ml0 = pp->max_levels;
        is->first_job = j0;
        const HtcStream *s = is->s;
        const uint32_t tx0 = (geo.gx0 - s->tx0) / s->tw, tx1 = (geo.gx1 - 1 - s->tx0) / s->tw + 1;
        const uint32_t ty0 = (geo.gy0 - s->ty0) / s->th, ty1 = (geo.gy1 - 1 - s->ty0) / s->th + 1;
        for (uint32_t ty = ty0; ty < HTC_MIN(ty1, s->nty) && irc >= 0; ty++)
            for (uint32_t tx = tx0; tx < HTC_MIN(tx1, s->ntx) && irc >= 0; tx++)
                irc = plan_tile(pp, s, is->p, &geo, pic, out_base, !is->device_out, ty * s->ntx + tx);
        if (irc >= 0) {
            is->gpu = 1;
            is->num_jobs = pp->gjobs.n - j0;
            return;
        }
        /* Undo this item's share of the plan. */
        pp->gjobs.n = j0;
        pp->levels.n = l0;
        pp->mcts.n = m0;
        pp->cvts.n = c0;
        pp->arena_elems = a0;
        pp->pinned_used = p0;
        pp->max_levels = ml0;
        if (!is->device_out)
            pp->staging = is->staging_off;
    }
    if (irc < 0) {
        /* Free what was set up for the GPU; the CPU path starts afresh. */
        if (pic->planes)
            htc_picture_release(pic);
        else if (dev)
            cudaFree(dev);
        memset(pic, 0, sizeof(*pic));
        if (irc == HTC_EUNSUPPORTED && is->s) {
            htc_clear_error();
            irc = cpu_item(pp, is, it, caller_ptr, caller_size);
        }
    }
    if (irc < 0) {
        it->status = irc;
        htc_copy_last_error(it->message, sizeof(it->message));
        if (!it->message[0])
            snprintf(it->message, sizeof(it->message), "%s", htc_strerror(irc));
    }
}

static void *plan_worker(void *arg)
{
    PlanPart *pp = (PlanPart *)arg;
    cudaSetDevice(pp->device);
    pp->gjobs.n = pp->levels.n = pp->mcts.n = pp->cvts.n = 0;
    pp->pinned_used = pp->arena_elems = pp->staging = 0;
    pp->max_levels = 0;
    for (size_t i = pp->i0; i < pp->i1; i++)
        plan_item(pp, i);
    return NULL;
}

static uint32_t blocks_for(size_t n, uint32_t threads)
{
    const size_t b = (n + threads - 1) / threads;
    return (uint32_t)(b ? b : 1);
}

static double host_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* Appends src's elements to dst. */
static int vec_append(Vec *dst, const Vec *src)
{
    if (dst->n + src->n > dst->cap) {
        size_t cap = dst->cap ? dst->cap : 256;
        while (cap < dst->n + src->n)
            cap *= 2;
        void *q = realloc(dst->p, cap * dst->elem);
        if (!q)
            return HTC_ENOMEM;
        dst->p = q;
        dst->cap = cap;
    }
    if (src->n)
        memcpy((uint8_t *)dst->p + dst->n * dst->elem, src->p, src->n * src->elem);
    dst->n += src->n;
    return 0;
}

/* One batch on the decoder's k-th device, planned on up to `threads` host threads. */
static int batch_on(HtcDecoder *d, uint32_t dk, HtcBatchItem *items, size_t n, uint32_t threads)
{
    int rc = 0;
    /* HTC_GPU_TIMING=1: where the time goes, per stage, on stderr. */
    static int timing = -1;
    if (timing < 0)
        timing = getenv("HTC_GPU_TIMING") != NULL;
    cudaEvent_t ev[6];
    int events = 0;
    const double t_start = host_ms();
    double t_planned = t_start;
    GpuState *g = gpu_state(d, dk, &rc);
    if (!g)
        return rc;
    if (cudaSetDevice(g->device) != cudaSuccess)
        return htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d", g->device);
    ItemState *st = (ItemState *)calloc(n ? n : 1, sizeof(ItemState));
    if (!st)
        return htc_fail(&d->ctx, HTC_ENOMEM, "batch of %zu", n);

    /* 1. Plan on the host, items shared out over the decoder's threads. */
    uint32_t np = (uint32_t)HTC_MIN((size_t)HTC_MAX(threads, 1u), (n + 3) / 4);
    np = HTC_MAX(HTC_MIN(np, (uint32_t)GPU_MAX_PARTS), 1u);
    pthread_t th[GPU_MAX_PARTS];
    uint32_t started = 0;
    for (uint32_t k = 0; k < np; k++) {
        PlanPart *pp = &g->parts[k];
        pp->d = d;
        pp->device = g->device;
        pp->st = st;
        pp->items = items;
        pp->i0 = n * k / np;
        pp->i1 = n * (k + 1) / np;
    }
    for (uint32_t k = 1; k < np; k++) {
        if (pthread_create(&th[k], NULL, plan_worker, &g->parts[k]) != 0) {
            /* plan it on this thread instead */
            plan_worker(&g->parts[k]);
            th[k] = 0;
        } else {
            started |= 0;
        }
    }
    plan_worker(&g->parts[0]);
    for (uint32_t k = 1; k < np; k++)
        if (th[k])
            pthread_join(th[k], NULL);
    (void)started;

    /* 2. Merge the parts: prefixes, then offsets made absolute. */
    size_t pool_bytes = 0, arena_elems = 0, staging = 0;
    uint32_t max_levels = 0;
    g->gjobs.n = g->levels.n = g->mcts.n = g->cvts.n = 0;
    for (uint32_t k = 0; k < np; k++) {
        PlanPart *pp = &g->parts[k];
        pp->job0 = g->gjobs.n;
        pp->pool0 = pool_bytes;
        pp->arena0 = arena_elems;
        pp->staging0 = staging;
        pool_bytes += pp->pinned_used;
        arena_elems += pp->arena_elems;
        staging += pp->staging;
        max_levels = HTC_MAX(max_levels, pp->max_levels);
        GpuJob *gj = (GpuJob *)pp->gjobs.p;
        for (size_t q = 0; q < pp->gjobs.n; q++) {
            gj[q].data_off += pp->pool0;
            gj[q].coef_off += pp->arena0;
        }
        LevelDesc *ld = (LevelDesc *)pp->levels.p;
        for (size_t q = 0; q < pp->levels.n; q++)
            ld[q].d.off += pp->arena0;
        GpuMctDesc *md = (GpuMctDesc *)pp->mcts.p;
        for (size_t q = 0; q < pp->mcts.n; q++)
            for (int c = 0; c < 3; c++)
                md[q].off[c] += pp->arena0;
        GpuCvtDesc *cd = (GpuCvtDesc *)pp->cvts.p;
        for (size_t q = 0; q < pp->cvts.n; q++) {
            cd[q].src_off += pp->arena0;
            if (cd[q].staged)
                cd[q].dst += pp->staging0;
        }
        for (size_t i = pp->i0; i < pp->i1; i++) {
            st[i].first_job += pp->job0;
            st[i].staging_off += pp->staging0;
        }
        if (vec_append(&g->gjobs, &pp->gjobs) < 0 || vec_append(&g->levels, &pp->levels) < 0 ||
            vec_append(&g->mcts, &pp->mcts) < 0 || vec_append(&g->cvts, &pp->cvts) < 0) {
            rc = htc_fail(&d->ctx, HTC_ENOMEM, "GPU plan");
            goto done;
        }
    }
    if (g->gjobs.n == 0 && g->cvts.n == 0)
        goto done;
    t_planned = host_ms();
    if (timing) {
        for (int k = 0; k < 6; k++)
            cudaEventCreate(&ev[k]);
        events = 1;
    }
    {
        /* 3. Device buffers. Host outputs land in a staging area first. */
        const size_t nj = g->gjobs.n;
        const size_t arena_bytes = (arena_elems ? arena_elems : 1) * sizeof(int32_t);
        CUDA_TRY(dev_reserve(&g->staging, staging ? staging : 1), "staging buffer");
        CUDA_TRY(dev_reserve(&g->pool, pool_bytes ? pool_bytes : 1), "byte pool");
        CUDA_TRY(dev_reserve(&g->jobs, (nj ? nj : 1) * sizeof(GpuJob)), "job table");
        CUDA_TRY(dev_reserve(&g->status, (nj ? nj : 1) * sizeof(int)), "job status");
        CUDA_TRY(dev_reserve(&g->scratch, (nj ? nj : 1) * (size_t)GPU_HT_SCRATCH), "block scratch");
        CUDA_TRY(dev_reserve(&g->arena, arena_bytes), "coefficients");
        CUDA_TRY(dev_reserve(&g->tmp, arena_bytes), "DWT buffer");
        GpuCvtDesc *cv = (GpuCvtDesc *)g->cvts.p;
        for (size_t k = 0; k < g->cvts.n; k++)
            if (cv[k].staged)
                cv[k].dst = (uint8_t *)g->staging.p + (uintptr_t)cv[k].dst;
        /* DWT levels grouped by level (counting sort). */
        const size_t nl = g->levels.n;
        size_t count[HTC_MAX_LEVELS + 2] = { 0 };
        const LevelDesc *ld = (const LevelDesc *)g->levels.p;
        for (size_t k = 0; k < nl; k++)
            count[ld[k].level]++;
        size_t start[HTC_MAX_LEVELS + 2] = { 0 };
        for (uint32_t r = 1; r <= HTC_MAX_LEVELS; r++)
            start[r + 1] = start[r] + count[r];
        GpuDwtDesc *sorted = (GpuDwtDesc *)malloc((nl ? nl : 1) * sizeof(GpuDwtDesc));
        uint32_t max_w[HTC_MAX_LEVELS + 2] = { 0 }, max_h[HTC_MAX_LEVELS + 2] = { 0 };
        uint8_t max_is97[HTC_MAX_LEVELS + 2] = { 0 };
        if (!sorted) {
            rc = htc_fail(&d->ctx, HTC_ENOMEM, "DWT plan");
            goto done;
        }
        {
            size_t fill[HTC_MAX_LEVELS + 2];
            memcpy(fill, start, sizeof(fill));
            for (size_t k = 0; k < nl; k++) {
                const uint32_t r = ld[k].level;
                sorted[fill[r]++] = ld[k].d;
                max_w[r] = HTC_MAX(max_w[r], ld[k].d.w);
                max_h[r] = HTC_MAX(max_h[r], ld[k].d.h);
                max_is97[r] |= ld[k].d.is97;
            }
        }
        cudaError_t e = dev_reserve(&g->dwt, (nl ? nl : 1) * sizeof(GpuDwtDesc));
        if (e == cudaSuccess)
            e = dev_reserve(&g->mct, (g->mcts.n ? g->mcts.n : 1) * sizeof(GpuMctDesc));
        if (e == cudaSuccess)
            e = dev_reserve(&g->cvt, (g->cvts.n ? g->cvts.n : 1) * sizeof(GpuCvtDesc));
        cudaStream_t sm = g->stream;
        if (timing)
            cudaEventRecord(ev[0], sm);
        for (uint32_t k = 0; k < np && e == cudaSuccess; k++)
            if (g->parts[k].pinned_used)
                e = cudaMemcpyAsync((uint8_t *)g->pool.p + g->parts[k].pool0, g->parts[k].pinned,
                                    g->parts[k].pinned_used, cudaMemcpyHostToDevice, sm);
        if (e == cudaSuccess && nj)
            e = cudaMemcpyAsync(g->jobs.p, g->gjobs.p, nj * sizeof(GpuJob), cudaMemcpyHostToDevice, sm);
        if (e == cudaSuccess && nl)
            e = cudaMemcpyAsync(g->dwt.p, sorted, nl * sizeof(GpuDwtDesc), cudaMemcpyHostToDevice, sm);
        if (e == cudaSuccess && g->mcts.n)
            e = cudaMemcpyAsync(g->mct.p, g->mcts.p, g->mcts.n * sizeof(GpuMctDesc), cudaMemcpyHostToDevice, sm);
        if (e == cudaSuccess && g->cvts.n)
            e = cudaMemcpyAsync(g->cvt.p, g->cvts.p, g->cvts.n * sizeof(GpuCvtDesc), cudaMemcpyHostToDevice, sm);
        if (e == cudaSuccess)
            e = cudaMemsetAsync(g->arena.p, 0, arena_bytes, sm);
        if (timing)
            cudaEventRecord(ev[1], sm);
        /* 4. Kernels. */
        if (e == cudaSuccess && nj) {
            /* a warp per code-block; HTC_GPU_BLOCKS=thread: the older thread per block */
            static int per_thread = -1;
            if (per_thread < 0) {
                const char *v = getenv("HTC_GPU_BLOCKS");
                per_thread = v && !strcmp(v, "thread");
            }
            k_ht_blocks<<<blocks_for(nj, GPU_THREADS), GPU_THREADS, 0, sm>>>(
                (const GpuJob *)g->jobs.p, (uint32_t)nj, (const uint8_t *)g->pool.p, (int32_t *)g->arena.p,
                (int *)g->status.p, (uint8_t *)g->scratch.p, GPU_HT_SCRATCH, !per_thread);
            if (!per_thread) {
                k_ht_vlc<<<blocks_for(nj, 128), 128, 0, sm>>>((const GpuJob *)g->jobs.p, (uint32_t)nj,
                                                              (const uint8_t *)g->pool.p, (uint8_t *)g->scratch.p,
                                                              GPU_HT_SCRATCH);
                k_ht_warp<<<blocks_for(nj, HTW_WARPS), 32 * HTW_WARPS, 0, sm>>>(
                    (const GpuJob *)g->jobs.p, (uint32_t)nj, (const uint8_t *)g->pool.p, (int32_t *)g->arena.p,
                    (int *)g->status.p, (uint8_t *)g->scratch.p, GPU_HT_SCRATCH);
            }
            e = cudaGetLastError();
        }
        if (timing)
            cudaEventRecord(ev[2], sm);
        for (uint32_t r = 1; r <= max_levels && e == cudaSuccess; r++) {
            for (size_t k0 = start[r]; k0 < start[r + 1] && e == cudaSuccess; k0 += 65535) {
                const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, start[r + 1] - k0);
                const GpuDwtDesc *dd = (const GpuDwtDesc *)g->dwt.p + k0;
                if (max_w[r] <= GPU_ROWW_MAX)
                    k_idwt_h_warp<<<dim3(blocks_for(max_h[r] ? max_h[r] : 1, 4), cnt), 128, 0, sm>>>(
                        dd, (const int32_t *)g->arena.p, (int32_t *)g->tmp.p);
                else if (max_w[r] <= GPU_ROW_MAX)
                    k_idwt_h_smem<<<dim3(max_h[r] ? max_h[r] : 1, cnt), 128, 0, sm>>>(
                        dd, (const int32_t *)g->arena.p, (int32_t *)g->tmp.p);
                else
                    k_idwt_h<<<dim3(blocks_for(max_h[r], 64), cnt), 64, 0, sm>>>(dd, (int32_t *)g->arena.p,
                                                                                 (int32_t *)g->tmp.p);
                /* Few columns in flight (one large image): every sample in
                 * parallel; many (a batch): a thread a column is cheaper. */
                if (max_h[r] <= 65535 && (uint64_t)cnt * max_w[r] < 65536) {
                    const dim3 grid(blocks_for(max_w[r], 64), max_h[r], cnt);
                    const dim3 half(blocks_for(max_w[r], 64), (max_h[r] + 1) / 2, cnt);
                    k_idwt_v_scatter<<<grid, 64, 0, sm>>>(dd, (int32_t *)g->arena.p, (const int32_t *)g->tmp.p);
                    for (int step = 0; step < (max_is97[r] ? 4 : 2); step++)
                        k_idwt_v_step<<<half, 64, 0, sm>>>(dd, (int32_t *)g->arena.p, step);
                } else {
                    k_idwt_v<<<dim3(blocks_for(max_w[r], 64), cnt), 64, 0, sm>>>(dd, (int32_t *)g->arena.p,
                                                                                 (const int32_t *)g->tmp.p);
                }
                e = cudaGetLastError();
            }
        }
        if (timing)
            cudaEventRecord(ev[3], sm);
        for (size_t k0 = 0; k0 < g->mcts.n && e == cudaSuccess; k0 += 65535) {
            const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, g->mcts.n - k0);
            uint32_t rows = 1;
            for (size_t k = k0; k < k0 + cnt; k++)
                rows = HTC_MAX(rows, ((const GpuMctDesc *)g->mcts.p)[k].h);
            k_mct<<<dim3(HTC_MIN(rows, 4096u), cnt), 256, 0, sm>>>((const GpuMctDesc *)g->mct.p + k0, (int32_t *)g->arena.p);
            e = cudaGetLastError();
        }
        for (size_t k0 = 0; k0 < g->cvts.n && e == cudaSuccess; k0 += 65535) {
            const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, g->cvts.n - k0);
            uint32_t rows = 1;
            for (size_t k = k0; k < k0 + cnt; k++)
                rows = HTC_MAX(rows, ((const GpuCvtDesc *)g->cvts.p)[k].h);
            k_convert<<<dim3(HTC_MIN(rows, 4096u), cnt), 256, 0, sm>>>((const GpuCvtDesc *)g->cvt.p + k0,
                                                     (const int32_t *)g->arena.p);
            e = cudaGetLastError();
        }
        free(sorted);
        if (timing)
            cudaEventRecord(ev[4], sm);
        /* 5. Host outputs back, job statuses. */
        for (size_t i = 0; i < n && e == cudaSuccess; i++)
            if (st[i].gpu && !st[i].device_out && items[i].picture.buffer_size)
                e = cudaMemcpyAsync(items[i].picture.buffer, (uint8_t *)g->staging.p + st[i].staging_off,
                                    items[i].picture.buffer_size, cudaMemcpyDeviceToHost, sm);
        if (g->status_cap < nj) {
            free(g->status_host);
            g->status_host = (int *)malloc(nj * sizeof(int));
            g->status_cap = g->status_host ? nj : 0;
        }
        if (e == cudaSuccess && nj && g->status_host)
            e = cudaMemcpyAsync(g->status_host, g->status.p, nj * sizeof(int), cudaMemcpyDeviceToHost, sm);
        if (timing)
            cudaEventRecord(ev[5], sm);
        if (e == cudaSuccess)
            e = cudaStreamSynchronize(sm);
        if (timing && e == cudaSuccess) {
            float ms[5];
            for (int k = 0; k < 5; k++)
                cudaEventElapsedTime(&ms[k], ev[k], ev[k + 1]);
            fprintf(stderr,
                    "gpu batch of %zu: host plan (parse, tier 2, byte pool; %u threads) %.3f ms; device: "
                    "copies in %.3f, blocks %.3f, DWT %.3f, colour+output %.3f, copies out %.3f ms; "
                    "%zu blocks, %.1f MB pool\n",
                    n, np, t_planned - t_start, ms[0], ms[1], ms[2], ms[3], ms[4], nj, pool_bytes / 1e6);
        }
        if (e != cudaSuccess) {
            rc = htc_fail(&d->ctx, HTC_EDEVICE, "GPU batch: %s", cudaGetErrorString(e));
            cudaGetLastError();
            for (size_t i = 0; i < n; i++)
                if (st[i].gpu) {
                    items[i].status = HTC_EDEVICE;
                    snprintf(items[i].message, sizeof(items[i].message), "GPU batch: %s", cudaGetErrorString(e));
                    htc_picture_release(&items[i].picture);
                }
            goto done;
        }
        /* A corrupt block keeps what was decoded before the fault (as the
         * CPU path); any other block error fails its item. */
        for (size_t i = 0; i < n && g->status_host; i++) {
            if (!st[i].gpu)
                continue;
            for (size_t k = st[i].first_job; k < st[i].first_job + st[i].num_jobs; k++) {
                const int s2 = g->status_host[k];
                if (s2 < 0 && s2 != HTC_ECORRUPT) {
                    items[i].status = s2;
                    snprintf(items[i].message, sizeof(items[i].message),
                             "GPU code-block %zu: %s", k - st[i].first_job, htc_strerror(s2));
                    htc_picture_release(&items[i].picture);
                    break;
                }
            }
        }
    }
done:
    if (events)
        for (int k = 0; k < 6; k++)
            cudaEventDestroy(ev[k]);
    for (size_t i = 0; i < n; i++)
        htc_stream_close(&st[i].own);
    free(st);
    return rc;
}

typedef struct DeviceRun {
    HtcDecoder *d;
    uint32_t k, threads;
    HtcBatchItem *items;
    size_t n;
    int rc;
} DeviceRun;

static void *device_worker(void *arg)
{
    DeviceRun *r = (DeviceRun *)arg;
    r->rc = batch_on(r->d, r->k, r->items, r->n, r->threads);
    return NULL;
}

/* A batch is cut into contiguous shares, one per device (settings.num_devices
 * from settings.device_id on), decoded at once from host threads of their own. */
extern "C" int htc_gpu_decode_batch(HtcDecoder *d, HtcBatchItem *items, size_t n)
{
    const int count = htc_cuda_device_count();
    uint32_t nd = HTC_MAX(d->settings.num_devices, 1u);
    if (count > d->settings.device_id)
        nd = HTC_MIN(nd, (uint32_t)(count - d->settings.device_id));
    nd = HTC_MIN(nd, (uint32_t)GPU_MAX_DEVICES);
    if (nd > 1 && n >= 2 * (size_t)nd) {
        int rc = 0;
        for (uint32_t k = 0; k < nd && rc >= 0; k++)
            if (!gpu_state(d, k, &rc))
                return rc; /* made here, one thread, before the shares run */
        DeviceRun runs[GPU_MAX_DEVICES];
        pthread_t th[GPU_MAX_DEVICES];
        int started[GPU_MAX_DEVICES] = { 0 };
        for (uint32_t k = 0; k < nd; k++) {
            runs[k].d = d;
            runs[k].k = k;
            runs[k].threads = HTC_MAX(d->num_threads / nd, 1u);
            runs[k].items = items + n * k / nd;
            runs[k].n = n * (k + 1) / nd - n * k / nd;
            runs[k].rc = 0;
        }
        for (uint32_t k = 1; k < nd; k++)
            started[k] = pthread_create(&th[k], NULL, device_worker, &runs[k]) == 0;
        device_worker(&runs[0]);
        for (uint32_t k = 1; k < nd; k++) {
            if (started[k])
                pthread_join(th[k], NULL);
            else
                device_worker(&runs[k]);
        }
        for (uint32_t k = 0; k < nd; k++)
            if (runs[k].rc < 0)
                return runs[k].rc;
        return 0;
    }
    return batch_on(d, 0, items, n, d->num_threads);
}
