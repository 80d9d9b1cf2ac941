/* htcodec: the GPU backend as the decode entry points see it. Built only
 * with CUDA (src/cuda/); src/cuda_stub.c answers HTC_ENODEVICE otherwise. */
#ifndef HTC_GPU_H
#define HTC_GPU_H

#include "htc/htc.h"

#ifdef __cplusplus
extern "C" {
#endif

struct HtcDecoder;

/* Decodes every item on the decoder's GPUs (settings.device_id on). Items
 * whose code-blocks the GPU cannot decode (RGN) are decoded by the CPU path
 * and, for device output, copied up. Returns 0 when the call itself worked;
 * each item has its own status. seq: the call's number (increasing). With
 * `keep`, returns once the work is on the devices: its last chunks are
 * finished by later calls or htc_gpu_wait (htc_decode_batch_submit). */
int htc_gpu_decode_batch(struct HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t seq, int keep);
/* Finishes the chunks of every call numbered up to `ticket`. */
int htc_gpu_wait(struct HtcDecoder *d, uint64_t ticket);
/* Frees a picture buffer that the GPU backend allocated. */
void htc_gpu_free(void *device_ptr);
/* Releases the decoder's GPU resources (streams, pools); accepts NULL. */
void htc_gpu_close(struct HtcDecoder *d);

#ifdef __cplusplus
}
#endif

#endif /* HTC_GPU_H */
