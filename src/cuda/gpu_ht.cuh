/* htcodec: the HT block decoder on the GPU. Placeholder until the CPU
 * decoder's sources are shared with the device. */
#ifndef HTC_GPU_HT_CUH
#define HTC_GPU_HT_CUH

extern "C" {
#include "coding/block.h"
}

#define GPU_HT_SCRATCH 16384

static __device__ int gpu_ht_decode_block(const HtcBlockParams *p, int32_t *out, ptrdiff_t stride,
                                          uint32_t *undecoded, void *scratch, size_t scratch_size)
{
    (void)p; (void)out; (void)stride; (void)scratch; (void)scratch_size;
    *undecoded = 0;
    return HTC_EUNSUPPORTED;
}

#endif
