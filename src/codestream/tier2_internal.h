/* htcodec: what the tier-2 files share (tier2_geom.c, tier2_order.c,
 * tier2_packet.c, tier2_jobs.c). */
#ifndef HTC_TIER2_INTERNAL_H
#define HTC_TIER2_INTERNAL_H

#include "codestream/tagtree.h"
#include "codestream/tier2.h"

#define HTC_T2_NONE UINT32_MAX

/* Decode state of one code-block across the packets of a tile. */
typedef struct HtcT2Block {
    uint32_t x0, y0, x1, y1;   /* band coordinates */
    uint32_t num_passes;       /* passes signalled so far (parse state) */
    uint32_t zero_planes;
    uint32_t seg_passes;       /* Part 1: passes in the current segment */
    uint32_t seg_max;          /* Part 1: the current segment's pass limit */
    uint32_t first_seg, last_seg; /* kept segments (pool indices), or NONE */
    uint32_t first_chunk, last_chunk;
    uint32_t kept_passes;      /* passes of the kept segments */
    uint32_t cur_seg;          /* kept segment that new bytes extend (NONE: a new one) */
    uint8_t lblock;
    uint8_t included;          /* has been included in an earlier packet */
    uint8_t phase;             /* 0 Part 1, 1 HT before its cleanup, 2 HT after */
    uint8_t empty_set;         /* HT: the current set's cleanup had no bytes */
    uint8_t frozen;            /* a layer beyond the limit was seen: keep nothing more */
    uint8_t has_primary;       /* HT: a cleanup segment is kept */
    uint8_t secondary;         /* HT: pool index of the refinement segment is last_seg */
} HtcT2Block;

typedef struct HtcT2Seg {
    uint32_t length, passes, num_chunks, next;
} HtcT2Seg;

typedef struct HtcT2Chunk {
    uint64_t offset;
    uint32_t length, next;
} HtcT2Chunk;

/* One band of one precinct. */
typedef struct HtcT2Prec {
    uint32_t cbx0, cby0;       /* first code-block of the precinct in the band's grid */
    uint32_t cw, ch;           /* code-blocks across and down */
    uint32_t first_block;      /* index of its first block (raster order inside) */
    HtcTagTree incl, zbp;
} HtcT2Prec;

typedef struct HtcT2Band {
    uint8_t orient;            /* 0 LL, 1 HL, 2 LH, 3 HH */
    uint16_t index;            /* b for quantisation */
    uint32_t x0, y0, x1, y1;
    uint32_t out_x, out_y;
    uint8_t cbw, cbh;          /* code-block size exponents in force */
    uint8_t pbw, pbh;          /* precinct size exponents in band coordinates */
} HtcT2Band;

typedef struct HtcT2Res {
    HtcResGeom rect;
    uint8_t ppx, ppy;
    uint32_t px0, py0;         /* index of the first precinct: floor(x0 / 2^ppx) */
    uint32_t pw, ph;           /* precincts across and down (0 when empty) */
    uint32_t num_bands;
    HtcT2Band bands[3];
    HtcT2Prec *precs;          /* pw * ph * num_bands, [p * num_bands + b] */
    uint32_t first_prec_global; /* index of precinct 0 in the tile's counter array */
} HtcT2Res;

typedef struct HtcT2Comp {
    uint32_t nl;
    HtcResGeom rect;           /* the tile-component (B-12) */
    HtcT2Res *res;             /* nl + 1 entries (in HtcT2Tile.res_pool) */
} HtcT2Comp;

typedef struct HtcT2Tile {
    const HtcStream *s;
    const HtcTile *t;
    uint32_t num_comps;
    HtcT2Comp *comps;
    HtcT2Res *res_pool;
    HtcT2Prec *precs;
    uint32_t num_precs;        /* precinct-bands */
    uint32_t num_prec_units;   /* precincts (over c, r) */
    HtcT2Block *blocks;
    uint32_t num_blocks;
    HtcTagNode *nodes;
    uint32_t num_nodes;
} HtcT2Tile;

/* One block of working memory that keeps its size between calls. */
typedef struct HtcT2Mem {
    void *p;
    size_t size;
} HtcT2Mem;

/* Tier 2's working memory, kept in the job table between calls so that a
 * tile's tier 2 allocates nothing once a tile as large has been seen
 * (tier2_jobs.c). The growing tables keep their capacity; their contents
 * are the current call's. */
typedef struct HtcT2Scratch {
    HtcT2Mem comps, res, precs, blocks, nodes; /* the tile's geometry (tier2_geom.c) */
    HtcT2Mem done, keys;                       /* packet order (tier2_order.c) */
    HtcT2Mem spans;                            /* tile-part data (tier2_packet.c) */
    HtcT2Seg *segs;                            /* kept segments, chunks, and the */
    uint32_t cap_segs;                         /* contributions of one packet */
    HtcT2Chunk *chunks;
    uint32_t cap_chunks;
    void *pend;
    uint32_t cap_pend;
} HtcT2Scratch;

/* At least bytes of memory in m (its old contents are lost); NULL when
 * there is no memory. */
void *htc_t2_mem_get(const HtcContext *ctx, HtcT2Mem *m, size_t bytes);
/* The table's scratch, made on first use; NULL when there is no memory. */
HtcT2Scratch *htc_t2_scratch(const HtcContext *ctx, HtcJobTable *jt);

/* Builds the geometry of tile t (tier2_geom.c) in the scratch's memory. */
int htc_t2_tile_build(const HtcStream *s, uint32_t tile, HtcT2Scratch *sc, HtcT2Tile *out);

/* Calls fn for every packet of the tile in codestream order (B.12, POC);
 * stops at the first non-zero return and gives it back (tier2_order.c). */
typedef int (*HtcPacketFn)(void *opaque, uint32_t c, uint32_t r, uint32_t p, uint32_t l);
int htc_t2_iterate(const HtcContext *ctx, const HtcT2Tile *tt, HtcT2Scratch *sc, HtcPacketFn fn,
                   void *opaque);

#endif /* HTC_TIER2_INTERNAL_H */
