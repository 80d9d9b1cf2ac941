/* htcodec: tier 2 (Annex B): the geometry of a tile (resolutions, bands,
 * precincts, code-blocks), packet iteration in every progression order with
 * POC, packet headers, and the result: one flat table of code-block jobs.
 *
 * A job is one code-block that has at least one coding pass: where its
 * codeword segments lie in the codestream (chunks, never copied), how the
 * passes group into segments, and where its samples go in the tile-component
 * buffer (the deinterleaved layout of transform/transform.h).
 *
 * HT code-blocks (15444-15): segment 0 is the cleanup segment, segment 1
 * (when present) the SigProp/MagRef segment. seg passes[0] counts the
 * cleanup pass plus every pass before it (placeholder passes and passes of
 * superseded HT sets, which carry no bytes here), so (passes[0] - 1) / 3 is
 * the number of skipped HT sets: the cleanup pass codes bit-plane
 * Mb - 1 - zero_planes - (passes[0] - 1) / 3 and below. num_passes is the
 * sum over the segments. */
#ifndef HTC_TIER2_H
#define HTC_TIER2_H

#include "codestream/codestream.h"

/* One run of bytes of a code-block's data inside the codestream. */
typedef struct HtcChunk {
    uint64_t offset;           /* from HtcStream.cs */
    uint32_t length;
} HtcChunk;

/* One codeword segment (its bytes are the concatenation of its chunks). */
typedef struct HtcJobSegment {
    uint32_t length;           /* bytes */
    uint32_t passes;           /* coding passes */
    uint32_t num_chunks;       /* chunks of this segment, in order */
} HtcJobSegment;

typedef struct HtcBlockJob {
    uint32_t tile;
    uint16_t comp;
    uint8_t res;               /* resolution 0 .. NL */
    uint8_t band;              /* 0 LL, 1 HL, 2 LH, 3 HH */
    uint16_t band_index;       /* b: index into HtcQcd exponent/mantissa */
    uint8_t is_ht;             /* 1: htc_ht_decode_block, 0: htc_t1_decode_block */
    uint8_t reversible;
    uint32_t cblk_style;       /* style bits in force for this block */
    uint32_t x0, y0, x1, y1;   /* code-block rectangle in band coordinates */
    uint32_t out_x, out_y;     /* its top-left in the tile-component buffer */
    uint32_t mb;               /* Mb = guard + exponent - 1 + roi shift */
    uint32_t roi_shift;
    uint32_t zero_planes;      /* P from the zero bit-plane tag tree */
    uint32_t num_passes;
    uint32_t first_chunk, num_chunks;
    uint32_t first_seg, num_segs;
    uint32_t data_length;      /* sum of the chunks */
    float delta;               /* step size (irreversible) */
} HtcBlockJob;

struct HtcT2Scratch;

typedef struct HtcJobTable {
    HtcBlockJob *jobs;
    uint32_t num_jobs, cap_jobs;
    HtcChunk *chunks;
    uint32_t num_chunks, cap_chunks;
    HtcJobSegment *segs;
    uint32_t num_segs, cap_segs;
    uint32_t max_block_bytes;  /* largest data_length */
    struct HtcT2Scratch *scratch; /* tier 2's working memory, kept between calls
                                     (tier2_internal.h); NULL until first used */
} HtcJobTable;

/* Options of one tier-2 run. */
typedef struct HtcT2Options {
    uint32_t max_layers;       /* layers to keep: 0 = all */
    uint32_t reduce;           /* resolutions above NL - reduce are parsed, not kept */
    int allow_truncated;       /* packets cut by the end of the data: keep what is there */
    const uint8_t *comp_keep;  /* one byte per component, non-zero: keep; NULL: all */
    int truncated;             /* out: the tile's data ended inside a packet */
    int emit_empty;            /* also emit jobs (num_passes 0, no segments) for the
                                  kept code-blocks without data, so that the jobs
                                  cover every kept band sample */
} HtcT2Options;

/* Rectangle of resolution r of a tile-component (B.5). */
typedef struct HtcResGeom {
    uint32_t x0, y0, x1, y1;
} HtcResGeom;

/* Tile-component geometry helpers (B.5). */
void htc_t2_tile_comp_rect(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t *x0,
                           uint32_t *y0, uint32_t *x1, uint32_t *y1);
/* Resolution r of a component with nl levels (r <= nl). */
void htc_t2_res_rect(const HtcStream *s, const HtcTile *t, uint32_t c, uint32_t nl, uint32_t r,
                     HtcResGeom *out);

/* Runs tier 2 over all packets of tile `tile` and appends its code-block
 * jobs to table (which may hold other tiles' jobs already). */
int htc_t2_decode_tile(const HtcStream *s, uint32_t tile, HtcT2Options *opt,
                       HtcJobTable *table);

void htc_job_table_init(HtcJobTable *t);
void htc_job_table_reset(HtcJobTable *t);     /* empties it, keeps the memory */
void htc_job_table_free(const HtcContext *ctx, HtcJobTable *t);

#endif /* HTC_TIER2_H */
