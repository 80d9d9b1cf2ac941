/* htcodec: the GPU backend. Host side: a batch is cut into chunks of items;
 * each item of a chunk is parsed and run through tier 2 on the host's
 * threads and its jobs go into one table (in the compact form of
 * gpu_jobs.cuh), while up to GPU_COPIERS threads
 * copy the chunk's codestreams into pinned memory and on to the device
 * whole (codestreams already in pinned memory go as they are). Device
 * side, per chunk, on the stream of one of GPU_SLOTS slots (so that the
 * host plans the next chunks meanwhile): k_expand rebuilds the jobs and
 * lays the code-blocks' bytes out (k_gather those of blocks in several
 * runs), the code-block kernels
 * (HT cleanup-only blocks: k_ht_vlc + k_ht_warp, gpu_ht_warp.cuh; other HT
 * blocks: k_ht_blocks, the CPU's HT decoder compiled for the GPU; Part 1
 * blocks: k_t1_blocks_smem, the CPU's EBCOT decoder compiled for the GPU
 * with each block's flags in shared memory) decode
 * and dequantise, one set of launches per DWT level undoes that level for
 * every tile-component of the chunk (the last 5/3 level writing the output
 * where nothing comes after it), one launch applies the colour transforms
 * and one writes the other outputs. Items the GPU cannot
 * take (regions of interest, incomplete tiles, very long Part 1 blocks) are
 * decoded by the CPU path and copied up. */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <sched.h>

extern "C" {
#include "decode.h"
#include "transform/transform.h"
#include "cuda/gpu.h"
#include "cuda/gpu_pointer.h"
}

#include "cuda/gpu_dwt.cuh"
#include "cuda/gpu_ht.cuh"
#include "cuda/gpu_t1.cuh"
#include "cuda/gpu_kernels.cuh"
#include "cuda/gpu_jobs.cuh"

/* Pairs of output rows a thread of k_idwt_v53 makes. */
#ifndef GPU_V53_PAIRS
#define GPU_V53_PAIRS 4
#endif
/* Scratch a job of a chunk with Part 1 blocks gets (gpu_t1_scratch_need). */
#define GPU_T1_SCRATCH ((size_t)64 << 10)
/* k_t1_blocks_smem: threads a CUDA block, and the most shared memory a
 * thread's block flags may take (a 64x64 block: 9.3 KB; an H100 SM then
 * holds 22 blocks). H100, Part 1, k_t1_blocks (everything in global memory)
 * -> flags and magnitudes in shared memory -> flags alone there: the
 * mammogram (3138 blocks) 65.5 -> 39.9 -> 22.4 ms; 64 CT slices 85 -> 72.5
 * -> 36.2 ms; 1024 CT slices 461 -> 1003 -> 411 ms. */
#define GPU_T1_SMEM_THREADS 2
#define GPU_T1_SMEM_MAX ((size_t)48 << 10)
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

#include "cuda/gpu_ht_warp.cuh"

/* ---- kernels ------------------------------------------------------------ */

/* A job as the CPU's block decoders take it. */
static __device__ void gpu_block_params(const GpuJob *j, const uint8_t *pool, HtcBlockParams *bp)
{
    memset(bp, 0, sizeof(*bp));
    bp->data = pool + j->data_off;
    bp->num_segments = j->num_segs;
    for (uint32_t s = 0; s < j->num_segs; s++) {
        bp->seg_len[s] = j->seg_len[s];
        bp->seg_passes[s] = j->seg_passes[s];
    }
    bp->num_passes = j->num_passes;
    bp->zero_planes = j->zero_planes;
    bp->mb = j->mb;
    bp->width = j->w;
    bp->height = j->h;
    bp->cblk_style = j->cblk_style;
    bp->band = j->band;
}

/* Dequantisation in place of a block the decoders left u planes short of
 * (as src/decode_tile.c: htc_dequant_rev / htc_dequant_irr, and
 * HTC_UNDECODED_HALVES: twice the reconstruction points). */
static __device__ void gpu_block_dequant(int32_t *out, const GpuJob *j, uint32_t u)
{
    if (u & HTC_UNDECODED_HALVES) {
        const float half_delta = GPU_FMUL(0.5f, j->delta);
        for (uint32_t y = 0; y < j->h; y++)
            for (uint32_t x = 0; x < j->w; x++) {
                int32_t *p = out + (size_t)y * j->stride + x;
                if (j->reversible)
                    *p = *p / 2;
                else
                    *(float *)p = GPU_FMUL((float)*p, half_delta);
            }
        return;
    }
    if (u > 31)
        u = 31;
    if (j->reversible && !u)
        return;
    for (uint32_t y = 0; y < j->h; y++)
        for (uint32_t x = 0; x < j->w; x++) {
            int32_t *p = out + (size_t)y * j->stride + x;
            htw_store(p, *p, u, j->reversible, j->delta);
        }
}

/* HT code-blocks a thread a block, the CPU's HT decoder: all of them, or
 * (others_only) those k_ht_vlc + k_ht_warp do not take. */
__global__ void GPU_HT_BOUNDS k_ht_blocks(const GpuJob *jobs, uint32_t n, const uint8_t *pool, int32_t *arena,
                            int *status, uint8_t *scratch, size_t scratch_size, int others_only)
{
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n)
        return;
    const GpuJob j = jobs[i];
    if (!j.is_ht)
        return; /* k_t1_blocks */
    if (others_only) {
        uint32_t off, lcup, scup, plane;
        if (htw_plan(&j, pool + j.data_off, &off, &lcup, &scup, &plane) == 0)
            return;
    }
    HtcBlockParams bp;
    gpu_block_params(&j, pool, &bp);
    int32_t *out = arena + j.coef_off;
    uint32_t u = 0;
    const int rc = gpu_ht_decode_block(&bp, out, j.stride, &u, scratch + (size_t)i * scratch_size,
                                       scratch_size);
    status[i] = rc;
    if (rc < 0 && rc != HTC_ECORRUPT)
        return;
    gpu_block_dequant(out, &j, u);
}

/* Part 1 code-block job i, on one thread: the CPU's EBCOT decoder
 * (gpu_t1.cuh), its state in the job's scratch (own), or its flags in
 * `flags` (flags_size bytes) and the rest in own. */
static __device__ void gpu_t1_job(const GpuJob *jobs, uint32_t i, const uint8_t *pool, int32_t *arena, int *status,
                                  uint8_t *own, size_t own_size, uint8_t *flags, size_t flags_size)
{
    const GpuJob j = jobs[i];
    if (j.is_ht)
        return;
    HtcBlockParams bp;
    gpu_block_params(&j, pool, &bp);
    int32_t *out = arena + j.coef_off;
    uint32_t u = 0;
    int rc;
    if (flags) {
        const size_t mag = HTC_MIN(t1_mag_size(j.w, j.h), own_size);
        rc = t1_decode_block_in(&bp, out, j.stride, &u, flags, flags_size, own, mag, own + mag, own_size - mag);
    } else {
        rc = gpu_t1_decode_block(&bp, out, j.stride, &u, own, own_size);
    }
    status[i] = rc;
    if (rc < 0 && rc != HTC_ECORRUPT)
        return;
    gpu_block_dequant(out, &j, u);
}

/* Part 1 code-blocks, a thread a block, all state in global memory. */
__global__ void __launch_bounds__(64) k_t1_blocks(const GpuJob *jobs, uint32_t n, const uint8_t *pool,
                                                  int32_t *arena, int *status, uint8_t *scratch,
                                                  size_t scratch_size)
{
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        gpu_t1_job(jobs, i, pool, arena, status, scratch + (size_t)i * scratch_size, scratch_size, NULL, 0);
}

/* Part 1 code-blocks, a thread a block, each with its flags in shared
 * memory (state_bytes a thread; magnitudes and the segment copy stay in
 * its scratch). The flags are read and written at every coefficient of
 * every pass: from global memory that is the latency of L2 (a large
 * image's blocks do not fit L1), from shared memory a few tens of cycles. */
__global__ void __launch_bounds__(GPU_T1_SMEM_THREADS) k_t1_blocks_smem(const GpuJob *jobs, uint32_t n,
                                                                     const uint8_t *pool, int32_t *arena,
                                                                     int *status, uint8_t *scratch,
                                                                     size_t scratch_size, uint32_t state_bytes)
{
    extern __shared__ __align__(16) uint8_t t1_state[];
    const uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        gpu_t1_job(jobs, i, pool, arena, status, scratch + (size_t)i * scratch_size, scratch_size,
                   t1_state + (size_t)threadIdx.x * state_bytes, state_bytes);
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

/* HOR_SR of row y of one level, by threads t of nt that share the row
 * buffer `row` in shared memory and synchronise with sync(): each lifting
 * step updates one parity from the other, so its positions run in
 * parallel and give the sequential C code's values exactly. */
struct SyncBlock {
    __device__ void operator()() const { __syncthreads(); }
};
struct SyncWarp {
    __device__ void operator()() const { __syncwarp(); }
};

template <typename Sync>
static __device__ inline void gpu_hor_sr_row(const GpuDwtDesc &d, const int32_t *buf, int32_t *tmp, int32_t *row,
                                             uint32_t y, uint32_t t, uint32_t nt, Sync sync)
{
    const uint32_t n = d.w;
    const size_t o = d.off + (size_t)y * d.stride;
    const int odd = d.xodd;
    if (n == 1) {
        if (t == 0) {
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
    for (uint32_t k = t; k < n; k += nt) {
        const uint32_t pos = k < nl ? lo0 + 2 * k : hi0 + 2 * (k - nl);
        if (d.is97) {
            const float v = ((const float *)buf)[o + k];
            frow[pos] = GPU_FMUL(v, k < nl ? HTC_DWT97_K : HTC_DWT97_INV_K);
        } else {
            row[pos] = buf[o + k];
        }
    }
    sync();
    if (d.is97) {
        const float c[4] = { HTC_DWT97_DELTA, HTC_DWT97_GAMMA, HTC_DWT97_BETA, HTC_DWT97_ALPHA };
        for (int step = 0; step < 4; step++) {
            const uint32_t first = (step & 1) ? hi0 : lo0;
            for (uint32_t i = first + 2 * t; i < n; i += 2 * nt) {
                const float l = frow[i ? i - 1 : 1];
                const float r = frow[i + 1 < n ? i + 1 : i - 1];
                const float sm = GPU_FADD(l, r);
                const float pr = GPU_FMUL(sm, c[step]);
                frow[i] = GPU_FSUB(frow[i], pr);
            }
            sync();
        }
    } else {
        for (uint32_t i = lo0 + 2 * t; i < n; i += 2 * nt) {
            const int32_t hm = row[i ? i - 1 : i + 1], hp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_sub(row[i], gpu_add(gpu_add(hm, hp), 2) >> 2);
        }
        sync();
        for (uint32_t i = hi0 + 2 * t; i < n; i += 2 * nt) {
            const int32_t lm = row[i ? i - 1 : i + 1], lp = row[i + 1 < n ? i + 1 : i - 1];
            row[i] = gpu_add(row[i], gpu_add(lm, lp) >> 1);
        }
        sync();
    }
    for (uint32_t k = t; k < n; k += nt)
        tmp[o + k] = row[k];
}

/* HOR_SR of one level, one CUDA block a row (rows up to GPU_ROW_MAX). */
#define GPU_ROW_MAX 6144

__global__ void k_idwt_h_smem(const GpuDwtDesc *descs, const int32_t *buf, int32_t *tmp)
{
    __shared__ int32_t row[GPU_ROW_MAX];
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t y = blockIdx.x;
    if (y >= d.h || d.w == 0 || d.w > GPU_ROW_MAX)
        return; /* the whole CUDA block leaves together */
    gpu_hor_sr_row(d, buf, tmp, row, y, threadIdx.x, blockDim.x, SyncBlock());
}

/* The same for rows of up to GPU_ROWW_MAX samples, a warp a row and four
 * rows a CUDA block (a CT slice's 512 rows make 128 blocks, not 512). */
#define GPU_ROWW_MAX 1536

__global__ void __launch_bounds__(128) k_idwt_h_warp(const GpuDwtDesc *descs, const int32_t *buf, int32_t *tmp)
{
    __shared__ int32_t rows[4][GPU_ROWW_MAX];
    const GpuDwtDesc d = descs[blockIdx.y];
    const uint32_t lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
    const uint32_t y = blockIdx.x * 4 + wid;
    if (y >= d.h || d.w == 0 || d.w > GPU_ROWW_MAX)
        return; /* the whole warp leaves together */
    gpu_hor_sr_row(d, buf, tmp, rows[wid], y, lane, 32, SyncWarp());
}

/* Output rows straight into an output plane (a tile-component's last level). */
struct GpuPutOut {
    const GpuCvtDesc *c;
    uint32_t x;
    __device__ void operator()(uint32_t r, int32_t v) const { gpu_cvt_put_int(*c, x, r, v); }
};

/* VER_SR of a 5/3 level in one launch: a thread GPU_V53_PAIRS pairs of
 * output rows of one column, from the columns of tmp (gpu_idwt53_pairs_to:
 * a pair one after the other loads two inputs, alone five or six). A
 * tile-component's last level with d.cvt writes its output plane, not the
 * arena: the arena would only be read back once by k_convert. */
__global__ void k_idwt_v53(const GpuDwtDesc *descs, int32_t *buf, const int32_t *tmp, const GpuCvtDesc *cvts)
{
    const GpuDwtDesc d = descs[blockIdx.z];
    const uint32_t x = blockIdx.x * blockDim.x + threadIdx.x, k = blockIdx.y * GPU_V53_PAIRS;
    if (x >= d.w || d.h == 0 || d.is97)
        return;
    const size_t o = d.off + x;
    if (d.cvt) {
        const GpuPutOut put = { &cvts[d.cvt - 1], x };
        gpu_idwt53_pairs_to(tmp + o, d.stride, d.h, d.yodd, k, k + GPU_V53_PAIRS, put);
    } else {
        const GpuPutRows put = { buf + o, d.stride };
        gpu_idwt53_pairs_to(tmp + o, d.stride, d.h, d.yodd, k, k + GPU_V53_PAIRS, put);
    }
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

/* A run of len bytes from src to dst, then zeros up to total, by the 32
 * lanes of a warp (runs are a few hundred bytes to a few KB: a warp's byte
 * loads read whole sectors). */
static __device__ void gpu_copy_run(uint32_t lane, const uint8_t *src, uint8_t *dst, uint32_t len, uint32_t total)
{
    /* four loads in flight a lane: a run is a few round trips, not 70 */
    uint32_t b = lane;
    for (; b + 96 < total; b += 128) {
        uint8_t v[4];
#pragma unroll
        for (int q = 0; q < 4; q++)
            v[q] = b + 32 * q < len ? src[b + 32 * q] : 0;
#pragma unroll
        for (int q = 0; q < 4; q++)
            dst[b + 32 * q] = v[q];
    }
    for (; b < total; b += 32)
        dst[b] = b < len ? src[b] : 0;
}

/* The byte pool's runs of whole jobs (those not in wire form), a warp a run. */
__global__ void __launch_bounds__(256) k_gather(const GpuGather *ops, uint32_t n, const uint8_t *raw,
                                                uint8_t *pool)
{
    const uint32_t i = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (i >= n)
        return;
    const GpuGather g = ops[i];
    gpu_copy_run(threadIdx.x & 31, raw + g.src, pool + g.dst, g.len, g.len + g.pad);
}

/* The chunk's jobs from their wire form, a warp a job: the job rebuilt
 * from its record and band (or, num_passes 0, copied whole from `full`),
 * and its bytes copied from the raw codestreams into the pool. */
__global__ void __launch_bounds__(256) k_expand(const GpuJobWire *wires, uint32_t n, const GpuBandDesc *bands,
                                                const GpuJob *full, GpuJob *jobs, const uint8_t *raw, uint8_t *pool)
{
    const uint32_t lane = threadIdx.x & 31;
    const uint32_t i = blockIdx.x * 8 + (threadIdx.x >> 5);
    if (i >= n)
        return;
    const GpuJobWire x = wires[i];
    if (!x.num_passes) {
        if (lane == 0)
            jobs[i] = full[x.src];
        return;
    }
    const GpuBandDesc bd = bands[x.band];
    if (lane == 0) {
        GpuJob j;
        gpu_job_from_wire(x, bd, &j);
        jobs[i] = j;
    }
    const uint32_t len = x.len0 + x.len1;
    gpu_copy_run(lane, raw + bd.raw_base + x.src, pool + bd.pool_base + x.dst, len,
                 (uint32_t)gpu_block_bytes(len, HTC_BLOCK_PAD));
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
    if (d.fused)
        return; /* its last DWT level wrote it */
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
        gpu_cvt_store(d, x, y, v);
    }
}

/* ---- host side ---------------------------------------------------------- */

/* How a batch flows. It is cut into chunks of items (about GPU_CHUNK_ITEMS
 * items or GPU_CHUNK_BYTES compressed bytes; HTC_GPU_CHUNK=N in the
 * environment sets the items, 0 one chunk). Each chunk goes through one of
 * GPU_SLOTS slots, each with its own stream, event, pinned host buffers and
 * device buffers: while chunk c's kernels run on its slot's stream (its
 * copies in on the device's one copy stream, in order), the host threads
 * plan chunk c+1 into the next slot. Before a slot
 * takes a new chunk, its event is waited for and its old chunk finished
 * (job statuses read, host outputs copied out of its pinned staging), by
 * the same threads in the same pass as the new plan. Several slots: a
 * chunk's serial VLC kernel is one code-block's latency with the SMs
 * mostly idle, which other chunks' kernels fill (H100, 2048 CT slices,
 * earlier: 15.1 ms with two slots, 12.6 with three, 13.2 with four).
 * Four since the host got cheaper (session 6, alternating rounds, three
 * slots then four: H100 8192 pinned CT slices streamed 42.2, 41.4 -> 39.5,
 * 39.3 ms, 1024 pageable 7.26, 7.24 -> 6.91, 7.02; 4x H200, 8192 streamed
 * on one GPU 37.7, 37.8 -> 35.3, 35.1, on four 11.0, 11.1, 10.9 -> 10.4,
 * 10.3, 10.3). HTC_GPU_SLOTS=N tries others, up to GPU_MAX_SLOTS. */
#ifndef GPU_SLOTS
#define GPU_SLOTS 4
#endif
#define GPU_MAX_SLOTS 6
/* Chunks of 128 CT slices left the block kernels too few threads to hide
 * their latency (H200: 1024 slices in 8 chunks 19 ms, in 4 chunks 13.6 ms,
 * in one 15.9 ms). */
#ifndef GPU_CHUNK_ITEMS
#define GPU_CHUNK_ITEMS 256
#endif
#ifndef GPU_CHUNK_BYTES
#define GPU_CHUNK_BYTES ((size_t)64 << 20)
#endif
#define GPU_MAX_PARTS 64
/* Growing chunks at a batch's start (see batch_on). H200 x2 machine, 2048
 * CT slices on one GPU, with GPU_COPIERS: a quarter then full 12.1-13.1 ms,
 * 1/4, 1/2, full 11.4-11.6. */
#ifndef GPU_RAMP
#define GPU_RAMP 2
#endif
#ifndef GPU_PLAN_THREADS
#define GPU_PLAN_THREADS 16
#endif
/* Threads that copy a chunk's codestreams into pinned memory: the memory
 * saturates with a few (H200 x2 machine, non-temporal stores into pinned
 * memory: 8 threads 76 GB/s, 16 65, 32 38; 1024 CT slices 7.5-8.0 -> 6.9-7.1
 * ms with 8 instead of 32). */
#ifndef GPU_COPIERS
#define GPU_COPIERS 8
#endif
/* Bytes of a chunk's codestreams per host copy and DMA: large enough for
 * full link speed (1 MB: 47 GB/s pinned on the H100 machine), small enough
 * to spread one image over the threads. */
#define GPU_RAW_PIECE ((size_t)1 << 20)
/* From pinned memory, nothing is copied: a DMA for each run of up to 64 MB
 * (1 MB ones lose 12% of the link on an H200; with four GPUs pulling at
 * once, 4 MB DMAs get 35.3 GB/s each and 64 MB ones 36.7, bench/h2d_bw
 * --multi; four GPUs decoding 8192 pinned CT slices, streamed, median of 4
 * rounds: 4 MB 10.69 ms, 16 MB 10.62, 64 MB 10.42). */
#define GPU_RAW_PIECE_PINNED ((size_t)64 << 20)
#define GPU_ALIGN(x) (((x) + 255) & ~(size_t)255)

/* A growable array on the host. */
typedef struct Vec {
    void *p;
    size_t n, cap, elem;
} Vec;

/* Room for one more element, not cleared: the caller writes all of it. */
static void *vec_add(Vec *v)
{
    if (v->n == v->cap) {
        const size_t cap = v->cap ? v->cap * 2 : 256;
        void *q = realloc(v->p, cap * v->elem);
        if (!q)
            return NULL;
        v->p = q;
        v->cap = cap;
    }
    return (uint8_t *)v->p + v->n++ * v->elem;
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

/* Pinned host memory that only grows; the first `keep` bytes survive a
 * move. Growing synchronises the device (cudaFreeHost): rare, since the
 * buffers are kept between chunks and batches. */
typedef struct PinBuf {
    uint8_t *p;
    size_t size;
} PinBuf;

static int pin_reserve(PinBuf *b, size_t need, size_t keep, size_t min_cap)
{
    if (b->size >= need)
        return 0;
    size_t cap = b->size ? b->size * 2 : min_cap;
    while (cap < need)
        cap *= 2;
    uint8_t *q = NULL;
    if (cudaHostAlloc((void **)&q, cap, cudaHostAllocDefault) != cudaSuccess) {
        cudaGetLastError();
        return HTC_ENOMEM;
    }
    if (b->p) {
        if (keep)
            memcpy(q, b->p, keep);
        cudaFreeHost(b->p);
    }
    b->p = q;
    b->size = cap;
    return 0;
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
    uint32_t part;             /* the plan part that planned it */
    size_t staging_off;        /* host output: its place in the chunk's staging buffer */
    size_t first_job, num_jobs; /* its jobs in the chunk's table */
    size_t raw_off;            /* its bytes in the slot's raw buffer */
} ItemState;

/* One host thread's share of a chunk's plan: the items it took, planned
 * into its own vectors, with pool, arena and table offsets relative to its
 * share; sealing adds the shares' prefixes. Kept between chunks. */
typedef struct PlanPart {
    HtcDecoder *d;             /* the GPU decoder (read only here) */
    HtcDecoder *cpu;           /* this part's CPU decoder for fallbacks */
    int device;                /* the CUDA device this share is planned for */
    int *route;                /* NULL, or per item of the call (indexed from
                                * route_base): 1 + the device its output buffer
                                * is on, where that is another of the call's */
    HtcBatchItem *route_base;
    int dev_lo, dev_hi;        /* the call's devices, [dev_lo, dev_hi) */
    HtcJobTable jt;
    Vec wires, bands, fulls;   /* its jobs (GpuJobWire), their bands, whole jobs (gpu_jobs.cuh) */
    Vec levels, mcts, cvts, gathers;
    size_t pool_used;          /* bytes of the device pool its blocks take */
    size_t arena_elems, staging;
    uint32_t max_levels;
    int has_t1;                /* Part 1 blocks planned: the chunk's scratch is GPU_T1_SCRATCH a job */
    size_t t1_flags_max;       /* its largest Part 1 block's flags (t1_flags_size) */
    /* prefixes in the chunk, at sealing */
    size_t job0, band0, full0, pool0, arena0, staging0, mct0, cvt0, gather0;
} PlanPart;

/* One slot of the pipeline: a chunk's host plan, device buffers and stream. */
typedef struct Slot {
    cudaStream_t stream;       /* the chunk's kernels and copies out */
    cudaStream_t h2d;          /* its copies in: the device's copy stream, or `stream` */
    cudaEvent_t done;          /* after the chunk's last copy out */
    cudaEvent_t raw_done;      /* after the chunk's raw DMAs (which read hraw) */
    cudaEvent_t in_done;       /* after its tables, the last of its copies in (on h2d) */
    cudaEvent_t raw_free;      /* raw_early: after the kernels that read its raw bytes */
    int raw_early;             /* the next chunk's raw DMAs wait for raw_free, its tables for done */
    int raw_free_rec;          /* raw_free stands for the chunk's kernels */
    int raw_recorded;          /* raw_done stands for its last chunk's DMAs */
    cudaEvent_t ev[8];         /* HTC_GPU_TIMING: stage boundaries; ev[6] or ev[7] before the raw DMAs */
    int raw_ev;                /* 6 or 7: the one its chunk's raw DMAs had (0: none) */
    int raw_ev_next;           /* the one the chunk being planned has (the old one is printed later) */
    int have_ev;
    int pending;               /* a chunk waits to be finished */
    int submitted;             /* its work went onto the stream: wait for `done` */
    int ran;                   /* the GPU produced its outputs and statuses */
    int sealed;                /* its tables are sealed, for chunk_launch */
    int fail;                  /* 0, or the status all its GPU items get */
    char fail_msg[160];
    size_t i0, i1;             /* its items */
    HtcBatchItem *items;       /* the call's items and host states that i0..i1 index */
    ItemState *st;
    int owns_st;               /* the last chunk of its share: frees st when finished */
    uint64_t seq;              /* its call's number (htc_decode_batch_submit's ticket) */
    size_t index;              /* its number in the batch */
    uint32_t np;               /* plan parts used */
    PlanPart parts[GPU_MAX_PARTS];
    DevBuf raw, pool, tabs, jobs, status, scratch, arena, tmp, staging;
    PinBuf hraw, htabs, hstatus, hstaging;
    size_t raw_bytes;          /* the chunk's codestreams, back to back */
    size_t nj, pool_bytes, staging_bytes, ngather;
    size_t nb, nf, nl, nm, ncv, arena_elems; /* its tables' other counts (chunk_seal_prepare) */
    size_t scratch_size;       /* per job: GPU_HT_SCRATCH, or GPU_T1_SCRATCH with Part 1 blocks */
    int has_t1;
    size_t t1_flags_max;       /* over its parts */
    double plan_ms, submit_ms, seal_ms; /* seal_ms: the sealing pass, a part of submit_ms */
    double t_plan, t_submit;   /* HTC_GPU_TIMING: plan start, submission end, ms from the batch's start */
    size_t raw_pieces;         /* DMAs of its codestreams queued */
    int raw_err;               /* one of them failed */
} Slot;

/* Host threads kept between calls. pool_run's tasks are claimed one at a
 * time by whichever thread comes first, the caller too: a worker the system
 * wakes late finds them taken and holds nothing up (a pass waits for its
 * tasks, not for every thread). */
typedef void (*PoolFn)(void *arg, uint32_t k, uint32_t nk);
struct PlanPool;
typedef struct PoolWorker {
    struct PlanPool *pool;
    uint32_t index;
    uint64_t seen;             /* the last generation it looked at */
} PoolWorker;

typedef struct PlanPool {
    pthread_mutex_t mu;
    pthread_cond_t go, idle;
    int ready;                 /* mu, go and idle exist */
    int device;
    pthread_t th[GPU_MAX_PARTS];
    PoolWorker w[GPU_MAX_PARTS];
    uint32_t started;          /* workers 1..started run */
    uint64_t gen;              /* one per pool_run (mu) */
    uint64_t claim;            /* atomic: the generation's low 32 bits, then the next task */
    uint32_t done;             /* atomic: tasks of this generation finished */
    int quit;
    PoolFn fn;
    void *arg;
    uint32_t nk;
    /* the pass pool_start began, for pool_join (the caller's thread only) */
    PoolFn pass_fn;
    void *pass_arg;
    uint32_t pass_nk;
    int pass_async;            /* the workers took it */
} PlanPool;

/* Runs the tasks of generation gen that are left; returns when none is. */
static void pool_claim(PlanPool *p, uint64_t gen, PoolFn fn, void *arg, uint32_t nk)
{
    const uint64_t tag = (gen & 0xFFFFFFFFu) << 32;
    uint64_t c = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
    for (;;) {
        if ((c & ~(uint64_t)0xFFFFFFFFu) != tag || (uint32_t)c >= nk)
            return;
        if (!__atomic_compare_exchange_n(&p->claim, &c, c + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue; /* c is now the current value */
        fn(arg, (uint32_t)c, nk);
        if (__atomic_add_fetch(&p->done, 1, __ATOMIC_ACQ_REL) == nk) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->idle);
            pthread_mutex_unlock(&p->mu);
        }
        c = __atomic_load_n(&p->claim, __ATOMIC_ACQUIRE);
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#else
#define cpu_relax() ((void)0)
#endif

static double host_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* How long a thread of the pool watches for what it waits for before it
 * sleeps, in microseconds (HTC_GPU_SPIN_US; default 0: sleep at once).
 * Passes come back to back and a sleeping thread takes tens of
 * microseconds to wake, but on a host whose every core has a pool thread
 * (four GPUs, 64 cores) spinning costs more than it saves: 4x H200, 8192
 * CT slices over four GPUs, six rounds, streamed median 11.06 ms with 100
 * us of yielding spin against 10.50 without, one call 14.84 against
 * 13.05. */
static double pool_spin_us(void)
{
    static int cached = -1; /* relaxed atomics: pools of several devices ask at once */
    int v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v < 0) {
        const char *e = getenv("HTC_GPU_SPIN_US");
        const long x = e && *e ? strtol(e, NULL, 10) : 0;
        v = (int)HTC_MIN(HTC_MAX(x, 0L), 100000L);
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v;
}

static int gen_moved(const void *x, uint64_t was) { return __atomic_load_n((const uint64_t *)x, __ATOMIC_ACQUIRE) != was; }
static int count_reached(const void *x, uint64_t want)
{
    return __atomic_load_n((const uint32_t *)x, __ATOMIC_ACQUIRE) >= want;
}
static int flag_set(const void *x, uint64_t unused)
{
    (void)unused;
    return __atomic_load_n((const int *)x, __ATOMIC_ACQUIRE) != 0;
}

/* Waits for what another thread is about to do (a short wait: spin, then
 * yield). */
static void wait_until(int (*ready)(const void *, uint64_t), const void *x, uint64_t v)
{
    for (unsigned n = 0; !ready(x, v); n++)
        if (n > 256)
            sched_yield();
}

/* Spins until ready(x, v) (returns 1) or the spin time is over (returns 0),
 * yielding the core every few microseconds to threads with work. */
static int spin_until(int (*ready)(const void *, uint64_t), const void *x, uint64_t v)
{
    const double limit = pool_spin_us();
    if (limit <= 0)
        return 0;
    const double until = host_ms() + limit / 1e3;
    for (unsigned n = 1;; n++) {
        if (ready(x, v))
            return 1;
        cpu_relax();
        if (!(n & 63)) {
            if (host_ms() > until)
                return 0;
            sched_yield();
        }
    }
}

/* A worker takes a pass without the pool's mutex: 15 workers taking it in
 * turn, each woken by the one before, started their tasks 0.3 ms late on
 * average (4x H200, 16 threads a GPU). The pass's function, argument and
 * task count are stored before its generation (release) and read after it
 * (acquire); a worker that reads a later pass's values, or sees the pass
 * end meanwhile, takes nothing, as pool_claim checks the generation. */
static void *pool_main(void *arg)
{
    PoolWorker *w = (PoolWorker *)arg;
    PlanPool *p = w->pool;
    cudaSetDevice(p->device);
    for (;;) {
        uint64_t gen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
        if (gen == w->seen && !__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE)) {
            /* watch for it a while (HTC_GPU_SPIN_US), then sleep */
            if (!spin_until(gen_moved, &p->gen, w->seen)) {
                pthread_mutex_lock(&p->mu);
                while (!p->quit && p->gen == w->seen)
                    pthread_cond_wait(&p->go, &p->mu);
                pthread_mutex_unlock(&p->mu);
            }
            gen = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
        }
        if (__atomic_load_n(&p->quit, __ATOMIC_ACQUIRE))
            break;
        if (gen == w->seen)
            continue;
        w->seen = gen;
        const PoolFn fn = __atomic_load_n(&p->fn, __ATOMIC_RELAXED);
        void *const a = __atomic_load_n(&p->arg, __ATOMIC_RELAXED);
        const uint32_t nk = __atomic_load_n(&p->nk, __ATOMIC_RELAXED);
        pool_claim(p, gen, fn, a, nk);
    }
    return NULL;
}

static void pool_init(PlanPool *p, int device)
{
    p->device = device;
    if (pthread_mutex_init(&p->mu, NULL) != 0)
        return;
    if (pthread_cond_init(&p->go, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        return;
    }
    if (pthread_cond_init(&p->idle, NULL) != 0) {
        pthread_cond_destroy(&p->go);
        pthread_mutex_destroy(&p->mu);
        return;
    }
    p->ready = 1; /* else every task runs on the calling thread */
}

static void pool_close(PlanPool *p)
{
    if (!p->ready)
        return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->quit, 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t k = 1; k <= p->started; k++)
        pthread_join(p->th[k], NULL);
    pthread_cond_destroy(&p->idle);
    pthread_cond_destroy(&p->go);
    pthread_mutex_destroy(&p->mu);
    p->ready = 0;
    p->started = 0;
}

/* Starts fn(arg, k, nk) for k in [0, nk) on the pool's workers and returns
 * at once: the caller may do other work, then pool_join runs what tasks
 * are left and waits for the rest. Workers are started on first need and
 * kept. Without workers, pool_join runs every task (so tasks may wait for
 * what the caller does in between). */
static void pool_start(PlanPool *p, uint32_t nk, PoolFn fn, void *arg)
{
    nk = HTC_MAX(HTC_MIN(nk, (uint32_t)GPU_MAX_PARTS), 1u);
    while (p->ready && p->started + 1 < nk) {
        PoolWorker *w = &p->w[p->started + 1];
        w->pool = p;
        w->index = p->started + 1;
        pthread_mutex_lock(&p->mu);
        w->seen = p->gen;
        pthread_mutex_unlock(&p->mu);
        if (pthread_create(&p->th[w->index], NULL, pool_main, w) != 0)
            break; /* the caller takes their share */
        p->started++;
    }
    p->pass_fn = fn;
    p->pass_arg = arg;
    p->pass_nk = nk;
    p->pass_async = p->ready && p->started && nk > 1;
    if (!p->pass_async)
        return;
    pthread_mutex_lock(&p->mu);
    __atomic_store_n(&p->fn, fn, __ATOMIC_RELAXED);
    __atomic_store_n(&p->arg, arg, __ATOMIC_RELAXED);
    __atomic_store_n(&p->nk, nk, __ATOMIC_RELAXED);
    __atomic_store_n(&p->done, 0u, __ATOMIC_RELAXED);
    /* the tasks first, then the generation that workers watch unlocked */
    __atomic_store_n(&p->claim, ((p->gen + 1) & 0xFFFFFFFFu) << 32, __ATOMIC_RELEASE);
    __atomic_store_n(&p->gen, p->gen + 1, __ATOMIC_RELEASE);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
}

static void pool_join(PlanPool *p)
{
    const uint32_t nk = p->pass_nk;
    if (!p->pass_async) {
        for (uint32_t k = 0; k < nk; k++)
            p->pass_fn(p->pass_arg, k, nk);
        return;
    }
    pool_claim(p, p->gen, p->pass_fn, p->pass_arg, nk);
    if (spin_until(count_reached, &p->done, nk))
        return;
    pthread_mutex_lock(&p->mu);
    while (__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) < nk)
        pthread_cond_wait(&p->idle, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

/* Runs fn(arg, k, nk) for k in [0, nk), on up to nk threads, and returns
 * when all have returned. */
static void pool_run(PlanPool *p, uint32_t nk, PoolFn fn, void *arg)
{
    pool_start(p, nk, fn, arg);
    pool_join(p);
}


typedef struct GpuState {
    int device;
    PlanPool pool;
    Slot slot[GPU_MAX_SLOTS];
    /* The slots form a ring, used in turn: from next_slot on, the free ones
     * come first, then the pending ones, oldest first. Chunks are so
     * finished in the order they were submitted, across calls too. */
    uint32_t nslots, next_slot;
    cudaStream_t copy;         /* every slot's copies in, one after another (NULL: each on its slot's stream) */
    cudaEvent_t t0;            /* HTC_GPU_TIMING: the batch's start on the device */
    uint32_t t1_smem_slots;    /* SMs, where k_t1_blocks_smem can run (else 0) */
    int have_t0;
    int t0_kept;               /* HTC_GPU_TIMING=2: t0 (and t0_host) stand from the first batch on */
    double t0_host;
} GpuState;

extern "C" void htc_gpu_free(void *p)
{
    if (p)
        cudaFree(p);
}

static void part_free(PlanPart *pp)
{
    free(pp->wires.p);
    free(pp->bands.p);
    free(pp->fulls.p);
    free(pp->levels.p);
    free(pp->mcts.p);
    free(pp->cvts.p);
    free(pp->gathers.p);
    if (pp->cpu)
        htc_decoder_close(&pp->cpu);
    if (pp->d)
        htc_job_table_free(&pp->d->ctx, &pp->jt);
    memset(pp, 0, sizeof(*pp));
}

/* A decoder's GPU states, one per device it spreads batches over. */
#define GPU_MAX_DEVICES 16
struct AsyncCall;
struct AsyncJob;
/* A thread of its own per device, kept while the decoder lives, for
 * submitted batches over several devices (gpu_async below). */
typedef struct AsyncWorker {
    struct GpuSet *set;
    HtcDecoder *d;
    uint32_t k;                /* the decoder's k-th device */
    pthread_t th;
    int started;
    struct AsyncJob *head, *tail; /* its queue (GpuSet.mu) */
    int busy;                  /* running a job (mu) */
    uint64_t planned;          /* the last call it planned its share of (mu) */
    uint64_t fin;              /* every chunk of calls up to this one is finished (mu) */
} AsyncWorker;

typedef struct GpuSet {
    GpuState *dev[GPU_MAX_DEVICES];
    /* gpu_async: the workers, the calls they have not completed, in order */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int have_mu, quit;
    uint32_t nworkers;
    AsyncWorker w[GPU_MAX_DEVICES];
    struct AsyncCall *calls, *calls_tail;
    int drain_rc;              /* a drain job's failure, for the next wait (mu) */
    char drain_msg[256];
} GpuSet;

static void slot_free(Slot *s)
{
    if (s->stream)
        cudaStreamSynchronize(s->stream);
    DevBuf *bufs[] = { &s->raw, &s->pool, &s->tabs, &s->jobs, &s->status, &s->scratch, &s->arena, &s->tmp, &s->staging };
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        if (bufs[i]->p)
            cudaFree(bufs[i]->p);
    PinBuf *pins[] = { &s->hraw, &s->htabs, &s->hstatus, &s->hstaging };
    for (size_t i = 0; i < sizeof(pins) / sizeof(pins[0]); i++)
        if (pins[i]->p)
            cudaFreeHost(pins[i]->p);
    for (int i = 0; i < GPU_MAX_PARTS; i++)
        part_free(&s->parts[i]);
    if (s->have_ev)
        for (int k = 0; k < 8; k++)
            cudaEventDestroy(s->ev[k]);
    if (s->done)
        cudaEventDestroy(s->done);
    if (s->raw_done)
        cudaEventDestroy(s->raw_done);
    if (s->in_done)
        cudaEventDestroy(s->in_done);
    if (s->raw_free)
        cudaEventDestroy(s->raw_free);
    if (s->stream)
        cudaStreamDestroy(s->stream);
    memset(s, 0, sizeof(*s));
}

static void gpu_state_free(GpuState *g)
{
    cudaSetDevice(g->device);
    pool_close(&g->pool);
    if (g->copy)
        cudaStreamSynchronize(g->copy);
    for (int i = 0; i < GPU_MAX_SLOTS; i++)
        slot_free(&g->slot[i]);
    if (g->copy)
        cudaStreamDestroy(g->copy);
    if (g->have_t0)
        cudaEventDestroy(g->t0);
    free(g);
}

static int async_quiesce(HtcDecoder *d);
static void async_stop(GpuSet *set);

extern "C" void htc_gpu_close(HtcDecoder *d)
{
    if (!d || !d->gpu)
        return;
    async_quiesce(d); /* submitted items get their statuses */
    htc_gpu_wait(d, UINT64_MAX);
    GpuSet *set = (GpuSet *)d->gpu;
    async_stop(set);
    for (int k = 0; k < GPU_MAX_DEVICES; k++)
        if (set->dev[k])
            gpu_state_free(set->dev[k]);
    free(set);
    d->gpu = NULL;
}

/* An integer knob from the environment, clamped, for experiments. */
static int env_setting(const char *name, int dflt, int lo, int hi)
{
    const char *e = getenv(name);
    if (!e || !*e)
        return dflt;
    return HTC_MAX(HTC_MIN(atoi(e), hi), lo);
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
    g->nslots = (uint32_t)env_setting("HTC_GPU_SLOTS", GPU_SLOTS, 1, GPU_MAX_SLOTS);
    int ok = cudaSetDevice(g->device) == cudaSuccess;
    /* The chunks' copies in go one after another on one stream
     * (HTC_GPU_COPY_STREAM=0: each on its slot's stream). On their slots'
     * streams, the driver spreads them over copy engines that share the
     * link: each chunk's bytes then end later, and its kernels start later
     * (4x H200: a chunk's 40 MB took 3.3 ms beside the next one's, 1 ms
     * alone). */
    if (ok && env_setting("HTC_GPU_COPY_STREAM", 1, 0, 1))
        ok = cudaStreamCreateWithFlags(&g->copy, cudaStreamNonBlocking) == cudaSuccess;
    for (int i = 0; i < GPU_MAX_SLOTS && ok; i++) {
        Slot *s = &g->slot[i];
        ok = cudaStreamCreateWithFlags(&s->stream, cudaStreamNonBlocking) == cudaSuccess &&
             cudaEventCreateWithFlags(&s->done, cudaEventDisableTiming) == cudaSuccess &&
             cudaEventCreateWithFlags(&s->raw_done, cudaEventDisableTiming) == cudaSuccess &&
             cudaEventCreateWithFlags(&s->in_done, cudaEventDisableTiming) == cudaSuccess &&
             cudaEventCreateWithFlags(&s->raw_free, cudaEventDisableTiming) == cudaSuccess;
        s->h2d = g->copy ? g->copy : s->stream;
        /* A slot's next codestreams may land once the kernels that read its
         * raw bytes are done; its tables still wait for the whole chunk
         * (HTC_GPU_RAW_EARLY=0: both wait). 2x H200 with the link shared by a
         * DMA hog (bound by the link, as four GPUs are): 22.52 against 22.68
         * ms a call; bound by the kernels: the same. */
        s->raw_early = g->copy && env_setting("HTC_GPU_RAW_EARLY", 1, 0, 1);
        for (int q = 0; q < GPU_MAX_PARTS; q++) {
            PlanPart *pp = &s->parts[q];
            pp->wires.elem = sizeof(GpuJobWire);
            pp->bands.elem = sizeof(GpuBandDesc);
            pp->fulls.elem = sizeof(GpuJob);
            pp->levels.elem = sizeof(LevelDesc);
            pp->mcts.elem = sizeof(GpuMctDesc);
            pp->cvts.elem = sizeof(GpuCvtDesc);
            pp->gathers.elem = sizeof(GpuGather);
            htc_job_table_init(&pp->jt);
        }
    }
    if (!ok) {
        cudaGetLastError();
        gpu_state_free(g);
        *rc = htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d cannot be used", device);
        return NULL;
    }
    if (gpu_ht_upload_tables() < 0 || gpu_t1_upload_tables() < 0) {
        gpu_state_free(g);
        *rc = htc_fail(&d->ctx, HTC_EDEVICE, "copying the HT tables to CUDA device %d", device);
        return NULL;
    }
    /* k_t1_blocks_smem asks for more than the default 48 KB a CUDA block */
    int sms = 0;
    if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device) == cudaSuccess && sms > 0 &&
        cudaFuncSetAttribute((const void *)k_t1_blocks_smem, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             (int)(GPU_T1_SMEM_THREADS * GPU_T1_SMEM_MAX)) == cudaSuccess)
        g->t1_smem_slots = (uint32_t)sms;
    cudaGetLastError();
    pool_init(&g->pool, device);
    set->dev[k] = g;
    return g;
}

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

/* The wire record of job j (its len bytes one run from raw offset src,
 * its tile-component's first sample at coef_base), against the part's last
 * band or a new one; 0 when the record would not give j back byte for
 * byte (then the whole job goes). Part-relative offsets: sealing adds the
 * part's prefixes to the bands' bases, and its band prefix to w->band. */
static int wire_job(PlanPart *pl, const GpuJob *j, uint64_t src, uint64_t len, uint64_t coef_base, GpuJobWire *w)
{
    /* What the round trip below cannot see: the run's length (the kernel
     * copies it as 32 bits) and its raw offset (not in a job). */
    if (len != (uint64_t)j->seg_len[0] + (j->num_segs > 1 ? j->seg_len[1] : 0) ||
        gpu_block_bytes(len, HTC_BLOCK_PAD) > UINT32_MAX)
        return 0;
    GpuBandDesc nb;
    memset(&nb, 0, sizeof(nb));
    nb.raw_base = src;
    nb.pool_base = j->data_off;
    nb.coef_base = coef_base;
    nb.stride = j->stride;
    nb.cblk_style = j->cblk_style;
    nb.delta = j->delta;
    nb.reversible = j->reversible;
    nb.mb = j->mb;
    nb.band = j->band;
    nb.is_ht = j->is_ht;
    /* The part's last band serves if all but its bases match. */
    const GpuBandDesc *lb = pl->bands.n ? (const GpuBandDesc *)pl->bands.p + pl->bands.n - 1 : NULL;
    int same = 0;
    if (lb && src >= lb->raw_base && src - lb->raw_base <= UINT32_MAX && j->data_off >= lb->pool_base) {
        GpuBandDesc cmp = nb;
        cmp.raw_base = lb->raw_base;
        cmp.pool_base = lb->pool_base;
        same = !memcmp(&cmp, lb, sizeof(cmp));
    }
    const GpuBandDesc *b = same ? lb : &nb;
    /* Fields cut short here (more segments or passes, offsets past 32 bits)
     * do not come back: the round trip sends such a job whole. */
    memset(w, 0, sizeof(*w));
    w->src = (uint32_t)(src - b->raw_base);
    w->dst = (uint32_t)(j->data_off - b->pool_base);
    w->coef = (uint32_t)(j->coef_off - coef_base);
    w->band = (uint32_t)(same ? pl->bands.n - 1 : pl->bands.n);
    w->len0 = j->seg_len[0];
    w->len1 = (uint16_t)(j->num_segs > 1 ? j->seg_len[1] : 0);
    w->num_passes = (uint8_t)j->num_passes;
    w->zero_planes = j->zero_planes;
    w->w = j->w;
    w->h = j->h;
    GpuJob back;
    gpu_job_from_wire(*w, *b, &back);
    if (memcmp(&back, j, sizeof(back)) != 0)
        return 0;
    if (!same) {
        GpuBandDesc *a = (GpuBandDesc *)vec_add(&pl->bands);
        if (!a)
            return 0; /* the whole job goes instead */
        *a = nb;
    }
    return 1;
}

/* Plans one tile of one item: tier 2, its jobs and their bytes, its
 * tile-component areas, DWT levels, colour transform and output areas.
 * HTC_EUNSUPPORTED sends the item to the CPU path. raw_cs: where the
 * item's codestream starts in the slot's raw bytes; cs_avail: its bytes
 * there from that point. */
static int plan_tile(PlanPart *pl, const HtcStream *s, const HtcDecodeParams *p, const HtcDecodeGeom *geo,
                     const HtcPicture *pic, uint8_t *out_base, int staged, uint32_t ti, uint64_t raw_cs,
                     size_t cs_avail)
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
    size_t last_level[64];     /* its last DWT level in pl->levels, or SIZE_MAX */
    uint32_t outs[64] = { 0 }; /* output planes it goes to */
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
        last_level[c] = L ? pl->levels.n + L - 1 : SIZE_MAX;
        for (uint32_t r = 1; r <= L; r++) {
            HtcResGeom rg;
            htc_t2_res_rect(s, t, c, nl, r, &rg);
            LevelDesc *ld = (LevelDesc *)vec_add(&pl->levels);
            if (!ld)
                return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
            ld->d.pad = 0;
            ld->d.cvt = 0;
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
        GpuMctDesc *m = (GpuMctDesc *)vec_add(&pl->mcts); /* every field written below */
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
        if (j->roi_shift || j->num_segs > GPU_MAX_SEGS || j->mb > 31 ||
            (!j->is_ht && gpu_t1_scratch_need(j->x1 - j->x0, j->y1 - j->y0, j->data_length) > GPU_T1_SCRATCH))
            return HTC_EUNSUPPORTED;
        pl->has_t1 |= !j->is_ht;
        if (!j->is_ht)
            pl->t1_flags_max = HTC_MAX(pl->t1_flags_max, t1_flags_size(j->x1 - j->x0, j->y1 - j->y0));
        const size_t need = (size_t)gpu_block_bytes(j->data_length, HTC_BLOCK_PAD);
        /* Its runs: one that goes on in the raw bytes is a wire record's. */
        size_t o = 0, run_end = 0;
        uint64_t run_src = 0;
        int one_run = 1;
        for (uint32_t q = 0; q < j->num_chunks; q++) {
            const HtcChunk *ch = &jt->chunks[j->first_chunk + q];
            if (!ch->length)
                continue;
            if (ch->offset > cs_avail || ch->length > cs_avail - ch->offset)
                return HTC_EUNSUPPORTED; /* not in the bytes that went to the device */
            if (!o)
                run_src = raw_cs + ch->offset;
            else if (ch->offset != run_end)
                one_run = 0;
            run_end = ch->offset + ch->length;
            o += ch->length;
        }
        if (o != j->data_length || !o)
            return HTC_EUNSUPPORTED; /* chunks that do not add up: the CPU path judges the item */
        /* Built whole in registers (unused segment slots and padding zero:
         * the tables go to the device as bytes). */
        GpuJob job;
        memset(&job, 0, sizeof(job));
        job.data_off = pl->pool_used;
        const uint32_t stride = tg[j->comp].x1 - tg[j->comp].x0;
        job.coef_off = tco[j->comp] + (uint64_t)j->out_y * stride + j->out_x;
        job.stride = stride;
        job.w = (uint16_t)(j->x1 - j->x0);
        job.h = (uint16_t)(j->y1 - j->y0);
        job.num_passes = j->num_passes;
        job.cblk_style = j->cblk_style;
        job.num_segs = (uint8_t)j->num_segs;
        for (uint32_t q = 0; q < j->num_segs; q++) {
            job.seg_len[q] = jt->segs[j->first_seg + q].length;
            job.seg_passes[q] = (uint8_t)HTC_MIN(jt->segs[j->first_seg + q].passes, 255u);
        }
        job.reversible = j->reversible;
        job.mb = (uint8_t)j->mb;
        job.zero_planes = (uint8_t)HTC_MIN(j->zero_planes, 255u);
        job.band = j->band;
        job.is_ht = j->is_ht;
        job.delta = j->delta;
        GpuJobWire *w = (GpuJobWire *)vec_add(&pl->wires);
        if (!w)
            return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
        if (!(one_run && wire_job(pl, &job, run_src, o, tco[j->comp], w))) {
            /* The whole job, and its runs for k_gather. */
            GpuJob *fj = (GpuJob *)vec_add(&pl->fulls);
            if (!fj)
                return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
            *fj = job;
            memset(w, 0, sizeof(*w));
            w->src = (uint32_t)(pl->fulls.n - 1);
            size_t at = 0;
            for (uint32_t q = 0; q < j->num_chunks; q++) {
                const HtcChunk *ch = &jt->chunks[j->first_chunk + q];
                if (!ch->length)
                    continue;
                GpuGather *op = (GpuGather *)vec_add(&pl->gathers);
                if (!op)
                    return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
                op->src = raw_cs + ch->offset;
                op->dst = pl->pool_used + at;
                op->len = ch->length;
                op->pad = 0;
                at += ch->length;
            }
            ((GpuGather *)pl->gathers.p)[pl->gathers.n - 1].pad = (uint32_t)(need - j->data_length);
        }
        pl->pool_used += need;
    }

    /* This tile-component cut into each output plane. A 5/3 tile-component
     * going whole into one plane, without a colour transform, is written
     * there by its last DWT level (the link is undone at submission where
     * that level runs another kernel). */
    for (uint32_t i = 0; i < geo->num_out; i++)
        outs[geo->comps[i]]++;
    for (uint32_t i = 0; i < geo->num_out; i++) {
        const uint32_t c = geo->comps[i];
        uint32_t px0, py0, px1, py1;
        htc_decode_comp_rect(s, geo, c, &px0, &py0, &px1, &py1);
        const uint32_t x0 = HTC_MAX(px0, tg[c].x0), y0 = HTC_MAX(py0, tg[c].y0);
        const uint32_t x1 = HTC_MIN(px1, tg[c].x1), y1 = HTC_MIN(py1, tg[c].y1);
        if (x0 >= x1 || y0 >= y1)
            continue;
        GpuCvtDesc *cv = (GpuCvtDesc *)vec_add(&pl->cvts);
        if (!cv)
            return htc_fail(ctx, HTC_ENOMEM, "GPU plan");
        memset(cv, 0, sizeof(*cv)); /* padding too: the table is copied as bytes */
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
        if (!mct && outs[c] == 1 && last_level[c] != SIZE_MAX) {
            GpuDwtDesc *ld = &((LevelDesc *)pl->levels.p)[last_level[c]].d;
            if (!ld->is97 && !cv->is_float && cv->src_off == tco[c] && cv->src_stride == ld->stride &&
                cv->w == ld->w && cv->h == ld->h) {
                ld->cvt = (uint32_t)pl->cvts.n; /* its index + 1, in this part */
                cv->fused = 1;
            }
        }
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
static size_t item_bytes(const HtcBatchItem *it)
{
    return it->stream ? it->stream->cs_size : it->size;
}

/* Where the caller's device buffer for an item's output lies: its CUDA
 * device, -1 where any device can write it (managed or pinned host memory),
 * or -2 where no device can (pageable host memory, a bad pointer). */
static int buffer_device(PtrCache *pc, const void *p)
{
    const PtrInfo i = gpu_pointer_info(pc, p);
    if (i.type == PTR_DEVICE)
        return i.device;
    return i.type == PTR_MANAGED || i.type == PTR_PINNED ? -1 : -2;
}

static void plan_item(PlanPart *pp, PtrCache *pc, HtcBatchItem *it, ItemState *is)
{
    HtcDecoder *d = pp->d;
    it->status = 0;
    it->message[0] = 0;
    htc_clear_error();
    int irc = 0;
    if (it->params) {
        is->p = it->params;
    } else {
        htc_decode_default_params(&is->def);
        is->p = &is->def;
    }
    is->device_out = is->p->memory == HTC_MEMORY_DEVICE;
    if (is->device_out && it->picture.buffer) {
        /* A caller's device buffer decides the GPU: one of the call's other
         * devices takes the item in a second round; a buffer no device of
         * this decoder can write is the item's error (a kernel writing it
         * would end the CUDA context). */
        const int where = buffer_device(pc, it->picture.buffer);
        if (where >= 0 && where != pp->device && pp->route && where >= pp->dev_lo && where < pp->dev_hi) {
            pp->route[it - pp->route_base] = 1 + where;
            it->status = HTC_EDEVICE;
            snprintf(it->message, sizeof(it->message), "not decoded: its output buffer is on CUDA device %d", where);
            return;
        }
        if (where == -2)
            irc = htc_fail(&d->ctx, HTC_EINVAL, "the item's output buffer %p is not memory a CUDA device can write",
                           it->picture.buffer);
        else if (where >= 0 && where != pp->device)
            irc = htc_fail(&d->ctx, HTC_EINVAL,
                           "the item's output buffer is on CUDA device %d; this decoder decodes on device%s %d-%d",
                           where, pp->dev_hi - pp->dev_lo > 1 ? "s" : "", pp->dev_lo, pp->dev_hi - 1);
        if (irc < 0) {
            it->status = irc;
            htc_copy_last_error(it->message, sizeof(it->message));
            return;
        }
    }
    is->s = it->stream;
    if (!is->s) {
        HtcStreamSettings ss;
        htc_stream_default_settings(&ss);
        ss.limits = d->settings.limits;
        ss.allocator = d->settings.allocator;
        irc = htc_stream_open_memory(&is->own, it->data, it->size, &ss);
        is->s = is->own;
    }
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
            out_base = (uint8_t *)(uintptr_t)is->staging_off; /* made an address at sealing */
        }
        const size_t j0 = pp->wires.n, b0 = pp->bands.n, f0 = pp->fulls.n;
        const size_t l0 = pp->levels.n, m0 = pp->mcts.n, c0 = pp->cvts.n;
        const size_t a0 = pp->arena_elems, p0 = pp->pool_used, o0 = pp->gathers.n;
        const uint32_t ml0 = pp->max_levels;
        is->first_job = j0;
        const HtcStream *s = is->s;
        /* The codestream inside the item's bytes, as they lie in the raw
         * buffer (a wrapper's codestream is a part of them). */
        const uint8_t *base = it->stream ? it->stream->cs : (const uint8_t *)it->data;
        const size_t size = item_bytes(it);
        const int inside = s->cs >= base && (size_t)(s->cs - base) <= size;
        const size_t cs_at = inside ? (size_t)(s->cs - base) : 0;
        if (!inside)
            irc = HTC_EUNSUPPORTED;
        const uint32_t tx0 = (geo.gx0 - s->tx0) / s->tw, tx1 = (geo.gx1 - 1 - s->tx0) / s->tw + 1;
        const uint32_t ty0 = (geo.gy0 - s->ty0) / s->th, ty1 = (geo.gy1 - 1 - s->ty0) / s->th + 1;
        for (uint32_t ty = ty0; ty < HTC_MIN(ty1, s->nty) && irc >= 0; ty++)
            for (uint32_t tx = tx0; tx < HTC_MIN(tx1, s->ntx) && irc >= 0; tx++)
                irc = plan_tile(pp, s, is->p, &geo, pic, out_base, !is->device_out, ty * s->ntx + tx,
                                is->raw_off + cs_at, size - cs_at);
        if (irc >= 0) {
            is->gpu = 1;
            is->num_jobs = pp->wires.n - j0;
            goto planned;
        }
        /* Undo this item's share of the plan. */
        pp->wires.n = j0;
        pp->bands.n = b0;
        pp->fulls.n = f0;
        pp->levels.n = l0;
        pp->mcts.n = m0;
        pp->cvts.n = c0;
        pp->arena_elems = a0;
        pp->pool_used = p0;
        pp->gathers.n = o0;
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
planned:
    /* Nothing reads the parsed stream after the plan: closed here, by the
     * thread that made it and while it is in cache, rather than when the
     * chunk is finished. */
    htc_stream_close(&is->own);
    is->s = NULL;
}

static uint32_t blocks_for(size_t n, uint32_t threads)
{
    const size_t b = (n + threads - 1) / threads;
    return (uint32_t)(b ? b : 1);
}

/* Host phases of a pool pass, timed per task under HTC_GPU_TIMING: finishing
 * the old chunk, planning items, asking whether input is pinned, copying
 * into pinned memory, queueing DMAs, and the whole task. */
enum { TASK_FINISH, TASK_PLAN, TASK_QUERY, TASK_COPY, TASK_SEND, TASK_SEAL, TASK_ALL, TASK_PHASES };
static const char *const task_phase_name[TASK_PHASES] = { "finish", "plan", "pinned?", "copy", "DMA calls", "seal",
                                                          "task" };

/* One batch on one device, as the pool's tasks see it. */
typedef struct Batch {
    HtcDecoder *d;
    GpuState *g;
    HtcBatchItem *items;
    ItemState *st;
    Slot *slot;                /* the slot this pass works on */
    Slot *seal_slot;           /* the slot seal_task seals */
    /* The overlap: the chunk planned last is sealed by the next pass's
     * tasks before they plan (seal_claim), its launch waits for them. */
    Slot *defer_slot;
    uint32_t seal_n;           /* its parts; 0: nothing to seal in this pass */
    uint32_t seal_next;        /* atomic: the next part to take */
    uint32_t seal_done;        /* atomic: parts sealed */
    size_t f0, f1;             /* its old chunk, to finish (none when equal) */
    size_t p0, p1;             /* the new chunk, to plan into its parts */
    size_t next;               /* the next item of the new chunk to plan (atomic) */
    size_t raw_next;           /* the next piece of its raw bytes to copy (atomic) */
    size_t raw_pieces;
    size_t raw_piece;          /* bytes a piece in this chunk */
    size_t piece_env;          /* HTC_GPU_PIECE_KB in bytes, or 0 */
    uint32_t copiers;          /* tasks that copy them */
    int dma_main;              /* the raw bytes are pinned: the calling thread queues their DMAs alone
                                * (DMA calls from many threads at once contend in the driver) */
    int gate;                  /* atomic: the raw DMAs may be queued (the last chunk's tables went first) */
    int old_done;              /* atomic: the slot's old chunk ended on the device: it may be finished */
    int hraw_ok;               /* atomic: the slot's last raw DMAs ended: its pinned raw buffer may be written */
    size_t fin_next;           /* atomic: the next share of the old chunk to finish */
    uint32_t fin_shares;
    int raw_err;               /* a piece's copy to the device failed (atomic) */
    int tab_wb;                /* HTC_GPU_TAB_WB: sealed tables written back before their DMA */
    int rc;                    /* the call's status: the first whole-chunk failure */
    int timing;
    uint32_t threads;          /* host threads for this batch */
    /* HTC_GPU_TIMING totals */
    double t_zero;             /* the timeline's zero on the host: t_start, or the first batch's (HTC_GPU_TIMING=2) */
    double t_start, plan_ms, first_plan_ms, wait_ms, gpu_ms, stage_ms[5];
    size_t tab_bytes, tab_jobs, tab_full, tab_bands, raw_total; /* the tables that went with the codestreams */
    /* HTC_GPU_TIMING: each pool task's host time in the current pass, by
     * phase (TASK_*), summed at the end of the pass into task_sum/task_max */
    double task_ms[GPU_MAX_PARTS][TASK_PHASES];
    double task_sum[TASK_PHASES], task_max[TASK_PHASES];
    size_t chunks;
    int have_t0;               /* g->t0 was recorded at the start */
    PtrCache ptrs[GPU_MAX_PARTS]; /* per pool task: pointer ranges learned in this call */
    PtrCache ptr_main;         /* the calling thread's */
    double main_ms[TASK_PHASES]; /* HTC_GPU_TIMING: the calling thread's DMA calls in a pass */
    /* HTC_GPU_TIMING: the current pass's start, its tasks' start and end
     * (ms from it); over passes: their count and wall time, and sums of the
     * mean and latest task start, the mean gap from a task's end to the
     * pass's end, and when the calling thread joined */
    double pass_t0, task_t[GPU_MAX_PARTS][2];
    size_t passes;
    double pass_wall, start_mean, start_last, end_gap, join_at;
} Batch;

/* The code-block kernel's launch: the one line to change for another block
 * decoder. Arguments: the chunk's jobs (device), their count, and the
 * slot's byte pool, coefficient arena, job statuses and per-job scratch
 * (GPU_HT_SCRATCH bytes a job, reserved in chunk_seal). */
static cudaError_t launch_blocks(GpuState *g, Slot *s, cudaStream_t sm, const GpuJob *jobs, uint32_t nj)
{
    /* k_ht_vlc + k_ht_warp take the blocks of one cleanup pass, k_ht_blocks
     * (a thread a block) the others; HTC_GPU_BLOCKS=thread: k_ht_blocks alone */
    static int per_thread_cached = -1; /* relaxed atomics: device threads may ask at once */
    int per_thread = __atomic_load_n(&per_thread_cached, __ATOMIC_RELAXED);
    if (per_thread < 0) {
        const char *v = getenv("HTC_GPU_BLOCKS");
        per_thread = v && !strcmp(v, "thread");
        __atomic_store_n(&per_thread_cached, per_thread, __ATOMIC_RELAXED);
    }
    const uint8_t *pool = (const uint8_t *)s->pool.p;
    uint8_t *scratch = (uint8_t *)s->scratch.p;
    const size_t ss = s->scratch_size;
    if (s->has_t1) {
        /* The block flags in shared memory where they fit (HTC_GPU_T1=global:
         * k_t1_blocks, for comparisons). */
        const size_t sb = (s->t1_flags_max + 63) & ~(size_t)63;
        const char *force = getenv("HTC_GPU_T1");
        const int smem = sb && sb <= GPU_T1_SMEM_MAX && g->t1_smem_slots && !(force && !strcmp(force, "global"));
        if (smem)
            k_t1_blocks_smem<<<blocks_for(nj, GPU_T1_SMEM_THREADS), GPU_T1_SMEM_THREADS,
                               GPU_T1_SMEM_THREADS * sb, sm>>>(jobs, nj, pool, (int32_t *)s->arena.p,
                                                               (int *)s->status.p, scratch, ss, (uint32_t)sb);
        else
            k_t1_blocks<<<blocks_for(nj, 64), 64, 0, sm>>>(jobs, nj, pool, (int32_t *)s->arena.p,
                                                           (int *)s->status.p, scratch, ss);
    }
    k_ht_blocks<<<blocks_for(nj, GPU_THREADS), GPU_THREADS, 0, sm>>>(
        jobs, nj, pool, (int32_t *)s->arena.p, (int *)s->status.p, scratch, ss, !per_thread);
    if (!per_thread) {
        /* Few blocks (one image): small CUDA blocks, so that every SM gets
         * some. (A warp a block, lane 0 alone, was slower: H100 mammogram
         * 430 -> 480 us; the divergence of 32 blocks in a warp costs less
         * than one block's chain gains.) */
        const uint32_t vt = nj < 132u * 128 ? 32 : 128;
        k_ht_vlc<<<blocks_for(nj, vt), vt, 0, sm>>>(jobs, nj, pool, scratch, ss);
        k_ht_warp<<<blocks_for(nj, HTW_WARPS), 32 * HTW_WARPS, 0, sm>>>(
            jobs, nj, pool, (int32_t *)s->arena.p, (int *)s->status.p, scratch, ss);
    }
    return cudaGetLastError();
}

/* Whether a level's vertical pass is k_idwt_v53 (the only one that writes
 * outputs itself), from the level's tallest and any 9/7 member. */
static int v53_level(uint32_t max_h, uint8_t any97) { return !any97 && max_h <= 131068; }

/* The inverse DWT levels, colour transforms and output conversion of a
 * chunk, enqueued on sm. */
static cudaError_t launch_rest(Slot *s, cudaStream_t sm, const GpuDwtDesc *dwt, const size_t *start,
                               const uint32_t *max_w, const uint32_t *max_h, const uint8_t *max_is97,
                               uint32_t max_levels, const GpuMctDesc *mct, size_t nm, const GpuCvtDesc *cvt,
                               size_t ncv, uint32_t out_rows, cudaEvent_t ev_dwt_done)
{
    cudaError_t e = cudaSuccess;
    int32_t *arena = (int32_t *)s->arena.p, *tmp = (int32_t *)s->tmp.p;
    for (uint32_t r = 1; r <= max_levels && e == cudaSuccess; r++) {
        /* a level can be empty (a tile's resolution with no row or column):
         * no grid dimension may be 0 */
        if (max_w[r] == 0 || max_h[r] == 0)
            continue;
        for (size_t k0 = start[r]; k0 < start[r + 1] && e == cudaSuccess; k0 += 65535) {
            const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, start[r + 1] - k0);
            const GpuDwtDesc *dd = dwt + k0;
            if (max_w[r] <= GPU_ROWW_MAX)
                k_idwt_h_warp<<<dim3(blocks_for(max_h[r] ? max_h[r] : 1, 4), cnt), 128, 0, sm>>>(dd, arena, tmp);
            else if (max_w[r] <= GPU_ROW_MAX)
                k_idwt_h_smem<<<dim3(max_h[r] ? max_h[r] : 1, cnt), 128, 0, sm>>>(dd, arena, tmp);
            else
                k_idwt_h<<<dim3(blocks_for(max_h[r], 64), cnt), 64, 0, sm>>>(dd, arena, tmp);
            /* 5/3: a thread a pair of rows of a column. 9/7, few columns
             * in flight (one large image): every sample in parallel; many (a
             * batch): a thread a column is cheaper. */
            if (v53_level(max_h[r], max_is97[r])) {
                const uint32_t runs = blocks_for((max_h[r] + 1) / 2, GPU_V53_PAIRS);
                k_idwt_v53<<<dim3(blocks_for(max_w[r], 64), runs, cnt), 64, 0, sm>>>(dd, arena, tmp, cvt);
            } else if (max_h[r] <= 65535 && (uint64_t)cnt * max_w[r] < 65536) {
                const dim3 grid(blocks_for(max_w[r], 64), max_h[r], cnt);
                const dim3 half(blocks_for(max_w[r], 64), (max_h[r] + 1) / 2, cnt);
                k_idwt_v_scatter<<<grid, 64, 0, sm>>>(dd, arena, tmp);
                for (int step = 0; step < (max_is97[r] ? 4 : 2); step++)
                    k_idwt_v_step<<<half, 64, 0, sm>>>(dd, arena, step);
            } else {
                k_idwt_v<<<dim3(blocks_for(max_w[r], 64), cnt), 64, 0, sm>>>(dd, arena, tmp);
            }
            e = cudaGetLastError();
        }
    }
    if (ev_dwt_done)
        cudaEventRecord(ev_dwt_done, sm);
    for (size_t k0 = 0; k0 < nm && e == cudaSuccess; k0 += 65535) {
        const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, nm - k0);
        k_mct<<<dim3(HTC_MIN(out_rows, 4096u), cnt), 256, 0, sm>>>(mct + k0, arena);
        e = cudaGetLastError();
    }
    for (size_t k0 = 0; k0 < ncv && e == cudaSuccess; k0 += 65535) {
        const uint32_t cnt = (uint32_t)HTC_MIN((size_t)65535, ncv - k0);
        k_convert<<<dim3(HTC_MIN(out_rows, 4096u), cnt), 256, 0, sm>>>(cvt + k0, arena);
        e = cudaGetLastError();
    }
    return e;
}

/* Marks the slot's chunk failed as a whole (its GPU items get status and
 * message when it is finished) and makes it the call's status if first. */
static void slot_fail(Batch *b, Slot *s, int status, const char *msg)
{
    s->fail = status;
    snprintf(s->fail_msg, sizeof(s->fail_msg), "%s", msg);
    const int rc = htc_fail(&b->d->ctx, status, "%s", msg);
    if (b->rc >= 0)
        b->rc = rc;
}

/* Finishes item i of the slot's old chunk: its job statuses, its host
 * output out of the pinned staging, its own stream closed. */
static void finish_item(Batch *b, Slot *s, size_t i)
{
    ItemState *is = &s->st[i];
    HtcBatchItem *it = &s->items[i];
    if (is->gpu && s->fail) {
        it->status = s->fail;
        snprintf(it->message, sizeof(it->message), "%s", s->fail_msg);
        htc_picture_release(&it->picture);
    } else if (is->gpu && s->ran) {
        /* A corrupt block keeps what was decoded before the fault (as the
         * CPU path); any other block error fails its item. */
        const int *status = (const int *)s->hstatus.p;
        int bad = 0;
        for (size_t k = is->first_job; k < is->first_job + is->num_jobs; k++) {
            const int s2 = status[k];
            if (s2 < 0 && s2 != HTC_ECORRUPT) {
                it->status = s2;
                snprintf(it->message, sizeof(it->message), "GPU code-block %zu: %s", k - is->first_job,
                         htc_strerror(s2));
                htc_picture_release(&it->picture);
                bad = 1;
                break;
            }
        }
        if (!bad && !is->device_out && it->picture.buffer_size)
            memcpy(it->picture.buffer, s->hstaging.p + is->staging_off, it->picture.buffer_size);
    }
    htc_stream_close(&is->own);
}

/* A pass of the pool over a slot: task k finishes its share of the old
 * chunk, then plans items of the new chunk (taken one at a time, so the
 * shares even out) into part k. */
/* Whether the device can read p by DMA as it is: pinned (page-locked) host
 * memory, as the caller may hand it (cudaMallocHost, cudaHostRegister). */
static int host_pinned(PtrCache *pc, const void *p) { return gpu_pointer_info(pc, p).type == PTR_PINNED; }

/* A run of bytes for one DMA: the chunk's raw layout [dst, dst + len) from
 * host memory at src. */
typedef struct RawRun {
    const uint8_t *src;
    size_t dst, len;
} RawRun;

static void raw_send(Batch *b, Slot *s, RawRun *run, double *tm)
{
    const double t0 = tm ? host_ms() : 0;
    if (run->len && cudaMemcpyAsync((uint8_t *)s->raw.p + run->dst, run->src, run->len, cudaMemcpyHostToDevice,
                                    s->h2d) != cudaSuccess) {
        cudaGetLastError();
        __atomic_store_n(&b->raw_err, 1, __ATOMIC_RELAXED);
    }
    run->len = 0;
    if (tm)
        tm[TASK_SEND] += host_ms() - t0;
}

/* The slot's pinned raw buffer may be written once the DMAs that read it
 * for the slot's last chunk have ended (with the overlap, the pass runs
 * before that chunk is waited for). */
static void hraw_ready(Batch *b, Slot *s)
{
    if (__atomic_load_n(&b->hraw_ok, __ATOMIC_ACQUIRE))
        return;
    if (s->raw_recorded && cudaEventSynchronize(s->raw_done) != cudaSuccess)
        cudaGetLastError(); /* the slot's chunk fails where it is waited for */
    __atomic_store_n(&b->hraw_ok, 1, __ATOMIC_RELEASE);
}

/* Pieces of the new chunk's raw bytes, taken one at a time: each copied
 * from its items' codestreams into the slot's pinned raw buffer and sent
 * on to the device at once, so the copies overlap the plan. */
static void raw_copy(Batch *b, Slot *s, PtrCache *pc, double *tm)
{
    for (;;) {
        const size_t q = __atomic_fetch_add(&b->raw_next, 1, __ATOMIC_RELAXED);
        if (q >= b->raw_pieces)
            return;
        const size_t lo = q * b->raw_piece, hi = HTC_MIN(lo + b->raw_piece, s->raw_bytes);
        size_t l = b->p0, r = b->p1;
        while (l < r) { /* the first item that ends after lo */
            const size_t m = l + (r - l) / 2;
            if (b->st[m].raw_off + item_bytes(&b->items[m]) <= lo)
                l = m + 1;
            else
                r = m;
        }
        /* Pageable bytes are copied into the slot's pinned buffer and sent
         * from there; pinned ones are sent from where they are. Runs that
         * follow on in host memory go as one DMA. */
        RawRun run = { NULL, 0, 0 };
        for (size_t i = l; i < b->p1 && b->st[i].raw_off < hi; i++) {
            const HtcBatchItem *it = &b->items[i];
            const uint8_t *src = it->stream ? it->stream->cs : (const uint8_t *)it->data;
            const size_t at = b->st[i].raw_off, end = at + item_bytes(it);
            const size_t x0 = HTC_MAX(lo, at), x1 = HTC_MIN(hi, end);
            if (x1 <= x0)
                continue;
            const uint8_t *from = src + (x0 - at);
            const double t0 = tm ? host_ms() : 0;
            const int pinned = host_pinned(pc, src);
            const double t1 = tm ? host_ms() : 0;
            if (!pinned) {
                hraw_ready(b, s);
                htc_copy_nt(s->hraw.p + x0, from, x1 - x0);
                from = s->hraw.p + x0;
            }
            if (tm) {
                tm[TASK_QUERY] += t1 - t0;
                tm[TASK_COPY] += host_ms() - t1;
            }
            if (run.len && run.src + run.len == from && run.dst + run.len == x0) {
                run.len += x1 - x0;
            } else {
                raw_send(b, s, &run, tm);
                run.src = from;
                run.dst = x0;
                run.len = x1 - x0;
            }
        }
        raw_send(b, s, &run, tm);
    }
}

static void seal_claim(Batch *b);

static void chunk_task(void *arg, uint32_t k, uint32_t nk)
{
    Batch *b = (Batch *)arg;
    Slot *s = b->slot;
    double *const tm = b->timing ? b->task_ms[k] : NULL;
    const double t_task = tm ? host_ms() : 0;
    if (tm)
        b->task_t[k][0] = t_task - b->pass_t0;
    /* Tasks below b->copiers copy the raw bytes: a few threads saturate
     * the memory (more only contend for it). */
    const int copier = k < b->copiers;
    if (b->seal_n) {
        const double t0 = tm ? host_ms() : 0;
        seal_claim(b);
        if (tm)
            tm[TASK_SEAL] += host_ms() - t0;
    }
    if (b->p1 > b->p0 && k < s->np) {
        /* With every thread planning, the copies go first: the device has
         * the bytes sooner. With spare threads, those copy meanwhile. A
         * closed gate (the last chunk's launch still going on) holds them
         * back only until it opens: the copier plans meanwhile. */
        int copied = 0;
        if (s->np == nk && copier && __atomic_load_n(&b->gate, __ATOMIC_ACQUIRE)) {
            raw_copy(b, s, &b->ptrs[k], tm);
            copied = 1;
        }
        const double t_plan = tm ? host_ms() : 0;
        PlanPart *pp = &s->parts[k];
        pp->wires.n = pp->bands.n = pp->fulls.n = 0;
        pp->levels.n = pp->mcts.n = pp->cvts.n = pp->gathers.n = 0;
        pp->has_t1 = 0;
        pp->t1_flags_max = 0;
        pp->pool_used = pp->arena_elems = pp->staging = 0;
        pp->max_levels = 0;
        for (;;) {
            const size_t i = __atomic_fetch_add(&b->next, 1, __ATOMIC_RELAXED);
            if (i >= b->p1)
                break;
            b->st[i].part = k;
            plan_item(pp, &b->ptrs[k], &b->items[i], &b->st[i]);
            if (s->np == nk && copier && !copied && __atomic_load_n(&b->gate, __ATOMIC_ACQUIRE)) {
                const double t1 = tm ? host_ms() : 0;
                raw_copy(b, s, &b->ptrs[k], tm);
                copied = 1;
                if (tm) /* not plan time */
                    tm[TASK_PLAN] -= host_ms() - t1;
            }
        }
        if (tm)
            tm[TASK_PLAN] += host_ms() - t_plan;
    }
    if (copier) {
        wait_until(flag_set, &b->gate, 0);
        raw_copy(b, s, &b->ptrs[k], tm);
    }
    /* The old chunk's shares, once it has ended on the device; those left
     * when the pass ends are finished after it (batch_on): no task waits. */
    if (b->f1 > b->f0 && __atomic_load_n(&b->old_done, __ATOMIC_ACQUIRE)) {
        const double t0 = tm ? host_ms() : 0;
        const size_t n = b->f1 - b->f0;
        for (;;) {
            const size_t q = __atomic_fetch_add(&b->fin_next, 1, __ATOMIC_RELAXED);
            if (q >= b->fin_shares)
                break;
            for (size_t i = b->f0 + n * q / b->fin_shares; i < b->f0 + n * (q + 1) / b->fin_shares; i++)
                finish_item(b, s, i);
        }
        if (tm)
            tm[TASK_FINISH] += host_ms() - t0;
    }
    if (tm) {
        const double t_end = host_ms();
        tm[TASK_ALL] += t_end - t_task;
        b->task_t[k][1] = t_end - b->pass_t0;
    }
}

/* One pass of the pool over chunk_task, started (the caller may work
 * meanwhile) and then joined; under HTC_GPU_TIMING its tasks' phase times
 * go into the batch's sums and per-pass maxima. */
static void chunk_pass_start(Batch *b, GpuState *g, uint32_t nk)
{
    if (b->timing) {
        memset(b->task_ms, 0, sizeof(b->task_ms));
        memset(b->main_ms, 0, sizeof(b->main_ms));
        memset(b->task_t, 0, sizeof(b->task_t));
        b->pass_t0 = host_ms();
    }
    pool_start(&g->pool, nk, chunk_task, b);
}

static void chunk_pass_join(Batch *b, GpuState *g)
{
    const double t_join = b->timing ? host_ms() : 0;
    pool_join(&g->pool);
    if (!b->timing)
        return;
    const uint32_t nk = g->pool.pass_nk;
    const double wall = host_ms() - b->pass_t0;
    double s_sum = 0, s_max = 0, gap = 0;
    for (uint32_t k = 0; k < nk; k++) {
        s_sum += b->task_t[k][0];
        s_max = HTC_MAX(s_max, b->task_t[k][0]);
        gap += wall - b->task_t[k][1];
    }
    b->passes++;
    b->pass_wall += wall;
    b->start_mean += s_sum / nk;
    b->start_last += s_max;
    b->end_gap += gap / nk;
    b->join_at += t_join - b->pass_t0;
    for (int q = 0; q < TASK_PHASES; q++) {
        double mx = 0;
        for (uint32_t k = 0; k < nk; k++) {
            b->task_sum[q] += b->task_ms[k][q];
            mx = HTC_MAX(mx, b->task_ms[k][q]);
        }
        b->task_sum[q] += b->main_ms[q];
        b->task_max[q] += HTC_MAX(mx, b->main_ms[q]);
    }
}

static void chunk_pass(Batch *b, GpuState *g, uint32_t nk)
{
    chunk_pass_start(b, g, nk);
    chunk_pass_join(b, g);
}

/* Offsets of the chunk's tables in the slot's one table buffer: the jobs'
 * wire records first, then their bands and whole jobs, the DWT levels,
 * colour transforms, outputs and the whole jobs' runs. */
typedef struct TabLayout {
    size_t band, full, dwt, mct, cvt, gat, total;
} TabLayout;

static TabLayout tab_layout(const Slot *s)
{
    TabLayout t;
    t.band = GPU_ALIGN(s->nj * sizeof(GpuJobWire));
    t.full = t.band + GPU_ALIGN(s->nb * sizeof(GpuBandDesc));
    t.dwt = t.full + GPU_ALIGN(s->nf * sizeof(GpuJob));
    t.mct = t.dwt + GPU_ALIGN(s->nl * sizeof(GpuDwtDesc));
    t.cvt = t.mct + GPU_ALIGN(s->nm * sizeof(GpuMctDesc));
    t.gat = t.cvt + GPU_ALIGN(s->ncv * sizeof(GpuCvtDesc));
    t.total = t.gat + GPU_ALIGN(s->ngather * sizeof(GpuGather));
    return t;
}

/* Sealing, task k < np: part k's offsets made chunk-wide (and staged
 * outputs device addresses), its jobs, gathers, colour and output
 * descriptors written into the slot's pinned table, its items' job and
 * staging places moved. */
static void seal_part(Batch *b, Slot *s, uint32_t k)
{
    if (k >= s->np)
        return;
    PlanPart *pp = &s->parts[k];
    const TabLayout t = tab_layout(s);
    GpuGather *gd = (GpuGather *)(s->htabs.p + t.gat) + pp->gather0;
    const GpuGather *pg = (const GpuGather *)pp->gathers.p;
    for (size_t q = 0; q < pp->gathers.n; q++) {
        gd[q] = pg[q];
        gd[q].dst += pp->pool0;
    }
    GpuJobWire *wd = (GpuJobWire *)s->htabs.p + pp->job0;
    const GpuJobWire *pw = (const GpuJobWire *)pp->wires.p;
    for (size_t q = 0; q < pp->wires.n; q++) {
        GpuJobWire w = pw[q];
        if (w.num_passes)
            w.band += (uint32_t)pp->band0;
        else
            w.src += (uint32_t)pp->full0;
        wd[q] = w;
    }
    GpuBandDesc *bd = (GpuBandDesc *)(s->htabs.p + t.band) + pp->band0;
    const GpuBandDesc *pb = (const GpuBandDesc *)pp->bands.p;
    for (size_t q = 0; q < pp->bands.n; q++) {
        GpuBandDesc x = pb[q];
        x.pool_base += pp->pool0;
        x.coef_base += pp->arena0;
        bd[q] = x;
    }
    GpuJob *fd = (GpuJob *)(s->htabs.p + t.full) + pp->full0;
    const GpuJob *pf = (const GpuJob *)pp->fulls.p;
    for (size_t q = 0; q < pp->fulls.n; q++) {
        GpuJob j = pf[q];
        j.data_off += pp->pool0;
        j.coef_off += pp->arena0;
        fd[q] = j;
    }
    LevelDesc *ld = (LevelDesc *)pp->levels.p;
    for (size_t q = 0; q < pp->levels.n; q++) {
        ld[q].d.off += pp->arena0;
        if (ld[q].d.cvt)
            ld[q].d.cvt += (uint32_t)pp->cvt0;
    }
    GpuMctDesc *md = (GpuMctDesc *)(s->htabs.p + t.mct) + pp->mct0;
    const GpuMctDesc *pm = (const GpuMctDesc *)pp->mcts.p;
    for (size_t q = 0; q < pp->mcts.n; q++) {
        md[q] = pm[q];
        for (int c = 0; c < 3; c++)
            md[q].off[c] += pp->arena0;
    }
    GpuCvtDesc *cd = (GpuCvtDesc *)(s->htabs.p + t.cvt) + pp->cvt0;
    const GpuCvtDesc *pc = (const GpuCvtDesc *)pp->cvts.p;
    for (size_t q = 0; q < pp->cvts.n; q++) {
        cd[q] = pc[q];
        cd[q].src_off += pp->arena0;
        if (cd[q].staged)
            cd[q].dst = (uint8_t *)s->staging.p + pp->staging0 + (uintptr_t)pc[q].dst;
    }
    for (size_t i = s->i0; i < s->i1; i++) {
        ItemState *is = &s->st[i];
        if (is->gpu && is->part == k) {
            is->first_job += pp->job0;
            is->staging_off += pp->staging0;
        }
    }
    if (b->tab_wb) { /* else their DMA reads modified lines at half speed (htc_writeback) */
        htc_writeback(gd, pp->gathers.n * sizeof(*gd));
        htc_writeback(wd, pp->wires.n * sizeof(*wd));
        htc_writeback(bd, pp->bands.n * sizeof(*bd));
        htc_writeback(fd, pp->fulls.n * sizeof(*fd));
        htc_writeback(md, pp->mcts.n * sizeof(*md));
        htc_writeback(cd, pp->cvts.n * sizeof(*cd));
    }
}

static void seal_task(void *arg, uint32_t k, uint32_t nk)
{
    (void)nk;
    Batch *b = (Batch *)arg;
    seal_part(b, b->seal_slot, k);
}

/* Seals parts of b->defer_slot until none is left to take. */
static void seal_claim(Batch *b)
{
    for (;;) {
        const uint32_t k = __atomic_fetch_add(&b->seal_next, 1, __ATOMIC_RELAXED);
        if (k >= b->seal_n)
            return;
        seal_part(b, b->defer_slot, k);
        __atomic_fetch_add(&b->seal_done, 1, __ATOMIC_RELEASE);
    }
}

/* Gets the slot's freshly planned chunk ready for sealing: its parts'
 * places in the chunk-wide tables, and buffers for them. Returns 1 when its
 * parts are then to be sealed (seal_part), 0 when there is nothing for the
 * device or it failed (failures mark the chunk failed). */
static int chunk_seal_prepare(Batch *b, Slot *s)
{
    s->submitted = s->ran = s->fail = s->sealed = 0;
    s->seal_ms = 0;
    s->fail_msg[0] = 0;
    size_t nj = 0, nb = 0, nf = 0, pool = 0, arena = 0, staging = 0, nl = 0, nm = 0, ncv = 0, ng = 0;
    s->has_t1 = 0;
    s->t1_flags_max = 0;
    for (uint32_t k = 0; k < s->np; k++) {
        PlanPart *pp = &s->parts[k];
        s->has_t1 |= pp->has_t1;
        s->t1_flags_max = HTC_MAX(s->t1_flags_max, pp->t1_flags_max);
        pp->gather0 = ng;
        ng += pp->gathers.n;
        pp->job0 = nj;
        pp->band0 = nb;
        pp->full0 = nf;
        pp->pool0 = pool;
        pp->arena0 = arena;
        pp->staging0 = staging;
        pp->mct0 = nm;
        pp->cvt0 = ncv;
        nj += pp->wires.n;
        nb += pp->bands.n;
        nf += pp->fulls.n;
        pool += pp->pool_used;
        arena += pp->arena_elems;
        staging += pp->staging;
        nl += pp->levels.n;
        nm += pp->mcts.n;
        ncv += pp->cvts.n;
    }
    s->nj = nj;
    s->nb = nb;
    s->nf = nf;
    s->nl = nl;
    s->nm = nm;
    s->ncv = ncv;
    s->arena_elems = arena;
    s->scratch_size = s->has_t1 ? GPU_T1_SCRATCH : GPU_HT_SCRATCH;
    s->ngather = ng;
    s->pool_bytes = pool;
    s->staging_bytes = staging;
    if (nj == 0 && ncv == 0)
        return 0; /* nothing for the GPU in this chunk */
    char msg[160];
    if (nj > UINT32_MAX || ng > UINT32_MAX) {
        slot_fail(b, s, HTC_ERANGE, "GPU chunk of more than 2^32 code-blocks");
        return 0;
    }
    if (s->raw_err) {
        slot_fail(b, s, HTC_EDEVICE, "GPU batch: copying the codestreams to the device failed");
        return 0;
    }
    /* 1. Buffers. The slot's previous chunk is finished: nothing of the
     * slot is in use on the device. Host outputs land in a staging area. */
    const TabLayout t = tab_layout(s);
    b->tab_bytes += t.total;
    b->tab_jobs += nj;
    b->tab_full += nf;
    b->tab_bands += nb;
    b->raw_total += s->raw_bytes;
    const size_t arena_bytes = (arena ? arena : 1) * sizeof(int32_t);
    struct {
        DevBuf *b;
        size_t need;
        const char *what;
    } const want[] = {
        { &s->staging, staging ? staging : 1, "staging buffer" },
        { &s->pool, pool ? pool : 1, "byte pool" },
        { &s->tabs, t.total ? t.total : 1, "job table" },
        { &s->jobs, (nj ? nj : 1) * sizeof(GpuJob), "jobs" },
        { &s->status, (nj ? nj : 1) * sizeof(int), "job status" },
        { &s->scratch, (nj ? nj : 1) * s->scratch_size, "block scratch" },
        { &s->arena, arena_bytes, "coefficients" },
        { &s->tmp, arena_bytes, "DWT buffer" },
    };
    for (size_t q = 0; q < sizeof(want) / sizeof(want[0]); q++) {
        const cudaError_t e = dev_reserve(want[q].b, want[q].need);
        if (e != cudaSuccess) {
            cudaGetLastError();
            snprintf(msg, sizeof(msg), "%s: %s", want[q].what, cudaGetErrorString(e));
            slot_fail(b, s, HTC_EDEVICE, msg);
            return 0;
        }
    }
    if (pin_reserve(&s->htabs, t.total, 0, (size_t)1 << 20) < 0 ||
        pin_reserve(&s->hstatus, (nj ? nj : 1) * sizeof(int), 0, (size_t)64 << 10) < 0 ||
        pin_reserve(&s->hstaging, staging ? staging : 1, 0, (size_t)1 << 20) < 0) {
        snprintf(msg, sizeof(msg), "pinned host buffers of %zu bytes", t.total + nj * sizeof(int) + staging);
        slot_fail(b, s, HTC_ENOMEM, msg);
        return 0;
    }
    return 1;
}

/* Seals the slot's freshly planned chunk: its parts' offsets made
 * chunk-wide and its tables written into the slot's pinned table buffer
 * (chunk_launch then puts it on the device), on the pool. */
static void chunk_seal(Batch *b, Slot *s)
{
    if (!chunk_seal_prepare(b, s))
        return;
    b->seal_slot = s;
    const double t_seal = b->timing ? host_ms() : 0;
    pool_run(&b->g->pool, s->np, seal_task, b);
    s->seal_ms = b->timing ? host_ms() - t_seal : 0;
    s->sealed = 1;
}

/* HTC_GPU_TIMING: the slot's timing events, made on first need. */
static void slot_events(Slot *s)
{
    if (s->have_ev)
        return;
    int made = 0;
    while (made < 8 && cudaEventCreate(&s->ev[made]) == cudaSuccess)
        made++;
    if (made == 8) {
        s->have_ev = 1;
    } else {
        while (made > 0)
            cudaEventDestroy(s->ev[--made]);
        cudaGetLastError();
    }
}

/* Before the chunk's raw DMAs: on the device's copy stream they wait for
 * the slot's last chunk, whose buffers they overwrite (on the slot's own
 * stream they follow it). With HTC_GPU_TIMING, marks where they may start,
 * for the timeline. */
static void raw_begin(Batch *b, Slot *s)
{
    if (s->h2d != s->stream && s->submitted &&
        cudaStreamWaitEvent(s->h2d, s->raw_early && s->raw_free_rec ? s->raw_free : s->done, 0) != cudaSuccess) {
        cudaGetLastError();
        cudaEventSynchronize(s->done); /* its failure shows where it is waited for */
        cudaGetLastError();
    }
    s->raw_ev_next = 0;
    if (!b->timing)
        return;
    slot_events(s);
    /* the slot's old chunk, not yet printed, keeps the other one */
    const int k = s->raw_ev == 6 ? 7 : 6;
    if (s->have_ev && cudaEventRecord(s->ev[k], s->h2d) == cudaSuccess)
        s->raw_ev_next = k;
    cudaGetLastError();
}

/* Puts the slot's sealed chunk on the device: the DWT levels grouped by
 * level (counting sort, parts in order) into its table, then its copies
 * and kernels on the slot's stream, then its event. */
static void chunk_launch(Batch *b, Slot *s)
{
    if (!s->sealed)
        return;
    s->sealed = 0;
    char msg[160];
    const size_t nj = s->nj, ng = s->ngather, staging = s->staging_bytes;
    const size_t nm = s->nm, ncv = s->ncv, arena = s->arena_elems;
    uint32_t out_rows = 1, max_levels = 0;
    for (uint32_t k = 0; k < s->np; k++) {
        const PlanPart *pp = &s->parts[k];
        max_levels = HTC_MAX(max_levels, pp->max_levels);
        for (size_t q = 0; q < pp->mcts.n; q++)
            out_rows = HTC_MAX(out_rows, ((const GpuMctDesc *)pp->mcts.p)[q].h);
        for (size_t q = 0; q < pp->cvts.n; q++)
            out_rows = HTC_MAX(out_rows, ((const GpuCvtDesc *)pp->cvts.p)[q].h);
    }
    const TabLayout t = tab_layout(s);
    size_t ncv_launch = ncv;
    const size_t arena_bytes = (arena ? arena : 1) * sizeof(int32_t);
    size_t start[HTC_MAX_LEVELS + 2] = { 0 };
    uint32_t max_w[HTC_MAX_LEVELS + 2] = { 0 }, max_h[HTC_MAX_LEVELS + 2] = { 0 };
    uint8_t max_is97[HTC_MAX_LEVELS + 2] = { 0 };
    {
        size_t count[HTC_MAX_LEVELS + 2] = { 0 };
        for (uint32_t k = 0; k < s->np; k++) {
            const LevelDesc *ld = (const LevelDesc *)s->parts[k].levels.p;
            for (size_t q = 0; q < s->parts[k].levels.n; q++)
                count[ld[q].level]++;
        }
        for (uint32_t r = 1; r <= HTC_MAX_LEVELS; r++)
            start[r + 1] = start[r] + count[r];
        size_t fill[HTC_MAX_LEVELS + 2];
        memcpy(fill, start, sizeof(fill));
        GpuDwtDesc *sorted = (GpuDwtDesc *)(s->htabs.p + t.dwt);
        for (uint32_t k = 0; k < s->np; k++) {
            const LevelDesc *ld = (const LevelDesc *)s->parts[k].levels.p;
            for (size_t q = 0; q < s->parts[k].levels.n; q++) {
                const uint32_t r = ld[q].level;
                sorted[fill[r]++] = ld[q].d;
                max_w[r] = HTC_MAX(max_w[r], ld[q].d.w);
                max_h[r] = HTC_MAX(max_h[r], ld[q].d.h);
                max_is97[r] |= ld[q].d.is97;
            }
        }
        GpuCvtDesc *cvtab = (GpuCvtDesc *)(s->htabs.p + t.cvt);
        for (uint32_t r = 1; r <= HTC_MAX_LEVELS; r++)
            if (!v53_level(max_h[r], max_is97[r]))
                for (size_t q = start[r]; q < start[r + 1]; q++)
                    if (sorted[q].cvt) {
                        GpuCvtDesc *c = &cvtab[sorted[q].cvt - 1];
                        c->fused = 0;
                        if (b->tab_wb) /* the rest was written back when sealed */
                            htc_writeback(&c->fused, sizeof(c->fused));
                        sorted[q].cvt = 0;
                    }
        /* k_convert's grid over fused outputs alone would be all empty
         * blocks (80 us for 256 CT slices): then it is not launched */
        size_t unfused = 0;
        for (size_t q = 0; q < ncv; q++)
            unfused += !cvtab[q].fused;
        if (!unfused)
            ncv_launch = 0;
        if (b->tab_wb)
            htc_writeback(sorted, start[HTC_MAX_LEVELS + 1] * sizeof(*sorted));
    }
    /* 3. Copies in, kernels, copies out, the event. */
    cudaStream_t sm = s->stream;
    const int tm = b->timing;
    if (tm)
        slot_events(s);
    const int ev = tm && s->have_ev;
    /* The tables follow the raw codestreams (queued during the plan) on the
     * copy stream, and the kernels wait for them; the arena is cleared
     * meanwhile. On the slot's own stream the tables go first: a clear
     * ahead of them would let the next chunk's codestreams pass them on the
     * copy engine. ev[0]: the chunk's copies in are there. */
    const int own = s->h2d == sm;
    cudaError_t e = own ? cudaSuccess : cudaMemsetAsync(s->arena.p, 0, arena_bytes, sm);
    if (e == cudaSuccess && s->raw_early) /* its old chunk's tables may still be read */
        e = cudaStreamWaitEvent(s->h2d, s->done, 0);
    if (e == cudaSuccess)
        e = cudaMemcpyAsync(s->tabs.p, s->htabs.p, t.total, cudaMemcpyHostToDevice, s->h2d);
    if (e == cudaSuccess && !own)
        e = cudaEventRecord(s->in_done, s->h2d);
    if (e == cudaSuccess)
        e = own ? cudaMemsetAsync(s->arena.p, 0, arena_bytes, sm) : cudaStreamWaitEvent(sm, s->in_done, 0);
    if (ev)
        cudaEventRecord(s->ev[0], sm);
    if (e == cudaSuccess && nj) {
        const uint8_t *tabs = (const uint8_t *)s->tabs.p;
        k_expand<<<blocks_for(nj, 8), 256, 0, sm>>>((const GpuJobWire *)tabs, (uint32_t)nj,
                                                   (const GpuBandDesc *)(tabs + t.band), (const GpuJob *)(tabs + t.full),
                                                   (GpuJob *)s->jobs.p, (const uint8_t *)s->raw.p, (uint8_t *)s->pool.p);
        e = cudaGetLastError();
    }
    if (e == cudaSuccess && ng) {
        k_gather<<<blocks_for(ng, 8), 256, 0, sm>>>((const GpuGather *)((uint8_t *)s->tabs.p + t.gat), (uint32_t)ng,
                                                   (const uint8_t *)s->raw.p, (uint8_t *)s->pool.p);
        e = cudaGetLastError();
    }
    s->raw_free_rec = 0;
    if (e == cudaSuccess && s->raw_early) {
        e = cudaEventRecord(s->raw_free, sm);
        s->raw_free_rec = e == cudaSuccess;
    }
    if (ev)
        cudaEventRecord(s->ev[1], sm);
    if (e == cudaSuccess && nj)
        e = launch_blocks(b->g, s, sm, (const GpuJob *)s->jobs.p, (uint32_t)nj);
    if (ev)
        cudaEventRecord(s->ev[2], sm);
    if (e == cudaSuccess)
        e = launch_rest(s, sm, (const GpuDwtDesc *)((uint8_t *)s->tabs.p + t.dwt), start, max_w, max_h, max_is97,
                        max_levels, (const GpuMctDesc *)((uint8_t *)s->tabs.p + t.mct), nm,
                        (const GpuCvtDesc *)((uint8_t *)s->tabs.p + t.cvt), ncv_launch, out_rows, ev ? s->ev[3] : NULL);
    if (ev)
        cudaEventRecord(s->ev[4], sm);
    if (e == cudaSuccess && staging)
        e = cudaMemcpyAsync(s->hstaging.p, s->staging.p, staging, cudaMemcpyDeviceToHost, sm);
    if (e == cudaSuccess && nj)
        e = cudaMemcpyAsync(s->hstatus.p, s->status.p, nj * sizeof(int), cudaMemcpyDeviceToHost, sm);
    if (ev)
        cudaEventRecord(s->ev[5], sm);
    if (e == cudaSuccess)
        e = cudaEventRecord(s->done, sm);
    if (e != cudaSuccess) {
        cudaGetLastError();
        /* Whatever did go onto the streams may still read the slot's pinned
         * buffers: let it end before anything reuses them. */
        cudaStreamSynchronize(s->h2d);
        cudaStreamSynchronize(sm);
        cudaGetLastError();
        snprintf(msg, sizeof(msg), "GPU batch: %s", cudaGetErrorString(e));
        slot_fail(b, s, HTC_EDEVICE, msg);
        return;
    }
    s->submitted = 1;
    s->ran = 1;
}

/* Waits for the slot's chunk on the device (and, with HTC_GPU_TIMING,
 * prints its line). */
static void slot_wait(Batch *b, Slot *s)
{
    if (!s->submitted)
        return;
    const double t0 = host_ms();
    const cudaError_t e = cudaEventSynchronize(s->done);
    b->wait_ms += host_ms() - t0;
    s->submitted = 0;
    if (e != cudaSuccess) {
        cudaGetLastError();
        char msg[160];
        snprintf(msg, sizeof(msg), "GPU batch: %s", cudaGetErrorString(e));
        s->ran = 0;
        slot_fail(b, s, HTC_EDEVICE, msg);
        return;
    }
    if (b->timing && s->have_ev) {
        float ms[5] = { 0 };
        double sum = 0;
        for (int k = 0; k < 5; k++) {
            if (cudaEventElapsedTime(&ms[k], s->ev[k], s->ev[k + 1]) != cudaSuccess) {
                cudaGetLastError();
                ms[k] = 0;
            }
            b->stage_ms[k] += ms[k];
            sum += ms[k];
        }
        b->gpu_ms += sum;
        /* The timeline: when the chunk's kernels ran on the device (from its
         * raw copies' end to its last copy out), from the batch's start. */
        float dev0 = -1, dev1 = -1, raw0 = -1;
        if (b->have_t0 && (cudaEventElapsedTime(&dev0, b->g->t0, s->ev[0]) != cudaSuccess ||
                           cudaEventElapsedTime(&dev1, b->g->t0, s->ev[5]) != cudaSuccess)) {
            cudaGetLastError();
            dev0 = dev1 = -1;
        }
        if (b->have_t0 && s->raw_ev && cudaEventElapsedTime(&raw0, b->g->t0, s->ev[s->raw_ev]) != cudaSuccess) {
            cudaGetLastError();
            raw0 = -1;
        }
        fprintf(stderr, "gpu timeline dev %d chunk %zu (slot %d): %zu items, plan %.3f-%.3f, submitted %.3f, raw DMAs %.3f-%.3f "
                        "(%.1f MB), device %.3f-%.3f, waited at %.3f ms\n",
                b->g->device, s->index, (int)(s - b->g->slot), s->i1 - s->i0, s->t_plan, s->t_plan + s->plan_ms,
                s->t_submit, raw0, dev0, s->raw_bytes / 1e6, dev0, dev1, t0 - b->t_zero);
        fprintf(stderr,
                "gpu chunk %zu (items %zu-%zu, slot %d): host plan %.3f ms (%u threads, with finishing the "
                "slot's previous chunk), seal+submit %.3f ms (sealing %.3f); device %.3f ms: expand+gather %.3f, blocks %.3f, "
                "DWT %.3f, colour+output %.3f, copies out %.3f ms; %zu blocks, %.1f MB pool, %.1f MB raw\n",
                s->index, s->i0, s->i1 - 1, (int)(s - b->g->slot), s->plan_ms, s->np, s->submit_ms, s->seal_ms, sum, ms[0],
                ms[1], ms[2], ms[3], ms[4], s->nj, s->pool_bytes / 1e6, s->raw_bytes / 1e6);
    }
}


/* Items per chunk: HTC_GPU_CHUNK (0: the whole batch), else GPU_CHUNK_ITEMS. */
static size_t chunk_items_setting(void)
{
    /* Read once; relaxed atomics, as several device threads may ask at once. */
    static long cached = -2;
    long v = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (v == -2) {
        const char *e = getenv("HTC_GPU_CHUNK");
        const long x = e && *e ? strtol(e, NULL, 10) : -1;
        v = x < 0 ? -1 : x;
        __atomic_store_n(&cached, v, __ATOMIC_RELAXED);
    }
    return v < 0 ? (size_t)GPU_CHUNK_ITEMS : v == 0 ? SIZE_MAX : (size_t)v;
}

/* One batch on the decoder's k-th device, planned on up to `threads` host
 * threads, chunk by chunk through the slots. */
/* The call's devices and its items' second-round devices (PlanPart.route). */
typedef struct Route {
    int *route;                /* NULL: no second round */
    HtcBatchItem *base;
    int lo, hi;
} Route;

/* Puts the slot's sealed chunk on the device (chunk_launch); it is then
 * pending. seal_ms: what its sealing took (HTC_GPU_TIMING's seal+submit
 * is both). */
static void launch_chunk(Batch *b, Slot *s, double seal_ms)
{
    const double t0 = host_ms();
    chunk_launch(b, s);
    if (!s->submitted && s->raw_pieces) {
        /* Nothing went on after the raw copies: let them end before the
         * slot's pinned buffer is written again. */
        cudaStreamSynchronize(s->h2d);
        cudaGetLastError();
    }
    const double t1 = host_ms();
    s->submit_ms = seal_ms + (t1 - t0);
    s->t_submit = t1 - b->t_zero;
    s->pending = 1;
}

/* A Batch for device g's work, planned and finished on up to `threads`
 * host threads. */
static void batch_init(Batch *b, HtcDecoder *d, GpuState *g, uint32_t threads)
{
    /* HTC_GPU_TIMING=1: where the time goes, per chunk and per batch, on
     * stderr (no "GPU" in the lines: bench/gpu greps its summary for it). */
    static int timing_cached = -1; /* relaxed atomics: device threads may ask at once */
    int timing = __atomic_load_n(&timing_cached, __ATOMIC_RELAXED);
    if (timing < 0) {
        const char *v = getenv("HTC_GPU_TIMING");
        timing = !v ? 0 : !strcmp(v, "2") ? 2 : 1;
        __atomic_store_n(&timing_cached, timing, __ATOMIC_RELAXED);
    }
    memset(b, 0, sizeof(*b));
    b->d = d;
    b->g = g;
    b->timing = timing;
    b->t_start = b->t_zero = host_ms();
    b->threads = HTC_MAX(HTC_MIN(threads, (uint32_t)GPU_MAX_PARTS), 1u);
    b->gate = b->old_done = 1; /* passes without an overlap wait for nothing */
}

/* The slot's chunk is finished: the slot is free, and the share's host
 * states go with its last chunk. */
static void slot_release(Slot *s)
{
    s->pending = 0;
    if (s->owns_st)
        free(s->st);
    s->st = NULL;
    s->items = NULL;
    s->owns_st = 0;
}

/* Waits for and finishes device g's pending chunks of calls up to `upto`,
 * oldest first. */
static void drain_slots(Batch *b, GpuState *g, uint64_t upto)
{
    for (uint32_t q = 0; q < g->nslots; q++) {
        Slot *s = &g->slot[(g->next_slot + q) % g->nslots];
        if (!s->pending)
            continue;
        if (s->seq > upto)
            break; /* the rest are later still */
        slot_wait(b, s);
        b->slot = s;
        b->f0 = s->i0;
        b->f1 = s->i1;
        b->p0 = b->p1 = 0;
        const uint32_t nk = (uint32_t)HTC_MAX(HTC_MIN((size_t)b->threads, (s->i1 - s->i0 + 15) / 16), (size_t)1);
        b->fin_next = 0;
        b->fin_shares = nk;
        chunk_pass(b, g, nk);
        slot_release(s);
    }
}

/* One batch (call number seq) on the decoder's k-th device. With `keep`,
 * it returns once the last chunk is submitted, its last chunks left to a
 * later call to finish (htc_decode_batch_submit); else every pending chunk
 * of the device is finished first. */
static void async_publish(AsyncWorker *aw, const GpuState *g, uint64_t running);

static int batch_on(HtcDecoder *d, uint32_t dk, HtcBatchItem *items, size_t n, uint32_t threads, const Route *rt,
                    uint64_t seq, int keep, AsyncWorker *aw)
{
    int rc = 0;
    GpuState *g = gpu_state(d, dk, &rc);
    if (!g)
        return rc;
    if (cudaSetDevice(g->device) != cudaSuccess) {
        cudaGetLastError();
        return htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d", g->device);
    }
    ItemState *st = (ItemState *)calloc(n ? n : 1, sizeof(ItemState));
    if (!st)
        return htc_fail(&d->ctx, HTC_ENOMEM, "batch of %zu", n);
    Batch b;
    batch_init(&b, d, g, threads);
    b.items = items;
    b.st = st;
    const uint32_t nslots = g->nslots;
    uint32_t cur = g->next_slot;
    /* Work of an earlier call still running: the device is not idle, so
     * no small chunks to start it. */
    int idle = 1;
    for (uint32_t q = 0; q < nslots; q++)
        idle &= !g->slot[q].pending;
    if (b.timing) {
        if (!g->have_t0)
            g->have_t0 = cudaEventCreate(&g->t0) == cudaSuccess;
        /* HTC_GPU_TIMING=2: one timeline over a stream of calls */
        if (b.timing == 2 && g->t0_kept) {
            b.have_t0 = 1;
            b.t_zero = g->t0_host;
        } else {
            b.have_t0 = g->have_t0 && cudaEventRecord(g->t0, g->slot[cur].stream) == cudaSuccess;
            g->t0_kept = b.have_t0;
            g->t0_host = b.t_zero;
        }
        cudaGetLastError();
    }
    threads = b.threads;
    b.piece_env = (size_t)env_setting("HTC_GPU_PIECE_KB", 0, 0, 1 << 20) << 10;
    b.tab_wb = env_setting("HTC_GPU_TAB_WB", 1, 0, 1);

    /* Chunks of even size: as many as the item and byte limits ask for. */
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += item_bytes(&items[i]);
    const size_t lim_items = HTC_MAX(chunk_items_setting(), (size_t)1);
    size_t nch = 1;
    if (lim_items != SIZE_MAX)
        nch = HTC_MAX(n / lim_items + (n % lim_items != 0), total / GPU_CHUNK_BYTES + (total % GPU_CHUNK_BYTES != 0));
    nch = HTC_MAX(HTC_MIN(nch, n), (size_t)1);
    const size_t want_items = n / nch + (n % nch != 0);
    const size_t want_bytes = total ? total / nch + (total % nch != 0) : SIZE_MAX;

    /* The pipeline, chunk by chunk: a pass of the pool plans the chunk
     * (and finishes its slot's old one); then the chunk is sealed. With
     * the overlap (HTC_GPU_OVERLAP=0: none), the chunk is sealed by the
     * next chunk's pass, its tasks first, and launched while they plan;
     * the wait for the slot's old chunk happens meanwhile too: the calling
     * thread's driver calls and waits, and a sealing pass of its own, no
     * longer stand between two passes. The next chunk's raw DMAs are
     * queued only after the launched chunk's tables, which they would
     * otherwise hold up on the copy engine. */
    const int overlap = nslots > 1 && env_setting("HTC_GPU_OVERLAP", 1, 0, 1);
    Slot *to_launch = NULL;    /* planned, waiting for its seal and launch */
    int to_launch_defer = 0;   /* its parts are still to be sealed */
    double to_launch_seal = 0;
    size_t pos = 0;
    while (pos < n) {
        Slot *s = &g->slot[cur];
        const int old = s->pending;
        /* A call's first chunk overlaps too where its slot holds an earlier
         * call's chunk (a stream of calls): its codestreams are queued
         * before that chunk is waited for, not after (4x H200: the link
         * stood idle for that wait at every call). */
        const int lap = overlap && (to_launch != NULL || old);
        if (old && !lap)
            slot_wait(&b, s);
        /* The first chunk's plan is never hidden, and a lone chunk leaves
         * the device mostly idle: the first ones grow, 1/4, 1/2, then full,
         * so the device starts sooner and the host gets ahead of it
         * (HTC_GPU_RAMP=R: R growing chunks). */
        const size_t ramp = (size_t)env_setting("HTC_GPU_RAMP", GPU_RAMP, 0, 8);
        const size_t div = idle && nch > 1 && b.chunks < ramp ? (size_t)1 << (ramp - b.chunks) : 1;
        const size_t wi = HTC_MAX(want_items / div, (size_t)1), wb = want_bytes / div;
        size_t end = pos, bytes = 0;
        while (end < n && end - pos < wi && (end == pos || bytes < wb))
            bytes += item_bytes(&items[end++]);
        /* A few items the byte limit left over go with this chunk rather
         * than make one of their own: a chunk costs a pass, a launch and
         * the device's fixed time per DWT level (4x H200: 2048 CT slices
         * came as 8 chunks of 255-256 and one of 3). */
        while (end < n && n - end <= wi / 8 && bytes + item_bytes(&items[end]) <= GPU_CHUNK_BYTES)
            bytes += item_bytes(&items[end++]);
        const size_t cn = end - pos;
        /* Buffers that must grow: the old chunk ends first (growing frees
         * what its copies may still read). */
        if (old && lap && (s->hraw.size < bytes || s->raw.size < bytes))
            slot_wait(&b, s);
        /* Plan (and finish the slot's previous chunk). */
        const double t0 = host_ms();
        b.slot = s;
        b.f0 = old ? s->i0 : 0;
        b.f1 = old ? s->i1 : 0;
        b.p0 = pos;
        b.p1 = end;
        b.next = pos;
        const uint32_t np = (uint32_t)HTC_MAX(HTC_MIN((size_t)threads, (cn + 3) / 4), (size_t)1);
        for (uint32_t k = 0; k < np; k++) {
            s->parts[k].d = d;
            s->parts[k].device = g->device;
            s->parts[k].route = rt->route;
            s->parts[k].route_base = rt->base;
            s->parts[k].dev_lo = rt->lo;
            s->parts[k].dev_hi = rt->hi;
        }
        s->np = np;
        /* The chunk's codestreams back to back, for the raw copies. The
         * slot's previous chunk is done with its buffers. */
        for (size_t i = pos; i < end; i++)
            st[i].raw_off = (size_t)(i == pos ? 0 : st[i - 1].raw_off + item_bytes(&items[i - 1]));
        s->raw_bytes = bytes;
        b.raw_next = 0;
        b.raw_err = 0;
        b.hraw_ok = !old || !s->submitted;
        /* Pinned codestreams are only sent: larger DMAs, queued by this
         * thread alone (the first item tells, a mixed chunk works either
         * way). */
        const int pinned = pos < end && host_pinned(&b.ptr_main, items[pos].stream ? items[pos].stream->cs : items[pos].data);
        b.raw_piece = b.piece_env ? HTC_MAX(b.piece_env, (size_t)4096) : pinned ? GPU_RAW_PIECE_PINNED : GPU_RAW_PIECE;
        b.raw_pieces = (bytes + b.raw_piece - 1) / b.raw_piece;
        if (pin_reserve(&s->hraw, bytes ? bytes : 1, 0, (size_t)4 << 20) < 0 ||
            dev_reserve(&s->raw, bytes ? bytes : 1) != cudaSuccess) {
            cudaGetLastError();
            b.raw_pieces = 0;
            b.raw_err = 1; /* the chunk fails at its submission */
        }
        b.dma_main = pinned;
        const size_t copiers = b.dma_main ? 0 : HTC_MIN(
            (size_t)env_setting("HTC_GPU_COPIERS", (int)HTC_MIN(threads, (uint32_t)GPU_COPIERS), 1, GPU_MAX_PARTS),
            b.raw_pieces);
        b.copiers = (uint32_t)copiers;
        const uint32_t nk = (uint32_t)HTC_MAX((size_t)np, copiers);
        b.fin_next = 0;
        b.fin_shares = nk;
        if (lap) {
            b.gate = 0;
            b.old_done = !old || !s->submitted;
            /* The chunk to launch is sealed first, by the tasks and this
             * thread, then launched while they plan. */
            b.defer_slot = to_launch;
            b.seal_n = to_launch_defer ? to_launch->np : 0;
            b.seal_next = b.seal_done = 0;
            const double t_seal = host_ms();
            chunk_pass_start(&b, g, nk);
            if (b.seal_n) {
                seal_claim(&b);
                wait_until(count_reached, &b.seal_done, b.seal_n);
                to_launch->sealed = 1;
                to_launch->seal_ms = host_ms() - t_seal;
                to_launch_seal += to_launch->seal_ms;
            }
            if (to_launch)
                launch_chunk(&b, to_launch, to_launch_seal);
            to_launch = NULL;
            to_launch_defer = 0;
            raw_begin(&b, s);
            __atomic_store_n(&b.gate, 1, __ATOMIC_RELEASE);
            if (b.dma_main)
                raw_copy(&b, s, &b.ptr_main, b.timing ? b.main_ms : NULL);
            if (old)
                slot_wait(&b, s);
            __atomic_store_n(&b.old_done, 1, __ATOMIC_RELEASE);
            chunk_pass_join(&b, g);
            b.seal_n = 0;
            if (b.f1 > b.f0 && b.fin_next < b.fin_shares) {
                /* Shares of the old chunk no task took: finished now. */
                b.p0 = b.p1 = 0;
                chunk_pass(&b, g, b.fin_shares);
            }
        } else {
            b.gate = b.old_done = 1;
            raw_begin(&b, s);
            if (b.dma_main) {
                if (b.timing)
                    memset(b.main_ms, 0, sizeof(b.main_ms));
                raw_copy(&b, s, &b.ptr_main, b.timing ? b.main_ms : NULL);
                if (b.timing) /* counted with this pass */
                    for (int q = 0; q < TASK_PHASES; q++)
                        b.task_sum[q] += b.main_ms[q];
            }
            chunk_pass(&b, g, nk);
        }
        b.copiers = 0;
        b.dma_main = 0;
        s->raw_pieces = b.raw_pieces;
        s->raw_err = __atomic_load_n(&b.raw_err, __ATOMIC_RELAXED);
        /* What the next chunk of this slot waits for before it writes hraw
         * (if the record fails, the stream is waited for now). */
        s->raw_recorded = 0;
        if (b.raw_pieces) {
            if (cudaEventRecord(s->raw_done, s->h2d) == cudaSuccess) {
                s->raw_recorded = 1;
            } else {
                cudaGetLastError();
                cudaStreamSynchronize(s->h2d);
                cudaGetLastError();
            }
        }
        if (old) {
            slot_release(s);
            if (aw) /* a waiter on an earlier call may go on */
                async_publish(aw, g, seq);
        }
        const double t1 = host_ms();
        s->raw_ev = s->raw_ev_next;
        s->i0 = pos;
        s->i1 = end;
        s->items = items;
        s->st = st;
        s->owns_st = end == n;
        s->seq = seq;
        s->index = b.chunks++;
        s->plan_ms = t1 - t0;
        s->t_plan = t0 - b.t_zero; /* (set only now: the slot's old chunk, finished in the pass, printed its own) */
        b.plan_ms += s->plan_ms;
        if (s->index == 0)
            b.first_plan_ms = s->plan_ms;
        /* Seal and launch now, or (overlap) both in the next chunk's pass:
         * no pass of its own between two plan passes. */
        b.p0 = b.p1 = 0;
        b.raw_pieces = 0;
        pos = end;
        cur = (cur + 1) % nslots;
        g->next_slot = cur;
        if (overlap && pos < n) {
            to_launch = s;
            to_launch_defer = chunk_seal_prepare(&b, s);
            to_launch_seal = host_ms() - t1;
        } else {
            chunk_seal(&b, s);
            launch_chunk(&b, s, host_ms() - t1);
        }
    }
    if (!n)
        free(st); /* no chunk took them */
    /* Drain, oldest first: finish each slot while the later ones run. */
    if (!keep)
        drain_slots(&b, g, UINT64_MAX);
    if (b.timing) {
        const double wall = host_ms() - b.t_start;
        /* Host time the GPU did not cover: the plan beyond that was hidden. */
        const double exposed = HTC_MAX(wall - b.gpu_ms, 0.0);
        const double hidden = HTC_MAX(HTC_MIN(b.plan_ms - exposed, b.plan_ms - b.first_plan_ms), 0.0);
        fprintf(stderr,
                "gpu batch of %zu: %zu chunks over %d slots, %.3f ms wall; host plan %.3f ms in all (%u threads; "
                "first chunk %.3f, never hidden), host waited for the device %.3f ms, host plan hidden behind "
                "the device about %.3f ms; device busy %.3f ms (sums over chunks); device: expand+gather %.3f, "
                "blocks %.3f, DWT %.3f, colour+output %.3f, copies out %.3f ms\n",
                n, b.chunks, nslots, wall, b.plan_ms, threads, b.first_plan_ms, b.wait_ms, hidden, b.gpu_ms,
                b.stage_ms[0], b.stage_ms[1], b.stage_ms[2], b.stage_ms[3], b.stage_ms[4]);
        /* Host thread time by phase: summed over the tasks (CPU time spent),
         * and the slowest task of each pass summed over passes (the part
         * that holds a pass up). */
        char line[512];
        int at = 0;
        for (int q = 0; q < TASK_PHASES && at < (int)sizeof(line); q++)
            at += snprintf(line + at, sizeof(line) - at, "%s%s %.3f (slowest %.3f)", q ? ", " : "",
                           task_phase_name[q], b.task_sum[q], b.task_max[q]);
        unsigned queries = b.ptr_main.queries;
        for (int k = 0; k < GPU_MAX_PARTS; k++)
            queries += b.ptrs[k].queries;
        fprintf(stderr, "gpu batch of %zu, dev %d: host task ms, %zu items: %s; %u pointer queries\n", n, g->device, n,
                line, queries);
        fprintf(stderr,
                "gpu batch of %zu, dev %d: tables %.2f MB with %.1f MB of codestreams (%.2f%%): %zu jobs (%zu whole), "
                "%zu bands\n",
                n, g->device, b.tab_bytes / 1e6, b.raw_total / 1e6, b.raw_total ? 100.0 * b.tab_bytes / b.raw_total : 0.0,
                b.tab_jobs, b.tab_full, b.tab_bands);
        const double np_ = (double)HTC_MAX(b.passes, (size_t)1);
        fprintf(stderr,
                "gpu batch of %zu, dev %d: %zu passes, %.3f ms wall in all; a task starts %.1f us after its pass "
                "starts (mean; the last %.1f), ends %.1f us before it ends (mean); the calling thread joins at "
                "%.1f us (means over passes)\n",
                n, g->device, b.passes, b.pass_wall, 1e3 * b.start_mean / np_, 1e3 * b.start_last / np_,
                1e3 * b.end_gap / np_, 1e3 * b.join_at / np_);
    }
    return b.rc;
}

/* Host threads each of nd devices plans on: an even share of the
 * decoder's, at most cap. Where the shares take every thread, each leaves
 * one to the CUDA driver's threads and the system's (4x H200, 64 cores:
 * 15 a GPU instead of 16 was faster in 6 rounds of 6, by 1%). */
static uint32_t device_threads(const HtcDecoder *d, uint32_t nd, uint32_t cap)
{
    uint32_t t = HTC_MAX(d->num_threads / HTC_MAX(nd, 1u), 1u);
    if (nd > 1 && t > 2 && t <= cap)
        t--;
    return HTC_MIN(t, cap);
}

typedef struct DeviceRun {
    HtcDecoder *d;
    uint32_t k, threads;
    HtcBatchItem *items;
    size_t n;
    const Route *rt;
    uint64_t seq;
    int keep;
    int rc;
    double t_begin, t_end;     /* host_ms() around its batch_on */
} DeviceRun;

static void *device_worker(void *arg)
{
    DeviceRun *r = (DeviceRun *)arg;
    r->t_begin = host_ms();
    r->rc = r->n ? batch_on(r->d, r->k, r->items, r->n, r->threads, r->rt, r->seq, r->keep, NULL) : 0;
    r->t_end = host_ms();
    return NULL;
}

/* Runs runs[0..nd) at once, from host threads of their own; the first
 * failing call's status. */
static int run_devices(DeviceRun *runs, uint32_t nd)
{
    pthread_t th[GPU_MAX_DEVICES];
    int started[GPU_MAX_DEVICES] = { 0 };
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

/* The second round of a call: each device's routed items (rt->route),
 * copied out, decoded on their buffers' devices, and copied back. */
static int second_round(HtcDecoder *d, HtcBatchItem *items, size_t n, const Route *rt, uint32_t nd, uint32_t cap,
                        uint64_t seq)
{
    size_t moved = 0;
    for (size_t i = 0; i < n; i++)
        moved += rt->route[i] != 0;
    if (!moved)
        return 0;
    int rc = 0;
    HtcBatchItem *tmp = (HtcBatchItem *)malloc(moved * sizeof(*tmp));
    size_t *from = (size_t *)malloc(moved * sizeof(*from));
    const Route none = { NULL, NULL, rt->lo, rt->hi };
    DeviceRun runs[GPU_MAX_DEVICES];
    if (!tmp || !from) {
        rc = htc_fail(&d->ctx, HTC_ENOMEM, "batch of %zu", n);
    } else {
        size_t m = 0;
        for (uint32_t k = 0; k < nd; k++) {
            runs[k].d = d;
            runs[k].k = k;
            runs[k].threads = device_threads(d, nd, cap);
            runs[k].items = tmp + m;
            runs[k].rt = &none;
            runs[k].seq = seq;
            runs[k].keep = 0; /* tmp goes at the end of this call */
            runs[k].rc = 0;
            for (size_t i = 0; i < n; i++)
                if (rt->route[i] == 1 + rt->lo + (int)k) {
                    from[m] = i;
                    tmp[m++] = items[i];
                }
            runs[k].n = (size_t)(tmp + m - runs[k].items);
        }
        rc = run_devices(runs, nd);
        for (size_t q = 0; q < m; q++)
            items[from[q]] = tmp[q];
    }
    free(tmp);
    free(from);
    return rc;
}

/* ---- submitted batches over several devices ------------------------------
 *
 * A submitted batch over several devices goes to a worker thread per
 * device, kept while the decoder lives, and the submit returns at once:
 * each device plans its next share as soon as it is done with its last,
 * rather than all of them waiting for the slowest at every call (4x H200,
 * 8192 CT slices a call: the slowest share took 8% more than the mean).
 * A worker publishes, as it goes, up to which call every chunk is finished
 * (AsyncWorker.fin); a wait blocks until each device is there, and asks an
 * idle worker to drain its slots if it is not. Calls' second rounds and
 * failures are taken care of by the wait. Anything else (a synchronous
 * call, a submit on one device, closing) first lets the workers run dry
 * (async_quiesce) and then runs on the calling thread as before.
 * HTC_GPU_ASYNC=0: submits run on the calling thread too. */
typedef struct AsyncCall {
    uint64_t seq;
    HtcBatchItem *items;
    size_t n;
    Route rt;                  /* rt.route: its items' second-round devices */
    uint32_t nd, cap;
    uint32_t left;             /* shares not yet planned (mu) */
    int rc;                    /* its first failing share's status (mu) */
    char msg[256];
    struct AsyncCall *next;
} AsyncCall;

typedef struct AsyncJob {
    DeviceRun run;             /* a share of call, or (call NULL) a drain up to `upto` */
    AsyncCall *call;
    uint64_t upto;
    struct AsyncJob *next;
} AsyncJob;

/* Every chunk of calls below `running` (the call being planned, or the
 * last planned + 1) that is not in a pending slot is finished. */
static uint64_t finished_upto(const GpuState *g, uint64_t running)
{
    uint64_t lo = running;
    for (uint32_t q = 0; g && q < g->nslots; q++)
        if (g->slot[q].pending && g->slot[q].seq < lo)
            lo = g->slot[q].seq;
    return lo ? lo - 1 : 0;
}

static void async_publish(AsyncWorker *aw, const GpuState *g, uint64_t running)
{
    GpuSet *set = aw->set;
    pthread_mutex_lock(&set->mu);
    const uint64_t fin = finished_upto(g, running);
    if (fin > aw->fin) {
        aw->fin = fin;
        pthread_cond_broadcast(&set->cv);
    }
    pthread_mutex_unlock(&set->mu);
}

static void *async_main(void *arg)
{
    AsyncWorker *w = (AsyncWorker *)arg;
    GpuSet *set = w->set;
    HtcDecoder *d = w->d;
    pthread_mutex_lock(&set->mu);
    for (;;) {
        while (!set->quit && !w->head)
            pthread_cond_wait(&set->cv, &set->mu);
        AsyncJob *j = w->head;
        if (!j)
            break; /* quit, nothing left */
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        w->busy = 1;
        pthread_mutex_unlock(&set->mu);
        GpuState *g = set->dev[w->k];
        int rc = 0;
        char msg[256] = "";
        if (j->call) {
            rc = batch_on(d, w->k, j->run.items, j->run.n, j->run.threads, j->run.rt, j->run.seq, 1, w);
        } else if (g) {
            if (cudaSetDevice(g->device) != cudaSuccess) {
                cudaGetLastError();
                rc = htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d", g->device);
            } else {
                Batch b;
                batch_init(&b, d, g, j->run.threads);
                drain_slots(&b, g, j->upto);
                rc = b.rc;
            }
        }
        if (rc < 0)
            htc_copy_last_error(msg, sizeof(msg));
        pthread_mutex_lock(&set->mu);
        w->busy = 0;
        uint64_t fin;
        if (j->call) {
            w->planned = HTC_MAX(w->planned, j->run.seq);
            j->call->left--;
            if (rc < 0 && j->call->rc >= 0) {
                j->call->rc = rc;
                snprintf(j->call->msg, sizeof(j->call->msg), "%s", msg);
            }
            fin = finished_upto(g, w->planned + 1);
        } else {
            if (rc < 0 && set->drain_rc >= 0) {
                set->drain_rc = rc;
                snprintf(set->drain_msg, sizeof(set->drain_msg), "%s", msg);
            }
            /* nothing of calls up to upto is pending now */
            fin = HTC_MAX(finished_upto(g, w->planned + 1), j->upto);
        }
        w->fin = HTC_MAX(w->fin, fin);
        pthread_cond_broadcast(&set->cv);
        free(j);
    }
    pthread_mutex_unlock(&set->mu);
    return NULL;
}

/* Starts the workers of devices 0..nd-1 (once); 0 when they all run. */
static int async_start(HtcDecoder *d, GpuSet *set, uint32_t nd)
{
    if (!set->have_mu) {
        if (pthread_mutex_init(&set->mu, NULL) != 0)
            return -1;
        if (pthread_cond_init(&set->cv, NULL) != 0) {
            pthread_mutex_destroy(&set->mu);
            return -1;
        }
        set->have_mu = 1;
    }
    while (set->nworkers < nd) {
        AsyncWorker *w = &set->w[set->nworkers];
        w->set = set;
        w->d = d;
        w->k = set->nworkers;
        w->fin = w->planned = d->batches ? d->batches - 1 : 0; /* calls before its time never were its own */
        if (pthread_create(&w->th, NULL, async_main, w) != 0)
            return -1;
        w->started = 1;
        set->nworkers++;
    }
    return 0;
}

static void async_enqueue(AsyncWorker *w, AsyncJob *j)
{
    j->next = NULL;
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
}

/* Waits (mu held) until no worker has anything to do. */
static void async_idle_locked(GpuSet *set)
{
    for (;;) {
        int busy = 0;
        for (uint32_t k = 0; k < set->nworkers; k++)
            busy |= set->w[k].busy || set->w[k].head != NULL;
        if (!busy)
            return;
        pthread_cond_wait(&set->cv, &set->mu);
    }
}

/* Every submitted call completed and the workers idle: the calling thread
 * may use the devices' states. */
static int async_quiesce(HtcDecoder *d)
{
    GpuSet *set = (GpuSet *)d->gpu;
    if (!set || !set->nworkers)
        return 0;
    const int rc = htc_gpu_wait(d, UINT64_MAX);
    pthread_mutex_lock(&set->mu);
    async_idle_locked(set);
    pthread_mutex_unlock(&set->mu);
    return rc;
}

static void async_stop(GpuSet *set)
{
    if (!set->have_mu)
        return;
    pthread_mutex_lock(&set->mu);
    set->quit = 1;
    pthread_cond_broadcast(&set->cv);
    pthread_mutex_unlock(&set->mu);
    for (uint32_t k = 0; k < set->nworkers; k++)
        if (set->w[k].started)
            pthread_join(set->w[k].th, NULL);
    set->nworkers = 0;
    pthread_cond_destroy(&set->cv);
    pthread_mutex_destroy(&set->mu);
    set->have_mu = 0;
}

/* Queues call seq's shares to the workers; 1 when it did (the call is then
 * theirs), 0 when the call is to run here after all. */
static int async_submit(HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t seq, uint32_t nd, uint32_t cap)
{
    GpuSet *set = (GpuSet *)d->gpu;
    /* Before the first workers, every earlier call's chunks end here: a
     * worker starts with nothing pending. */
    if (!set->nworkers && htc_gpu_wait(d, UINT64_MAX) < 0)
        return 0;
    if (async_start(d, set, nd) < 0 || set->nworkers < nd)
        return 0;
    AsyncCall *c = (AsyncCall *)calloc(1, sizeof(AsyncCall));
    AsyncJob *jobs[GPU_MAX_DEVICES] = { NULL };
    int ok = c != NULL;
    for (uint32_t k = 0; k < nd && ok; k++)
        ok = (jobs[k] = (AsyncJob *)calloc(1, sizeof(AsyncJob))) != NULL;
    if (ok)
        ok = (c->rt.route = (int *)calloc(n ? n : 1, sizeof(int))) != NULL;
    if (!ok) {
        for (uint32_t k = 0; k < nd; k++)
            free(jobs[k]);
        if (c)
            free(c->rt.route);
        free(c);
        return 0;
    }
    c->seq = seq;
    c->items = items;
    c->n = n;
    c->rt.base = items;
    c->rt.lo = d->settings.device_id;
    c->rt.hi = d->settings.device_id + (int)nd;
    c->nd = nd;
    c->cap = cap;
    c->left = nd;
    for (uint32_t k = 0; k < nd; k++) {
        DeviceRun *r = &jobs[k]->run;
        r->d = d;
        r->k = k;
        r->threads = device_threads(d, nd, cap);
        r->items = items + n * k / nd;
        r->n = n * (k + 1) / nd - n * k / nd;
        r->rt = &c->rt;
        r->seq = seq;
        r->keep = 1;
        jobs[k]->call = c;
    }
    pthread_mutex_lock(&set->mu);
    if (set->calls_tail)
        set->calls_tail->next = c;
    else
        set->calls = c;
    set->calls_tail = c;
    for (uint32_t k = 0; k < nd; k++)
        async_enqueue(&set->w[k], jobs[k]);
    pthread_cond_broadcast(&set->cv);
    pthread_mutex_unlock(&set->mu);
    return 1;
}

/* A batch is cut into contiguous shares, one per device (settings.num_devices
 * from settings.device_id on), decoded at once from host threads of their
 * own: item i on device device_id + i * nd / n. An item whose output is a
 * caller's buffer on another of these devices goes there in a second round
 * (copies of those items, batched per device, finished before the call
 * returns; for a submitted batch, by its wait). */
extern "C" int htc_gpu_decode_batch(HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t seq, int keep)
{
    const int count = htc_cuda_device_count();
    uint32_t nd = HTC_MAX(d->settings.num_devices, 1u);
    if (count > d->settings.device_id)
        nd = HTC_MIN(nd, (uint32_t)(count - d->settings.device_id));
    nd = HTC_MIN(nd, (uint32_t)GPU_MAX_DEVICES);
    int rc = 0;
    for (uint32_t k = 0; k < nd && rc >= 0; k++)
        if (!gpu_state(d, k, &rc))
            return rc; /* made here, one thread, before the shares run */
    const uint32_t shares = n >= 2 * (size_t)nd ? nd : 1;
    /* Host threads a device plans on: more than GPU_PLAN_THREADS only
     * contend (4x H200 host, 64 threads, 8192 pinned CT slices on one GPU:
     * 8 threads 40-42 ms, 16 38-40, all 64 41-59; HTC_GPU_PLAN_THREADS=N
     * sets the cap). */
    const uint32_t cap = (uint32_t)env_setting("HTC_GPU_PLAN_THREADS", GPU_PLAN_THREADS, 1, GPU_MAX_PARTS);
    if (keep && shares > 1 && env_setting("HTC_GPU_ASYNC", 1, 0, 1) && async_submit(d, items, n, seq, nd, cap))
        return 0;
    /* Here, on this thread: the workers' calls end first. */
    rc = async_quiesce(d);
    if (rc < 0)
        return rc;
    Route rt = { NULL, items, d->settings.device_id, d->settings.device_id + (int)nd };
    if (nd > 1 && !(rt.route = (int *)calloc(n ? n : 1, sizeof(int))))
        return htc_fail(&d->ctx, HTC_ENOMEM, "batch of %zu", n);
    DeviceRun runs[GPU_MAX_DEVICES];
    for (uint32_t k = 0; k < shares; k++) {
        runs[k].d = d;
        runs[k].k = k;
        runs[k].threads = device_threads(d, shares, cap);
        runs[k].items = items + n * k / shares;
        runs[k].n = n * (k + 1) / shares - n * k / shares;
        runs[k].rt = &rt;
        runs[k].seq = seq;
        runs[k].keep = keep;
        runs[k].rc = 0;
    }
    const double t_call = host_ms();
    rc = run_devices(runs, shares);
    if (shares > 1 && getenv("HTC_GPU_TIMING")) {
        /* Each device's share from the call's start: a call lasts as long
         * as its slowest share. */
        char line[256];
        int at = 0;
        for (uint32_t k = 0; k < shares && at < (int)sizeof(line); k++)
            at += snprintf(line + at, sizeof(line) - at, "%s%.3f-%.3f", k ? ", " : "", runs[k].t_begin - t_call,
                           runs[k].t_end - t_call);
        fprintf(stderr, "gpu call of %zu items over %u devices: %.3f ms; shares (ms from its start): %s\n", n, shares,
                host_ms() - t_call, line);
    }
    if (rc >= 0 && rt.route)
        rc = second_round(d, items, n, &rt, nd, cap, seq);
    free(rt.route);
    return rc;
}

/* Finishes every device's pending chunks of calls up to `ticket`: with
 * workers, each drains its own (see above) and the completed calls' second
 * rounds run here; else one device after the other, here. */
extern "C" int htc_gpu_wait(HtcDecoder *d, uint64_t ticket)
{
    if (!d || !d->gpu)
        return 0;
    GpuSet *set = (GpuSet *)d->gpu;
    int rc = 0;
    if (set->nworkers) {
        ticket = HTC_MIN(ticket, d->batches);
        pthread_mutex_lock(&set->mu);
        for (uint32_t k = 0; k < set->nworkers; k++) {
            AsyncWorker *w = &set->w[k];
            while (w->fin < ticket) {
                if (!w->busy && !w->head) {
                    AsyncJob *j = (AsyncJob *)calloc(1, sizeof(AsyncJob));
                    if (!j) {
                        rc = htc_fail(&d->ctx, HTC_ENOMEM, "GPU wait");
                        break;
                    }
                    j->upto = ticket;
                    j->run.threads = HTC_MAX(d->num_threads / set->nworkers, 1u);
                    async_enqueue(w, j);
                    pthread_cond_broadcast(&set->cv);
                }
                pthread_cond_wait(&set->cv, &set->mu);
            }
        }
        /* The calls up to ticket are complete: their statuses, then their
         * second rounds with the workers idle. */
        AsyncCall *done = NULL, **tail = &done;
        while (set->calls && set->calls->seq <= ticket && set->calls->left == 0) {
            AsyncCall *c = set->calls;
            set->calls = c->next;
            if (!set->calls)
                set->calls_tail = NULL;
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
        if (set->drain_rc < 0 && rc >= 0) {
            rc = htc_fail(&d->ctx, set->drain_rc, "%s", set->drain_msg);
            set->drain_rc = 0;
        }
        int moved = 0;
        for (AsyncCall *c = done; c; c = c->next)
            for (size_t i = 0; i < c->n && !moved; i++)
                moved = c->rt.route[i] != 0;
        if (moved)
            async_idle_locked(set);
        pthread_mutex_unlock(&set->mu);
        while (done) {
            AsyncCall *c = done;
            done = c->next;
            if (c->rc < 0 && rc >= 0)
                rc = htc_fail(&d->ctx, c->rc, "%s", c->msg);
            if (moved && c->rc >= 0) {
                const int r2 = second_round(d, c->items, c->n, &c->rt, c->nd, c->cap, c->seq);
                if (r2 < 0 && rc >= 0)
                    rc = r2;
            }
            free(c->rt.route);
            free(c);
        }
        return rc;
    }
    uint32_t have = 0;
    for (int k = 0; k < GPU_MAX_DEVICES; k++)
        have += set->dev[k] != NULL;
    for (int k = 0; k < GPU_MAX_DEVICES; k++) {
        GpuState *g = set->dev[k];
        if (!g)
            continue;
        if (cudaSetDevice(g->device) != cudaSuccess) {
            cudaGetLastError();
            if (rc >= 0)
                rc = htc_fail(&d->ctx, HTC_ENODEVICE, "CUDA device %d", g->device);
            continue;
        }
        Batch b;
        batch_init(&b, d, g, HTC_MAX(d->num_threads / HTC_MAX(have, 1u), 1u));
        drain_slots(&b, g, ticket);
        if (b.rc < 0 && rc >= 0)
            rc = b.rc;
    }
    return rc;
}
