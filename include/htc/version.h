/* htcodec: version macros and call. */
#ifndef HTC_VERSION_H
#define HTC_VERSION_H

#include "htc/common.h"

#define HTC_VERSION_MAJOR 0
#define HTC_VERSION_MINOR 1
#define HTC_VERSION_PATCH 0
#define HTC_VERSION_NUMBER \
    (HTC_VERSION_MAJOR * 10000 + HTC_VERSION_MINOR * 100 + HTC_VERSION_PATCH)
#define HTC_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Returns HTC_VERSION_NUMBER of the library actually linked. */
HTC_API unsigned htc_version(void);
/* Returns "MAJOR.MINOR.PATCH" of the library actually linked. */
HTC_API const char *htc_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* HTC_VERSION_H */
