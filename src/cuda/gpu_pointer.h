/* htcodec: what a pointer handed to a GPU batch points at, asked of the
 * CUDA driver once per allocation and call. Each query takes a driver lock
 * (H200 host: 0.1 us alone, 2 us with 16 threads asking at once, 5-9 us
 * with 64), and a batch asks about every item's codestream and output. A
 * call's buffers stay as they are until it ends, so a range the driver
 * reports holds for the rest of the call: each thread keeps the ranges it
 * learned in a PtrCache that lives as long as the call. */
#ifndef HTC_GPU_POINTER_H
#define HTC_GPU_POINTER_H

#include <stdint.h>

enum PtrType {
    PTR_PAGEABLE = 0,          /* ordinary host memory (or unknown) */
    PTR_PINNED,                /* page-locked host memory: DMA reads it as it is */
    PTR_MANAGED,               /* managed memory */
    PTR_DEVICE,                /* device memory of PtrInfo.device */
};

typedef struct PtrInfo {
    int type;                  /* enum PtrType */
    int device;                /* for PTR_DEVICE */
} PtrInfo;

#define PTR_CACHE_SIZE 8
typedef struct PtrCache {
    uintptr_t lo[PTR_CACHE_SIZE], hi[PTR_CACHE_SIZE];
    PtrInfo info[PTR_CACHE_SIZE];
    unsigned n, next;          /* entries filled; the next to replace */
    unsigned queries;          /* driver queries made */
} PtrCache;

#ifdef __cplusplus
extern "C" {
#endif

/* What p points at; from c's ranges where one holds p, else asked of the
 * driver (and its allocation's range remembered in c). */
PtrInfo gpu_pointer_info(PtrCache *c, const void *p);

#ifdef __cplusplus
}
#endif

#endif /* HTC_GPU_POINTER_H */
