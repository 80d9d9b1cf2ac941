/* htcodec: decoding one stream or a batch. */
#ifndef HTC_DECODER_H
#define HTC_DECODER_H

#include "htc/common.h"
#include "htc/picture.h"
#include "htc/stream.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct HtcDecoder HtcDecoder;

enum HtcDevice {
    HTC_DEVICE_CPU = 0,
    HTC_DEVICE_GPU = 1,
};

typedef struct HtcDecoderSettings {
    uint32_t threads;          /* worker threads; 0 = all cores (default 0); 1 = inline */
    int device;                /* enum HtcDevice; default HTC_DEVICE_CPU */
    int device_id;             /* first CUDA device; default 0 */
    uint32_t num_devices;      /* GPUs to spread batches over; default 1. A batch
                                * is cut into contiguous shares (item i of n on
                                * device device_id + i * num_devices / n); an item
                                * whose output is a caller's device buffer is
                                * decoded on the GPU that buffer is on, and is
                                * refused (HTC_EINVAL) where that is none of these */
    uint32_t cpu_mask;         /* ISAs allowed (HTC_CPU_* bits); default all */
    HtcLimits limits;          /* default: htc_limits_default() */
    HtcAllocator allocator;    /* default: all NULL (C library) */
    HtcLogCallback log;        /* default: NULL */
    void *log_opaque;          /* default: NULL */
    int allow_truncated;       /* decode what is there in cut streams; default 0 */
    /* Bytes of released pictures (those the library allocated, with the C
     * library's allocator) that the decoder keeps to serve its later decodes
     * and batches: their pages stay mapped, so a stream of batches does not
     * page-fault and zero its output again. Kept until reused or the decoder
     * closes; 0 = none; at most limits.max_memory. Default 256 MiB.
     * Pictures may outlive the decoder. */
    uint64_t picture_cache;
    uint8_t reserved[56];
} HtcDecoderSettings;

#define HTC_CPU_SSE41 0x1u
#define HTC_CPU_AVX2 0x2u
#define HTC_CPU_AVX512 0x4u
#define HTC_CPU_ALL 0xffffffffu

HTC_API void htc_decoder_default_settings(HtcDecoderSettings *s);
HTC_API int htc_decoder_open(HtcDecoder **out, const HtcDecoderSettings *s);
HTC_API void htc_decoder_close(HtcDecoder **d);

/* What to decode. */
typedef struct HtcDecodeParams {
    int use_region;            /* default 0: whole image */
    uint32_t region_x0, region_y0, region_x1, region_y1; /* image coordinates, x1/y1 exclusive,
                                  relative to the image origin (0,0 = top-left pixel) */
    int32_t tile;              /* -1 (default): all tiles; else one tile index */
    uint32_t reduce;           /* resolution levels to discard; default 0 */
    uint32_t layers;           /* quality layers to use; 0 (default) = all */
    uint32_t num_components;   /* 0 (default) = all; else the first entries of components[] */
    uint32_t components[16];
    int sample_type;           /* enum HtcSampleType; default AUTO */
    int layout;                /* enum HtcLayout; default PLANAR */
    int memory;                /* enum HtcMemory; default HOST */
    int apply_mct;             /* 1 (default): inverse RCT/ICT as COD says */
    uint8_t reserved[64];
} HtcDecodeParams;

HTC_API void htc_decode_default_params(HtcDecodeParams *p);

/* Decodes into pic. When pic->buffer is non-NULL on entry the caller owns it
 * (pic->buffer_size bytes, layout as htc_decode_layout() says); otherwise the
 * decoder's allocator provides it and htc_picture_release() frees it. */
HTC_API int htc_decode(HtcDecoder *d, const HtcStream *s, const HtcDecodeParams *p,
                       HtcPicture *pic);

/* Fills pic's geometry (planes, sizes, strides, buffer_size) for a decode
 * with these parameters without decoding; buffer stays NULL. */
HTC_API int htc_decode_layout(const HtcStream *s, const HtcDecodeParams *p, HtcPicture *pic);

/* One item of a batch. */
typedef struct HtcBatchItem {
    const HtcStream *stream;   /* parsed stream, or NULL to parse data/size */
    const void *data;          /* used when stream is NULL */
    size_t size;
    const HtcDecodeParams *params; /* NULL: defaults */
    HtcPicture picture;        /* out (or caller's buffer in, as htc_decode) */
    int status;                /* out: this item's status */
    char message[160];         /* out: its error message, "" on success */
} HtcBatchItem;

/* Decodes every item; one item's failure does not stop the others.
 * Returns 0 when the call itself worked (check each item's status). */
HTC_API int htc_decode_batch(HtcDecoder *d, HtcBatchItem *items, size_t n);

/* A stream of batches on a GPU decoder: htc_decode_batch_submit plans the
 * batch, puts its work on the devices and returns, leaving its last chunks
 * running, so that the next batch's plan and copies overlap them and the
 * devices do not idle between calls. *ticket (may be NULL) numbers the
 * batch. Until htc_decode_batch_wait returns for that ticket or a later
 * one (or an htc_decode or htc_decode_batch call, or the decoder closes,
 * which all finish every earlier batch), items[], their codestreams and
 * their output buffers must stay as they are, and statuses and pictures
 * are not final. A device failure is returned by the call that finds it;
 * the statuses say which items it hit. Over several devices
 * (settings.num_devices), the submit only hands each device its share: a
 * thread of the decoder's own per device plans it, so each device goes on
 * at its own pace, and the wait returns the batch's failures. A CPU
 * decoder decodes the batch within the submit. */
HTC_API int htc_decode_batch_submit(HtcDecoder *d, HtcBatchItem *items, size_t n, uint64_t *ticket);
/* Finishes every batch submitted up to `ticket` (every one: UINT64_MAX). */
HTC_API int htc_decode_batch_wait(HtcDecoder *d, uint64_t ticket);

#ifdef __cplusplus
}
#endif

#endif /* HTC_DECODER_H */
