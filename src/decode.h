/* htcodec: what the decode pipeline's files share (decode.c, decode_tile.c,
 * picture.c). */
#ifndef HTC_DECODE_H
#define HTC_DECODE_H

#include "codestream/codestream.h"
#include "codestream/tier2.h"

/* One thread's code-block scratch. */
typedef struct HtcWorkBuf {
    uint8_t *blockdata;        /* one code-block's segments + HTC_BLOCK_PAD */
    size_t blockdata_size;
    void *block_scratch;       /* HTC_BLOCK_SCRATCH_SIZE */
    int32_t *block_out;        /* 4096 values */
} HtcWorkBuf;

struct HtcPool;

/* Released pictures kept for reuse (picture_cache.c). */
typedef struct HtcPicCache HtcPicCache;
HtcPicCache *htc_pic_cache_open(size_t cap);
HtcPicCache *htc_pic_cache_ref(HtcPicCache *c);
void htc_pic_cache_unref(HtcPicCache *c);
/* The owner's end: frees the kept blocks, drops the owner's reference;
 * pictures still out free their blocks when released. */
void htc_pic_cache_close(HtcPicCache *c);
size_t htc_pic_cache_kept(HtcPicCache *c);
/* A block of at least size bytes (64-byte aligned at *base) for a picture,
 * kept or new, with *release set to route its release back; NULL when the
 * cache does not serve this size (small) or memory is short. *from_cache:
 * a kept block (its bytes are not zero). */
void *htc_pic_cache_get(HtcPicCache *c, size_t size, uint8_t **base, int *from_cache,
                        HtcAllocator *release);

struct HtcDecoder {
    HtcDecoderSettings settings;
    HtcContext ctx;
    uint32_t num_threads;      /* resolved: 1 = inline */
    struct HtcPool *pool;      /* worker threads, made on first use */
    /* Scratch kept between decodes. */
    HtcJobTable jobs;
    HtcWorkBuf work;           /* the calling thread's */
    void *dwt_tmp;
    size_t dwt_tmp_size;
    /* Tile-component buffers, per component, kept between tiles and decodes. */
    int32_t **tc_buf;
    size_t *tc_cap;            /* bytes */
    uint32_t num_tc;
    /* htc_decode_batch: one single-thread decoder per pool thread (index 0:
     * the caller), opened on first use and kept with their scratch between
     * calls (decode_batch.c); num_threads entries, NULL until a batch. */
    struct HtcDecoder **batch;
    void *strip;               /* rows of code-blocks decoded by strips (decode_tile.c) */
    size_t strip_size;
    void *gpu;                 /* GPU backend state (src/cuda/), NULL until used */
    uint64_t batches;          /* batch calls so far: the last one's ticket */
    /* Released pictures kept for reuse (settings.picture_cache bytes; NULL:
     * none, or not made yet); shared with the batch decoders, whose
     * pic_cache_shared is set (the parent closes it). */
    HtcPicCache *pic_cache;
    int pic_cache_shared;
};

/* The output geometry of one decode: per output plane, the component and
 * its rectangle on the component's reduced grid. */

typedef struct HtcDecodeGeom {
    uint32_t reduce;
    uint32_t gx0, gy0, gx1, gy1;   /* area on the full reference grid */
    uint32_t num_out;
    const uint32_t *comps;     /* num_out entries (params or an identity list) */
    int sample_type;
    int layout;
    size_t bytes_per_sample;
} HtcDecodeGeom;

/* Output area and type for these parameters (picture.c). comps_buf holds at
 * least s->num_components entries. */
int htc_decode_geometry(const HtcStream *s, const HtcDecodeParams *p, uint32_t *comps_buf,
                        HtcDecodeGeom *g);
/* The rectangle of component c at the reduced scale for the area in g. */
void htc_decode_comp_rect(const HtcStream *s, const HtcDecodeGeom *g, uint32_t c, uint32_t *x0,
                          uint32_t *y0, uint32_t *x1, uint32_t *y1);
/* Fills pic's planes (allocating the plane array, and the samples when
 * alloc_samples and pic->buffer is NULL) (picture.c); *samples_zeroed
 * (may be NULL) says the samples are known to be zero already.
 * alloc_samples 2: the caller writes every sample, so the samples need not
 * come as zero pages (calloc clears blocks it reuses from the heap). */
int htc_picture_setup(const HtcStream *s, const HtcDecodeGeom *g, const HtcAllocator *a,
                      HtcPicture *pic, int alloc_samples, int *samples_zeroed);
/* The same, with the samples' block from cache when it serves it (NULL: none). */
int htc_picture_setup_cached(const HtcStream *s, const HtcDecodeGeom *g, const HtcAllocator *a,
                             HtcPicCache *cache, HtcPicture *pic, int alloc_samples,
                             int *samples_zeroed);
/* The decoder's picture cache, made on first use when its settings ask for
 * one and the C library allocates (NULL otherwise) (decode.c). */
HtcPicCache *htc_decoder_pic_cache(HtcDecoder *d);

/* One tile-component after the inverse DWT (and colour transform): its
 * rectangle on the reduced component grid and its samples (int32 for 5/3,
 * float for 9/7, in the same memory). */
typedef struct HtcTileComp {
    uint32_t x0, y0, x1, y1;
    int32_t *data;
    ptrdiff_t stride;          /* elements */
    int is_float;
    int needed;
    /* Offered by the caller (out_base NULL: not offered): the output plane
     * of this component, whose top-left sample is (out_x0, out_y0) of the
     * component grid and which spans out_w x out_h samples. When the tile-
     * component lies inside it, htc_decode_tile may convert the last DWT
     * level straight into it and sets `written` (else clears it). */
    uint8_t *out_base;
    ptrdiff_t out_row_stride;  /* bytes */
    uint32_t out_pixel_stride; /* samples */
    uint32_t out_bytes;        /* bytes a sample */
    uint32_t out_x0, out_y0, out_w, out_h;
    uint32_t precision;
    int is_signed, sample_type;
    int written;
} HtcTileComp;

/* Decodes tile `tile` into tc[0 .. num_components-1] (those marked needed)
 * (decode_tile.c); with g, only the code-blocks that the area of g needs
 * are decoded (the others stay zero, which only changes samples outside). The buffers belong to the decoder (valid until its next
 * tile); htc_decoder_buffers_free releases them. */
int htc_decode_tile(HtcDecoder *d, const HtcStream *s, uint32_t tile, const HtcDecodeParams *p,
                    const HtcDecodeGeom *g, HtcTileComp *tc);
void htc_decoder_buffers_free(HtcDecoder *d);
/* Bytes of scratch the decoder keeps between decodes (tile-component
 * buffers, DWT scratch, job table, code-block scratch), and a release of
 * all of it when that exceeds keep (decode_tile.c). */
size_t htc_decoder_kept_bytes(const HtcDecoder *d);
void htc_decoder_trim(HtcDecoder *d, size_t keep);

/* Decodes job jobs[list[i]] into tc (decode_tile.c), with the scratch of
 * one thread. Thread-safe for distinct jobs. */
int htc_decode_job(const HtcStream *s, const HtcJobTable *jt, const HtcBlockJob *j, HtcTileComp *tc,
                   HtcWorkBuf *w);
void htc_workbuf_free(const HtcContext *ctx, HtcWorkBuf *w);

/* Runs htc_decode_job over list[0 .. n-1] on the decoder's threads (the
 * caller's included); returns the first error, its message in the caller's
 * htc_last_error (decode_pool.c). */
int htc_pool_run(HtcDecoder *d, const HtcStream *s, const HtcJobTable *jt, const uint32_t *list,
                 uint32_t n, HtcTileComp *tc);
void htc_pool_close(HtcDecoder *d);
/* Runs fn(arg, i) on every thread of the decoder's pool at once, i = 0 on
 * the caller and 1 .. n-1 on the workers (started if need be), and returns
 * n after all have returned; n = 1 when there are no workers (fn ran on the
 * caller alone) (decode_pool.c). */
uint32_t htc_pool_run_each(HtcDecoder *d, void (*fn)(void *arg, uint32_t index), void *arg);

/* htc_decode_batch on the CPU and the release of its per-thread decoders
 * (decode_batch.c). */
int htc_decode_batch_cpu(HtcDecoder *d, HtcBatchItem *items, size_t n);
void htc_batch_close(HtcDecoder *d);

#endif /* HTC_DECODE_H */
