/* htcodec: status codes, allocator hook, log callback, limits.
 * Every call of the library returns 0 or a negative HTC_E* status. */
#ifndef HTC_COMMON_H
#define HTC_COMMON_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32) && defined(HTC_BUILDING_DLL)
#define HTC_API __declspec(dllexport)
#elif defined(__GNUC__) && __GNUC__ >= 4
#define HTC_API __attribute__((visibility("default")))
#else
#define HTC_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes. 0 is success; errors are negative. */
enum HtcStatus {
    HTC_OK = 0,
    HTC_EINVAL = -1,       /* an argument is invalid (NULL handle, bad parameter) */
    HTC_ENOMEM = -2,       /* an allocation failed */
    HTC_ETRUNCATED = -3,   /* the data ends before a structure it announces */
    HTC_EFORMAT = -4,      /* not a JPEG 2000 codestream, JP2/JPH file or DICOM file */
    HTC_EMARKER = -5,      /* a marker segment is malformed or out of place */
    HTC_ECONTRADICT = -6,  /* markers contradict each other (SIZ/COD/QCD ...) */
    HTC_ELIMIT = -7,       /* a size exceeds a limit set in the settings */
    HTC_EUNSUPPORTED = -8, /* valid, but a feature this build cannot decode */
    HTC_ECORRUPT = -9,     /* entropy-coded data or packet headers are inconsistent */
    HTC_EIO = -10,         /* a file could not be opened or read */
    HTC_ENODEVICE = -11,   /* a GPU was asked for and none is usable */
    HTC_EDEVICE = -12,     /* a GPU call failed */
    HTC_ERANGE = -13,      /* a tile, component, region or frame index is out of range */
    HTC_EBOX = -14,        /* a JP2/JPH box is malformed */
    HTC_EDICOM = -15,      /* a DICOM structure is malformed */
    HTC_ETSYNTAX = -16,    /* a DICOM transfer syntax that cannot be decoded */
};

/* A short English description of a status code; never NULL. */
HTC_API const char *htc_strerror(int status);

/* Allocator hook. alloc/free receive the opaque pointer. alloc must return
 * memory aligned to at least 64 bytes when align <= 64. NULL fields mean the
 * C library's allocator. */
typedef struct HtcAllocator {
    void *opaque;
    void *(*alloc)(void *opaque, size_t size, size_t align);
    void (*free)(void *opaque, void *ptr);
} HtcAllocator;

/* Log levels for the callback. */
enum HtcLogLevel {
    HTC_LOG_ERROR = 0,
    HTC_LOG_WARNING = 1,
    HTC_LOG_INFO = 2,
    HTC_LOG_DEBUG = 3,
};

/* The library never prints; it calls this with one message (no newline). */
typedef void (*HtcLogCallback)(void *opaque, int level, const char *message);

/* Limits guarding against hostile input. 0 in a field means "no limit"
 * only where its comment says so. */
typedef struct HtcLimits {
    uint64_t max_pixels;     /* image width * height; default 1 << 34 */
    uint32_t max_tiles;      /* default 1 << 20 */
    uint32_t max_components; /* default 16384 (the standard's maximum) */
    uint64_t max_bytes;      /* compressed input size; default 1 << 40 */
    uint64_t max_memory;     /* one decode's working memory; default 1 << 36 */
} HtcLimits;

/* Fills limits with the defaults above. */
HTC_API void htc_limits_default(HtcLimits *limits);

#ifdef __cplusplus
}
#endif

#endif /* HTC_COMMON_H */
