/* htc command line: writing decoded pictures as .pgm/.ppm, .pgx and .raw.
 *
 * .pgm/.ppm  netpbm binary (P5/P6), unsigned only, maxval 2^prec - 1, two bytes
 *            a sample big-endian past 8 bits; .ppm needs 3 components of one
 *            size; a .pgm of several components is written as name_0.pgm ...
 * .pgx       one file per component (name_0.pgx ... when several, as the
 *            15444-4 conformance suite names them), header
 *            "PG ML +|- prec w h\n", samples big-endian in 1, 2 or 4 bytes.
 * .raw       all components planar, each at its own (sub-sampled) size,
 *            little-endian, 1, 2 or 4 bytes a sample by precision (<= 8, <= 16,
 *            else), signed samples as two's complement. This is also the layout
 *            that `htc bench` and the corpus' SHA256SUMS hash. */
#ifndef HTC_TOOLS_WRITERS_H
#define HTC_TOOLS_WRITERS_H

#include <stddef.h>

#include "htc/htc.h"

enum HtcOutFormat {
    HTC_OUT_UNKNOWN = 0,
    HTC_OUT_PGM = 1,
    HTC_OUT_PPM = 2,
    HTC_OUT_PGX = 3,
    HTC_OUT_RAW = 4,
};

/* Format from a file name's extension (case-insensitive), or UNKNOWN. */
int htc_out_format_from_path(const char *path);
/* Format from a name: "pgm", "ppm", "pnm" (pgm or ppm by components), "pgx", "raw". */
int htc_out_format_from_name(const char *name);
/* Extension (without dot) of a format, "" for UNKNOWN. */
const char *htc_out_format_ext(int format);

/* Bytes a sample takes in the .raw/.pgx layouts: 1, 2 or 4 by precision. */
unsigned htc_out_sample_bytes(unsigned precision);

/* Writes pic (host memory, planar or interleaved, any sample type) to path.
 * Returns 0, or a negative HTC_E* status with a message in err. */
int htc_write_picture(const HtcPicture *pic, const char *path, int format, char *err,
                      size_t err_size);

/* Hands the samples of pic, in the .raw layout, to sink in pieces (one row at a
 * time). A non-zero return of sink stops and is returned. */
typedef int (*HtcByteSink)(void *opaque, const void *data, size_t size);
int htc_raw_stream(const HtcPicture *pic, HtcByteSink sink, void *opaque);

/* Bytes of pic in the .raw layout. */
size_t htc_raw_size(const HtcPicture *pic);

#endif
