/* htcodec: a parsed JPEG 2000 / HTJ2K codestream, JP2 or JPH file.
 *
 * Opening parses the file format boxes, the main header and every tile-part
 * header; it does not decode entropy-coded data. The stream borrows the
 * caller's bytes when opened from memory (they must outlive the stream) and
 * owns a copy when opened from a file. */
#ifndef HTC_STREAM_H
#define HTC_STREAM_H

#include "htc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HtcStream HtcStream;

/* Settings for parsing. */
typedef struct HtcStreamSettings {
    HtcLimits limits;          /* default: htc_limits_default() */
    HtcAllocator allocator;    /* default: all NULL (C library) */
    HtcLogCallback log;        /* default: NULL (silent) */
    void *log_opaque;          /* default: NULL */
    int strict;                /* 1: refuse recoverable oddities; default 0 */
    uint8_t reserved[64];
} HtcStreamSettings;

HTC_API void htc_stream_default_settings(HtcStreamSettings *s);

/* Opens a stream from memory. On error *out is NULL and the message is
 * available from htc_last_error(). settings may be NULL for defaults. */
HTC_API int htc_stream_open_memory(HtcStream **out, const void *data, size_t size,
                                   const HtcStreamSettings *settings);
/* Opens a stream from a file; the bytes are read (or mapped) and owned. */
HTC_API int htc_stream_open_file(HtcStream **out, const char *path,
                                 const HtcStreamSettings *settings);
/* Closes a stream; accepts NULL and sets *s to NULL. */
HTC_API void htc_stream_close(HtcStream **s);

/* The message of the last failure in this thread ("" if none): names the
 * marker or box and the byte offset where parsing stopped. */
HTC_API const char *htc_last_error(void);

/* Container kinds. */
enum HtcFormat {
    HTC_FORMAT_CODESTREAM = 0, /* bare codestream (.j2k .j2c .jhc) */
    HTC_FORMAT_JP2 = 1,        /* JP2 (15444-1 Annex I) */
    HTC_FORMAT_JPH = 2,        /* JPH (15444-15 Annex D) */
};

enum HtcProgression {
    HTC_LRCP = 0, HTC_RLCP = 1, HTC_RPCL = 2, HTC_PCRL = 3, HTC_CPRL = 4,
};

typedef struct HtcImageInfo {
    int format;                /* enum HtcFormat */
    uint32_t x0, y0, x1, y1;   /* image area on the reference grid */
    uint32_t width, height;    /* x1 - x0, y1 - y0 */
    uint32_t num_components;
    uint32_t tile_x0, tile_y0; /* tile grid origin */
    uint32_t tile_width, tile_height;
    uint32_t num_tiles_x, num_tiles_y;
    uint16_t rsiz;             /* capabilities from SIZ */
    int is_ht;                 /* Rsiz bit 14 (Part 15) or any HT code-block style */
    int has_tlm;               /* TLM markers present */
    int has_plt;               /* every tile-part carries PLT */
    int has_plm;
    int has_ppm;
    int has_ppt;
    int has_poc;
    uint32_t cap_pcap;         /* CAP Pcap, 0 if none */
    uint16_t cap_ccap15;       /* CAP Ccap for Part 15, 0 if none */
    /* JP2/JPH header facts (0 for bare codestreams). */
    uint32_t colourspace;      /* enumerated colr EnumCS, 0 if none or ICC */
    int has_icc;
    int has_palette;
    uint32_t num_comments;     /* COM segments in the main header */
    uint8_t reserved[64];
} HtcImageInfo;

typedef struct HtcComponentInfo {
    uint32_t precision;        /* 1 to 38 bits */
    int is_signed;
    uint32_t dx, dy;           /* sub-sampling */
    uint32_t width, height;    /* component size: ceil(x1/dx) - ceil(x0/dx) ... */
} HtcComponentInfo;

typedef struct HtcTileInfo {
    uint32_t index;
    uint32_t x0, y0, x1, y1;   /* tile area on the reference grid, clipped to the image */
    uint32_t num_tile_parts;   /* found in the stream */
    uint32_t declared_tile_parts; /* TNsot of the tile-parts (0 if unknown) */
    uint64_t first_offset;     /* offset of the first SOT of this tile in the codestream */
    uint64_t num_bytes;        /* all tile-parts' bytes, headers included */
} HtcTileInfo;

typedef struct HtcTilePartInfo {
    uint32_t tile_index;
    uint32_t part_index;       /* TPsot */
    uint64_t sot_offset;       /* offset of SOT in the codestream */
    uint64_t data_offset;      /* first byte after SOD */
    uint64_t data_length;      /* bytes of packet data */
} HtcTilePartInfo;

enum HtcQuantStyle { HTC_QUANT_NONE = 0, HTC_QUANT_DERIVED = 1, HTC_QUANT_EXPOUNDED = 2 };

/* Code-block style bits (SPcod / SPcoc). */
enum HtcCblkStyle {
    HTC_CBLK_BYPASS = 0x01,
    HTC_CBLK_RESET = 0x02,
    HTC_CBLK_TERMALL = 0x04,
    HTC_CBLK_VCAUSAL = 0x08,
    HTC_CBLK_PTERM = 0x10,
    HTC_CBLK_SEGSYM = 0x20,
    HTC_CBLK_HT = 0x40,        /* HT code-blocks */
    HTC_CBLK_HT_MIXED = 0x80,  /* with 0x40: HT or Part 1 per code-block */
};

typedef struct HtcCodingInfo {
    uint32_t levels;           /* decomposition levels */
    uint32_t cblk_width, cblk_height;
    uint32_t cblk_style;       /* enum HtcCblkStyle bits */
    int reversible;            /* 1: 5/3, 0: 9/7 */
    int progression;           /* enum HtcProgression */
    uint32_t layers;
    int mct;                   /* multiple component transform in COD */
    int use_precincts;         /* Scod bit 0 */
    int sop, eph;              /* Scod bits 1 and 2 */
    uint8_t precinct_w_exp[33], precinct_h_exp[33]; /* per resolution (15 when none) */
    int quant_style;           /* enum HtcQuantStyle */
    uint32_t guard_bits;
    uint32_t num_steps;        /* step sizes given (1 when derived) */
    uint16_t steps[97];        /* exponent << 11 | mantissa, per subband */
    uint32_t roi_shift;        /* RGN max-shift, 0 if none */
    uint8_t reserved[32];
} HtcCodingInfo;

HTC_API int htc_stream_get_info(const HtcStream *s, HtcImageInfo *info);
HTC_API int htc_stream_get_component(const HtcStream *s, uint32_t comp, HtcComponentInfo *info);
HTC_API int htc_stream_get_tile(const HtcStream *s, uint32_t tile, HtcTileInfo *info);
/* Tile-parts in the order they appear in the codestream, 0 .. n-1. */
HTC_API uint32_t htc_stream_num_tile_parts(const HtcStream *s);
HTC_API int htc_stream_get_tile_part(const HtcStream *s, uint32_t n, HtcTilePartInfo *info);
/* Coding style and quantisation in force for one tile-component
 * (main header, then COC/QCC, then the tile's own headers).
 * tile = HTC_TILE_MAIN gives the main header's defaults for the component. */
#define HTC_TILE_MAIN 0xFFFFFFFFu
HTC_API int htc_stream_get_coding(const HtcStream *s, uint32_t tile, uint32_t comp,
                                  HtcCodingInfo *info);
/* COM segment n of the main header: Rcom (0 binary, 1 Latin-1) and bytes. */
HTC_API int htc_stream_get_comment(const HtcStream *s, uint32_t n, int *rcom,
                                   const uint8_t **data, size_t *size);
/* The codestream bytes inside the file (jp2c box contents for JP2/JPH). */
HTC_API int htc_stream_get_codestream(const HtcStream *s, const uint8_t **data, size_t *size);

/* JP2 / JPH header facts (15444-1 Annex I, 15444-15 Annex D). Zero for a
 * bare codestream. */
typedef struct HtcJp2Info {
    uint32_t brand;            /* ftyp BR: 'jp2 ' or 'jph ' as a big-endian code */
    uint32_t minor_version;
    uint32_t num_compat;       /* compatibility list entries (first 16 kept) */
    uint32_t compat[16];
    /* ihdr */
    uint32_t width, height;
    uint32_t num_components;
    uint32_t bpc;              /* ihdr BPC byte: 255 means see bpcc */
    uint32_t compression;      /* C: 7 */
    uint32_t unknown_cs, ipr;
    /* colr (the first one) */
    uint32_t num_colr;
    uint32_t colr_method;      /* 1 enumerated, 2 restricted ICC, 3 any ICC, 5 parameterised */
    int32_t colr_precedence;
    uint32_t colr_approx;
    uint32_t enum_cs;          /* EnumCS when method 1 */
    uint64_t icc_offset, icc_size; /* ICC profile bytes in the file */
    int has_bpcc;
    uint8_t bpcc[64];          /* first 64 bpcc bytes */
    /* pclr, cmap, cdef */
    uint32_t pclr_entries, pclr_columns;
    uint32_t cmap_channels;
    uint32_t cdef_channels;
    uint16_t cdef[16][3];      /* first 16 (Cn, Typ, Asoc) */
    /* res: capture (resc) and display (resd), numerator/denominator/exponent */
    int has_resc, has_resd;
    uint32_t resc[6], resd[6]; /* VRN VRD HRN HRD VRE HRE (exponents as two's complement bytes) */
    uint64_t jp2c_offset;      /* of the codestream's first byte in the file */
    uint32_t num_boxes;        /* boxes listed by htc_stream_get_box */
    uint8_t reserved[64];
} HtcJp2Info;

/* The JP2 / JPH facts; HTC_EINVAL for a bare codestream (info zeroed). */
HTC_API int htc_stream_get_jp2(const HtcStream *s, HtcJp2Info *info);

/* Box n (0 .. num_boxes-1) in file order, nested boxes after their parent:
 * four-character type (big-endian code), nesting depth, offset of the box
 * header in the file and the whole box length. */
HTC_API int htc_stream_get_box(const HtcStream *s, uint32_t n, uint32_t *type, uint32_t *depth,
                               uint64_t *offset, uint64_t *length);

/* Every marker of the codestream's headers in order, SOC to EOC (SOT and
 * SOD of each tile-part, not SOP/EPH inside packet data): the code, its
 * offset in the codestream and its bytes, the marker itself included. */
HTC_API uint32_t htc_stream_num_markers(const HtcStream *s);
HTC_API int htc_stream_get_marker(const HtcStream *s, uint32_t n, uint16_t *code, uint64_t *offset,
                                  uint32_t *length);

/* Marker segments present anywhere in the codestream, as a comma-separated
 * list of names ("SIZ,CAP,COD,QCD,TLM,SOT,SOD,EOC"); never NULL. */
HTC_API const char *htc_stream_markers(const HtcStream *s);

#ifdef __cplusplus
}
#endif

#endif /* HTC_STREAM_H */
