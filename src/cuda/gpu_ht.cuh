/* htcodec: the HT block decoder on the GPU is the CPU's own code
 * (src/coding/ht_*.c, whose functions are marked HTC_HD), compiled a second
 * time here for the device: the same bits by construction. The functions are
 * renamed so that these copies do not clash with the library's C objects;
 * the tables are built once on the host and copied to device memory. */
#ifndef HTC_GPU_HT_CUH
#define HTC_GPU_HT_CUH


#define htc_ht_cleanup_with gpu_ht_cleanup_with
#define htc_ht_cleanup gpu_ht_cleanup
#define htc_ht_refine gpu_ht_refine
#define htc_ht_decode_block gpu_ht_decode_block_host
#define htc_ht_decode_block_with gpu_ht_decode_block_with
#define htc_ht_magsgn_row_c gpu_ht_magsgn_row_c
#define htc_ht_dsp_init gpu_ht_dsp_init
#define htc_ht_dsp_for gpu_ht_dsp_for
#define htc_ht_dsp gpu_ht_dsp
extern "C" {
#include "coding/block.h"
#include "coding/ht_bits.h"
#include "coding/ht_decode.h"
#include "coding/ht_dsp.h"
#include "coding/ht_tables.h"
#include "internal.h"
}

/* The decoder's tables in device memory (gpu_ht_upload_tables fills them). */
static __device__ HtcHtTables gpu_ht_tables;

/* Scratch each GPU thread gets: what htc_ht_decode_block_with needs. */
#define GPU_HT_SCRATCH \
    ((HTC_HT_CLEANUP_SCRATCH_MAX > HTC_HT_REFINE_SCRATCH ? HTC_HT_CLEANUP_SCRATCH_MAX : HTC_HT_REFINE_SCRATCH) + 64)

#ifdef __CUDA_ARCH__
#undef htc_fail
#define htc_fail(ctx, status, ...) (status)
#define htc_ht_tables() (&gpu_ht_tables)
#endif

extern "C" {
#include "coding/ht_block.c"
#include "coding/ht_cleanup.c"
#include "coding/ht_dsp.c"
#include "coding/ht_refine.c"
}

#undef htc_ht_cleanup_with
#undef htc_ht_cleanup
#undef htc_ht_refine
#undef htc_ht_decode_block
#undef htc_ht_decode_block_with
#undef htc_ht_magsgn_row_c
#undef htc_ht_dsp_init
#undef htc_ht_dsp_for
#undef htc_ht_dsp
#ifdef __CUDA_ARCH__
#undef htc_fail
#undef htc_ht_tables
#endif

static __device__ inline int gpu_ht_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                                                 uint32_t *undecoded, void *scratch, size_t scratch_size)
{
    return gpu_ht_decode_block_with(NULL, p, out, stride, undecoded, scratch, scratch_size);
}

/* Copies the host's tables to the device (once per device). */
static int gpu_ht_upload_tables(void)
{
    return cudaMemcpyToSymbol(gpu_ht_tables, htc_ht_tables(), sizeof(HtcHtTables)) == cudaSuccess ? 0
                                                                                                : HTC_EDEVICE;
}

#endif /* HTC_GPU_HT_CUH */
