/* htcodec: the GPU kernels after tier 1 (dequantisation is fused into the
 * block kernel): inverse DWT levels batched over many tile-components,
 * inverse colour transform, output conversion. Each follows the C reference
 * in src/transform/ operation for operation. */
#ifndef HTC_GPU_KERNELS_CUH
#define HTC_GPU_KERNELS_CUH

#include <stdint.h>
#include <string.h>

/* One tile-component's level for the batched inverse DWT. */
typedef struct GpuDwtDesc {
    uint64_t off;              /* first sample, in elements of the arenas */
    uint32_t stride;           /* elements per row */
    uint32_t w, h;             /* resolution r's size */
    uint8_t xodd, yodd, is97, pad;
    uint32_t cvt;              /* the last 5/3 level writing the output itself: its GpuCvtDesc + 1, else 0 */
} GpuDwtDesc;

/* Inverse RCT/ICT over one tile's components 0-2 (same size and filter). */
typedef struct GpuMctDesc {
    uint64_t off[3];
    uint32_t stride, w, h;
    uint32_t is_float;
} GpuMctDesc;

/* One tile-component area into an output plane. */
typedef struct GpuCvtDesc {
    uint64_t src_off;          /* elements */
    uint8_t *dst;              /* device address of the first output sample */
    int64_t dst_row_stride;    /* bytes */
    uint32_t src_stride, w, h;
    uint32_t pixel_stride;     /* samples */
    int32_t lo, hi, shift;
    float flo, fhi;
    uint8_t bytes, is_float, out_float, staged; /* staged: dst is an offset in the staging buffer */
    uint8_t fused;             /* written by the last DWT level (k_idwt_v53), not by k_convert */
} GpuCvtDesc;

/* A clamped sample v into an output plane (as src/transform/convert.c). */
static __host__ __device__ inline void gpu_cvt_store(const GpuCvtDesc &d, uint32_t x, uint32_t y, int64_t v)
{
    uint8_t *p = d.dst + (int64_t)y * d.dst_row_stride + (size_t)x * d.pixel_stride * d.bytes;
    if (d.out_float) {
        const float f = (float)(v + (int64_t)(uint32_t)d.shift);
        memcpy(p, &f, 4);
    } else {
        const uint32_t u = (uint32_t)v + (uint32_t)d.shift;
        if (d.bytes == 1) {
            *p = (uint8_t)u;
        } else if (d.bytes == 2) {
            const uint16_t s16 = (uint16_t)u;
            memcpy(p, &s16, 2);
        } else {
            memcpy(p, &u, 4);
        }
    }
}

/* One integer sample into an output plane. */
static __host__ __device__ inline void gpu_cvt_put_int(const GpuCvtDesc &d, uint32_t x, uint32_t y, int32_t s)
{
    gpu_cvt_store(d, x, y, s < d.lo ? d.lo : s > d.hi ? d.hi : s);
}

#endif /* HTC_GPU_KERNELS_CUH */
