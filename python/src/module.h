/* htcodec Python extension: what the type files share.
 *
 * One .c per Python type (heap types, created in module.c's exec slot):
 * Decoder, CodeStream, Region, DecodeSource, DecodeParams, Image; the
 * enums (ColorSpec, ImageBufferKind, BackendKind) are IntEnums made in
 * enums.c; convert.c turns decoded planes into HWC arrays (no Python,
 * runs with the GIL released); dlpack.c exports DLPack capsules. */
#ifndef HTCPY_MODULE_H
#define HTCPY_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>

#include <htc/htc.h>

#include "weak.h"

#define HTC_PY_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HTC_PY_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Per-module state: the types and the exception class. */
typedef struct HtcPyState {
    PyObject *Error;           /* htcodec.Error(RuntimeError): .status, .status_name */
    PyTypeObject *Decoder;
    PyTypeObject *CodeStream;
    PyTypeObject *Region;
    PyTypeObject *DecodeSource;
    PyTypeObject *DecodeParams;
    PyTypeObject *Image;
    PyObject *ColorSpec;       /* IntEnum classes */
    PyObject *ImageBufferKind;
    PyObject *BackendKind;
} HtcPyState;

HtcPyState *htcpy_state_from_type(PyTypeObject *tp);
HtcPyState *htcpy_state(void); /* the module's state, found by the module def */

/* Colour specs, as nvImageCodec numbers them. */
enum HtcPyColorSpec {
    HTCPY_CS_UNCHANGED = 0,
    HTCPY_CS_RGB = 1,          /* nvImageCodec's SRGB */
    HTCPY_CS_GRAY = 2,
    HTCPY_CS_YCC = 3,
};

/* ---- Region */
typedef struct HtcPyRegion {
    PyObject_HEAD
    int ndim;                  /* 0: empty region (whole image), else 2 */
    long long start[2], end[2]; /* (y, x) */
} HtcPyRegion;

/* ---- DecodeParams */
typedef struct HtcPyDecodeParams {
    PyObject_HEAD
    int apply_exif_orientation;
    int allow_any_depth;
    int color_spec;            /* enum HtcPyColorSpec */
    unsigned reduce;
    unsigned layers;
    int tile;                  /* -1: all tiles */
} HtcPyDecodeParams;
void htcpy_params_defaults(HtcPyDecodeParams *p);

/* ---- CodeStream: a parsed stream (shared by its sub code streams). */
typedef struct HtcPyCodeStream {
    PyObject_HEAD
    HtcStream *stream;         /* owned unless parent != NULL */
    PyObject *parent;          /* the CodeStream whose stream this one shares */
    Py_buffer view;            /* the caller's bytes when opened from memory */
    int has_view;
    PyObject *region;          /* Region or NULL (sub code stream) */
    int tile;                  /* -1, or the tile of a sub code stream */
    HtcImageInfo info;
    HtcComponentInfo comp0;
    PyObject *weakrefs;
} HtcPyCodeStream;

/* Opens a CodeStream from a path (str/PathLike) or a bytes-like object. */
PyObject *htcpy_code_stream_new(HtcPyState *st, PyObject *src);

/* ---- DecodeSource */
typedef struct HtcPyDecodeSource {
    PyObject_HEAD
    PyObject *code_stream;     /* CodeStream */
    PyObject *region;          /* Region or NULL */
} HtcPyDecodeSource;

/* ---- Image */
typedef struct HtcPyImage {
    PyObject_HEAD
    int memory;                /* enum HtcMemory */
    int device_id;
    void *data;                /* first sample */
    size_t size;               /* bytes */
    Py_ssize_t shape[3];       /* H, W, C */
    Py_ssize_t strides[3];     /* bytes */
    int sample_type;           /* enum HtcSampleType (never AUTO) */
    unsigned precision;        /* significant bits (0: the type's full range) */
    void *host_block;          /* our allocation (host images) */
    HtcPicture pic;            /* the library's allocation (device images) */
    int has_pic;
    Py_ssize_t exports;        /* live buffer-protocol views */
    PyObject *weakrefs;
} HtcPyImage;

/* Takes ownership of a host block of `size` bytes holding an HWC array. */
PyObject *htcpy_image_from_host(HtcPyState *st, void *block, size_t size, Py_ssize_t h, Py_ssize_t w,
                                Py_ssize_t c, int sample_type, unsigned precision);
/* Takes ownership of a library picture (device, interleaved). */
PyObject *htcpy_image_from_picture(HtcPyState *st, HtcPicture *pic, unsigned precision);
const char *htcpy_typestr(int sample_type);  /* "|u1", "<u2" ... */
const char *htcpy_format(int sample_type);   /* struct format: "B", "H" ... */
const char *htcpy_dtype_name(int sample_type); /* "uint8" ... */

/* ---- DLPack (dlpack.c) */
PyObject *htcpy_dlpack_capsule(PyObject *owner, void *data, int device_type, int device_id,
                               const Py_ssize_t *shape, const Py_ssize_t *strides, int ndim,
                               int sample_type);

/* ---- conversion (convert.c): planes of a decoded picture into one HWC
 * buffer. Returns 0 or a negative HTC_E* status with msg filled. */
typedef struct HtcPyOutSpec {
    int color_spec;
    int allow_any_depth;
    /* filled by htcpy_out_plan: */
    uint32_t height, width, channels;
    int sample_type;
    unsigned precision;        /* 0: the type's full range (8-bit scaled) */
    size_t size;
} HtcPyOutSpec;
int htcpy_out_plan(const HtcPicture *pic, HtcPyOutSpec *spec, char *msg, size_t msg_size);
int htcpy_convert(const HtcPicture *pic, const HtcPyOutSpec *spec, void *dst);
size_t htcpy_sample_size(int sample_type);
/* Component i of pic at its own size, precision and sign (uint8/int8 up to
 * 8 bits, 16-bit up to 16, else 32-bit) into dst (width * height samples). */
int htcpy_plane_type(const HtcPlane *p);
int htcpy_copy_plane(const HtcPicture *pic, uint32_t i, void *dst);

/* ---- errors (module.c) */
/* Sets htcodec.Error from a status and message ("" uses htc_strerror). */
PyObject *htcpy_error(HtcPyState *st, int status, const char *message);
/* Builds the exception object without raising it (for batch results). */
PyObject *htcpy_error_object(HtcPyState *st, int status, const char *message);
const char *htcpy_status_name(int status);

/* Parses an optional non-negative integer argument. */
int htcpy_region_get(PyObject *region, long long start[2], long long end[2]);

#endif /* HTCPY_MODULE_H */
