/* htcodec: what the box parser, the marker parser and the stream object
 * share (boxes.c, markers.c, markers_tile.c, stream.c). Not for tier 2:
 * tier 2 reads only HtcStream / HtcTile as codestream.h defines them. */
#ifndef HTC_PARSE_H
#define HTC_PARSE_H

#include "codestream/codestream.h"

/* Marker codes (A.2, and 15444-15 A.3 for CAP / CPF). */
enum {
    HTC_MK_SOC = 0xFF4F, HTC_MK_SOT = 0xFF90, HTC_MK_SOD = 0xFF93, HTC_MK_EOC = 0xFFD9,
    HTC_MK_SIZ = 0xFF51, HTC_MK_CAP = 0xFF50, HTC_MK_CPF = 0xFF59,
    HTC_MK_COD = 0xFF52, HTC_MK_COC = 0xFF53, HTC_MK_RGN = 0xFF5E, HTC_MK_QCD = 0xFF5C,
    HTC_MK_QCC = 0xFF5D, HTC_MK_POC = 0xFF5F, HTC_MK_TLM = 0xFF55, HTC_MK_PLM = 0xFF57,
    HTC_MK_PLT = 0xFF58, HTC_MK_PPM = 0xFF60, HTC_MK_PPT = 0xFF61, HTC_MK_SOP = 0xFF91,
    HTC_MK_EPH = 0xFF92, HTC_MK_CRG = 0xFF63, HTC_MK_COM = 0xFF64,
};

/* Name of a marker code ("SIZ", "COD" ... or "unknown"). */
const char *htc_marker_name(uint16_t code);

/* One box of a JP2/JPH file, as `htc info` lists them. */
typedef struct HtcBoxRec {
    uint32_t type;
    uint32_t depth;            /* 0 top level, 1 inside jp2h/res ... */
    uint64_t offset;           /* of the box header in the file */
    uint64_t length;           /* whole box, header included */
} HtcBoxRec;

/* A span of PPT data of one tile, kept until the end of parsing. */
typedef struct HtcPptRec {
    uint32_t tile;
    uint32_t part;             /* index into HtcStream.parts */
    uint32_t zppt;
    HtcSpan span;
} HtcPptRec;

/* A TLM entry (tile index or -1 when implicit, tile-part length). */
typedef struct HtcTlmRec {
    int32_t tile;
    uint32_t length;
} HtcTlmRec;

/* One marker of the codestream, for htc_stream_get_marker(). */
typedef struct HtcMarkerRec {
    uint16_t code;
    uint32_t length;           /* bytes, the marker included */
    uint64_t offset;
} HtcMarkerRec;

/* Bookkeeping of the parser that the getters need but tier 2 does not. */
typedef struct HtcStreamPriv {
    HtcJp2Info jp2;
    HtcBoxRec *boxes;
    uint32_t num_boxes, cap_boxes;
    uint32_t *part_pool;       /* HtcTile.parts of every tile point into it */
    uint32_t markers_seen;     /* bit per HTC_SEEN_* */
    uint32_t num_tlm;          /* TLM entries */
    HtcTlmRec *tlm;
    uint64_t memory;           /* bytes allocated for header-driven tables */
    uint16_t ccap[32];         /* CAP Ccap values, by Part (index 1..32 -> 0..31) */
    uint32_t num_crg;
    uint64_t main_header_end;  /* offset of the first SOT */
    int has_eoc;
    int truncated;             /* the last tile-part was cut short */
    int strict;
    int alloc_status;          /* status of the last failed htc_parse_alloc */
    uint32_t num_tile_comments;
    char markers[320];         /* htc_stream_markers() */
    HtcMarkerRec *marks;       /* every marker of the headers, SOC .. EOC */
    uint32_t num_marks, cap_marks;
} HtcStreamPriv;

/* Bits of HtcStreamPriv.markers_seen (main header or any tile-part header). */
enum {
    HTC_SEEN_CAP = 1 << 0, HTC_SEEN_CPF = 1 << 1, HTC_SEEN_COC = 1 << 2, HTC_SEEN_QCC = 1 << 3,
    HTC_SEEN_RGN = 1 << 4, HTC_SEEN_POC = 1 << 5, HTC_SEEN_TLM = 1 << 6, HTC_SEEN_PLM = 1 << 7,
    HTC_SEEN_PLT = 1 << 8, HTC_SEEN_PPM = 1 << 9, HTC_SEEN_PPT = 1 << 10, HTC_SEEN_CRG = 1 << 11,
    HTC_SEEN_COM = 1 << 12, HTC_SEEN_TILE_COD = 1 << 13, HTC_SEEN_TILE_QCD = 1 << 14,
    HTC_SEEN_UNKNOWN = 1 << 15, HTC_SEEN_SOP = 1 << 16, HTC_SEEN_EPH = 1 << 17,
};

/* Coding state of one header (the main header, or a tile's first
 * tile-part header) while it is read: COC/QCC/RGN go straight into the
 * per-component arrays and are flagged; COD/QCD are kept aside and
 * merged when the header ends (A.6.1 precedence). */
typedef struct HtcHdrState {
    HtcCod *cod;
    HtcQcd *qcd;
    uint8_t *roi;
    uint8_t *flags;            /* HTC_HDR_* per component */
    HtcCod gcod;
    HtcQcd gqcd;
    uint8_t has_cod, has_qcd;
} HtcHdrState;

enum { HTC_HDR_COC = 1, HTC_HDR_QCC = 2, HTC_HDR_RGN = 4 };

/* State of one parse (markers.c, markers_tile.c). */
typedef struct HtcParser {
    HtcStream *s;
    HtcStreamPriv *p;
    const uint8_t *cs;
    size_t size;
    uint32_t ntiles;
    HtcHdrState main;
    HtcHdrState **tile_state;  /* ntiles entries, NULL until a tile header needs one */
    uint32_t cap_parts;
    HtcPptRec *ppm;            /* Ippm data of every PPM segment (zppt holds Zppm) */
    uint32_t num_ppm, cap_ppm;
    HtcPptRec *plt_seg;        /* PLT segments of the current tile-part (zppt holds Zplt) */
    uint32_t num_plt_seg, cap_plt_seg;
    HtcPptRec *ppt;
    uint32_t num_ppt, cap_ppt;
    uint32_t cap_plt, cap_tlm;
    uint32_t cap_comments;
    uint32_t *cap_tile_poc;    /* per tile, capacity of HtcTile.poc */
    uint32_t cap_main_poc;
} HtcParser;

/* Reports a failure at a marker: "SIZ at offset 2: ..." (markers.c). */
int htc_mk_fail(HtcParser *P, int status, uint16_t marker, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 5, 6)))
#endif
    ;
/* A recoverable oddity: a warning, or an HTC_EMARKER failure when strict. */
int htc_mk_odd(HtcParser *P, uint16_t marker, uint64_t offset, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Parses one marker segment of a main or tile-part header (markers.c).
 * tile < 0 for the main header; part is the index in s->parts. */
int htc_mk_segment(HtcParser *P, uint16_t marker, uint64_t offset, const uint8_t *d, size_t n,
                   int32_t tile, uint32_t part);
/* Merges a header's COD/QCD with its COC/QCC and the base arrays (NULL for
 * the main header) and expands derived quantisation (markers.c). */
int htc_mk_finish_header(HtcParser *P, HtcHdrState *h, const HtcCod *base_cod,
                         const HtcQcd *base_qcd, const uint8_t *base_roi, int32_t tile);
/* Pointer marker segments (markers_pointer.c); d, n: the segment after
 * its length field. */
int htc_mk_tlm(HtcParser *P, uint64_t off, const uint8_t *d, size_t n);
int htc_mk_plt(HtcParser *P, uint64_t off, const uint8_t *d, size_t n);
int htc_mk_ppm(HtcParser *P, uint64_t off, const uint8_t *d, size_t n);
int htc_mk_ppt(HtcParser *P, uint64_t off, const uint8_t *d, size_t n, int32_t tile, uint32_t part);
/* The order of n segments idx[0..n-1] of recs by their Z index (Zppm,
 * Zppt, Zplt: A.7): out[] gets idx sorted by Z when every Z is distinct,
 * else idx unchanged (appearance order). Returns 1 when sorted by Z. */
int htc_mk_order_by_z(const HtcPptRec *recs, const uint32_t *idx, uint32_t n, uint32_t *out);
/* Decodes the PLT segments of tile-part `part` in Zplt order (markers.c). */
int htc_mk_plt_decode(HtcParser *P, uint32_t part, uint64_t offset);
/* Lists a marker for htc_stream_get_marker() (length 2 without a segment). */
int htc_mk_record(HtcParser *P, uint16_t code, size_t offset, size_t seg_len);
/* Reads the marker at pos and, for a segment, its length (checked
 * against the end); *seg_len is 0 for markers without a segment. */
int htc_mk_read_marker(HtcParser *P, size_t pos, uint16_t *code, size_t *seg_len);
/* The tile-parts, after the main header (markers_tile.c). */
int htc_mk_tile_parts(HtcParser *P, size_t pos);
/* Grows an array of *cap elements to hold n + 1 (doubling). */
int htc_mk_grow(HtcParser *P, void **arr, uint32_t *cap, uint32_t n, size_t elem);

/* Finds the codestream: a bare one, or the jp2c box of a JP2/JPH file.
 * Fills s->format, s->cs, s->cs_size and the JP2 facts (boxes.c). */
int htc_boxes_parse(HtcStream *s);

/* Parses the main header and every tile-part header of s->cs, fills
 * the whole HtcStream (markers.c). */
int htc_markers_parse(HtcStream *s);

/* Frees everything the parser allocated inside s (not s itself). */
void htc_stream_free_parsed(HtcStream *s);

/* Tracks header-driven allocations against limits.max_memory. */
void *htc_parse_alloc(HtcStream *s, size_t n, size_t size, const char *what, uint64_t offset);

#endif /* HTC_PARSE_H */
