/* htcodec: htc_decode_batch on the CPU. Whole items are spread over the
 * decoder's pool threads (decode_pool.c), each thread decoding with a
 * single-thread decoder of its own. Those decoders and their scratch (tile-
 * component buffers, DWT scratch, job tables) live as long as the parent
 * decoder, so that a stream of batches does not pay, per call, for thread
 * creation, decoder set-up and the first touch (page faults, zeroing) of
 * megabytes of scratch per thread; each keeps at most HTC_BATCH_KEEP_BYTES
 * past a call. Items larger than a thread's share of the batch are decoded
 * first, one at a time on all threads; the rest are taken larger first.
 * Which thread decodes an item does not change its result. */
#include <stdatomic.h>
#include <stdlib.h>

#include "decode.h"

/* Scratch a batch thread's decoder keeps after a call: a 512x512 slice
 * needs about 1.5 MB, a 2048x2048 radiograph about 20 MB; a mammogram's
 * (80 MB) is released at the end of the call. */
#define HTC_BATCH_KEEP_BYTES ((size_t)32 << 20)

static void batch_item(HtcDecoder *d, HtcBatchItem *it)
{
    const HtcStream *s = it->stream;
    HtcStream *own = NULL;
    it->message[0] = 0;
    int rc = 0;
    if (!s) {
        HtcStreamSettings ss;
        htc_stream_default_settings(&ss);
        ss.limits = d->settings.limits;
        ss.allocator = d->settings.allocator;
        ss.log = d->settings.log;
        ss.log_opaque = d->settings.log_opaque;
        rc = htc_stream_open_memory(&own, it->data, it->size, &ss);
        s = own;
    }
    if (rc >= 0)
        rc = htc_decode(d, s, it->params, &it->picture);
    it->status = rc < 0 ? rc : 0;
    if (rc < 0)
        htc_copy_last_error(it->message, sizeof(it->message));
    htc_stream_close(&own);
}

/* Compressed bytes of an item: what its decode time grows with. */
static size_t item_bytes(const HtcBatchItem *it)
{
    return it->stream ? it->stream->cs_size : it->size;
}

typedef struct BatchRun {
    HtcDecoder *parent;
    HtcBatchItem *items;
    const size_t *order;       /* the order items are taken in (NULL: as given) */
    size_t n;                  /* entries of order, else items */
    size_t share;              /* items above these bytes were decoded before (order NULL) */
    /* alone on its cache line: the workers' only shared write */
    _Alignas(64) atomic_size_t next;
} BatchRun;

/* Thread `index` of the pool: items until none is left, with the decoder
 * of that index (opened here, on the first item it takes, so that its
 * memory comes from this thread's heap). */
static void batch_worker(void *arg, uint32_t index)
{
    BatchRun *b = arg;
    HtcDecoder *d = b->parent->batch[index];
    int orc = 0;
    for (;;) {
        const size_t k = atomic_fetch_add_explicit(&b->next, 1, memory_order_relaxed);
        if (k >= b->n)
            break;
        const size_t i = b->order ? b->order[k] : k;
        if (!b->order && item_bytes(&b->items[i]) > b->share)
            continue;
        if (!d && orc >= 0) {
            HtcDecoderSettings st = b->parent->settings;
            st.threads = 1;
            st.picture_cache = 0; /* the parent's, below */
            orc = htc_decoder_open(&d, &st);
            if (orc >= 0 && b->parent->pic_cache) {
                d->pic_cache = htc_pic_cache_ref(b->parent->pic_cache);
                d->pic_cache_shared = 1;
            }
            b->parent->batch[index] = d; /* this thread's slot alone */
        }
        if (orc < 0) {
            b->items[i].status = orc;
            htc_copy_last_error(b->items[i].message, sizeof(b->items[i].message));
            continue;
        }
        batch_item(d, &b->items[i]);
    }
    if (d)
        htc_decoder_trim(d, HTC_BATCH_KEEP_BYTES);
}

typedef struct OrderKey {
    size_t bytes, index;
} OrderKey;

static int cmp_larger_first(const void *pa, const void *pb)
{
    const OrderKey *a = pa, *b = pb;
    if (a->bytes != b->bytes)
        return a->bytes > b->bytes ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

/* The items in the order the threads take them: larger first (longest
 * processing time first: the threads then end together, instead of one
 * thread decoding a large image the others wait for when it comes last).
 * NULL when memory is short (then as given). */
static OrderKey *larger_first(const HtcContext *ctx, const HtcBatchItem *items, size_t n)
{
    if (n > SIZE_MAX / sizeof(OrderKey))
        return NULL;
    OrderKey *key = htc_malloc(ctx, n * sizeof(OrderKey));
    if (!key)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        key[i].bytes = item_bytes(&items[i]);
        key[i].index = i;
    }
    qsort(key, n, sizeof(*key), cmp_larger_first);
    return key;
}

int htc_decode_batch_cpu(HtcDecoder *d, HtcBatchItem *items, size_t n)
{
    if (d->num_threads <= 1 || n <= 1) {
        /* inline; a single item still gets the pool for its code-blocks */
        for (size_t i = 0; i < n; i++)
            batch_item(d, &items[i]);
        return 0;
    }
    if (!d->batch) {
        d->batch = htc_calloc(&d->ctx, d->num_threads, sizeof(*d->batch));
        if (!d->batch)
            return htc_fail(&d->ctx, HTC_ENOMEM, "batch decoders");
    }
    htc_decoder_pic_cache(d); /* made here, shared by the threads' decoders */
    OrderKey *key = larger_first(&d->ctx, items, n);
    size_t first = 0, share = SIZE_MAX;
    if (key) {
        /* An item larger than a thread's share of the batch, and much larger
         * than most (8 times the median: a mammogram among CT slices), would
         * keep one thread busy long after the others are done: such items
         * are decoded first, one at a time, with all threads on their
         * code-blocks. Similar items stay one a thread, which scales better. */
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
            total += key[i].bytes;
        const size_t median = key[n / 2].bytes;
        share = (size_t)HTC_MAX(total / d->num_threads, (uint64_t)median * 8);
        while (first < n && key[first].bytes > share)
            batch_item(d, &items[key[first++].index]);
        if (first == n) {
            htc_free(&d->ctx, key);
            return 0;
        }
        /* the order array over the rest, in place of the keys */
        size_t *order = (size_t *)key;
        for (size_t k = first; k < n; k++)
            order[k - first] = key[k].index; /* slot k - first lies in key[(k - first) / 2], read */
    }
    BatchRun b;
    b.parent = d;
    b.items = items;
    b.share = share;
    b.order = (const size_t *)key;
    b.n = n - first;
    atomic_init(&b.next, 0);
    htc_pool_run_each(d, batch_worker, &b);
    htc_free(&d->ctx, key);
    return 0;
}

void htc_batch_close(HtcDecoder *d)
{
    if (!d->batch)
        return;
    for (uint32_t i = 0; i < d->num_threads; i++)
        htc_decoder_close(&d->batch[i]);
    htc_free(&d->ctx, d->batch);
    d->batch = NULL;
}
