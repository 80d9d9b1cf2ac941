/* htcodec: GPU discovery (CUDA builds). */
#include <cuda_runtime.h>
#include <stdio.h>

extern "C" {
#include "internal.h"

int htc_cuda_built(void) { return 1; }

int htc_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return n;
}

int htc_cuda_device_name(int id, char *buf, size_t size)
{
    if (id < 0 || id >= htc_cuda_device_count())
        return HTC_ENODEVICE;
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, id) != cudaSuccess)
        return HTC_EDEVICE;
    if (buf && size)
        snprintf(buf, size, "%s", prop.name);
    return 0;
}

int htc_cuda_copy_to_host(void *dst, const void *src, size_t n)
{
    if (!n)
        return 0;
    if (!dst || !src)
        return HTC_EINVAL;
    if (cudaMemcpy(dst, src, n, cudaMemcpyDeviceToHost) != cudaSuccess) {
        cudaGetLastError();
        return HTC_EDEVICE;
    }
    return 0;
}
}
