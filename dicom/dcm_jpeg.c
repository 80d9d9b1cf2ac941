/* htcodec DICOM layer: JPEG baseline / extended frames (.4.50 .4.51) through
 * libjpeg(-turbo), when the build has it (HTC_HAVE_JPEG). */
#include "dcm_internal.h"

#ifndef HTC_HAVE_JPEG
int dcm_jpeg_decode(const DcmCtx *c, const uint8_t *src, size_t size, const HtcDicomImage *img, HtcDicomFrame *out)
{
    (void)src;
    (void)size;
    (void)out;
    return dcm_fail(c, HTC_ETSYNTAX, "transfer syntax %s (%s): built without libjpeg", img->transfer_syntax,
                    img->transfer_syntax_name);
}
#endif
