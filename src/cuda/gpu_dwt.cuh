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

/* gpu_idwt53_line for a column whose input and output do not overlap, in
 * one streaming sweep: each step reads one low and one high sample ahead
 * and writes the output samples that are then final, so a thread keeps
 * several loads in flight instead of waiting on its own stores. Same
 * operations on the same values as gpu_idwt53_line. */
static __host__ __device__ inline void gpu_idwt53_stream(const int32_t *__restrict__ in, ptrdiff_t is,
                                                         int32_t *__restrict__ out, ptrdiff_t os, uint32_t n,
                                                         int odd)
{
    if (n == 1) {
        out[0] = odd ? in[0] / 2 : in[0];
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
    const int32_t *__restrict__ lo = in;
    const int32_t *__restrict__ hi = in + (ptrdiff_t)nl * is;
    if (!odd) {
        /* even k: OUT(2k) = LO(k) - ((HI(k-1) + HI(k) + 2) >> 2), edges mirrored;
         * OUT(2k-1) = HI(k-1) + ((OUT(2k-2) + OUT(2k)) >> 1) once OUT(2k) is known */
        int32_t hprev = hi[0], eprev = 0;
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hcur = hi[(ptrdiff_t)(k < nh ? k : nh - 1) * is];
            const int32_t e = gpu_sub(lo[(ptrdiff_t)k * is], gpu_add(gpu_add(hprev, hcur), 2) >> 2);
            out[(ptrdiff_t)(2 * k) * os] = e;
            if (k)
                out[(ptrdiff_t)(2 * k - 1) * os] = gpu_add(hprev, gpu_add(eprev, e) >> 1);
            eprev = e;
            hprev = hcur;
        }
        if (nh == nl)
            out[(ptrdiff_t)(2 * nl - 1) * os] = gpu_add(hprev, gpu_add(eprev, eprev) >> 1);
    } else {
        /* odd: OUT(2k+1) = LO(k) - ((HI(k) + HI(k+1) + 2) >> 2);
         * OUT(2k) = HI(k) + ((OUT(2k-1) + OUT(2k+1)) >> 1), edges mirrored */
        int32_t hk = hi[0], dprev = 0;
        for (uint32_t k = 0; k < nl; k++) {
            const int32_t hk1 = hi[(ptrdiff_t)(k + 1 < nh ? k + 1 : nh - 1) * is];
            const int32_t d = gpu_sub(lo[(ptrdiff_t)k * is], gpu_add(gpu_add(hk, hk1), 2) >> 2);
            out[(ptrdiff_t)(2 * k + 1) * os] = d;
            out[(ptrdiff_t)(2 * k) * os] = gpu_add(hk, gpu_add(k ? dprev : d, d) >> 1);
            dprev = d;
            hk = hk1;
        }
        if (nh > nl)
            out[(ptrdiff_t)(2 * nl) * os] = gpu_add(hi[(ptrdiff_t)nl * is], gpu_add(dprev, dprev) >> 1);
    }
}

#ifdef __cplusplus /* templates: the CUDA build and the mock runtime */
/* Output samples 2k and 2k + 1 (those below n) of gpu_idwt53_line for the
 * pairs k in [ka, kb), from the input alone: each is the same expression of
 * the same inputs as there, so any run of pairs of a column can be computed
 * apart from the others. The low-pass result and the high sample the next
 * pair shares are carried over: a pair loads two inputs, not five or six. */
template <class Put>
static __host__ __device__ inline void gpu_idwt53_pairs_to(const int32_t *in, ptrdiff_t is, uint32_t n, int odd,
                                                           uint32_t ka, uint32_t kb, const Put &put)
{
    if (n == 1) {
        if (ka == 0 && kb > 0)
            put(0, odd ? in[0] / 2 : in[0]);
        return;
    }
    const uint32_t nl = odd ? n / 2 : (n + 1) / 2, nh = n - nl;
#define LO(i) in[(ptrdiff_t)(i) * is]
#define HI(i) in[(ptrdiff_t)(nl + (i)) * is]
    if (!odd) {
        /* E(k) = LO(k) - ((HI(k - 1) + HI(k) + 2) >> 2), indices clamped;
         * OUT(2k) = E(k), OUT(2k + 1) = HI(k) + ((E(k) + E(k + 1)) >> 1) */
        if (kb > nl)
            kb = nl;
        if (ka >= kb)
            return;
        int32_t hk = HI(ka < nh ? ka : nh - 1);
        int32_t e = gpu_sub(LO(ka), gpu_add(gpu_add(HI(ka ? ka - 1 : 0), hk), 2) >> 2);
        for (uint32_t k = ka; k < kb; k++) {
            put(2 * k, e);
            if (k >= nh)
                break; /* k = nl - 1: the last pair */
            int32_t e1 = e, h1 = hk;
            if (k + 1 < nl) {
                h1 = HI(k + 1 < nh ? k + 1 : nh - 1);
                e1 = gpu_sub(LO(k + 1), gpu_add(gpu_add(hk, h1), 2) >> 2);
            }
            put(2 * k + 1, gpu_add(hk, gpu_add(e, e1) >> 1)); /* hk = HI(k): k < nh */
            e = e1;
            hk = h1;
        }
    } else {
        /* D(j) = LO(j) - ((HI(j) + HI(j + 1) + 2) >> 2), indices clamped;
         * OUT(2k + 1) = D(k) for k < nl, OUT(2k) = HI(k) + ((D(k - 1) + D(k)) >> 1),
         * D's index clamped to [0, nl - 1] */
        if (kb > nh)
            kb = nh;
        if (ka >= kb)
            return;
        const uint32_t km0 = ka ? ka - 1 : 0;
        int32_t dm = gpu_sub(LO(km0), gpu_add(gpu_add(HI(km0), HI(km0 + 1 < nh ? km0 + 1 : nh - 1)), 2) >> 2);
        for (uint32_t k = ka; k < kb; k++) {
            const uint32_t kd = k < nl ? k : nl - 1;
            const int32_t d = kd == (k ? k - 1 : 0)
                                  ? dm
                                  : gpu_sub(LO(kd), gpu_add(gpu_add(HI(kd), HI(kd + 1 < nh ? kd + 1 : nh - 1)), 2) >> 2);
            if (k < nl)
                put(2 * k + 1, d);
            put(2 * k, gpu_add(HI(k), gpu_add(dm, d) >> 1));
            dm = d;
        }
    }
#undef LO
#undef HI
}

/* Output rows into an arena column. */
struct GpuPutRows {
    int32_t *out;
    ptrdiff_t os;
    __host__ __device__ void operator()(uint32_t r, int32_t v) const { out[(ptrdiff_t)r * os] = v; }
};
#endif

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
