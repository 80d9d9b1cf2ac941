/* htcodec: the Part 1 (EBCOT) block decoder on the GPU is the CPU's own code
 * (src/coding/t1_decode_impl.h, whose functions are marked HTC_HD),
 * compiled a second time here for the device, a GPU thread a code-block:
 * the same bits by construction. The tables it reads are copied to device
 * memory once per device; in the device compilation their names are
 * redirected to those copies. */
#ifndef HTC_GPU_T1_CUH
#define HTC_GPU_T1_CUH

extern "C" {
#include "coding/mq_decoder.h"
#include "coding/t1_tables.h"
}

static __device__ HtcMqCx gpu_mq_table[94];
static __device__ uint64_t gpu_mq_next[94];
static __device__ uint8_t gpu_t1_zc_ctx[3][256];
static __device__ uint8_t gpu_t1_sc_ctx[256];

/* Table D.7, as htc_t1_reset_contexts (coding/t1_tables.c). */
static __device__ inline void gpu_t1_reset_contexts(HtcMqCx ctx[HTC_T1_NUM_CTX])
{
    for (int i = 0; i < HTC_T1_NUM_CTX; i++)
        ctx[i] = gpu_mq_table[0];
    ctx[HTC_T1_CTX_UNI] = gpu_mq_table[46 * 2];
    ctx[HTC_T1_CTX_RL] = gpu_mq_table[3 * 2];
    ctx[0] = gpu_mq_table[4 * 2];
}

#define t1_decode_block gpu_t1_decode_block
#ifdef __CUDA_ARCH__
#define htc_mq_table gpu_mq_table
#define htc_mq_next gpu_mq_next
#define htc_t1_zc_ctx gpu_t1_zc_ctx
#define htc_t1_sc_ctx gpu_t1_sc_ctx
#define htc_t1_reset_contexts gpu_t1_reset_contexts
#endif

extern "C" {
#include "coding/t1_decode_impl.h"
}

#undef t1_decode_block
#ifdef __CUDA_ARCH__
#undef htc_mq_table
#undef htc_mq_next
#undef htc_t1_zc_ctx
#undef htc_t1_sc_ctx
#undef htc_t1_reset_contexts
#endif

/* Scratch a Part 1 job needs: the decoder's flags and magnitudes, and the
 * copy of its longest codeword segment (at most its data) with its tail. */
static inline size_t gpu_t1_scratch_need(uint32_t w, uint32_t h, size_t data_length)
{
    const size_t fs = ((size_t)w + 2) * 4, stripes = (h + 3) / 4;
    const size_t flags = (fs * (stripes + 2) * 2 + 63) & ~(size_t)63;
    const size_t mag = (fs * stripes * 4 + 63) & ~(size_t)63;
    return flags + mag + data_length + HTC_MQ_TAIL + 64;
}

/* Copies the host's tables to the device (once per device). */
static int gpu_t1_upload_tables(void)
{
    (void)&gpu_t1_decode_block; /* its host copy is unused */
    if (cudaMemcpyToSymbol(gpu_mq_table, htc_mq_table, sizeof(gpu_mq_table)) != cudaSuccess ||
        cudaMemcpyToSymbol(gpu_mq_next, htc_mq_next, sizeof(gpu_mq_next)) != cudaSuccess ||
        cudaMemcpyToSymbol(gpu_t1_zc_ctx, htc_t1_zc_ctx, sizeof(gpu_t1_zc_ctx)) != cudaSuccess ||
        cudaMemcpyToSymbol(gpu_t1_sc_ctx, htc_t1_sc_ctx, sizeof(gpu_t1_sc_ctx)) != cudaSuccess)
        return HTC_EDEVICE;
    return 0;
}

#endif /* HTC_GPU_T1_CUH */
