/* htcodec DICOM layer: Part 10 files, their data sets, pixel data frames,
 * pixel semantics, DICOM JSON and series geometry. Uses only libhtc's public API.
 *
 * Conventions as in libhtc: every call returns 0 or a negative HTC_E* status;
 * the message of the last failure of this thread is htc_dicom_last_error()
 * (it names the tag and the byte offset where reading stopped). Frames are
 * numbered from 0 in this API (the CLI numbers them from 1, as DICOM does).
 * A handle is used by one thread at a time (fragments and trailing elements
 * are read lazily into it); open one handle per thread to decode in parallel. */
#ifndef HTC_DICOM_H
#define HTC_DICOM_H

#include "htc/htc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HtcDicom HtcDicom;

#define HTC_DICOM_UNDEFINED 0xffffffffu /* undefined length */
#define HTC_DICOM_TAG(g, e) ((uint32_t)(g) << 16 | (uint32_t)(e))

/* A byte-range reader: the file is reached only through read(), so a caller
 * can serve it from any store (HTTP ranges, object storage, a cache). */
typedef struct HtcDicomReader {
    void *opaque;
    uint64_t size;             /* total bytes of the file */
    /* Copies size bytes at offset into dst; returns 0 or a negative status. */
    int (*read)(void *opaque, uint64_t offset, void *dst, size_t size);
} HtcDicomReader;

typedef struct HtcDicomSettings {
    HtcLimits limits;          /* default: htc_limits_default(); max_memory bounds an
                                  inflated (deflate) data set and each frame's buffer */
    HtcAllocator allocator;    /* default: all NULL (C library) */
    HtcLogCallback log;        /* default: NULL; warnings (header/codestream disagreements) go here */
    void *log_opaque;          /* default: NULL */
    int use_mmap;              /* htc_dicom_open_file: 1 (default) maps the file, 0 uses pread */
    uint32_t max_depth;        /* nesting of sequences; default 64 */
    uint32_t max_elements;     /* elements and items in all; default 1 << 22 */
    uint8_t reserved[64];
} HtcDicomSettings;

HTC_API void htc_dicom_default_settings(HtcDicomSettings *s);

/* Open a Part 10 file (128-byte preamble, "DICM", file meta information).
 * The data set is read up to the pixel data. With a Basic or Extended Offset
 * Table the fragments are not touched at open: a frame reads its own item
 * headers and bytes, and whatever follows the pixel data is read when asked
 * for (htc_dicom_find of a later tag, JSON). With empty tables the fragments'
 * item headers are listed at open (their bytes are not read). Native pixel
 * data is skipped by its length. HTC_EFORMAT: no "DICM"; HTC_EDICOM: malformed;
 * HTC_EIO: unreadable; HTC_ELIMIT: past max_depth / max_elements / limits. */
HTC_API int htc_dicom_open_file(HtcDicom **out, const char *path, const HtcDicomSettings *s);
/* From memory: the bytes are borrowed and must outlive the handle. */
HTC_API int htc_dicom_open_memory(HtcDicom **out, const void *data, size_t size,
                                  const HtcDicomSettings *s);
/* Through a byte-range reader (copied; opaque must outlive the handle). */
HTC_API int htc_dicom_open_reader(HtcDicom **out, const HtcDicomReader *r,
                                  const HtcDicomSettings *s);
/* Closes; accepts NULL and sets *d to NULL. */
HTC_API void htc_dicom_close(HtcDicom **d);

/* The message of this thread's last DICOM failure ("" if none). */
HTC_API const char *htc_dicom_last_error(void);

/* Bytes fetched from the file so far (the counter tests use to prove that
 * reaching one frame reads only the header and that frame). */
HTC_API uint64_t htc_dicom_bytes_read(const HtcDicom *d);

/* 1 when the 128-byte preamble is followed by "DICM". */
HTC_API int htc_dicom_probe(const void *data, size_t size);

/* ---- data elements ------------------------------------------------------ */

/* One data element or item, as it is in the data set. */
typedef struct HtcDicomElement {
    uint32_t tag;              /* group << 16 | element; items are 0xFFFEE000 */
    char vr[3];                /* "OB" ...; "" for items */
    uint32_t length;           /* as encoded; HTC_DICOM_UNDEFINED for undefined */
    uint64_t offset;           /* of the value in the data set's byte stream
                                  (the file, or the inflated stream when deflated) */
    const uint8_t *value;      /* value bytes (file byte order); NULL when not loaded:
                                  SQ, items, pixel data, values over 1 MiB */
    uint32_t value_size;       /* bytes at value */
    int big_endian;            /* the value's byte order */
    uint32_t num_children;     /* SQ: items; item: elements */
    uint32_t depth;            /* 0 = top-level data set */
} HtcDicomElement;

/* Navigation: nodes are numbered from 0; -1 means none. parent -1 is the top
 * level (file meta group 0002 first, then the data set). The children of an SQ
 * element are its items, the children of an item its elements. */
HTC_API int32_t htc_dicom_first(HtcDicom *d, int32_t parent);
HTC_API int32_t htc_dicom_next(const HtcDicom *d, int32_t node);
HTC_API int htc_dicom_element(const HtcDicom *d, int32_t node, HtcDicomElement *e);
/* The node of tag directly under parent, or -1. */
HTC_API int32_t htc_dicom_find(HtcDicom *d, int32_t parent, uint32_t tag);

/* Number of values: strings split at '\', binary numbers by their size. */
HTC_API uint32_t htc_dicom_value_count(const HtcDicom *d, int32_t node);
/* Value i as text, padding removed (NUL-terminated, truncated to size). */
HTC_API int htc_dicom_get_string(const HtcDicom *d, int32_t node, uint32_t i, char *buf,
                                 size_t size);
/* Value i as a number (US SS UL SL SV UV FL FD IS DS, or AT). HTC_ERANGE past the end. */
HTC_API int htc_dicom_get_int(const HtcDicom *d, int32_t node, uint32_t i, int64_t *v);
HTC_API int htc_dicom_get_double(const HtcDicom *d, int32_t node, uint32_t i, double *v);
/* Convenience: value i of a top-level tag; HTC_ERANGE when absent. */
HTC_API int htc_dicom_tag_int(HtcDicom *d, uint32_t tag, uint32_t i, int64_t *v);
HTC_API int htc_dicom_tag_double(HtcDicom *d, uint32_t tag, uint32_t i, double *v);
HTC_API int htc_dicom_tag_string(HtcDicom *d, uint32_t tag, uint32_t i, char *buf, size_t size);

/* Reads the value bytes of node into a buffer from the allocator (also for
 * values that were not loaded); free with htc_dicom_free. */
HTC_API int htc_dicom_read_value(HtcDicom *d, int32_t node, uint8_t **data, size_t *size);
HTC_API void htc_dicom_free(HtcDicom *d, void *p);

/* ---- the image ---------------------------------------------------------- */

enum HtcDicomCodec {
    HTC_DICOM_NATIVE = 0,      /* uncompressed: implicit/explicit LE, explicit BE, deflated */
    HTC_DICOM_RLE = 1,         /* RLE Lossless .5 */
    HTC_DICOM_J2K = 2,         /* JPEG 2000 .4.90 .4.91 (and Part 2 .4.92 .4.93) */
    HTC_DICOM_HTJ2K = 3,       /* HTJ2K .4.201 .4.202 .4.203 */
    HTC_DICOM_JPEG = 4,        /* JPEG baseline / extended .4.50 .4.51 */
    HTC_DICOM_JPEG_LOSSLESS = 5, /* .4.57 .4.70 */
    HTC_DICOM_JPEG_LS = 6,     /* .4.80 .4.81 */
    HTC_DICOM_OTHER = 7,       /* anything else (video, JPIP, unknown) */
};

typedef struct HtcDicomImage {
    char transfer_syntax[65];  /* UID */
    const char *transfer_syntax_name; /* "Explicit VR Little Endian" ... */
    int codec;                 /* enum HtcDicomCodec */
    int encapsulated;
    int big_endian, explicit_vr, deflated;
    uint32_t rows, columns;
    uint32_t frames;           /* Number of Frames, 1 when absent */
    uint32_t samples_per_pixel;
    uint32_t bits_allocated, bits_stored, high_bit;
    int pixel_representation;  /* 0 unsigned, 1 two's complement */
    int planar_configuration;  /* 0 interleaved (colour-by-pixel), 1 planar */
    char photometric[17];      /* "MONOCHROME2" ... */
    int has_rescale;
    double rescale_slope, rescale_intercept;  /* 1 and 0 when absent */
    uint64_t pixel_data_offset; /* offset of the Pixel Data value */
    uint64_t pixel_data_length; /* HTC_DICOM_UNDEFINED when encapsulated */
    uint32_t bot_entries;      /* Basic Offset Table entries (0: empty) */
    int has_eot;               /* Extended Offset Table present */
    uint32_t num_fragments;    /* 0 until the fragments were scanned */
    uint8_t reserved[64];
} HtcDicomImage;

/* Pixel module of the top-level data set; HTC_EDICOM without Pixel Data or
 * when the attributes are missing or out of range. */
HTC_API int htc_dicom_get_image(HtcDicom *d, HtcDicomImage *img);

/* The stored bytes of frame k (from 0): native: the frame's bytes (1-bit
 * frames repacked to start at bit 0); encapsulated: its fragments
 * concatenated (the codestream). Buffer from the allocator: htc_dicom_free. */
HTC_API int htc_dicom_frame_data(HtcDicom *d, uint32_t k, uint8_t **data, size_t *size);

/* Where frame k lies: the byte ranges of its fragments (or its native bytes). */
HTC_API int htc_dicom_frame_ranges(HtcDicom *d, uint32_t k, uint64_t *offsets,
                                   uint64_t *lengths, uint32_t max, uint32_t *count);

typedef struct HtcDicomDecodeParams {
    int apply_rescale;         /* 0 (default): stored values; 1: F32 modality values
                                  (slope * stored + intercept; from the top level, else the
                                  frame's or the shared Pixel Value Transformation macro) */
    uint32_t threads;          /* for a decoder made here; default 1 */
    int device;                /* enum HtcDevice for a decoder made here; default CPU */
    int convert_rgb;           /* 0 (default): samples as stored; 1: YBR_FULL / YBR_FULL_422
                                  to RGB (PS3.3 C.7.6.3.1.2, 8-bit) and PALETTE COLOR through its
                                  lookup tables to RGB (8 or 16 bits as the tables say) */
    uint8_t reserved[60];
} HtcDicomDecodeParams;

HTC_API void htc_dicom_default_decode_params(HtcDicomDecodeParams *p);

/* A decoded frame: planar, component after component, rows top to bottom. */
typedef struct HtcDicomFrame {
    uint32_t width, height, components;
    int sample_type;           /* enum HtcSampleType (never AUTO) */
    uint32_t precision;        /* bits of the samples */
    int is_signed;
    void *data;
    size_t size;               /* bytes */
    char photometric[17];      /* what the samples are: YBR stays YBR */
    int corrected;             /* 1: header and codestream disagreed; the codestream won */
    HtcAllocator allocator;    /* private */
} HtcDicomFrame;

/* Decodes frame k (from 0) into planar samples as stored: no rescale, YBR
 * stays YBR, no palette (unless p asks). Native frames: sample type from Bits
 * Allocated (1 -> U8 0/1, 8 -> U8/I8, 16 -> U16/I16, 32 -> U32/I32; signed by
 * Pixel Representation, not sign-extended from Bits Stored); RLE, JPEG, JPEG
 * lossless and JPEG-LS the same. JPEG 2000 / HTJ2K: by the codestream
 * (precision <= 8 -> 8-bit, else 16/32; signed as SIZ says; where the header
 * disagrees the codestream wins, out->corrected is set and a warning logged)
 * through dec (NULL: one made for this call from p). HTC_ETSYNTAX for a
 * transfer syntax this build cannot decode (MPEG, colour 12-bit JPEG ...). */
HTC_API int htc_dicom_decode_frame(HtcDicom *d, HtcDecoder *dec, uint32_t k,
                                   const HtcDicomDecodeParams *p, HtcDicomFrame *out);
HTC_API void htc_dicom_frame_release(HtcDicomFrame *f);

/* One frame of a batch: in, the file and frame (from 0); out, the frame and
 * its status (with the message of a failure). */
typedef struct HtcDicomBatchItem {
    HtcDicom *dicom;
    uint32_t frame;
    HtcDicomFrame out;         /* release each with htc_dicom_frame_release */
    int status;
    char message[160];
} HtcDicomBatchItem;

/* Decodes many frames, of one file or many: the JPEG 2000 / HTJ2K ones in one
 * htc_decode_batch call (so a GPU decoder fills the device with them), the
 * others one by one. One item's failure does not stop the others; returns 0
 * when the call itself worked (check each item's status). dec may be NULL:
 * one is made from p (threads, device) for the call. */
HTC_API int htc_dicom_decode_batch(HtcDecoder *dec, HtcDicomBatchItem *items, size_t n,
                                   const HtcDicomDecodeParams *p);

/* ---- DICOM JSON (PS3.18 F.2) -------------------------------------------- */

enum HtcDicomBulk {
    HTC_DICOM_BULK_INLINE = 0, /* binary values as InlineBinary (base64) */
    HTC_DICOM_BULK_URI = 1,    /* as BulkDataURI: "<uri>?offset=O&length=L" */
};

/* The top-level data set (file meta and pixel data left out) as a DICOM JSON
 * object, NUL-terminated, from the allocator (htc_dicom_free). */
HTC_API int htc_dicom_to_json(HtcDicom *d, int bulk, const char *uri, char **json,
                              size_t *size);

/* ---- series geometry ---------------------------------------------------- */

/* Position and orientation of one slice (Image Position / Orientation (Patient),
 * Pixel Spacing), of the top-level data set or of frame k's functional groups. */
typedef struct HtcDicomPlane {
    double position[3];        /* IPP, mm, LPS */
    double orientation[6];     /* IOP: row direction cosines, then column */
    double spacing[2];         /* Pixel Spacing: between rows, between columns */
    int has_position, has_orientation, has_spacing;
} HtcDicomPlane;

HTC_API int htc_dicom_get_plane(HtcDicom *d, uint32_t k, HtcDicomPlane *pl);

typedef struct HtcDicomVolume {
    uint32_t num_slices;
    double slice_spacing;      /* mean distance between neighbouring slices, mm */
    double spacing_spread;     /* largest deviation from it, mm */
    double normal[3];          /* row x column */
    double affine_lps[16];     /* voxel (i column, j row, k slice, 1) -> LPS mm, row-major */
    double affine_ras[16];     /* the same into RAS */
} HtcDicomVolume;

/* Sorts n slices along the normal of the first slice's orientation: order[i]
 * is the input index of the i-th slice. HTC_EDICOM when orientations differ,
 * positions are missing or two slices coincide. */
HTC_API int htc_dicom_volume_sort(const HtcDicomPlane *planes, uint32_t n, uint32_t *order,
                                  HtcDicomVolume *vol);

#ifdef __cplusplus
}
#endif

#endif /* HTC_DICOM_H */
