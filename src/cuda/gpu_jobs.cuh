/* htcodec: the code-block jobs of a GPU chunk, as the block kernels read
 * them (GpuJob) and as they cross the host link (GpuJobWire, GpuBandDesc,
 * GpuGather). With four GPUs pulling codestreams at once the host link is
 * what bounds a batch, so the tables that go with the codestreams are kept
 * small: a CT slice's 70 blocks took 7.8 KB of tables against 157 KB of
 * codestream; their wire form takes 2.6 KB. k_expand (gpu_decode.cu)
 * rebuilds the jobs on the device. */
#ifndef HTC_GPU_JOBS_CUH
#define HTC_GPU_JOBS_CUH

#include <stdint.h>
#include <string.h>

#define GPU_MAX_SEGS 8

/* One code-block for the block kernels. */
typedef struct GpuJob {
    uint64_t data_off;         /* its segments in the pool, HTC_BLOCK_PAD zero bytes after */
    uint64_t coef_off;         /* its top-left sample in the arena (elements) */
    uint32_t stride;           /* elements per row of its tile-component */
    uint16_t w, h;
    uint32_t num_passes, cblk_style;
    uint32_t seg_len[GPU_MAX_SEGS];
    uint8_t seg_passes[GPU_MAX_SEGS];
    uint8_t num_segs, reversible, mb, zero_planes;
    uint8_t band, is_ht, pad[2]; /* is_ht 0: a Part 1 (EBCOT) block */
    float delta;
    uint32_t spare;            /* no implicit padding: jobs are compared as bytes */
} GpuJob;

/* What a run of code-blocks of one band (of one tile-component of one
 * item, planned one after the other) share: their fields, and the bases of
 * GpuJobWire's offsets. */
typedef struct GpuBandDesc {
    uint64_t raw_base;         /* in the slot's raw codestream bytes */
    uint64_t pool_base;        /* in the slot's byte pool */
    uint64_t coef_base;        /* in the arena (elements): the tile-component's first sample */
    uint32_t stride, cblk_style;
    float delta;
    uint8_t reversible, mb, band, is_ht;
} GpuBandDesc;

/* A code-block as it crosses the link: 28 bytes against a GpuJob's 88 and
 * its GpuGather's 24. Its bytes are one run of the raw codestreams, copied
 * into the pool by k_expand; one segment, or two of one pass and the rest
 * (an HT cleanup, then its SigProp and MagRef). A block that does not fit
 * this (several runs or segments, long fields) has num_passes 0 and src
 * the index of its whole GpuJob, its runs in the gather table. */
typedef struct GpuJobWire {
    uint32_t src;              /* raw_base + src: its bytes; or (num_passes 0) its GpuJob */
    uint32_t dst;              /* pool_base + dst: where they go */
    uint32_t coef;             /* coef_base + coef: its top-left sample */
    uint32_t band;             /* its GpuBandDesc */
    uint32_t len0;             /* the first segment's bytes */
    uint16_t len1;             /* the second's (0: one segment) */
    uint8_t num_passes, zero_planes;
    uint16_t w, h;
} GpuJobWire;

/* One run of a code-block's bytes: the chunk's codestreams go to the
 * device whole, and this run is gathered from them into its block's place
 * in the byte pool (then `pad` zero bytes, after a block's last run). */
typedef struct GpuGather {
    uint64_t src;              /* in the slot's raw codestream bytes */
    uint64_t dst;              /* in the slot's byte pool */
    uint32_t len, pad;
} GpuGather;

/* A block's place in the pool: its bytes, HTC_BLOCK_PAD zeros, 16-aligned. */
static __host__ __device__ inline uint64_t gpu_block_bytes(uint64_t len, uint32_t block_pad)
{
    return (len + block_pad + 15) & ~(uint64_t)15;
}

/* The job of a wire record (num_passes > 0) of band b. The planner keeps a
 * wire record only where this gives its job back byte for byte. */
static __host__ __device__ inline void gpu_job_from_wire(const GpuJobWire &x, const GpuBandDesc &b, GpuJob *j)
{
    memset(j, 0, sizeof(*j));
    j->data_off = b.pool_base + x.dst;
    j->coef_off = b.coef_base + x.coef;
    j->stride = b.stride;
    j->w = x.w;
    j->h = x.h;
    j->num_passes = x.num_passes;
    j->cblk_style = b.cblk_style;
    j->seg_len[0] = x.len0;
    if (x.len1) {
        j->num_segs = 2;
        j->seg_len[1] = x.len1;
        j->seg_passes[0] = 1;
        j->seg_passes[1] = (uint8_t)(x.num_passes - 1);
    } else {
        j->num_segs = 1;
        j->seg_passes[0] = x.num_passes;
    }
    j->reversible = b.reversible;
    j->mb = b.mb;
    j->zero_planes = x.zero_planes;
    j->band = b.band;
    j->is_ht = b.is_ht;
    j->delta = b.delta;
}

#endif /* HTC_GPU_JOBS_CUH */
