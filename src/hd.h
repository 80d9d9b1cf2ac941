/* htcodec: HTC_HD marks functions that are compiled for the CPU and, when a
 * CUDA file includes their source, for the GPU as well (the GPU backend runs
 * the very code of the CPU decoder there, so both give the same bits). */
#ifndef HTC_HD_H
#define HTC_HD_H

#ifdef __CUDACC__
#define HTC_HD __host__ __device__
#define HTC_DEV_CONST __device__ const
#else
#define HTC_HD
#define HTC_DEV_CONST const
#endif

#include <stdint.h>

/* Bit counts that both compilers know (the argument of clz/ctz is not 0). */
static HTC_HD inline uint32_t htc_clz32(uint32_t v)
{
#ifdef __CUDA_ARCH__
    return (uint32_t)__clz((int)v);
#else
    return (uint32_t)__builtin_clz(v);
#endif
}

static HTC_HD inline uint32_t htc_ctz32(uint32_t v)
{
#ifdef __CUDA_ARCH__
    return (uint32_t)(__ffs((int)v) - 1);
#else
    return (uint32_t)__builtin_ctz(v);
#endif
}

static HTC_HD inline uint32_t htc_bswap32(uint32_t v)
{
#ifdef __CUDA_ARCH__
    return __byte_perm(v, 0, 0x0123);
#else
    return __builtin_bswap32(v);
#endif
}

#endif /* HTC_HD_H */
