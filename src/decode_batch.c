/* htcodec: htc_decode_batch on the CPU. Whole items are spread over the
 * decoder's pool threads (decode_pool.c), each thread decoding with a
 * single-thread decoder of its own. Those decoders and their scratch (tile-
 * component buffers, DWT scratch, job tables) live as long as the parent
 * decoder, so that a stream of batches does not pay, per call, for thread
 * creation, decoder set-up and the first touch (page faults, zeroing) of
 * megabytes of scratch per thread; each keeps at most HTC_BATCH_KEEP_BYTES
 * past a call. Which thread decodes an item does not change its result. */
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

typedef struct BatchRun {
    HtcDecoder *parent;
    HtcBatchItem *items;
    const size_t *order;       /* the order items are taken in (NULL: as given) */
    size_t n;
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

/* Compressed bytes of an item: what its decode time grows with. */
static size_t item_bytes(const HtcBatchItem *it)
{
    return it->stream ? it->stream->cs_size : it->size;
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

/* Larger items first (longest processing time first): the threads then end
 * together, instead of one thread decoding a large image the others wait
 * for when it comes last. NULL (items in the given order) when the items
 * are already in that order or memory is short. */
static size_t *larger_first(const HtcContext *ctx, const HtcBatchItem *items, size_t n)
{
    int sorted = 1;
    for (size_t i = 1; i < n && sorted; i++)
        sorted = item_bytes(&items[i - 1]) >= item_bytes(&items[i]);
    if (sorted || n > SIZE_MAX / sizeof(OrderKey))
        return NULL;
    OrderKey *key = htc_malloc(ctx, n * sizeof(OrderKey));
    size_t *order = htc_malloc(ctx, n * sizeof(size_t));
    if (key && order) {
        for (size_t i = 0; i < n; i++) {
            key[i].bytes = item_bytes(&items[i]);
            key[i].index = i;
        }
        qsort(key, n, sizeof(*key), cmp_larger_first);
        for (size_t k = 0; k < n; k++)
            order[k] = key[k].index;
    } else {
        htc_free(ctx, order);
        order = NULL;
    }
    htc_free(ctx, key);
    return order;
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
    BatchRun b;
    b.parent = d;
    b.items = items;
    b.order = larger_first(&d->ctx, items, n);
    b.n = n;
    atomic_init(&b.next, 0);
    htc_pool_run_each(d, batch_worker, &b);
    htc_free(&d->ctx, (void *)b.order);
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
