/* htcodec Python extension: library entry points that may not be in the
 * libhtc this module is linked with yet (the library grows piece by piece).
 * They are referenced weakly (the module links libhtc whole, so every entry
 * point that exists is found); HTCPY_HAVE(fn) says whether one exists, and a
 * missing one becomes an HTC_EUNSUPPORTED error instead of an import failure. */
#ifndef HTCPY_WEAK_H
#define HTCPY_WEAK_H

#include <htc/htc.h>

#if defined(__GNUC__) && !defined(_WIN32)
#define HTCPY_WEAK(fn) extern __typeof__(fn) fn __attribute__((weak));
#define HTCPY_HAVE(fn) (&(fn) != NULL)
#else
#define HTCPY_WEAK(fn)
#define HTCPY_HAVE(fn) 1
#endif

HTCPY_WEAK(htc_limits_default)
HTCPY_WEAK(htc_stream_default_settings)
HTCPY_WEAK(htc_stream_open_memory)
HTCPY_WEAK(htc_stream_open_file)
HTCPY_WEAK(htc_stream_close)
HTCPY_WEAK(htc_stream_get_info)
HTCPY_WEAK(htc_stream_get_component)
HTCPY_WEAK(htc_stream_get_tile)
HTCPY_WEAK(htc_decoder_default_settings)
HTCPY_WEAK(htc_decoder_open)
HTCPY_WEAK(htc_decoder_close)
HTCPY_WEAK(htc_decode_default_params)
HTCPY_WEAK(htc_decode)
HTCPY_WEAK(htc_decode_batch)
HTCPY_WEAK(htc_picture_release)
HTCPY_WEAK(htc_last_error)
HTCPY_WEAK(htc_cuda_device_count)

#endif /* HTCPY_WEAK_H */
