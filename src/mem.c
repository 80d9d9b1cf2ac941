/* htcodec: allocation through the caller's hook, 64-byte aligned. */
#include <stdlib.h>

#include "internal.h"

void htc_limits_default(HtcLimits *l)
{
    l->max_pixels = (uint64_t)1 << 34;
    l->max_tiles = 1u << 20;
    l->max_components = 16384;
    l->max_bytes = (uint64_t)1 << 40;
    l->max_memory = (uint64_t)1 << 36;
}

void htc_context_init(HtcContext *ctx, const HtcAllocator *a, HtcLogCallback log,
                      void *log_opaque, const HtcLimits *limits)
{
    memset(ctx, 0, sizeof(*ctx));
    if (a)
        ctx->allocator = *a;
    ctx->log = log;
    ctx->log_opaque = log_opaque;
    if (limits)
        ctx->limits = *limits;
    else
        htc_limits_default(&ctx->limits);
}

void *htc_malloc(const HtcContext *ctx, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX - 64)
        return NULL;
    if (ctx && ctx->allocator.alloc)
        return ctx->allocator.alloc(ctx->allocator.opaque, size, 64);
    void *p = NULL;
    if (posix_memalign(&p, 64, size) != 0)
        return NULL;
    return p;
}

void *htc_calloc(const HtcContext *ctx, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = htc_malloc(ctx, n * size);
    if (p)
        memset(p, 0, n * size > 0 ? n * size : 1);
    return p;
}

void *htc_realloc(const HtcContext *ctx, void *ptr, size_t old_size, size_t new_size)
{
    void *p = htc_malloc(ctx, new_size);
    if (!p)
        return NULL;
    if (ptr) {
        memcpy(p, ptr, old_size < new_size ? old_size : new_size);
        htc_free(ctx, ptr);
    }
    return p;
}

void htc_free(const HtcContext *ctx, void *ptr)
{
    if (!ptr)
        return;
    if (ctx && ctx->allocator.free)
        ctx->allocator.free(ctx->allocator.opaque, ptr);
    else
        free(ptr);
}
