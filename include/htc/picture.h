/* htcodec: decoded pictures. */
#ifndef HTC_PICTURE_H
#define HTC_PICTURE_H

#include "htc/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sample type of the output. */
enum HtcSampleType {
    HTC_SAMPLE_AUTO = 0, /* by precision: <= 8 bits 8-bit, <= 16 bits 16-bit, else 32-bit */
    HTC_SAMPLE_U8 = 1,
    HTC_SAMPLE_I8 = 2,
    HTC_SAMPLE_U16 = 3,
    HTC_SAMPLE_I16 = 4,
    HTC_SAMPLE_U32 = 5,
    HTC_SAMPLE_I32 = 6,
    HTC_SAMPLE_F32 = 7,
};

enum HtcLayout {
    HTC_LAYOUT_PLANAR = 0,      /* one plane per component, each at its own size */
    HTC_LAYOUT_INTERLEAVED = 1, /* pixel-interleaved; all components must share one size */
};

enum HtcMemory {
    HTC_MEMORY_HOST = 0,
    HTC_MEMORY_DEVICE = 1,      /* CUDA device memory */
};

#define HTC_MAX_PLANES 16384

/* One decoded component plane. For interleaved pictures all planes point
 * into the same buffer with pixel_stride = number of components. */
typedef struct HtcPlane {
    void *data;                 /* first sample */
    uint32_t width, height;
    ptrdiff_t row_stride;       /* bytes between rows */
    uint32_t pixel_stride;      /* samples between neighbouring pixels */
    uint32_t precision;         /* bits of the decoded samples */
    int is_signed;
} HtcPlane;

/* A decoded picture. The library fills it; htc_picture_release frees what
 * the library allocated (nothing when the caller gave the buffer). */
typedef struct HtcPicture {
    uint32_t x0, y0;            /* top-left on the (reduced) reference grid */
    uint32_t width, height;     /* of the output area, at component 0's scale */
    uint32_t num_planes;
    int sample_type;            /* enum HtcSampleType actually used */
    int layout;                 /* enum HtcLayout */
    int memory;                 /* enum HtcMemory */
    int device_id;              /* CUDA device when memory is DEVICE */
    void *buffer;               /* start of all samples */
    size_t buffer_size;         /* bytes */
    HtcPlane *planes;           /* num_planes entries */
    /* private: how to free */
    void *alloc_ref;
    HtcAllocator allocator;
    int caller_owned;
    uint8_t reserved[32];
} HtcPicture;

/* Bytes per sample of a type (0 for AUTO). */
HTC_API size_t htc_sample_size(int sample_type);
/* Frees what the library allocated for p and zeroes it; accepts NULL. */
HTC_API void htc_picture_release(HtcPicture *p);

#ifdef __cplusplus
}
#endif

#endif /* HTC_PICTURE_H */
