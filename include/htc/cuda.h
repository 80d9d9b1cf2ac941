/* htcodec: what the GPU backend offers. */
#ifndef HTC_CUDA_H
#define HTC_CUDA_H

#include "htc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when the library was built with CUDA, else 0. */
HTC_API int htc_cuda_built(void);
/* Number of usable CUDA devices (0 without CUDA or without a device). */
HTC_API int htc_cuda_device_count(void);
/* Name of device id into buf; HTC_ENODEVICE when there is none. */
HTC_API int htc_cuda_device_name(int id, char *buf, size_t size);

/* Copies n bytes of device memory (a picture with memory
 * HTC_MEMORY_DEVICE) to host memory; HTC_ENODEVICE without CUDA. */
HTC_API int htc_cuda_copy_to_host(void *dst, const void *device_src, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* HTC_CUDA_H */
