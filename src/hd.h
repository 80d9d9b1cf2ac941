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

#endif /* HTC_HD_H */
