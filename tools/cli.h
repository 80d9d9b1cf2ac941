/* htcodec command line: the subcommands, one file each. */
#ifndef HTC_CLI_H
#define HTC_CLI_H

#include "htc/htc.h"

int htc_cmd_info(int argc, char **argv);
int htc_cmd_decode(int argc, char **argv);
int htc_cmd_bench(int argc, char **argv);
int htc_cmd_dicom(int argc, char **argv);

/* Reads a whole file; returns 0 or an HTC_E status. *data is malloc'd. */
int htc_cli_read_file(const char *path, uint8_t **data, size_t *size);

/* DICOM inputs (tools/dicom_cli.c): `htc info FILE.dcm [--json]`, and
 * `htc decode FILE.dcm OUT --frame K` (K from 1; 0 means 1) with the decoder's
 * threads (0 = all cores) and device (enum HtcDevice). Return the exit code. */
int htc_cli_info_dicom(const char *path, int json);
int htc_cli_decode_dicom(const char *in, const char *out, int frame, int threads, int device);

#endif
