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
    void *strip;               /* rows of code-blocks decoded by strips (decode_tile.c) */
    size_t strip_size;
    void *gpu;                 /* GPU backend state (src/cuda/), NULL until used */
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

#endif /* HTC_DECODE_H */
