/* htcodec: the GPU entry points when the library is built without CUDA. */
#include "internal.h"

#if !HTC_HAVE_CUDA
int htc_cuda_built(void) { return 0; }
int htc_cuda_device_count(void) { return 0; }
int htc_cuda_device_name(int id, char *buf, size_t size)
{
    (void)id;
    if (buf && size)
        buf[0] = 0;
    return HTC_ENODEVICE;
}
#endif
