/* htcodec: pointer queries with each allocation's range remembered for the
 * call (gpu_pointer.h says why). */
#include <cuda.h>
#include <cuda_runtime.h>
#include <string.h>

#include "cuda/gpu_pointer.h"

typedef CUresult (*GetAttributesFn)(unsigned int, CUpointer_attribute *, void **, CUdeviceptr);

/* The driver's cuPointerGetAttributes, which also reports an allocation's
 * range (the runtime's query does not); NULL where the runtime cannot
 * give it. Looked up once; relaxed atomics, as threads may ask at once. */
static GetAttributesFn get_attributes(void)
{
    static int looked = 0;
    static GetAttributesFn fn = NULL;
    if (__atomic_load_n(&looked, __ATOMIC_ACQUIRE))
        return __atomic_load_n(&fn, __ATOMIC_RELAXED);
    void *f = NULL;
    cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
    if (cudaGetDriverEntryPointByVersion("cuPointerGetAttributes", &f, 12000, cudaEnableDefault, &q) != cudaSuccess ||
        q != cudaDriverEntryPointSuccess)
        f = NULL;
    cudaGetLastError();
    __atomic_store_n(&fn, (GetAttributesFn)f, __ATOMIC_RELAXED);
    __atomic_store_n(&looked, 1, __ATOMIC_RELEASE);
    return (GetAttributesFn)f;
}

/* Asks the driver; *lo and *hi: the allocation's range, or [p, p + 1)
 * where it has none to give (then only p itself is remembered). */
static PtrInfo query(const void *p, uintptr_t *lo, uintptr_t *hi)
{
    PtrInfo r = { PTR_PAGEABLE, -1 };
    *lo = (uintptr_t)p;
    *hi = (uintptr_t)p + 1;
    const GetAttributesFn fn = get_attributes();
    if (fn) {
        CUdeviceptr start = 0;
        size_t size = 0;
        unsigned int type = 0, managed = 0;
        int ordinal = -1;
        CUpointer_attribute at[5] = { CU_POINTER_ATTRIBUTE_RANGE_START_ADDR, CU_POINTER_ATTRIBUTE_RANGE_SIZE,
                                      CU_POINTER_ATTRIBUTE_MEMORY_TYPE, CU_POINTER_ATTRIBUTE_IS_MANAGED,
                                      CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL };
        void *data[5] = { &start, &size, &type, &managed, &ordinal };
        if (fn(5, at, data, (CUdeviceptr)(uintptr_t)p) == CUDA_SUCCESS) {
            if (managed)
                r.type = PTR_MANAGED;
            else if (type == CU_MEMORYTYPE_HOST)
                r.type = PTR_PINNED;
            else if (type == CU_MEMORYTYPE_DEVICE) {
                r.type = PTR_DEVICE;
                r.device = ordinal;
            }
            if (r.type != PTR_PAGEABLE && size && start <= (CUdeviceptr)(uintptr_t)p &&
                (uintptr_t)p - (uintptr_t)start < size) {
                *lo = (uintptr_t)start;
                *hi = (uintptr_t)start + size;
            }
            return r;
        }
    }
    cudaPointerAttributes a;
    if (cudaPointerGetAttributes(&a, p) != cudaSuccess) {
        cudaGetLastError();
        return r;
    }
    if (a.type == cudaMemoryTypeDevice) {
        r.type = PTR_DEVICE;
        r.device = a.device;
    } else if (a.type == cudaMemoryTypeHost) {
        r.type = PTR_PINNED;
    } else if (a.type == cudaMemoryTypeManaged) {
        r.type = PTR_MANAGED;
    }
    return r;
}

PtrInfo gpu_pointer_info(PtrCache *c, const void *p)
{
    const uintptr_t x = (uintptr_t)p;
    for (unsigned i = 0; i < c->n; i++)
        if (x - c->lo[i] < c->hi[i] - c->lo[i])
            return c->info[i];
    uintptr_t lo, hi;
    const PtrInfo r = query(p, &lo, &hi);
    c->queries++;
    const unsigned k = c->n < PTR_CACHE_SIZE ? c->n++ : c->next++ % PTR_CACHE_SIZE;
    c->lo[k] = lo;
    c->hi[k] = hi;
    c->info[k] = r;
    return r;
}
