/* htcodec: the GPU entry points when the library is built without CUDA. */
#include <stdio.h>

#include "internal.h"

#if !HTC_HAVE_CUDA
int htc_cuda_built(void) { return 0; }
int htc_cuda_device_count(void) { return 0; }
int htc_cuda_copy_to_host(void *dst, const void *src, size_t n)
{
    (void)dst;
    (void)src;
    (void)n;
    return HTC_ENODEVICE;
}
int htc_cuda_device_name(int id, char *buf, size_t size)
{
    (void)id;
    if (buf && size)
        buf[0] = 0;
    return HTC_ENODEVICE;
}
#endif

#if !HTC_HAVE_CUDA
#include "cuda/gpu.h"

int htc_gpu_decode_batch(struct HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t seq, int keep)
{
    (void)d;
    (void)seq;
    (void)keep;
    for (size_t i = 0; i < n; i++) {
        items[i].status = HTC_ENODEVICE;
        snprintf(items[i].message, sizeof(items[i].message), "this build of htcodec has no CUDA backend");
    }
    return htc_fail(NULL, HTC_ENODEVICE, "this build of htcodec has no CUDA backend");
}
int htc_gpu_wait(struct HtcDecoder *d, uint64_t ticket)
{
    (void)d;
    (void)ticket;
    return 0;
}
void htc_gpu_free(void *p) { (void)p; }
void htc_gpu_close(struct HtcDecoder *d) { (void)d; }
#endif
