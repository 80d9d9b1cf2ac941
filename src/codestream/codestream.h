/* htcodec: the parsed form of a codestream, as tier 2 and the decoder use it.
 * Filled by the box and marker parsers (src/codestream/boxes.c, markers.c,
 * stream.c); everything here has been range-checked already. */
#ifndef HTC_CODESTREAM_H
#define HTC_CODESTREAM_H

#include "internal.h"

#define HTC_MAX_LEVELS 32
#define HTC_MAX_BANDS (3 * HTC_MAX_LEVELS + 1)

/* Coding style of one tile-component (COD/COC). */
typedef struct HtcCod {
    uint8_t scod;              /* Scod bits: 1 precincts, 2 SOP, 4 EPH */
    uint8_t progression;       /* enum HtcProgression */
    uint16_t layers;
    uint8_t mct;               /* from COD only */
    uint8_t levels;            /* NL, 0..32 */
    uint8_t cblk_w_exp, cblk_h_exp; /* xcb, ycb: 2..10, sum <= 12 */
    uint8_t cblk_style;        /* enum HtcCblkStyle */
    uint8_t reversible;        /* 1: 5/3 (transform 1), 0: 9/7 (transform 0) */
    uint8_t ppx[HTC_MAX_LEVELS + 1], ppy[HTC_MAX_LEVELS + 1]; /* precinct exps per resolution; 15 without */
} HtcCod;

/* Quantisation of one tile-component (QCD/QCC). */
typedef struct HtcQcd {
    uint8_t style;             /* enum HtcQuantStyle */
    uint8_t guard_bits;
    uint16_t num_steps;
    /* Per subband b (0 = LL of the lowest resolution, then HL, LH, HH of
     * each level from the lowest resolution up): exponent and mantissa.
     * For derived quantisation the parser already filled all bands from
     * the LL value as E.8.1 says. For no quantisation mantissa is 0. */
    uint8_t exponent[HTC_MAX_BANDS];
    uint16_t mantissa[HTC_MAX_BANDS];
} HtcQcd;

typedef struct HtcComponent {
    uint8_t precision;         /* 1..38 */
    uint8_t is_signed;
    uint8_t dx, dy;            /* 1..255 */
} HtcComponent;

/* One progression order change (POC entry). */
typedef struct HtcPoc {
    uint8_t rs, re;            /* resolution start, end (exclusive) */
    uint16_t cs, ce;           /* component start, end (exclusive) */
    uint16_t lye;              /* layer end (exclusive) */
    uint8_t progression;
} HtcPoc;

/* A contiguous run of bytes in the codestream. */
typedef struct HtcSpan {
    uint64_t offset;           /* from the start of the codestream */
    uint64_t length;
} HtcSpan;

typedef struct HtcTilePart {
    uint32_t tile;
    uint8_t part;              /* TPsot */
    uint8_t num_parts;         /* TNsot, 0 = unknown */
    uint64_t sot_offset;
    HtcSpan data;              /* packet data: after SOD up to the next SOT/EOC */
    uint32_t first_plt;        /* index into HtcStream.plt_lengths, or UINT32_MAX */
    uint32_t num_plt;          /* packet lengths from PLT in this tile-part */
} HtcTilePart;

typedef struct HtcTile {
    uint32_t index;
    uint32_t x0, y0, x1, y1;   /* on the reference grid, clipped to the image */
    /* Per component: coding style and quantisation in force (main header,
     * main COC/QCC, tile COD/QCD, tile COC/QCC, as A.6.1 orders them).
     * Filled once all tile-parts headers are parsed. */
    HtcCod *cod;               /* num_components entries */
    HtcQcd *qcd;               /* num_components entries */
    uint8_t *roi_shift;        /* num_components entries (RGN), 0 = none */
    HtcPoc *poc;               /* POC in force for this tile (tile's own, else main) */
    uint32_t num_poc;
    uint32_t *parts;           /* indices into HtcStream.parts, ordered by TPsot */
    uint32_t num_parts;
    /* Packed packet headers for this tile from PPT (in Zppt order) or PPM
     * (the tile's Nppm chunks in order), copied to one buffer; NULL if none. */
    uint8_t *packed_headers;
    size_t packed_headers_size;
    /* Parser bookkeeping: cod/qcd/roi_shift (and poc) belong to this tile
     * rather than pointing at the main header's arrays. */
    uint8_t owns_coding, owns_poc;
} HtcTile;

typedef struct HtcStream {
    HtcContext ctx;
    int format;                /* enum HtcFormat */
    const uint8_t *file;       /* whole input */
    size_t file_size;
    uint8_t *owned;            /* non-NULL when we own the bytes */
    const uint8_t *cs;         /* the codestream (starts at SOC) */
    size_t cs_size;

    /* SIZ */
    uint16_t rsiz;
    uint32_t x0, y0, x1, y1;   /* image area */
    uint32_t tx0, ty0, tw, th; /* tile grid */
    uint32_t ntx, nty;
    uint32_t num_components;
    HtcComponent *comps;

    /* Main header defaults, per component (COD overridden by COC). */
    HtcCod *main_cod;
    HtcQcd *main_qcd;
    uint8_t *main_roi;
    HtcPoc *main_poc;
    uint32_t num_main_poc;
    uint32_t cap_pcap;
    uint16_t cap_ccap15;

    HtcTile *tiles;            /* ntx * nty */
    HtcTilePart *parts;        /* in codestream order */
    uint32_t num_parts;
    uint32_t *plt_lengths;     /* all PLT packet lengths, per tile-part ranges */
    uint32_t num_plt_lengths;
    int has_tlm, has_plm, has_ppm, has_ppt, has_poc, has_plt_all;

    /* Comments of the main header. */
    HtcSpan *comments;         /* span covers Ccom bytes */
    uint16_t *comment_rcom;
    uint32_t num_comments;

    /* JP2/JPH facts. */
    uint32_t colourspace;
    int has_icc, has_palette;

    /* Parser bookkeeping for the getters (src/codestream/parse.h). */
    struct HtcStreamPriv *priv;
} HtcStream;

/* Geometry helpers shared by tier 2 and the transforms (B.5, B.6). */
static inline uint32_t htc_comp_x(uint32_t x, uint32_t dx) { return htc_ceil_div_u32(x, dx); }
/* Coordinate of a tile-component at resolution r of nl levels: ceil(v / 2^(nl - r)). */
static inline uint32_t htc_res_coord(uint32_t v, uint32_t shift) { return htc_ceil_div_pow2(v, shift); }

#endif /* HTC_CODESTREAM_H */
