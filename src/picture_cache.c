/* htcodec: released pictures kept for reuse by the decoder's later decodes.
 *
 * Why: a batch keeps hundreds of pictures alive and the caller releases them
 * together; glibc then hands the freed top of its heap back to the kernel
 * (brk, or madvise in a thread's arena), and the next batch faults in and the
 * kernel zeroes every page again: about 128 page faults a 512x512 16-bit slice,
 * a quarter of the decode's CPU time on a VM, and brk/mprotect/madvise take the
 * process's memory-map lock in write mode, which stalls the page faults of
 * every other thread. Blocks here keep their pages mapped.
 *
 * Only the C library's allocator is cached (a caller's allocator sees every
 * allocation, as before), and only blocks of HTC_PIC_CACHE_MIN bytes or more.
 * A picture's `allocator` field routes its release here; the cache counts one
 * reference per live picture, so pictures may outlive the decoder: after
 * htc_pic_cache_close, released blocks are freed and the last one frees the
 * cache. The bytes kept never exceed the cap given at creation. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "decode.h"

#define HTC_PIC_CACHE_MIN ((size_t)64 << 10)
#define HTC_PIC_CACHE_CLASSES 16   /* distinct block sizes kept */
#define HTC_PIC_HEADER 64          /* before the picture's bytes; keeps them 64-byte aligned */

typedef struct CacheBlock {
    struct CacheBlock *next;
    size_t size;               /* bytes after the header */
} CacheBlock;

typedef struct CacheClass {
    size_t size;
    CacheBlock *head;
    uint32_t count;
} CacheClass;

struct HtcPicCache {
    pthread_mutex_t mu;
    atomic_uint refs;          /* the owner's + one per live picture */
    int closed;
    size_t cap, kept;
    CacheClass cls[HTC_PIC_CACHE_CLASSES];
};

HtcPicCache *htc_pic_cache_open(size_t cap)
{
    HtcPicCache *c = htc_calloc(NULL, 1, sizeof(*c));
    if (!c)
        return NULL;
    if (pthread_mutex_init(&c->mu, NULL) != 0) {
        htc_free(NULL, c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->cap = cap;
    return c;
}

HtcPicCache *htc_pic_cache_ref(HtcPicCache *c)
{
    if (c)
        atomic_fetch_add(&c->refs, 1);
    return c;
}

void htc_pic_cache_unref(HtcPicCache *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES; i++)
        for (CacheBlock *b = c->cls[i].head, *next; b; b = next) {
            next = b->next;
            htc_free(NULL, b);
        }
    pthread_mutex_destroy(&c->mu);
    htc_free(NULL, c);
}

static void free_blocks(CacheClass *k)
{
    for (CacheBlock *b = k->head, *next; b; b = next) {
        next = b->next;
        htc_free(NULL, b);
    }
    k->head = NULL;
    k->count = 0;
}

void htc_pic_cache_close(HtcPicCache *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->closed = 1;
    for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES; i++)
        free_blocks(&c->cls[i]);
    c->kept = 0;
    pthread_mutex_unlock(&c->mu);
    htc_pic_cache_unref(c);
}

size_t htc_pic_cache_kept(HtcPicCache *c)
{
    pthread_mutex_lock(&c->mu);
    const size_t n = c->kept;
    pthread_mutex_unlock(&c->mu);
    return n;
}

/* Never called: a picture's allocator needs an alloc for its free to be used. */
static void *cache_alloc(void *opaque, size_t size, size_t align)
{
    (void)opaque;
    (void)size;
    (void)align;
    return NULL;
}

static void cache_put(void *opaque, void *ptr)
{
    HtcPicCache *c = opaque;
    CacheBlock *b = ptr;
    int kept = 0;
    pthread_mutex_lock(&c->mu);
    if (!c->closed && b->size <= c->cap - c->kept) {
        CacheClass *k = NULL;
        for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES && !k; i++)
            if (c->cls[i].count && c->cls[i].size == b->size)
                k = &c->cls[i];
        for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES && !k; i++)
            if (!c->cls[i].count)
                k = &c->cls[i];
        if (k) {
            k->size = b->size;
            b->next = k->head;
            k->head = b;
            k->count++;
            c->kept += b->size;
            kept = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (!kept)
        htc_free(NULL, b);
    htc_pic_cache_unref(c);
}

void *htc_pic_cache_get(HtcPicCache *c, size_t size, uint8_t **base, int *from_cache,
                        HtcAllocator *release)
{
    *from_cache = 0;
    if (size < HTC_PIC_CACHE_MIN || size > SIZE_MAX - HTC_PIC_HEADER)
        return NULL; /* the caller allocates as without a cache */
    CacheBlock *b = NULL;
    pthread_mutex_lock(&c->mu);
    /* the smallest kept size that fits without wasting more than half */
    CacheClass *best = NULL;
    for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES; i++) {
        CacheClass *k = &c->cls[i];
        if (k->count && k->size >= size && k->size / 2 <= size && (!best || k->size < best->size))
            best = k;
    }
    if (best) {
        b = best->head;
        best->head = b->next;
        best->count--;
        c->kept -= b->size;
    } else if (c->kept) {
        /* a new size while blocks of other sizes wait: give the largest of
         * those back first, so that a stream of growing sizes cannot hold
         * the cap in blocks that no longer fit */
        CacheClass *big = NULL;
        for (uint32_t i = 0; i < HTC_PIC_CACHE_CLASSES; i++)
            if (c->cls[i].count && c->cls[i].size < size && (!big || c->cls[i].size > big->size))
                big = &c->cls[i];
        if (big) {
            c->kept -= big->size * big->count;
            free_blocks(big);
        }
    }
    pthread_mutex_unlock(&c->mu);
    if (b)
        *from_cache = 1;
    else {
        b = htc_malloc(NULL, HTC_PIC_HEADER + size);
        if (!b)
            return NULL;
        b->size = size;
    }
    htc_pic_cache_ref(c);
    release->opaque = c;
    release->alloc = cache_alloc;
    release->free = cache_put;
    *base = (uint8_t *)b + HTC_PIC_HEADER;
    return b;
}
