/* htcodec: the inverse DWT lines of src/transform/dwt53.c and dwt97.c with
 * strides, for the GPU kernels. The arithmetic is the C reference's, step
 * for step (integers wrap, floats are rounded after every operation with no
 * fused multiply-add), so the GPU gives the CPU's bits. */
#ifndef HTC_GPU_DWT_CUH
#define HTC_GPU_DWT_CUH

#include <stdint.h>

#include "transform/transform.h"

#ifdef __CUDA_ARCH__
#define GPU_FADD(a, b) __fadd_rn((a), (b))
#define GPU_FSUB(a, b) __fsub_rn((a), (b))
#define GPU_FMUL(a, b) __fmul_rn((a), (b))
#else
#define GPU_FADD(a, b) ((a) + (b))
#define GPU_FSUB(a, b) ((a) - (b))
#define GPU_FMUL(a, b) ((a) * (b))
#endif

static __host__ __device__ inline int32_t gpu_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static __host__ __device__ inline int32_t gpu_sub(int32_t a, int32_t b) { return (int32_t)((uint32_t)a - (uint32_t)b); }

/* htc_idwt53_line with in[k * is] and out[k * os]. */
static __host__ __device__ inline void gpu_idwt53_line(const int32_t *in, ptrdiff_t is, int32_t *out,
                                                       ptrdiff_t os, uint32_t n, int odd)
{
    if (n == 1) {
        out[0] = odd ? in[0] / 2 : in[0];
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int32_t *lo = in, *hi = in + (ptrdiff_t)nl * is;
#define LO(k) lo[(ptrdiff_t)(k) * is]
#define HI(k) hi[(ptrdiff_t)(k) * is]
#define OUT(k) out[(ptrdiff_t)(k) * os]
    if (!odd) {
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hm = HI(k ? k - 1 : 0), hp = HI(k < nh ? k : nh - 1);
            OUT(2 * k) = gpu_sub(LO(k), gpu_add(gpu_add(hm, hp), 2) >> 2);
        }
        for (uint32_t k = 0; k < nh; k++) {
            const int32_t lm = OUT(2 * k), lp = OUT(k + 1 < nl ? 2 * k + 2 : 2 * k);
            OUT(2 * k + 1) = gpu_add(HI(k), gpu_add(lm, lp) >> 1);
        }
    } else {
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hm = HI(k), hp = HI(k + 1 < nh ? k + 1 : nh - 1);
            OUT(2 * k + 1) = gpu_sub(LO(k), gpu_add(gpu_add(hm, hp), 2) >> 2);
        }
        for (uint32_t k = 0; k < nh; k++) {
            const int32_t lm = OUT(2 * (k ? k - 1 : 0) + 1), lp = OUT(2 * (k < nl ? k : nl - 1) + 1);
            OUT(2 * k) = gpu_add(HI(k), gpu_add(lm, lp) >> 1);
        }
    }
#undef LO
#undef HI
#undef OUT
}

static __host__ __device__ inline void gpu_lift97(float *x, ptrdiff_t os, uint32_t n, uint32_t first, float c)
{
    for (uint32_t i = first; i < n; i += 2) {
        const float l = x[(ptrdiff_t)(i ? i - 1 : 1) * os];
        const float r = x[(ptrdiff_t)(i + 1 < n ? i + 1 : i - 1) * os];
        const float s = GPU_FADD(l, r);
        const float p = GPU_FMUL(s, c);
        x[(ptrdiff_t)i * os] = GPU_FSUB(x[(ptrdiff_t)i * os], p);
    }
}

/* htc_idwt97_line with strides. */
static __host__ __device__ inline void gpu_idwt97_line(const float *in, ptrdiff_t is, float *out,
                                                       ptrdiff_t os, uint32_t n, int odd)
{
    if (n == 1) {
        out[0] = odd ? GPU_FMUL(in[0], 0.5f) : in[0];
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const uint32_t lo0 = odd ? 1 : 0, hi0 = 1 - lo0;
    for (uint32_t k = 0; k < nl; k++)
        out[(ptrdiff_t)(lo0 + 2 * k) * os] = GPU_FMUL(in[(ptrdiff_t)k * is], HTC_DWT97_K);
    for (uint32_t k = 0; k < nh; k++)
        out[(ptrdiff_t)(hi0 + 2 * k) * os] = GPU_FMUL(in[(ptrdiff_t)(nl + k) * is], HTC_DWT97_INV_K);
    gpu_lift97(out, os, n, lo0, HTC_DWT97_DELTA);
    gpu_lift97(out, os, n, hi0, HTC_DWT97_GAMMA);
    gpu_lift97(out, os, n, lo0, HTC_DWT97_BETA);
    gpu_lift97(out, os, n, hi0, HTC_DWT97_ALPHA);
}

#endif /* HTC_GPU_DWT_CUH */
