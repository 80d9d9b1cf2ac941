/* htcodec: status messages and version. */
#include "internal.h"

const char *htc_strerror(int status)
{
    switch (status) {
    case HTC_OK: return "success";
    case HTC_EINVAL: return "invalid argument";
    case HTC_ENOMEM: return "out of memory";
    case HTC_ETRUNCATED: return "data truncated";
    case HTC_EFORMAT: return "not a JPEG 2000, HTJ2K or DICOM file";
    case HTC_EMARKER: return "malformed or misplaced marker segment";
    case HTC_ECONTRADICT: return "marker segments contradict each other";
    case HTC_ELIMIT: return "size exceeds a configured limit";
    case HTC_EUNSUPPORTED: return "feature not supported";
    case HTC_ECORRUPT: return "corrupt entropy-coded data or packet header";
    case HTC_EIO: return "input/output error";
    case HTC_ENODEVICE: return "no usable GPU device";
    case HTC_EDEVICE: return "GPU call failed";
    case HTC_ERANGE: return "index out of range";
    case HTC_EBOX: return "malformed JP2/JPH box";
    case HTC_EDICOM: return "malformed DICOM data";
    case HTC_ETSYNTAX: return "unsupported DICOM transfer syntax";
    default: return "unknown status";
    }
}

unsigned htc_version(void) { return HTC_VERSION_NUMBER; }
const char *htc_version_string(void) { return HTC_VERSION_STRING; }
