/* htcodec DICOM layer: what its files share. */
#ifndef HTC_DCM_INTERNAL_H
#define HTC_DCM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "htc_dicom.h"

#define DCM_VR(a, b) ((uint16_t)((uint8_t)(a) << 8 | (uint8_t)(b)))
#define DCM_NONE (-1)
#define HTC_DICOM_RC(expr) do { const int rc_ = (expr); if (rc_ < 0) return rc_; } while (0)
#define HTC_MIN_U64(a, b) ((uint64_t)(a) < (uint64_t)(b) ? (uint64_t)(a) : (uint64_t)(b))
#define DCM_LOAD_MAX (1u << 20) /* larger values stay in the file until asked for */

#define DCM_TAG_ITEM 0xFFFEE000u
#define DCM_TAG_ITEM_END 0xFFFEE00Du
#define DCM_TAG_SEQ_END 0xFFFEE0DDu
#define DCM_TAG_PIXEL_DATA 0x7FE00010u
#define DCM_TAG_EOT 0x7FE00001u
#define DCM_TAG_EOT_LENGTHS 0x7FE00002u
#define DCM_TAG_TS 0x00020010u

/* Allocation, errors and warnings of one handle (dcm_mem.c). */
typedef struct DcmCtx {
    HtcAllocator allocator;
    HtcLogCallback log;
    void *log_opaque;
    HtcLimits limits;
} DcmCtx;

void *dcm_malloc(const DcmCtx *c, size_t size);
void *dcm_calloc(const DcmCtx *c, size_t n, size_t size);
void dcm_free(const DcmCtx *c, void *p);
void *dcm_alloc_with(const HtcAllocator *a, size_t size);
void dcm_free_with(const HtcAllocator *a, void *p);
int dcm_fail(const DcmCtx *c, int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void dcm_warn(const DcmCtx *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A byte source: memory, a mapped file, pread on a file, or a reader
 * (dcm_source.c). Every read is bounds-checked and counted. */
typedef struct DcmSource {
    const uint8_t *base;       /* all bytes, when in memory or mapped */
    uint64_t size;
    HtcDicomReader reader;     /* when base is NULL */
    uint64_t bytes_read;
    void *map;                 /* private: what to unmap / close / free */
    size_t map_size;
    int fd;
    uint8_t *owned;
} DcmSource;

int dcm_source_file(DcmSource *s, const DcmCtx *c, const char *path, int use_mmap);
void dcm_source_memory(DcmSource *s, const void *data, size_t size);
void dcm_source_reader(DcmSource *s, const HtcDicomReader *r);
void dcm_source_close(DcmSource *s, const DcmCtx *c);
int dcm_read(DcmSource *s, const DcmCtx *c, uint64_t off, void *dst, size_t n);

/* One data element or item of the tree. */
typedef struct DcmNode {
    uint32_t tag;
    uint16_t vr;               /* DCM_VR('O','B'); 0 for items */
    uint8_t big_endian;
    uint8_t loaded;            /* value bytes are in the arena */
    uint32_t length;           /* as encoded */
    uint64_t offset;           /* of the value in the data set source */
    uint64_t val;              /* offset in the arena */
    uint32_t val_size;
    uint32_t depth;
    uint32_t num_children;
    int32_t parent, first_child, last_child, next;
} DcmNode;

/* Where the frames of encapsulated pixel data are (dcm_pixel.c). */
typedef struct DcmFragment {
    uint64_t offset;           /* of the value (after the item header) */
    uint32_t length;
} DcmFragment;

struct HtcDicom {
    DcmCtx ctx;
    uint32_t max_depth, max_elements;
    DcmSource file;
    DcmSource inflated;        /* the data set when deflated */
    DcmSource *ds;             /* the data set's source: &file or &inflated */
    uint64_t ds_start;         /* first byte of the data set in *ds */
    char ts[65];
    int explicit_vr, big_endian, deflated;
    DcmNode *nodes;
    uint32_t num_nodes, cap_nodes;
    int32_t top_first, top_last;
    uint8_t *arena;
    uint64_t arena_size, arena_cap;
    /* Pixel data (top level). */
    int32_t pixel_node;
    int encapsulated;
    uint64_t frag_start;       /* first byte after the Basic Offset Table item */
    uint32_t *bot;             /* Basic Offset Table */
    uint32_t bot_entries;
    int fragments_scanned;     /* fragments listed, elements after Pixel Data parsed */
    uint64_t rest_offset;      /* where parsing stopped at Pixel Data, when not scanned */
    DcmFragment *frags;
    uint32_t num_frags;
    uint32_t *frame_first;     /* per frame: first fragment, plus a sentinel */
    uint32_t frames_indexed;
};

/* dcm_parse.c */
int dcm_parse_file(HtcDicom *d);
int dcm_parse_rest(HtcDicom *d);   /* fragments and whatever follows Pixel Data */
uint16_t dcm_dict_vr(uint32_t tag); /* dcm_dict.c: VR for implicit data sets, 0 unknown */
uint16_t dcm_private_vr(const char *creator, uint32_t tag); /* 0 unknown */
int dcm_vr_is_long(uint16_t vr);
int dcm_vr_known(uint16_t vr);
const uint8_t *dcm_node_value(const HtcDicom *d, const DcmNode *n);

/* dcm_inflate.c: the deflated data set from src[start..] into an owned source. */
int dcm_inflate(const DcmCtx *c, DcmSource *src, uint64_t start, DcmSource *out);

/* dcm_pixel.c */
int dcm_pixel_index(HtcDicom *d);  /* frame -> fragments, once */
int dcm_transfer_syntax(const char *uid, int *codec, const char **name);
uint64_t dcm_native_frame_bits(const HtcDicomImage *img);
int dcm_is_ybr422_native(const HtcDicomImage *img);

/* dcm_rle.c: frame of RLE Lossless into planar samples (bytes_per_sample each,
 * little-endian). */
int dcm_rle_decode(const DcmCtx *c, const uint8_t *src, size_t size, uint32_t rows,
                   uint32_t cols, uint32_t spp, uint32_t bytes_per_sample, uint8_t *dst);

/* dcm_jpeg.c: JPEG baseline / extended through libjpeg when built with it. */
int dcm_jpeg_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                    HtcDicomFrame *out);

/* dcm_decode.c: pieces the batch path shares. */
int dcm_j2k_open(HtcDicom *d, const HtcDicomImage *img, const uint8_t *src, size_t size, HtcStream **out,
                 int *corrected);
int dcm_make_decoder(HtcDicom *d, const HtcDicomDecodeParams *p, HtcDecoder **own);
int dcm_picture_to_frame(HtcDicom *d, const HtcPicture *pic, HtcDicomFrame *out);
int dcm_apply_rescale(HtcDicom *d, const HtcDicomImage *img, uint32_t k, HtcDicomFrame *f);

/* dcm_color.c: the conversions HtcDicomDecodeParams.convert_rgb asks for. */
int dcm_convert_rgb(HtcDicom *d, HtcDicomFrame *f);

/* dcm_jpegdct.c: sequential DCT JPEG of one component, 8 or 12 bits. */
int dcm_jpegdct_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                       HtcDicomFrame *out);

/* dcm_jpegll.c: JPEG lossless (process 14). */
int dcm_jpegll_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                      HtcDicomFrame *out);

/* dcm_jpegls.c: JPEG-LS (T.87). */
int dcm_jpegls_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img,
                      HtcDicomFrame *out);

/* dcm_mem.c */
size_t dcm_base64(const uint8_t *src, size_t n, char *dst);

#endif /* HTC_DCM_INTERNAL_H */
